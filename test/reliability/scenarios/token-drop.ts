import assert from 'node:assert/strict';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { registry } from '../../../nodes/lib/registry';
import { FlowHarness } from '../harness/harness';
import { requestLoad, type RequestLoad } from '../harness/load';
import { figures, scenarioResult, type ScenarioResult } from '../harness/result';
import { HealthLog, StatusLog } from '../harness/taps';
import { delay, until } from '../harness/wait';

/**
 * Token stream dropped every `dropEveryMs` for `durationMs` while `concurrency` request loops run: the
 * session survives, no request fails, no node turns red and every drop is recovered.
 */
export async function tokenDropScenario(opts: { durationMs: number; dropEveryMs?: number; concurrency?: number }): Promise<ScenarioResult> {
  const t0 = Date.now();
  const dropEveryMs = opts.dropEveryMs ?? 2000;
  const h = await FlowHarness.start({
    sim: { tokenIntervalMs: 250, tokenValidityMs: 2500 },
    session: { tokenIntervalMs: 250, tokenValidityMs: 2500, reconnect: { initialDelayMs: 25, maxDelayMs: 250 } },
  });
  const f = figures();
  let load: RequestLoad | undefined;
  const leaks = await h.closeAfter(async () => {
    const statuses = new StatusLog(['start', 'req']);
    const health = new HealthLog();
    try {
      const id = await h.startSession('1001');
      const runStart = Date.now();
      load = requestLoad(h, () => id, opts.concurrency ?? 4);
      const end = runStart + opts.durationMs;
      while (Date.now() + dropEveryMs <= end) {
        await delay(dropEveryMs);
        f.faults += h.sim.dropTokenStreams(GrpcStatus.UNAVAILABLE, 'Simulated token stream drop');
      }
      await delay(Math.max(0, end - Date.now()));
      await load.stop();
      const live = registry.get(id);
      assert.ok(
        await until(() => live?.session.keepaliveHealth === 'healthy', 10000),
        `the session's keepalive was not healthy again within 10 s of the last token stream drop (it is ${live?.session.keepaliveHealth})`,
      );
      f.recovered = health.recoveries(id);
      const server = h.sim.sessions.get(id);
      assert.equal(live?.session.state ?? 'gone', 'active', `the session did not survive the token stream drops in Node-RED`);
      assert.equal(server?.state, 'active', `the session did not survive the token stream drops on the server`);
      assert.equal(
        load.stats.failed,
        0,
        `${load.stats.failed} of ${load.stats.sent} requests failed while the token stream was dropped: ${JSON.stringify(load.stats.failures.slice(0, 5))}`,
      );
      assert.ok(
        f.faults >= Math.floor(opts.durationMs / dropEveryMs) - 1,
        `only ${f.faults} token stream drops were injected in ${opts.durationMs} ms`,
      );
      assert.ok(f.recovered >= f.faults, `${f.faults} token stream drops but the nodes saw only ${f.recovered} recoveries`);
      const reds = statuses.red(runStart);
      assert.equal(reds.length, 0, `a node showed a red status during the token stream drops: ${JSON.stringify(reds.slice(0, 3))}`);
      const last = statuses.last('start');
      assert.equal(last?.fill, 'green', `the start node does not end green: ${JSON.stringify(last)}`);
      assert.ok(
        await until(() => h.sim.stats().streams.token === 1, 5000),
        `${h.sim.stats().streams.token} token streams are open on the server for one session`,
      );
      f.details.statusChanges = statuses.of('start').length;
      f.details.keepalive = live?.session.stats.keepalive;
      f.details.tokenCalls = h.sim.callCounts.get('session.openSessionTokenStream');
    } finally {
      await load?.stop();
      statuses.stop();
      health.stop();
    }
  });
  f.requests = load?.stats.sent ?? 0;
  return scenarioResult(`token stream dropped every ${dropEveryMs / 1000} s for ${Math.round(opts.durationMs / 1000)} s`, h, t0, leaks, f);
}
