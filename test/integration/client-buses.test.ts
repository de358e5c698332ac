import assert from 'node:assert/strict';
import {
  detectedEcus,
  type CanFrame,
  type DoipEcuSpec,
  type KlineEcuSpec,
  type OpenObdError,
  type Session,
  type SessionController,
  type Terminal15State,
  type Tp20EcuSpec,
} from '../../client';
import type { OpenObdSimulator, SimulatorOptions, VehicleDefinition } from '../../simulator';
import { loadVehicle } from '../../simulator';
import { ENGINE, controllerFor, delay, startSimulator, waitFor } from '../support/sim';

/*
 * Every bus openOBD offers besides ISO-TP, client library against the simulator over real gRPC: K-Line
 * (ISO 14230, KWP2000), VW TP 2.0, DoIP (ISO 13400), raw CAN frames and terminal 15, the union of
 * buses a session keeps, and the coded errors for bad input. Expected bytes are written out from
 * simulator/vehicle/classic-vehicle.json, fleet-vehicle.json and default-vehicle.json.
 */

const ascii = (text: string): string => Buffer.from(text, 'latin1').toString('hex').toUpperCase();
const CLASSIC_VIN = 'WVWZZZ1KZ6W612345';
const FLEET_VIN = 'WVWZZZAUZLW123456';

const KLINE = { kind: 'kline', name: 'K-LINE' } as const;
const AIRBAG: KlineEcuSpec = { transport: 'kline', bus: KLINE, ecuId: 0x15 };
const CENTRAL: KlineEcuSpec = { transport: 'kline', bus: KLINE, ecuId: 0x09 };
const TP20_ENGINE: Tp20EcuSpec = { transport: 'tp20', bus: { name: 'TP20' }, logicalAddress: 0x01 };
const DOIP_BUS = { kind: 'doip', name: 'DOIP', option: 2 } as const;
const ADAS: DoipEcuSpec = { transport: 'doip', bus: DOIP_BUS, gatewayId: 0x1010, testerId: 0x0e80, ecuId: 0x4011 };

const FAST = { timeoutMs: 800, suppressedWaitMs: 150, functionalWindowMs: 300, busyRetryDelayMs: 20 };

describe('client library <-> simulator: K-Line, TP 2.0, DoIP, raw CAN frames and terminal 15', function () {
  this.timeout(20000);
  let sim: OpenObdSimulator | undefined;
  let controller: SessionController | undefined;
  const open: Session[] = [];

  async function boot(ticketId: string, options: SimulatorOptions = {}): Promise<Session> {
    sim ??= await startSimulator(options);
    controller ??= controllerFor(sim, { session: { uds: FAST } });
    const session = await controller.startSession({ ticketId });
    open.push(session);
    return session;
  }

  afterEach(async function () {
    for (const s of open.splice(0)) s.close();
    controller?.close();
    controller = undefined;
    await sim?.stop();
    sim = undefined;
  });

  const configureCalls = () => sim?.callCounts.get('config.configureBus') ?? 0;

  describe('K-Line (ISO 14230, KWP2000) on the classic car, ticket 2001', function () {
    it('reads identification, DTCs and a local identifier, and keeps the session', async function () {
      const session = await boot('2001');
      const id = await session.request(AIRBAG, '1A 9B');
      assert.equal(id.responses[0]!.hex, `5A9B${ascii('1K0909605AB 0533AIRBAG VW8R   ')}`);
      assert.deepEqual(id.responses[0]!.ecu, { requestId: 0x15, responseId: 0x15 });
      assert.equal((await session.request(AIRBAG, '1A 90')).responses[0]!.hex, `5A90${ascii(CLASSIC_VIN)}`);
      // 18 statusOfDTC groupOfDTC: 58 n [DTC(2) status] (ISO 14230-3); 9072 status 23
      assert.equal((await session.request(AIRBAG, '18 02 FF 00')).responses[0]!.hex, '5801907223');
      assert.equal((await session.request(AIRBAG, '21 01')).responses[0]!.hex, '6101000000');
      assert.equal((await session.request(AIRBAG, '10 89')).responses[0]!.hex, '5089');
      // TesterPresent: 3E 01 is answered 7E; 3E 02 asks for no answer (no suppress bit in KWP2000).
      assert.equal((await session.request(AIRBAG, '3E 01')).responses[0]!.hex, '7E');
      const quiet = await session.request(AIRBAG, '3E 02');
      assert.equal(quiet.suppressed, true);
      assert.deepEqual(quiet.responses, []);
      // An unknown identification option is a negative answer, not a timeout.
      const neg = await session.request(AIRBAG, '1A 42');
      assert.equal(neg.responses[0]!.hex, '7F1A31');
      assert.equal(neg.responses[0]!.nrcName, 'requestOutOfRange');
      const config = await session.getConfiguration();
      assert.deepEqual(
        config.buses.map((b) => [b.bus_name, b.kline_bus?.pin, b.kline_bus?.kline_protocol, b.kline_bus?.kline_bit_rate]),
        [['K-LINE', 7, 'KLINE_PROTOCOL_ISO14230_FAST', 'KLINE_BIT_RATE_10400']],
      );
      assert.deepEqual(
        config.channels.map((c) => [c.ChannelDefinition, c.kline_channel?.ecu_id]),
        [['kline_channel', 0x15]],
      );
    });

    it('is one wire: exchanges with two ECUs run one after the other, each change of ECU costs an initialisation', async function () {
      const session = await boot('2001');
      await session.request(AIRBAG, '3E 01'); // initialises the airbag (fast init, 70 ms)
      const started = Date.now();
      const [a, b] = await Promise.all([session.request(AIRBAG, '1A 87'), session.request(CENTRAL, '1A 87')]);
      assert.equal(a.responses[0]!.hex, `5A87${ascii('1K0909605AB')}`);
      assert.equal(b.responses[0]!.hex, `5A87${ascii('1K0937049F')}`);
      // 10400 baud, P4 5 ms, P2 25 ms, P3 55 ms: the second waits for the first and initialises the central electrics.
      assert.ok(b.elapsedMs >= a.elapsedMs + 70, `second ${b.elapsedMs} ms after the first ${a.elapsedMs} ms + init`);
      assert.ok(Date.now() - started >= 250, `${Date.now() - started} ms for two K-Line exchanges`);
    });

    it('slow init takes its time; the wrong initialisation, baud rate or key bytes get no answer (TIMEOUT)', async function () {
      const classic = structuredClone(loadVehicle('classic').definition) as VehicleDefinition;
      classic.ecus.find((e) => e.name === 'instruments')!.kline!.initMs = 400;
      const session = await boot('3001', { garage: [{ ticketId: '3001', vehicle: classic }] });
      const instruments: KlineEcuSpec = { transport: 'kline', bus: { kind: 'kline', name: 'K-SLOW', init: 'slow' }, ecuId: 0x17 };
      const first = await session.request(instruments, '1A 89');
      assert.equal(first.responses[0]!.hex, `5A89${ascii('1201')}`);
      assert.ok(first.elapsedMs >= 400, `slow init: ${first.elapsedMs} ms`);
      const again = await session.request(instruments, '1A 89');
      assert.ok(again.elapsedMs < first.elapsedMs - 300, `initialised: ${again.elapsedMs} ms`);

      const fastBus = { kind: 'kline', name: 'K-SLOW', init: 'fast' } as const;
      await assert.rejects(session.request({ ...instruments, bus: fastBus }, '1A 89', { timeoutMs: 500 }), (err: OpenObdError) => {
        assert.equal(err.code, 'TIMEOUT');
        assert.match(err.message, /K-Line ECU 17 on K-SLOW/);
        return true;
      });
      // One K-Line per connector: the same bus name, redefined (another name on pin 7 would be a PIN_CONFLICT).
      const wrongKeys: KlineEcuSpec = { ...AIRBAG, bus: fastBus, keyBytes: [0x08, 0x08] };
      await assert.rejects(session.request(wrongKeys, '1A 89', { timeoutMs: 500 }), { code: 'TIMEOUT' });
      assert.equal(
        (await session.request({ ...AIRBAG, bus: fastBus, keyBytes: [0xef, 0x8f] as const }, '1A 89')).responses[0]!.hex,
        `5A89${ascii('0533')}`,
      );
      const slowBaud: KlineEcuSpec = { ...AIRBAG, bus: { ...fastBus, baud: 9600 } };
      await assert.rejects(session.request(slowBaud, '1A 89', { timeoutMs: 500 }), { code: 'TIMEOUT' });
      await assert.rejects(session.request({ ...AIRBAG, bus: { kind: 'kline', name: 'K-OTHER' } }, '1A 89'), { code: 'PIN_CONFLICT' });
    });

    it('bad K-Line input: an unsupported baud rate, an address or key bytes out of range, a payload over 255 bytes', async function () {
      const session = await boot('2001');
      const before = configureCalls();
      await assert.rejects(session.request({ ...AIRBAG, bus: { ...KLINE, baud: 19200 } }, '1A 9B'), {
        code: 'BAD_CONFIG',
        message: 'Unsupported K-Line baud rate 19200; openOBD supports 9600, 10400, 15625 (ISO 14230)',
      });
      await assert.rejects(session.request({ ...AIRBAG, ecuId: 0x100 }, '1A 9B'), { code: 'BAD_CONFIG', message: /one byte/ });
      await assert.rejects(session.request({ ...AIRBAG, keyBytes: [0xef] as unknown as [number, number] }, '1A 9B'), {
        code: 'BAD_CONFIG',
        message: /two bytes/,
      });
      await assert.rejects(session.request(AIRBAG, Buffer.alloc(256, 0x21)), {
        code: 'BAD_PAYLOAD',
        message: 'Payload is 256 bytes; at most 255 are allowed here',
      });
      assert.equal(configureCalls(), before, 'nothing was configured');
    });
  });

  describe('TP 2.0 on the classic car', function () {
    it('reads the engine (KWP2000 over TP 2.0, logical address 01)', async function () {
      const session = await boot('2001');
      const vin = await session.request(TP20_ENGINE, '1A 90');
      assert.equal(vin.responses[0]!.hex, `5A90${ascii(CLASSIC_VIN)}`);
      assert.deepEqual(vin.responses[0]!.ecu, { requestId: 1, responseId: 1 });
      assert.equal((await session.request(TP20_ENGINE, '18 02 FF 00')).responses[0]!.hex, '5802412CE3450923');
      assert.equal((await session.request(TP20_ENGINE, '21 01')).responses[0]!.hex, '6101010C1E058A5C140000');
      const config = await session.getConfiguration();
      assert.deepEqual(config.buses[0]!.can_bus, {
        pin_plus: 6,
        pin_min: 14,
        can_protocol: 'CAN_PROTOCOL_TP20',
        can_bit_rate: 'CAN_BIT_RATE_500',
      });
    });

    it('refuses ISO-TP and TP 2.0 on the same pins before anything is sent (PIN_CONFLICT), and keeps the TP 2.0 bus', async function () {
      const session = await boot('2001');
      await session.request(TP20_ENGINE, '3E 01');
      const before = configureCalls();
      await assert.rejects(session.request(ENGINE, '3E 00'), (err: OpenObdError) => {
        assert.equal(err.code, 'PIN_CONFLICT');
        assert.equal(
          err.message,
          "Use one bus (one name and definition) for these pins in this session, or a session of its own: buses 'TP20' and 'obd-can' would both use connector pin 6, and openOBD allows no two buses on the same pins",
        );
        return true;
      });
      assert.equal(configureCalls(), before, 'no configureBus was sent');
      assert.equal((await session.request(TP20_ENGINE, '3E 01')).responses[0]!.hex, '7E');
      await assert.rejects(session.request({ ...TP20_ENGINE, bus: { name: 'TP20', protocol: 'isotp' } }, '3E 01'), {
        code: 'BAD_CONFIG',
        message: "A TP 2.0 ECU needs a CAN bus with the TP 2.0 protocol; bus 'TP20' says 'isotp'",
      });
      await assert.rejects(session.request({ ...TP20_ENGINE, logicalAddress: -1 }, '3E 01'), { code: 'BAD_CONFIG' });
    });
  });

  describe('DoIP on the fleet car, ticket 2002', function () {
    it('reads UDS over DoIP through the gateway; the ECU list names each ECU with its transport', async function () {
      const session = await boot('2002');
      const vin = await session.request(ADAS, '22 F1 90');
      assert.equal(vin.responses[0]!.hex, `62F190${ascii(FLEET_VIN)}`);
      assert.deepEqual(vin.responses[0]!.ecu, { requestId: 0x0e80, responseId: 0x4011 });
      assert.equal((await session.request(ADAS, '10 03')).responses[0]!.hex, '5003003201F4');
      const ecus = detectedEcus(await session.getEcuList());
      assert.equal(ecus.length, 30);
      const count = (t: string) => ecus.filter((e) => e.transport === t).length;
      assert.deepEqual([count('isotp'), count('kline'), count('doip'), count('tp20')], [26, 1, 3, 0]);
      assert.deepEqual(
        ecus.filter((e) => e.transport !== 'isotp').map((e) => e.address),
        ['K-Line 18', 'DoIP 1010', 'DoIP 4011', 'DoIP 4012'],
      );
      assert.deepEqual(ecus.find((e) => e.address === 'DoIP 4011')!.spec, {
        transport: 'doip',
        bus: { kind: 'doip', name: 'DOIP', option: 2, networkConfiguration: 1 },
        gatewayId: 0x1010,
        testerId: 0x0e80,
        ecuId: 0x4011,
      });
      // A detected ECU's spec works as it is.
      const body = ecus.find((e) => e.address === '600/608')!;
      assert.equal((await session.request(body.spec, '22 F1 89')).responses[0]!.hex, `62F189${ascii('0031')}`);
    });

    it('an unknown gateway gets no answer; bad DoIP ids are refused before anything is sent (BAD_CONFIG)', async function () {
      const session = await boot('2002');
      await assert.rejects(session.request({ ...ADAS, gatewayId: 0x2020 }, '22 F1 90', { timeoutMs: 300 }), (err: OpenObdError) => {
        assert.equal(err.code, 'TIMEOUT');
        assert.equal(
          err.message,
          "Check the ignition and the ECU's DoIP gateway and ECU addresses: no response from DoIP ECU 4011 via gateway 2020 on DOIP within 300 ms to 22F190",
        );
        return true;
      });
      const before = configureCalls();
      await assert.rejects(session.request({ ...ADAS, ecuId: 0x10000 }, '22 F1 90'), {
        code: 'BAD_CONFIG',
        message: 'The DoIP ECU id must be a logical address from 0001 to FFFF hex (ISO 13400-2), got 10000',
      });
      await assert.rejects(session.request({ ...ADAS, testerId: 0 }, '22 F1 90'), { code: 'BAD_CONFIG', message: /tester id .* got 0000/ });
      await assert.rejects(session.request({ ...ADAS, testerId: 0x4011 }, '22 F1 90'), { code: 'BAD_CONFIG', message: /must differ/ });
      await assert.rejects(session.request({ ...ADAS, bus: { ...DOIP_BUS, option: 3 as 1 } }, '22 F1 90'), {
        code: 'BAD_CONFIG',
        message: /DoIP option must be 1 or 2/,
      });
      await assert.rejects(session.request({ ...ADAS, bus: { ...DOIP_BUS, networkConfiguration: 10 } }, '22 F1 90'), {
        code: 'BAD_CONFIG',
      });
      await assert.rejects(session.request({ transport: 'doip', bus: { kind: 'ethernet', name: 'X' } } as never, '22 F1 90'), {
        code: 'BAD_CONFIG',
        message: "Unknown bus kind 'ethernet'; use can, kline, doip or terminal15",
      });
      assert.equal(configureCalls(), before);
    });

    it('DoIP option 2 and terminal 15 both want pin 1: PIN_CONFLICT', async function () {
      const session = await boot('2002');
      await session.request(ADAS, '3E 00');
      await assert.rejects(
        session.watchTerminal15(() => undefined),
        (err: OpenObdError) => err.code === 'PIN_CONFLICT' && /buses 'DOIP' and 'KL15' would both use connector pin 1/.test(err.message),
      );
    });
  });

  describe('raw CAN frames on a frames bus (default car, ticket 1001)', function () {
    it('listens with an exact id filter and with a mask; sends a single frame and gets the ECU answer as frames', async function () {
      const session = await boot('1001');
      const bus = { name: 'CAN-FRAMES' };
      const exact: CanFrame[] = [];
      const masked: CanFrame[] = [];
      const errors: OpenObdError[] = [];
      const stopExact = await session.watchFrames(bus, {
        filters: [{ id: 0x0c9, mask: 0x7ff }],
        onFrame: (f) => exact.push(f),
        onError: (e) => errors.push(e),
      });
      await waitFor(() => exact.length >= 3, 3000, 'three 0C9 frames');
      assert.ok(exact.every((f) => f.id === 0x0c9));
      const counters = exact.map((f) => f.data[7]! & 0x0f);
      assert.deepEqual(
        counters.slice(1),
        counters.slice(1).map((_, i) => (counters[0]! + i + 1) & 0x0f),
        'an alive counter',
      );
      assert.match(exact[0]!.hex, /^000C30001A00000[0-9A-F]$/);
      stopExact();
      // 0x700 with mask 0x700: every id from 700 to 7FF, here the engine's answer on 7E8.
      const stopMasked = await session.watchFrames(bus, { filters: [{ id: 0x700, mask: 0x700 }], onFrame: (f) => masked.push(f) });
      assert.equal(await session.sendFrames(bus, [{ id: 0x7e0, data: '02 3E 00' }]), 1);
      await waitFor(() => masked.length >= 1, 2000, 'the answer frame');
      assert.deepEqual([masked[0]!.id, masked[0]!.hex], [0x7e8, '027E00AAAAAAAAAA']);
      // A multi-frame answer: first frame, then the rest after the tester's flow control.
      await session.sendFrames(bus, [{ id: 0x7e0, data: '03 22 F1 90' }]);
      await waitFor(() => masked.length >= 2, 2000, 'the first frame');
      assert.equal(masked[1]!.hex, `101462F190${ascii('WVW')}`);
      await session.sendFrames(bus, [{ id: 0x7e0, data: '30 00 00 00 00 00 00 00' }]);
      await waitFor(() => masked.length >= 4, 2000, 'the consecutive frames');
      assert.deepEqual(
        masked.slice(2, 4).map((f) => f.hex),
        [`21${ascii('ZZZAU6K')}`, `22${ascii('W204711')}`],
      );
      stopMasked();
      assert.deepEqual(errors, []);
      const config = await session.getConfiguration();
      assert.equal(config.buses[0]!.can_bus!.can_protocol, 'CAN_PROTOCOL_FRAMES');
    });

    it('a received frame labelled with request_id only reaches its listener; one without an id, or for nobody, is counted', async function () {
      const session = await boot('1001');
      const bus = { name: 'CAN-FRAMES' };
      const exact: CanFrame[] = [];
      const masked: CanFrame[] = [];
      const counts: number[] = [];
      // 123 has no broadcast on the default car: every frame here is one the test sends.
      const stopExact = await session.watchFrames(bus, {
        filters: [{ id: 0x123, mask: 0x7ff }],
        onFrame: (f) => exact.push(f),
        onUnattributed: (n) => counts.push(n),
      });
      await waitFor(() => sim!.stats().streams.raw === 1, 2000, 'the raw stream open on the server');
      const send = (channel: { bus_name: string; request_id?: number; response_id?: number } | null, payload: string) =>
        assert.equal(sim!.sendRawFrame(session.id, { channel, payload }), 1, 'the frame went out on the raw stream');
      send({ bus_name: 'CAN-FRAMES', request_id: 0x123 }, '0102');
      send({ bus_name: 'CAN-FRAMES', response_id: 0x123 }, '0304');
      await waitFor(() => exact.length >= 2, 2000, 'both frames of 123');
      assert.deepEqual(
        exact.map((f) => [f.id, f.hex]),
        [
          [0x123, '0102'],
          [0x123, '0304'],
        ],
      );
      send({ bus_name: 'CAN-FRAMES' }, 'AA'); // no id at all
      send(null, 'BB'); // not even a channel
      send({ bus_name: 'CAN-FRAMES', response_id: 0x456 }, 'CC'); // an id nobody asked for
      send({ bus_name: 'OTHER-BUS', response_id: 0x123 }, 'DD'); // a bus this listener is not on
      await waitFor(() => session.stats.frames.unattributed >= 4, 2000, 'four unattributed frames');
      assert.deepEqual(counts, [1, 2, 3], 'the listener counts those on its bus or on none');
      assert.deepEqual(session.stats.frames, { received: 6, unattributed: 4 });
      assert.equal(exact.length, 2, 'nothing unattributed reached the listener');
      stopExact();
      // A mask listens to the whole bus: what it leaves out was asked for, and is not unattributed.
      const stopMasked = await session.watchFrames(bus, { filters: [{ id: 0x700, mask: 0x700 }], onFrame: (f) => masked.push(f) });
      const before = session.stats.frames.unattributed;
      send({ bus_name: 'CAN-FRAMES', request_id: 0x7e8 }, '027E00');
      await waitFor(() => masked.length >= 1, 2000, 'the 7E8 frame');
      await delay(300); // broadcasts (0C9, 3E9, 4D1) arrive and are left out by the mask
      assert.equal(session.stats.frames.unattributed, before);
      assert.deepEqual([masked[0]!.id, masked[0]!.hex], [0x7e8, '027E00']);
      stopMasked();
    });

    it('bad frames: more than 8 data bytes, an id over 29 bits (BAD_PAYLOAD), a bus of another protocol (BAD_CONFIG)', async function () {
      const session = await boot('1001');
      await assert.rejects(session.sendFrames({ name: 'F' }, [{ id: 0x7e0, data: '01 02 03 04 05 06 07 08 09' }]), {
        code: 'BAD_PAYLOAD',
        message: 'The frame for 7E0 has 9 data bytes; a classic CAN frame carries at most 8',
      });
      await assert.rejects(session.sendFrames({ name: 'F' }, [{ id: 0x20000000, data: '00' }]), {
        code: 'BAD_PAYLOAD',
        message: /0 to 1FFFFFFF/,
      });
      await assert.rejects(session.watchFrames({ name: 'F', protocol: 'isotp' }, { onFrame: () => undefined }), {
        code: 'BAD_CONFIG',
        message: "Raw CAN frames need a CAN bus with the frames protocol; bus 'F' says 'isotp'",
      });
      await assert.rejects(session.watchFrames({ name: 'F' }, { filters: [{ id: 0x7e0, mask: -1 }], onFrame: () => undefined }), {
        code: 'BAD_CONFIG',
      });
      // A frames bus and an ISO-TP bus on pins 6/14 cannot both be configured.
      await session.watchFrames({ name: 'F' }, { onFrame: () => undefined });
      await assert.rejects(session.request(ENGINE, '3E 00'), { code: 'PIN_CONFLICT' });
    });
  });

  describe('terminal 15 and the connector', function () {
    it('reports the ignition at once and on every change (switched, and scripted per session)', async function () {
      const session = await boot('1001', {
        ignitionScript: [
          { afterMs: 300, on: false },
          { afterMs: 500, on: true },
        ],
      });
      const states: Terminal15State[] = [];
      const stop = await session.watchTerminal15((s) => states.push(s));
      await waitFor(() => states.length >= 3, 3000, 'on, off, on');
      assert.deepEqual(states, ['on', 'off', 'on']);
      sim!.setIgnition('1001', false);
      await waitFor(() => states.length >= 4, 2000, 'off');
      assert.equal(states[3], 'off');
      // With the ignition off no ECU answers.
      await assert.rejects(
        session.request({ ...ENGINE, bus: { name: 'obd-can', pinPlus: 6, pinMinus: 14 } }, '3E 00', { timeoutMs: 200 }),
        {
          code: 'TIMEOUT',
        },
      );
      stop();
      sim!.setIgnition('1001', true);
      await delay(50);
      assert.equal(states.length, 4, 'nothing after stop');
      const config = await session.getConfiguration();
      assert.deepEqual(
        config.buses.map((b) => [b.bus_name, b.terminal15_bus?.pin ?? null]),
        [
          ['KL15', 1],
          ['obd-can', null],
        ],
      );
    });

    it('a terminal 15 bus on a pin the car does not use reports unknown', async function () {
      const session = await boot('1001');
      const states: Terminal15State[] = [];
      const stop = await session.watchTerminal15((s) => states.push(s), undefined, { kind: 'terminal15', name: 'KL15', pin: 9 });
      await waitFor(() => states.length >= 1, 2000, 'a state');
      assert.deepEqual(states, ['unknown']);
      stop();
    });

    it('a network profile: answers take the round trip, the connection monitor reports it', async function () {
      const session = await boot('1001', { network: { roundTripMs: 80, jitterMs: 10 } });
      await session.request(ENGINE, '3E 00'); // bus configured, channel open
      const r = await session.request(ENGINE, '3E 00');
      assert.ok(r.elapsedMs >= 70 + 5, `${r.elapsedMs} ms with 80 ± 10 ms round trip and 5 ms ECU time`);
      const info = await session.getConnectorInformation();
      assert.ok(info.latency >= 70 && info.latency <= 90, `latency ${info.latency}`);
      assert.equal(info.healthy, true);
    });
  });
});
