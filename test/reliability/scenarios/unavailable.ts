import assert from 'node:assert/strict';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { backoffDelay } from '../../../client/retry';
import type { OpenObdSimulator } from '../../../simulator';
import { registry } from '../../../nodes/lib/registry';
import type { AnyMsg } from '../../support/nodered';
import { describeOutcome } from '../harness/flow';
import { FlowHarness } from '../harness/harness';
import { figures, scenarioResult, type ScenarioResult } from '../harness/result';
import { StatusLog } from '../harness/taps';
import { delay, until } from '../harness/wait';

/** When each sessionController call reached the simulator. */
function callTimes(sim: OpenObdSimulator): Map<string, number[]> {
  const times = new Map<string, number[]>();
  const original = sim.countCall.bind(sim);
  sim.countCall = (service: string, method: string) => {
    const key = `${service}.${method}`;
    const list = times.get(key) ?? [];
    list.push(Date.now());
    times.set(key, list);
    original(service, method);
  };
  return times;
}

/**
 * UNAVAILABLE bursts on session-controller calls, through session info (get, list), interrupt, start
 * and finish nodes: idempotent calls retry with exponential backoff and jitter and succeed; a burst
 * longer than the retry budget ends in one UNAVAILABLE to Catch; start session and finish are sent
 * exactly once, fail, and the next message works.
 */
export async function unavailableScenario(opts: { rounds?: number } = {}): Promise<ScenarioResult> {
  const t0 = Date.now();
  const rounds = opts.rounds ?? 6;
  const h = await FlowHarness.start({ recheckIntervalMs: 1000 });
  const f = figures();
  const times = callTimes(h.sim);
  const count = (m: string) => times.get(m)?.length ?? 0;
  const policy = { initialDelayMs: 200, maxDelayMs: 3000, factor: 2 }; // the controller's default retry policy
  /**
   * One message to `node` with the next `fail` calls of `method` failing: it must succeed (`expectOk`) or
   * fail with `code`, and `method` must have been called exactly `expectedCalls` times for it.
   */
  const send = async (
    node: string,
    msg: AnyMsg,
    fail: number,
    expectOk: boolean,
    method: string,
    expectedCalls: number,
    code = 'UNAVAILABLE',
  ) => {
    const before = count(method);
    if (fail > 0) h.sim.faults.failNext(method, fail, GrpcStatus.UNAVAILABLE, 'Simulated overload');
    const o = await h.send(node, msg);
    f.requests += 1;
    const calls = count(method) - before;
    f.faults += Math.min(fail, calls);
    if (expectOk) {
      assert.ok(o.ok, `${node} with ${fail} injected failures: expected success, got ${describeOutcome(o)}`);
      if (fail > 0) f.recovered += 1;
    } else {
      assert.ok(!o.ok && o.code === code, `${node} with ${fail} injected failures: expected ${code}, got ${describeOutcome(o)}`);
      f.expectedErrors += 1;
    }
    assert.equal(
      calls,
      expectedCalls,
      `${method}: ${calls} calls for one message to ${node} with ${fail} injected failures, expected ${expectedCalls}`,
    );
    h.sim.faults.clear();
    return { o, stamps: (times.get(method) ?? []).slice(before) };
  };
  const leaks = await h.closeAfter(async () => {
    const statuses = new StatusLog(['list', 'get']);
    try {
      const id = await h.startSession('1001');
      await h.send('list', {}); // the controller token is fetched once, before the bursts
      const gaps: number[][] = [];
      // get and list: a burst of up to three failures is absorbed by the retries.
      for (let r = 0; r < rounds; r++) {
        const fail = 1 + (r % 3);
        const node = r % 2 === 0 ? 'get' : 'list';
        const method = node === 'get' ? 'sessionController.getSession' : 'sessionController.getSessionList';
        const { stamps } = await send(node, { openobd: { sessionId: id } }, fail, true, method, fail + 1);
        gaps.push(stamps.slice(1).map((t, i) => t - stamps[i]));
      }
      // Every gap lies inside its jitter window: [half, all] of initialDelay × 2^attempt (plus time on the wire).
      const slack = 1000; // time on the wire and a busy event loop; the lower bounds are exact
      for (const g of gaps) {
        g.forEach((gap, attempt) => {
          const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.factor ** attempt);
          assert.ok(
            gap >= ceiling / 2 - 2 && gap <= ceiling + slack,
            `retry ${attempt + 1} came after ${gap} ms, outside [${ceiling / 2}, ${ceiling}] ms`,
          );
        });
      }
      const firstGaps = gaps.map((g) => g[0]);
      f.details.firstRetryGapsMs = firstGaps;
      f.details.retryGapsMs = gaps;
      assert.ok(
        rounds < 4 || Math.max(...firstGaps) - Math.min(...firstGaps) >= 10,
        `first retries all came after the same delay (${firstGaps.join(', ')} ms): no jitter, so clients retry in lockstep`,
      );
      assert.ok(
        backoffDelay(policy, 0, () => 0) === 100 && backoffDelay(policy, 0, () => 1) === 200 && backoffDelay(policy, 2, () => 0.5) === 600,
        'backoffDelay is not "half plus a random half" of the exponential delay',
      );

      // A burst longer than the retry budget (4 attempts): one UNAVAILABLE reaches Catch and the status
      // turns red. The burst goes on through the account's background rechecks (each one failing too); the
      // status comes back by itself once openOBD answers again, without any message.
      const listCalls = count('sessionController.getSessionList');
      h.sim.faults.failNext('sessionController.getSessionList', 12, GrpcStatus.UNAVAILABLE, 'Simulated overload');
      const o = await h.send('list', {});
      f.requests += 1;
      assert.ok(!o.ok && o.code === 'UNAVAILABLE', `a list during a long burst: expected UNAVAILABLE, got ${describeOutcome(o)}`);
      f.expectedErrors += 1;
      const red = statuses.last('list');
      assert.equal(red?.fill, 'red', `after an exhausted retry the list node does not show red: ${JSON.stringify(red)}`);
      // 12 failures: the message's 4 attempts, then two failed rechecks of 4; the third recheck succeeds.
      const rechecked = await until(
        () => count('sessionController.getSessionList') - listCalls >= 13 && statuses.last('list')?.fill === 'green',
        20000,
      );
      f.faults += Math.min(12, count('sessionController.getSessionList') - listCalls);
      f.details.longBurstCalls = count('sessionController.getSessionList') - listCalls;
      assert.ok(
        rechecked,
        `the account stopped rechecking after a failed recheck, so its status stays red: ${String(f.details.longBurstCalls)} calls, status ${JSON.stringify(statuses.last('list'))}`,
      );
      f.recovered += 1;
      h.sim.faults.clear();
      await send('list', {}, 0, true, 'sessionController.getSessionList', 1);

      // interrupt is idempotent (interrupting twice ends the same way): retried.
      const spare = await h.startSession('1002');
      await send('interrupt', { openobd: { sessionId: spare } }, 2, true, 'sessionController.interruptSession', 3);

      // start session is not: one call, one UNAVAILABLE, and no retry later either.
      const beforeStart = count('sessionController.startSessionOnTicket');
      await send('start', { payload: '1002' }, 1, false, 'sessionController.startSessionOnTicket', 1);
      await delay(1500);
      assert.equal(
        count('sessionController.startSessionOnTicket') - beforeStart,
        1,
        'start session was sent again after its failure: a session could be started twice',
      );
      await send('start', { payload: '1002' }, 0, true, 'sessionController.startSessionOnTicket', 1);
      f.recovered += 1;

      // finish is not either: one call, the session stays usable, the next finish works.
      await send('finish', { openobd: { sessionId: id }, result: 'success' }, 1, false, 'session.finish', 1);
      const state = registry.get(id)?.session.state;
      assert.equal(state, 'active', `after a failed finish the session is ${state}: it can no longer be used or finished`);
      const r = await h.request(id, '3E00');
      f.requests += 1;
      assert.ok(r.ok, `a request after the failed finish: ${describeOutcome(r)}`);
      await send('finish', { openobd: { sessionId: id }, result: 'success' }, 0, true, 'session.finish', 1);
      f.recovered += 1;
    } finally {
      statuses.stop();
    }
  });
  return scenarioResult('UNAVAILABLE bursts on controller calls', h, t0, leaks, f);
}
