RED.nodes.registerType('openobd-scan', {
  category: 'openOBD',
  color: '#8FB9C9',
  icon: 'openobd-scan.svg',
  inputs: 1,
  outputs: 1,
  defaults: {
    name: { value: '' },
    discover: {
      value: 'ecu-list',
      validate: function (v, _opt) {
        return v === 'ecu-list' || v === 'probe' ? true : OpenObdEditor.t('openobd.validation.scanDiscover');
      },
    },
    busName: { value: 'OBD-CAN' },
    pinPlus: { value: 6, validate: OpenObdEditor.when('discover', 'ecu-list', ['probe'], OpenObdEditor.pin(['pinMinus'])) },
    pinMinus: { value: 14, validate: OpenObdEditor.when('discover', 'ecu-list', ['probe'], OpenObdEditor.pin(['pinPlus'])) },
    bitRate: { value: 500 },
    probeFrom: {
      value: '700',
      validate: OpenObdEditor.when('discover', 'ecu-list', ['probe'], function (v, _opt) {
        return OpenObdEditor.checkCanId(v);
      }),
    },
    probeTo: {
      value: '7F7',
      validate: OpenObdEditor.when('discover', 'ecu-list', ['probe'], function (v, _opt) {
        return OpenObdEditor.checkCanId(v);
      }),
    },
    responseOffset: {
      value: '8',
      validate: function (v, _opt) {
        return /^(0x)?[0-9a-fA-F]{1,3}$/.test(String(v || '8').trim()) ? true : OpenObdEditor.t('openobd.validation.responseOffset');
      },
    },
    identification: { value: true },
    dtcs: { value: true },
    concurrency: { value: 32, validate: OpenObdEditor.wholeNumber(1, 32, 'openobd.validation.concurrency') },
    timeout: { value: '', validate: OpenObdEditor.optionalPositive(5000) },
  },
  paletteLabel: OpenObdEditor.label('openobd.paletteLabel.scan'),
  inputLabels: OpenObdEditor.label('openobd.inputLabels.scan'),
  outputLabels: OpenObdEditor.label('openobd.outputLabels.scan'),
  label: function () {
    if (this.name) {
      return this.name;
    }
    return this.discover === 'probe'
      ? this._('openobd.nodeLabel.scanProbe', { from: this.probeFrom || '700', to: this.probeTo || '7F7' })
      : this._('openobd.nodeLabel.scan');
  },
  labelStyle: OpenObdEditor.italicWhenNamed,
  oneditprepare: function () {
    OpenObdEditor.busFields('node-input', this);
    const $discover = $('#node-input-discover');
    if (!$discover.val()) {
      $discover.val('ecu-list');
    }
    function update() {
      $('.openobd-scan-probe').toggle($discover.val() === 'probe');
    }
    $discover.on('change', update);
    update();
  },
});
