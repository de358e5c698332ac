import assert from 'node:assert/strict';
import { status as GrpcStatus } from '@grpc/grpc-js';
import {
  OpenObdError,
  type FunctionBroker,
  type FunctionCall,
  type HostedFunction,
  type Session,
  type SessionController,
} from '../../client';
import type { OpenObdSimulator, SimulatorOptions } from '../../simulator';
import { ENGINE, controllerFor, delay, startSimulator, waitFor } from '../support/sim';

/*
 * The function broker client and function contexts against the simulator over real gRPC: hosting
 * (registration answers, token pushes echoed, reconnect requests, dropped streams), dashboard runs,
 * calling another function with the context dance, variables, arguments and results.
 */

const VIN_HEX = '62F190' + Buffer.from('WVWZZZAU6KW204711', 'latin1').toString('hex').toUpperCase();

describe('client library <-> simulator: functions and the function broker', function () {
  this.timeout(30000);
  let sim: OpenObdSimulator;
  let controller: SessionController;
  let broker: FunctionBroker;
  const sessions: Session[] = [];

  async function setUp(options: SimulatorOptions = {}): Promise<void> {
    sim = await startSimulator({ tokenIntervalMs: 300, tokenValidityMs: 3000, ...options });
    controller = controllerFor(sim, { session: { tokenIntervalMs: 300, tokenValidityMs: 3000 } });
    broker = controller.functionBroker({ reconnect: { initialDelayMs: 20, maxDelayMs: 200 }, closeGraceMs: 100 });
  }

  afterEach(async function () {
    for (const s of sessions.splice(0)) s.close();
    await broker?.close();
    controller?.close();
    await sim?.stop();
  });

  /** Hosts a function with a fresh id and signature. */
  async function host(
    name: string,
    handler: (call: FunctionCall) => void | Promise<void>,
    visibility: 'dashboard' | 'internal' = 'dashboard',
  ): Promise<HostedFunction> {
    const { id, signature } = await broker.generateSignature();
    const fn = broker.host({ id, signature, name, version: '1.2', description: `${name} (test)`, visibility }, handler);
    await waitFor(() => fn.state === 'online', 5000, `${name} online`);
    return fn;
  }

  /** A function that reads the VIN, leaves it as a result and finishes with SUCCESS. */
  const readVin = async (call: FunctionCall) => {
    sessions.push(call.session);
    const vin = await call.session.request(ENGINE, '22 F1 90');
    await call.session.functions.setResult('vin', vin.responses[0]!.hex);
    await call.session.functions.setResult('details', { ecu: 'engine', ok: true, count: 1 });
    await call.session.finish({ result: 'RESULT_SUCCESS', description: 'VIN read' });
  };

  describe('hosting', function () {
    it('registers ONLINE with details, signature and visibility; the broker and the dashboard know it; stop sets it OFFLINE', async function () {
      await setUp();
      const fn = await host('Read VIN', readVin);
      assert.equal(fn.reason, 'Function Read VIN is online');
      const reg = await broker.getRegistration(fn.id);
      assert.deepEqual(reg, { id: fn.id, name: 'Read VIN', version: '1.2', state: 'online', visibility: 'dashboard' });
      assert.deepEqual(
        sim.functions.dashboardFunctions().map((f) => [f.name, f.state]),
        [['Read VIN', 'online']],
      );
      assert.equal(sim.stats().streams.function, 1);
      await fn.stop();
      assert.equal(fn.state, 'offline');
      assert.equal((await broker.getRegistration(fn.id)).state, 'offline');
      await waitFor(() => sim.stats().streams.function === 0, 3000, 'the unused stream to close');
    });

    it('a wrong signature is UNAUTHORIZED; a second function shares the one stream', async function () {
      await setUp();
      const good = await host('Good', readVin);
      const { id } = await broker.generateSignature();
      const bad = broker.host({ id, signature: 'not-the-signature', name: 'Forged' }, readVin);
      await waitFor(() => bad.state === 'unauthorized', 5000, 'the refusal');
      assert.match(bad.reason, /signature of function .* does not match/);
      assert.equal(good.state, 'online');
      assert.equal(sim.stats().streams.function, 1, 'one stream for the account');
      assert.equal(broker.stats.opens, 1);
    });

    it('refuses a definition without a UUID id or a name before anything is sent', async function () {
      await setUp();
      assert.throws(
        () => broker.host({ id: 'abc', signature: 'x', name: 'n' }, readVin),
        (e: OpenObdError) => e.code === 'BAD_CONFIG' && /UUID/.test(e.message),
      );
      assert.throws(
        () => broker.host({ id: '00000000-0000-4000-8000-000000000001', signature: 'x', name: ' ' }, readVin),
        (e: OpenObdError) => e.code === 'BAD_CONFIG' && /needs a name/.test(e.message),
      );
      assert.equal(broker.stats.opens, 0);
    });

    it('echoes every pushed broker token and switches to it: calls keep working after the first token expired', async function () {
      await setUp({ functionBroker: { tokenPushIntervalMs: 150, tokenLifetimeMs: 600 } });
      const fn = await host('Echo', readVin);
      await waitFor(() => broker.stats.tokenPushes >= 4, 5000, 'token pushes');
      const stream = [...sim.functions.streams][0]!;
      await waitFor(() => stream.echoed >= 4, 2000, 'echoes');
      // The token fetched at the start has expired by now; the pushed ones carry the calls.
      assert.equal((await broker.getRegistration(fn.id)).state, 'online');
      assert.equal(sim.callCounts.get('functionBroker.getFunctionBrokerToken'), 1, 'no new fetch was needed');
    });

    it('obeys a reconnect request: a new stream with every function registered before the old one goes, and a call right after is served', async function () {
      await setUp();
      const a = await host('A', readVin);
      const b = await host('B', readVin);
      const before = sim.callCounts.get('functionBroker.openFunctionStream');
      assert.equal(sim.functions.requestReconnect(3), 1);
      await waitFor(() => sim.callCounts.get('functionBroker.openFunctionStream') === (before ?? 0) + 1, 3000, 'the new stream');
      await waitFor(
        () => [...sim.functions.registrations.values()].every((r) => r.stream && r.stream === [...sim.functions.streams].at(-1)),
        3000,
        'both on the new stream',
      );
      const run = await sim.functions.runFromDashboard('1001', a.id);
      assert.equal(run.state, 'running');
      await waitFor(() => run.state === 'finished', 10000, 'the run to finish');
      await waitFor(() => sim.stats().streams.function === 1, 3000, 'the old stream to go');
      assert.equal(broker.stats.reconnectRequests, 1);
      assert.deepEqual([a.state, b.state], ['online', 'online']);
    });

    it('reopens with backoff when the stream drops, registers again, and is served right after', async function () {
      await setUp();
      const fn = await host('Drop', readVin);
      assert.equal(sim.dropStreams('function', GrpcStatus.UNAVAILABLE, 'Simulated broker drop'), 1);
      await waitFor(() => fn.state !== 'online', 2000, 'the function to notice');
      await waitFor(() => fn.state === 'online', 5000, 'online again');
      assert.ok(broker.stats.reopens >= 1);
      const run = await sim.functions.runFromDashboard('1002', fn.id);
      await waitFor(() => run.state === 'finished', 10000, 'the run');
      assert.deepEqual(run.result?.result, ['RESULT_SUCCESS']);
    });
  });

  describe('a dashboard run hands the host a session in a function context', function () {
    it('the function reads the VIN on it, leaves results and finishes: only its context closes, the dashboard finishes the session', async function () {
      await setUp();
      let caller: string | undefined;
      const fn = await host('Read VIN', async (call) => {
        caller = call.callerId;
        assert.equal(call.session.state, 'active');
        await readVin(call);
      });
      const run = await sim.functions.runFromDashboard('1001', fn.id);
      await waitFor(() => run.state === 'finished', 10000, 'the run');
      assert.equal(caller, 'ticket-dashboard');
      assert.deepEqual(run.result, { result: ['RESULT_SUCCESS'], userFeedback: undefined, description: 'VIN read' });
      assert.equal(run.results?.vin, VIN_HEX);
      assert.deepEqual(run.results?.details, { ecu: 'engine', ok: true, count: 1 });
      assert.equal(sim.sessions.get(run.sessionId!)!.state, 'finished');
      await waitFor(() => sim.stats().openStreams === 1, 3000, 'only the function stream left');
    });
  });

  describe('calling another function from a session (the context dance)', function () {
    it('arguments go in, the callee works on the session, the caller gets its result and results, then authenticates again and goes on', async function () {
      await setUp();
      let seen: Record<string, unknown> | undefined;
      const callee = await host(
        'Callee',
        async (call) => {
          seen = call.arguments;
          sessions.push(call.session);
          // A context started from an active one is communication only: no user interface.
          await assert.rejects(call.session.ui.ask({ type: 'continue', label: 'x' }), (e: OpenObdError) => e.code === 'PERMISSION_DENIED');
          const vin = await call.session.request(ENGINE, '22 F1 90');
          await call.session.functions.setResult('vin', vin.responses[0]!.hex);
          await call.session.finish({ result: 'RESULT_SUCCESS', description: 'done by the callee' });
        },
        'internal',
      );
      const session = await controller.startSession({ ticketId: '1002' });
      sessions.push(session);
      await session.request(ENGINE, '3E 00');
      const tokensBefore = session.stats.tokens;
      const result = await session.functions.call(callee.id, {
        broker,
        arguments: { mode: 'quick', limits: { max: 3 } },
        timeoutMs: 10000,
      });
      assert.deepEqual(seen, { mode: 'quick', limits: { max: 3 } });
      assert.equal(result.success, true);
      assert.deepEqual(result.serviceResult, { result: ['RESULT_SUCCESS'], description: 'done by the callee' });
      assert.equal(result.results.vin, VIN_HEX);
      // Back with the caller: active, the keepalive running again, the bus reconfigured on demand.
      assert.equal(session.state, 'active');
      assert.equal(session.handedOverTo, undefined);
      assert.equal((await session.request(ENGINE, '3E 00')).responses[0]!.hex, '7E00');
      await waitFor(() => session.stats.tokens > tokensBefore + 1, 3000, 'new session tokens');
      assert.equal(sim.functions.contexts.depth(session.id), 0);
      await session.finish();
      assert.equal(sim.sessions.get(session.id)!.state, 'finished');
    });

    it('a function that is not online: FUNCTION_REFUSED, and the session is usable at once', async function () {
      await setUp();
      const fn = await host('Gone', readVin);
      await fn.stop();
      const session = await controller.startSession({ ticketId: '1003' });
      sessions.push(session);
      await assert.rejects(session.functions.call(fn.id, { broker }), (e: OpenObdError) => {
        assert.equal(e.code, 'FUNCTION_REFUSED');
        assert.match(e.message, /is not online/);
        return true;
      });
      assert.equal(session.state, 'active');
      assert.equal((await session.request(ENGINE, '3E 00')).responses[0]!.hex, '7E00');
    });

    it('a callee slower than the timeout: FUNCTION_TIMEOUT; the caller gets the session back when it finishes', async function () {
      await setUp();
      const slow = await host('Slow', async (call) => {
        sessions.push(call.session);
        await delay(800);
        await call.session.finish({ result: 'RESULT_SUCCESS' });
      });
      const session = await controller.startSession({ ticketId: '1001' });
      sessions.push(session);
      await assert.rejects(session.functions.call(slow.id, { broker, timeoutMs: 200 }), (e: OpenObdError) => e.code === 'FUNCTION_TIMEOUT');
      await assert.rejects(session.request(ENGINE, '3E 00'), (e: OpenObdError) => e.code === 'HANDED_OVER');
      await waitFor(() => session.handedOverTo === undefined, 5000, 'the session back');
      assert.equal((await session.request(ENGINE, '3E 00')).responses[0]!.hex, '7E00');
    });

    it('the session is interrupted while the callee has it: the caller gets SESSION_ENDED', async function () {
      await setUp();
      let started = false;
      const hang = await host('Hang', async (call) => {
        sessions.push(call.session);
        started = true;
      });
      const session = await controller.startSession({ ticketId: '1002' });
      sessions.push(session);
      const calling = session.functions.call(hang.id, { broker });
      await waitFor(() => started, 5000, 'the callee to start');
      sim.interrupt(session.id);
      await assert.rejects(calling, (e: OpenObdError) => e.code === 'SESSION_ENDED');
      assert.equal(session.state, 'interrupted');
    });
  });

  describe('variables', function () {
    it('get, set, delete and list in the global, function and connection contexts; JSON objects round-trip; missing is undefined', async function () {
      await setUp();
      const session = await controller.startSession({ ticketId: '1001' });
      sessions.push(session);
      const v = session.functions;
      assert.equal(await v.get('nothing'), undefined);
      await v.set('result:dtcs', 'P0301-00');
      await v.set('result:counts', { stored: 3, pending: [1, 2], ok: false, note: null });
      await v.set('shared', 'everyone', 'global');
      assert.equal(await v.get('result:dtcs'), 'P0301-00');
      assert.deepEqual(await v.get('result:counts'), { stored: 3, pending: [1, 2], ok: false, note: null });
      assert.deepEqual(await v.list('function', 'result:'), {
        'result:counts': { stored: 3, pending: [1, 2], ok: false, note: null },
        'result:dtcs': 'P0301-00',
      });
      assert.deepEqual(await v.list('global'), { shared: 'everyone' });
      assert.equal((await v.list('connection'))['vehicle:info:vin'], 'WVWZZZAU6KW204711');
      assert.equal(await v.delete('result:dtcs'), true);
      assert.equal(await v.delete('result:dtcs'), false);
      await assert.rejects(v.set('', 'x'), (e: OpenObdError) => e.code === 'BAD_REQUEST');
      await assert.rejects(v.set('k', [1, 2]), (e: OpenObdError) => e.code === 'BAD_REQUEST' && /an array/.test(e.message));
      await assert.rejects(v.get('k', 'session' as never), (e: OpenObdError) => e.code === 'BAD_REQUEST');
    });
  });
});
