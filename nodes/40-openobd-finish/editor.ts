RED.nodes.registerType('openobd-finish', {
  category: 'openOBD',
  color: '#8FB9C9',
  icon: 'openobd-finish.svg',
  align: 'right',
  inputs: 1,
  outputs: 1,
  defaults: {
    name: { value: '' },
    result: { value: '', validate: OpenObdEditor.oneOf(['', ...OpenObdRules.RESULT_NAMES], 'openobd.validation.result') },
    userFeedback: {
      value: '',
      validate: OpenObdEditor.oneOf(['', ...OpenObdRules.USER_FEEDBACK_NAMES], 'openobd.validation.userFeedback'),
    },
    description: { value: '', validate: OpenObdEditor.optionalTyped('descriptionSource') },
    descriptionSource: { value: 'str' },
  },
  // Node-RED 5 looks the description up with RED._ when it shows it, so it is a key of this node set's catalog.
  categoryDescription: '@obdflow/node-red-openobd/openobd:openobd.category',
  paletteLabel: OpenObdEditor.label('openobd.paletteLabel.finish'),
  inputLabels: OpenObdEditor.label('openobd.inputLabels.session'),
  outputLabels: OpenObdEditor.label('openobd.outputLabels.finish'),
  label: function () {
    if (this.name) {
      return this.name;
    }
    if (this.result) {
      return this._('openobd.nodeLabel.finishWith', { result: String(this.result).replace(/^RESULT_/, '') });
    }
    return this._('openobd.nodeLabel.finish');
  },
  labelStyle: OpenObdEditor.italicWhenNamed,
  oneditprepare: function () {
    // The results in the dialog's order: success, what is still needed, the general failure before the specific
    // ones, and "undefined" last.
    const names: readonly string[] = OpenObdRules.RESULT_NAMES;
    const failures = names.filter((n) => n.startsWith('RESULT_FAILURE_'));
    const others = names.filter((n) => !failures.includes(n) && n !== 'RESULT_FAILURE' && n !== 'RESULT_UNDEFINED');
    OpenObdEditor.fillOptions(
      $('#node-input-result'),
      [...others, 'RESULT_FAILURE', ...failures, 'RESULT_UNDEFINED'],
      'openobd.result.',
      this.result,
    );
    OpenObdEditor.fillOptions($('#node-input-userFeedback'), OpenObdRules.USER_FEEDBACK_NAMES, 'openobd.userFeedback.', this.userFeedback);
    $('#node-input-description').typedInput({
      default: 'str',
      typeField: '#node-input-descriptionSource',
      types: ['str', 'msg', 'flow', 'global', 'env'],
    });
  },
});
