import assert from 'node:assert/strict';
import { ecu, request, sink, type FlowNode } from '../../support/flow-builder';
import { describeOutcome, type Outcome } from '../harness/flow';
import { FlowHarness } from '../harness/harness';
import { figures, scenarioResult, type ScenarioResult } from '../harness/result';
import { delay } from '../harness/wait';

/** XOR key of the engine's security level 1 (default vehicle). */
function engineKey(seedHex: string): string {
  const seed = Buffer.from(seedHex, 'hex');
  const mask = Buffer.from('4F50454E', 'hex');
  return Buffer.from(seed.map((b, i) => b ^ mask[i % mask.length]))
    .toString('hex')
    .toUpperCase();
}

/** A transmission ECU, a request node with long pending timeouts, one with a short timeout, one for the transmission. */
function slowVehicleNodes(timeoutMs: number): FlowNode[] {
  return [
    ecu({ id: 'trans', name: 'Transmission', requestId: '7E1', responseId: '7E9' }),
    request({ id: 'slow', timeout: '1000', pendingTimeout: '2500', overallTimeout: '20000', to: ['slowOut'] }),
    request({ id: 'strict', timeout: String(timeoutMs), to: ['answered'] }),
    request({ id: 'reqT', ecu: 'trans', to: ['answered'] }),
    sink('slowOut'),
  ];
}

/**
 * A slow vehicle: routine FF00 answers "response pending" three times 1.5 s apart and completes (while
 * another ECU keeps answering); an ECU that never answers ends in TIMEOUT after the configured time,
 * and the next request works.
 */
export async function slowVehicleScenario(opts: { rounds?: number; timeoutMs?: number } = {}): Promise<ScenarioResult> {
  const t0 = Date.now();
  const timeoutMs = opts.timeoutMs ?? 1500;
  const h = await FlowHarness.start({ extra: slowVehicleNodes(timeoutMs) });
  const f = figures();
  const routineMs: number[] = [];
  const timeouts: number[] = [];
  f.details = { routineMs, timeoutMs: timeouts };
  /** A request that must succeed, with an answer matching `hex`. */
  const need = (o: Outcome, what: string, hex?: RegExp) => {
    f.requests += 1;
    assert.ok(
      o.ok && (!hex || hex.test(String(o.msg?.payload))),
      `${what}: ${o.ok ? `answered ${String(o.msg?.payload)}` : describeOutcome(o)}`,
    );
  };
  const leaks = await h.closeAfter(async () => {
    const id = await h.startSession('1001');
    for (let round = 0; round < (opts.rounds ?? 1); round++) {
      need(await h.request(id, '1003'), 'extended session', /^5003/);
      const seed = await h.request(id, '2701');
      need(seed, 'seed', /^6701/);
      need(await h.request(id, '2702' + engineKey(String(seed.msg?.payload).slice(4))), 'key', /^6702$/);
      const routine = h.request(id, '3101FF00', 'slow', 30000);
      // Another ECU on the same session is not held up by the pending routine.
      await delay(300);
      const other = await h.request(id, '3E00', 'reqT');
      need(other, 'transmission during the routine', /^7E00$/);
      assert.ok(other.ms <= 2000, `the transmission answered after ${other.ms} ms while the engine was busy: one ECU held up another`);
      const r = await routine;
      f.faults += 3;
      need(r, 'routine FF00', /^7101FF0000$/);
      routineMs.push(r.ms);
      assert.equal(
        r.msg?.openobd.response.pendingCount,
        3,
        `the routine reports ${r.msg?.openobd.response.pendingCount} "response pending" answers, the ECU sent 3`,
      );
      assert.ok(r.ms >= 4000, `the routine completed after ${r.ms} ms: the pending answers were not waited for`);
      f.recovered += 1;
      // An ECU that never answers: TIMEOUT after the configured time, then the next request works.
      h.sim.faults.withholdResponses('engine');
      f.faults += 1;
      const silent = await h.request(id, '22F190', 'strict', 30000);
      f.requests += 1;
      assert.ok(
        !silent.ok && silent.code === 'TIMEOUT' && new RegExp(`within ${timeoutMs} ms`).test(silent.message ?? ''),
        `a silent ECU: expected TIMEOUT "within ${timeoutMs} ms", got ${describeOutcome(silent)}`,
      );
      f.expectedErrors += 1;
      timeouts.push(silent.ms);
      assert.ok(
        silent.ms >= timeoutMs - 5 && silent.ms <= timeoutMs + 3000,
        `a silent ECU ended in TIMEOUT after ${silent.ms} ms, the request node is configured for ${timeoutMs} ms`,
      );
      h.sim.faults.clear();
      need(await h.request(id, '3E00'), 'the request after the timeout', /^7E00$/);
      f.recovered += 1;
      if (round + 1 < (opts.rounds ?? 1)) need(await h.request(id, '1001'), 'default session', /^5001/);
    }
  });
  return scenarioResult('slow vehicle (response pending, silent ECU)', h, t0, leaks, f);
}
