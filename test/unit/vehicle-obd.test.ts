import assert from 'node:assert/strict';
import { hexToBytes, toSpacedHex } from '../../protocol';
import { loadVehicle } from '../../simulator/vehicle/vehicle';
import { ENGINE, TCM, ALL, VIN_HEX, VehicleBench as Bench } from '../support/vehicle-bench';

describe('vehicle OBD mode 01: supported PIDs', () => {
  it('functional 01 00: engine and transmission answer with their bitmaps (O1 shape)', () => {
    const b = new Bench();
    // engine: 01 03 04 05 0B 0C 0D 0F 10 11 1C 1F + 20; transmission: 01 0D 1C
    assert.deepEqual(b.send(ALL, '01 00'), ['7E8 +5 41 00 B8 3B 80 13', '7E9 +8 41 00 80 08 00 10']);
  });

  it('the chain goes on with 01 20 and 01 40 from the engine only; 01 60 is not supported', () => {
    const b = new Bench();
    assert.deepEqual(b.send(ALL, '01 20'), ['7E8 +5 41 20 00 02 20 01']);
    assert.deepEqual(b.send(ALL, '01 40'), ['7E8 +5 41 40 44 00 00 00']);
    assert.deepEqual(b.send(ALL, '01 60'), []);
    assert.equal(b.ask(ENGINE, '01 60'), '7F 01 31');
    assert.equal(b.ask(ENGINE, '01 00 20'), '41 00 B8 3B 80 13 20 00 02 20 01'); // O2 shape
  });

  it('every PID answers exactly when its bitmap bit says so', () => {
    const b = new Bench();
    for (const ecu of [ENGINE, TCM]) {
      const supported = new Set<number>([0]);
      for (let base = 0; base < 0x100 && supported.has(base); base += 0x20) {
        const bitmap = hexToBytes(b.ask(ecu, `01 ${toSpacedHex(Buffer.of(base))}`)).subarray(2);
        for (let i = 0; i < 32; i++) if (bitmap[i >> 3] & (0x80 >> (i & 7))) supported.add(base + i + 1);
      }
      for (let pid = 1; pid < 0x100; pid++) {
        const answer = b.ask(ecu, `01 ${toSpacedHex(Buffer.of(pid))}`);
        assert.equal(answer !== '7F 01 31', supported.has(pid), `ECU ${ecu.toString(16)} PID ${pid.toString(16)}: ${answer}`);
      }
    }
  });

  it('a request lists 1 to 6 PIDs: 01 alone or 7 PIDs → 7F 01 13', () => {
    const b = new Bench();
    assert.equal(b.ask(ENGINE, '01'), '7F 01 13');
    assert.equal(b.ask(ENGINE, '01 04 05 0B 0C 0D 0F 10'), '7F 01 13');
    assert.equal(b.ask(ENGINE, '01 04 05 0B 0C 0D 0F'), '41 04 37 05 3C 0B 21 0C 0C 30 0D 00 0F 3C');
  });
});

describe('vehicle OBD mode 01: live data', () => {
  it('01 0C 0D 05 concatenates records (O3 shape): 780 rpm, 0 km/h, coolant 20 °C at engine start', () => {
    const b = new Bench();
    assert.equal(b.ask(ENGINE, '01 0C 0D 05'), '41 0C 0C 30 0D 00 05 3C');
  });

  it('unsupported PIDs are skipped; none supported → 31 physical, silence functional', () => {
    const b = new Bench();
    assert.equal(b.ask(ENGINE, '01 02 0C 07'), '41 0C 0C 30');
    assert.equal(b.ask(ENGINE, '01 02 07'), '7F 01 31');
    assert.deepEqual(b.send(ALL, '01 02 07'), []);
    assert.deepEqual(b.send(ALL, '01 0C 0D'), ['7E8 +5 41 0C 0C 30 0D 00', '7E9 +8 41 0D 00']);
  });

  it('rpm wobbles slowly around idle: 800 at a quarter period, 760 at three quarters', () => {
    const b = new Bench();
    b.wait(2500);
    assert.equal(b.ask(ENGINE, '01 0C'), '41 0C 0C 80');
    b.wait(5000);
    assert.equal(b.ask(ENGINE, '01 0C'), '41 0C 0B E0');
  });

  it('coolant warms towards 90 °C: 64.25 °C after one time constant, 90 °C after an hour', () => {
    const b = new Bench();
    b.wait(180_000);
    assert.equal(b.ask(ENGINE, '01 05'), '41 05 68');
    b.wait(3_420_000);
    assert.equal(b.ask(ENGINE, '01 05'), '41 05 82');
  });

  it('run time, module voltage and the other PIDs at 200 s', () => {
    const b = new Bench();
    b.wait(200_000);
    // 1F: 200 s; 42: 14.1 + 0.02·sin(2π·200/13) = 14.113 V; 2F: 62 %; 33: 101 kPa; 46: 21 °C; 11: 14.5 %
    assert.equal(b.ask(ENGINE, '01 1F 42 2F 33 46 11'), '41 1F 00 C8 42 37 21 2F 9E 33 65 46 3D 11 25');
    // 04: 21.6 % (sine at a whole period); 0B: 33 kPa; 10: 2.90 g/s; 0F: 32 − 12·e^(−1/3) = 23.4 °C
    assert.equal(b.ask(ENGINE, '01 03 04 0B 10 0F 1C'), '41 03 02 00 04 37 0B 21 10 01 22 0F 3F 1C 06');
  });

  it('is deterministic: two vehicles on the same clock give the same bytes', () => {
    const a = new Bench();
    const c = new Bench();
    a.wait(12_345);
    c.wait(12_345);
    const request = '01 04 0B 0C 10 42 05';
    assert.equal(a.ask(ENGINE, request), c.ask(ENGINE, request));
  });

  it('PID 42 follows batteryVoltage', () => {
    const b = new Bench();
    b.car.batteryVoltage = 12;
    assert.equal(b.ask(ENGINE, '01 42'), '41 42 2E E0');
  });

  it('engine off: rpm 0, load 0, MAP 101 kPa, run time 0; restarting restarts the time line', () => {
    const b = new Bench();
    b.wait(60_000);
    b.car.engineRunning = false;
    assert.equal(b.ask(ENGINE, '01 0C 04 0B 1F'), '41 0C 00 00 04 00 0B 65 1F 00 00');
    b.wait(10_000);
    b.car.engineRunning = true;
    b.wait(2500);
    assert.equal(b.ask(ENGINE, '01 0C 1F 05'), '41 0C 0C 80 1F 00 03 05 3D');
  });

  it('a new operation cycle restarts the live-data time line', () => {
    const b = new Bench();
    b.wait(100_000);
    b.car.startOperationCycle();
    assert.equal(b.ask(ENGINE, '01 1F 05'), '41 1F 00 00 05 3C');
  });
});

describe('vehicle OBD mode 01 PID 01 and DTC modes 03 / 07 / 0A / 04', () => {
  it('01 01: MIL on and 2 confirmed in the engine, MIL off and 2 in the transmission (O7 shape)', () => {
    const b = new Bench();
    assert.deepEqual(b.send(ALL, '01 01'), ['7E8 +5 41 01 82 07 65 00', '7E9 +8 41 01 02 04 00 00']);
  });

  it('03: confirmed DTCs as the high two bytes with a count byte (O9/O10 shape)', () => {
    const b = new Bench();
    // engine P0301, P0171 (P0442 is only pending); transmission P0715, U0100
    assert.deepEqual(b.send(ALL, '03'), ['7E8 +5 43 02 03 01 01 71', '7E9 +8 43 02 07 15 C1 00']);
  });

  it('07: pending DTCs; 0A: permanent DTCs', () => {
    const b = new Bench();
    assert.deepEqual(b.send(ALL, '07'), ['7E8 +5 47 02 03 01 04 42', '7E9 +8 47 00']);
    assert.deepEqual(b.send(ALL, '0A'), ['7E8 +5 4A 01 03 01', '7E9 +8 4A 00']);
  });

  it('03 with extra bytes → 13', () => {
    const b = new Bench();
    assert.equal(b.ask(ENGINE, '03 00'), '7F 03 13');
  });

  it('04 → 44 (O12) from both; then MIL off, count 0, 03 → 43 00 (O11), permanent stays', () => {
    const b = new Bench();
    assert.deepEqual(b.send(ALL, '04'), ['7E8 +5 44', '7E9 +8 44']);
    assert.deepEqual(b.send(ALL, '01 01'), ['7E8 +5 41 01 00 07 65 00', '7E9 +8 41 01 00 04 00 00']);
    assert.deepEqual(b.send(ALL, '03'), ['7E8 +5 43 00', '7E9 +8 43 00']);
    assert.deepEqual(b.send(ALL, '07'), ['7E8 +5 47 00', '7E9 +8 47 00']);
    assert.equal(b.ask(ENGINE, '0A'), '4A 01 03 01');
    assert.equal(b.ask(ENGINE, '19 02 FF'), '59 02 FF');
  });

  it('04 is accepted with the engine running in the default vehicle', () => {
    const b = new Bench();
    assert.equal(b.car.engineRunning, true);
    assert.equal(b.ask(ENGINE, '04'), '44');
  });

  it('after 04 and a new cycle the still-present faults return', () => {
    const b = new Bench();
    b.send(ALL, '04');
    b.car.startOperationCycle();
    assert.deepEqual(b.send(ALL, '03'), ['7E8 +5 43 01 03 01', '7E9 +8 43 01 07 15']);
    assert.deepEqual(b.send(ALL, '01 01'), ['7E8 +5 41 01 81 07 65 00', '7E9 +8 41 01 01 04 00 00']);
  });

  it('a permanent DTC that is not still present goes at the next cycle after a clear', () => {
    const def = structuredClone(loadVehicle().definition);
    def.ecus[0].dtcs = [{ code: '013300', status: 'AF', permanent: true }];
    const b = new Bench(def);
    assert.equal(b.ask(ENGINE, '0A'), '4A 01 01 33');
    b.car.startOperationCycle();
    assert.equal(b.ask(ENGINE, '0A'), '4A 01 01 33');
    b.ask(ENGINE, '04');
    assert.equal(b.ask(ENGINE, '0A'), '4A 01 01 33');
    b.car.startOperationCycle();
    assert.equal(b.ask(ENGINE, '0A'), '4A 00');
  });

  it('clearNeedsEngineOff: 7F 04 22 while running, 44 with the engine off', () => {
    const def = structuredClone(loadVehicle().definition);
    def.ecus[0].clearNeedsEngineOff = true;
    const b = new Bench(def);
    assert.deepEqual(b.send(ALL, '04'), ['7E8 +5 7F 04 22', '7E9 +8 44']);
    b.car.engineRunning = false;
    assert.equal(b.ask(ENGINE, '04'), '44');
  });

  it('UDS and OBD views share one DTC memory', () => {
    const b = new Bench();
    b.ask(TCM, '14 07 15 1C');
    assert.equal(b.ask(TCM, '03'), '43 01 C1 00');
  });
});

describe('vehicle OBD mode 09 and unsupported modes', () => {
  it('09 00 bitmaps: engine 02 04 0A, transmission 04 0A (O13 shape)', () => {
    const b = new Bench();
    assert.deepEqual(b.send(ALL, '09 00'), ['7E8 +5 49 00 50 40 00 00', '7E9 +8 49 00 10 40 00 00']);
  });

  it('09 02: 49 02 01 + VIN, 20 bytes, from the engine only (O14 layout)', () => {
    const b = new Bench();
    const replies = b.send(ALL, '09 02');
    assert.deepEqual(replies, [`7E8 +5 49 02 01 ${VIN_HEX}`]);
    assert.equal(hexToBytes(replies[0].slice(7)).length, 20);
  });

  it('09 04 calibration ids (16 bytes, NUL padded) and 09 0A ECU names (20 bytes)', () => {
    const b = new Bench();
    assert.equal(b.ask(ENGINE, '09 04'), `49 04 01 ${toSpacedHex(Buffer.from('04E906027JT3015\0'))}`);
    assert.equal(b.ask(TCM, '09 0A'), `49 0A 01 ${toSpacedHex(Buffer.from('TCM-TransmissionCtl\0'))}`);
  });

  it('09 06 unsupported: 7F 09 31 physical, silence functional; 09 → 13', () => {
    const b = new Bench();
    assert.equal(b.ask(ENGINE, '09 06'), '7F 09 31');
    assert.deepEqual(b.send(ALL, '09 06'), []);
    assert.equal(b.ask(TCM, '09 02'), '7F 09 31');
    assert.equal(b.ask(ENGINE, '09'), '7F 09 13');
  });

  it('modes 02, 05, 06, 08 are not simulated: 7F xx 11 physical, silence functional', () => {
    const b = new Bench();
    assert.equal(b.ask(ENGINE, '02 0C 00'), '7F 02 11');
    assert.equal(b.ask(ENGINE, '06 00'), '7F 06 11');
    assert.deepEqual(b.send(ALL, '02 0C 00'), []);
    assert.deepEqual(b.send(ALL, '08 00'), []);
  });

  it('OBD requests work in any session', () => {
    const b = new Bench();
    b.ask(ENGINE, '10 03');
    assert.equal(b.ask(ENGINE, '01 0D'), '41 0D 00');
  });
});
