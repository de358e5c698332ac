RED.nodes.registerType('openobd-variables', {
  category: 'openOBD',
  color: '#8FB9C9',
  icon: 'openobd-variables.svg',
  inputs: 1,
  outputs: 1,
  defaults: {
    name: { value: '' },
    operation: {
      value: 'get',
      validate: OpenObdEditor.oneOf(['get', 'set', 'delete', 'list', 'result', 'arguments'], 'openobd.variables.validation.operation'),
    },
    context: {
      value: 'function',
      validate: OpenObdEditor.oneOf(['global', 'function', 'connection'], 'openobd.variables.validation.context'),
    },
    key: {
      value: '',
      validate: function (v, opt) {
        const E = OpenObdEditor;
        const op = E.field(this, 'operation') || 'get';
        if (op === 'list' || op === 'arguments') {
          return true;
        }
        return E.requiredTyped('keySource', 'openobd.variables.validation.key').call(this, v, opt);
      },
    },
    keySource: { value: 'str' },
    value: { value: 'payload', validate: OpenObdEditor.optionalTyped('valueSource') },
    valueSource: { value: 'msg' },
    prefix: { value: '' },
  },
  // Node-RED 5 looks the description up with RED._ when it shows it, so it is a key of this node set's catalog.
  categoryDescription: '@obdflow/node-red-openobd/openobd:openobd.category',
  paletteLabel: OpenObdEditor.label('openobd.paletteLabel.variables'),
  inputLabels: OpenObdEditor.label('openobd.inputLabels.session'),
  outputLabels: OpenObdEditor.label('openobd.variables.outputLabels.done'),
  label: function () {
    if (this.name) {
      return this.name;
    }
    const op = this.operation || 'get';
    const key = (this.keySource || 'str') === 'str' ? String(this.key || '') : OpenObdEditor.typedLabel(this.keySource, this.key);
    if (op === 'list') {
      return this._('openobd.variables.nodeLabel.list', { context: this.context || 'function' });
    }
    if (op === 'arguments') {
      return this._('openobd.variables.nodeLabel.arguments');
    }
    return this._('openobd.variables.nodeLabel.' + op, { key: key.length > 24 ? key.slice(0, 23) + '\u2026' : key });
  },
  labelStyle: OpenObdEditor.italicWhenNamed,
  oneditprepare: function () {
    const $op = $('#node-input-operation');
    $('#node-input-key').typedInput({ default: 'str', typeField: '#node-input-keySource', types: ['str', 'msg', 'flow', 'global', 'env'] });
    $('#node-input-value').typedInput({
      default: 'msg',
      typeField: '#node-input-valueSource',
      types: ['msg', 'str', 'num', 'bool', 'json', 'flow', 'global', 'env'],
    });
    function update() {
      const op = $op.val();
      $('.openobd-variables-row-key').toggle(op !== 'list' && op !== 'arguments');
      $('.openobd-variables-row-value').toggle(op === 'set' || op === 'result');
      $('.openobd-variables-row-context').toggle(op === 'get' || op === 'set' || op === 'delete' || op === 'list');
      $('.openobd-variables-row-prefix').toggle(op === 'list');
    }
    if (!$op.val()) {
      $op.val('get');
    }
    if (!$('#node-input-context').val()) {
      $('#node-input-context').val('function');
    }
    $op.on('change', update);
    update();
  },
});
