import assert from 'node:assert/strict';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { OpenObdError, SessionController, SessionEnd } from '../../client';
import type { OpenObdSimulator } from '../../simulator';
import { ENGINE, controllerFor, delay, startSimulator, waitFor } from '../support/sim';

describe('client library <-> simulator: the hidden keepalive', function () {
  this.timeout(30000);
  let sim: OpenObdSimulator;
  let controller: SessionController;

  afterEach(async function () {
    controller?.close();
    await sim?.stop();
  });

  it('follows at least three token rotations with short lifetimes while requests keep succeeding', async function () {
    // Tokens every 150 ms, each valid 400 ms: without the keepalive the session would die within half a second.
    sim = await startSimulator({ tokenIntervalMs: 150, tokenValidityMs: 400 });
    controller = controllerFor(sim, { session: { tokenValidityMs: 400, tokenIntervalMs: 150 } });
    const session = await controller.startSession({ ticketId: '1001' });
    const rotations: number[] = [];
    session.on('token', (t: { count: number }) => rotations.push(t.count));
    const deadline = Date.now() + 1500;
    let ok = 0;
    while (Date.now() < deadline) {
      const ex = await session.request(ENGINE, '3E00');
      assert.equal(ex.responses[0].hex, '7E00');
      ok += 1;
      await delay(20);
    }
    assert.ok(rotations.length >= 3, `saw ${rotations.length} token rotations`);
    assert.ok(ok > 10);
    assert.equal(session.state, 'active');
    // A token that has expired is refused by the server: the session really depends on the rotation.
    assert.equal(sim.stats().sessions.active, 1);
  });

  it('reopens a dropped token stream; no request fails and the session stays active', async function () {
    sim = await startSimulator({ tokenIntervalMs: 200, tokenValidityMs: 1000 });
    controller = controllerFor(sim, {
      session: { tokenValidityMs: 1000, tokenIntervalMs: 200, reconnect: { initialDelayMs: 20, maxDelayMs: 100 } },
    });
    const session = await controller.startSession({ ticketId: '1001' });
    const health: string[] = [];
    session.on('keepalive', (h: string) => health.push(h));
    let failures = 0;
    let requests = 0;
    const stopAt = Date.now() + 2500;
    const load = (async () => {
      while (Date.now() < stopAt) {
        await session.request(ENGINE, '3E00').then(
          () => (requests += 1),
          () => (failures += 1),
        );
        await delay(10);
      }
    })();
    for (let i = 0; i < 4; i++) {
      await delay(400);
      // 400 ms is well past the reopen backoff (at most 100 ms): there is always the one stream to drop.
      assert.equal(sim.dropTokenStreams(), 1, `drop ${i + 1}: the session's one token stream was open`);
    }
    await load;
    assert.equal(failures, 0, `${failures} of ${requests} requests failed`);
    assert.equal(session.state, 'active');
    assert.ok(session.stats.keepalive.drops >= 3, `drops seen: ${session.stats.keepalive.drops}`);
    assert.ok(health.includes('recovering') && health.at(-1) === 'healthy', `health: ${health.join(',')}`);
    // Still alive well past the validity of the tokens held at the time of the drops.
    await delay(1200);
    await session.request(ENGINE, '3E00');
  });

  it('detects a half-open token stream (no token in the expected cadence) and reopens it', async function () {
    sim = await startSimulator({ tokenIntervalMs: 100, tokenValidityMs: 2000 });
    controller = controllerFor(sim, {
      session: { tokenValidityMs: 2000, tokenIntervalMs: 100, reconnect: { initialDelayMs: 20, maxDelayMs: 100 } },
    });
    const session = await controller.startSession({ ticketId: '1001' });
    await waitFor(() => session.stats.tokens >= 3, 3000, 'a few tokens');
    sim.faults.stallTokenStreams = true;
    await waitFor(() => session.stats.keepalive.watchdogFires >= 1, 3000, 'the watchdog');
    sim.faults.stallTokenStreams = false;
    const tokens = session.stats.tokens;
    await waitFor(() => session.stats.tokens > tokens, 3000, 'tokens on the reopened stream');
    assert.equal(session.state, 'active');
    assert.ok(session.stats.keepalive.opens >= 2);
  });

  it('reports the session lost, with a clear error, when the token expires before the stream comes back', async function () {
    sim = await startSimulator({ tokenIntervalMs: 100, tokenValidityMs: 500 });
    controller = controllerFor(sim, {
      session: { tokenValidityMs: 500, tokenIntervalMs: 100, reconnect: { initialDelayMs: 20, maxDelayMs: 100 } },
      retry: { attempts: 1 },
    });
    const session = await controller.startSession({ ticketId: '1001' });
    await waitFor(() => session.stats.tokens >= 2, 3000, 'tokens');
    const ended = new Promise<SessionEnd>((resolve) => session.once('ended', resolve));
    await sim.stop();
    const end = await ended;
    assert.equal(end.state, 'lost');
    assert.equal(end.error?.code, 'SESSION_LOST');
    assert.match(end.error?.message ?? '', /token expired before its keepalive could be restored/);
    await assert.rejects(session.request(ENGINE, '3E00'), (err: OpenObdError) => err.code === 'SESSION_LOST');
    // The service comes back: a new session starts without rebuilding anything.
    await sim.start();
    await waitFor(() => sim.stats().sessions.failed === 1, 3000, 'the old session to fail on the server');
    const fresh = await controller.startSession({ ticketId: '1001' });
    assert.equal(fresh.state, 'active');
    await fresh.request(ENGINE, '3E00');
    await fresh.finish();
  });

  it('survives a server restart shorter than the token validity', async function () {
    sim = await startSimulator({ tokenIntervalMs: 150, tokenValidityMs: 3000 });
    controller = controllerFor(sim, {
      session: { tokenValidityMs: 3000, tokenIntervalMs: 150, reconnect: { initialDelayMs: 50, maxDelayMs: 200 } },
    });
    const session = await controller.startSession({ ticketId: '1001' });
    await session.request(ENGINE, '3E00');
    await sim.restart(300);
    await waitFor(() => session.keepaliveHealth === 'healthy' && session.stats.keepalive.drops >= 1, 5000, 'keepalive to recover');
    // The ISO-TP stream died with the server; the next request opens a new one.
    const ex = await session.request(ENGINE, '3E00');
    assert.equal(ex.responses[0].hex, '7E00');
    assert.equal(session.state, 'active');
    await session.finish();
  });

  it('a terminal status on the token stream asks openOBD and ends the session when it has ended', async function () {
    sim = await startSimulator({ tokenIntervalMs: 100, tokenValidityMs: 2000 });
    controller = controllerFor(sim, { session: { tokenValidityMs: 2000, tokenIntervalMs: 100 } });
    const session = await controller.startSession({ ticketId: '1001' });
    const ended = new Promise<SessionEnd>((resolve) => session.once('ended', resolve));
    const record = sim.sessions.get(session.id);
    assert.ok(record);
    sim.endSession(record, 'failed', 'simulated server-side failure');
    assert.equal((await ended).state, 'failed');
    assert.equal(sim.stats().openStreams, 0);
    void GrpcStatus;
  });
});
