RED.nodes.registerType('openobd-start-session', {
  category: 'openOBD',
  color: '#8FB9C9',
  icon: 'openobd-car.svg',
  inputs: 1,
  outputs: 1,
  defaults: {
    name: { value: '' },
    account: { value: '', type: 'openobd-account', required: true },
    targetType: {
      value: 'ticket',
      validate: function (v, _opt) {
        return v === 'ticket' || v === 'connector' ? true : OpenObdEditor.t('openobd.validation.targetType');
      },
    },
    target: {
      value: '1001',
      validate: OpenObdEditor.requiredTyped('targetSource', function (node) {
        return OpenObdEditor.field(node, 'targetType') === 'connector'
          ? 'openobd.validation.connectorRequired'
          : 'openobd.validation.ticketRequired';
      }),
    },
    targetSource: { value: 'str' },
    // 'reuse' is what flows saved before 'share' existed call it.
    ifHeld: {
      value: 'wait',
      validate: OpenObdEditor.oneOf(['wait', 'fail', 'share', 'restart', 'reuse'], 'openobd.validation.ifHeld'),
    },
    waitSeconds: {
      value: 120,
      validate: function (v, _opt) {
        if (v === '' || v === undefined) {
          return true;
        }
        const n = Number(v);
        return isFinite(n) && n >= 0 && n <= 86400 ? true : OpenObdEditor.t('openobd.validation.waitSeconds');
      },
    },
  },
  // Node-RED 5 looks the description up with RED._ when it shows it, so it is a key of this node set's catalog.
  categoryDescription: '@obdflow/node-red-openobd/openobd:openobd.category',
  paletteLabel: OpenObdEditor.label('openobd.paletteLabel.start'),
  inputLabels: OpenObdEditor.label('openobd.inputLabels.start'),
  outputLabels: OpenObdEditor.label('openobd.outputLabels.start'),
  label: function () {
    const E = OpenObdEditor;
    if (this.name) {
      return this.name;
    }
    const source = this.targetSource || 'str';
    const connector = this.targetType === 'connector';
    if (source === 'str' || source === 'num') {
      if (connector) {
        return this._('openobd.nodeLabel.startOnConnector', { id: E.shortTail(this.target, 8) });
      }
      return this._('openobd.nodeLabel.startOnTicket', { id: E.shortId(this.target, 12) });
    }
    return this._('openobd.nodeLabel.startOn', { source: E.typedLabel(source, this.target) });
  },
  labelStyle: OpenObdEditor.italicWhenNamed,
  oneditprepare: function () {
    const node = this;
    const E = OpenObdEditor;

    const $target = $('#node-input-target');
    const $type = $('#node-input-targetType');
    const $account = $('#node-input-account');
    const $simRow = $('.openobd-start-simulator');
    const $simList = $('#openobd-start-simulator-list');

    if (!$type.val()) {
      $type.val('ticket');
    }
    const $ifHeld = $('#node-input-ifHeld');
    if (node.ifHeld === 'reuse' || !$ifHeld.val()) {
      $ifHeld.val(node.ifHeld === 'reuse' ? 'share' : 'wait');
    }
    // The wait only applies where the node may wait: not with "fail".
    function updateWaitRow() {
      $('.openobd-start-wait').toggle($ifHeld.val() !== 'fail');
    }
    $ifHeld.on('change', updateWaitRow);
    updateWaitRow();
    $target.typedInput({
      default: 'str',
      typeField: '#node-input-targetSource',
      types: ['str', 'num', 'msg', 'flow', 'global', 'env'],
    });

    // The TypedInput copies the placeholder into its own text field only when it is created, so the
    // hint is set on that field too (else "e.g. 1001" never shows, and switching to connector keeps it).
    function updatePlaceholder() {
      const hint = $type.val() === 'connector' ? node._('openobd.placeholder.connector') : node._('openobd.placeholder.ticket');
      $target.attr('placeholder', hint);
      $target.next('.red-ui-typedInput-container').find('input.red-ui-typedInput-input').attr('placeholder', hint);
    }

    // With the built-in simulator, offer its tickets (and connectors, once it runs) as one-click choices.
    function refreshSimulator() {
      if (E.accountMode($account.val()) !== 'simulator') {
        $simRow.hide();
        return;
      }
      E.fetchSimulator(function (data) {
        if (!data || E.accountMode($account.val()) !== 'simulator') {
          $simRow.hide();
          return;
        }
        const connector = $type.val() === 'connector';
        const ids = (connector ? data.connectors : data.tickets) || [];
        if (!ids.length) {
          $simList.empty().append($('<span class="openobd-picker-empty"></span>').text(node._('openobd.picker.simulatorNotRunning')));
        } else {
          E.renderChoices(
            $simList,
            ids.map(function (id, i) {
              return {
                value: String(id),
                label: connector ? node._('openobd.picker.connectorN', { n: i + 1 }) : String(id),
                title: String(id),
              };
            }),
            function (id) {
              $target.typedInput('type', 'str');
              $target.typedInput('value', id);
            },
          );
        }
        $simRow.show();
      });
    }

    $type.on('change', function () {
      updatePlaceholder();
      refreshSimulator();
    });
    $account.on('change', refreshSimulator);
    updatePlaceholder();
    $simRow.hide();
    refreshSimulator();
  },
});
