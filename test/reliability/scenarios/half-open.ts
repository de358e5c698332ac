import assert from 'node:assert/strict';
import { registry } from '../../../nodes/lib/registry';
import { FlowHarness } from '../harness/harness';
import { requestLoad, type RequestLoad } from '../harness/load';
import { figures, scenarioResult, type ScenarioResult } from '../harness/result';
import { HealthLog, StatusLog } from '../harness/taps';
import { delay, until } from '../harness/wait';

/**
 * Half-open token streams: the simulator keeps the stream open but sends nothing. The keepalive's
 * watchdog (no token within 1.25 × the cadence) reopens it; the session survives and requests go on.
 */
export async function halfOpenScenario(opts: { stalls?: number } = {}): Promise<ScenarioResult> {
  const t0 = Date.now();
  const h = await FlowHarness.start({
    sim: { tokenIntervalMs: 200, tokenValidityMs: 3000 },
    session: { tokenIntervalMs: 200, tokenValidityMs: 3000, reconnect: { initialDelayMs: 25, maxDelayMs: 250 } },
  });
  const f = figures();
  let load: RequestLoad | undefined;
  const leaks = await h.closeAfter(async () => {
    const statuses = new StatusLog(['start']);
    const health = new HealthLog();
    try {
      const id = await h.startSession('1001');
      const live = registry.get(id);
      assert.ok(live, 'the started session is not registered in Node-RED');
      const ka = () => live.session.stats.keepalive;
      assert.ok(await until(() => live.session.stats.tokens >= 4, 5000), 'no token rotation within 5 s, before the stalls');
      const runStart = Date.now();
      load = requestLoad(h, () => id, 2, 10);
      const opens0 = h.sim.callCounts.get('session.openSessionTokenStream') ?? 0;
      for (let i = 0; i < (opts.stalls ?? 3); i++) {
        const fires = ka().watchdogFires;
        h.sim.faults.stallTokenStreams = true;
        f.faults += 1;
        const detected = await until(() => ka().watchdogFires > fires, 5000);
        h.sim.faults.stallTokenStreams = false;
        assert.ok(detected, `stall ${i + 1}: the keepalive's watchdog did not notice a silent token stream within 5 s`);
        const tokens = live.session.stats.tokens;
        assert.ok(
          await until(() => live.session.stats.tokens > tokens && live.session.keepaliveHealth === 'healthy', 5000),
          `stall ${i + 1}: no token on the reopened stream within 5 s`,
        );
        f.recovered += 1;
        await delay(700);
      }
      await load.stop();
      const reopens = (h.sim.callCounts.get('session.openSessionTokenStream') ?? 0) - opens0;
      f.details.keepalive = { ...ka() };
      f.details.reopens = reopens;
      f.details.statusRecoveries = health.recoveries(id);
      assert.equal(live.session.state, 'active', 'the session did not survive the half-open token streams in Node-RED');
      assert.equal(h.sim.sessions.get(id)?.state, 'active', 'the session did not survive the half-open token streams on the server');
      assert.equal(
        load.stats.failed,
        0,
        `${load.stats.failed} of ${load.stats.sent} requests failed during the stalls: ${JSON.stringify(load.stats.failures.slice(0, 3))}`,
      );
      assert.ok(reopens >= f.recovered, `only ${reopens} reopened token streams for ${f.recovered} recoveries`);
      assert.ok(
        await until(() => h.sim.stats().streams.token === 1, 5000),
        `${h.sim.stats().streams.token} token streams open on the server: half-open ones were not closed`,
      );
      const reds = statuses.red(runStart);
      assert.equal(reds.length, 0, `the start node showed red during the stalls: ${JSON.stringify(reds[0])}`);
      assert.ok(health.recoveries(id) >= 1, 'no node showed the recovery');
      assert.equal(statuses.last('start')?.fill, 'green', `the start node does not end green: ${JSON.stringify(statuses.last('start'))}`);
    } finally {
      await load?.stop();
      statuses.stop();
      health.stop();
    }
  });
  f.requests = load?.stats.sent ?? 0;
  return scenarioResult('half-open token stream', h, t0, leaks, f);
}
