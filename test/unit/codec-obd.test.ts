import assert from 'node:assert/strict';
import { OpenObdError } from '../../client/errors';
import {
  OBD_MODE01_PIDS,
  decodeMode01,
  decodeObdDtcs,
  decodeObdVin,
  decodeSupportedPids,
  parseHex,
  type ObdValue,
} from '../../client/codec';

const h = parseHex;

function invalidResponse(err: unknown): boolean {
  return err instanceof OpenObdError && err.code === 'INVALID_RESPONSE';
}

/** The single value of a one-PID answer, checking that it decoded completely. */
function single(response: string): { value: ObdValue; unit?: string; name: string } {
  const result = decodeMode01(h(response));
  assert.equal(result.complete, true);
  assert.equal(result.values.length, 1);
  return result.values[0]!;
}

describe('codec/obd mode 01 PID table', () => {
  it('has the required PIDs with byte counts and units', () => {
    const required: Array<[number, string, number, string | undefined]> = [
      [0x00, 'supportedPids01To20', 4, undefined],
      [0x20, 'supportedPids21To40', 4, undefined],
      [0x40, 'supportedPids41To60', 4, undefined],
      [0x60, 'supportedPids61To80', 4, undefined],
      [0x01, 'monitorStatus', 4, undefined],
      [0x04, 'calculatedEngineLoad', 1, '%'],
      [0x05, 'engineCoolantTemperature', 1, '°C'],
      [0x0b, 'intakeManifoldAbsolutePressure', 1, 'kPa'],
      [0x0c, 'engineSpeed', 2, 'rpm'],
      [0x0d, 'vehicleSpeed', 1, 'km/h'],
      [0x0f, 'intakeAirTemperature', 1, '°C'],
      [0x10, 'massAirFlowRate', 2, 'g/s'],
      [0x11, 'throttlePosition', 1, '%'],
      [0x1f, 'runTimeSinceEngineStart', 2, 's'],
      [0x21, 'distanceWithMilOn', 2, 'km'],
      [0x2f, 'fuelTankLevel', 1, '%'],
      [0x31, 'distanceSinceCodesCleared', 2, 'km'],
      [0x33, 'absoluteBarometricPressure', 1, 'kPa'],
      [0x42, 'controlModuleVoltage', 2, 'V'],
      [0x46, 'ambientAirTemperature', 1, '°C'],
      [0x5c, 'engineOilTemperature', 1, '°C'],
    ];
    for (const [pid, name, bytes, unit] of required) {
      const entry = OBD_MODE01_PIDS.get(pid);
      assert.ok(entry, `PID ${pid.toString(16)}`);
      assert.equal(entry.name, name);
      assert.equal(entry.bytes, bytes, name);
      assert.equal(entry.unit, unit, name);
    }
  });
});

describe('codec/obd decodeMode01 (SAE J1979 vectors)', () => {
  it('O3: a multi-PID answer: coolant 70 °C; O2 0.8 V / −6.25 %; rpm 666.75; fuel system 02', () => {
    const result = decodeMode01(h('41 05 6E 01 83 33 FF 63 15 A0 78 0C 0A 6B 03 02 00'));
    assert.equal(result.complete, true);
    assert.deepEqual(
      result.values.map((entry) => entry.pid),
      [0x05, 0x01, 0x15, 0x0c, 0x03],
    );
    assert.deepEqual(result.values[0], { pid: 0x05, name: 'engineCoolantTemperature', value: 70, unit: '°C' });
    const status = result.values[1]!.value as { milOn: boolean; dtcCount: number; ignitionType: string };
    assert.equal(status.milOn, true);
    assert.equal(status.dtcCount, 3);
    assert.equal(status.ignitionType, 'spark');
    assert.deepEqual(result.values[2], {
      pid: 0x15,
      name: 'oxygenSensorBank1Sensor2',
      value: { volts: 0.8, shortTermFuelTrimPercent: -6.25 },
    });
    assert.deepEqual(result.values[3], { pid: 0x0c, name: 'engineSpeed', value: 666.75, unit: 'rpm' });
    assert.deepEqual(result.values[4], {
      pid: 0x03,
      name: 'fuelSystemStatus',
      value: { system1: 2, system1State: 'closedLoop', system2: 0, system2State: 'notPresent' },
    });
  });

  it('O4: 41 0C 1A A0 → 1704 rpm', () => {
    assert.deepEqual(single('41 0C 1A A0'), { pid: 0x0c, name: 'engineSpeed', value: 1704, unit: 'rpm' });
  });

  it('O5: 41 0D 3C → 60 km/h', () => {
    assert.deepEqual(single('41 0D 3C'), { pid: 0x0d, name: 'vehicleSpeed', value: 60, unit: 'km/h' });
  });

  it('O6: 41 05 7B → 83 °C; PID scaling 00 → −40, FF → 215 (SAE J1979)', () => {
    assert.equal(single('41 05 7B').value, 83);
    assert.equal(single('41 05 00').value, -40);
    assert.equal(single('41 05 FF').value, 215);
  });

  it('O7: 41 01 83 07 FF 00 → MIL on, 3 DTCs, spark ignition', () => {
    const value = single('41 01 83 07 FF 00').value as { [key: string]: ObdValue };
    assert.equal(value.milOn, true);
    assert.equal(value.dtcCount, 3);
    assert.equal(value.ignitionType, 'spark');
    const monitors = value.monitors as { [key: string]: { available: boolean; complete: boolean } };
    assert.deepEqual(monitors.misfire, { available: true, complete: true });
    assert.deepEqual(monitors.catalyst, { available: true, complete: true });
    assert.deepEqual(monitors.egrSystem, { available: true, complete: true });
  });

  it('O8: 41 01 00 79 03 03 → MIL off, 0 DTCs, compression ignition', () => {
    const value = single('41 01 00 79 03 03').value as { [key: string]: ObdValue };
    assert.equal(value.milOn, false);
    assert.equal(value.dtcCount, 0);
    assert.equal(value.ignitionType, 'compression');
    const monitors = value.monitors as { [key: string]: { available: boolean; complete: boolean } };
    // B = 79: misfire available but incomplete (bit 4); C = D = 03: NMHC and NOx available, not complete.
    assert.deepEqual(monitors.misfire, { available: true, complete: false });
    assert.deepEqual(monitors.nmhcCatalyst, { available: true, complete: false });
    assert.deepEqual(monitors.noxScrMonitor, { available: true, complete: false });
    assert.deepEqual(monitors.pmFilter, { available: false, complete: false });
    assert.equal('catalyst' in monitors, false);
  });

  it('decodes the remaining required PIDs with their J1979 formulas', () => {
    const result = decodeMode01(h('41 04 80 0B 65 0F 3C 10 01 F4 11 FF 1F 01 2C 21 00 0A 2F 40 31 12 34 33 64 42 36 B0 46 32 5C 78'));
    assert.equal(result.complete, true);
    const byName = Object.fromEntries(result.values.map((entry) => [entry.name, entry.value]));
    assert.deepEqual(byName, {
      calculatedEngineLoad: 50.2,
      intakeManifoldAbsolutePressure: 101,
      intakeAirTemperature: 20,
      massAirFlowRate: 5,
      throttlePosition: 100,
      runTimeSinceEngineStart: 300,
      distanceWithMilOn: 10,
      fuelTankLevel: 25.1,
      distanceSinceCodesCleared: 4660,
      absoluteBarometricPressure: 100,
      controlModuleVoltage: 14,
      ambientAirTemperature: 10,
      engineOilTemperature: 80,
    });
  });

  it('O1: a supported-PIDs record inside mode 01 decodes to the PID list', () => {
    assert.deepEqual(
      single('41 00 BE 1F B8 13').value,
      [0x01, 0x03, 0x04, 0x05, 0x06, 0x07, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x13, 0x14, 0x15, 0x1c, 0x1f, 0x20],
    );
  });

  it('stops at an unknown PID and returns what came before', () => {
    assert.deepEqual(decodeMode01(h('41 0C 1A A0 99 01 0D 3C')), {
      values: [{ pid: 0x0c, name: 'engineSpeed', value: 1704, unit: 'rpm' }],
      complete: false,
      problem: 'PID 99 is not known, so the length of its data and what follows cannot be decoded',
      undecodedHex: '99010D3C',
    });
  });

  it('stops at a record cut short', () => {
    assert.deepEqual(decodeMode01(h('41 0D 3C 0C 1A')), {
      values: [{ pid: 0x0d, name: 'vehicleSpeed', value: 60, unit: 'km/h' }],
      complete: false,
      problem: 'PID 0C (engineSpeed) needs 2 data bytes but only 1 remain',
      undecodedHex: '0C1A',
    });
  });

  it('rejects an answer that is not from mode 01', () => {
    assert.throws(() => decodeMode01(h('42 0C 00 1A A0')), invalidResponse);
    assert.throws(() => decodeMode01(h('')), invalidResponse);
  });
});

describe('codec/obd decodeSupportedPids (SAE J1979 vectors)', () => {
  it('O1: 41 00 BE 1F B8 13 → PIDs 01, 03–07, 0C–11, 13–15, 1C, 1F, 20', () => {
    assert.deepEqual(
      decodeSupportedPids(h('41 00 BE 1F B8 13')),
      [0x01, 0x03, 0x04, 0x05, 0x06, 0x07, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x13, 0x14, 0x15, 0x1c, 0x1f, 0x20],
    );
  });

  it('O2: 41 00 BF BF A8 91 20 80 00 00 00 → two records; the 20 record adds PID 21 only', () => {
    assert.deepEqual(
      decodeSupportedPids(h('41 00 BF BF A8 91 20 80 00 00 00')),
      [0x01, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x13, 0x15, 0x19, 0x1c, 0x20, 0x21],
    );
    assert.deepEqual(decodeSupportedPids(h('41 20 80 00 00 00')), [0x21]);
  });

  it('O13: 49 00 55 42 00 00 → info types 02, 04, 06, 08, 0A, 0F', () => {
    assert.deepEqual(decodeSupportedPids(h('49 00 55 42 00 00')), [0x02, 0x04, 0x06, 0x08, 0x0a, 0x0f]);
  });

  it('rejects malformed records', () => {
    assert.throws(() => decodeSupportedPids(h('41 00 BE 1F B8')), invalidResponse);
    assert.throws(() => decodeSupportedPids(h('41')), invalidResponse);
    assert.throws(() => decodeSupportedPids(h('41 0C 1A A0 00 00')), invalidResponse);
    assert.throws(() => decodeSupportedPids(h('43 00 00 00 00 00')), invalidResponse);
  });
});

describe('codec/obd decodeObdDtcs (SAE J1979 vectors)', () => {
  it('O9: 43 06 … → P0143 P0196 P0234 P02CD P0357 P0A24', () => {
    assert.deepEqual(decodeObdDtcs(h('43 06 01 43 01 96 02 34 02 CD 03 57 0A 24')), ['P0143', 'P0196', 'P0234', 'P02CD', 'P0357', 'P0A24']);
  });

  it('O10: 43 02 01 02 01 13 → P0102, P0113', () => {
    assert.deepEqual(decodeObdDtcs(h('43 02 01 02 01 13')), ['P0102', 'P0113']);
  });

  it('O11: 43 00 → none', () => {
    assert.deepEqual(decodeObdDtcs(h('43 00')), []);
  });

  it('reads pending (47) and permanent (4A) DTCs the same way, including C/B/U codes', () => {
    assert.deepEqual(decodeObdDtcs(h('47 03 41 23 80 03 C1 00')), ['C0123', 'B0003', 'U0100']);
    assert.deepEqual(decodeObdDtcs(h('4A 01 01 04')), ['P0104']);
  });

  it('drops 0000 padding (python-OBD test_dtc)', () => {
    assert.deepEqual(decodeObdDtcs(h('43 02 01 04 00 00')), ['P0104']);
  });

  it('reads a K-Line answer, which has no count byte (odd length)', () => {
    assert.deepEqual(decodeObdDtcs(h('43 01 04 41 23 00 00')), ['P0104', 'C0123']);
  });

  it('rejects a count larger than the DTCs carried, and other services', () => {
    assert.throws(() => decodeObdDtcs(h('43 03 01 04 41 23')), invalidResponse);
    assert.throws(() => decodeObdDtcs(h('44')), invalidResponse);
  });
});

describe('codec/obd decodeObdVin (SAE J1979 vectors)', () => {
  it('O14: 49 02 01 57 30 4C … → W0L000051T2123456', () => {
    assert.equal(decodeObdVin(h('49 02 01 57 30 4C 30 30 30 30 35 31 54 32 31 32 33 34 35 36')), 'W0L000051T2123456');
  });

  it('O15: 49 02 01 + WP0ZZZ99ZTS392124', () => {
    const response = Buffer.concat([h('49 02 01'), Buffer.from('WP0ZZZ99ZTS392124', 'latin1')]);
    assert.equal(decodeObdVin(response), 'WP0ZZZ99ZTS392124');
  });

  it('T6: the scapy VIN 1M8GDM9AXKP042788 reassembled', () => {
    assert.equal(decodeObdVin(h('49 02 01 31 4D 38 47 44 4D 39 41 58 4B 50 30 34 32 37 38 38')), '1M8GDM9AXKP042788');
  });

  it('reads an answer without the item count, and strips NUL padding', () => {
    assert.equal(decodeObdVin(Buffer.concat([h('49 02'), Buffer.from('WP0ZZZ99ZTS392124')])), 'WP0ZZZ99ZTS392124');
    assert.equal(decodeObdVin(Buffer.concat([h('49 02 01 00 00'), Buffer.from('ABCDEFGHIJKLMNO')])), 'ABCDEFGHIJKLMNO');
  });

  it('rejects short, non-ASCII or other answers', () => {
    assert.throws(() => decodeObdVin(h('49 02 01 57 30 4C')), invalidResponse);
    assert.throws(() => decodeObdVin(Buffer.concat([h('49 02 01'), Buffer.alloc(17, 0x80)])), invalidResponse);
    assert.throws(() => decodeObdVin(h('49 04 01 57')), invalidResponse);
    assert.throws(() => decodeObdVin(h('62 F1 90')), invalidResponse);
  });
});
