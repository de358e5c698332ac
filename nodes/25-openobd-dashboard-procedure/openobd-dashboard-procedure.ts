import type { Node, NodeAPI, NodeDef, NodeStatus } from 'node-red';
import { isOpenObdError, type FunctionCall, type HostedFunction, type HostedState } from '../../client';
import { accountOf } from '../lib/accounts';
import type { OpenObdMsg } from '../lib/flow';
import {
  identityFromDraft,
  listProcedures,
  removeProcedure,
  setProcedure,
  type AccountDraft,
  type DraftDefaults,
  type LocalProcedure,
} from '../lib/procedures';
import { errorStatus, type Translate } from '../lib/status';

interface ProcedureDef extends NodeDef {
  account: string;
  functionName: string;
  description: string;
  version: string;
  visibility: 'dashboard' | 'internal';
}

interface ProcedureCredentials {
  functionId?: string;
  signature?: string;
}

/** How long to wait before trying again when the broker could not be reached to get an identity. */
const IDENTITY_RETRY_MS = 15_000;

function stateStatus(state: HostedState, t: Translate, runs: number): NodeStatus {
  switch (state) {
    case 'online':
      return {
        fill: 'green',
        shape: 'dot',
        text: runs > 0 ? t('openobd.procedure.status.onlineRuns', { count: runs }) : 'openobd.procedure.status.online',
      };
    case 'registering':
      return { fill: 'yellow', shape: 'ring', text: 'openobd.procedure.status.registering' };
    case 'reconnecting':
      return { fill: 'yellow', shape: 'ring', text: 'openobd.procedure.status.reconnecting' };
    case 'offline':
      return { fill: 'grey', shape: 'ring', text: 'openobd.procedure.status.offline' };
    case 'unauthorized':
      return { fill: 'red', shape: 'ring', text: 'openobd.procedure.status.unauthorized' };
    case 'failed':
      return { fill: 'red', shape: 'ring', text: 'openobd.procedure.status.failed' };
  }
}

/**
 * "dashboard procedure": hosts the flow as an openOBD function on the account's function broker
 * (openOBD documentation, "Function broker"): it shows in the ticket dashboard (or is called by other
 * functions), and when someone runs it, it sends a message with the session it was handed, claimed and
 * kept alive, into the flow. The function id and signature are generated once (by the edit dialog, else
 * on deploy) and kept as the node's credentials; finishing the session (the finish node) ends only the
 * function's context.
 */
export function register(RED: NodeAPI): void {
  function OpenObdDashboardProcedureNode(this: Node<ProcedureCredentials>, def: ProcedureDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const t = RED._.bind(RED) as Translate;
    const account = accountOf(RED, def.account);
    const name = (def.functionName || def.name || '').trim();
    const local: LocalProcedure = {
      nodeId: node.id,
      accountId: def.account,
      name,
      functionId: this.credentials?.functionId,
      state: 'registering',
    };
    setProcedure(local);
    let hosted: HostedFunction | undefined;
    let closed = false;
    let retry: NodeJS.Timeout | undefined;
    let runs = 0;
    const show = (status: NodeStatus) => {
      if (!closed) node.status(status);
    };

    const onCall = (call: FunctionCall): void => {
      if (closed || !account) return;
      runs += 1;
      const live = account.runtime.adoptSession(call.session, { functionId: call.functionId });
      const msg: OpenObdMsg = {
        _msgid: RED.util.generateId(),
        payload: call.arguments,
        openobd: {
          sessionId: live.id,
          state: call.session.state,
          createdAt: call.session.createdAt,
          functionId: call.functionId,
          callerId: call.callerId,
          arguments: call.arguments,
        },
      };
      if (hosted) show(stateStatus(hosted.state, t, runs));
      node.send(msg);
    };

    async function start(): Promise<void> {
      if (!account) {
        show({ fill: 'red', shape: 'ring', text: 'openobd.procedure.status.noAccount' });
        return;
      }
      if (!name) {
        show({ fill: 'red', shape: 'ring', text: 'openobd.procedure.status.noName' });
        return;
      }
      show({ fill: 'yellow', shape: 'ring', text: 'openobd.procedure.status.registering' });
      const broker = await account.runtime.functionBroker();
      let id = node.credentials?.functionId?.trim();
      let signature = node.credentials?.signature;
      if (!id || !signature) {
        /*
         * The edit dialog puts an identity into the node before its first deploy, so that deploy saves it.
         * Without one (flows set through the admin API, or the broker was unreachable from the dialog) it is
         * made here: Node-RED keeps it in its credentials and writes it to disk with the next deploy only.
         */
        const identity = await broker.generateSignature();
        // Replaced by a deploy meanwhile: the node that took its place has or makes its own identity.
        if (closed) return;
        id = identity.id;
        signature = identity.signature.reveal();
        await RED.nodes.addCredentials(node.id, { functionId: id, signature });
        node.log(t('openobd.procedure.log.newIdentity', { id }));
      }
      if (closed) return;
      local.functionId = id;
      hosted = broker.host(
        {
          id,
          signature,
          name,
          version: def.version?.trim() || '1.0',
          description: def.description?.trim() || undefined,
          visibility: def.visibility === 'internal' ? 'internal' : 'dashboard',
        },
        onCall,
      );
      hosted.on('state', (state: HostedState, reason: string) => {
        local.state = state;
        show(stateStatus(state, t, runs));
        if (state === 'unauthorized' || state === 'failed') node.warn(t('openobd.procedure.log.refused', { name, reason }));
      });
      show(stateStatus(hosted.state, t, runs));
    }

    const attempt = () => {
      start().catch((err: unknown) => {
        if (closed) return;
        const code = isOpenObdError(err) ? err.code : 'UNKNOWN';
        show(errorStatus(code, t));
        node.warn(t('openobd.procedure.log.cannotHost', { name, reason: err instanceof Error ? err.message : String(err) }));
        // openOBD unreachable or the account not ready yet: try again later, without a redeploy.
        retry = setTimeout(attempt, IDENTITY_RETRY_MS);
        retry.unref();
      });
    };
    attempt();

    node.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      if (retry) clearTimeout(retry);
      removeProcedure(node.id, local);
      const stopping = hosted?.stop() ?? Promise.resolve();
      void stopping
        .catch(() => undefined)
        .then(() => {
          node.status({});
          done();
        });
    });
  }

  const canRead = RED.auth.needsPermission('openobd-account.read');
  // Node-RED's convention for a node type's admin endpoints (the inject button needs inject.write).
  const canWrite = RED.auth.needsPermission('openobd-dashboard-procedure.write');
  const settings = RED.settings as unknown as {
    openobdAccountSimulator?: DraftDefaults['simulator'];
    openobdAccountSession?: DraftDefaults['session'];
    openobdAccountFunctionBroker?: DraftDefaults['functionBroker'];
  };
  const getSetting = (RED.util as unknown as { getSetting(node: null, name: string): string | undefined }).getSetting;

  /*
   * A new function id and signature for the edit dialog, which puts them into the node's credentials when the
   * node is added (import, paste, palette) or first edited: the first deploy then saves them. The signature
   * goes only to an editor allowed to write this node type; it is never logged.
   */
  RED.httpAdmin.post('/openobd/procedures/identity', canWrite, (req, res) => {
    const body = (req.body ?? {}) as { account?: unknown; node?: unknown; draft?: AccountDraft };
    const nodeId = typeof body.node === 'string' ? body.node : '';
    // A node this runtime already has an identity for (an import that replaced it) keeps it.
    const kept = nodeId ? (RED.nodes.getCredentials(nodeId) as ProcedureCredentials | undefined) : undefined;
    if (kept?.functionId && kept.signature) {
      res.json({ functionId: kept.functionId, kept: true });
      return;
    }
    const account = accountOf(RED, typeof body.account === 'string' ? body.account : '');
    const draft = body.draft && typeof body.draft === 'object' ? body.draft : undefined;
    if (!account && !draft) {
      res.status(409).json({ error: 'No account: choose the account first' });
      return;
    }
    const made = account
      ? account.runtime
          .functionBroker()
          .then((broker) => broker.generateSignature())
          .then((identity) => ({ functionId: identity.id, signature: identity.signature.reveal() }))
      : identityFromDraft(
          draft!,
          {
            simulator: settings.openobdAccountSimulator,
            session: settings.openobdAccountSession,
            functionBroker: settings.openobdAccountFunctionBroker,
          },
          (name) => getSetting(null, name),
        );
    made.then(
      (identity) => res.json(identity),
      (err: unknown) => res.status(502).json({ error: err instanceof Error ? err.message : String(err) }),
    );
  });

  // The procedures this Node-RED hosts (ids and states, no signature), for the call procedure node.
  RED.httpAdmin.get('/openobd/procedures', canRead, (_req, res) => {
    res.json(
      listProcedures().map((p) => ({ nodeId: p.nodeId, name: p.name, functionId: p.functionId, state: p.state, account: p.accountId })),
    );
  });

  RED.nodes.registerType<Node<ProcedureCredentials>, ProcedureDef, unknown, ProcedureCredentials>(
    'openobd-dashboard-procedure',
    OpenObdDashboardProcedureNode,
    { credentials: { functionId: { type: 'text' }, signature: { type: 'password' } } },
  );
}
