import assert from 'node:assert/strict';
import { decodeResponse, dtcMeaning, parseHex, type DecodedResponse } from '../../client/codec';

const h = parseHex;

/** Decodes and checks that the result is plain JSON: no Buffers, no undefined members, no class instances. */
function decode(request: string | Buffer, response: string | Buffer): DecodedResponse | undefined {
  const result = decodeResponse(typeof request === 'string' ? h(request) : request, typeof response === 'string' ? h(response) : response);
  if (result !== undefined) assert.deepEqual(JSON.parse(JSON.stringify(result)), result, 'decoded value is not plain JSON');
  return result;
}

/** Mode 03/07/0A codes as decoded: plain text, and beside them what each means. */
const obdDtcs = (...dtcs: string[]) => ({ dtcs, count: dtcs.length, details: dtcs.map((code) => ({ code, ...dtcMeaning(code) })) });

const VIN_1M8 = '62 F1 90 31 4D 38 47 44 4D 39 41 58 4B 50 30 34 32 37 38 38';

describe('codec/decode ReadDataByIdentifier (62)', () => {
  it('U17: 22 F190 → VIN 1M8GDM9AXKP042788 with the decodeVin fields', () => {
    const result = decode('22 F1 90', VIN_1M8);
    assert.ok(result);
    assert.equal(result.did, 'F190');
    assert.equal(result.name, 'VIN');
    assert.equal(result.hex, '314D3847444D3941584B50303432373838');
    assert.equal(result.text, '1M8GDM9AXKP042788');
    assert.equal(result.vin, '1M8GDM9AXKP042788');
    assert.equal(result.wellFormed, true);
    assert.equal(result.wmi, '1M8');
    assert.equal(result.manufacturer, 'Motor Coach Industries');
    assert.deepEqual(result.checkDigit, { expected: 'X', actual: 'X', valid: true });
    assert.equal(typeof result.modelYear, 'number');
  });

  it('U15: 22 0001 → hex only (not a known DID, not printable)', () => {
    assert.deepEqual(decode('22 00 01', '62 00 01 12 34'), { did: '0001', hex: '1234' });
  });

  it('U16: several DIDs cannot be split without their lengths', () => {
    assert.equal(decode('22 00 01 00 02 00 04 00 03', '62 00 01 12 34 00 02 56 78 00 04 61 62 63 64 65 00 03 11'), undefined);
  });

  it('names identification DIDs and shows printable ASCII as text, ignoring trailing padding', () => {
    const response = Buffer.concat([h('62 F1 87'), Buffer.from('5Q0907530AA'), h('20 20 00 00')]);
    assert.deepEqual(decode('22 F1 87', response), {
      did: 'F187',
      name: 'vehicleManufacturerSparePartNumber',
      hex: '355130393037353330414120200000',
      text: '5Q0907530AA',
    });
    assert.equal(decode('22 F1 8C', '62 F1 8C 41 42 00 43')?.text, undefined); // NUL inside: binary
    assert.equal(decode('22 F1 9E', '62 F1 9E 41')?.name, 'ODXFile');
    assert.equal(decode('22 F1 80', '62 F1 80 41')?.name, 'bootSoftwareIdentification');
  });

  it('F186 gives the active session', () => {
    assert.deepEqual(decode('22 F1 86', '62 F1 86 03'), {
      did: 'F186',
      name: 'activeDiagnosticSession',
      hex: '03',
      session: 3,
      sessionName: 'extendedDiagnosticSession',
    });
  });
});

describe('codec/decode ReadDTCInformation (59)', () => {
  it('U10: 59 01 FB 01 12 34 → availability FB, format 01, count 0x1234', () => {
    assert.deepEqual(decode('19 01 5A', '59 01 FB 01 12 34'), {
      reportType: 1,
      reportTypeName: 'reportNumberOfDTCByStatusMask',
      statusAvailabilityMask: 0xfb,
      dtcFormat: 1,
      dtcFormatName: 'ISO 14229-1 DTC format',
      count: 0x1234,
    });
  });

  it('U11: 59 02 FB … → 2 DTCs with statuses 20 and 60', () => {
    const result = decode('19 02 5A', '59 02 FB 12 34 56 20 12 34 57 60');
    assert.ok(result);
    assert.equal(result.reportTypeName, 'reportDTCByStatusMask');
    assert.equal(result.statusAvailabilityMask, 0xfb);
    const dtcs = result.dtcs as Array<Record<string, unknown>>;
    assert.deepEqual(
      dtcs.map(({ code, hex, status }) => ({ code, hex, status })),
      [
        { code: 'P1234-56', hex: '123456', status: 0x20 },
        { code: 'P1234-57', hex: '123457', status: 0x60 },
      ],
    );
    assert.equal((dtcs[1]!.statusBits as Record<string, boolean>).testNotCompletedThisOperationCycle, true);
    assert.equal('undecodedHex' in result, false);
  });

  it('U12: 59 02 FB → no DTC', () => {
    assert.deepEqual(decode('19 02 5A', '59 02 FB'), {
      reportType: 2,
      reportTypeName: 'reportDTCByStatusMask',
      statusAvailabilityMask: 0xfb,
      dtcs: [],
    });
  });

  it('U13: 59 02 FF 01 23 45 0F → P0123-45, status 0F', () => {
    assert.deepEqual(decode('19 02 FF', '59 02 FF 01 23 45 0F'), {
      reportType: 2,
      reportTypeName: 'reportDTCByStatusMask',
      statusAvailabilityMask: 0xff,
      dtcs: [
        {
          code: 'P0123-45',
          ...dtcMeaning('P0123-45'),
          hex: '012345',
          status: 0x0f,
          statusBits: {
            testFailed: true,
            testFailedThisOperationCycle: true,
            pendingDTC: true,
            confirmedDTC: true,
            testNotCompletedSinceLastClear: false,
            testFailedSinceLastClear: false,
            testNotCompletedThisOperationCycle: false,
            warningIndicatorRequested: false,
          },
        },
      ],
    });
  });

  it('U14: 59 0A FF (+ records) → reportSupportedDTC, including status 00', () => {
    assert.deepEqual(decode('19 0A', '59 0A FF'), {
      reportType: 0x0a,
      reportTypeName: 'reportSupportedDTC',
      statusAvailabilityMask: 0xff,
      dtcs: [],
    });
    const result = decode('19 0A', '59 0A FF 56 78 9A 00 A5 B6 C7 2F');
    const dtcs = result?.dtcs as Array<Record<string, unknown>>;
    assert.deepEqual(
      dtcs.map(({ code, status }) => [code, status]),
      [
        ['C1678-9A', 0x00],
        ['B25B6-C7', 0x2f],
      ],
    );
  });

  it('keeps a trailing partial record as undecoded hex', () => {
    const result = decode('19 02 FF', '59 02 FF 01 23 45 0F 00 00');
    assert.equal((result?.dtcs as unknown[]).length, 1);
    assert.equal(result?.undecodedHex, '0000');
  });
});

describe('codec/decode session, reset, security, routine, write, clear', () => {
  it('U1: 50 01 99 88 → session 1 with the short parameter record passed through', () => {
    assert.deepEqual(decode('10 01', '50 01 99 88'), {
      session: 1,
      sessionName: 'defaultSession',
      sessionParameterRecord: '9988',
    });
    assert.deepEqual(decode('10 01', '50 01 99 88 12 34'), {
      session: 1,
      sessionName: 'defaultSession',
      sessionParameterRecord: '99881234',
      p2Ms: 0x9988,
      p2StarMs: 0x1234 * 10,
    });
  });

  it('U2: 50 01 03 E8 00 C8 → P2 1000 ms, P2* 2000 ms', () => {
    const result = decode('10 01', '50 01 03 E8 00 C8');
    assert.equal(result?.p2Ms, 1000);
    assert.equal(result?.p2StarMs, 2000);
  });

  it('U3: 50 01 00 32 01 F4 → P2 50 ms, P2* 5000 ms', () => {
    assert.deepEqual(decode('10 01', '50 01 00 32 01 F4'), {
      session: 1,
      sessionName: 'defaultSession',
      sessionParameterRecord: '003201F4',
      p2Ms: 50,
      p2StarMs: 5000,
    });
    assert.equal(decode('10 03', '50 03 00 32 01 F4')?.sessionName, 'extendedDiagnosticSession');
    assert.equal(decode('10 60', '50 60 00 32 01 F4')?.sessionName, 'systemSupplierSpecific');
  });

  it('U5: 51 55 → reset type 55; 51 04 23 → power-down time 35 s', () => {
    assert.deepEqual(decode('11 55', '51 55'), { resetType: 0x55, resetTypeName: 'vehicleManufacturerSpecific' });
    assert.deepEqual(decode('11 04', '51 04 23'), {
      resetType: 4,
      resetTypeName: 'enableRapidPowerShutDown',
      powerDownTimeS: 0x23,
    });
    assert.deepEqual(decode('11 04', '51 04 FF'), {
      resetType: 4,
      resetTypeName: 'enableRapidPowerShutDown',
      powerDownTimeS: null,
    });
    assert.deepEqual(decode('11 01', '51 01'), { resetType: 1, resetTypeName: 'hardReset' });
  });

  it('U8: 54 → cleared', () => {
    assert.deepEqual(decode('14 FF FF FF', '54'), { cleared: true });
  });

  it('U18: 67 05 99 88 77 66 → seed', () => {
    assert.deepEqual(decode('27 05', '67 05 99 88 77 66'), {
      securityAccessType: 5,
      step: 'requestSeed',
      seed: '99887766',
      alreadyUnlocked: false,
    });
  });

  it('U19: 67 06 → key accepted', () => {
    assert.deepEqual(decode('27 06 11 22 33 44', '67 06'), { securityAccessType: 6, step: 'sendKey', unlocked: true });
  });

  it('U22: 67 01 00 00 00 00 → zero seed means already unlocked', () => {
    assert.deepEqual(decode('27 01', '67 01 00 00 00 00'), {
      securityAccessType: 1,
      step: 'requestSeed',
      seed: '00000000',
      alreadyUnlocked: true,
    });
  });

  it('U23/U24: 6E → DID written', () => {
    assert.deepEqual(decode('2E 00 01 12 34', '6E 00 01'), { did: '0001', written: true });
    assert.deepEqual(decode('2E F1 90 31 4D 38 47 44 4D 39 41 58 4B 50 30 34 32 37 38 38', '6E F1 90'), {
      did: 'F190',
      name: 'VIN',
      written: true,
    });
  });

  it('U25: 71 01 00 12 99 88 → start routine 0012, status 9988', () => {
    assert.deepEqual(decode('31 01 00 12 45 67 89 AA', '71 01 00 12 99 88'), {
      routineId: '0012',
      controlType: 1,
      controlTypeName: 'startRoutine',
      statusHex: '9988',
    });
  });

  it('U26: 71 03 12 34 99 88 → routine results', () => {
    assert.deepEqual(decode('31 03 12 34 45 67 89 AA', '71 03 12 34 99 88'), {
      routineId: '1234',
      controlType: 3,
      controlTypeName: 'requestRoutineResults',
      statusHex: '9988',
    });
  });

  it('U28: the final answer after 7F 31 78 is decoded; the pending frame is not', () => {
    assert.equal(decode('31 01 FF 00 44 08 01 00 00 00 00 4A 8C', '7F 31 78'), undefined);
    assert.deepEqual(decode('31 01 FF 00 44 08 01 00 00 00 00 4A 8C', '71 01 FF 00'), {
      routineId: 'FF00',
      controlType: 1,
      controlTypeName: 'startRoutine',
      statusHex: '',
    });
  });

  it('U29/U30/U31: nothing to decode for 7E 00, negatives or pending frames', () => {
    assert.equal(decode('3E 00', '7E 00'), undefined);
    assert.equal(decode('3E 00', '7F 3E 13'), undefined);
    assert.equal(decode('22 F1 90', '7F 22 78'), undefined);
  });

  it('udsoncan negatives: an unrelated answer is not decoded', () => {
    assert.equal(decode('27 05', '67 06 99 88 77 66'), undefined);
    assert.equal(decode('19 01 5A', '59 01 FB 01 12'), undefined);
    assert.equal(decode('10 01', '7E 00'), undefined);
  });

  it('a malformed request yields nothing rather than an exception', () => {
    assert.equal(decode('10', '50'), undefined);
    assert.equal(decode('2E F1', '6E F1'), undefined);
    assert.equal(decode('31 01', '71 01'), undefined);
  });
});

describe('codec/decode OBD answers', () => {
  it('O3: 41 multi-PID → pids array and values by name', () => {
    const result = decode('01 05 01 15 0C 03', '41 05 6E 01 83 33 FF 63 15 A0 78 0C 0A 6B 03 02 00');
    assert.ok(result);
    assert.equal(result.complete, true);
    const pids = result.pids as Array<Record<string, unknown>>;
    assert.deepEqual(
      pids.map((entry) => entry.pid),
      ['05', '01', '15', '0C', '03'],
    );
    assert.deepEqual(pids[0], { pid: '05', name: 'engineCoolantTemperature', value: 70, unit: '°C' });
    const values = result.values as Record<string, unknown>;
    assert.equal(values.engineCoolantTemperature, 70);
    assert.equal(values.engineSpeed, 666.75);
    assert.deepEqual(values.oxygenSensorBank1Sensor2, { volts: 0.8, shortTermFuelTrimPercent: -6.25 });
    assert.equal('supportedPids' in result, false);
  });

  it('O4/O5: single PIDs', () => {
    assert.deepEqual(decode('01 0C', '41 0C 1A A0'), {
      pids: [{ pid: '0C', name: 'engineSpeed', value: 1704, unit: 'rpm' }],
      values: { engineSpeed: 1704 },
      readings: { engineSpeed: { value: 1704, unit: 'rpm' } },
      complete: true,
    });
    assert.deepEqual((decode('01 0D', '41 0D 3C')?.values as Record<string, unknown>).vehicleSpeed, 60);
  });

  it('O1: 41 00 → supported PIDs as hex', () => {
    const result = decode('01 00', '41 00 BE 1F B8 13');
    assert.deepEqual(result?.supportedPids, [
      '01',
      '03',
      '04',
      '05',
      '06',
      '07',
      '0C',
      '0D',
      '0E',
      '0F',
      '10',
      '11',
      '13',
      '14',
      '15',
      '1C',
      '1F',
      '20',
    ]);
  });

  it('O2: 41 00 … 20 … → both records merged', () => {
    const result = decode('01 00 20', '41 00 BF BF A8 91 20 80 00 00 00');
    assert.deepEqual(result?.supportedPids, [
      '01',
      '03',
      '04',
      '05',
      '06',
      '07',
      '08',
      '09',
      '0B',
      '0C',
      '0D',
      '0E',
      '0F',
      '10',
      '11',
      '13',
      '15',
      '19',
      '1C',
      '20',
      '21',
    ]);
    const values = result?.values as Record<string, unknown>;
    assert.deepEqual(values.supportedPids21To40, ['21']);
  });

  it('an unknown PID gives a partial result', () => {
    const result = decode('01 0C 99', '41 0C 1A A0 99 01');
    assert.equal(result?.complete, false);
    assert.equal(result?.undecodedHex, '9901');
    assert.equal(result?.problem, 'PID 99 is not known, so the length of its data and what follows cannot be decoded');
    assert.deepEqual(result?.values, { engineSpeed: 1704 });
  });

  it('O7/O8: 41 01 → monitor status', () => {
    const o7 = decode('01 01', '41 01 83 07 FF 00')?.values as Record<string, Record<string, unknown>>;
    assert.equal(o7.monitorStatus!.milOn, true);
    assert.equal(o7.monitorStatus!.dtcCount, 3);
    assert.equal(o7.monitorStatus!.ignitionType, 'spark');
    const o8 = decode('01 01', '41 01 00 79 03 03')?.values as Record<string, Record<string, unknown>>;
    assert.equal(o8.monitorStatus!.milOn, false);
    assert.equal(o8.monitorStatus!.dtcCount, 0);
    assert.equal(o8.monitorStatus!.ignitionType, 'compression');
  });

  it('O9: 43 → 6 DTCs', () => {
    assert.deepEqual(
      decode('03', '43 06 01 43 01 96 02 34 02 CD 03 57 0A 24'),
      obdDtcs('P0143', 'P0196', 'P0234', 'P02CD', 'P0357', 'P0A24'),
    );
  });

  it('O10/O11: 43 02 … and 43 00; 47 and 4A', () => {
    assert.deepEqual(decode('03', '43 02 01 02 01 13'), obdDtcs('P0102', 'P0113'));
    assert.deepEqual(decode('03', '43 00'), obdDtcs());
    assert.deepEqual(decode('07', '47 01 01 04'), obdDtcs('P0104'));
    assert.deepEqual(decode('0A', '4A 00'), obdDtcs());
    assert.equal(decode('03', '43 03 01 04'), undefined); // count larger than the data: malformed
  });

  it('O12: 44 → cleared', () => {
    assert.deepEqual(decode('04', '44'), { cleared: true });
  });

  it('O13: 49 00 55 42 00 00 → supported info types', () => {
    assert.deepEqual(decode('09 00', '49 00 55 42 00 00'), { supportedInfoTypes: ['02', '04', '06', '08', '0A', '0F'] });
  });

  it('O14: 49 02 01 … → VIN W0L000051T2123456 (check digit invalid, still decoded)', () => {
    const result = decode('09 02', '49 02 01 57 30 4C 30 30 30 30 35 31 54 32 31 32 33 34 35 36');
    assert.ok(result);
    assert.equal(result.vin, 'W0L000051T2123456');
    assert.equal(result.manufacturer, 'Opel');
    assert.deepEqual(result.checkDigit, { expected: '5', actual: '1', valid: false });
  });

  it('O15: 49 02 01 + WP0ZZZ99ZTS392124', () => {
    const response = Buffer.concat([h('49 02 01'), Buffer.from('WP0ZZZ99ZTS392124')]);
    const result = decode('09 02', response);
    assert.equal(result?.vin, 'WP0ZZZ99ZTS392124');
    assert.equal(result?.manufacturer, 'Porsche');
    assert.equal((result?.checkDigit as Record<string, unknown>).valid, false);
  });

  it('T8: 49 04 01 … → CALID with NUL padding stripped', () => {
    assert.deepEqual(decode('09 04', '49 04 01 32 33 37 36 31 36 34 32 35 53 00 00 00 00 00 00'), {
      calibrationIds: ['237616425S'],
    });
  });

  it('49 0A → ECU name; 49 06 → CVNs', () => {
    const name = Buffer.concat([h('49 0A 01'), Buffer.from('ECM-EngineControl', 'latin1'), h('00 00 00')]);
    assert.deepEqual(decode('09 0A', name), { ecuName: 'ECM-EngineControl' });
    assert.deepEqual(decode('09 06', '49 06 02 12 34 56 78 9A BC DE F0'), {
      calibrationVerificationNumbers: ['12345678', '9ABCDEF0'],
    });
  });

  it('services without a decoder give undefined', () => {
    assert.equal(decode('3E 00', '7E 00'), undefined);
    assert.equal(decode('23 11 00 10 00 10', '63 00'), undefined);
    assert.equal(decode('02 0C 00', '42 0C 00 1A A0'), undefined);
  });
});
