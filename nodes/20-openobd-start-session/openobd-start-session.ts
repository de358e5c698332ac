import type { Node, NodeAPI, NodeDef } from 'node-red';
import { DEFAULT_WAIT_MS, type Holder, type IfHeld } from '../lib/account-runtime';
import { ensureContext, evaluate, requireText } from '../lib/flow';
import { flowNodeKit, onInput, requireAccount } from '../lib/flow-node';

interface StartDef extends NodeDef {
  account: string;
  targetType: 'ticket' | 'connector';
  target: string;
  targetSource: string;
  /** When a run already holds a session on the ticket or connector (default: wait for it). 'reuse' is the old name of 'share'. */
  ifHeld?: IfHeld | 'reuse';
  /** How long 'wait' waits for the run that holds the vehicle, in seconds (blank: 120). */
  waitSeconds?: string | number;
}

const IF_HELD: readonly IfHeld[] = ['wait', 'fail', 'share', 'restart'];

/** The choice as saved → what it does: flows saved before 'share' existed call it 'reuse'. */
export function ifHeldOf(saved: unknown): IfHeld {
  if (saved === 'reuse') return 'share';
  return IF_HELD.includes(saved as IfHeld) ? (saved as IfHeld) : 'wait';
}

function waitMsOf(seconds: unknown): number {
  const n = Number(seconds);
  return seconds === undefined || seconds === '' || !Number.isFinite(n) || n < 0 ? DEFAULT_WAIT_MS : Math.round(n * 1000);
}

/**
 * "start session": starts an openOBD session on a ticket or a connector for this message's run, claims it
 * and starts its hidden keepalive; sends the session context on as plain data in msg.openobd. A run is
 * one message's way from here to the finish or interrupt that ends its session: until then the session
 * is that run's, and another message that wants the vehicle waits for it (or fails, or shares it, as set).
 */
export function register(RED: NodeAPI): void {
  function OpenObdStartSessionNode(this: Node, def: StartDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const kit = flowNodeKit(RED, node, def.account);
    const targetType = def.targetType === 'connector' ? 'connector' : 'ticket';
    const ifHeld = ifHeldOf(def.ifHeld);
    const waitMs = waitMsOf(def.waitSeconds);
    const getSetting = (RED.util as unknown as { getSetting(node: Node, name: string): string | undefined }).getSetting;
    // Waits end when the node stops (a deploy), so no message lingers for a node that is gone.
    const stopping = new AbortController();
    node.on('close', (removed: boolean, done: () => void) => {
      stopping.abort();
      // Deleted: no run of this node can reach its finish any more, so its sessions end now (a redeploy of
      // the node keeps them: the new node has the same id and its runs go on).
      if (!removed || !kit.account) return done();
      void kit.account.runtime.endRunsOf(node.id, 'its start session node was deleted').finally(done);
    });

    onInput(node, kit, async (msg, send) => {
      const account = requireAccount(kit);
      const raw = await evaluate(RED, node, def.target ?? '', def.targetSource || 'str', msg);
      const id = requireText(raw, targetType === 'ticket' ? 'ticket id' : 'connector id');
      kit.status.show({ fill: 'yellow', shape: 'ring', text: 'openobd.status.starting' });
      const { live, reused } = await account.runtime.startSession(targetType === 'ticket' ? { ticketId: id } : { connectorId: id }, {
        ifHeld,
        waitMs,
        owner: { nodeId: node.id, flowId: node.z, flowName: getSetting(node, 'NR_FLOW_NAME') || undefined, share: ifHeld === 'share' },
        signal: stopping.signal,
        onWait: (holder: Holder) =>
          kit.status.show({
            fill: 'yellow',
            shape: 'ring',
            text: kit.t(holder.flowName && !holder.sameNode ? 'openobd.status.waitingForFlow' : 'openobd.status.waitingFor', {
              what: holder.what,
              flow: holder.flowName ?? '',
            }),
          }),
      });
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
