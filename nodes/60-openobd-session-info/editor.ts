RED.nodes.registerType('openobd-session-info', {
  category: 'openOBD',
  color: '#8FB9C9',
  icon: 'openobd-info.svg',
  inputs: 1,
  outputs: 1,
  defaults: {
    name: { value: '' },
    account: { value: '', type: 'openobd-account', required: true },
    action: {
      value: 'get',
      validate: function (v, _opt) {
        return v === 'get' || v === 'list' ? true : OpenObdEditor.t('openobd.validation.action');
      },
    },
    sessionId: {
      value: '',
      validate: function (v, opt) {
        // A list needs no session id; for a get, a blank id means msg.openobd.sessionId.
        return OpenObdEditor.field(this, 'action') === 'list' ? true : OpenObdEditor.optionalTyped('sessionIdSource').call(this, v, opt);
      },
    },
    sessionIdSource: { value: 'str' },
  },
  // Node-RED 5 looks the description up with RED._ when it shows it, so it is a key of this node set's catalog.
  categoryDescription: '@obdflow/node-red-openobd/openobd:openobd.category',
  paletteLabel: OpenObdEditor.label('openobd.paletteLabel.info'),
  inputLabels: OpenObdEditor.label('openobd.inputLabels.trigger'),
  outputLabels: function () {
    return this.action === 'list' ? this._('openobd.outputLabels.list') : this._('openobd.outputLabels.info');
  },
  label: function () {
    const E = OpenObdEditor;
    if (this.name) {
      return this.name;
    }
    if (this.action === 'list') {
      return this._('openobd.nodeLabel.list');
    }
    if (!this.sessionId) {
      return this._('openobd.nodeLabel.info');
    }
    const what = E.sessionIdLabel(this);
    return this._('openobd.nodeLabel.infoId', { id: what });
  },
  labelStyle: OpenObdEditor.italicWhenNamed,
  oneditprepare: function () {
    const E = OpenObdEditor;
    E.sessionIdField('.openobd-info-live');
    const $action = $('#node-input-action');
    if (!$action.val()) {
      $action.val('get');
    }
    function update() {
      $('.openobd-info-get').toggle($action.val() !== 'list');
    }
    $action.on('change', update);
    update();
  },
});
