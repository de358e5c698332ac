import assert from 'node:assert/strict';
import {
  FAST_SETTINGS,
  baseFlow,
  catchNode,
  collect,
  helper,
  nextMessage,
  nodeRedVersion,
  openobdNodes,
  statusHistory,
  type AnyMsg,
} from '../support/nodered';
import { dtcMeaning } from '../../client';
import { waitFor } from '../support/sim';
import { currentBuiltinSimulator } from '../../nodes/lib/builtin-simulator';
import { registry } from '../../nodes/lib/registry';

/*
 * The other transports through the nodes, on the built-in simulator: ECU nodes on the K-Line, TP 2.0 and
 * DoIP with send request; CAN frames (listen with filters, rate limit, batches; send), terminal 15 and
 * vehicle info; bad input and pin conflicts as coded errors at Catch nodes.
 */

/** The status a node shows now, as the editor shows it. */
const lastStatus = (id: string) => statusHistory(helper.getNode(id)).at(-1) ?? {};

const ascii = (t: string) => Buffer.from(t, 'latin1').toString('hex').toUpperCase();

const ECUS = [
  {
    id: 'airbag',
    type: 'openobd-ecu',
    name: 'Airbag',
    transport: 'kline',
    klineAddress: '15',
    klineInit: 'fast',
    klineBaud: 10400,
    klinePin: 7,
    busName: 'K-LINE',
    protocol: 'auto',
  },
  {
    id: 'tp20engine',
    type: 'openobd-ecu',
    name: 'Engine TP',
    transport: 'tp20',
    logicalAddress: '01',
    busName: 'TP20',
    pinPlus: 6,
    pinMinus: 14,
    bitRate: 500,
  },
  {
    id: 'adas',
    type: 'openobd-ecu',
    name: 'ADAS',
    transport: 'doip',
    doipOption: 2,
    doipNetwork: 1,
    gatewayId: '1010',
    testerId: '0E80',
    doipEcuId: '4011',
    busName: 'DOIP',
  },
  {
    id: 'baddoip',
    type: 'openobd-ecu',
    name: 'Bad',
    transport: 'doip',
    doipOption: 2,
    doipNetwork: 1,
    gatewayId: '1010',
    testerId: '0E80',
    doipEcuId: '10000',
    busName: 'DOIP',
  },
];

/** A CAN frames node on a frames bus on pins 6/14 at 500 kbit/s. */
function framesNode(id: string, fields: Record<string, unknown>) {
  return { id, type: 'openobd-can-frames', busName: 'CAN-FRAMES', pinPlus: 6, pinMinus: 14, bitRate: 500, ...fields };
}

function request(id: string, ecu: string, hex: string, wires: string[][] = [['out']]) {
  return { id, type: 'openobd-request', ecu, request: hex, output: 'hex', negative: 'error', decode: true, outputs: 1, wires };
}

describe(`Node-RED ${nodeRedVersion()}: K-Line, TP 2.0, DoIP, CAN frames, terminal 15 and vehicle info`, function () {
  this.timeout(20000);

  beforeEach(function () {
    helper.settings(FAST_SETTINGS as never);
  });

  afterEach(async function () {
    await helper.unload();
    helper.settings({});
  });

  function load(flow: Array<Record<string, unknown>>) {
    return helper.load([openobdNodes, catchNode] as never, [...baseFlow(flow), ...ECUS] as never);
  }

  async function start(ticket: string): Promise<AnyMsg> {
    const started = nextMessage(helper.getNode('started'));
    helper.getNode('start').receive({ payload: ticket });
    return started;
  }

  const starter = {
    id: 'start',
    type: 'openobd-start-session',
    account: 'account',
    targetType: 'ticket',
    target: 'payload',
    targetSource: 'msg',
    wires: [['started']],
  };

  it('send request on the K-Line and TP 2.0 (classic car) decodes KWP2000; on DoIP (fleet car) UDS', async function () {
    await load([
      starter,
      request('kl', 'airbag', '1A 9B'),
      request('tp', 'tp20engine', '18 02 FF 00'),
      request('ip', 'adas', '22 F1 90'),
      { id: 'started', type: 'helper' },
      { id: 'out', type: 'helper' },
    ]);
    const classic = await start('2001');
    const out = collect(helper.getNode('out'));
    helper.getNode('kl').receive({ openobd: classic.openobd });
    await waitFor(() => out.length >= 1, 5000, 'the K-Line answer');
    const kl = out[0]!;
    assert.equal(kl.payload, `5A9B${ascii('1K0909605AB 0533AIRBAG VW8R   ')}`);
    assert.deepEqual(kl.openobd.response.ecu, { name: 'Airbag', requestId: '15', responseId: '15', transport: 'kline' });
    assert.equal(kl.openobd.response.service, 'ReadECUIdentification');
    assert.deepEqual(kl.openobd.response.decoded, {
      identificationOption: '9B',
      name: 'vehicleManufacturerSpecific',
      hex: ascii('1K0909605AB 0533AIRBAG VW8R   '),
      text: '1K0909605AB 0533AIRBAG VW8R',
    });
    helper.getNode('tp').receive({ openobd: classic.openobd });
    await waitFor(() => out.length >= 2, 5000, 'the TP 2.0 answer');
    assert.equal(out[1]!.openobd.response.service, 'ReadDiagnosticTroubleCodesByStatus');
    assert.deepEqual(out[1]!.openobd.response.decoded, {
      count: 2,
      dtcs: [
        { code: 'C012C', ...dtcMeaning('C012C'), hex: '412C', status: 0xe3, warningLamp: true, storageState: 'presentAtTimeOfRequest' },
        { code: 'C0509', ...dtcMeaning('C0509'), hex: '4509', status: 0x23, warningLamp: false, storageState: 'notPresentAtTimeOfRequest' },
      ],
    });
    const fleet = await start('2002');
    helper.getNode('ip').receive({ openobd: fleet.openobd });
    await waitFor(() => out.length >= 3, 5000, 'the DoIP answer');
    assert.equal(out[2]!.openobd.response.decoded.vin, 'WVWZZZAUZLW123456');
    assert.deepEqual(out[2]!.openobd.response.ecu, { name: 'ADAS', requestId: '0E80', responseId: '4011', transport: 'doip' });
  });

  it('bad input per transport reaches Catch with its code: a DoIP id over 16 bits, ISO-TP after TP 2.0 on pins 6/14', async function () {
    await load([
      starter,
      request('bad', 'baddoip', '22 F1 90'),
      request('tp', 'tp20engine', '3E 01'),
      request('iso', 'engine', '3E 00'),
      { id: 'started', type: 'helper' },
      { id: 'out', type: 'helper' },
    ]);
    const classic = await start('2001');
    const caught = collect(helper.getNode('caught'));
    helper.getNode('bad').receive({ openobd: classic.openobd });
    await waitFor(() => caught.length >= 1, 3000, 'the BAD_CONFIG');
    assert.equal(caught[0]!.error.code, 'BAD_CONFIG');
    assert.equal(caught[0]!.error.message, 'ECU "Bad" is misconfigured: DoIP ECU id 10000 is outside 0001 to FFFF');
    const out = nextMessage(helper.getNode('out'));
    helper.getNode('tp').receive({ openobd: classic.openobd });
    assert.equal((await out).payload, '7E');
    helper.getNode('iso').receive({ openobd: classic.openobd });
    await waitFor(() => caught.length >= 2, 3000, 'the PIN_CONFLICT');
    assert.equal(caught[1]!.error.code, 'PIN_CONFLICT');
    assert.match(caught[1]!.error.message, /^Use one bus .*: buses 'TP20' and 'OBD-CAN' would both use connector pin 6/);
    assert.equal(lastStatus('iso').text, 'pins in use', 'the status says why');
  });

  it('CAN frames: listen with a filter, a rate limit that says when it drops, batches, stop; send one frame and a list', async function () {
    await load([
      starter,
      framesNode('listen', { mode: 'listen', filters: '0C9', output: 'frame', maxRate: 100, wires: [['frames']] }),
      framesNode('slow', { mode: 'listen', filters: '', output: 'batch', batchMs: 300, maxRate: 2, wires: [['batches']] }),
      framesNode('send', { mode: 'send', wires: [['sent']] }),
      { id: 'started', type: 'helper' },
      { id: 'frames', type: 'helper' },
      { id: 'batches', type: 'helper' },
      { id: 'sent', type: 'helper' },
    ]);
    const s = await start('1001');
    const frames = collect(helper.getNode('frames'));
    helper.getNode('listen').receive({ openobd: s.openobd });
    await waitFor(() => frames.length >= 3, 3000, 'three 0C9 frames');
    assert.ok(frames.every((m) => m.payload.id === '0C9' && m.topic === '0C9' && /^000C30001A00000[0-9A-F]$/.test(m.payload.data)));
    assert.equal(frames[0]!.openobd.sessionId, s.openobd.sessionId);
    assert.deepEqual(frames[0]!.openobd.frames, { dropped: 0, received: 1, unattributed: 0 });
    helper.getNode('listen').receive({ openobd: s.openobd, payload: 'stop' });
    const after = frames.length;
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(frames.length, after, 'no frame after stop');
    assert.equal(lastStatus('listen').text, 'stopped');

    // All frames (0C9 every 100 ms, 3E9 every 200 ms, 4D1 every 500 ms: about 16 a second) at 2 a second.
    const batches = collect(helper.getNode('batches'));
    helper.getNode('slow').receive({ openobd: s.openobd });
    await waitFor(() => batches.reduce((n, b) => n + b.openobd.frames.dropped, 0) > 5, 5000, 'drops');
    const status = lastStatus('slow');
    assert.equal(status.fill, 'yellow');
    assert.match(String(status.text), /^\d+ dropped \(limit 2\/s\)$/);
    assert.ok(batches.every((b) => Array.isArray(b.payload) && b.payload.length === b.openobd.frames.count));

    const sent = nextMessage(helper.getNode('sent'));
    helper.getNode('send').receive({ openobd: s.openobd, payload: [{ id: '7E0', data: '02 3E 00' }, '7E1#023E00'] });
    assert.deepEqual((await sent).openobd.frames, { sent: 2, bus: 'CAN-FRAMES' });
    const caught = collect(helper.getNode('caught'));
    helper.getNode('send').receive({ openobd: s.openobd, payload: { id: '7E0', data: '00 11 22 33 44 55 66 77 88' } });
    helper.getNode('send').receive({ openobd: s.openobd, payload: 'hello' });
    await waitFor(() => caught.length >= 2, 3000, 'two errors');
    assert.deepEqual(caught.map((c) => [c.error.code, c.error.message]).sort(), [
      ['BAD_PAYLOAD', "Frame 1 'hello' is not ID#DATA, e.g. 7E0#023E00"],
      ['BAD_PAYLOAD', 'The frame for 7E0 has 9 data bytes; a classic CAN frame carries at most 8'],
    ]);
  });

  it('CAN frames: a frame labelled with request_id only is passed on; one without an id is counted in the status and the message', async function () {
    await load([
      starter,
      framesNode('listen', { mode: 'listen', filters: '123', output: 'frame', maxRate: 100, wires: [['frames']] }),
      { id: 'started', type: 'helper' },
      { id: 'frames', type: 'helper' },
    ]);
    const s = await start('1001');
    const id = s.openobd.sessionId as string;
    const frames = collect(helper.getNode('frames'));
    helper.getNode('listen').receive({ openobd: s.openobd });
    const sim = (await currentBuiltinSimulator())!;
    await waitFor(() => [...(sim.sessions.get(id)?.streams ?? [])].some((x) => x.kind === 'raw'), 3000, 'the raw stream');
    sim.sendRawFrame(id, { channel: { bus_name: 'CAN-FRAMES' }, payload: 'AA' });
    await waitFor(() => lastStatus('listen').text === '0 frames · 1 unattributed frame', 3000, 'one unattributed frame in the status');
    sim.sendRawFrame(id, { channel: { bus_name: 'CAN-FRAMES', request_id: 0x123 }, payload: '0102' });
    await waitFor(() => frames.length >= 1, 3000, 'the frame of 123');
    assert.deepEqual(frames[0]!.payload, { id: '123', data: '0102', at: frames[0]!.payload.at });
    assert.deepEqual(frames[0]!.openobd.frames, { dropped: 0, received: 1, unattributed: 1 });
    sim.sendRawFrame(id, { channel: null, payload: 'BB' });
    await waitFor(() => lastStatus('listen').text === '1 frame · 2 unattributed frames', 3000, 'two unattributed frames in the status');
    assert.equal(lastStatus('listen').fill, 'green');
  });

  it('terminal 15: the state at once and on every change; vehicle info: ECU list, connector once and as a stream, configuration', async function () {
    await load([
      starter,
      { id: 'kl15', type: 'openobd-terminal15', busName: 'KL15', pin: 1, wires: [['ignition']] },
      { id: 'ecus', type: 'openobd-vehicle-info', action: 'ecus', wires: [['info']] },
      { id: 'conn', type: 'openobd-vehicle-info', action: 'connector', wires: [['info']] },
      { id: 'stream', type: 'openobd-vehicle-info', action: 'connectorStream', wires: [['ticks']] },
      { id: 'config', type: 'openobd-vehicle-info', action: 'configuration', wires: [['info']] },
      {
        id: 'req',
        type: 'openobd-request',
        request: '22 F1 89',
        output: 'hex',
        negative: 'error',
        decode: true,
        outputs: 1,
        wires: [['info']],
      },
      { id: 'started', type: 'helper' },
      { id: 'ignition', type: 'helper' },
      { id: 'info', type: 'helper' },
      { id: 'ticks', type: 'helper' },
    ]);
    const s = await start('2001');
    const ignition = collect(helper.getNode('ignition'));
    helper.getNode('kl15').receive({ openobd: s.openobd });
    await waitFor(() => ignition.length >= 1, 3000, 'the first state');
    const sim = await currentBuiltinSimulator();
    sim!.setIgnition('2001', false);
    await waitFor(() => ignition.length >= 2, 3000, 'off');
    sim!.setIgnition('2001', true);
    await waitFor(() => ignition.length >= 3, 3000, 'on again');
    assert.deepEqual(
      ignition.map((m) => [m.payload, m.openobd.terminal15.previous, m.openobd.terminal15.initial]),
      [
        ['on', null, true],
        ['off', 'on', false],
        ['on', 'off', false],
      ],
    );
    assert.equal(lastStatus('kl15').text, 'ignition on');
    // The session ends while its ignition is followed: following stops, and that is no error.
    const caught = collect(helper.getNode('caught'));
    await registry.get(s.openobd.sessionId)!.session.finish();
    await waitFor(() => lastStatus('kl15').text === 'stopped', 3000, 'following stopped');
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(caught, []);

    const fleet = await start('2002');
    const info = collect(helper.getNode('info'));
    helper.getNode('ecus').receive({ openobd: fleet.openobd });
    await waitFor(() => info.length >= 1, 3000, 'the ECU list');
    const list = info[0]!.payload as AnyMsg[];
    assert.equal(list.length, 30);
    assert.deepEqual(list[20], {
      transport: 'isotp',
      address: '600/608',
      ecu: { transport: 'isotp', busName: 'CAN-3-11', pinPlus: 3, pinMinus: 11, bitRate: 125, requestId: '600', responseId: '608' },
    });
    assert.deepEqual(list[26], {
      transport: 'kline',
      address: 'K-Line 18',
      ecu: { transport: 'kline', busName: 'K-LINE', klinePin: 7, klineInit: 'fast', klineBaud: 10400, klineAddress: '18' },
    });
    assert.equal(lastStatus('ecus').text, '30 ECUs');
    // An entry of the list is what send request takes as msg.openobd.ecu.
    helper.getNode('req').receive({ openobd: { ...fleet.openobd, ecu: list[20].ecu } });
    await waitFor(() => info.length >= 2, 3000, 'the answer of the listed ECU');
    assert.equal(info[1]!.payload, `62F189${ascii('0031')}`);
    helper.getNode('conn').receive({ openobd: fleet.openobd });
    await waitFor(() => info.length >= 3, 3000, 'connector information');
    assert.deepEqual(Object.keys(info[2]!.payload), ['connected', 'connectedSince', 'connectedSinceMs', 'latencyMs', 'healthy']);
    assert.equal(info[2]!.payload.connected, true);
    helper.getNode('config').receive({ openobd: fleet.openobd });
    await waitFor(() => info.length >= 4, 3000, 'the configuration');
    assert.deepEqual(info[3]!.payload.buses, [
      { bus_name: 'CAN-3-11', can_bus: { pin_plus: 3, pin_min: 11, can_protocol: 'CAN_PROTOCOL_ISOTP', can_bit_rate: 'CAN_BIT_RATE_125' } },
    ]);
    assert.deepEqual(
      info[3]!.payload.channels.map((c: AnyMsg) => c.kind),
      ['isotp'],
    );

    const ticks = collect(helper.getNode('ticks'));
    helper.getNode('stream').receive({ openobd: fleet.openobd });
    await waitFor(() => ticks.length >= 2, 5000, 'two connector messages');
    helper.getNode('stream').receive({ openobd: fleet.openobd, payload: 'stop' });
    assert.equal(ticks[0]!.topic, 'connector');
  });

  it('download: progress, and a refusal (the wrong session) at Catch as NEGATIVE_RESPONSE with the NRC', async function () {
    await load([
      starter,
      {
        id: 'dl',
        type: 'openobd-download',
        ecu: 'engine',
        address: '00080000',
        addressBytes: 4,
        sizeBytes: 4,
        dataFormat: '00',
        timeout: '',
        wires: [['out']],
      },
      {
        id: 'nowhere',
        type: 'openobd-download',
        ecu: 'engine',
        address: '',
        addressBytes: 4,
        sizeBytes: 4,
        dataFormat: '00',
        timeout: '',
        wires: [['out']],
      },
      { id: 'started', type: 'helper' },
      { id: 'out', type: 'helper' },
    ]);
    const s = await start('1001');
    const caught = collect(helper.getNode('caught'));
    helper.getNode('dl').receive({ openobd: s.openobd, payload: '00 11 22 33' });
    helper.getNode('nowhere').receive({ openobd: s.openobd, payload: '00 11 22 33', address: 'XYZ' });
    await waitFor(() => caught.length >= 2, 5000, 'two errors');
    const byNode = Object.fromEntries(caught.map((c) => [c.error.source.id, c.error]));
    assert.equal(byNode.dl.code, 'NEGATIVE_RESPONSE');
    assert.equal(byNode.dl.cause.nrc, 0x7f);
    assert.match(byNode.dl.message, /refused the download of 4 bytes to 00080000 \(34\): NRC 7F serviceNotSupportedInActiveSession/);
    assert.equal(byNode.nowhere.code, 'BAD_CONFIG');
    assert.equal(byNode.nowhere.message, "msg.address 'XYZ' is not a hex address (up to 8 digits)");
  });

  it('scan: a report with the progress on the status; a backwards probe range and an unknown session reach Catch', async function () {
    await load([
      starter,
      {
        id: 'scan',
        type: 'openobd-scan',
        discover: 'ecu-list',
        identification: false,
        dtcs: true,
        concurrency: 4,
        timeout: '',
        wires: [['out']],
      },
      {
        id: 'bad',
        type: 'openobd-scan',
        discover: 'probe',
        busName: 'OBD-CAN',
        pinPlus: 6,
        pinMinus: 14,
        bitRate: 500,
        probeFrom: '7F0',
        probeTo: '700',
        responseOffset: '8',
        identification: true,
        dtcs: true,
        concurrency: 8,
        timeout: '',
        wires: [['out']],
      },
      { id: 'started', type: 'helper' },
      { id: 'out', type: 'helper' },
    ]);
    const s = await start('1001');
    const out = nextMessage(helper.getNode('out'));
    helper.getNode('scan').receive({ openobd: s.openobd });
    const r = await out;
    assert.deepEqual(
      r.payload.ecus.map((e: AnyMsg) => [e.address, e.requests, e.dtcs.length]),
      [
        ['7E0/7E8', 1, 3],
        ['7E1/7E9', 1, 2],
        ['760/768', 1, 1],
      ],
    );
    assert.deepEqual(r.openobd.scan, r.payload.summary);
    const texts = statusHistory(helper.getNode('scan')).map((x) => x.text);
    assert.ok(
      texts.some((t) => /^[1-3] \/ 3 ECUs$/.test(String(t))),
      texts.join(' | '),
    );
    assert.equal(texts.at(-1), '3 / 3 ECUs, 6 DTCs');
    const caught = collect(helper.getNode('caught'));
    helper.getNode('bad').receive({ openobd: s.openobd });
    helper.getNode('scan').receive({ openobd: { sessionId: '00000000-0000-4000-8000-0000000000ff' } });
    await waitFor(() => caught.length >= 2, 5000, 'two errors');
    assert.deepEqual(caught.map((c) => c.error.code).sort(), ['BAD_CONFIG', 'NO_SESSION']);
  });
});
