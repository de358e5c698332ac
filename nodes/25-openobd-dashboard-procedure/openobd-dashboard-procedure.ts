import type { Node, NodeAPI, NodeDef, NodeStatus } from 'node-red';
import { isOpenObdError, type FunctionCall, type HostedFunction, type HostedState } from '../../client';
import { accountOf } from '../lib/accounts';
import type { OpenObdMsg } from '../lib/flow';
import { listProcedures, removeProcedure, setProcedure, type LocalProcedure } from '../lib/procedures';
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

let stopWatchingDeploys: (() => void) | undefined;

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
 * kept alive, into the flow. The function id and signature are generated once and kept as the node's
 * credentials; finishing the session (the finish node) ends only the function's context.
 */
export function register(RED: NodeAPI): void {
  /*
   * Node-RED writes credentials to its flows file only when flows are deployed, and an identity made
   * while this node starts comes after that write: until the next deploy, a restart would give the
   * procedure a new identity (a new button in the dashboard). The editor is told which nodes wait for
   * that deploy (a retained message per node, without the signature), and lights its Deploy button.
   */
  const unsaved = new Map<string, number>();
  const identityTopic = (nodeId: string) => `openobd/procedure-identity/${nodeId}`;
  // Flow starts so far: a node started by a deploy made its identity after that deploy's write.
  let starts = 0;
  function announceUnsaved(nodeId: string, name: string, startedIn: number): void {
    unsaved.set(nodeId, startedIn);
    RED.comms.publish(identityTopic(nodeId), { nodeId, name }, true);
  }
  // A later deploy writes the credentials Node-RED holds, these included: they no longer wait.
  const onFlowsStarted = () => {
    for (const [nodeId, startedIn] of unsaved) {
      if (startedIn >= starts) continue;
      unsaved.delete(nodeId);
      RED.comms.publish(identityTopic(nodeId), { nodeId, saved: true }, false);
    }
    starts += 1;
  };
  // Registered again (a test harness loads the package once per flow): one listener, not one per load.
  stopWatchingDeploys?.();
  RED.events.on('flows:started', onFlowsStarted);
  stopWatchingDeploys = () => RED.events.removeListener('flows:started', onFlowsStarted);

  function OpenObdDashboardProcedureNode(this: Node<ProcedureCredentials>, def: ProcedureDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const startedIn = starts;
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
        // First deploy of this node (or a copy, which has no credentials): a new identity, kept as its credentials.
        const identity = await broker.generateSignature();
        // Replaced by a deploy meanwhile: the node that took its place has or makes its own identity.
        if (closed) return;
        id = identity.id;
        signature = identity.signature.reveal();
        await RED.nodes.addCredentials(node.id, { functionId: id, signature });
        node.log(t('openobd.procedure.log.newIdentity', { id }));
        announceUnsaved(node.id, name, startedIn);
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
  const canWrite = RED.auth.needsPermission('openobd-account.write');

  // A new function id and signature from the account's function broker, for the edit dialog.
  RED.httpAdmin.post('/openobd/procedures/identity', canWrite, (req, res) => {
    const accountId = typeof req.body?.account === 'string' ? req.body.account : '';
    const account = accountOf(RED, accountId);
    if (!account) {
      res.status(409).json({ error: 'Deploy the account first: a new identity comes from its function broker' });
      return;
    }
    account.runtime
      .functionBroker()
      .then((broker) => broker.generateSignature())
      .then(
        (identity) => res.json({ functionId: identity.id, signature: identity.signature.reveal() }),
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
