import type { Node, NodeAPI, NodeDef } from 'node-red';
import { summarize } from '../../client';
import { ensureContext } from '../lib/flow';
import { flowNodeKit, onInput, requireAccount, sessionIdFrom } from '../lib/flow-node';

interface InterruptDef extends NodeDef {
  account: string;
  sessionId: string;
  sessionIdSource: string;
}

/**
 * "interrupt": ends a session through the session controller (state `interrupted`), e.g. to free a
 * connector held by a session that was never finished. The id comes from the node or msg.openobd.
 */
export function register(RED: NodeAPI): void {
  function OpenObdInterruptNode(this: Node, def: InterruptDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const kit = flowNodeKit(RED, node, def.account);

    onInput(node, kit, async (msg, send) => {
      const account = requireAccount(kit);
      const id = await sessionIdFrom(RED, node, def.sessionId, def.sessionIdSource, msg);
      const info = await account.runtime.interruptSession(id);
      const ctx = ensureContext(msg);
      ctx.sessionId = info.id;
      ctx.state = info.state;
      ctx.createdAt = info.createdAt;
      msg.payload = summarize(info);
      kit.status.show({ fill: 'grey', shape: 'ring', text: kit.t('openobd.status.ended', { id: info.id.slice(0, 8), state: info.state }) });
      send(msg);
    });
  }
  RED.nodes.registerType('openobd-interrupt', OpenObdInterruptNode);
}
