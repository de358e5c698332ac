/** The credentials a dashboard procedure keeps: its function id and signature on the broker. */
interface ProcedureCredentials {
  functionId?: string;
  signature?: string;
  has_signature?: boolean;
}

/** A dashboard procedure as the editor holds it. */
type ProcedureNode = RedNode<{ account?: string; credentials?: ProcedureCredentials }>;

/** What POST openobd/procedures/identity answers (nodes/lib/admin-routes.ts). */
interface ProcedureIdentity {
  functionId: string;
  signature: string;
  /** The runtime keeps an identity for this node id already. */
  kept?: boolean;
}

(function () {
  /*
   * A procedure's function id and signature come from the account's function broker when the node is added
   * (import, paste, palette) or first edited, and go into its credentials: the first deploy saves them, as
   * Node-RED saves credentials only when flows are deployed. Requests under way, by node id:
   */
  const pending: Record<string, JQuery.jqXHR<ProcedureIdentity> | undefined> = {};
  const heldDeploys: unknown[][] = [];
  let deployFlows: ((...args: unknown[]) => void) | undefined;
  const WAIT_MS = 10000;

  function anyPending() {
    return Object.keys(pending).length > 0;
  }

  // A deploy while an identity is on its way waits for it, so that it saves the identity (at most WAIT_MS).
  function holdDeploys() {
    if (deployFlows) return;
    deployFlows = RED.actions.get('core:deploy-flows');
    RED.actions.remove('core:deploy-flows');
    RED.actions.add('core:deploy-flows', function (...args: unknown[]) {
      heldDeploys.push(args);
    });
  }
  function releaseDeploys() {
    if (anyPending() || !deployFlows) return;
    const run = deployFlows;
    deployFlows = undefined;
    RED.actions.remove('core:deploy-flows');
    RED.actions.add('core:deploy-flows', run);
    const held = heldDeploys.splice(0);
    if (held.length) run(...held[0]);
  }
  // The Deploy button calls the deploy directly, not through the action: hold its click the same way.
  document.addEventListener(
    'click',
    function (e) {
      const target = e.target as Element | null;
      if (!anyPending() || !target || !target.closest || !target.closest('#red-ui-header-button-deploy')) return;
      e.preventDefault();
      e.stopImmediatePropagation();
      RED.actions.invoke('core:deploy-flows');
    },
    true,
  );

  // The account as the editor holds it: the runtime uses it when the account is not deployed yet.
  function draftOf(accountId: string) {
    const account = RED.nodes.node(accountId);
    if (!account) return undefined;
    const draft: Record<string, unknown> = {
      mode: account.mode,
      host: account.host,
      port: account.port,
      tls: account.tls,
      allowInsecure: account.allowInsecure,
      clusterId: account.clusterId,
      clusterIdType: account.clusterIdType,
    };
    // Credentials typed in and not deployed yet (a deployed account is used as it runs).
    const typed: Record<string, unknown> = account.credentials || {};
    ['clientId', 'clientSecret', 'ca'].forEach(function (key) {
      if (typeof typed[key] === 'string' && typed[key] && typed[key] !== '__PWRD__') draft[key] = typed[key];
    });
    return draft;
  }

  function requestIdentity(nodeId: string | undefined, accountId: string): JQuery.jqXHR<ProcedureIdentity> {
    return $.ajax('openobd/procedures/identity', {
      method: 'POST',
      contentType: 'application/json',
      dataType: 'json',
      timeout: WAIT_MS,
      data: JSON.stringify({ account: accountId, node: nodeId, draft: draftOf(accountId) }),
    });
  }

  function hasIdentity(node: ProcedureNode) {
    return !!(node.credentials && node.credentials.functionId);
  }

  // On add: an identity for the node, unless it has one (or the runtime keeps one for its id).
  function identifyAdded(node: ProcedureNode) {
    if (hasIdentity(node) || pending[node.id] || !node.account) return;
    holdDeploys();
    const request = requestIdentity(node.id, node.account);
    pending[node.id] = request;
    request
      .done(function (data: ProcedureIdentity) {
        if (data.kept || hasIdentity(node)) return;
        node.credentials = $.extend(node.credentials || {}, {
          functionId: data.functionId,
          signature: data.signature,
          has_signature: true,
        });
        node.changed = true;
        RED.nodes.dirty(true);
      })
      .always(function () {
        delete pending[node.id];
        releaseDeploys();
      });
  }

  // onadd runs only for nodes placed with the mouse (the palette, an import into the current flow); an
  // import that brings its own tab adds its nodes without it, so added nodes are watched too. Nodes the
  // editor loads from the runtime are deployed already: they keep theirs.
  let loaded = false;
  RED.events.on('flows:loaded', function () {
    loaded = true;
  });
  RED.events.on('nodes:add', function (node: ProcedureNode | undefined) {
    if (loaded && node && node.type === 'openobd-dashboard-procedure') identifyAdded(node);
  });

  RED.nodes.registerType<{
    name: string;
    account: string;
    functionName: string;
    version: string;
    description: string;
    visibility: string;
  }>('openobd-dashboard-procedure', {
    category: 'openOBD',
    color: '#8FB9C9',
    icon: 'openobd-procedure.svg',
    inputs: 0,
    outputs: 1,
    defaults: {
      name: { value: '' },
      account: { value: '', type: 'openobd-account', required: true },
      functionName: {
        value: '',
        validate: function (v, _opt) {
          const s = String(v || '').trim();
          if (!s) {
            return OpenObdEditor.t('openobd.procedure.validation.name');
          }
          return s.length <= 200 ? true : OpenObdEditor.t('openobd.procedure.validation.nameLong');
        },
      },
      version: { value: '1.0' },
      description: { value: '' },
      visibility: {
        value: 'dashboard',
        validate: function (v, _opt) {
          return v === 'dashboard' || v === 'internal' ? true : OpenObdEditor.t('openobd.procedure.validation.visibility');
        },
      },
    },
    credentials: {
      functionId: { type: 'text' },
      signature: { type: 'password' },
    },
    // Node-RED 5 looks the description up with RED._ when it shows it, so it is a key of this node set's catalog.
    categoryDescription: '@obdflow/node-red-openobd/openobd:openobd.category',
    paletteLabel: OpenObdEditor.label('openobd.paletteLabel.procedure'),
    outputLabels: OpenObdEditor.label('openobd.procedure.outputLabels.run'),
    label: function () {
      return this.name || this.functionName || this._('openobd.procedure.nodeLabel');
    },
    labelStyle: OpenObdEditor.italicWhenNamed,
    onadd: function () {
      identifyAdded(this);
    },
    oneditprepare: function () {
      const node = this;
      const $id = $('#node-input-functionId');
      const $signature = $('#node-input-signature');
      const $account = $('#node-input-account');
      const $note = $('#openobd-procedure-identity-note');
      let asking = false;
      if (!$('#node-input-visibility').val()) {
        $('#node-input-visibility').val('dashboard');
      }
      function chosenAccount() {
        const account = String($account.val() || '');
        return account && account !== '_ADD_' ? account : '';
      }
      function showNote(failure?: string) {
        if (String($id.val() || '').trim()) {
          $note.text(node._('openobd.procedure.identity.kept'));
        } else if (asking) {
          $note.text(node._('openobd.procedure.identity.asking'));
        } else if (failure) {
          $note.text(node._('openobd.procedure.identity.onDeploy', { reason: failure }));
        } else {
          $note.text(node._('openobd.procedure.identity.noAccount'));
        }
      }
      // forNode: an identity for this node (the runtime may keep one for its id); without: always a new one.
      function ask(forNode: boolean) {
        const account = chosenAccount();
        if (!account || asking) return undefined;
        asking = true;
        showNote();
        return requestIdentity(forNode ? node.id : undefined, account)
          .done(function (data: ProcedureIdentity) {
            $id.val(data.functionId);
            if (!data.kept) $signature.val(data.signature);
          })
          .always(function () {
            asking = false;
          });
      }
      // First edit of a node without an identity (added without an account, or the broker was unreachable).
      function askIfNone() {
        if (String($id.val() || '').trim()) return;
        const underWay = pending[node.id];
        if (underWay) {
          // Still on its way since the node was added: shown when it comes.
          asking = true;
          showNote();
          underWay.always(function () {
            asking = false;
            if (!String($id.val() || '').trim() && hasIdentity(node)) {
              const saved = node.credentials as ProcedureCredentials;
              $id.val(saved.functionId ?? '');
              $signature.val(saved.signature ?? '');
            }
            showNote();
          });
          return;
        }
        const asked = ask(true);
        if (asked) {
          asked.then(
            function () {
              showNote();
            },
            function (xhr: JQuery.jqXHR) {
              showNote(OpenObdEditor.failureReason(xhr));
            },
          );
        }
      }
      $('#openobd-procedure-identity-new').on('click', function (e) {
        e.preventDefault();
        if (!chosenAccount()) {
          RED.notify(node._('openobd.procedure.identity.noAccount'), 'warning');
          return;
        }
        const asked = ask(false);
        if (asked) {
          asked.then(
            function () {
              showNote();
            },
            function (xhr: JQuery.jqXHR) {
              showNote();
              RED.notify(node._('openobd.procedure.identity.failed', { reason: OpenObdEditor.failureReason(xhr) }), 'error');
            },
          );
        }
      });
      $id.on('change', function () {
        showNote();
      });
      $account.on('change', askIfNone);
      showNote();
      askIfNone();
    },
  });
})();
