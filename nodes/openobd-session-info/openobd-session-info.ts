import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { summarize } from '../../client/session-info';
import { accountOf } from '../openobd-account/openobd-account';
import { registry } from '../lib/registry';
import { evaluate, FlowError, requireText, toFlowError, type OpenObdMsg } from '../lib/flow';
import { errorStatus } from '../lib/status';
import { StatusTracker } from '../lib/status-tracker';

interface InfoDef extends NodeDef {
  account: string;
  action: 'get' | 'list';
  sessionId: string;
  sessionIdSource: string;
}

/** Plain data about a session: openOBD's view plus whether this Node-RED holds it. */
function describe(info: { id: string; state: string; createdAt: string }) {
  const live = registry.get(info.id);
  return { ...summarize(info), heldHere: !!live, keepalive: live ? live.session.keepaliveHealth : undefined };
}

/** "session info": one session (get) or every recent session of the partner (list), as openOBD reports them. */
export function registerSessionInfo(RED: NodeAPI): void {
  function OpenObdSessionInfoNode(this: Node, def: InfoDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const t = RED._.bind(RED) as (k: string, s?: Record<string, unknown>) => string;
    const status = new StatusTracker(node, t);
    const account = accountOf(RED, def.account);
    status.followAccount(account?.runtime);
    const action = def.action === 'list' ? 'list' : 'get';

    node.on('input', (msg: NodeMessageInFlow, send: (m: NodeMessageInFlow) => void, done: (err?: Error) => void) => {
      const m = msg as OpenObdMsg;
      const run = async () => {
        if (!account) throw new FlowError('BAD_CONFIG', 'No openOBD account is selected, or it is not deployed');
        if (action === 'list') {
          const sessions = await account.runtime.listSessions();
          m.payload = sessions.map(describe);
          status.show({ fill: 'green', shape: 'dot', text: t('openobd.status.listed', { count: sessions.length }) });
        } else {
          const raw = def.sessionId ? await evaluate(RED, node, def.sessionId, def.sessionIdSource || 'str', msg) : m.openobd?.sessionId;
          if (raw === undefined) throw new FlowError('NO_SESSION', 'No session id: set one in the node or send msg.openobd.sessionId');
          const info = await account.runtime.getSession(requireText(raw, 'session id'));
          m.payload = describe(info);
          status.show({ fill: 'green', shape: 'dot', text: `${info.id.slice(0, 8)}: ${info.state}` });
        }
        send(msg);
      };
      run().then(
        () => done(),
        (err: unknown) => {
          const e = toFlowError(err);
          status.show(errorStatus(e.code, t));
          done(e);
        },
      );
    });
    node.on('close', () => status.close());
  }
  RED.nodes.registerType('openobd-session-info', OpenObdSessionInfoNode);
}
