import assert from 'node:assert/strict';
import { ConnectionPool, type DoipEcuSpec, type OpenObdError, type Session, type SessionController } from '../../client';
import type { OpenObdSimulator } from '../../simulator';
import { ENGINE, controllerFor, delay, startSimulator, waitFor } from '../support/sim';

/*
 * Fleets against a real gRPC front end: a server that caps concurrent streams per HTTP/2 connection (100,
 * as load balancers and proxies commonly do), and openOBD's documented limits (32 channels per session on
 * the J-ReX, 3600 s stream idle time, 4 h sessions), each shortened so the tests stay short.
 */
describe('fleets of sessions and openOBD limits', function () {
  this.timeout(120000);

  describe('a server that allows 100 concurrent streams per connection', function () {
    let sim: OpenObdSimulator;
    let controller: SessionController;
    let pool: ConnectionPool;

    before(async function () {
      sim = await startSimulator({ vehicles: 300, maxConcurrentStreams: 100 });
      pool = new ConnectionPool();
      controller = controllerFor(sim, { connectionPool: pool, callTimeoutMs: 20000 });
    });

    after(async function () {
      controller.close();
      await sim.stop();
    });

    it('300 sessions (two long-lived streams each, 600 in all) all start, answer a request and finish', async function () {
      const tickets = Array.from({ length: 300 }, (_, i) => String(1001 + i));
      const sessions: Session[] = await Promise.all(tickets.map((ticketId) => controller.startSession({ ticketId })));
      const answers = await Promise.all(sessions.map((s) => s.request(ENGINE, '3E00')));
      assert.ok(answers.every((a) => a.responses[0]?.hex === '7E00'));
      const stats = pool.stats();
      assert.equal(stats.sessions, 300);
      assert.ok(stats.sessionConnections >= 10, `${stats.sessionConnections} connections for 300 sessions`);
      assert.equal(sim.stats().streams.token, 300);
      assert.equal(sim.stats().streams.isotp, 300);
      // The controller's calls are never starved by the sessions' streams.
      const listed = await controller.listSessions();
      assert.equal(listed.filter((s) => s.state === 'active').length, 300);
      await Promise.all(sessions.map((s) => s.finish()));
      assert.equal(sim.stats().sessions.finished, 300);
      assert.equal(pool.stats().sessionConnections, 0, 'each connection closed with its last session');
    });
  });

  describe('a connection that refuses a stream (RESOURCE_EXHAUSTED)', function () {
    let sim: OpenObdSimulator;
    let controller: SessionController;
    let pool: ConnectionPool;

    beforeEach(async function () {
      sim = await startSimulator({ tokenIntervalMs: 200, tokenValidityMs: 3000 });
      pool = new ConnectionPool();
      controller = controllerFor(sim, {
        connectionPool: pool,
        session: { tokenIntervalMs: 200, tokenValidityMs: 3000, reconnect: { initialDelayMs: 20, maxDelayMs: 100 } },
      });
    });

    afterEach(async function () {
      controller.close();
      await sim.stop();
    });

    it('the token stream: the session moves to another connection and its keepalive goes on there', async function () {
      sim.faults.refuseStreams(1); // the session's first stream is its token stream
      const session = await controller.startSession({ ticketId: '1001' });
      await waitFor(() => session.stats.tokens >= 3, 5000, 'tokens on the new connection');
      assert.equal(pool.stats().sessionConnections, 1, 'the refusing connection was left (and closed)');
      assert.equal((await session.request(ENGINE, '3E00')).responses[0]!.hex, '7E00');
    });

    it('the ISO-TP stream: the request in it goes out again on another connection and is answered', async function () {
      const session = await controller.startSession({ ticketId: '1001' });
      sim.faults.refuseStreams(1);
      const answer = await session.request(ENGINE, '22F190');
      assert.match(answer.responses[0]!.hex, /^62F190/);
      assert.equal(session.state, 'active');
    });
  });

  describe('32 channels per session (the J-ReX)', function () {
    let sim: OpenObdSimulator;
    let controller: SessionController;

    before(async function () {
      sim = await startSimulator();
      controller = controllerFor(sim);
    });

    after(async function () {
      controller.close();
      await sim.stop();
    });

    it('32 channels waiting for answers at once are served; the 33rd fails at once with CHANNEL_LIMIT; later ones retire idle channels', async function () {
      const session = await controller.startSession({ ticketId: '1001' });
      const silent = (i: number) => ({ bus: { name: 'obd-can' }, requestId: 0x600 + i, responseId: 0x680 + i }); // nobody answers there
      const waiting = Array.from({ length: 32 }, (_, i) =>
        session.request(silent(i), '3E00', { timeoutMs: 1500 }).catch((e: OpenObdError) => e),
      );
      const started = Date.now();
      await assert.rejects(session.request(silent(32), '3E00', { timeoutMs: 1500 }), (err: OpenObdError) => {
        assert.equal(err.code, 'CHANNEL_LIMIT');
        assert.match(err.message, /at most 32 channels at a time on all its buses together \(the J-ReX limit\)/);
        return true;
      });
      assert.ok(Date.now() - started < 500, 'refused at once, not after a timeout');
      const results = await Promise.all(waiting);
      assert.ok(results.every((r) => (r as OpenObdError).code === 'TIMEOUT'));
      // Nothing waits any more: new channels retire the idle ones.
      assert.equal((await session.request(ENGINE, '3E00')).responses[0]!.hex, '7E00');
      assert.ok(session.stats.channels <= 32);
      await session.finish();
    });

    it('the 32 are counted over all buses: 24 ISO-TP and 8 DoIP channels waiting fill them, the next on either bus fails', async function () {
      const session = await controller.startSession({ ticketId: '2002' }); // the fleet car: CAN and DoIP
      const silentCan = (i: number) => ({ bus: { name: 'obd-can' }, requestId: 0x600 + i, responseId: 0x680 + i });
      const doipBus = { kind: 'doip', name: 'DOIP', option: 2 } as const;
      const silentDoip = (i: number): DoipEcuSpec => ({
        transport: 'doip',
        bus: doipBus,
        gatewayId: 0x1010,
        testerId: 0x0e80,
        ecuId: 0x5000 + i,
      });
      const waiting = [
        ...Array.from({ length: 24 }, (_, i) => session.request(silentCan(i), '3E00', { timeoutMs: 1500 })),
        ...Array.from({ length: 8 }, (_, i) => session.request(silentDoip(i), '3E00', { timeoutMs: 1500 })),
      ].map((p) => p.catch((e: OpenObdError) => e));
      for (const next of [silentCan(24), silentDoip(8)]) {
        await assert.rejects(session.request(next, '3E00', { timeoutMs: 1500 }), (err: OpenObdError) => {
          assert.equal(err.code, 'CHANNEL_LIMIT');
          assert.match(err.message, /on all its buses together/);
          return true;
        });
      }
      assert.equal(session.stats.channels, 32);
      const results = await Promise.all(waiting);
      assert.ok(results.every((r) => (r as OpenObdError).code === 'TIMEOUT'));
      // Idle again: a DoIP ECU that answers takes the place of an idle ISO-TP channel, and answers.
      const adas: DoipEcuSpec = { transport: 'doip', bus: doipBus, gatewayId: 0x1010, testerId: 0x0e80, ecuId: 0x4011 };
      assert.equal((await session.request(adas, '10 03')).responses[0]!.hex, '5003003201F4');
      assert.equal(session.stats.channels, 32);
      // The simulated J-ReX counts the same way: 32 channels over both streams, the oldest (ISO-TP 600/680) gone.
      const served = (await session.getConfiguration()).channels;
      assert.equal(served.length, 32);
      assert.ok(!served.some((c) => c.isotp_channel?.request_id === 0x600));
      assert.ok(served.some((c) => c.doip_channel?.ecu_id === 0x4011));
      await session.finish();
    });
  });

  describe('the stream idle time (an idle stream is closed, and that ends the session)', function () {
    let sim: OpenObdSimulator;
    let controller: SessionController | undefined;

    beforeEach(async function () {
      sim = await startSimulator({ tokenIntervalMs: 200, tokenValidityMs: 3000, streamIdleTimeoutMs: 1200, sweepIntervalMs: 50 });
    });

    afterEach(async function () {
      controller?.close();
      await sim.stop();
    });

    it('the package never lets its streams idle into the limit: its ISO-TP stream closes first, the session lives on', async function () {
      controller = controllerFor(sim, { session: { tokenIntervalMs: 200, tokenValidityMs: 3000, isotpIdleCloseMs: 500 } });
      const session = await controller.startSession({ ticketId: '1001' });
      await session.request(ENGINE, '3E00');
      await delay(3000);
      assert.equal(session.state, 'active');
      assert.equal(sim.stats().sessions.active, 1);
      assert.equal((await session.request(ENGINE, '3E00')).responses[0]!.hex, '7E00', 'the stream is opened again when needed');
      await session.finish();
    });

    it('a stream left idle past the limit ends the session, and the next request says so', async function () {
      controller = controllerFor(sim, { session: { tokenIntervalMs: 200, tokenValidityMs: 3000, isotpIdleCloseMs: 60000 } });
      const session = await controller.startSession({ ticketId: '1001' });
      await session.request(ENGINE, '3E00');
      await waitFor(() => session.closed, 5000, 'the session to end');
      assert.equal(session.ended?.state, 'failed');
      await assert.rejects(session.request(ENGINE, '3E00'), (err: OpenObdError) => err.code === 'SESSION_ENDED');
      assert.match(sim.sessions.get(session.id)?.endReason ?? '', /isotp stream was idle for 1 s/);
    });
  });

  describe('the maximum session duration', function () {
    it('a session that reaches it ends with SESSION_ENDED saying so, with the cause for statuses, not as lost', async function () {
      const sim = await startSimulator({ maxSessionDurationMs: 800, sweepIntervalMs: 50 });
      const controller = controllerFor(sim, { session: { maxDurationMs: 800 } });
      try {
        const session = await controller.startSession({ ticketId: '1001' });
        await waitFor(() => session.closed, 5000, 'the session to end');
        assert.equal(session.ended?.state, 'failed');
        assert.equal(session.ended?.cause, 'maxDuration');
        await assert.rejects(session.request(ENGINE, '3E00'), (err: OpenObdError) => {
          assert.equal(err.code, 'SESSION_ENDED');
          assert.match(err.message, /maximum session duration of 1 min|maximum session duration/);
          return true;
        });
      } finally {
        controller.close();
        await sim.stop();
      }
    });
  });
});
