import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FAST_SETTINGS, coreNode, helper, nextMessage, nodeRedVersion, openobdNodes, statusHistory, type AnyMsg } from '../support/nodered';
import { currentBuiltinSimulator } from '../../nodes/lib/builtin-simulator';
import { waitFor } from '../support/sim';

const EXAMPLES = path.resolve(__dirname, '..', '..', '..', 'examples');
const CONFIG_TYPES = new Set(['openobd-account', 'openobd-ecu']);
const VIN = 'WVWZZZAU6KW204711';
const CORE = [
  'common/20-inject.js',
  'common/25-catch.js',
  'common/90-comment.js',
  'function/10-function.js',
  'function/15-change.js',
  'function/10-switch.js',
].map(coreNode);

type FlowNode = Record<string, unknown> & { id: string; type: string; name?: string };

/** An example as shipped, on a tab, with every debug node replaced by a test helper that records it. */
function loadExample(file: string): FlowNode[] {
  const nodes = JSON.parse(fs.readFileSync(path.join(EXAMPLES, file), 'utf8')) as FlowNode[];
  // Each example brings its own tab (the one Import > Examples makes): its flow nodes sit on it, its config nodes are global.
  const tab = nodes.find((n) => n.type === 'tab');
  if (!tab) throw new Error(`${file} has no tab node`);
  const astray = nodes.filter((n) => n !== tab && n.z !== (CONFIG_TYPES.has(n.type) ? undefined : tab.id));
  if (astray.length)
    throw new Error(`${file}: not where they belong: ${astray.map((n) => `${n.type} ${n.id} (z ${String(n.z)})`).join(', ')}`);
  return nodes.map((n) => (n.type === 'debug' ? { id: n.id, type: 'helper', name: n.name, z: n.z, x: n.x, y: n.y, wires: [] } : n));
}

function byName(flow: FlowNode[], type: string, name: string): string {
  const n = flow.find((x) => x.type === type && x.name === name);
  if (!n) throw new Error(`no ${type} named "${name}"`);
  return n.id;
}

/** Each example flow loads unchanged on the built-in simulator and produces what its comment promises. */
describe(`Node-RED ${nodeRedVersion()}: every example flow runs unchanged`, function () {
  this.timeout(30000);
  let flow: FlowNode[];
  let errors: AnyMsg[];

  beforeEach(function () {
    helper.settings(FAST_SETTINGS as never);
  });

  afterEach(async function () {
    await helper.unload();
    helper.settings({});
  });

  async function run(file: string): Promise<void> {
    flow = loadExample(file);
    await helper.load([openobdNodes, ...CORE] as never, flow as never);
    errors = [];
    const errorDebug = flow.find((n) => n.type === 'helper' && n.name === 'error');
    if (errorDebug) helper.getNode(errorDebug.id).on('input', (m: AnyMsg) => errors.push(m));
  }

  function press(name: string): void {
    helper.getNode(byName(flow, 'inject', name)).receive({});
  }

  function output(name: string, timeoutMs?: number): Promise<AnyMsg> {
    return nextMessage(helper.getNode(byName(flow, 'helper', name)), timeoutMs);
  }

  it('every file is a JSON array of nodes, and together they use every openOBD node type', function () {
    const files = fs.readdirSync(EXAMPLES).filter((f) => f.endsWith('.json'));
    assert.ok(files.length >= 5);
    const types = new Set<string>();
    for (const f of files) {
      const nodes = JSON.parse(fs.readFileSync(path.join(EXAMPLES, f), 'utf8')) as FlowNode[];
      assert.ok(Array.isArray(nodes), f);
      for (const n of nodes) types.add(n.type);
      assert.ok(
        nodes.some((n) => n.type === 'comment'),
        `${f} explains itself in a Comment node`,
      );
      assert.ok(
        nodes.some((n) => n.type === 'catch'),
        `${f} has a Catch node`,
      );
      const account = nodes.find((n) => n.type === 'openobd-account');
      assert.equal(account?.mode, 'simulator', `${f} runs on the built-in simulator`);
      assert.ok(!('credentials' in (account ?? {})), `${f} carries no credentials`);
    }
    for (const t of [
      'openobd-start-session',
      'openobd-request',
      'openobd-ask-technician',
      'openobd-finish',
      'openobd-interrupt',
      'openobd-session-info',
    ])
      assert.ok(types.has(t), `${t} appears in an example`);
  });

  it('01 reads the VIN and identifies the car', async function () {
    await run('01 Read the VIN and identify the car.json');
    const vin = output('VIN');
    const finished = output('session finished');
    press('read VIN');
    const v = await vin;
    assert.equal(v.payload.vin, 'WVWZZZAU6KW204711');
    assert.equal(v.payload.manufacturer, 'Volkswagen');
    assert.equal(v.payload.checkDigit.valid, true);
    assert.equal((await finished).openobd.state, 'finished');
    assert.deepEqual(errors, []);
  });

  it('02 reads, clears and re-reads DTCs (UDS and OBD-II)', async function () {
    await run('02 Read, clear and re-read DTCs.json');
    const uds = output('DTC report');
    press('UDS: engine DTCs');
    const u = (await uds).payload;
    assert.ok(u.before.includes('P0301-00'), JSON.stringify(u));
    assert.deepEqual(u.remaining, []);
    assert.deepEqual([...u.cleared].sort(), [...u.before].sort());
    const obd = output('OBD DTC report', 10000);
    press('OBD-II: all ECUs');
    const o = (await obd).payload;
    assert.ok(o.before.includes('P0301'), JSON.stringify(o));
    assert.deepEqual(o.after, []);
    assert.deepEqual(errors, []);
  });

  it('03 polls live data while the session is kept, then stops', async function () {
    await run('03 Live data from OBD-II PIDs.json');
    const session = output('session');
    press('start');
    await session;
    const live = output('live data', 5000);
    const d = (await live).payload;
    // Numbers with their units, as the debug sidebar shows them.
    assert.equal(d.engineSpeed.unit, 'rpm');
    assert.ok(d.engineSpeed.value > 700 && d.engineSpeed.value < 900, JSON.stringify(d));
    assert.deepEqual(d.vehicleSpeed, { value: 0, unit: 'km/h' });
    assert.equal(d.engineCoolantTemperature.unit, '°C');
    assert.equal(typeof d.engineCoolantTemperature.value, 'number');
    const finished = output('finished');
    press('stop');
    assert.equal((await finished).openobd.state, 'finished');
    assert.deepEqual(errors, []);
  });

  it('04 lists, gets and interrupts a session', async function () {
    await run('04 Session management (list, get, interrupt).json');
    const started = output('started');
    press('start on connector');
    const id = (await started).openobd.sessionId;
    const sessions = output('sessions');
    const got = output('session');
    const interrupted = output('interrupted');
    press('list sessions');
    assert.ok((await sessions).payload.some((s: AnyMsg) => s.id === id && s.state === 'active'));
    assert.equal((await got).payload.id, id);
    const i = await interrupted;
    assert.equal(i.payload.state, 'interrupted');
    assert.equal(i.openobd.state, 'interrupted');
    assert.deepEqual(errors, []);
  });

  it('05 shows every error kind to the Catch node, and the negative answer on output 2', async function () {
    await run('05 Error handling with Catch.json');
    const expectError = async (inject: string, code: string) => {
      const e = output('error');
      press(inject);
      assert.equal((await e).error.code, code);
    };
    await expectError('unknown session', 'NO_SESSION');
    await expectError('start for bad input', 'BAD_PAYLOAD');
    await expectError('unknown ticket', 'FAILED_PRECONDITION');
    const second = output('negative (output 2)');
    const negative = output('negative response');
    press('unsupported DID');
    assert.equal((await second).openobd.response.nrc, '31');
    assert.equal((await negative).openobd.response.nrcName, 'requestOutOfRange');
  });

  it('06 unlocks security and waits through three "response pending" answers', async function () {
    await run('06 Run a routine with security access.json');
    const result = output('routine result', 15000);
    const finished = output('finished', 15000);
    press('run routine FF00');
    const r = (await result).openobd.response;
    assert.equal(r.hex, '7101FF0000');
    assert.equal(r.pendingCount, 3);
    assert.equal((await finished).openobd.state, 'finished');
    assert.deepEqual(errors, []);
  });

  /*
   * A newcomer presses buttons in any order and more than once, on the error paths too. Afterwards no
   * session may be left active on the simulator: the examples end every session their error paths leave.
   */
  const BUTTONS: Array<[string, string[]]> = [
    ['01 Read the VIN and identify the car.json', ['read VIN']],
    ['02 Read, clear and re-read DTCs.json', ['UDS: engine DTCs', 'OBD-II: all ECUs']],
    ['03 Live data from OBD-II PIDs.json', ['start', 'stop']],
    ['04 Session management (list, get, interrupt).json', ['start on connector', 'list sessions']],
    ['05 Error handling with Catch.json', ['unknown session', 'start for bad input', 'unknown ticket', 'unsupported DID']],
    ['06 Run a routine with security access.json', ['run routine FF00']],
    ['10 Read a K-Line car.json', ['read the car']],
    ['11 Listen to CAN frames.json', ['start listening', 'send a frame', 'stop and finish']],
    ['12 Full-system scan.json', ['scan the car', 'probe the OBD range']],
    ['13 Download data to an ECU.json', ['download']],
  ];

  for (const [file, buttons] of BUTTONS) {
    it(`${file.slice(0, 2)}: every button pressed twice (and error paths) leaves no session active on the simulator`, async function () {
      this.timeout(120000); // a second press waits for the first run: four runs of a button go one after another
      await run(file);
      const { currentBuiltinSimulator } = await import('../../nodes/lib/builtin-simulator');
      const quiet = async () => {
        // Done when no message has moved for a while (routines answer "pending" for 4.5 s).
        let moved = Date.now();
        const stop = onAnyHelper(() => (moved = Date.now()));
        while (Date.now() - moved < 1200) await new Promise((r) => setTimeout(r, 50));
        stop();
      };
      for (const b of buttons) {
        press(b);
        await quiet();
        press(b);
        await quiet();
        // And a double click: both presses at once.
        press(b);
        press(b);
        await quiet();
      }
      const sim = await currentBuiltinSimulator();
      assert.ok(sim, 'the example used the built-in simulator');
      // Runs that waited their turn may still be going (their waits are silent), and a session an error path
      // left open would stay active (for the 5 min idle limit): done when none is active for 1.5 s on end.
      const deadline = Date.now() + 60000;
      let idleSince = Date.now();
      while (Date.now() < deadline) {
        if ((sim.stats().sessions.active ?? 0) > 0) idleSince = Date.now();
        else if (Date.now() - idleSince >= 1500) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(sim.stats().sessions.active ?? 0, 0, `sessions left active: ${JSON.stringify(sim.stats().sessions)}`);
      assert.ok(
        !errors.some((e) => e.error?.cause?.situation === 'ticketBusy'),
        `no "ticket busy": ${JSON.stringify(errors.map((e) => e.error.message))}`,
      );
    });
  }

  /** Calls `fn` whenever any helper (debug) node of the example receives a message; returns the unsubscribe. */
  function onAnyHelper(fn: () => void): () => void {
    // Polled and streamed outputs (example 03's live data every second, example 11's frames) never go quiet: they do not count.
    const nodes = flow
      .filter((n) => n.type === 'helper' && !['live data', 'frames', 'batch'].includes(String(n.name)))
      .map((n) => helper.getNode(n.id));
    for (const n of nodes) n.on('input', fn);
    return () => {
      for (const n of nodes) n.removeListener('input', fn);
    };
  }

  describe('07 the guided check with the technician (a script answers, as in headless use)', function () {
    const FILE = '07 Guided check with the technician.json';
    const scripted = (answers: boolean[]) =>
      helper.settings({
        ...FAST_SETTINGS,
        openobdAccountSimulator: { ...FAST_SETTINGS.openobdAccountSimulator, ui: { mode: 'script', answerDelayMs: 10, answers } },
      } as never);

    it('ignition on, the codes shown, cleared on yes, finished with success', async function () {
      scripted([true, true]);
      await run(FILE);
      const sim = (await currentBuiltinSimulator())!;
      const shown: string[] = [];
      sim.technician.on('change', () => {
        for (const car of sim.technician.view().cars) if (car.control && shown.at(-1) !== car.control.label) shown.push(car.control.label);
      });
      const done = output('check done', 15000);
      press('start guided check');
      const d = await done;
      // The technician reads each code with what it means.
      assert.ok(
        shown.includes(
          'Stored fault codes (3): P0301-00 Cylinder 1 misfire detected; P0171-00 System too lean (bank 1); ' +
            'P0442-00 Evaporative emission system leak detected (small leak)',
        ),
        shown.join(' | '),
      );
      assert.equal(d.openobd.state, 'finished');
      assert.deepEqual(d.openobd.result.result, ['RESULT_SUCCESS']);
      assert.equal(d.openobd.result.description, 'Fault codes read and cleared');
      assert.equal(d.openobd.ui.label, 'The fault codes are cleared. Thank you!');
      assert.deepEqual(errors, []);
    });

    it('triggered twice 300 ms apart: both runs complete, one after the other, each on a session of its own', async function () {
      scripted([true, true, true, true]);
      await run(FILE);
      const done: AnyMsg[] = [];
      helper.getNode(byName(flow, 'helper', 'check done')).on('input', (m: AnyMsg) => done.push(m));
      press('start guided check');
      await new Promise((r) => setTimeout(r, 300));
      press('start guided check');
      const deadline = Date.now() + 20000;
      while (done.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(errors, []);
      assert.equal(done.length, 2);
      assert.notEqual(done[0]!.openobd.sessionId, done[1]!.openobd.sessionId);
      for (const d of done) assert.deepEqual(d.openobd.result.result, ['RESULT_SUCCESS']);
    });

    it('a deploy while a question waits: the technician reads that it was stopped in Node-RED, the result says so too', async function () {
      helper.settings({
        ...FAST_SETTINGS,
        openobdAccountSimulator: { ...FAST_SETTINGS.openobdAccountSimulator, ui: { mode: 'interactive' } },
      } as never);
      flow = loadExample(FILE);
      (flow.find((n) => n.type === 'openobd-account') as FlowNode).closePolicy = 'finish';
      await helper.load([openobdNodes, ...CORE] as never, flow as never);
      const sim = (await currentBuiltinSimulator())!;
      const shown: string[] = [];
      sim.technician.on('change', () => {
        for (const car of sim.technician.view().cars) if (car.control) shown.push(car.control.label);
      });
      const finished = new Promise<{ result: string[]; description?: string }>((resolve) =>
        sim.once('finished', (_id: string, r: { result: string[]; description?: string }) => resolve(r)),
      );
      press('start guided check');
      const deadline = Date.now() + 10000;
      while (!shown.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.ok(shown.length, 'a question waits on the screen');
      await helper.unload(); // what a full deploy does to the flow's nodes and its account
      assert.match(shown.at(-1) ?? '', /^The procedure was stopped in Node-RED \(a deploy or a stop of Node-RED\) before it finished$/);
      const r = await finished;
      assert.deepEqual(r.result, ['RESULT_FAILURE_RUNTIME_ERROR']);
      assert.equal(r.description, shown.at(-1));
    });

    it('the ignition stays off although confirmed: the read fails, Catch gets TIMEOUT and the error path finishes the session', async function () {
      scripted([true]);
      await run(FILE);
      const sim = await currentBuiltinSimulator();
      for (const c of sim!.connectors.values()) c.vehicle.ignitionOn = false;
      const shown: string[] = [];
      sim!.technician.on('change', () => {
        for (const car of sim!.technician.view().cars) if (car.control && shown.at(-1) !== car.control.label) shown.push(car.control.label);
      });
      const ended = output('session ended after the error', 20000);
      press('start guided check');
      const e = await ended;
      // The person at the car learns why before the session ends (the finish node's failure label).
      assert.match(shown.at(-1) ?? '', /^The procedure stopped without success: Check the ignition.*no response from ECU/);
      assert.equal(e.openobd.state, 'finished');
      assert.deepEqual(e.openobd.result.result, ['RESULT_FAILURE_RUNTIME_ERROR']);
      assert.equal(errors[0]?.error.code, 'TIMEOUT');
      assert.equal(sim!.stats().sessions.active ?? 0, 0);
    });

    it('no to clearing keeps the codes; no to the ignition ends with invalid preconditions', async function () {
      scripted([true, false, false]);
      await run(FILE);
      let done = output('check done', 15000);
      press('start guided check');
      const kept = await done;
      assert.equal(kept.openobd.result.description, 'Fault codes read and kept');
      assert.match(
        kept.openobd.ui.label,
        /^Clear the ([1-9]\d* )?stored fault codes?\?$/,
        'the count of the codes read was put into the question',
      );
      assert.equal(kept.payload, false);
      done = output('check done', 15000);
      press('start guided check');
      const refused = await done;
      assert.deepEqual(refused.openobd.result.result, ['RESULT_INVALID_PRECONDITIONS']);
      assert.deepEqual(errors, []);
    });
  });

  describe('procedures run from the simulated ticket dashboard', function () {
    /** Waits until the procedure named `name` is online, then presses Run on the ticket. */
    async function runFromDashboard(name: string, ticketId: string) {
      const sim = await currentBuiltinSimulator();
      assert.ok(sim, 'the built-in simulator runs');
      await waitFor(() => sim.functions.dashboardFunctions().some((f) => f.name === name && f.state === 'online'), 10000, `${name} online`);
      const f = sim.functions.dashboardFunctions().find((x) => x.name === name)!;
      const run = await sim.functions.runFromDashboard(ticketId, f.id);
      assert.equal(run.state, 'running', run.error);
      await waitFor(() => run.state !== 'running', 15000, `${name} to finish`);
      return run;
    }

    it('08 reads the VIN and the fault codes in the session it is handed, leaves results, finishes only its context', async function () {
      await run('08 A procedure started from the dashboard.json');
      const done = output('procedure done', 15000);
      const r = await runFromDashboard('Read the VIN and the fault codes', '1002');
      const d = await done;
      assert.deepEqual(d.openobd.result, { result: ['RESULT_SUCCESS'], userFeedback: undefined, description: 'VIN and fault codes read' });
      assert.equal(r.state, 'finished');
      assert.deepEqual(r.result?.result, ['RESULT_SUCCESS']);
      assert.equal(r.results?.vin, VIN);
      assert.deepEqual((r.results?.summary as { vin: string }).vin, VIN);
      assert.deepEqual(errors, []);
    });

    it('09 a procedure calls another one on its session, gets its result and passes it on', async function () {
      await run('09 A procedure that calls another procedure.json');
      const called = output('called procedure done', 15000);
      const done = output('full check done', 15000);
      const sim = await currentBuiltinSimulator();
      const r = await runFromDashboard('Full check', '1003');
      assert.equal((await called).openobd.state, 'finished');
      const d = await done;
      assert.deepEqual(d.openobd.result, { result: ['RESULT_SUCCESS'], userFeedback: undefined, description: 'Full check done' });
      assert.equal(d.payload.success, true);
      assert.deepEqual(d.payload.results, { vin: VIN });
      assert.equal(r.results?.vin, VIN, "the called procedure's result became the caller's");
      // Only the dashboard function is offered there; the internal one is not.
      assert.deepEqual(
        sim!.functions.dashboardFunctions().map((f) => f.name),
        ['Full check'],
      );
      assert.deepEqual(errors, []);
    });
  });

  it('10 reads a K-Line car: ECU list, ignition, KWP2000 identification and DTCs over the K-Line and TP 2.0', async function () {
    await run('10 Read a K-Line car.json');
    const ecus = output('ECUs');
    const ignition = output('ignition');
    const report = output('K-Line car report', 15000);
    const finished = output('finished', 15000);
    press('read the car');
    assert.deepEqual(
      (await ecus).payload.map((e: AnyMsg) => e.address),
      ['TP 2.0 01', 'TP 2.0 02', 'TP 2.0 03', 'K-Line 15', 'K-Line 17', 'K-Line 09'],
    );
    assert.equal((await ignition).payload, 'on');
    const r = (await report).payload;
    assert.equal(r.airbag.text, '1K0909605AB 0533AIRBAG VW8R');
    assert.deepEqual(
      r.airbagDtcs.dtcs.map((d: AnyMsg) => d.hex),
      ['9072'],
    );
    assert.equal(r.instruments.text, '1K0920852G  1201KOMBI+WEGFAHR.');
    assert.equal(r.engineVin.text, 'WVWZZZ1KZ6W612345');
    assert.deepEqual(
      r.engineDtcs.dtcs.map((d: AnyMsg) => [d.hex, d.warningLamp]),
      [
        ['412C', true],
        ['4509', false],
      ],
    );
    assert.equal((await finished).openobd.state, 'finished');
    assert.deepEqual(errors, []);
  });

  it('11 listens to CAN frames with filters and in batches, sends a frame, stops and finishes', async function () {
    await run('11 Listen to CAN frames.json');
    const frame = output('frames');
    const batch = output('batch', 5000);
    press('start listening');
    assert.ok(['0C9', '3E9'].includes((await frame).payload.id));
    assert.ok((await batch).payload.length > 0);
    const sent = output('sent');
    const answered = new Promise<AnyMsg>((resolve) => {
      const node = helper.getNode(byName(flow, 'helper', 'batch'));
      const look = (m: AnyMsg) => {
        if (m.payload.some((f: AnyMsg) => f.id === '7E8')) {
          node.removeListener('input', look);
          resolve(m);
        }
      };
      node.on('input', look);
    });
    press('send a frame');
    assert.deepEqual((await sent).openobd.frames, { sent: 1, bus: 'CAN-FRAMES' });
    assert.equal((await answered).payload.find((f: AnyMsg) => f.id === '7E8').data, '027E00AAAAAAAAAA');
    const finished = output('finished');
    press('stop and finish');
    assert.equal((await finished).openobd.state, 'finished');
    assert.deepEqual(errors, []);
  });

  it('13 downloads 3000 bytes in the programming session: progress on the status, the CRC of the engine', async function () {
    await run('13 Download data to an ECU.json');
    const downloaded = output('download', 15000);
    const finished = output('finished', 15000);
    press('download');
    const d = (await downloaded).openobd.download;
    assert.deepEqual([d.address, d.bytes, d.blocks, d.maxBlockLength, d.blockData], ['00080000', 3000, 3, 1026, 1024]);
    assert.match(d.exitHex, /^[0-9A-F]{8}$/);
    assert.equal((await finished).openobd.state, 'finished');
    const node = helper.getNode(flow.find((n) => n.type === 'openobd-download')!.id);
    const texts = statusHistory(node).map((x) => x.text);
    assert.ok(texts.includes('36: 1 / 3 blocks (34 %)'), texts.join(' | '));
    assert.equal(texts.at(-1), '3000 bytes in 3 blocks');
    assert.deepEqual(errors, []);
  });

  it('12 scans the 30-ECU car in one report (progress on the status) and probes the OBD range of the small car', async function () {
    await run('12 Full-system scan.json');
    const report = output('scan report', 20000);
    const withDtcs = output('ECUs with DTCs', 20000);
    const finished = output('finished', 20000);
    press('scan the car');
    const r = (await report).payload;
    assert.equal(r.discovered, 'ecu-list');
    assert.equal(r.vin, 'WVWZZZAUZLW123456');
    assert.deepEqual([r.summary.ecus, r.summary.reachable, r.summary.requests], [30, 30, 180]);
    const heater = r.ecus.find((e: AnyMsg) => e.address === 'K-Line 18');
    assert.deepEqual([heater.transport, heater.protocol, heater.identification.partNumber], ['kline', 'kwp2000', '5Q0815065']);
    const table = (await withDtcs).payload as AnyMsg[];
    assert.equal(table.length, r.summary.withDtcs);
    assert.equal((await finished).openobd.state, 'finished');
    const scan = helper.getNode(flow.find((n) => n.type === 'openobd-scan' && !n.name)!.id);
    const texts = statusHistory(scan).map((x) => x.text);
    assert.ok(
      texts.some((t) => /^\d+ \/ 30 ECUs$/.test(String(t))),
      texts.join(' | '),
    );
    assert.equal(texts.at(-1), `30 / 30 ECUs, ${r.summary.dtcs} DTCs`);

    const probe = output('probe report', 20000);
    const probeFinished = output('probe finished', 20000);
    press('probe the OBD range');
    const p = (await probe).payload;
    assert.deepEqual(
      p.ecus.map((e: AnyMsg) => [e.address, e.name]),
      [
        ['760/768', 'ESC 4-channel'],
        ['7E0/7E8', 'R4 1.4l TSI'],
        ['7E1/7E9', 'DCT 7-speed'],
      ],
    );
    assert.equal((await probeFinished).openobd.state, 'finished');
    // While probing, the status counts the ids probed and the ECUs found.
    const probing = flow
      .filter((n) => n.type === 'openobd-scan')
      .flatMap((n) => statusHistory(helper.getNode(n.id)).map((x) => String(x.text)))
      .filter((t) => t.startsWith('probing'));
    assert.ok(
      probing.some((t) => /^probing \d+ \/ \d+ ids · [1-3] ECUs?$/.test(t)),
      probing.join(' | '),
    );
    assert.deepEqual(errors, []);
  });
});
