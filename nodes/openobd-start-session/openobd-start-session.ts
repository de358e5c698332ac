import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { accountOf } from '../openobd-account/openobd-account';
import { ensureContext, evaluate, FlowError, requireText, toFlowError, type OpenObdMsg } from '../lib/flow';
import { errorStatus } from '../lib/status';
import { StatusTracker } from '../lib/status-tracker';

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
export function registerStartSession(RED: NodeAPI): void {
  function OpenObdStartSessionNode(this: Node, def: StartDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const t = RED._.bind(RED) as (k: string, s?: Record<string, unknown>) => string;
    const status = new StatusTracker(node, t);
    const account = accountOf(RED, def.account);
    status.followAccount(account?.runtime);
    const targetType = def.targetType === 'connector' ? 'connector' : 'ticket';

    node.on('input', (msg: NodeMessageInFlow, send: (m: NodeMessageInFlow) => void, done: (err?: Error) => void) => {
      const m = msg as OpenObdMsg;
      const run = async () => {
        if (!account) throw new FlowError('BAD_CONFIG', 'No openOBD account is selected, or it is not deployed');
        const raw = await evaluate(RED, node, def.target ?? '', def.targetSource || 'str', msg);
        const id = requireText(raw, targetType === 'ticket' ? 'ticket id' : 'connector id');
        status.show({ fill: 'yellow', shape: 'ring', text: t('openobd.status.starting') });
        const live = await account.runtime.startSession(targetType === 'ticket' ? { ticketId: id } : { connectorId: id });
        const ctx = ensureContext(m);
        ctx.sessionId = live.id;
        ctx.state = live.session.state;
        ctx.createdAt = live.session.createdAt;
        delete ctx.ticketId;
        delete ctx.connectorId;
        Object.assign(ctx, live.target);
        status.followSession(live.id);
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
  RED.nodes.registerType('openobd-start-session', OpenObdStartSessionNode);
}
