import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { OpenObdError, Terminal15State } from '../../client';
import { liveSessionOf, toFlowError, type OpenObdMsg } from '../lib/flow';
import { flowNodeKit, onInput } from '../lib/flow-node';
import { Watchers, isStopMessage } from '../lib/watchers';

interface Terminal15Def extends NodeDef {
  busName: string;
  pin: string | number;
}

const STATUS: Record<Terminal15State, { fill: 'green' | 'grey' | 'yellow'; shape: 'dot' | 'ring'; text: string }> = {
  on: { fill: 'green', shape: 'dot', text: 'openobd.status.ignitionOn' },
  off: { fill: 'grey', shape: 'dot', text: 'openobd.status.ignitionOff' },
  unknown: { fill: 'yellow', shape: 'ring', text: 'openobd.status.ignitionUnknown' },
};

/**
 * "terminal 15": follows the ignition (terminal 15) of the message's session: a message with the state
 * at once and on every change, until "stop", the session's end or a redeploy.
 */
export function register(RED: NodeAPI): void {
  function OpenObdTerminal15Node(this: Node, def: Terminal15Def) {
    RED.nodes.createNode(this, def);
    const node = this;
    const kit = flowNodeKit(RED, node);
    const bus = { kind: 'terminal15' as const, name: (def.busName || 'KL15').trim(), pin: Number(def.pin ?? 1) || 1 };
    const watchers = new Watchers(node, (count) => {
      if (count === 0) kit.status.show({ fill: 'grey', shape: 'ring', text: 'openobd.status.ignitionStopped' });
    });

    onInput(node, kit, async (msg: OpenObdMsg, send) => {
      const live = liveSessionOf(msg);
      if (isStopMessage(msg)) {
        watchers.stop(live.id);
        return;
      }
      let previous: Terminal15State | undefined;
      const onState = (state: Terminal15State) => {
        const initial = previous === undefined;
        const change = { state, previous: previous ?? null, initial, at: new Date().toISOString() };
        previous = state;
        kit.status.show(STATUS[state]);
        send({ payload: state, topic: 'terminal15', openobd: { sessionId: live.id, terminal15: change } });
      };
      const onError = (e: OpenObdError) => {
        watchers.stop(live.id);
        // The node or the session closed, or the session ended: the stream ends with it, nothing to report.
        if (e.code === 'CLOSED' || e.code === 'SESSION_ENDED') return;
        node.error(toFlowError(e), { ...msg, openobd: { ...msg.openobd, sessionId: live.id } });
      };
      await watchers.start(live.id, () => live.session.watchTerminal15(onState, onError, bus));
    });
  }
  RED.nodes.registerType('openobd-terminal15', OpenObdTerminal15Node);
}
