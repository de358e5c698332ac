import type { Node, NodeAPI, NodeDef } from 'node-red';
import { summarize } from '../../client';
import { registry } from '../lib/registry';
import { flowNodeKit, onInput, requireAccount, sessionIdFrom } from '../lib/flow-node';

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
export function register(RED: NodeAPI): void {
  function OpenObdSessionInfoNode(this: Node, def: InfoDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const kit = flowNodeKit(RED, node, def.account);
    const action = def.action === 'list' ? 'list' : 'get';

    onInput(node, kit, async (msg, send) => {
      const account = requireAccount(kit);
      if (action === 'list') {
        const sessions = await account.runtime.listSessions();
        msg.payload = sessions.map(describe);
        kit.status.show({ fill: 'green', shape: 'dot', text: kit.t('openobd.status.listed', { count: sessions.length }) });
      } else {
        const info = await account.runtime.getSession(await sessionIdFrom(RED, node, def.sessionId, def.sessionIdSource, msg));
        msg.payload = describe(info);
        kit.status.show({ fill: 'green', shape: 'dot', text: `${info.id.slice(0, 8)}: ${info.state}` });
      }
      send(msg);
    });
  }
  RED.nodes.registerType('openobd-session-info', OpenObdSessionInfoNode);
}
