import assert from 'node:assert/strict';
import { dtcMeaning, scanPlan, scanVehicle, type Session, type SessionController } from '../../client';
import { loadVehicle, type OpenObdSimulator, type SimulatorOptions, type VehicleDefinition } from '../../simulator';
import { ENGINE, controllerFor, startSimulator, waitFor } from '../support/sim';

/*
 * The full-system scan (client/scan.ts) against the simulator's cars: the fleet car's 30 ECUs on five
 * buses from the connector's list, the classic car's K-Line lane, a probe of CAN ids, ECUs that do not
 * answer or cannot be reached on their pins. No timing is asserted here (the benchmark measures it).
 */

describe('client library <-> simulator: full-system scan', function () {
  this.timeout(30000);
  let sim: OpenObdSimulator | undefined;
  let controller: SessionController | undefined;
  const open: Session[] = [];

  async function boot(ticketId: string, options: SimulatorOptions = {}): Promise<Session> {
    sim ??= await startSimulator(options);
    controller ??= controllerFor(sim, { session: { uds: { timeoutMs: 1000 } } });
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

  it('leaves their places to channels other work holds: with 4 requests waiting on the session, all 30 ECUs are read', async function () {
    const session = await boot('2002');
    const silent = (i: number) => ({ bus: { name: 'OBD-CAN' }, requestId: 0x600 + i, responseId: 0x680 + i }); // nobody answers
    const waiting = Array.from({ length: 4 }, (_, i) => session.request(silent(i), '3E00', { timeoutMs: 8000 }).catch((e: Error) => e));
    await waitFor(() => session.stats.busyChannels === 4, 5000, 'four channels waiting for answers');
    const report = await scanVehicle(session);
    assert.deepEqual(
      report.ecus.flatMap((e) => e.errors.map((x) => `${e.address}: ${x.code}`)),
      [],
    );
    assert.equal(report.summary.reachable, 30);
    session.close();
    await Promise.all(waiting);
  });

  it('scans the fleet car: 30 ECUs on four buses configured in one call, identification and decoded DTCs, progress per ECU', async function () {
    const session = await boot('2002');
    const progress: Array<[number, number]> = [];
    const before = sim!.callCounts.get('config.configureBus') ?? 0;
    const report = await scanVehicle(session, { onProgress: (done, total) => progress.push([done, total]) });
    assert.equal((sim!.callCounts.get('config.configureBus') ?? 0) - before, 1, 'one configureBus for every bus');
    assert.deepEqual(
      session.configuredBuses.map((b) => b.bus_name),
      ['OBD-CAN', 'CAN-3-11', 'DOIP', 'K-LINE'],
    );
    assert.equal(report.vin, 'WVWZZZAUZLW123456');
    assert.deepEqual(
      { ...report.summary, elapsedMs: 0 },
      {
        ecus: 30,
        reachable: 30,
        withDtcs: report.ecus.filter((e) => e.dtcs.length).length,
        dtcs: report.summary.dtcs,
        requests: 180,
        elapsedMs: 0,
      },
    );
    assert.deepEqual(progress.at(-1), [30, 30]);
    assert.deepEqual(
      progress.map((p) => p[0]),
      Array.from({ length: 30 }, (_, i) => i + 1),
    );
    const engine = report.ecus[0]!;
    assert.deepEqual(
      { ...engine, elapsedMs: 0, dtcs: engine.dtcs.map((d) => d.code) },
      {
        transport: 'isotp',
        address: '7E0/7E8',
        protocol: 'uds',
        name: 'Engine control modul',
        identification: { vin: 'WVWZZZAUZLW123456', partNumber: '04L906056KL', softwareVersion: '0420', supplier: 'Bosch' },
        dtcs: engine.dtcs.map((d) => d.code),
        errors: [],
        reachable: true,
        requests: 6,
        elapsedMs: 0,
      },
    );
    const definition = loadVehicle('fleet').definition.ecus;
    for (const [i, e] of report.ecus.entries()) {
      const def = definition[i]!;
      assert.equal(e.dtcs.length, def.dtcs?.length ?? 0, `${e.address}: the DTCs of ${def.name}`);
    }
    const heater = report.ecus.find((e) => e.transport === 'kline')!;
    assert.deepEqual(
      heater.identification,
      { partNumber: '5Q0815065', softwareVersion: '0210', supplier: 'Webasto' },
      'no VIN on the heater',
    );
    // The report reads as text too: each answering ECU with its codes and what they mean.
    assert.match(report.text, /^30 ECUs, \d+ answered, \d+ with fault codes \(\d+ codes\); \d+ requests in [\d.]+ s\n/);
    assert.match(report.text, /\n {4}P0301-00 +Cylinder 1 misfire detected\n/);
    assert.match(report.text, /\n {4}B1410 +Manufacturer specific body code/);
    assert.deepEqual(heater.dtcs, [
      { code: 'B1410', ...dtcMeaning('B1410'), hex: '9410', status: 0xe0, warningLamp: true, storageState: 'presentAtTimeOfRequest' },
    ]);
    assert.deepEqual(
      report.ecus.filter((e) => e.transport === 'doip').map((e) => [e.address, e.identification.supplier]),
      [
        ['DoIP 1010', 'Continental'],
        ['DoIP 4011', 'Aptiv'],
        ['DoIP 4012', 'Bosch'],
      ],
    );
  });

  it('the classic car: TP 2.0 in parallel, the K-Line ECUs one after another grouped by initialisation', async function () {
    const classic = structuredClone(loadVehicle('classic').definition) as VehicleDefinition;
    classic.ecus.find((e) => e.name === 'instruments')!.kline!.initMs = 200;
    const session = await boot('2001', { garage: [{ ticketId: '2001', vehicle: classic }] });
    const report = await scanVehicle(session);
    assert.deepEqual(
      report.ecus.map((e) => [e.address, e.protocol, e.reachable, e.identification.partNumber]),
      [
        ['TP 2.0 01', 'kwp2000', true, '03G906021AB'],
        ['TP 2.0 02', 'kwp2000', true, '02E300048J'],
        ['TP 2.0 03', 'kwp2000', true, '1K0907379AC'],
        ['K-Line 15', 'kwp2000', true, '1K0909605AB'],
        ['K-Line 17', 'kwp2000', true, '1K0920852G'],
        ['K-Line 09', 'kwp2000', true, '1K0937049F'],
      ],
    );
    assert.equal(report.vin, 'WVWZZZ1KZ6W612345');
    assert.deepEqual(
      report.ecus.flatMap((e) => e.errors),
      [],
    );
  });

  it('probes a range of CAN ids; an ECU that never answers is asked once; an ECU on taken pins reports PIN_CONFLICT once', async function () {
    const session = await boot('1001');
    const probed = await scanVehicle(session, {
      discover: 'probe',
      probe: { bus: { name: 'obd-can' }, from: 0x700, to: 0x7ef, timeoutMs: 150 },
      identification: false,
    });
    assert.deepEqual(
      probed.ecus.map((e) => [e.address, e.requests, e.dtcs.map((d) => d.code)]),
      [
        ['760/768', 1, ['C0035-31']],
        ['7E0/7E8', 1, ['P0301-00', 'P0171-00', 'P0442-00']],
        ['7E1/7E9', 1, ['P0715-1C', 'U0100-87']],
      ],
    );
    const given = await scanVehicle(session, {
      discover: 'given',
      ecus: [
        { spec: ENGINE },
        { spec: { ...ENGINE, requestId: 0x7e5, responseId: 0x7ed } },
        { spec: { transport: 'tp20', bus: { name: 'TP' }, logicalAddress: 1 } },
      ],
      timing: { timeoutMs: 200 },
      concurrency: 1,
    });
    assert.deepEqual(
      given.ecus.map((e) => [e.address, e.reachable, e.requests, e.errors.map((x) => x.code)]),
      [
        ['7E0', true, 6, []],
        ['7E5', false, 1, ['TIMEOUT']],
        ['TP 2.0 01', false, 1, ['PIN_CONFLICT']],
      ],
    );
    await assert.rejects(scanVehicle(session, { discover: 'probe', probe: { bus: { name: 'obd-can' }, from: 0x7ff, to: 0x700 } }), {
      code: 'BAD_CONFIG',
      message: 'The probe range must go upwards within the CAN ids',
    });
    assert.deepEqual(
      scanPlan(ENGINE).map((b) => b.toString('hex')),
      ['22f190', '22f187', '22f189', '22f18a', '22f197', '1902ff'],
    );
  });
});
