import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { IfHeld } from '../lib/account-runtime';
import { ensureContext, evaluate, requireText } from '../lib/flow';
import { flowNodeKit, onInput, requireAccount } from '../lib/flow-node';

interface StartDef extends NodeDef {
  account: string;
  targetType: 'ticket' | 'connector';
  target: string;
  targetSource: string;
  /** When this Node-RED already holds a session on the ticket or connector (default: reuse it). */
  ifHeld?: IfHeld;
}

const IF_HELD: readonly IfHeld[] = ['reuse', 'restart', 'fail'];

/**
 * "start session": starts an openOBD session on a ticket or a connector, claims it and starts its hidden
 * keepalive; sends the session context on as plain data in msg.openobd. A session this Node-RED already
 * holds on the same vehicle is reused by default (or ended and started anew, or refused).
 */
export function register(RED: NodeAPI): void {
  function OpenObdStartSessionNode(this: Node, def: StartDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const kit = flowNodeKit(RED, node, def.account);
    const targetType = def.targetType === 'connector' ? 'connector' : 'ticket';
    const ifHeld: IfHeld = IF_HELD.includes(def.ifHeld as IfHeld) ? (def.ifHeld as IfHeld) : 'reuse';

    onInput(node, kit, async (msg, send) => {
      const account = requireAccount(kit);
      const raw = await evaluate(RED, node, def.target ?? '', def.targetSource || 'str', msg);
      const id = requireText(raw, targetType === 'ticket' ? 'ticket id' : 'connector id');
      kit.status.show({ fill: 'yellow', shape: 'ring', text: 'openobd.status.starting' });
      const { live, reused } = await account.runtime.startSession(targetType === 'ticket' ? { ticketId: id } : { connectorId: id }, ifHeld);
      const ctx = ensureContext(msg);
      ctx.sessionId = live.id;
      ctx.state = live.session.state;
      ctx.createdAt = live.session.createdAt;
      ctx.reused = reused;
      delete ctx.ticketId;
      delete ctx.connectorId;
      Object.assign(ctx, live.target);
      kit.status.followSession(live.id, !reused);
      if (reused) kit.status.show({ fill: 'green', shape: 'dot', text: kit.t('openobd.status.reusing', { id: live.id.slice(0, 8) }) });
      send(msg);
    });
  }
  RED.nodes.registerType('openobd-start-session', OpenObdStartSessionNode);
}
