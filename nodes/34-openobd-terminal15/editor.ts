RED.nodes.registerType('openobd-terminal15', {
  category: 'openOBD',
  color: '#8FB9C9',
  icon: 'openobd-ignition.svg',
  inputs: 1,
  outputs: 1,
  defaults: {
    name: { value: '' },
    busName: {
      value: 'KL15',
      validate: function (v, _opt) {
        return String(v || '').trim() ? true : OpenObdEditor.t('openobd.validation.busName');
      },
    },
    pin: { value: 1, validate: OpenObdEditor.pin([]) },
  },
  paletteLabel: OpenObdEditor.label('openobd.paletteLabel.terminal15'),
  inputLabels: OpenObdEditor.label('openobd.inputLabels.terminal15'),
  outputLabels: OpenObdEditor.label('openobd.outputLabels.terminal15'),
  label: function () {
    return this.name || this._('openobd.nodeLabel.terminal15', { pin: this.pin || 1 });
  },
  labelStyle: OpenObdEditor.italicWhenNamed,
});
