RED.nodes.registerType('openobd-download', {
  category: 'openOBD',
  color: '#8FB9C9',
  icon: 'openobd-download.svg',
  inputs: 1,
  outputs: 1,
  defaults: {
    name: { value: '' },
    ecu: { value: '', type: 'openobd-ecu', required: true },
    address: {
      value: '',
      validate: function (v, _opt) {
        const s = String(v || '')
          .trim()
          .replace(/^0x/i, '');
        return s === '' || /^[0-9a-fA-F]{1,8}$/.test(s) ? true : OpenObdEditor.t('openobd.validation.downloadAddress');
      },
    },
    addressBytes: { value: 4, validate: OpenObdEditor.wholeNumber(1, 4, 'openobd.validation.byteCount') },
    sizeBytes: { value: 4, validate: OpenObdEditor.wholeNumber(1, 4, 'openobd.validation.byteCount') },
    dataFormat: {
      value: '00',
      validate: function (v, _opt) {
        return /^(0x)?[0-9a-fA-F]{1,2}$/.test(String(v || '00').trim()) ? true : OpenObdEditor.t('openobd.validation.dataFormat');
      },
    },
    timeout: { value: '', validate: OpenObdEditor.optionalPositive(5000) },
  },
  paletteLabel: OpenObdEditor.label('openobd.paletteLabel.download'),
  inputLabels: OpenObdEditor.label('openobd.inputLabels.download'),
  outputLabels: OpenObdEditor.label('openobd.outputLabels.download'),
  label: function () {
    return (
      this.name ||
      (this.address ? this._('openobd.nodeLabel.downloadTo', { address: this.address }) : this._('openobd.paletteLabel.download'))
    );
  },
  labelStyle: OpenObdEditor.italicWhenNamed,
  oneditsave: function () {
    const $a = $('#node-input-address');
    $a.val(
      String($a.val() || '')
        .trim()
        .replace(/^0x/i, '')
        .toUpperCase(),
    );
  },
});
