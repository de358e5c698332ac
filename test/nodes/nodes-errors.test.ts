import assert from 'node:assert/strict';
import { fromGrpcError } from '../../client';
import { currentBuiltinSimulator } from '../../nodes/lib/builtin-simulator';
import { OpenObdSimulator } from '../../simulator';
import { translate } from '../support/catalog';
import { controllerFor } from '../support/sim';
import { FAST_SETTINGS, catchNode, helper, nextMessage, nodeRedVersion, openobdNodes, statusHistory } from '../support/nodered';
import { caughtFrom, flow, session, warningsOf } from '../support/error-flows';
import { ecu, request, startSession } from '../support/flow-builder';

/**
 * Every failure goes through done(err): a Catch node receives the message that failed with
 * msg.error.code and a sentence a person understands, and the flow keeps working afterwards.
 */
describe(`Node-RED ${nodeRedVersion()}: errors reach Catch nodes with a code`, function () {
  this.timeout(20000);

  beforeEach(function () {
    helper.settings(FAST_SETTINGS as never);
  });

  afterEach(async function () {
    await helper.unload();
    helper.settings({});
  });

  it('NO_SESSION: a message without msg.openobd.sessionId', async function () {
    await helper.load([openobdNodes, catchNode] as never, flow() as never);
    const c = await caughtFrom('req', { payload: '22F190', topic: 'kept' });
    assert.equal(c.error.code, 'NO_SESSION');
    assert.match(c.error.message, /^Connect this node after a "start session" node/);
    assert.equal(c.topic, 'kept', 'the message that failed is the one caught');
  });

  it('NO_SESSION: an id this Node-RED never started', async function () {
    await helper.load([openobdNodes, catchNode] as never, flow() as never);
    const c = await caughtFrom('req', { payload: '22F190', openobd: { sessionId: '11111111-2222-4333-8444-555555555555' } });
    assert.equal(c.error.code, 'NO_SESSION');
  });

  for (const [label, payload, pattern] of [
    ['malformed hex', '22G190', /^msg\.payload is not valid hex: 'G' at position 3/],
    ['odd-length hex', '22F19', /odd number of hex digits/],
    ['an empty payload', '', /empty/],
    ['a payload over 4095 bytes', 'AA'.repeat(4096), /4095/],
    ['a number', 42, /number/],
    ['a byte out of range', [0x22, 256], /256/],
  ] as Array<[string, unknown, RegExp]>) {
    it(`BAD_PAYLOAD: ${label}`, async function () {
      await helper.load([openobdNodes, catchNode] as never, flow() as never);
      const s = await session();
      const c = await caughtFrom('req', { payload, openobd: s.openobd });
      assert.equal(c.error.code, 'BAD_PAYLOAD');
      assert.match(c.error.message, pattern);
      // The flow keeps running: the same session answers the next valid request.
      const ok = nextMessage(helper.getNode('answered'));
      helper.getNode('req').receive({ payload: '3E00', openobd: s.openobd });
      assert.equal((await ok).payload, '7E00');
    });
  }

  it('FAILED_PRECONDITION: an unknown ticket, with the ticket number in the message', async function () {
    await helper.load([openobdNodes, catchNode] as never, flow() as never);
    const c = await caughtFrom('start', { payload: '424242' });
    assert.equal(c.error.code, 'FAILED_PRECONDITION');
    assert.match(c.error.message, /^Check the ticket or connector number: .*No ticket found with the ticket number: "424242"/);
    assert.equal(c.error.cause.situation, 'unknownTicket');
    assert.deepEqual(statusHistory(helper.getNode('start')).at(-1), { fill: 'red', shape: 'ring', text: 'unknown ticket' });
  });

  it('BAD_REQUEST: an empty or non-text ticket', async function () {
    await helper.load([openobdNodes, catchNode] as never, flow() as never);
    assert.equal((await caughtFrom('start', { payload: '  ' })).error.code, 'BAD_REQUEST');
    assert.equal((await caughtFrom('start', { payload: { ticket: 1 } })).error.code, 'BAD_REQUEST');
  });

  it('UNAVAILABLE "Resource already in use": a ticket held by someone else is "ticket busy"', async function () {
    await helper.load([openobdNodes, catchNode] as never, flow() as never);
    // Another program holds ticket 1001 on the same (built-in) simulator.
    const { currentBuiltinSimulator } = await import('../../nodes/lib/builtin-simulator');
    await session(); // starts the built-in simulator
    const sim = (await currentBuiltinSimulator()) as OpenObdSimulator;
    const other = controllerFor(sim);
    try {
      const held = await other.startSession({ ticketId: '1002' });
      const c = await caughtFrom('start', { payload: '1002' });
      assert.equal(c.error.code, 'UNAVAILABLE');
      assert.equal(c.error.cause.situation, 'ticketBusy');
      assert.match(c.error.message, /^Interrupt the session that holds this ticket or connector, or wait until it ends/);
      assert.deepEqual(statusHistory(helper.getNode('start')).at(-1), { fill: 'red', shape: 'ring', text: 'ticket busy' });
      await held.finish();
    } finally {
      other.close();
    }
  });

  it('NEGATIVE_RESPONSE to Catch, with the NRC and its name; or to the second output', async function () {
    await helper.load([openobdNodes, catchNode] as never, flow() as never);
    const s = await session();
    const c = await caughtFrom('req', { payload: '22FFFF', openobd: s.openobd });
    assert.equal(c.error.code, 'NEGATIVE_RESPONSE');
    assert.match(c.error.message, /NRC 31 requestOutOfRange/);
    assert.equal(c.error.cause.nrcName, 'requestOutOfRange');
    assert.equal(c.openobd.response.nrc, '31');
    assert.equal(c.openobd.response.hex, '7F2231');

    const refused = nextMessage(helper.getNode('refused'));
    helper.getNode('req2').receive({ payload: '22FFFF', openobd: s.openobd });
    const r = await refused;
    assert.equal(r.payload, '7F2231');
    assert.equal(r.openobd.response.nrcName, 'requestOutOfRange');
    assert.equal(r.openobd.response.positive, false);
  });

  it('TIMEOUT: an ECU that does not answer; the next request works', async function () {
    await helper.load([openobdNodes, catchNode] as never, flow() as never);
    const s = await session();
    const { currentBuiltinSimulator } = await import('../../nodes/lib/builtin-simulator');
    const sim = (await currentBuiltinSimulator()) as OpenObdSimulator;
    sim.faults.withholdResponses('engine');
    const c = await caughtFrom('req', { payload: '22F190', openobd: s.openobd });
    assert.equal(c.error.code, 'TIMEOUT');
    assert.match(c.error.message, /^Check the ignition and the ECU's CAN ids: no response from ECU 7E0 .* within 300 ms/);
    sim.faults.clear();
    const ok = nextMessage(helper.getNode('answered'));
    helper.getNode('req').receive({ payload: '3E00', openobd: s.openobd });
    assert.equal((await ok).payload, '7E00');
  });

  for (const [name, code] of [
    ['OK', 0],
    ['FAILED_PRECONDITION', 9],
    ['UNAVAILABLE', 14],
  ] as Array<[string, number]>) {
    it(`SESSION_ENDED: a request in flight when the operator interrupts the session (its streams end with ${name})`, async function () {
      helper.settings({
        ...FAST_SETTINGS,
        openobdAccountSimulator: { ...FAST_SETTINGS.openobdAccountSimulator, sessionEndStatus: code },
      } as never);
      await helper.load([openobdNodes, catchNode] as never, flow() as never);
      const s = await session();
      const id8 = s.openobd.sessionId.slice(0, 8);
      const ok = nextMessage(helper.getNode('answered'));
      helper.getNode('req').receive({ payload: '3E00', openobd: s.openobd });
      await ok;
      const { currentBuiltinSimulator } = await import('../../nodes/lib/builtin-simulator');
      const sim = (await currentBuiltinSimulator()) as OpenObdSimulator;
      sim.faults.delayResponses(5000, 'engine');
      const caught = nextMessage(helper.getNode('caught'));
      helper.getNode('req').receive({ payload: '22F190', openobd: s.openobd });
      await new Promise((r) => setTimeout(r, 50));
      sim.interrupt(s.openobd.sessionId);
      const c = await caught;
      assert.equal(c.error.code, 'SESSION_ENDED', c.error.message);
      assert.equal(c.error.cause.state, 'interrupted');
      assert.match(c.error.message, /interrupted outside this flow/);
      // What the user sees on the nodes: the request node and the start node say how the session ended.
      const deadline = Date.now() + 3000;
      const last = (nodeId: string) => statusHistory(helper.getNode(nodeId)).at(-1)?.text;
      while (last('start') !== `${id8} interrupted` && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(last('start'), `${id8} interrupted`);
      assert.ok([`${id8} interrupted`, 'session ended'].includes(last('req') ?? ''), `request node: ${last('req')}`);
      sim.faults.clear();
    });
  }

  it('BAD_CONFIG: a start node without an account, a request node whose ECU is misconfigured', async function () {
    await helper.load(
      [openobdNodes, catchNode] as never,
      flow([
        startSession({ id: 'orphan', account: '', target: '1001' }),
        ecu({ id: 'badEcu', name: 'Broken', requestId: 'XYZ' }),
        request({ id: 'reqBad', ecu: 'badEcu', request: '3E00' }),
      ]) as never,
    );
    const c = await caughtFrom('orphan', {});
    assert.equal(c.error.code, 'BAD_CONFIG');
    assert.match(c.error.message, /No openOBD account/);
    // Said at deploy: red, and a warning in the debug sidebar.
    assert.deepEqual(statusHistory(helper.getNode('reqBad')), [{ fill: 'red', shape: 'ring', text: 'bad ECU settings' }]);
    assert.equal(translate('openobd.status.badEcu', {}, 'de'), 'Steuergerät falsch eingestellt');
    assert.match(warningsOf('reqBad').join('|'), /^ECU "Broken" is misconfigured: .*'XYZ' is not a hexadecimal CAN id/);
    const s = await session();
    const b = await caughtFrom('reqBad', { openobd: s.openobd });
    assert.equal(b.error.code, 'BAD_CONFIG');
    assert.match(b.error.message, /'XYZ' is not a hexadecimal CAN id/);
  });

  /*
   * A node whose own settings cannot work says so at deploy (a red status, one warning in the debug
   * sidebar) and fails every message at once, before any session work, naming the field at fault.
   */
  const fixedRequest = (id: string, ecu: string, hex: string) => request({ id, ecu, request: hex, to: ['answered'] });

  it('BAD_PAYLOAD at deploy: malformed hex in the Request field turns red, warns once, and fails before any session work', async function () {
    await helper.load([openobdNodes, catchNode] as never, flow([fixedRequest('bad', 'engine', '22 G1 90')]) as never);
    const bad = helper.getNode('bad');
    const field = "The Request field of this node is not valid hex: 'G' at position 4 is not a hex digit";
    assert.deepEqual(statusHistory(bad), [{ fill: 'red', shape: 'ring', text: 'bad request bytes' }]);
    assert.equal(translate('openobd.status.errors.BAD_PAYLOAD', {}, 'de'), 'ungültige Anfrage-Bytes');
    assert.deepEqual(warningsOf('bad'), [field]);
    assert.deepEqual(warningsOf('req'), [], 'a node whose settings can work warns about nothing');
    assert.deepEqual(statusHistory(helper.getNode('req')), []);

    // Before any session work: a message without a session gets the field's error, not NO_SESSION.
    const c = await caughtFrom('bad', { payload: '3E00' });
    assert.equal(c.error.code, 'BAD_PAYLOAD');
    assert.equal(c.error.message, field);

    // With a session, nothing reaches openOBD: no bus is configured, no ISO-TP stream is opened.
    const s = await session();
    const sim = (await currentBuiltinSimulator())!;
    assert.equal((await caughtFrom('bad', { payload: '3E00', openobd: s.openobd })).error.message, field);
    assert.equal(sim.callCounts.get('config.configureBus') ?? 0, 0);
    assert.equal(sim.callCounts.get('can.openIsotpStream') ?? 0, 0);
    assert.equal(statusHistory(bad).at(-1)?.text, 'bad request bytes');
    assert.equal(warningsOf('bad').length, 1, 'warned once, at deploy, not per message');

    // The same mistake in msg.payload names msg.payload.
    const fromMsg = await caughtFrom('req', { payload: '22 G1 90', openobd: s.openobd });
    assert.equal(fromMsg.error.message, "msg.payload is not valid hex: 'G' at position 4 is not a hex digit");
  });

  for (const [label, hex, message] of [
    ['an odd number of digits', '22F19', 'The Request field of this node has an odd number of hex digits (5): every byte needs two'],
    ['no digits', '0x', 'The Request field of this node has no hex digits'],
    ['more than ISO-TP carries', 'AA'.repeat(4096), 'The Request field of this node is 4096 bytes; ISO-TP carries at most 4095'],
  ]) {
    it(`BAD_PAYLOAD at deploy: a Request field with ${label}`, async function () {
      await helper.load([openobdNodes, catchNode] as never, flow([fixedRequest('bad', 'engine', hex!)]) as never);
      assert.deepEqual(warningsOf('bad'), [message]);
      assert.equal(statusHistory(helper.getNode('bad')).at(-1)?.text, 'bad request bytes');
      const c = await caughtFrom('bad', { payload: '3E00' });
      assert.equal(c.error.code, 'BAD_PAYLOAD');
      assert.equal(c.error.message, message);
    });
  }

  it('BAD_CONFIG at deploy: a selected ECU configuration that is missing is "no ECU"; no ECU selected takes msg.openobd.ecu', async function () {
    await helper.load(
      [openobdNodes, catchNode] as never,
      flow([fixedRequest('gone', 'deleted-ecu', '3E00'), fixedRequest('fromMsg', '', '3E00')]) as never,
    );
    assert.deepEqual(statusHistory(helper.getNode('gone')), [{ fill: 'red', shape: 'ring', text: 'no ECU' }]);
    assert.equal(translate('openobd.status.noEcu', {}, 'de'), 'kein Steuergerät');
    const missing = /^Select an ECU in the ECU field of this node: the ECU configuration it names is missing/;
    assert.match(warningsOf('gone').join('|'), missing);
    assert.deepEqual(warningsOf('fromMsg'), []);
    assert.deepEqual(statusHistory(helper.getNode('fromMsg')), []);
    const c = await caughtFrom('gone', { payload: '3E00' });
    assert.equal(c.error.code, 'BAD_CONFIG');
    assert.match(c.error.message, missing);
    const s = await session();
    const ok = nextMessage(helper.getNode('answered'));
    helper.getNode('fromMsg').receive({ openobd: { ...s.openobd, ecu: { requestId: '7E0', responseId: '7E8' } } });
    assert.equal((await ok).payload, '7E00');
  });

  it('BAD_CONFIG at deploy: download without an ECU or with a malformed Address, CAN frames with a malformed filter', async function () {
    const download = (id: string, ecu: string, address: string) => ({
      id,
      type: 'openobd-download',
      ecu,
      address,
      addressBytes: 4,
      sizeBytes: 4,
      dataFormat: '00',
      timeout: '',
      wires: [[]],
    });
    const frames = { id: 'frames', type: 'openobd-can-frames', mode: 'listen', busName: 'CAN-FRAMES', pinPlus: 6, pinMinus: 14 };
    await helper.load(
      [openobdNodes, catchNode] as never,
      flow([
        download('noEcu', '', '00080000'),
        download('badAddress', 'engine', '0008G000'),
        download('fine', 'engine', ''),
        { ...frames, bitRate: 500, filters: '0C9, 7Q0', output: 'frame', batchMs: '', maxRate: '', wires: [[]] },
      ]) as never,
    );
    assert.equal(statusHistory(helper.getNode('noEcu')).at(-1)?.text, 'no ECU');
    assert.equal(statusHistory(helper.getNode('badAddress')).at(-1)?.text, 'bad configuration');
    assert.deepEqual(warningsOf('badAddress'), ["The node's Address field '0008G000' is not a hex address (up to 8 digits)"]);
    assert.deepEqual(warningsOf('fine'), []);
    assert.equal(statusHistory(helper.getNode('frames')).at(-1)?.text, 'bad configuration');
    assert.deepEqual(warningsOf('frames'), ["The node's Filters field: '7Q0' is not a CAN id or id/mask (e.g. 0C9 or 700/700)"]);
    const c = await caughtFrom('noEcu', { payload: '00 11' });
    assert.equal(c.error.code, 'BAD_CONFIG');
    assert.match(c.error.message, /^Select an ECU in the ECU field of this node/);
  });

  it('INVALID_ARGUMENT: wrong credentials, shown on deploy as a red status and caught per message', async function () {
    const sim = new OpenObdSimulator();
    await sim.start();
    try {
      await helper.load(
        [openobdNodes, catchNode] as never,
        flow([], { mode: 'custom', host: '127.0.0.1', port: sim.port, tls: false }) as never,
        { account: { clientId: 'simulator-partner', clientSecret: 'not-the-secret' } } as never,
      );
      // On deploy, before any message: the account checks the credentials and its flow nodes turn red.
      const start = helper.getNode('start');
      const red = { fill: 'red', shape: 'ring', text: 'wrong credentials' };
      const deadline = Date.now() + 5000;
      while (statusHistory(start).at(-1)?.fill !== 'red' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(statusHistory(start).at(-1), red, JSON.stringify(statusHistory(start)));
      const c = await caughtFrom('start', { payload: '1001' });
      assert.equal(c.error.code, 'INVALID_ARGUMENT');
      assert.match(c.error.message, /rejected the partner credentials/);
      assert.ok(!JSON.stringify(c).includes('not-the-secret'));
      // Bounded attempts: deploy check + this message make one call; the cooldown answers the rest.
      for (let i = 0; i < 5; i++) assert.equal((await caughtFrom('start', { payload: '1001' })).error.code, 'INVALID_ARGUMENT');
      assert.equal(statusHistory(start).at(-1)?.fill, 'red', 'still red after the failed messages');
      assert.equal(sim.callCounts.get('sessionController.getSessionControllerToken'), 1);
    } finally {
      await helper.unload();
      await sim.stop();
    }
  });

  it('INSECURE_ENDPOINT: plaintext to a non-loopback host is refused unless allowed', async function () {
    await helper.load(
      [openobdNodes, catchNode] as never,
      flow([], { mode: 'custom', host: 'diag.example.com', port: 50051, tls: false, allowInsecure: false }) as never,
      { account: { clientId: 'x', clientSecret: 'y' } } as never,
    );
    const c = await caughtFrom('start', { payload: '1001' });
    assert.equal(c.error.code, 'INSECURE_ENDPOINT');
    assert.match(c.error.message, /Refusing plaintext gRPC to diag\.example\.com/);
  });
});

/** openOBD's "already authenticated" gets advice that fits the call it refused. */
describe('PERMISSION_DENIED "already authenticated": the advice fits the refused call', function () {
  const refusal = {
    code: 7, // PERMISSION_DENIED
    details: 'Session is already authenticated, at this point the authenticate() call is not permitted',
    message: '',
    name: 'Error',
    metadata: undefined,
  };

  it('a refused authenticate: start a new session (the one-time token was used)', function () {
    const e = fromGrpcError(refusal, 'session.authenticate');
    assert.equal(e.code, 'PERMISSION_DENIED');
    assert.equal(e.situation, 'alreadyAuthenticated');
    assert.match(e.message, /^Start a new session: /);
  });

  it("a procedure call's context start: the procedure was not called, the session goes on", function () {
    const e = fromGrpcError(refusal, 'function.startFunctionContext');
    assert.equal(e.code, 'PERMISSION_DENIED');
    assert.equal(e.situation, undefined, 'not "already claimed" on the status');
    assert.match(e.message, /^The procedure was not called: /);
    assert.match(e.message, /The session itself can still be used$/);
    assert.doesNotMatch(e.message, /new session|one-time/);
  });

  it('another call: names the call, no advice to start a new session', function () {
    const e = fromGrpcError(refusal, 'ui.openUserInterfaceStream');
    assert.match(
      e.message,
      /^ui\.openUserInterfaceStream failed: openOBD does not allow this call on a session that is already authenticated/,
    );
    assert.doesNotMatch(e.message, /new session/);
  });
});
