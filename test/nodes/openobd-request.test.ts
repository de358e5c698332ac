import assert from 'node:assert/strict';
import { dtcMeaning } from '../../client';
import { ascii, busSuite, lastStatus } from '../support/bus-cars';
import { request, startSession } from '../support/flow-builder';
import {
  FAST_SETTINGS,
  baseFlow,
  catchNode,
  collect,
  helper,
  nextMessage,
  nodeRedVersion,
  nodeSuite,
  openobdNodes,
  statusHistory,
  type AnyMsg,
} from '../support/nodered';
import { waitFor } from '../support/sim';
import { answerWords } from '../../nodes/30-openobd-request/answer-words';
import { translate } from '../support/catalog';

describe(`Node-RED ${nodeRedVersion()}: send request on the built-in simulator`, function () {
  this.timeout(20000);
  const { load } = nodeSuite();

  it("a functional OBD request gives every ECU's answer", async function () {
    await load(
      baseFlow([
        startSession({ target: '1002', to: ['pids'] }),
        request({ id: 'pids', ecu: 'obd', to: ['out'] }),
        { id: 'out', type: 'helper' },
      ]),
    );
    const out = nextMessage(helper.getNode('out'));
    helper.getNode('start').receive({ payload: '0100' });
    const m = await out;
    assert.ok(Array.isArray(m.payload));
    const ids = (m.openobd.responses as AnyMsg[]).map((r) => r.ecu.responseId).sort();
    assert.deepEqual(ids, ['7E8', '7E9']);
    for (const r of m.openobd.responses as AnyMsg[]) assert.ok(Array.isArray(r.decoded.supportedPids));
  });

  it('a ticket from msg.payload; a request given as a byte array in msg.payload; a Buffer answer', async function () {
    await load(
      baseFlow([
        startSession({ to: ['started'] }),
        request({ output: 'buffer', to: ['out'] }),
        { id: 'started', type: 'helper' },
        { id: 'out', type: 'helper' },
      ]),
    );
    const started = nextMessage(helper.getNode('started'));
    helper.getNode('start').receive({ payload: 1003 });
    const s = await started;
    assert.equal(s.openobd.ticketId, '1003');
    const out = nextMessage(helper.getNode('out'));
    helper.getNode('req').receive({ openobd: s.openobd, payload: [0x22, 0xf1, 0x87] });
    const m = await out;
    assert.ok(Buffer.isBuffer(m.payload));
    assert.equal(m.payload.subarray(0, 3).toString('hex'), '62f187');
    assert.equal(m.openobd.response.decoded.did, 'F187');
  });
});

describe(`Node-RED ${nodeRedVersion()}: send request on the K-Line, TP 2.0 and DoIP`, function () {
  this.timeout(20000);
  const { load, start } = busSuite();
  const starter = startSession({ to: ['started'] });

  it('send request on the K-Line and TP 2.0 (classic car) decodes KWP2000; on DoIP (fleet car) UDS', async function () {
    await load([
      starter,
      request({ id: 'kl', ecu: 'airbag', request: '1A 9B', to: ['out'] }),
      request({ id: 'tp', ecu: 'tp20engine', request: '18 02 FF 00', to: ['out'] }),
      request({ id: 'ip', ecu: 'adas', request: '22 F1 90', to: ['out'] }),
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
      request({ id: 'bad', ecu: 'baddoip', request: '22 F1 90', to: ['out'] }),
      request({ id: 'tp', ecu: 'tp20engine', request: '3E 01', to: ['out'] }),
      request({ id: 'iso', ecu: 'engine', request: '3E 00', to: ['out'] }),
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
});

/** Send request's status says what the car answered, in words, where the answer decodes; the hex only where it does not. */
describe(`Node-RED ${nodeRedVersion()}: send request's status in the car's words`, function () {
  this.timeout(30000);

  afterEach(async function () {
    await helper.unload();
    helper.settings({});
  });

  const flow = (hex: string, ecu = 'engine') =>
    baseFlow([
      startSession({ target: '1001', ifHeld: 'share', to: ['req'] }),
      request({ ecu, request: hex, negative: 'output', outputs: 2, to: [['ok'], ['nrc']] }),
      { id: 'ok', type: 'helper' },
      { id: 'nrc', type: 'helper' },
    ]);

  async function statusAfter(request: string, out: 'ok' | 'nrc' = 'ok', ecu?: string): Promise<string | undefined> {
    helper.settings(FAST_SETTINGS as never);
    await helper.load([openobdNodes, catchNode] as never, flow(request, ecu) as never);
    const got: Promise<AnyMsg> = nextMessage(helper.getNode(out));
    helper.getNode('start').receive({});
    await got;
    // Per-message statuses are drawn at most every so often: wait for the answer's to replace the busy one.
    const last = () => statusHistory(helper.getNode('req')).at(-1)?.text;
    const deadline = Date.now() + 3000;
    while (/→/.test(last() ?? '→') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return last();
  }

  it('the VIN with the maker and model year', async function () {
    assert.equal(await statusAfter('22 F1 90'), 'VIN WVWZZZAU6KW204711 · Volkswagen 2019');
  });

  it('fault codes, counted with the plural of the catalog', async function () {
    assert.equal(await statusAfter('19 02 FF'), '3 DTCs: P0301, P0171, P0442');
  });

  it('live data with units', async function () {
    assert.match((await statusAfter('01 0C 0D 05')) ?? '', /^\d+(\.\d)? rpm · \d+ km\/h · -?\d+ °C$/);
  });

  it('a negative answer in words', async function () {
    assert.equal(await statusAfter('22 12 34', 'nrc'), 'NRC 31 request out of range');
  });

  it('the hex where nothing decodes to words', async function () {
    assert.match((await statusAfter('3E 00')) ?? '', /^7E00 \d+ ms$/);
  });

  it("keeps its own outcome when the session ends (the end shows on start and finish); the flow's next run clears it", async function () {
    helper.settings(FAST_SETTINGS as never);
    const f = flow('22 F1 90');
    (f.find((n) => n.id === 'req') as Record<string, unknown>).wires = [['fin'], ['nrc']];
    f.push({ id: 'fin', z: 'tab', x: 0, y: 0, type: 'openobd-finish', result: 'RESULT_SUCCESS', wires: [['ok']] });
    await helper.load([openobdNodes, catchNode] as never, f as never);
    const done = nextMessage(helper.getNode('ok'));
    helper.getNode('start').receive({});
    const first = await done;
    const id = (first.openobd.sessionId as string).slice(0, 8);
    const last = (node: string) => statusHistory(helper.getNode(node)).at(-1)?.text;
    const deadline = Date.now() + 3000;
    while ((last('start') !== `${id} finished` || /→/.test(last('req') ?? '→')) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200)); // anything that would still replace it has come by now
    assert.equal(last('start'), `${id} finished`);
    assert.equal(last('fin'), `${id} finished`);
    assert.equal(last('req'), 'VIN WVWZZZAU6KW204711 · Volkswagen 2019', 'the answer stays, not "finished"');
    // The next run: its new session clears what the finished run left on the request node.
    const second = nextMessage(helper.getNode('ok'));
    const req = helper.getNode('req');
    const cleared = new Promise<void>((resolve) =>
      (req as unknown as NodeJS.EventEmitter).on('call:status', (c: { args: Array<{ text?: string }> }) => {
        if (c.args[0]?.text === undefined) resolve();
      }),
    );
    helper.getNode('start').receive({});
    await cleared;
    await second;
  });

  it('in German from the German catalog, one and none', function () {
    const de = (key: string, subs?: Record<string, unknown>) => translate(key, subs, 'de');
    assert.equal(answerWords({ dtcs: [{ code: 'P0301-00' }, { code: 'U0100-87' }] }, de), '2 Fehlercodes: P0301, U0100');
    assert.equal(answerWords({ dtcs: ['P0301'] }, de), '1 Fehlercode: P0301');
    assert.equal(answerWords({ dtcs: [] }, de), 'keine Fehlercodes');
    assert.equal(answerWords({ resetType: 1, resetTypeName: 'hardReset' }, de), 'hard reset');
  });
});
