RED.nodes.registerType('openobd-ecu', {
  category: 'config',
  color: '#8FB9C9',
  icon: 'openobd-ecu.svg',
  defaults: {
    name: { value: 'Engine' },
    preset: { value: 'engine' },
    transport: {
      value: 'isotp',
      validate: function (v, _opt) {
        return !v || Object.prototype.hasOwnProperty.call(OpenObdRules.TRANSPORT_FIELDS, String(v))
          ? true
          : OpenObdEditor.t('openobd.validation.transport');
      },
    },
    protocol: {
      value: 'auto',
      validate: function (v, _opt) {
        return ['', 'auto', 'uds', 'kwp2000'].indexOf(String(v || '')) >= 0 ? true : OpenObdEditor.t('openobd.validation.protocol');
      },
    },
    busName: {
      value: 'OBD-CAN',
      validate: function (v, _opt) {
        return String(v || '').trim() ? true : OpenObdEditor.t('openobd.validation.busName');
      },
    },
    pinPlus: {
      value: 6,
      validate: OpenObdEditor.forTransport('pinPlus', OpenObdEditor.pin(['pinMinus'])),
    },
    pinMinus: {
      value: 14,
      validate: OpenObdEditor.forTransport('pinMinus', OpenObdEditor.pin(['pinPlus'])),
    },
    bitRate: { value: 500, validate: OpenObdEditor.bitRate },
    requestId: {
      value: '7E0',
      validate: OpenObdEditor.forTransport('requestId', function (v, _opt) {
        return OpenObdEditor.checkCanId(v);
      }),
    },
    responseId: {
      value: '7E8',
      validate: OpenObdEditor.forTransport('responseId', function (v, _opt) {
        return OpenObdEditor.checkCanId(v);
      }),
    },
    functional: { value: false },
    responderIds: {
      value: '',
      validate: function (v, _opt) {
        const isotp = (OpenObdEditor.field(this, 'transport') || 'isotp') === 'isotp';
        return isotp && OpenObdEditor.field(this, 'functional') === true ? OpenObdEditor.checkResponderIds(v) : true;
      },
    },
    logicalAddress: {
      value: '01',
      validate: OpenObdEditor.forTransport('logicalAddress', function (v, _opt) {
        return OpenObdEditor.checkAddress(v, 1);
      }),
    },
    klineAddress: {
      value: '01',
      validate: OpenObdEditor.forTransport('klineAddress', function (v, _opt) {
        return OpenObdEditor.checkAddress(v, 1);
      }),
    },
    klinePin: {
      value: 7,
      validate: OpenObdEditor.forTransport('klinePin', OpenObdEditor.pin([])),
    },
    klineInit: {
      value: 'fast',
      validate: function (v, _opt) {
        return ['', 'fast', 'slow'].indexOf(String(v || '')) >= 0 ? true : OpenObdEditor.t('openobd.validation.klineInit');
      },
    },
    klineBaud: {
      value: 10400,
      validate: function (v, _opt) {
        return ['', '9600', '10400', '15625'].indexOf(String(v === undefined ? '' : v)) >= 0
          ? true
          : OpenObdEditor.t('openobd.validation.klineBaud');
      },
    },
    keyBytes: {
      value: '',
      validate: OpenObdEditor.forTransport('keyBytes', function (v, _opt) {
        return OpenObdEditor.checkKeyBytes(v);
      }),
    },
    doipOption: {
      value: 1,
      validate: function (v, _opt) {
        return ['', '1', '2'].indexOf(String(v === undefined ? '' : v)) >= 0 ? true : OpenObdEditor.t('openobd.validation.doipOption');
      },
    },
    doipNetwork: {
      value: 1,
      validate: OpenObdEditor.forTransport('doipNetwork', OpenObdEditor.wholeNumber(1, 9, 'openobd.validation.doipNetwork')),
    },
    gatewayId: {
      value: '1010',
      validate: OpenObdEditor.forTransport('gatewayId', function (v, _opt) {
        return OpenObdEditor.checkAddress(v, 2);
      }),
    },
    testerId: {
      value: '0E80',
      validate: OpenObdEditor.forTransport('testerId', function (v, _opt) {
        return OpenObdEditor.checkAddress(v, 2);
      }),
    },
    doipEcuId: {
      value: '1010',
      validate: OpenObdEditor.forTransport('doipEcuId', function (v, _opt) {
        return OpenObdEditor.checkAddress(v, 2);
      }),
    },
    padding: {
      value: 'default',
      validate: function (v, _opt) {
        const modes = ['default', 'enabled', 'disabled', 'detection', 'from-ecu', 'towards-ecu'];
        return v === '' || modes.indexOf(v as string) >= 0 ? true : OpenObdEditor.t('openobd.validation.padding');
      },
    },
    keepAlive: { value: false },
  },
  paletteLabel: OpenObdEditor.label('openobd.paletteLabel.ecu'),
  label: function () {
    if (this.name) {
      return this.name;
    }
    switch (this.transport) {
      case 'kline':
        return 'K-Line ' + (this.klineAddress || '?');
      case 'tp20':
        return 'TP 2.0 ' + (this.logicalAddress || '?');
      case 'doip':
        return 'DoIP ' + (this.doipEcuId || '?');
      default:
        return (this.requestId || '?') + '/' + (this.responseId || '?');
    }
  },
  oneditprepare: function () {
    const node = this;
    const E = OpenObdEditor;
    E.busFields('node-config-input', node);

    // Editor-only presets: choosing one fills the transport and the addressing fields (pins and bit
    // rate stay as they are). The K-Line, TP 2.0 and DoIP ones match the simulator's classic (ticket 2001)
    // and fleet (2002) cars.
    const PRESETS: Record<string, Record<string, string | boolean> | undefined> = {
      engine: { transport: 'isotp', requestId: '7E0', responseId: '7E8', functional: false, responderIds: '' },
      transmission: { transport: 'isotp', requestId: '7E1', responseId: '7E9', functional: false, responderIds: '' },
      'obd-functional': { transport: 'isotp', requestId: '7DF', responseId: '7E8', functional: true, responderIds: '7E8-7EF' },
      abs: { transport: 'isotp', requestId: '760', responseId: '768', functional: false, responderIds: '' },
      'tp20-engine': { transport: 'tp20', logicalAddress: '01' },
      'kline-airbag': { transport: 'kline', klineAddress: '15', klineInit: 'fast', klineBaud: '10400' },
      'kline-instruments': { transport: 'kline', klineAddress: '17', klineInit: 'slow', klineBaud: '10400' },
      'doip-gateway': { transport: 'doip', doipOption: '2', doipNetwork: '1', gatewayId: '1010', testerId: '0E80', doipEcuId: '1010' },
    };
    const presetNames: Record<string, string> = {};
    Object.keys(PRESETS).forEach(function (p) {
      presetNames[p] = node._('openobd.presetName.' + p);
    });
    // The English names too, so a translated editor still recognises a name it did not choose.
    const defaultNames = [
      'Engine',
      'Transmission',
      'OBD (all ECUs)',
      'ABS',
      'Engine (TP 2.0)',
      'Airbag (K-Line)',
      'Instruments (K-Line)',
      'Gateway (DoIP)',
    ];
    // The transports and the rows each shows: the runtime's table (client/input-rules.ts, TRANSPORT_FIELDS).
    const TRANSPORTS = OpenObdRules.TRANSPORT_FIELDS;
    const fieldsOf = (t: string) => TRANSPORTS[t] ?? TRANSPORTS['isotp']!;
    const ROWS = [...new Set(Object.values(TRANSPORTS).flatMap((t) => t.rows))];
    const $transport = $('#node-config-input-transport');
    const $busName = $('#node-config-input-busName');

    const $preset = $('#node-config-input-preset');
    const $name = $('#node-config-input-name');
    const $req = $('#node-config-input-requestId');
    const $res = $('#node-config-input-responseId');
    const $functional = $('#node-config-input-functional');
    const $responders = $('#node-config-input-responderIds');
    let applying = false;

    function isDefaultName(name: string) {
      if (!name) {
        return true;
      }
      if (defaultNames.indexOf(name) >= 0) {
        return true;
      }
      return Object.keys(presetNames).some(function (p) {
        return presetNames[p] === name;
      });
    }

    function canon(id: unknown) {
      return String(id || '')
        .trim()
        .replace(/^0x/i, '')
        .toUpperCase();
    }

    function input(prop: string) {
      return $('#node-config-input-' + prop);
    }

    function matches(p: string) {
      const preset = PRESETS[p];
      if (!preset || $transport.val() !== preset.transport) {
        return false;
      }
      return Object.keys(preset).every(function (prop) {
        if (prop === 'transport') {
          return true;
        }
        if (prop === 'functional') {
          return $functional.prop('checked') === preset.functional;
        }
        if (prop === 'responderIds' && !preset.functional) {
          return true;
        }
        return canon(input(prop).val()) === canon(preset[prop]);
      });
    }

    /** Shows the rows of the chosen transport (and the responders of a functional ISO-TP ECU). */
    function updateRows() {
      const t = String($transport.val() || 'isotp');
      const shown = fieldsOf(t).rows;
      for (const row of ROWS) $('.openobd-ecu-' + row).toggle(shown.includes(row));
      $('.openobd-ecu-responders').toggle(t === 'isotp' && $functional.prop('checked'));
    }

    function toCustom() {
      if (!applying && $preset.val() !== 'custom' && !matches(String($preset.val()))) {
        $preset.val('custom');
      }
    }

    $preset.on('change', function () {
      const p = String($preset.val());
      const preset = PRESETS[p];
      if (!preset || applying) {
        return;
      }
      applying = true;
      $transport.val(String(preset.transport)).trigger('change');
      Object.keys(preset).forEach(function (prop) {
        if (prop === 'transport') {
          return;
        }
        if (prop === 'functional') {
          $functional.prop('checked', preset.functional).trigger('change');
        } else {
          input(prop).val(String(preset[prop])).trigger('change');
        }
      });
      if (isDefaultName(String($name.val() || '').trim())) {
        $name.val(presetNames[p]).trigger('change');
      }
      applying = false;
      updateRows();
    });

    // A new transport gets its own default bus name (when the name is one of those), so an ISO-TP
    // and a K-Line ECU never share a bus by accident.
    let lastTransport = String($transport.val() || 'isotp');
    $transport.on('change', function () {
      const t = String($transport.val() || 'isotp');
      const bus = String($busName.val() || '').trim();
      if (!bus || bus === TRANSPORTS[lastTransport]?.busName) {
        $busName.val(fieldsOf(t).busName).trigger('change');
      }
      lastTransport = t;
      updateRows();
      toCustom();
    });

    // Editing the addressing by hand turns the chooser to "custom".
    $req
      .add($res)
      .add($responders)
      .add(input('logicalAddress'))
      .add(input('klineAddress'))
      .add(input('klineInit'))
      .add(input('klineBaud'))
      .add(input('doipOption'))
      .add(input('doipNetwork'))
      .add(input('gatewayId'))
      .add(input('testerId'))
      .add(input('doipEcuId'))
      .on('change keyup', toCustom);
    $functional.on('change', function () {
      updateRows();
      toCustom();
    });

    if (!$preset.val()) {
      $preset.val('custom');
    }
    if (!$transport.val()) {
      $transport.val('isotp');
      lastTransport = 'isotp';
    }
    [
      ['padding', 'default'],
      ['protocol', 'auto'],
      ['klineInit', 'fast'],
      ['klineBaud', '10400'],
      ['doipOption', '1'],
    ].forEach(function (d) {
      if (!input(d[0]).val()) {
        input(d[0]).val(d[1]);
      }
    });
    updateRows();
  },
  oneditsave: function () {
    ['requestId', 'responseId', 'logicalAddress', 'klineAddress', 'gatewayId', 'testerId', 'doipEcuId'].forEach(function (p) {
      const $el = $('#node-config-input-' + p);
      const v = String($el.val() || '').trim();
      if (v && /^(0x)?[0-9a-f]+$/i.test(v)) {
        $el.val(v.replace(/^0x/i, '').toUpperCase());
      }
    });
    const $responders = $('#node-config-input-responderIds');
    $responders.val(
      String($responders.val() || '')
        .trim()
        .toUpperCase()
        .replace(/0X/g, ''),
    );
    const $keys = $('#node-config-input-keyBytes');
    $keys.val(OpenObdEditor.formatHex($keys.val()));
  },
});
