import assert from 'node:assert/strict';
import { registry, type SessionEvent } from '../../../nodes/lib/registry';
import { describeOutcome, type Outcome } from '../harness/flow';
import { FlowHarness } from '../harness/harness';
import { requestLoad, type RequestLoad } from '../harness/load';
import { figures, scenarioResult, type ScenarioResult } from '../harness/result';
import { HealthLog, StatusLog } from '../harness/taps';
import { delay, until } from '../harness/wait';

/**
 * The simulator stopped and restarted three times mid-session:
 *  A. shorter than the token validity: the session's keepalive reconnects by itself, requests work again;
 *  B. longer than the validity, with a session-controller call failing meanwhile: the session is reported
 *     lost with a clear error, the account's status comes back by itself, a new session starts;
 *  C. again longer, and a new session is started the moment the service is back: it succeeds at once
 *     (the controller waits for the reconnect instead of failing on a channel in backoff).
 * No redeploy anywhere.
 */
export async function restartScenario(opts: { shortDowntimeMs?: number; longDowntimeMs?: number } = {}): Promise<ScenarioResult> {
  const t0 = Date.now();
  const shortDown = opts.shortDowntimeMs ?? 500;
  const longDown = opts.longDowntimeMs ?? 4000;
  const h = await FlowHarness.start({
    sim: { tokenIntervalMs: 250, tokenValidityMs: 2000 },
    session: { tokenIntervalMs: 250, tokenValidityMs: 2000, reconnect: { initialDelayMs: 50, maxDelayMs: 500 } },
    recheckIntervalMs: 1000,
  });
  const f = figures();
  /** One message's outcome: success, or the error `code` with a message matching `pattern`. */
  const expect = (o: Outcome, ok: boolean, what: string, code?: string, pattern?: RegExp) => {
    f.requests += 1;
    if (ok) {
      assert.ok(o.ok, `${what}: expected success, got ${describeOutcome(o)}`);
      return;
    }
    assert.ok(
      !o.ok && (!code || o.code === code) && (!pattern || pattern.test(o.message ?? '')),
      `${what}: expected ${code} ${pattern ?? ''}, got ${describeOutcome(o)}`,
    );
    f.expectedErrors += 1;
  };
  const leaks = await h.closeAfter(async () => {
    const statuses = new StatusLog(['start', 'req', 'list']);
    const health = new HealthLog();
    let load: RequestLoad | undefined;
    try {
      // A. A short restart with requests in flight.
      const a = await h.startSession('1001');
      load = requestLoad(h, () => a, 2, 20);
      await delay(300);
      await h.sim.restart(shortDown);
      f.faults += 1;
      const back = Date.now();
      assert.ok(
        await until(() => registry.get(a)?.session.keepaliveHealth === 'healthy' && health.recoveries(a) >= 1, 10000),
        `A: the session's keepalive did not reconnect by itself within 10 s of a ${shortDown} ms restart`,
      );
      const healthyAt = Date.now();
      await delay(1500);
      await load.stop();
      // Requests that failed before the keepalive was back were the outage (their errors may reach Catch a
      // moment later on a busy machine); any failure well after it is a defect.
      const late = load.stats.failures.filter((x) => x.t > healthyAt + 500);
      f.requests += load.stats.sent;
      f.expectedErrors += load.stats.failed - late.length;
      assert.equal(late.length, 0, `A: requests still failed after the keepalive was back: ${JSON.stringify(late.slice(0, 3))}`);
      expect(await h.request(a, '3E00'), true, 'A: a request after the restart');
      assert.equal(registry.get(a)?.session.state, 'active', 'A: the session did not survive a short restart in Node-RED');
      assert.equal(h.sim.sessions.get(a)?.state, 'active', 'A: the session did not survive a short restart on the server');
      f.recovered += 1;
      f.details.shortRecoveryMs = healthyAt - back;

      // B. A long outage: the session is lost, the account recovers by itself, a new session starts.
      expect(await h.send('list', {}), true, 'B: list before the outage');
      const lost = new Promise<SessionEvent>((resolve) => {
        const off = registry.subscribe((e) => {
          if (e.id === a && e.health === 'ended') {
            off();
            resolve(e);
          }
        });
      });
      const stoppedAt = Date.now();
      await h.sim.stop();
      f.faults += 1;
      expect(await h.send('list', {}), false, 'B: list while openOBD is down', 'UNAVAILABLE', /not reachable/);
      const listRed = statuses.last('list');
      assert.equal(listRed?.fill, 'red', `B: the session-info node does not show red while openOBD is down: ${JSON.stringify(listRed)}`);
      const end = await Promise.race([lost, delay(10000).then(() => undefined)]);
      assert.equal(end?.state, 'lost', `B: the session was not reported lost within 10 s: ${JSON.stringify(end)}`);
      const lostStatus = statuses.of('start').filter((s) => s.fill === 'red' && /lost/.test(s.text ?? ''));
      assert.ok(
        lostStatus.length > 0,
        `B: the start node never showed the session as lost: ${JSON.stringify(statuses.of('start').slice(-3))}`,
      );
      expect(
        await h.request(a, '3E00'),
        false,
        'B: a request on the lost session',
        'SESSION_LOST',
        /token expired before its keepalive could be restored/,
      );
      // Stay down long enough for at least two failed rechecks of the account.
      await delay(Math.max(0, longDown - (Date.now() - stoppedAt)));
      const listCallsDown = h.sim.callCounts.get('sessionController.getSessionList') ?? 0;
      await h.sim.start();
      const upAt = Date.now();
      assert.ok(
        await until(() => statuses.last('list')?.fill === 'green', 10000),
        `B: the account's status did not turn green by itself within 10 s of openOBD coming back: ${JSON.stringify(statuses.last('list'))}`,
      );
      f.recovered += 1;
      f.details.accountRecoveryMs = Date.now() - upAt;
      f.details.recheckCallsAfterRestart = (h.sim.callCounts.get('sessionController.getSessionList') ?? 0) - listCallsDown;
      const b = await h.send('start', { payload: '1002' });
      expect(b, true, 'B: a new session after the outage');
      const bId = b.msg?.openobd?.sessionId as string | undefined;
      if (bId) expect(await h.request(bId, '22F190'), true, 'B: a request on the new session');

      // C. Another long outage; a session is started the moment the service is back.
      await h.sim.stop();
      f.faults += 1;
      await delay(longDown);
      await h.sim.start();
      const c = await h.send('start', { payload: '1003' });
      expect(c, true, 'C: a session started the moment openOBD is back');
      f.recovered += 1;
      f.details.startRightAfterRestartMs = c.ms;
      // The old session of ticket 1001 failed on the server once its token expired; the ticket is free again.
      assert.ok(
        await until(() => h.sim.sessions.get(a)?.state === 'failed', 5000),
        `the lost session is ${h.sim.sessions.get(a)?.state} on the server, not failed: its ticket stays taken`,
      );
      const again = await h.send('start', { payload: '1001' });
      expect(again, true, 'C: ticket 1001 again');
      expect(await h.request(again.msg?.openobd.sessionId, '3E00'), true, 'C: a request on ticket 1001 again');
    } finally {
      await load?.stop();
      statuses.stop();
      health.stop();
    }
  });
  return scenarioResult(`simulator restarted (${shortDown} ms, 2 × ${longDown / 1000} s down)`, h, t0, leaks, f);
}
