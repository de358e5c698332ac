import assert from 'node:assert/strict';
import { codec, download, unlockSecurity, type DownloadProgress, type Session, type SessionController } from '../../client';
import { loadVehicle, type OpenObdSimulator, type SimulatorOptions, type VehicleDefinition } from '../../simulator';
import { crc32 } from '../../simulator/vehicle/ecu';
import { ENGINE, controllerFor, startSimulator } from '../support/sim';

/*
 * Deeper UDS through the client library against the simulated engine (ISO 14229-1): snapshot and extended
 * data decoded, DTC setting, communication control, I/O control, the pluggable seed-to-key step and a
 * download with its block sequence counter and the block length the ECU announces.
 */

const MASK = [0x4f, 0x50, 0x45, 0x4e];
const engineKey = (seed: Buffer) => Buffer.from(seed.map((b, i) => b ^ MASK[i]!));

describe('client library <-> simulator: deeper UDS (19 04/06, 85, 28, 2F, 27 with a key function, 34/36/37)', function () {
  this.timeout(20000);
  let sim: OpenObdSimulator | undefined;
  let controller: SessionController | undefined;
  const open: Session[] = [];

  async function boot(options: SimulatorOptions = {}): Promise<Session> {
    sim = await startSimulator(options);
    controller = controllerFor(sim, { session: { uds: { timeoutMs: 2000, suppressedWaitMs: 150 } } });
    const session = await controller.startSession({ ticketId: '1001' });
    open.push(session);
    return session;
  }

  afterEach(async function () {
    for (const s of open.splice(0)) s.close();
    controller?.close();
    await sim?.stop();
    sim = undefined;
  });

  it('decodes snapshot records (F4xx DIDs split by their OBD-II lengths) and extended data records', async function () {
    const session = await boot();
    const snap = await session.request(ENGINE, '19 04 03 01 00 FF');
    assert.deepEqual(codec.decodeResponse(Buffer.from('1904030100FF', 'hex'), snap.responses[0]!.payload), {
      reportType: 4,
      reportTypeName: 'reportDTCSnapshotRecordByDTCNumber',
      dtc: { code: 'P0301-00', ...codec.dtcMeaning('P0301-00'), hex: '030100', status: 0xaf, statusBits: codec.decodeDtcStatus(0xaf) },
      records: [
        {
          record: '01',
          identifiers: [
            { did: 'F40C', hex: '0C30' },
            { did: 'F405', hex: '5A' },
          ],
        },
        { record: '02', identifiers: [{ did: 'F40C', hex: '1F40' }] },
      ],
    });
    const ext = await session.request(ENGINE, '19 06 03 01 00 FF');
    const request = Buffer.from('1906030100FF', 'hex');
    assert.deepEqual(
      (codec.decodeResponse(request, ext.responses[0]!.payload) as { records: unknown[]; undecodedHex: string }).undecodedHex,
      '01050228',
      'record lengths unknown',
    );
    assert.deepEqual(codec.decodeResponse(request, ext.responses[0]!.payload, { extendedDataLengths: { 1: 1, 2: 1 } })!.records, [
      { record: '01', hex: '05' },
      { record: '02', hex: '28' },
    ]);
    const one = await session.request(ENGINE, '19 06 03 01 00 02');
    assert.deepEqual(codec.decodeResponse(Buffer.from('190603010002', 'hex'), one.responses[0]!.payload)!.records, [
      { record: '02', hex: '28' },
    ]);
  });

  it('85, 28 and 2F in the extended session, decoded; the seed-to-key step is a function of the caller', async function () {
    const session = await boot();
    assert.equal((await session.request(ENGINE, '10 03')).responses[0]!.hex, '5003003201F4');
    const decoded = async (hex: string) => (await session.request(ENGINE, hex)).responses[0]!;
    assert.deepEqual(codec.decodeResponse(Buffer.from('8502', 'hex'), (await decoded('85 02')).payload), {
      dtcSettingType: 2,
      dtcSetting: 'off',
    });
    assert.deepEqual(codec.decodeResponse(Buffer.from('280301', 'hex'), (await decoded('28 03 01')).payload), {
      controlType: 3,
      controlTypeName: 'disableRxAndTx',
    });
    assert.equal((await session.request(ENGINE, '28 80 01')).suppressed, true, 'SPRMIB: no positive answer');
    assert.deepEqual(codec.decodeResponse(Buffer.from('2F09010340', 'hex'), (await decoded('2F 09 01 03 40')).payload), {
      did: '0901',
      ioControlParameter: 3,
      ioControlParameterName: 'shortTermAdjustment',
      stateHex: '40',
    });
    assert.equal(sim!.vehicleOf('1001')!.ecuStatus('engine').ioOverrides!['0901'], '40');
    // The protected output needs level 1: the key comes from a function (the manufacturer's algorithm).
    assert.equal((await decoded('2F 09 02 03 00')).nrcName, 'securityAccessDenied');
    const seeds: string[] = [];
    const unlocked = await unlockSecurity(session, ENGINE, {
      level: 1,
      computeKey: (seed) => (seeds.push(seed.toString('hex')), engineKey(seed)),
    });
    assert.equal(unlocked.alreadyUnlocked, false);
    assert.equal(seeds.length, 1);
    assert.deepEqual(await unlockSecurity(session, ENGINE, { computeKey: () => assert.fail('no key for a zero seed') }), {
      level: 1,
      seedHex: '00000000',
      alreadyUnlocked: true,
    });
    assert.equal((await decoded('2F 09 02 03 00')).hex, '6F09020300');
    await assert.rejects(
      unlockSecurity(session, { ...ENGINE, requestId: 0x7e1, responseId: 0x7e9 }, { computeKey: () => Buffer.alloc(4) }),
      (err: { code: string; nrcName?: string; message: string }) =>
        err.code === 'NEGATIVE_RESPONSE' && err.nrcName === 'serviceNotSupportedInActiveSession' && /27 01/.test(err.message),
    );
  });

  it('downloads 3000 bytes: 34 → 74 (1026 bytes a block), three 36 blocks with counters 01-03, 37; the ECU has the data (CRC-32)', async function () {
    const session = await boot();
    await session.request(ENGINE, '10 03');
    await session.request(ENGINE, '10 02');
    await unlockSecurity(session, ENGINE, { computeKey: engineKey });
    const data = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 31 + 7) & 0xff));
    const progress: DownloadProgress[] = [];
    const result = await download(session, ENGINE, { address: 0x00080000, data, onProgress: (p) => progress.push(p) });
    const crc = crc32(data).toString(16).toUpperCase().padStart(8, '0');
    assert.deepEqual(
      { ...result, elapsedMs: 0 },
      {
        address: 0x80000,
        bytes: 3000,
        blocks: 3,
        maxBlockLength: 1026,
        blockData: 1024,
        repeats: 0,
        exitHex: crc,
        elapsedMs: 0,
      },
    );
    assert.deepEqual(
      progress.map((p) => [p.blocks, p.totalBlocks, p.bytes]),
      [
        [1, 3, 1024],
        [2, 3, 2048],
        [3, 3, 3000],
      ],
    );
    assert.equal(sim!.vehicleOf('1001')!.ecuStatus('engine').download!.crc32, crc);
    // Outside the ECU's memory: the 34 is refused, nothing is sent.
    await assert.rejects(
      download(session, ENGINE, { address: 0x00100000, data }),
      (err: { code: string; nrcName?: string }) => err.code === 'NEGATIVE_RESPONSE' && err.nrcName === 'requestOutOfRange',
    );
    await assert.rejects(download(session, ENGINE, { address: 0x80000, data: Buffer.alloc(0) }), { code: 'BAD_PAYLOAD' });
    await assert.rejects(download(session, ENGINE, { address: 0x1_0000_0000, data }), { code: 'BAD_CONFIG' });
  });

  it('waits out "response pending" on every block while the ECU writes, and counts past FF (wrapping to 00)', async function () {
    const def = structuredClone(loadVehicle().definition) as VehicleDefinition;
    const engine = def.ecus[0]!;
    engine.responseDelayMs = 0;
    engine.download = { memory: { address: '00000000', size: '00010000' }, maxBlockLength: 10, pendingPerBlock: 1, pendingIntervalMs: 1 };
    const session = await boot({ vehicle: def });
    await session.request(ENGINE, '10 03');
    await session.request(ENGINE, '10 02');
    const data = Buffer.alloc(8 * 300, 0x5a); // 300 blocks of 8: counters 01…FF, 00, 01…2D
    const result = await download(session, ENGINE, { address: 0, data, sizeBytes: 2, addressBytes: 2 });
    assert.deepEqual([result.blocks, result.blockData, result.maxBlockLength], [300, 8, 10]);
    assert.equal(sim!.vehicleOf('1001')!.ecuStatus('engine').download!.received, 2400);
  });
});
