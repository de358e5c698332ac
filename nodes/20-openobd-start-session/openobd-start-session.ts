import type { Node, NodeAPI, NodeDef } from 'node-red';
import { ensureContext, evaluate, requireText } from '../lib/flow';
import { flowNodeKit, onInput, requireAccount } from '../lib/flow-node';

interface StartDef extends NodeDef {
  account: string;
  targetType: 'ticket' | 'connector';
  target: string;
  targetSource: string;
}

/**
 * "start session": starts an openOBD session on a ticket or a connector, claims it and starts its hidden
 * keepalive; sends the session context on as plain data in msg.openobd.
 */
export function register(RED: NodeAPI): void {
  function OpenObdStartSessionNode(this: Node, def: StartDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const kit = flowNodeKit(RED, node, def.account);
    const targetType = def.targetType === 'connector' ? 'connector' : 'ticket';

    onInput(node, kit, async (msg, send) => {
      const account = requireAccount(kit);
      const raw = await evaluate(RED, node, def.target ?? '', def.targetSource || 'str', msg);
      const id = requireText(raw, targetType === 'ticket' ? 'ticket id' : 'connector id');
      kit.status.show({ fill: 'yellow', shape: 'ring', text: 'openobd.status.starting' });
      const live = await account.runtime.startSession(targetType === 'ticket' ? { ticketId: id } : { connectorId: id });
      const ctx = ensureContext(msg);
      ctx.sessionId = live.id;
      ctx.state = live.session.state;
      ctx.createdAt = live.session.createdAt;
      delete ctx.ticketId;
      delete ctx.connectorId;
      Object.assign(ctx, live.target);
      kit.status.followSession(live.id);
      send(msg);
    });
  }
  RED.nodes.registerType('openobd-start-session', OpenObdStartSessionNode);
}
