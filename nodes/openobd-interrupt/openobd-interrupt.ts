import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { summarize } from '../../client/session-info';
import { accountOf } from '../openobd-account/openobd-account';
import { ensureContext, evaluate, FlowError, requireText, toFlowError, type OpenObdMsg } from '../lib/flow';
import { errorStatus } from '../lib/status';
import { StatusTracker } from '../lib/status-tracker';

interface InterruptDef extends NodeDef {
  account: string;
  sessionId: string;
  sessionIdSource: string;
}

/**
 * "interrupt": ends a session through the session controller (state `interrupted`), e.g. to free a
 * connector held by a session that was never finished. The id comes from the node or msg.openobd.
 */
export function registerInterrupt(RED: NodeAPI): void {
  function OpenObdInterruptNode(this: Node, def: InterruptDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const t = RED._.bind(RED) as (k: string, s?: Record<string, unknown>) => string;
    const status = new StatusTracker(node, t);
    const account = accountOf(RED, def.account);
    status.followAccount(account?.runtime);

    node.on('input', (msg: NodeMessageInFlow, send: (m: NodeMessageInFlow) => void, done: (err?: Error) => void) => {
      const m = msg as OpenObdMsg;
      const run = async () => {
        if (!account) throw new FlowError('BAD_CONFIG', 'No openOBD account is selected, or it is not deployed');
        const raw = def.sessionId ? await evaluate(RED, node, def.sessionId, def.sessionIdSource || 'str', msg) : m.openobd?.sessionId;
        if (raw === undefined) throw new FlowError('NO_SESSION', 'No session id: set one in the node or send msg.openobd.sessionId');
        const id = requireText(raw, 'session id');
        const info = await account.runtime.interruptSession(id);
        const ctx = ensureContext(m);
        ctx.sessionId = info.id;
        ctx.state = info.state;
        ctx.createdAt = info.createdAt;
        m.payload = summarize(info);
        status.show({ fill: 'grey', shape: 'ring', text: t('openobd.status.ended', { id: info.id.slice(0, 8), state: info.state }) });
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
  RED.nodes.registerType('openobd-interrupt', OpenObdInterruptNode);
}
