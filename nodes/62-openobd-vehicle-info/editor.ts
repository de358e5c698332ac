RED.nodes.registerType('openobd-vehicle-info', {
  category: 'openOBD',
  color: '#8FB9C9',
  icon: 'openobd-info.svg',
  inputs: 1,
  outputs: 1,
  defaults: {
    name: { value: '' },
    action: {
      value: 'ecus',
      validate: OpenObdEditor.oneOf(['ecus', 'connector', 'connectorStream', 'configuration'], 'openobd.validation.vehicleInfoAction'),
    },
  },
  paletteLabel: OpenObdEditor.label('openobd.paletteLabel.vehicleInfo'),
  inputLabels: OpenObdEditor.label('openobd.inputLabels.vehicleInfo'),
  outputLabels: function () {
    return this._('openobd.vehicleInfoAction.' + (this.action || 'ecus'));
  },
  label: function () {
    return this.name || this._('openobd.vehicleInfoAction.' + (this.action || 'ecus'));
  },
  labelStyle: OpenObdEditor.italicWhenNamed,
  oneditprepare: function () {
    const $action = $('#node-input-action');
    if (!$action.val()) {
      $action.val('ecus');
    }
  },
});
