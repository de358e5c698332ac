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
  paletteLabel: function () {
    return this._('openobd.paletteLabel.vehicleInfo');
  },
  inputLabels: function () {
    return this._('openobd.inputLabels.vehicleInfo');
  },
  outputLabels: function () {
    return this._('openobd.vehicleInfoAction.' + (this.action || 'ecus'));
  },
  label: function () {
    return this.name || this._('openobd.vehicleInfoAction.' + (this.action || 'ecus'));
  },
  labelStyle: function () {
    return this.name ? 'node_label_italic' : '';
  },
  oneditprepare: function () {
    const $action = $('#node-input-action');
    if (!$action.val()) {
      $action.val('ecus');
    }
  },
});
