RED.nodes.registerType('openobd-call-procedure', {
  category: 'openOBD',
  color: '#8FB9C9',
  icon: 'openobd-procedure.svg',
  inputs: 1,
  outputs: 1,
  defaults: {
    name: { value: '' },
    account: { value: '', type: 'openobd-account', required: true },
    procedure: {
      value: '',
      validate: function (v, opt) {
        const E = OpenObdEditor;
        const source = E.field(this, 'procedureSource') || 'node';
        if (!String(v || '').trim()) {
          return E.t('openobd.callProcedure.validation.procedure');
        }
        if (source === 'node') {
          const p = RED.nodes.node(String(v));
          return p && p.type === 'openobd-dashboard-procedure' ? true : E.t('openobd.callProcedure.validation.missing');
        }
        return RED.validators.typedInput({ typeField: 'procedureSource' }).call(this, v, opt);
      },
    },
    procedureSource: { value: 'node' },
    arguments: { value: '' },
    argumentsSource: { value: 'none' },
    timeout: {
      value: '',
      validate: function (v, _opt) {
        const s = String(v === undefined || v === null ? '' : v).trim();
        return s === '' || (/^\d+$/.test(s) && Number(s) > 0) ? true : OpenObdEditor.t('openobd.callProcedure.validation.timeout');
      },
    },
  },
  // Node-RED 5 looks the description up with RED._ when it shows it, so it is a key of this node set's catalog.
  categoryDescription: '@obdflow/node-red-openobd/openobd:openobd.category',
  paletteLabel: OpenObdEditor.label('openobd.paletteLabel.callProcedure'),
  inputLabels: OpenObdEditor.label('openobd.inputLabels.session'),
  outputLabels: OpenObdEditor.label('openobd.callProcedure.outputLabels.result'),
  label: function () {
    if (this.name) {
      return this.name;
    }
    const source = this.procedureSource || 'node';
    let target;
    if (source === 'node') {
      const p = this.procedure ? RED.nodes.node(this.procedure) : null;
      target = p ? p.functionName || p.name || '' : '';
    } else {
      target = OpenObdEditor.typedLabel(source, source === 'str' ? OpenObdEditor.shortId(this.procedure, 8) : this.procedure);
    }
    return target ? this._('openobd.callProcedure.nodeLabel.call', { name: target }) : this._('openobd.callProcedure.nodeLabel.default');
  },
  labelStyle: OpenObdEditor.italicWhenNamed,
  oneditprepare: function () {
    const node = this;
    const procedures: Array<{ value: string; label: string }> = [];
    RED.nodes.eachNode(function (n) {
      if (n.type === 'openobd-dashboard-procedure') {
        procedures.push({ value: n.id, label: String(n.functionName || n.name || n.id) });
      }
    });
    procedures.sort(function (a, b) {
      return a.label.localeCompare(b.label);
    });
    const nodeType = {
      value: 'node',
      label: node._('openobd.callProcedure.procedureType'),
      icon: 'fa fa-play-circle-o',
      options: procedures,
    };
    $('#node-input-procedure').typedInput({
      default: 'node',
      typeField: '#node-input-procedureSource',
      types: [nodeType, 'str', 'msg', 'flow', 'global', 'env'],
    });
    const noneType = { value: 'none', label: node._('openobd.callProcedure.noArguments'), hasValue: false };
    $('#node-input-arguments').typedInput({
      default: 'none',
      typeField: '#node-input-argumentsSource',
      types: [noneType, 'msg', 'json', 'flow', 'global'],
    });
  },
  oneditsave: function () {
    $('#node-input-timeout').val(String($('#node-input-timeout').val() || '').trim());
  },
});
