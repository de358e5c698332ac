/** The minimum or maximum of a number question: a whole number from 0 to 4294967295, the minimum not above the maximum. */
function openobdAskLimit(which: 'minimum' | 'maximum'): RedValidator {
  return function (v, _opt) {
    const E = OpenObdEditor;
    if (E.field(this, 'controlType') !== 'number') {
      return true;
    }
    const source = E.field(this, which + 'Source') || 'num';
    const s = String(v === undefined || v === null ? '' : v).trim();
    if (source !== 'num') {
      return s ? true : E.t('openobd.ask.validation.limit');
    }
    if (!/^\d+$/.test(s) || Number(s) > 4294967295) {
      return E.t('openobd.ask.validation.limit');
    }
    const other = which === 'minimum' ? 'maximum' : 'minimum';
    const o = String(E.field(this, other) === undefined ? '' : E.field(this, other)).trim();
    if ((E.field(this, other + 'Source') || 'num') === 'num' && /^\d+$/.test(o)) {
      const min = which === 'minimum' ? Number(s) : Number(o);
      const max = which === 'minimum' ? Number(o) : Number(s);
      if (min > max) {
        return E.t('openobd.ask.validation.range');
      }
    }
    return true;
  };
}

RED.nodes.registerType('openobd-ask-technician', {
  category: 'openOBD',
  color: '#8FB9C9',
  icon: 'openobd-ask.svg',
  inputs: 1,
  outputs: 1,
  defaults: {
    name: { value: '' },
    controlType: {
      value: 'yesno',
      validate: OpenObdEditor.oneOf(['label', 'continue', 'yesno', 'options', 'freetext', 'number'], 'openobd.ask.validation.controlType'),
    },
    text: { value: '', validate: OpenObdEditor.requiredTyped('textSource', 'openobd.ask.validation.text') },
    textSource: { value: 'str' },
    options: {
      value: [] as string[],
      validate: function (v, _opt) {
        const E = OpenObdEditor;
        if (E.field(this, 'controlType') !== 'options' || (E.field(this, 'optionsSource') || 'list') !== 'list') {
          return true;
        }
        if (!Array.isArray(v) || v.length === 0) {
          return E.t('openobd.ask.validation.noOptions');
        }
        return v.every(function (o) {
          return String(o).trim() !== '';
        })
          ? true
          : E.t('openobd.ask.validation.emptyOption');
      },
    },
    optionsSource: { value: 'list' },
    optionsProperty: {
      value: '',
      validate: function (v, _opt) {
        const E = OpenObdEditor;
        const source = E.field(this, 'optionsSource') || 'list';
        if (E.field(this, 'controlType') !== 'options' || source === 'list') {
          return true;
        }
        return String(v || '').trim() ? true : E.t('openobd.ask.validation.optionsFrom');
      },
    },
    optionOutputs: {
      value: 'single',
      validate: function (v, _opt) {
        return v === 'single' || v === 'each' ? true : OpenObdEditor.t('openobd.ask.validation.optionOutputs');
      },
    },
    minimum: { value: '0', validate: openobdAskLimit('minimum') },
    minimumSource: { value: 'num' },
    maximum: { value: '100', validate: openobdAskLimit('maximum') },
    maximumSource: { value: 'num' },
    displayTime: {
      value: '',
      validate: function (v, _opt) {
        const s = String(v === undefined || v === null ? '' : v).trim();
        return s === '' || /^\d+$/.test(s) ? true : OpenObdEditor.t('openobd.ask.validation.displayTime');
      },
    },
    image: { value: '', validate: OpenObdEditor.optionalTyped('imageSource') },
    imageSource: { value: 'str' },
    target: {
      value: 'mechanic',
      validate: function (v, _opt) {
        return v === 'mechanic' || v === 'operator' ? true : OpenObdEditor.t('openobd.ask.validation.target');
      },
    },
    translations: {
      value: [] as Array<{ language: string; text: string }>,
      validate: function (v, _opt) {
        if (!Array.isArray(v)) {
          return OpenObdEditor.t('openobd.ask.validation.translation');
        }
        return v.every(function (r) {
          return r && /^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$/.test(String(r.language || '')) && String(r.text || '').trim() !== '';
        })
          ? true
          : OpenObdEditor.t('openobd.ask.validation.translation');
      },
    },
    timeout: {
      value: '',
      validate: function (v, _opt) {
        const s = String(v === undefined || v === null ? '' : v).trim();
        return s === '' || (/^\d+$/.test(s) && Number(s) > 0) ? true : OpenObdEditor.t('openobd.ask.validation.timeout');
      },
    },
    outputs: { value: 2 },
  },
  // Node-RED 5 looks the description up with RED._ when it shows it, so it is a key of this node set's catalog.
  categoryDescription: '@obdflow/node-red-openobd/openobd:openobd.category',
  paletteLabel: OpenObdEditor.label('openobd.paletteLabel.ask'),
  inputLabels: OpenObdEditor.label('openobd.inputLabels.session'),
  outputLabels: function (index) {
    if (this.controlType === 'yesno') {
      return index === 0 ? this._('openobd.ask.outputLabels.yes') : this._('openobd.ask.outputLabels.no');
    }
    if (
      this.controlType === 'options' &&
      this.optionOutputs === 'each' &&
      Array.isArray(this.options) &&
      this.options[index] !== undefined
    ) {
      return this.options[index];
    }
    return this._('openobd.ask.outputLabels.answer');
  },
  label: function () {
    if (this.name) {
      return this.name;
    }
    const source = this.textSource || 'str';
    let text = source === 'str' ? String(this.text || '') : OpenObdEditor.typedLabel(source, this.text);
    if (text.length > 28) {
      text = text.slice(0, 27) + '\u2026';
    }
    return text ? this._('openobd.ask.nodeLabel.type.' + (this.controlType || 'yesno')) + ': ' + text : this._('openobd.ask.nodeLabel.ask');
  },
  labelStyle: OpenObdEditor.italicWhenNamed,
  oneditprepare: function () {
    const node = this;
    const $type = $('#node-input-controlType');
    const $outputs = $('#node-input-outputs');
    const $optionOutputs = $('#node-input-optionOutputs');

    $('#node-input-text').typedInput({
      default: 'str',
      typeField: '#node-input-textSource',
      types: ['str', 'msg', 'flow', 'global', 'env'],
    });
    $('#node-input-image').typedInput({
      default: 'str',
      typeField: '#node-input-imageSource',
      types: ['str', 'msg', 'flow', 'global', 'env'],
    });
    ['minimum', 'maximum'].forEach(function (p) {
      $('#node-input-' + p).typedInput({
        default: 'num',
        typeField: '#node-input-' + p + 'Source',
        types: ['num', 'msg', 'flow', 'global', 'env'],
      });
    });
    const listType = { value: 'list', label: node._('openobd.ask.optionsList'), icon: 'fa fa-list', hasValue: false };
    const $optionsFrom = $('#node-input-optionsProperty');
    $optionsFrom.typedInput({
      default: 'list',
      typeField: '#node-input-optionsSource',
      types: [listType, 'msg', 'flow', 'global', 'json', 'env'],
    });

    const $options = $('#node-input-options-container')
      .css('min-height', '120px')
      .editableList({
        addItem: function (row, _index, data) {
          $('<input type="text" class="openobd-ask-option" style="width:100%;">')
            .attr('placeholder', node._('openobd.ask.placeholder.option'))
            .val(typeof data === 'string' ? data : '')
            .appendTo(row)
            .on('change keyup', updateOutputs);
          updateOutputs();
        },
        removeItem: updateOutputs,
        sortable: true,
        removable: true,
      });
    (Array.isArray(node.options) ? node.options : []).forEach(function (o) {
      $options.editableList('addItem', String(o));
    });

    const $translations = $('#node-input-translations-container')
      .css('min-height', '80px')
      .editableList({
        addItem: function (row, _index, data) {
          const d: { language?: string; text?: string } = data && typeof data === 'object' ? data : {};
          $('<input type="text" class="openobd-ask-language" style="width:70px; margin-right:6px;">')
            .attr('placeholder', 'de')
            .val(d.language || '')
            .appendTo(row);
          $('<input type="text" class="openobd-ask-translation" style="width:calc(100% - 80px);">')
            .attr('placeholder', node._('openobd.ask.placeholder.translation'))
            .val(d.text || '')
            .appendTo(row);
        },
        sortable: false,
        removable: true,
      });
    (Array.isArray(node.translations) ? node.translations : []).forEach(function (r) {
      $translations.editableList('addItem', r);
    });

    function optionTexts() {
      const out: string[] = [];
      $options.editableList('items').each(function () {
        out.push(String($(this).find('.openobd-ask-option').val()));
      });
      return out;
    }

    // Like the core switch node, the number of outputs follows the settings: yes and no, or one per option.
    function updateOutputs() {
      const type = $type.val();
      const fromList = ($('#node-input-optionsSource').val() || 'list') === 'list';
      let n = 1;
      if (type === 'yesno') {
        n = 2;
      } else if (type === 'options' && fromList && $optionOutputs.val() === 'each') {
        n = Math.max(1, optionTexts().length);
      }
      $outputs.val(n);
    }

    function updateRows() {
      const type = $type.val();
      const fromList = ($('#node-input-optionsSource').val() || 'list') === 'list';
      $('.openobd-ask-row-options').toggle(type === 'options');
      $('.openobd-ask-row-list').toggle(type === 'options' && fromList);
      $('.openobd-ask-row-number').toggle(type === 'number');
      $('.openobd-ask-row-label').toggle(type === 'label');
      if (!fromList) {
        $optionOutputs.val('single');
      }
      $optionOutputs.prop('disabled', !fromList);
      updateOutputs();
    }
    if (!$type.val()) {
      $type.val('yesno');
    }
    if (!$optionOutputs.val()) {
      $optionOutputs.val('single');
    }
    if (!$('#node-input-target').val()) {
      $('#node-input-target').val('mechanic');
    }
    $type.on('change', updateRows);
    $optionOutputs.on('change', updateOutputs);
    $optionsFrom.on('change', updateRows);
    updateRows();
  },
  oneditsave: function () {
    const node = this;
    const options: string[] = [];
    $('#node-input-options-container')
      .editableList('items')
      .each(function () {
        options.push(String($(this).find('.openobd-ask-option').val()));
      });
    node.options = options;
    const translations: Array<{ language: string; text: string }> = [];
    $('#node-input-translations-container')
      .editableList('items')
      .each(function () {
        const language = String($(this).find('.openobd-ask-language').val()).trim();
        const text = String($(this).find('.openobd-ask-translation').val());
        if (language || text.trim()) {
          translations.push({ language: language, text: text });
        }
      });
    node.translations = translations;
    const type = $('#node-input-controlType').val();
    const fromList = ($('#node-input-optionsSource').val() || 'list') === 'list';
    let n = 1;
    if (type === 'yesno') {
      n = 2;
    } else if (type === 'options' && fromList && $('#node-input-optionOutputs').val() === 'each') {
      n = Math.max(1, options.length);
    }
    $('#node-input-outputs').val(n);
    $('#node-input-timeout').val(String($('#node-input-timeout').val() || '').trim());
  },
});
