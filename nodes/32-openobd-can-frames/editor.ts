RED.nodes.registerType('openobd-can-frames', {
  category: 'openOBD',
  color: '#8FB9C9',
  icon: 'openobd-frames.svg',
  inputs: 1,
  outputs: 1,
  defaults: {
    name: { value: '' },
    mode: {
      value: 'listen',
      validate: function (v, _opt) {
        return v === 'listen' || v === 'send' ? true : OpenObdEditor.t('openobd.validation.framesMode');
      },
    },
    busName: {
      value: 'CAN-FRAMES',
      validate: function (v, _opt) {
        return String(v || '').trim() ? true : OpenObdEditor.t('openobd.validation.busName');
      },
    },
    pinPlus: { value: 6, validate: OpenObdEditor.pin(['pinMinus']) },
    pinMinus: { value: 14, validate: OpenObdEditor.pin(['pinPlus']) },
    bitRate: { value: 500, validate: OpenObdEditor.bitRate },
    filters: {
      value: '',
      validate: function (v, _opt) {
        return OpenObdEditor.field(this, 'mode') === 'send' ? true : OpenObdEditor.checkFrameFilters(v);
      },
    },
    output: {
      value: 'frame',
      validate: function (v, _opt) {
        return v === 'frame' || v === 'batch' ? true : OpenObdEditor.t('openobd.validation.framesOutput');
      },
    },
    batchMs: {
      value: 500,
      validate: OpenObdEditor.when('output', 'frame', ['batch'], OpenObdEditor.wholeNumber(20, 60000, 'openobd.validation.batchMs')),
    },
    maxRate: { value: 100, validate: OpenObdEditor.wholeNumber(0, 100000, 'openobd.validation.maxRate') },
  },
  paletteLabel: OpenObdEditor.label('openobd.paletteLabel.frames'),
  inputLabels: OpenObdEditor.label('openobd.inputLabels.frames'),
  outputLabels: function () {
    return this.mode === 'send' ? this._('openobd.outputLabels.framesSent') : this._('openobd.outputLabels.frames');
  },
  label: function () {
    if (this.name) {
      return this.name;
    }
    if (this.mode === 'send') {
      return this._('openobd.nodeLabel.framesSend', { bus: this.busName || 'CAN-FRAMES' });
    }
    return this.filters
      ? this._('openobd.nodeLabel.framesListenTo', { filters: this.filters })
      : this._('openobd.nodeLabel.framesListen', { bus: this.busName || 'CAN-FRAMES' });
  },
  labelStyle: OpenObdEditor.italicWhenNamed,
  oneditprepare: function () {
    OpenObdEditor.busFields('node-input', this);
    const $mode = $('#node-input-mode');
    const $output = $('#node-input-output');
    if (!$mode.val()) {
      $mode.val('listen');
    }
    if (!$output.val()) {
      $output.val('frame');
    }
    function update() {
      const listen = $mode.val() !== 'send';
      $('.openobd-frames-listen').toggle(listen);
      $('.openobd-frames-batch').toggle(listen && $output.val() === 'batch');
    }
    $mode.on('change', update);
    $output.on('change', update);
    update();
  },
});
