import assert from 'node:assert/strict';
import { nodeRedVersion } from '../support/nodered';
import { report } from './harness/result';
import { halfOpenScenario } from './scenarios/half-open';
import { restartScenario } from './scenarios/restart';
import { slowVehicleScenario } from './scenarios/slow-vehicle';
import { tokenDropScenario } from './scenarios/token-drop';
import { unavailableScenario } from './scenarios/unavailable';
import { wrongCredentialsScenario } from './scenarios/wrong-credentials';

/** The same scenarios `npm run soak` runs, shorter where they have a duration. */
const TOKEN_DROP_MS = Number(process.env.RELIABILITY_TOKEN_DROP_MS || 20000);
const WRONG_CREDENTIALS_MS = Number(process.env.RELIABILITY_WRONG_CREDENTIALS_MS || 5000);

/**
 * Faults injected with the simulator while real Node-RED flows (account in 'custom' mode) work on it.
 * Each scenario asserts as it goes (the first broken expectation fails the test with what went wrong) and,
 * once Node-RED stopped, that the simulator and the process hold nothing more than before.
 */
describe(`reliability (Node-RED ${nodeRedVersion()}): faults through real flows`, function () {
  this.timeout(Math.max(180000, TOKEN_DROP_MS * 3));

  it(`token stream dropped every 2 s for ${TOKEN_DROP_MS / 1000} s (RELIABILITY_TOKEN_DROP_MS; npm run soak: 2 min) with 4 request loops: session survives, no request fails, status stays true`, async function () {
    const r = await tokenDropScenario({ durationMs: TOKEN_DROP_MS, dropEveryMs: 2000, concurrency: 4 });
    report(r);
    assert.ok(r.faults >= Math.floor(TOKEN_DROP_MS / 2000) - 1, `only ${r.faults} token stream drops were injected`);
    assert.ok(r.recovered >= r.faults, `${r.recovered} recoveries for ${r.faults} drops`);
    assert.ok(r.requests > 50, `only ${r.requests} requests were sent during the drops`);
  });

  it('simulator stopped and restarted mid-session: short outage survived; long outage reports SESSION_LOST, the account recovers by itself, new sessions start without a redeploy', async function () {
    const r = await restartScenario({ shortDowntimeMs: 500, longDowntimeMs: 4000 });
    report(r);
    assert.equal(r.faults, 3, 'three outages were injected');
    assert.equal(r.recovered, 3, 'the session, the account status and a new session came back');
  });

  it('UNAVAILABLE bursts: get, list and interrupt retry with backoff and jitter; start session and finish are sent once and never retried', async function () {
    const r = await unavailableScenario({ rounds: 6 });
    report(r);
    assert.equal(r.expectedErrors, 3, 'the exhausted burst, the start and the finish');
    const gaps = r.details.retryGapsMs as number[][];
    assert.equal(gaps.length, 6, 'retry gaps of every round were measured');
  });

  it(`wrong credentials for ${WRONG_CREDENTIALS_MS / 1000} s (RELIABILITY_WRONG_CREDENTIALS_MS; soak: 60 s): red status, one clear error per attempt, attempts bounded by the 20 s cooldown`, async function () {
    const r = await wrongCredentialsScenario({ durationMs: WRONG_CREDENTIALS_MS, messageEveryMs: 50 });
    report(r);
    assert.ok(r.expectedErrors > 20, `messages: ${r.expectedErrors}`);
    assert.ok(
      (r.details.credentialAttempts as number) <= 1 + Math.ceil(r.durationMs / 20000),
      `${String(r.details.credentialAttempts)} credential attempts in ${r.durationMs} ms`,
    );
    assert.equal(r.recovered, 1, 'the right secret works at once');
  });

  it('slow vehicle: a routine answering "response pending" for 4.5 s completes; a silent ECU ends in TIMEOUT after the configured 1.5 s; the next request works', async function () {
    const r = await slowVehicleScenario({ rounds: 1, timeoutMs: 1500 });
    report(r);
    assert.equal(r.expectedErrors, 1, 'the silent ECU');
    assert.equal(r.recovered, 2, 'the routine completed and the request after the timeout worked');
  });

  it('half-open token stream (open, silent): the watchdog detects it past the cadence and reopens it; no request fails', async function () {
    const r = await halfOpenScenario({ stalls: 3 });
    report(r);
    assert.equal(r.recovered, 3, 'every stall was followed by a token on a reopened stream');
  });
});
