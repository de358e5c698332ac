RED.nodes.registerType('openobd-account', {
  category: 'config',
  color: '#8FB9C9',
  icon: 'openobd-account.svg',
  defaults: {
    name: { value: '' },
    mode: {
      value: 'simulator',
      validate: OpenObdEditor.oneOf(['simulator', 'cloud', 'custom'], 'openobd.validation.mode'),
    },
    host: {
      value: '',
      validate: function (v, _opt) {
        const E = OpenObdEditor;
        if (E.field(this, 'mode') !== 'custom') {
          return true;
        }
        const host = String(v || '').trim();
        if (!host) {
          return E.t('openobd.validation.hostRequired');
        }
        if (/^[a-z][a-z0-9+.-]*:\/\//i.test(host)) {
          return E.t('openobd.validation.hostScheme');
        }
        if (/^\[.*\]$/.test(host)) {
          return E.t('openobd.validation.hostBrackets');
        }
        if (/^[^:]+:\d*$/.test(host)) {
          return E.t('openobd.validation.hostPort');
        }
        if (/[\s/?#@]/.test(host)) {
          return E.t('openobd.validation.hostChars');
        }
        const tls = E.field(this, 'tls') !== false;
        const allowInsecure = E.field(this, 'allowInsecure') === true;
        if (!tls && !allowInsecure && !E.isLoopbackHost(host)) {
          return E.t('openobd.validation.insecure', { host: host });
        }
        return true;
      },
    },
    port: {
      value: 443,
      validate: function (v, opt) {
        if (OpenObdEditor.field(this, 'mode') !== 'custom') {
          return true;
        }
        return OpenObdEditor.wholeNumber(1, 65535, 'openobd.validation.port').call(this, v, opt);
      },
    },
    tls: { value: true },
    allowInsecure: { value: false },
    clusterId: {
      value: '001',
      validate: function (v, opt) {
        const E = OpenObdEditor;
        if (E.field(this, 'mode') === 'simulator') {
          return true;
        }
        const type = E.field(this, 'clusterIdType') || 'cluster';
        if (type === 'env') {
          return E.optionalTyped('clusterIdType').call(this, v, opt);
        }
        const s = String(v || '').trim();
        return s === '' || /^[A-Za-z0-9._-]{1,32}$/.test(s) ? true : E.t('openobd.validation.clusterId');
      },
    },
    clusterIdType: { value: 'cluster' },
    idleMinutes: {
      value: 5,
      validate: function (v, opt) {
        const s = String(v === undefined || v === null ? '' : v).trim();
        if (s === '') {
          return true;
        }
        const isNumber = RED.validators.number(true).call(this, s, opt);
        if (isNumber !== true) {
          return isNumber;
        }
        return Number(s) >= 0 ? true : OpenObdEditor.t('openobd.validation.idleMinutes');
      },
    },
    closePolicy: {
      value: 'interrupt',
      validate: function (v, _opt) {
        return v === 'interrupt' || v === 'finish' ? true : OpenObdEditor.t('openobd.validation.closePolicy');
      },
    },
  },
  credentials: {
    clientId: { type: 'text' },
    clientSecret: { type: 'password' },
    ca: { type: 'text' },
  },
  paletteLabel: OpenObdEditor.label('openobd.paletteLabel.account'),
  label: function () {
    if (this.name) {
      return this.name;
    }
    if (this.mode === 'cloud') {
      return this._('openobd.nodeLabel.accountCloud', { cluster: this.clusterId || '001' });
    }
    if (this.mode === 'custom') {
      return this.host ? this.host + ':' + (this.port || 443) : this._('openobd.nodeLabel.accountCustom');
    }
    return this._('openobd.nodeLabel.accountSimulator');
  },
  oneditprepare: function () {
    const node = this;
    const E = OpenObdEditor;

    const $mode = $('#node-config-input-mode');
    const $tls = $('#node-config-input-tls');
    const $allow = $('#node-config-input-allowInsecure');
    const $host = $('#node-config-input-host');
    const $cluster = $('#node-config-input-clusterId');

    if (!$mode.val()) {
      $mode.val('simulator');
    }

    function update() {
      const mode = $mode.val();
      const custom = mode === 'custom';
      const tls = $tls.prop('checked');
      $('.openobd-account-custom').toggle(custom);
      $('.openobd-account-credentials').toggle(mode !== 'simulator');
      $('.openobd-account-tip-simulator').toggle(mode === 'simulator');
      $('.openobd-account-tip-cloud').toggle(mode === 'cloud');
      $('.openobd-account-insecure').toggle(custom && !tls);
      const host = String($host.val() || '').trim();
      $('.openobd-account-tip-insecure').toggle(custom && !tls && $allow.prop('checked') && host !== '' && !E.isLoopbackHost(host));
    }

    // Cluster: 001 Europe or 002 USA from a list, any other id as text (blank: OPENOBD_CLUSTER_ID, else
    // 001), or an environment variable. An id the list does not have opens as text.
    const $clusterType = $('#node-config-input-clusterIdType');
    const clusters = ['001', '002'];
    if ((!$clusterType.val() || $clusterType.val() === 'cluster') && clusters.indexOf(String($cluster.val() || '').trim()) < 0) {
      $clusterType.val('str');
    }
    $cluster.typedInput({
      default: 'cluster',
      typeField: '#node-config-input-clusterIdType',
      types: [
        {
          value: 'cluster',
          label: node._('openobd.label.clusterList'),
          icon: 'fa fa-map-marker',
          options: clusters.map(function (id) {
            return { value: id, label: node._('openobd.cluster.' + id) };
          }),
        },
        { value: 'str', label: node._('openobd.cluster.other'), icon: 'red/images/typedInput/az.svg' },
        'env',
      ],
    });

    $mode.on('change', update);
    $tls.on('change', update);
    $allow.on('change', update);
    $host.on('change keyup', update);
    update();
  },
  oneditsave: function () {
    const $host = $('#node-config-input-host');
    $host.val(String($host.val() || '').trim());
    const $cluster = $('#node-config-input-clusterId');
    if ($('#node-config-input-clusterIdType').val() === 'str') {
      $cluster.typedInput('value', String($cluster.typedInput('value') || '').trim());
    }
  },
});
