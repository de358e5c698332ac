import assert from 'node:assert/strict';
import {
  codec,
  type EcuSpec,
  type OpenObdError,
  type Session,
  type SessionController,
  type SessionOptions,
  type UdsExchange,
} from '../../client';
import type { OpenObdSimulator, SimulatorOptions } from '../../simulator';
import { ENGINE, FUNCTIONAL, TRANSMISSION, controllerFor, delay, startSimulator, waitFor } from '../support/sim';

/*
 * The client library's diagnostic requests against the simulated default car (simulator/vehicle/README.md),
 * over real gRPC on loopback. Expected answers are written out byte for byte from the README and
 * default-vehicle.json, not computed by the simulator, so a change on either side shows up here.
 */

const VIN = 'WVWZZZAU6KW204711';
const VIN_HEX = Buffer.from(VIN, 'latin1').toString('hex').toUpperCase();
const ascii = (text: string): string => Buffer.from(text, 'latin1').toString('hex').toUpperCase();
/** Engine security level 1: key = seed XOR 4F 50 45 4E (README). */
const ENGINE_KEY_MASK = Buffer.from('4F50454E', 'hex');

/** Short client-side timings where the car's behaviour does not need the defaults (keeps the suite fast). */
const FAST_UDS: SessionOptions['uds'] = { functionalWindowMs: 300, busyRetryDelayMs: 20, suppressedWaitMs: 150, timeoutMs: 2000 };

function only(exchange: UdsExchange) {
  assert.equal(exchange.responses.length, 1, `exactly one answer expected, got ${exchange.responses.map((r) => r.hex).join(', ')}`);
  return exchange.responses[0]!;
}

/** The answers of a functional exchange as [response id, hex], in CAN id order. */
function byResponder(exchange: UdsExchange): Array<[number, string]> {
  return exchange.responses.map((r): [number, string] => [r.ecu.responseId, r.hex]).sort((a, b) => a[0] - b[0]);
}

describe('client library <-> simulator: diagnostic requests to the default car', function () {
  this.timeout(20000);
  let sim: OpenObdSimulator | undefined;
  let controller: SessionController | undefined;
  const open: Session[] = [];

  async function boot(simOptions: SimulatorOptions = {}, uds: SessionOptions['uds'] = FAST_UDS): Promise<Session> {
    sim = await startSimulator(simOptions);
    controller = controllerFor(sim, { session: { uds } });
    const session = await controller.startSession({ ticketId: '1001' });
    open.push(session);
    return session;
  }

  function simulator(): OpenObdSimulator {
    assert.ok(sim, 'simulator started');
    return sim;
  }

  afterEach(async function () {
    for (const s of open.splice(0)) s.close();
    controller?.close();
    controller = undefined;
    await sim?.stop();
    sim = undefined;
  });

  /** 10 03, then the seed/key exchange at level 1; asserts every answer on the way. */
  async function unlockEngine(session: Session): Promise<void> {
    // P2 = 50 ms (0032), P2* = 5000 ms in units of 10 ms (01F4).
    assert.equal(only(await session.request(ENGINE, '1003')).hex, '5003003201F4');
    const seedAnswer = only(await session.request(ENGINE, '2701'));
    assert.match(seedAnswer.hex, /^6701[0-9A-F]{8}$/);
    const seed = seedAnswer.payload.subarray(2);
    assert.ok(
      seed.some((b) => b !== 0),
      'a locked ECU never sends an all-zero seed',
    );
    const key = Buffer.from(seed.map((b, i) => b ^ ENGINE_KEY_MASK[i]!));
    const unlocked = only(await session.request(ENGINE, Buffer.concat([Buffer.of(0x27, 0x02), key])));
    assert.equal(unlocked.hex, '6702');
    assert.deepEqual(codec.decodeResponse(Buffer.of(0x27, 0x02), unlocked.payload), {
      securityAccessType: 2,
      step: 'sendKey',
      unlocked: true,
    });
  }

  describe('VIN', function () {
    it('22 F190 to the engine answers 62 F190 + the 17 VIN characters (20 bytes), and decodeResponse gives the VIN', async function () {
      const session = await boot();
      const exchange = await session.request(ENGINE, '22 F1 90');
      assert.equal(exchange.requestHex, '22F190');
      assert.equal(exchange.functional, false);
      const answer = only(exchange);
      assert.equal(answer.hex, `62F190${VIN_HEX}`);
      assert.equal(answer.payload.length, 20, 'a multi-frame answer on a real bus');
      assert.equal(answer.positive, true);
      assert.equal(answer.sid, 0x22);
      assert.deepEqual(answer.ecu, { requestId: 0x7e0, responseId: 0x7e8 });
      assert.equal(answer.pendingCount, 0);
      const decoded = codec.decodeResponse(Buffer.from('22F190', 'hex'), answer.payload);
      assert.ok(decoded);
      assert.equal(decoded.did, 'F190');
      assert.equal(decoded.name, 'VIN');
      assert.equal(decoded.text, VIN);
      assert.equal(decoded.vin, VIN);
      assert.equal(decoded.wmi, 'WVW');
      assert.equal(decoded.manufacturer, 'Volkswagen');
      assert.equal(decoded.wellFormed, true);
      assert.deepEqual(decoded.checkDigit, { expected: '6', actual: '6', valid: true });
    });

    it('OBD 09 02 on the functional id 7DF gets exactly one answer, from the engine: 49 02 01 + VIN', async function () {
      const session = await boot();
      const exchange = await session.request(FUNCTIONAL, '0902');
      assert.equal(exchange.functional, true);
      assert.deepEqual(byResponder(exchange), [[0x7e8, `490201${VIN_HEX}`]]);
      assert.deepEqual(exchange.responses[0]!.ecu, { requestId: 0, responseId: 0x7e8 });
      const decoded = codec.decodeResponse(Buffer.from('0902', 'hex'), exchange.responses[0]!.payload);
      assert.equal(decoded?.vin, VIN);
      assert.equal(decoded?.modelYear, 2019, 'position 10 "K"');
    });

    it('a functional 01 00 collects both OBD ECUs, each with its response id and supported-PID bitmap', async function () {
      const session = await boot();
      const exchange = await session.request(FUNCTIONAL, '0100');
      assert.deepEqual(byResponder(exchange), [
        [0x7e8, '4100B83B8013'],
        [0x7e9, '410080080010'],
      ]);
      const engine = exchange.responses.find((r) => r.ecu.responseId === 0x7e8)!;
      assert.deepEqual(codec.decodeResponse(Buffer.from('0100', 'hex'), engine.payload)?.supportedPids, [
        '01',
        '03',
        '04',
        '05',
        '0B',
        '0C',
        '0D',
        '0F',
        '10',
        '11',
        '1C',
        '1F',
        '20',
      ]);
      const transmission = exchange.responses.find((r) => r.ecu.responseId === 0x7e9)!;
      assert.deepEqual(codec.decodeResponse(Buffer.from('0100', 'hex'), transmission.payload)?.supportedPids, ['01', '0D', '1C']);
    });
  });

  describe('DTCs', function () {
    it('19 02 FF lists the engine DTCs with statuses; 14 FFFFFF answers 54; afterwards 19 02 FF is empty', async function () {
      const session = await boot();
      const read = only(await session.request(ENGINE, '1902FF'));
      assert.equal(read.hex, '5902FF030100AF0171000804420024');
      const decoded = codec.decodeResponse(Buffer.from('1902FF', 'hex'), read.payload);
      assert.ok(decoded);
      assert.equal(decoded.reportTypeName, 'reportDTCByStatusMask');
      assert.equal(decoded.statusAvailabilityMask, 0xff);
      const dtcs = decoded.dtcs as Array<{ code: string; status: number; statusBits: codec.DtcStatus }>;
      assert.deepEqual(
        dtcs.map((d) => [d.code, d.status]),
        [
          ['P0301-00', 0xaf],
          ['P0171-00', 0x08],
          ['P0442-00', 0x24],
        ],
      );
      assert.deepEqual(dtcs[0]!.statusBits, {
        testFailed: true,
        testFailedThisOperationCycle: true,
        pendingDTC: true,
        confirmedDTC: true,
        testNotCompletedSinceLastClear: false,
        testFailedSinceLastClear: true,
        testNotCompletedThisOperationCycle: false,
        warningIndicatorRequested: true,
      });
      assert.equal(dtcs[2]!.statusBits.pendingDTC, true);
      assert.equal(dtcs[2]!.statusBits.confirmedDTC, false);

      const clear = only(await session.request(ENGINE, '14FFFFFF'));
      assert.equal(clear.hex, '54');
      assert.deepEqual(codec.decodeResponse(Buffer.from('14FFFFFF', 'hex'), clear.payload), { cleared: true });

      // A cleared DTC gets status 00 and leaves 19 02 (README "Behaviour decisions").
      const after = only(await session.request(ENGINE, '1902FF'));
      assert.equal(after.hex, '5902FF');
      assert.deepEqual(codec.decodeResponse(Buffer.from('1902FF', 'hex'), after.payload)?.dtcs, []);
      // The transmission was not asked to clear: its DTCs are untouched.
      assert.equal(only(await session.request(TRANSMISSION, '1902FF')).hex, '5902FF07151C09C1008708');
    });

    it('OBD 03 on 7DF lists the confirmed DTCs of each ECU; after a functional 04 both report none', async function () {
      const session = await boot();
      const before = await session.request(FUNCTIONAL, '03');
      assert.deepEqual(byResponder(before), [
        [0x7e8, '430203010171'],
        [0x7e9, '43020715C100'],
      ]);
      const decodedEngine = codec.decodeResponse(Buffer.of(0x03), before.responses.find((r) => r.ecu.responseId === 0x7e8)!.payload);
      assert.deepEqual(decodedEngine?.dtcs, ['P0301', 'P0171']);
      assert.deepEqual(
        (decodedEngine?.details as Array<{ description: string }>).map((d) => d.description),
        ['Cylinder 1 misfire detected', 'System too lean (bank 1)'],
      );
      const decodedTransmission = codec.decodeResponse(Buffer.of(0x03), before.responses.find((r) => r.ecu.responseId === 0x7e9)!.payload);
      assert.deepEqual(decodedTransmission?.dtcs, ['P0715', 'U0100']);
      assert.equal(decodedTransmission?.count, 2);

      const clear = await session.request(FUNCTIONAL, '04');
      assert.deepEqual(byResponder(clear), [
        [0x7e8, '44'],
        [0x7e9, '44'],
      ]);

      const after = await session.request(FUNCTIONAL, '03');
      assert.deepEqual(byResponder(after), [
        [0x7e8, '4300'],
        [0x7e9, '4300'],
      ]);
    });

    it('a new session on the same ticket (a new operation cycle) brings back only the still-present faults', async function () {
      const first = await boot();
      assert.equal(only(await first.request(ENGINE, '14FFFFFF')).hex, '54');
      assert.deepEqual(byResponder(await first.request(FUNCTIONAL, '04')), [
        [0x7e8, '44'],
        [0x7e9, '44'],
      ]);
      assert.equal(only(await first.request(ENGINE, '1902FF')).hex, '5902FF');
      await first.finish({ result: 'RESULT_SUCCESS' });

      const second = await controller!.startSession({ ticketId: '1001' });
      open.push(second);
      assert.notEqual(second.id, first.id);
      // P0301-00 and P0715-1C have stillPresent: they return with their JSON status. The others stay cleared.
      assert.equal(only(await second.request(ENGINE, '1902FF')).hex, '5902FF030100AF');
      assert.equal(only(await second.request(TRANSMISSION, '1902FF')).hex, '5902FF07151C09');
      assert.deepEqual(byResponder(await second.request(FUNCTIONAL, '03')), [
        [0x7e8, '43010301'],
        [0x7e9, '43010715'],
      ]);
    });
  });

  describe('response pending and busy', function () {
    it('31 01 FF00 succeeds after 3 "response pending" answers 1.5 s apart: each one restarts P2* (2500 ms), first-answer timeout 1000 ms', async function () {
      const session = await boot();
      await unlockEngine(session);
      const started = Date.now();
      const exchange = await session.request(ENGINE, '3101FF00', { timeoutMs: 1000, pendingTimeoutMs: 2500 });
      const answer = only(exchange);
      assert.equal(answer.hex, '7101FF0000');
      assert.equal(answer.positive, true);
      assert.equal(answer.pendingCount, 3);
      // 3 × 1.5 s: longer than any single fixed timeout of 2.5 s would allow.
      assert.ok(answer.elapsedMs >= 4400, `answered after ${answer.elapsedMs} ms`);
      assert.ok(Date.now() - started < 7000);
      assert.equal(exchange.busyRetries, 0);
      assert.deepEqual(codec.decodeResponse(Buffer.from('3101FF00', 'hex'), answer.payload), {
        routineId: 'FF00',
        controlType: 1,
        controlTypeName: 'startRoutine',
        statusHex: '00',
      });
    });

    it('the same routine with a P2* of 1000 ms (< the 1.5 s gap) ends in TIMEOUT that mentions "response pending"', async function () {
      const session = await boot();
      await unlockEngine(session);
      const started = Date.now();
      await assert.rejects(session.request(ENGINE, '3101FF00', { timeoutMs: 1000, pendingTimeoutMs: 1000 }), (err: OpenObdError) => {
        assert.equal(err.code, 'TIMEOUT');
        assert.equal(
          err.message,
          'ECU 7E0 (answers on 7E8) answered "response pending" 1 time(s) to 3101FF00, then nothing within 1000 ms',
        );
        assert.match(err.message, /response pending/);
        return true;
      });
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 950 && elapsed < 1450, `gave up after ${elapsed} ms (first pending at ~5 ms + 1000 ms)`);
    });

    it('31 01 0203 (busy twice) succeeds after 2 automatic repeats', async function () {
      const session = await boot();
      assert.equal(only(await session.request(ENGINE, '1003')).hex, '5003003201F4');
      const exchange = await session.request(ENGINE, '31010203');
      assert.equal(only(exchange).hex, '7101020300');
      assert.equal(exchange.busyRetries, 2);
      assert.equal(exchange.responses[0]!.pendingCount, 0);
    });

    it('with busyRetries: 1 the second busy answer is the result: 7F 31 21, busyRepeatRequest', async function () {
      const session = await boot();
      assert.equal(only(await session.request(ENGINE, '1003')).hex, '5003003201F4');
      const exchange = await session.request(ENGINE, '31010203', { busyRetries: 1 });
      const answer = only(exchange);
      assert.equal(answer.hex, '7F3121');
      assert.equal(answer.positive, false);
      assert.equal(answer.nrc, 0x21);
      assert.equal(answer.nrcName, 'busyRepeatRequest');
      assert.equal(exchange.busyRetries, 1);
    });
  });

  describe('timeouts and stray answers', function () {
    it('a withheld engine answer gives TIMEOUT after about timeoutMs; after faults.clear() the same session works again', async function () {
      const session = await boot();
      const s = simulator();
      s.faults.withholdResponses('engine'); // the ECU name in default-vehicle.json
      const started = Date.now();
      await assert.rejects(session.request(ENGINE, '22F190', { timeoutMs: 400 }), (err: OpenObdError) => {
        assert.equal(err.code, 'TIMEOUT');
        assert.equal(
          err.message,
          "Check the ignition and the ECU's CAN ids: no response from ECU 7E0 (answers on 7E8) within 400 ms to 22F190",
        );
        return true;
      });
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 390 && elapsed < 900, `timed out after ${elapsed} ms`);
      // Only the engine is withheld: the transmission still answers meanwhile.
      assert.equal(only(await session.request(TRANSMISSION, '22F190')).hex, `62F190${VIN_HEX}`);

      s.faults.clear();
      assert.equal(only(await session.request(ENGINE, '22F190')).hex, `62F190${VIN_HEX}`);
      assert.equal(session.state, 'active');
    });

    /*
     * Timeline (engine answers delayed by 400 ms, so each answer comes at send + ~405 ms):
     *   t=0     A is sent; A times out at t=100
     *   t≈100   B is sent on the same channel
     *   t≈405   A's late answer arrives while B waits: it must be skipped (counted as a stray)
     *   t≈505   B's own answer arrives
     * The late answer reaches B ~300 ms after B started, far from either edge, so the order cannot flip.
     */
    it('a late answer to a timed-out 22 F190 arriving during 22 F187 is not taken as its answer (DID echo)', async function () {
      const session = await boot();
      simulator().faults.delayResponses(400, 'engine');
      await assert.rejects(session.request(ENGINE, '22F190', { timeoutMs: 100 }), (err: OpenObdError) => err.code === 'TIMEOUT');
      const exchange = await session.request(ENGINE, '22F187', { timeoutMs: 2000 });
      assert.equal(only(exchange).hex, `62F187${ascii('04E906027JT')}`);
      assert.equal(exchange.strays, 1, 'the late 62 F190 answer arrived during the request and was skipped');
      assert.ok(exchange.elapsedMs >= 390, `B waited for its own answer (${exchange.elapsedMs} ms)`);
    });

    it('a late answer of another service (7E 00 to a timed-out 3E 00) is skipped by the SID check', async function () {
      const session = await boot();
      simulator().faults.delayResponses(400, 0x7e8); // selected by response id this time
      await assert.rejects(session.request(ENGINE, '3E00', { timeoutMs: 100 }), (err: OpenObdError) => err.code === 'TIMEOUT');
      // 0x14 echoes nothing, so only the SID (54 ≠ 7E) tells the late 7E 00 from the real answer.
      const exchange = await session.request(ENGINE, '14FFFFFF', { timeoutMs: 2000 });
      assert.equal(only(exchange).hex, '54');
      assert.equal(exchange.strays, 1);
    });
  });

  describe('negative responses', function () {
    async function negative(session: Session, ecu: EcuSpec, payload: string, hex: string, nrc: number, nrcName: string): Promise<void> {
      const answer = only(await session.request(ecu, payload));
      assert.deepEqual(
        { hex: answer.hex, positive: answer.positive, nrc: answer.nrc, nrcName: answer.nrcName, sid: answer.sid },
        { hex, positive: false, nrc, nrcName, sid: Buffer.from(payload, 'hex')[0] },
        `answer to ${payload}`,
      );
      assert.equal(codec.decodeResponse(Buffer.from(payload, 'hex'), answer.payload), undefined, 'nothing to decode in a negative answer');
    }

    it('unsupported DID, service in the wrong session, unsupported sub-function and bad length get their NRC names', async function () {
      const session = await boot();
      await negative(session, ENGINE, '22FFFF', '7F2231', 0x31, 'requestOutOfRange');
      await negative(session, ENGINE, '2EF198010203040506', '7F2E7F', 0x7f, 'serviceNotSupportedInActiveSession');
      await negative(session, ENGINE, '107F', '7F1012', 0x12, 'subFunctionNotSupported');
      await negative(session, ENGINE, '3E0000', '7F3E13', 0x13, 'incorrectMessageLengthOrInvalidFormat');
      await negative(session, ENGINE, '3E', '7F3E13', 0x13, 'incorrectMessageLengthOrInvalidFormat');
    });

    it('security access: 27 02 without a seed is requestSequenceError (24); a wrong key is invalidKey (35)', async function () {
      const session = await boot();
      assert.equal(only(await session.request(ENGINE, '1003')).hex, '5003003201F4');
      await negative(session, ENGINE, '270200000000', '7F2724', 0x24, 'requestSequenceError');
      const seedAnswer = only(await session.request(ENGINE, '2701'));
      assert.match(seedAnswer.hex, /^6701[0-9A-F]{8}$/);
      const key = Buffer.from(seedAnswer.payload.subarray(2).map((b, i) => b ^ ENGINE_KEY_MASK[i]!));
      key[3] ^= 0x01; // one bit off
      await negative(session, ENGINE, `2702${key.toString('hex')}`, '7F2735', 0x35, 'invalidKey');
      // Still locked: a protected write is refused with securityAccessDenied.
      await negative(session, ENGINE, '2EF198010203040506', '7F2E33', 0x33, 'securityAccessDenied');
    });
  });

  describe('suppressed positive response (SPRMIB)', function () {
    it('3E 80 resolves with suppressed === true and no answers, after the short suppressed wait', async function () {
      const session = await boot();
      const exchange = await session.request(ENGINE, '3E80');
      assert.equal(exchange.suppressed, true);
      assert.deepEqual(exchange.responses, []);
      assert.equal(exchange.requestHex, '3E80');
      assert.ok(exchange.elapsedMs >= 140 && exchange.elapsedMs < 1000, `waited ${exchange.elapsedMs} ms for a negative answer`);
      // SPRMIB drops only a positive answer: a negative one still arrives and is reported.
      const bad = await session.request(ENGINE, '3E8000');
      assert.equal(bad.suppressed, false);
      assert.equal(only(bad).hex, '7F3E13');
    });
  });

  describe('payload validation', function () {
    it('bad payloads fail with BAD_PAYLOAD and a readable message before anything is sent', async function () {
      const session = await boot();
      const s = simulator();
      const cases: Array<[unknown, string]> = [
        ['GG', "Payload is not valid hex: 'G' at position 1 is not a hex digit"],
        ['123', 'Payload has an odd number of hex digits (3)'],
        ['', 'Payload is empty'],
        [Buffer.alloc(4096), 'Payload is 4096 bytes; ISO-TP carries at most 4095'],
        [[0x22, 256], 'Payload array item 1 is 256; each item must be a whole number from 0 to 255'],
      ];
      for (const [payload, message] of cases) {
        await assert.rejects(session.request(ENGINE, payload), (err: OpenObdError) => {
          assert.equal(err.code, 'BAD_PAYLOAD', `code for ${JSON.stringify(payload)?.slice(0, 30)}`);
          assert.equal(err.message, message);
          return true;
        });
      }
      assert.equal(s.callCounts.get('config.configureBus') ?? 0, 0, 'no bus was configured');
      assert.equal(s.callCounts.get('can.openIsotpStream') ?? 0, 0, 'no ISO-TP stream was opened');
      assert.equal(session.stats.isotpStreams, 0);
      // A Buffer of exactly 4095 bytes passes validation and reaches the ECU: 22 F190 + 2046 unsupported
      // DIDs (FFFF), of which the ECU answers only the supported one.
      const longest = Buffer.alloc(4095, 0xff);
      longest.set([0x22, 0xf1, 0x90]);
      assert.equal(only(await session.request(ENGINE, longest)).hex, `62F190${VIN_HEX}`);
    });

    it('a functional request longer than one CAN frame (7 bytes) is refused instead of timing out', async function () {
      const session = await boot();
      await assert.rejects(session.request(FUNCTIONAL, '0100200040006000'), (err: OpenObdError) => {
        assert.equal(err.code, 'BAD_PAYLOAD');
        assert.match(err.message, /must fit in one CAN frame \(at most 7 bytes\); this one has 8/);
        return true;
      });
      assert.equal((await session.request(FUNCTIONAL, '01000C0D05')).responses.length, 2);
    });
  });

  describe('bus configuration', function () {
    it('two ECUs on the same bus configure it once', async function () {
      const session = await boot();
      const s = simulator();
      assert.equal(only(await session.request(ENGINE, '3E00')).hex, '7E00');
      assert.equal(only(await session.request(TRANSMISSION, '3E00')).hex, '7E00');
      assert.equal(only(await session.request(ENGINE, '22F189')).hex, `62F189${ascii('3015')}`);
      assert.equal(s.callCounts.get('config.configureBus'), 1);
    });

    it('a second bus on other pins is added to the first (union); the car does not answer on pins 3/11', async function () {
      const session = await boot();
      const s = simulator();
      assert.equal(only(await session.request(ENGINE, '3E00')).hex, '7E00');
      const wrongPins: EcuSpec = { bus: { name: 'body-can', pinPlus: 3, pinMinus: 11 }, requestId: 0x7e0, responseId: 0x7e8 };
      await assert.rejects(session.request(wrongPins, '22F190', { timeoutMs: 300 }), (err: OpenObdError) => {
        assert.equal(err.code, 'TIMEOUT');
        assert.equal(
          err.message,
          "Check the ignition and the ECU's CAN ids: no response from ECU 7E0 (answers on 7E8) within 300 ms to 22F190",
        );
        return true;
      });
      assert.equal(s.callCounts.get('config.configureBus'), 2);
      const configuration = await session.getConfiguration();
      const buses = [...configuration.buses].sort((a, b) => a.bus_name.localeCompare(b.bus_name));
      assert.deepEqual(
        buses.map((b) => [b.bus_name, b.can_bus?.pin_plus, b.can_bus?.pin_min, b.can_bus?.can_protocol, b.can_bus?.can_bit_rate]),
        [
          ['body-can', 3, 11, 'CAN_PROTOCOL_ISOTP', 'CAN_BIT_RATE_500'],
          ['obd-can', 6, 14, 'CAN_PROTOCOL_ISOTP', 'CAN_BIT_RATE_500'],
        ],
      );
      const channels = configuration.channels
        .map((c) => `${c.isotp_channel?.bus_name}:${c.isotp_channel?.request_id.toString(16)}/${c.isotp_channel?.response_id.toString(16)}`)
        .sort();
      assert.deepEqual(channels, ['body-can:7e0/7e8', 'obd-can:7e0/7e8']);
      // The first bus is still configured (not replaced): the engine still answers on it.
      assert.equal(only(await session.request(ENGINE, '3E00')).hex, '7E00');
      assert.equal(s.callCounts.get('config.configureBus'), 2);
    });
  });

  describe('concurrency', function () {
    it('20 concurrent requests to engine and transmission on one session each get their own answer', async function () {
      const session = await boot();
      const s = simulator();
      const engine: Array<[string, string]> = [
        ['F187', ascii('04E906027JT')],
        ['F188', ascii('04E906027HB')],
        ['F189', ascii('3015')],
        ['F18A', ascii('OBDFLOW-SIM')],
        ['F18B', '190312'],
        ['F18C', ascii('EM19B0012345')],
        ['F190', VIN_HEX],
        ['F191', ascii('04E907309AB')],
        ['F195', ascii('S3015')],
        ['F197', ascii('R4 1.4l TSI')],
      ];
      const transmission: Array<[string, string]> = [
        ['F187', ascii('0CW300041H')],
        ['F188', ascii('0CW300041G')],
        ['F189', ascii('1520')],
        ['F18C', ascii('TC19A0054321')],
        ['F190', VIN_HEX],
        ['F191', ascii('0CW927711')],
        ['F195', ascii('S1520')],
        ['F197', ascii('DCT 7-speed')],
        ['F186', '01'],
        ['F18A', ''], // not in the transmission: 7F 22 31
      ];
      const jobs = engine.flatMap((e, i) => [
        { ecu: ENGINE, did: e[0], expected: `62${e[0]}${e[1]}` },
        {
          ecu: TRANSMISSION,
          did: transmission[i]![0],
          expected: transmission[i]![0] === 'F18A' ? '7F2231' : `62${transmission[i]![0]}${transmission[i]![1]}`,
        },
      ]);
      assert.equal(jobs.length, 20);
      const results = await Promise.all(jobs.map((j) => session.request(j.ecu, `22${j.did}`)));
      results.forEach((exchange, i) => {
        const job = jobs[i]!;
        const answer = only(exchange);
        assert.equal(answer.hex, job.expected, `22 ${job.did} to ${job.ecu.requestId.toString(16)}`);
        assert.equal(answer.ecu.responseId, job.ecu.responseId);
        assert.equal(exchange.strays, 0);
      });
      assert.equal(s.callCounts.get('config.configureBus'), 1, 'configured once for all 20');
      assert.equal(s.callCounts.get('can.openIsotpStream'), 1, 'one shared ISO-TP stream');
    });
  });

  describe('connector and vehicle information', function () {
    it('getConnectorInformation, watchConnector (2+ messages at 100 ms) and getEcuList with the 3 ECUs', async function () {
      const session = await boot({ connectorInfoIntervalMs: 100 });
      const s = simulator();
      const connector = s.connectors.get(s.connectorIds()[0]!)!;
      assert.deepEqual(await session.getConnectorInformation(), {
        connected: true,
        connected_since: String(connector.connectedSince),
        latency: 35,
        healthy: true,
      });

      const seen: unknown[] = [];
      const errors: OpenObdError[] = [];
      const stop = session.watchConnector(
        (info) => seen.push(info),
        (err) => errors.push(err),
      );
      await waitFor(() => seen.length >= 3, 3000, 'three connector messages');
      stop();
      for (const info of seen)
        assert.deepEqual(info, { connected: true, connected_since: String(connector.connectedSince), latency: 35, healthy: true });
      await waitFor(() => s.stats().streams.connector === 0, 2000, 'the connector stream to close on the server');
      const count = seen.length;
      await delay(250);
      assert.equal(seen.length, count, 'no message after stop()');
      assert.deepEqual(errors, [], 'stopping is not an error');

      const { ecus } = await session.getEcuList();
      const canBus = { pin_plus: 6, pin_min: 14, can_protocol: 'CAN_PROTOCOL_ISOTP', can_bit_rate: 'CAN_BIT_RATE_500' };
      assert.deepEqual(
        ecus.map((e) => e.isotp_ecu),
        [
          { can_bus: canBus, request_id: 0x7e0, response_id: 0x7e8 },
          { can_bus: canBus, request_id: 0x7e1, response_id: 0x7e9 },
          { can_bus: canBus, request_id: 0x760, response_id: 0x768 },
        ],
      );
    });
  });
});
