import assert from 'node:assert/strict';
import { hexToBytes, toSpacedHex } from '../../protocol';
import type { VehicleDefinition } from '../../simulator/vehicle/types';
import { loadVehicle } from '../../simulator/vehicle/vehicle';
import { ENGINE, TCM, ABS, ALL, VIN_HEX, VehicleBench as Bench } from '../support/vehicle-bench';

function customVehicle(patch: (def: VehicleDefinition) => void): VehicleDefinition {
  const def = structuredClone(loadVehicle().definition);
  patch(def);
  return def;
}

describe('vehicle UDS: envelope, sessions and S3', () => {
  it('10 01 answers 50 01 00 32 01 F4 (U3) and 10 03 the same timing', () => {
    const b = new Bench();
    assert.deepEqual(b.send(ENGINE, '10 01'), ['7E8 +5 50 01 00 32 01 F4']);
    assert.deepEqual(b.send(ENGINE, '10 03'), ['7E8 +5 50 03 00 32 01 F4']);
    assert.equal(b.ask(ENGINE, '22 F1 86'), '62 F1 86 03');
  });

  it('rejects bad sub-functions and lengths: 10 08 → 12 (U4), 10 → 13, 10 03 00 → 13', () => {
    const b = new Bench();
    assert.equal(b.ask(ENGINE, '10 08'), '7F 10 12');
    assert.equal(b.ask(ENGINE, '10'), '7F 10 13');
    assert.equal(b.ask(ENGINE, '10 03 00'), '7F 10 13');
    assert.equal(b.ask(ENGINE, '22 F1 86'), '62 F1 86 01');
  });

  it('10 02 needs the extended session first: 7F 10 7E in default', () => {
    const b = new Bench();
    assert.equal(b.ask(ENGINE, '10 02'), '7F 10 7E');
    assert.equal(b.ask(ENGINE, '10 03'), '50 03 00 32 01 F4');
    assert.equal(b.ask(ENGINE, '10 02'), '50 02 00 32 01 F4');
    assert.equal(b.ask(ENGINE, '22 F1 86'), '62 F1 86 02');
  });

  it('SPRMIB suppresses the positive answer but the request still acts (10 83)', () => {
    const b = new Bench();
    assert.equal(b.ask(ENGINE, '10 83'), '(silence)');
    assert.equal(b.ask(ENGINE, '22 F1 86'), '62 F1 86 03');
  });

  it('SPRMIB does not suppress negative answers (31 81 with an unknown RID → 7F 31 31)', () => {
    const b = new Bench();
    b.ask(ENGINE, '10 03');
    assert.equal(b.ask(ENGINE, '31 81 12 34'), '7F 31 31');
  });

  it('S3: the extended session survives 5000 ms of silence and falls back after 5001 ms', () => {
    const b = new Bench();
    b.ask(ENGINE, '10 03'); // reply sent at +5 ms: S3 runs from there
    b.wait(5 + 5000);
    assert.equal(b.ask(ENGINE, '22 F1 86'), '62 F1 86 03');
    b.wait(5 + 5001);
    assert.equal(b.ask(ENGINE, '22 F1 86'), '62 F1 86 01');
  });

  it('S3: 3E 80 every 4 s keeps the session for 20 s; any request counts', () => {
    const b = new Bench();
    b.ask(ENGINE, '10 03');
    for (let i = 0; i < 5; i++) {
      b.wait(4000);
      assert.equal(b.ask(ENGINE, '3E 80'), '(silence)');
    }
    b.wait(4000);
    assert.equal(b.ask(ENGINE, '22 F1 87'), `62 F1 87 ${toSpacedHex(Buffer.from('04E906027JT'))}`);
    b.wait(4000);
    assert.equal(b.ask(ENGINE, '22 F1 86'), '62 F1 86 03');
  });

  it('S3 expiry relocks: a write needs the extended session (7F) and then a new unlock (33)', () => {
    const b = new Bench();
    b.unlockEngine();
    b.wait(6000);
    assert.equal(b.ask(ENGINE, '2E F1 98 01 02 03 04 05 06'), '7F 2E 7F');
    b.ask(ENGINE, '10 03');
    assert.equal(b.ask(ENGINE, '2E F1 98 01 02 03 04 05 06'), '7F 2E 33');
  });

  it('every session request relocks (10 03 while unlocked)', () => {
    const b = new Bench();
    b.unlockEngine();
    assert.equal(b.ask(ENGINE, '22 01 01'), '62 01 01 01');
    b.ask(ENGINE, '10 03');
    assert.equal(b.ask(ENGINE, '22 01 01'), '7F 22 33');
    assert.deepEqual(b.car.ecuStatus('engine').unlockedLevel, null);
  });

  it('sessions are per ECU', () => {
    const b = new Bench();
    b.ask(ENGINE, '10 03');
    assert.equal(b.ask(TCM, '22 F1 86'), '62 F1 86 01');
    assert.equal(b.ask(ABS, '22 F1 86'), '62 F1 86 01');
  });

  it('each ECU answers after its own responseDelayMs (engine 5, transmission 8, ABS 10, default 5)', () => {
    const b = new Bench();
    assert.deepEqual(b.send(TCM, '3E 00'), ['7E9 +8 7E 00']);
    assert.deepEqual(b.send(ABS, '3E 00'), ['768 +10 7E 00']);
    const c = new Bench(customVehicle((d) => delete d.ecus[0].responseDelayMs));
    assert.deepEqual(c.send(ENGINE, '3E 00'), ['7E8 +5 7E 00']);
  });
});

describe('vehicle UDS: 0x3E tester present and unsupported services', () => {
  it('3E 00 → 7E 00, 3E 80 → nothing (U29)', () => {
    const b = new Bench();
    assert.equal(b.ask(ENGINE, '3E 00'), '7E 00');
    assert.equal(b.ask(ENGINE, '3E 80'), '(silence)');
  });

  it('3E 00 00 → 7F 3E 13 (U30), 3E → 13, 3E 01 → 12', () => {
    const b = new Bench();
    assert.equal(b.ask(ENGINE, '3E 00 00'), '7F 3E 13');
    assert.equal(b.ask(ENGINE, '3E'), '7F 3E 13');
    assert.equal(b.ask(ENGINE, '3E 01'), '7F 3E 12');
  });

  it('unknown SID → 7F xx 11; OBD modes on the non-OBD ABS → 7F 01 11', () => {
    const b = new Bench();
    assert.equal(b.ask(ENGINE, '23 11 00 10 00 10'), '7F 23 11');
    assert.equal(b.ask(ENGINE, '3D 11 00 10 00'), '7F 3D 11');
    assert.equal(b.ask(ABS, '01 00'), '7F 01 11');
  });

  it('a service listed only for another session → 7F (checked before the length)', () => {
    const b = new Bench();
    assert.equal(b.ask(ENGINE, '27'), '7F 27 7F');
    assert.equal(b.ask(ENGINE, '31 01 FF 00'), '7F 31 7F');
    b.ask(ENGINE, '10 03');
    assert.equal(b.ask(ENGINE, '27'), '7F 27 13');
  });

  it('check order: length before sub-function, sub-function before exact length', () => {
    const b = new Bench();
    b.ask(ENGINE, '10 03');
    assert.equal(b.ask(ENGINE, '31'), '7F 31 13');
    assert.equal(b.ask(ENGINE, '31 05'), '7F 31 12');
    assert.equal(b.ask(ENGINE, '31 01'), '7F 31 13');
    assert.equal(b.ask(ENGINE, '31 01 FF'), '7F 31 13');
  });

  it('serviceSecurity locks a whole service with 0x33 (like U7 for 11)', () => {
    const b = new Bench(customVehicle((d) => (d.ecus[0].serviceSecurity = { '11': 1 })));
    assert.equal(b.ask(ENGINE, '11 01'), '7F 11 33');
    b.unlockEngine();
    assert.equal(b.ask(ENGINE, '11 01'), '51 01');
  });

  it('an empty payload (openOBD channel initialisation) gets no answer', () => {
    const b = new Bench();
    assert.deepEqual(b.send(ENGINE, ''), []);
    assert.deepEqual(b.send(ALL, ''), []);
  });

  it('unknown CAN ids and a switched-off ignition give silence', () => {
    const b = new Bench();
    assert.deepEqual(b.send(0x7e5, '3E 00'), []);
    b.car.ignitionOn = false;
    assert.deepEqual(b.send(ENGINE, '3E 00'), []);
    assert.deepEqual(b.send(ALL, '01 00'), []);
    b.car.ignitionOn = true;
    assert.deepEqual(b.send(ENGINE, '3E 00'), ['7E8 +5 7E 00']);
  });
});

describe('vehicle UDS: functional requests (7DF)', () => {
  it('reach engine and transmission, not the ABS, each with its own delay', () => {
    const b = new Bench();
    assert.deepEqual(b.send(ALL, '22 F1 90'), [`7E8 +5 62 F1 90 ${VIN_HEX}`, `7E9 +8 62 F1 90 ${VIN_HEX}`]);
    assert.deepEqual(b.send(ALL, '3E 00'), ['7E8 +5 7E 00', '7E9 +8 7E 00']);
  });

  it('stay silent instead of NRC 11, 12, 31, 7E, 7F', () => {
    const b = new Bench();
    assert.deepEqual(b.send(ALL, '23 11 00 10 00 10'), []); // 0x11
    assert.deepEqual(b.send(ALL, '85 02'), []); // 0x7F (not in the default session)
    assert.deepEqual(b.send(ALL, '10 08'), []); // 0x12
    assert.deepEqual(b.send(ALL, '22 12 34'), []); // 0x31
    assert.deepEqual(b.send(ALL, '27 01'), []); // 0x7F (both need the extended session)
    assert.deepEqual(b.send(ALL, '2E F1 98 00'), []); // 0x7F
    assert.deepEqual(b.send(ALL, '10 02'), ['7E9 +8 50 02 00 32 01 F4']); // engine: 0x7E, silent
    assert.deepEqual(b.send(ALL, '14 12 34 56'), []); // 0x31
  });

  it('still send the other NRCs (0x13, 0x33)', () => {
    const b = new Bench();
    assert.deepEqual(b.send(ALL, '3E 00 00'), ['7E8 +5 7F 3E 13', '7E9 +8 7F 3E 13']);
    assert.deepEqual(b.send(ALL, '22 01 01'), ['7E8 +5 7F 22 33']); // TCM lacks 0101: silent
  });

  it('answer only the ECUs that support the DID', () => {
    const b = new Bench();
    assert.deepEqual(b.send(ALL, '22 F1 8A'), [`7E8 +5 62 F1 8A ${toSpacedHex(Buffer.from('OBDFLOW-SIM'))}`]);
  });

  it('are ignored when they do not fit one CAN frame (8+ bytes)', () => {
    const b = new Bench();
    assert.deepEqual(b.send(ALL, '22 F1 90 F1 87 F1 88 F1'), []);
    assert.deepEqual(b.send(ALL, '22 F1 90 F1 87 F1 88'), [
      `7E8 +5 62 F1 90 ${VIN_HEX} F1 87 ${toSpacedHex(Buffer.from('04E906027JT'))} F1 88 ${toSpacedHex(Buffer.from('04E906027HB'))}`,
      `7E9 +8 62 F1 90 ${VIN_HEX} F1 87 ${toSpacedHex(Buffer.from('0CW300041H'))} F1 88 ${toSpacedHex(Buffer.from('0CW300041G'))}`,
    ]);
  });
});

describe('vehicle UDS: 0x11 ECU reset', () => {
  it('11 01 → 51 01, then silent during the 100 ms boot, back in default and locked', () => {
    const b = new Bench();
    b.unlockEngine();
    assert.deepEqual(b.send(ENGINE, '11 01'), ['7E8 +5 51 01']);
    b.wait(104);
    assert.deepEqual(b.send(ENGINE, '3E 00'), []);
    b.wait(1);
    assert.equal(b.ask(ENGINE, '22 F1 86'), '62 F1 86 01');
    assert.deepEqual(b.car.ecuStatus('engine').unlockedLevel, null);
  });

  it('11 03 soft reset and 11 02 are accepted; 11 04 → 12; 11 → 13; 11 01 00 → 13', () => {
    const b = new Bench();
    assert.equal(b.ask(ENGINE, '11 03'), '51 03');
    b.wait(200);
    assert.equal(b.ask(ENGINE, '11 02'), '51 02');
    b.wait(200);
    assert.equal(b.ask(ENGINE, '11 04'), '7F 11 12');
    assert.equal(b.ask(ENGINE, '11'), '7F 11 13');
    assert.equal(b.ask(ENGINE, '11 01 00'), '7F 11 13');
  });

  it('11 81 resets without answering', () => {
    const b = new Bench();
    b.ask(ENGINE, '10 03');
    assert.deepEqual(b.send(ENGINE, '11 81'), []);
    b.wait(50);
    assert.deepEqual(b.send(ENGINE, '3E 00'), []);
    b.wait(100);
    assert.equal(b.ask(ENGINE, '22 F1 86'), '62 F1 86 01');
  });

  it('only the reset ECU reboots', () => {
    const b = new Bench();
    b.ask(ENGINE, '11 01');
    assert.deepEqual(b.send(ALL, '3E 00'), ['7E9 +8 7E 00']);
  });
});

describe('vehicle UDS: 0x19 read DTC information', () => {
  it('19 02 FF lists the engine DTCs as DTC(3) + status (U13 layout)', () => {
    const b = new Bench();
    assert.equal(b.ask(ENGINE, '19 02 FF'), '59 02 FF 03 01 00 AF 01 71 00 08 04 42 00 24');
    assert.equal(b.ask(TCM, '19 02 FF'), '59 02 FF 07 15 1C 09 C1 00 87 08');
    assert.equal(b.ask(ABS, '19 02 FF'), '59 02 FF 40 35 31 2F');
  });

  it('19 02 mask selects with status & mask ≠ 0; no match → 59 02 FF', () => {
    const b = new Bench();
    assert.equal(b.ask(ENGINE, '19 02 08'), '59 02 FF 03 01 00 AF 01 71 00 08');
    assert.equal(b.ask(ENGINE, '19 02 04'), '59 02 FF 03 01 00 AF 04 42 00 24');
    assert.equal(b.ask(ENGINE, '19 02 40'), '59 02 FF');
  });

  it('19 01 counts: 59 01 avail 01(ISO format) count(2 bytes)', () => {
    const b = new Bench();
    assert.equal(b.ask(ENGINE, '19 01 FF'), '59 01 FF 01 00 03');
    assert.equal(b.ask(ENGINE, '19 01 08'), '59 01 FF 01 00 02');
    assert.equal(b.ask(ENGINE, '19 01 80'), '59 01 FF 01 00 01');
  });

  it('19 0A lists every supported DTC', () => {
    const b = new Bench();
    assert.equal(b.ask(TCM, '19 0A'), '59 0A FF 07 15 1C 09 C1 00 87 08');
  });

  it('19 7F → 12, 19 → 13, 19 02 → 13, 19 0A FF → 13', () => {
    const b = new Bench();
    assert.equal(b.ask(ENGINE, '19 7F'), '7F 19 12');
    assert.equal(b.ask(ENGINE, '19'), '7F 19 13');
    assert.equal(b.ask(ENGINE, '19 02'), '7F 19 13');
    assert.equal(b.ask(ENGINE, '19 0A FF'), '7F 19 13');
  });

  it('the availability mask filters statuses and matching', () => {
    const b = new Bench(customVehicle((d) => (d.ecus[0].dtcAvailabilityMask = '09')));
    assert.equal(b.ask(ENGINE, '19 02 FF'), '59 02 09 03 01 00 09 01 71 00 08');
  });
});

describe('vehicle UDS: 0x14 clear diagnostic information', () => {
  it('14 FF FF FF → 54 (U8); afterwards 19 02 FF is empty and 19 0A shows status 00', () => {
    const b = new Bench();
    assert.equal(b.ask(ENGINE, '14 FF FF FF'), '54');
    assert.equal(b.ask(ENGINE, '19 02 FF'), '59 02 FF');
    assert.equal(b.ask(ENGINE, '19 0A'), '59 0A FF 03 01 00 00 01 71 00 00 04 42 00 00');
    assert.equal(b.ask(ENGINE, '19 01 FF'), '59 01 FF 01 00 00');
    assert.equal(b.ask(TCM, '19 01 FF'), '59 01 FF 01 00 02');
  });

  it('clearing also clears the OBD view: 01 01 MIL off and count 0, 03 → 43 00', () => {
    const b = new Bench();
    assert.equal(b.ask(ENGINE, '01 01'), '41 01 82 07 65 00');
    b.ask(ENGINE, '14 FF FF FF');
    assert.equal(b.ask(ENGINE, '01 01'), '41 01 00 07 65 00');
    assert.equal(b.ask(ENGINE, '03'), '43 00');
  });

  it('14 12 34 56 → 7F 14 31 (U9); a single stored DTC can be cleared', () => {
    const b = new Bench();
    assert.equal(b.ask(ENGINE, '14 12 34 56'), '7F 14 31');
    assert.equal(b.ask(ENGINE, '14 01 71 00'), '54');
    assert.equal(b.ask(ENGINE, '19 02 FF'), '59 02 FF 03 01 00 AF 04 42 00 24');
  });

  it('wrong length → 13; SPRMIB does not exist for 0x14', () => {
    const b = new Bench();
    assert.equal(b.ask(ENGINE, '14 FF FF'), '7F 14 13');
    assert.equal(b.ask(ENGINE, '14 FF FF FF 00'), '7F 14 13');
  });

  it('functional 14 FF FF FF clears engine and transmission, not the ABS', () => {
    const b = new Bench();
    assert.deepEqual(b.send(ALL, '14 FF FF FF'), ['7E8 +5 54', '7E9 +8 54']);
    assert.equal(b.ask(TCM, '19 02 FF'), '59 02 FF');
    assert.equal(b.ask(ABS, '19 02 FF'), '59 02 FF 40 35 31 2F');
  });

  it('stillPresent faults come back at the next operation cycle, the others stay cleared', () => {
    const b = new Bench();
    b.send(ALL, '14 FF FF FF');
    b.car.startOperationCycle();
    assert.equal(b.ask(ENGINE, '19 02 FF'), '59 02 FF 03 01 00 AF');
    assert.equal(b.ask(TCM, '19 02 FF'), '59 02 FF 07 15 1C 09');
    assert.equal(b.ask(ENGINE, '01 01'), '41 01 81 07 65 00');
  });

  it('an operation cycle without a clear changes no status', () => {
    const b = new Bench();
    b.car.startOperationCycle();
    assert.equal(b.ask(ENGINE, '19 02 FF'), '59 02 FF 03 01 00 AF 01 71 00 08 04 42 00 24');
  });

  it('dtcStatusAfterClear can keep cleared DTCs listed (e.g. 50 = tests not completed)', () => {
    const b = new Bench(customVehicle((d) => (d.ecus[2].dtcStatusAfterClear = '50')));
    assert.equal(b.ask(ABS, '14 FF FF FF'), '54');
    assert.equal(b.ask(ABS, '19 02 FF'), '59 02 FF 40 35 31 50');
  });

  it('clearNeedsEngineOff: 7F 14 22 while the engine runs, 54 when it is off', () => {
    const b = new Bench(customVehicle((d) => (d.ecus[0].clearNeedsEngineOff = true)));
    assert.equal(b.ask(ENGINE, '14 FF FF FF'), '7F 14 22');
    b.car.engineRunning = false;
    assert.equal(b.ask(ENGINE, '14 FF FF FF'), '54');
  });
});

describe('vehicle UDS: 0x22 read data by identifier', () => {
  it('22 F1 90 → 62 F1 90 + 17 ASCII bytes (U17 layout)', () => {
    const b = new Bench();
    assert.equal(b.ask(ENGINE, '22 F1 90'), `62 F1 90 ${VIN_HEX}`);
    assert.equal(b.ask(ABS, '22 F1 90'), `62 F1 90 ${VIN_HEX}`);
  });

  it('identification DIDs F187 F188 F189 F18C F191 F195 F197 in one request', () => {
    const b = new Bench();
    const ascii = (s: string): string => toSpacedHex(Buffer.from(s));
    assert.equal(
      b.ask(ENGINE, '22 F1 87 F1 88 F1 89 F1 8C F1 91 F1 95 F1 97'),
      `62 F1 87 ${ascii('04E906027JT')} F1 88 ${ascii('04E906027HB')} F1 89 ${ascii('3015')} ` +
        `F1 8C ${ascii('EM19B0012345')} F1 91 ${ascii('04E907309AB')} F1 95 ${ascii('S3015')} F1 97 ${ascii('R4 1.4l TSI')}`,
    );
  });

  it('answers only the supported DIDs of a list; none supported → 31', () => {
    const b = new Bench();
    assert.equal(b.ask(ENGINE, '22 12 34 F1 89 56 78'), `62 F1 89 ${toSpacedHex(Buffer.from('3015'))}`);
    assert.equal(b.ask(ENGINE, '22 12 34 56 78'), '7F 22 31');
  });

  it('length must be 1 + 2n: 22 → 13, 22 F1 → 13, 22 F1 90 F1 → 13', () => {
    const b = new Bench();
    assert.equal(b.ask(ENGINE, '22'), '7F 22 13');
    assert.equal(b.ask(ENGINE, '22 F1'), '7F 22 13');
    assert.equal(b.ask(ENGINE, '22 F1 90 F1'), '7F 22 13');
  });

  it('a DID for another session is unsupported here (31); in extended it reads', () => {
    const b = new Bench();
    assert.equal(b.ask(ENGINE, '22 01 00'), '7F 22 31');
    b.ask(ENGINE, '10 03');
    assert.equal(b.ask(ENGINE, '22 01 00'), '62 01 00 03 40 02 4B 0C');
  });

  it('a protected DID → 33 while locked, even next to readable ones; readable once unlocked', () => {
    const b = new Bench();
    assert.equal(b.ask(ENGINE, '22 01 01'), '7F 22 33');
    assert.equal(b.ask(ENGINE, '22 F1 89 01 01'), '7F 22 33');
    b.unlockEngine();
    assert.equal(b.ask(ENGINE, '22 F1 89 01 01'), `62 F1 89 ${toSpacedHex(Buffer.from('3015'))} 01 01 01`);
  });

  it('F4xx DIDs carry the live OBD PID bytes', () => {
    const b = new Bench();
    assert.equal(b.ask(ENGINE, '22 F4 0C F4 0D F4 05 F4 42'), '62 F4 0C 0C 30 F4 0D 00 F4 05 3C F4 42 37 14');
  });

  it('a response of 4095 bytes is sent, one above → 7F 22 14', () => {
    const b = new Bench(customVehicle((d) => (d.ecus[0].dids!['0200'] = { hex: '55'.repeat(4092) })));
    const full = b.car.handleRequest(ENGINE, hexToBytes('22 02 00'))[0].frames[0].payload;
    assert.equal(full.length, 4095);
    assert.equal(toSpacedHex(full.subarray(0, 5)), '62 02 00 55 55');
    assert.equal(b.ask(ENGINE, '22 02 00 F1 86'), '7F 22 14');
  });
});

describe('vehicle UDS: 0x2E write data by identifier', () => {
  it('default session → 7F 2E 7F; extended but locked → 33', () => {
    const b = new Bench();
    assert.equal(b.ask(ENGINE, '2E F1 98 12 34 56 78 9A BC'), '7F 2E 7F');
    b.ask(ENGINE, '10 03');
    assert.equal(b.ask(ENGINE, '2E F1 98 12 34 56 78 9A BC'), '7F 2E 33');
    assert.equal(b.ask(ENGINE, '2E F1 98 12'), '7F 2E 33'); // security is checked before the exact length
  });

  it('writes after unlock, answers 6E F1 98, and 22 reads the new value back', () => {
    const b = new Bench();
    b.unlockEngine();
    assert.equal(b.ask(ENGINE, '2E F1 98 12 34 56 78 9A BC'), '6E F1 98');
    assert.equal(b.ask(ENGINE, '22 F1 98'), '62 F1 98 12 34 56 78 9A BC');
    assert.equal(b.ask(ENGINE, '10 01'), '50 01 00 32 01 F4');
    assert.equal(b.ask(ENGINE, '22 F1 98'), '62 F1 98 12 34 56 78 9A BC');
    b.ask(ENGINE, '11 01');
    b.wait(200);
    b.car.startOperationCycle();
    assert.equal(b.ask(ENGINE, '22 F1 98'), '62 F1 98 12 34 56 78 9A BC');
    assert.equal(b.ask(TCM, '22 F1 98'), '62 F1 98 00 00 00 00 00 00');
  });

  it('a DID writable only in another session → 31 when the service itself is allowed', () => {
    const b = new Bench(customVehicle((d) => delete d.ecus[0].serviceSessions?.['2E']));
    assert.equal(b.ask(ENGINE, '2E F1 98 12 34 56 78 9A BC'), '7F 2E 31');
    b.ask(ENGINE, '10 03');
    assert.equal(b.ask(ENGINE, '2E F1 98 12 34 56 78 9A BC'), '7F 2E 33');
  });

  it('wrong data length → 13; no data → 13; read-only or unknown DID → 31', () => {
    const b = new Bench();
    b.unlockEngine();
    assert.equal(b.ask(ENGINE, '2E F1 98 12 34 56 78 9A'), '7F 2E 13');
    assert.equal(b.ask(ENGINE, '2E F1 98 12 34 56 78 9A BC DE'), '7F 2E 13');
    assert.equal(b.ask(ENGINE, '2E F1 98'), '7F 2E 13');
    assert.equal(b.ask(ENGINE, `2E F1 90 ${VIN_HEX}`), '7F 2E 31');
    assert.equal(b.ask(ENGINE, '2E 12 34 00'), '7F 2E 31');
    assert.equal(b.ask(ENGINE, '22 F1 98'), '62 F1 98 00 00 00 00 00 00');
  });
});
