import assert from 'node:assert/strict';
import { finish, request, startSession } from './flow-builder';
import { baseFlow, helper, nextMessage, type AnyMsg } from './nodered';

/*
 * The flow of the error tests (start, two request nodes, finish, their helpers and the Catch helper)
 * and what they ask of it: a session, the error a node's message reaches Catch with, a node's warnings.
 */

/** The standard tab with start (ticket from msg.payload), req (300 ms timeout), req2 (NRCs to output 2), finish. */
export const flow = (extra: Array<Record<string, unknown>> = [], account: Record<string, unknown> = {}) =>
  baseFlow(
    [
      startSession({ to: ['started'] }),
      request({ timeout: '300', to: ['answered'] }),
      request({ id: 'req2', negative: 'output', outputs: 2, to: [['answered'], ['refused']] }),
      finish({ to: ['finished'] }),
      { id: 'started', type: 'helper' },
      { id: 'answered', type: 'helper' },
      { id: 'refused', type: 'helper' },
      { id: 'finished', type: 'helper' },
      ...extra,
    ],
    account,
  );

export async function session(): Promise<AnyMsg> {
  const started = nextMessage(helper.getNode('started'));
  helper.getNode('start').receive({ payload: '1001' });
  return started;
}

export async function caughtFrom(nodeId: string, msg: AnyMsg): Promise<AnyMsg> {
  const caught = nextMessage(helper.getNode('caught'));
  helper.getNode(nodeId).receive(msg);
  const c = await caught;
  assert.equal(c.error.source.id, nodeId);
  return c;
}

/** The warnings a node logged with node.warn (Node-RED's debug sidebar shows them). */
export function warningsOf(id: string): string[] {
  const log = helper.log() as unknown as {
    WARN: number;
    getCalls(): Array<{ args: Array<{ level: number; id?: string; msg: unknown }> }>;
  };
  return log
    .getCalls()
    .map((c) => c.args[0]!)
    .filter((e) => e.level === log.WARN && e.id === id)
    .map((e) => String(e.msg));
}
