import assert from 'node:assert/strict';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { OpenObdError, SessionController, defaultConnectionPool, type Session } from '../../client';
import type { OpenObdSimulator } from '../../simulator';
import { ENGINE, controllerFor, delay, startSimulator, waitFor } from '../support/sim';

describe('client library <-> simulator: session life cycle', function () {
  let sim: OpenObdSimulator;
  let controller: SessionController;
  const open: Session[] = [];

  beforeEach(async function () {
    sim = await startSimulator();
    controller = controllerFor(sim);
  });

  afterEach(async function () {
    for (const s of open.splice(0)) s.close();
    controller.close();
    await sim.stop();
  });

  it('starts on a ticket, claims, requests, finishes; openOBD reports each state', async function () {
    const info = await controller.startSessionOnTicket('1001');
    assert.equal(info.state, 'available');
    assert.match(info.id, /^[0-9a-f-]{36}$/);
    assert.equal(String(info.authenticationToken), '[redacted]', 'the one-time token never prints');

    const session = await controller.openSession(info);
    open.push(session);
    assert.equal(session.state, 'active');
    assert.equal((await controller.getSession(info.id)).state, 'active');

    const exchange = await session.request(ENGINE, '3E00');
    assert.equal(exchange.responses[0].hex, '7E00');
    assert.equal(exchange.responses[0].positive, true);

    const listed = await controller.listSessions();
    assert.ok(listed.some((s) => s.id === info.id && s.state === 'active'));

    const summary = await session.finish({ result: 'RESULT_SUCCESS', description: 'done' });
    assert.deepEqual(summary, { id: info.id, state: 'finished', createdAt: info.createdAt });
    assert.equal(session.closed, true);
    assert.equal((await controller.getSession(info.id)).state, 'finished');
    await waitFor(() => sim.stats().openStreams === 0, 2000, 'server streams to close');
  });

  it('starts on a connector as well, and refuses a second session on a busy connector with a clear message', async function () {
    const [connectorId] = sim.connectorIds();
    const session = await controller.startSession({ connectorId });
    open.push(session);
    await assert.rejects(controller.startSessionOnConnector(connectorId), (err: OpenObdError) => {
      assert.equal(err.code, 'UNAVAILABLE');
      assert.match(err.message, /^Interrupt the session that holds this ticket or connector/);
      assert.equal(err.details, 'Resource already in use.');
      return true;
    });
  });

  it('rejects an unknown ticket with FAILED_PRECONDITION and the ticket number', async function () {
    await assert.rejects(controller.startSessionOnTicket('999999'), (err: OpenObdError) => {
      assert.equal(err.code, 'FAILED_PRECONDITION');
      assert.match(
        err.message,
        /^Check the ticket or connector number: openOBD does not know it \(No ticket found with the ticket number: "999999"\)/,
      );
      return true;
    });
  });

  it('wrong credentials: one clear error, then fast failures without new calls during the cooldown', async function () {
    const bad = controllerFor(sim, { credentials: { clientId: 'simulator-partner', clientSecret: 'wrong-secret', clusterId: '001' } });
    try {
      const before = sim.callCounts.get('sessionController.getSessionControllerToken') ?? 0;
      for (let i = 0; i < 5; i++) {
        await assert.rejects(bad.startSessionOnTicket('1001'), (err: OpenObdError) => {
          assert.equal(err.code, 'INVALID_ARGUMENT');
          assert.match(err.message, /rejected the partner credentials/);
          assert.ok(!err.message.includes('wrong-secret'));
          return true;
        });
      }
      assert.equal((sim.callCounts.get('sessionController.getSessionControllerToken') ?? 0) - before, 1, 'one attempt, then the cooldown');
      assert.equal(bad.state, 'rejected');
    } finally {
      bad.close();
    }
  });

  it('authenticate twice gives PERMISSION_DENIED "already authenticated"', async function () {
    const info = await controller.startSessionOnTicket('1001');
    const session = await controller.openSession(info);
    open.push(session);
    const again = await import('../../client/session');
    const second = new again.Session(info, { endpoint: controller.sessionEndpointFor(info) });
    try {
      await assert.rejects(second.open(), (err: OpenObdError) => {
        assert.equal(err.code, 'PERMISSION_DENIED');
        assert.match(err.message, /already authenticated/);
        return true;
      });
    } finally {
      second.close();
    }
  });

  it('a call before authenticate gives PERMISSION_DENIED "only authenticate() is allowed"', async function () {
    const info = await controller.startSessionOnTicket('1001');
    const { Rpc } = await import('../../client/rpc');
    const lease = defaultConnectionPool.acquire(controller.sessionEndpointFor(info));
    try {
      const rpc = new Rpc(lease);
      await assert.rejects(rpc.unary('config', 'getConfiguration', {}, { token: info.authenticationToken }), (err: OpenObdError) => {
        assert.equal(err.code, 'PERMISSION_DENIED');
        assert.match(err.message, /only authenticate\(\) is allowed/);
        return true;
      });
    } finally {
      lease.release();
    }
  });

  it('an interrupt ends the session, its streams, and later calls say so', async function () {
    const session = await controller.startSession({ ticketId: '1001' });
    open.push(session);
    await session.request(ENGINE, '3E00');
    const ended = new Promise((resolve) => session.once('ended', resolve));
    const info = await controller.interruptSession(session.id);
    assert.equal(info.state, 'interrupted');
    assert.deepEqual(await ended, { state: 'interrupted', reason: 'interrupted through the session controller', error: undefined });
    assert.equal(session.state, 'interrupted');
    await waitFor(() => sim.stats().openStreams === 0, 2000, 'server streams to close');
    await assert.rejects(
      session.request(ENGINE, '3E00'),
      (err: OpenObdError) => err.code === 'SESSION_ENDED' && /interrupted/.test(err.message),
    );
  });

  it('a request in flight when the session is interrupted fails with SESSION_ENDED, not a stream status', async function () {
    const session = await controller.startSession({ ticketId: '1001' });
    open.push(session);
    await session.request(ENGINE, '3E00');
    sim.faults.delayResponses(500, 'engine');
    const pending = session.request(ENGINE, '22F190');
    await delay(50);
    sim.interrupt(session.id); // from the operator side: the server ends the session's streams
    await assert.rejects(pending, (err: OpenObdError) => {
      assert.equal(err.code, 'SESSION_ENDED');
      assert.match(err.message, /was interrupted before the request completed/);
      assert.equal(err.sessionState, 'interrupted');
      return true;
    });
  });

  it('an interrupt from the operator side is noticed through the token stream', async function () {
    const session = await controller.startSession({ ticketId: '1002' });
    open.push(session);
    const ended = new Promise<{ state: string }>((resolve) => session.once('ended', resolve));
    assert.equal(sim.interrupt(session.id), true);
    assert.equal((await ended).state, 'interrupted');
  });

  it('close() leaves nothing open: no stream on the server, no channel in the pool', async function () {
    const channelsBefore = defaultConnectionPool.size;
    const own = controllerFor(sim);
    const session = await own.startSession({ ticketId: '1003' });
    await session.request(ENGINE, '3E00');
    const watching: unknown[] = [];
    const stop = session.watchConnector((info) => watching.push(info));
    await waitFor(() => watching.length > 0, 3000, 'connector information');
    assert.ok(sim.stats().openStreams >= 3, 'token, ISO-TP and connector streams are open');
    stop();
    session.close();
    own.close();
    await waitFor(() => sim.stats().openStreams === 0, 2000, 'server streams to close');
    assert.equal(defaultConnectionPool.size, channelsBefore);
    assert.equal(session.state, 'closed');
  });

  it('controller token: fetched once for concurrent callers and fetched again after UNAUTHENTICATED', async function () {
    const calls = () => sim.callCounts.get('sessionController.getSessionControllerToken') ?? 0;
    const before = calls();
    await Promise.all([controller.listSessions(), controller.listSessions(), controller.listSessions()]);
    assert.equal(calls() - before, 1, 'single flight');
    sim.tokens.clear(); // every token forgotten: the next call is UNAUTHENTICATED once
    await controller.listSessions();
    assert.equal(calls() - before, 2);
  });

  it('idempotent calls retry UNAVAILABLE; starting a session never retries blindly', async function () {
    await controller.listSessions(); // token first
    sim.faults.failNext('getSessionList', 2, GrpcStatus.UNAVAILABLE);
    await controller.listSessions();
    assert.equal(sim.callCounts.get('sessionController.getSessionList'), 4);
    sim.faults.failNext('startSessionOnTicket', 1, GrpcStatus.UNAVAILABLE);
    await assert.rejects(controller.startSessionOnTicket('1001'), (err: OpenObdError) => err.code === 'UNAVAILABLE');
    assert.equal(sim.callCounts.get('sessionController.startSessionOnTicket'), 1);
  });

  it('sessions stay separate per controller: two partners in one process', async function () {
    await sim.stop();
    sim = await startSimulator({
      partners: [
        { clientId: 'a', clientSecret: 'secret-a', clusterId: '001' },
        { clientId: 'b', clientSecret: 'secret-b', clusterId: '002' },
      ],
    });
    const a = controllerFor(sim, { credentials: { clientId: 'a', clientSecret: 'secret-a', clusterId: '001' } });
    const b = controllerFor(sim, { credentials: { clientId: 'b', clientSecret: 'secret-b', clusterId: '002' } });
    try {
      const s = await a.startSession({ ticketId: '1001' });
      open.push(s);
      assert.equal((await a.listSessions()).length, 1);
      assert.equal((await b.listSessions()).length, 0);
      await assert.rejects(b.getSession(s.id), (err: OpenObdError) => err.code === 'NOT_FOUND');
    } finally {
      a.close();
      b.close();
    }
    await delay(0);
  });
});
