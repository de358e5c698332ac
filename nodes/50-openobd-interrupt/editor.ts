RED.nodes.registerType('openobd-interrupt', {
  category: 'openOBD',
  color: '#8FB9C9',
  icon: 'openobd-interrupt.svg',
  align: 'right',
  inputs: 1,
  outputs: 1,
  defaults: {
    name: { value: '' },
    account: { value: '', type: 'openobd-account', required: true },
    sessionId: { value: '', validate: OpenObdEditor.optionalTyped('sessionIdSource') },
    sessionIdSource: { value: 'str' },
  },
  // Node-RED 5 looks the description up with RED._ when it shows it, so it is a key of this node set's catalog.
  categoryDescription: '@obdflow/node-red-openobd/openobd:openobd.category',
  paletteLabel: OpenObdEditor.label('openobd.paletteLabel.interrupt'),
  inputLabels: OpenObdEditor.label('openobd.inputLabels.session'),
  outputLabels: OpenObdEditor.label('openobd.outputLabels.interrupt'),
  label: function () {
    const E = OpenObdEditor;
    if (this.name) {
      return this.name;
    }
    if (!this.sessionId) {
      return this._('openobd.nodeLabel.interrupt');
    }
    const what = E.sessionIdLabel(this);
    return this._('openobd.nodeLabel.interruptId', { id: what });
  },
  labelStyle: OpenObdEditor.italicWhenNamed,
  oneditprepare: function () {
    const E = OpenObdEditor;
    E.sessionIdField('.openobd-interrupt-live');
  },
});
