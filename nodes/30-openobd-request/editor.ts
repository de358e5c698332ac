RED.nodes.registerType('openobd-request', {
  category: 'openOBD',
  color: '#8FB9C9',
  icon: 'openobd-request.svg',
  inputs: 1,
  outputs: 1,
  defaults: {
    name: { value: '' },
    ecu: { value: '', type: 'openobd-ecu', required: false },
    request: {
      value: '',
      validate: function (v, _opt) {
        return OpenObdEditor.checkRequestHex(v);
      },
    },
    output: {
      value: 'hex',
      validate: function (v, _opt) {
        return v === 'hex' || v === 'buffer' ? true : OpenObdEditor.t('openobd.validation.output');
      },
    },
    negative: {
      value: 'error',
      validate: function (v, _opt) {
        return v === 'error' || v === 'output' ? true : OpenObdEditor.t('openobd.validation.negative');
      },
    },
    timeout: {
      value: '',
      validate: OpenObdEditor.optionalPositive(5000),
    },
    pendingTimeout: {
      value: '',
      validate: OpenObdEditor.optionalPositive(5000),
    },
    overallTimeout: {
      value: '',
      validate: OpenObdEditor.optionalPositive(30000),
    },
    decode: { value: true },
    outputs: { value: 1 },
  },
  // Node-RED 5 looks the description up with RED._ when it shows it, so it is a key of this node set's catalog.
  categoryDescription: '@obdflow/node-red-openobd/openobd:openobd.category',
  paletteLabel: OpenObdEditor.label('openobd.paletteLabel.request'),
  inputLabels: OpenObdEditor.label('openobd.inputLabels.request'),
  outputLabels: function (index) {
    return index === 1 ? this._('openobd.outputLabels.negative') : this._('openobd.outputLabels.response');
  },
  label: function () {
    if (this.name) {
      return this.name;
    }
    const ecu = this.ecu ? RED.nodes.node(this.ecu) : null;
    let target;
    if (ecu) {
      target = ecu.name || (ecu.requestId || '?') + '/' + (ecu.responseId || '?');
    } else if (this.ecu) {
      target = this._('openobd.nodeLabel.missingEcu');
    } else {
      target = 'msg.openobd.ecu';
    }
    const request = OpenObdEditor.labelHex(this.request) || 'msg.payload';
    return request + ' \u2192 ' + target;
  },
  labelStyle: OpenObdEditor.italicWhenNamed,
  oneditprepare: function () {
    const node = this;
    const E = OpenObdEditor;

    const $request = $('#node-input-request');
    const $negative = $('#node-input-negative');
    const $outputs = $('#node-input-outputs');

    const COMMON = [
      { group: 'uds', key: 'readVin', hex: '22 F1 90', label: node._('openobd.common.readVin') },
      { group: 'uds', key: 'readPartNumber', hex: '22 F1 87', label: node._('openobd.common.readPartNumber') },
      { group: 'uds', key: 'readDtcs', hex: '19 02 FF', label: node._('openobd.common.readDtcs') },
      { group: 'uds', key: 'clearDtcs', hex: '14 FF FF FF', label: node._('openobd.common.clearDtcs') },
      { group: 'uds', key: 'testerPresent', hex: '3E 00', label: node._('openobd.common.testerPresent') },
      { group: 'uds', key: 'extendedSession', hex: '10 03', label: node._('openobd.common.extendedSession') },
      { group: 'uds', key: 'defaultSession', hex: '10 01', label: node._('openobd.common.defaultSession') },
      { group: 'uds', key: 'ecuReset', hex: '11 01', label: node._('openobd.common.ecuReset') },
      { group: 'obd', key: 'obdVin', hex: '09 02', label: node._('openobd.common.obdVin') },
      { group: 'obd', key: 'obdLiveData', hex: '01 0C 0D 05', label: node._('openobd.common.obdLiveData') },
      { group: 'obd', key: 'obdStoredDtcs', hex: '03', label: node._('openobd.common.obdStoredDtcs') },
      { group: 'obd', key: 'obdClearDtcs', hex: '04', label: node._('openobd.common.obdClearDtcs') },
    ];

    function pick(hex: string) {
      $request.val(hex).trigger('change');
    }
    ['uds', 'obd'].forEach(function (group) {
      E.renderChoices(
        $('#openobd-request-common-' + group),
        COMMON.filter(function (c) {
          return c.group === group;
        }).map(function (c) {
          return { value: c.hex, label: c.label, title: c.hex };
        }),
        pick,
      );
    });

    // Tidy the hex into byte pairs when the field is left ("22f190" -> "22 F1 90").
    $request.on('change', function () {
      const v = $request.val();
      if (String(v).trim() && E.checkRequestHex(v) === true) {
        const formatted = E.formatHex(v);
        if (formatted !== v) {
          $request.val(formatted);
        }
      }
    });

    // Like the core switch node: the number of outputs follows the "negative answers" choice.
    function updateOutputs() {
      $outputs.val($negative.val() === 'output' ? 2 : 1);
    }
    if (!$negative.val()) {
      $negative.val('error');
    }
    if (!$('#node-input-output').val()) {
      $('#node-input-output').val('hex');
    }
    $negative.on('change', updateOutputs);
    updateOutputs();
  },
  oneditsave: function () {
    $('#node-input-outputs').val($('#node-input-negative').val() === 'output' ? 2 : 1);
    ['timeout', 'pendingTimeout', 'overallTimeout'].forEach(function (p) {
      const $el = $('#node-input-' + p);
      $el.val(String($el.val() || '').trim());
    });
  },
});
