import assert from 'node:assert/strict';
import { hexToBytes, toSpacedHex } from '../../protocol';
import { crc32 } from '../../simulator/vehicle/ecu';
import { ENGINE, VehicleBench } from '../support/vehicle-bench';

/*
 * Deeper UDS in the simulated engine (ISO 14229-1): snapshot and extended data per DTC (19 04 / 19 06),
 * ControlDTCSetting (85), CommunicationControl (28), InputOutputControlByIdentifier (2F) and a download
 * (34 / 36 / 37) with its block sequence counter. Expected bytes come from default-vehicle.json.
 */

/** 10 03, 10 02, then the level-1 key in the programming session (key = seed XOR 4F 50 45 4E). */
function programming(b: VehicleBench): void {
  assert.equal(b.ask(ENGINE, '10 03'), '50 03 00 32 01 F4');
  assert.equal(b.ask(ENGINE, '10 02'), '50 02 00 32 01 F4');
  const seed = hexToBytes(b.ask(ENGINE, '27 01')).subarray(2);
  const key = Buffer.from(seed.map((x, i) => x ^ [0x4f, 0x50, 0x45, 0x4e][i]!));
  assert.equal(b.ask(ENGINE, `27 02 ${toSpacedHex(key)}`), '67 02');
}

describe('simulated ECU: deeper UDS services', () => {
  it('19 04: snapshot records of a DTC, one or all; unknown DTC or record → 31; wrong length → 13', () => {
    const b = new VehicleBench();
    assert.equal(b.ask(ENGINE, '19 04 03 01 00 01'), '59 04 03 01 00 AF 01 02 F4 0C 0C 30 F4 05 5A');
    assert.equal(b.ask(ENGINE, '19 04 03 01 00 FF'), '59 04 03 01 00 AF 01 02 F4 0C 0C 30 F4 05 5A 02 01 F4 0C 1F 40');
    assert.equal(b.ask(ENGINE, '19 04 01 71 00 FF'), '59 04 01 71 00 08', 'a DTC without snapshots');
    assert.equal(b.ask(ENGINE, '19 04 03 01 00 03'), '7F 19 31');
    assert.equal(b.ask(ENGINE, '19 04 12 34 56 FF'), '7F 19 31');
    assert.equal(b.ask(ENGINE, '19 04 03 01 00'), '7F 19 13');
  });

  it('19 06: extended data records, one, all (FF) or the OBD ones (FE)', () => {
    const b = new VehicleBench();
    assert.equal(b.ask(ENGINE, '19 06 03 01 00 FF'), '59 06 03 01 00 AF 01 05 02 28');
    assert.equal(b.ask(ENGINE, '19 06 03 01 00 02'), '59 06 03 01 00 AF 02 28');
    assert.equal(b.ask(ENGINE, '19 06 03 01 00 FE'), '59 06 03 01 00 AF');
    assert.equal(b.ask(ENGINE, '19 06 03 01 00 07'), '7F 19 31');
  });

  it('85 DTC setting and 28 communication control: not in the default session; SPRMIB; reset by the default session', () => {
    const b = new VehicleBench();
    assert.equal(b.ask(ENGINE, '85 02'), '7F 85 7F');
    assert.equal(b.ask(ENGINE, '28 03 01'), '7F 28 7F');
    assert.equal(b.ask(ENGINE, '10 03'), '50 03 00 32 01 F4');
    assert.equal(b.ask(ENGINE, '85 02'), 'C5 02');
    assert.equal(b.car.ecuStatus('engine').dtcSettingOn, false);
    assert.equal(b.ask(ENGINE, '85 81'), '(silence)', 'SPRMIB: no positive answer');
    assert.equal(b.car.ecuStatus('engine').dtcSettingOn, true);
    assert.equal(b.ask(ENGINE, '85 03'), '7F 85 12');
    assert.equal(b.ask(ENGINE, '28 03 01'), '68 03');
    assert.equal(b.car.ecuStatus('engine').communicationControl, 3);
    assert.equal(b.ask(ENGINE, '28 04 01'), '7F 28 12');
    assert.equal(b.ask(ENGINE, '28 00 00'), '7F 28 31');
    assert.equal(b.ask(ENGINE, '28 00'), '7F 28 13');
    assert.equal(b.ask(ENGINE, '85 02'), 'C5 02');
    assert.equal(b.ask(ENGINE, '10 01'), '50 01 00 32 01 F4');
    assert.deepEqual([b.car.ecuStatus('engine').dtcSettingOn, b.car.ecuStatus('engine').communicationControl], [true, 0]);
  });

  it('2F I/O control: short-term adjustment, freeze, return control; security where the DID needs it', () => {
    const b = new VehicleBench();
    assert.equal(b.ask(ENGINE, '2F 09 01 03 40'), '7F 2F 7F', 'extended session only');
    assert.equal(b.ask(ENGINE, '10 03'), '50 03 00 32 01 F4');
    assert.equal(b.ask(ENGINE, '2F 09 01 03 40'), '6F 09 01 03 40');
    assert.deepEqual(b.car.ecuStatus('engine').ioOverrides, { '0901': '40' });
    assert.equal(b.ask(ENGINE, '2F 09 01 02'), '6F 09 01 02 40');
    assert.equal(b.ask(ENGINE, '2F 09 01 00'), '6F 09 01 00 00');
    assert.deepEqual(b.car.ecuStatus('engine').ioOverrides, {});
    assert.equal(b.ask(ENGINE, '2F 09 01 03'), '7F 2F 13', 'a short-term adjustment needs its state');
    assert.equal(b.ask(ENGINE, '2F 09 01 04'), '7F 2F 31');
    assert.equal(b.ask(ENGINE, '2F 12 34 00'), '7F 2F 31');
    assert.equal(b.ask(ENGINE, '2F 09 02 03 00'), '7F 2F 33');
  });

  it('34/36/37 download: 74 with the block length, counters from 01, a repeated block taken once, 73 for a wrong counter, 77 with the CRC', () => {
    const b = new VehicleBench();
    assert.equal(b.ask(ENGINE, '34 00 44 00 08 00 00 00 00 06 00'), '7F 34 7F', 'programming session only');
    assert.equal(b.ask(ENGINE, '36 01 00'), '7F 36 7F');
    programming(b);
    assert.equal(b.ask(ENGINE, '36 01 00'), '7F 36 24', 'no download requested');
    assert.equal(b.ask(ENGINE, '37'), '7F 37 24');
    assert.equal(b.ask(ENGINE, '34 00 44 00 0C 00 00 00 00 00 10'), '7F 34 31', 'outside the memory');
    assert.equal(b.ask(ENGINE, '34 11 44 00 08 00 00 00 00 06 00'), '7F 34 31', 'compressed');
    assert.equal(b.ask(ENGINE, '34 00 44 00 08 00 00 00 00 06'), '7F 34 13');
    // 1536 bytes at 0x00080000: maxNumberOfBlockLength 0x0402 = 1026 (SID, counter and 1024 data bytes).
    assert.equal(b.ask(ENGINE, '34 00 44 00 08 00 00 00 00 06 00'), '74 20 04 02');
    const data = Buffer.from(Array.from({ length: 1536 }, (_, i) => (i * 7) & 0xff));
    const block = (counter: number, part: Buffer) => toSpacedHex(Buffer.concat([Buffer.of(0x36, counter), part]));
    assert.equal(b.ask(ENGINE, block(2, data.subarray(0, 1024))), '7F 36 73');
    assert.equal(b.ask(ENGINE, block(1, data.subarray(0, 1024))), '76 01');
    assert.equal(b.ask(ENGINE, block(1, data.subarray(0, 1024))), '76 01', 'the same block again (a retry)');
    assert.equal(b.car.ecuStatus('engine').download!.received, 1024, 'not written twice');
    assert.equal(b.ask(ENGINE, '37'), '7F 37 24', 'not all data yet');
    assert.equal(b.ask(ENGINE, block(2, Buffer.alloc(1025))), '7F 36 13', 'longer than the block length');
    assert.equal(b.ask(ENGINE, block(2, data.subarray(1024))), '76 02');
    assert.equal(b.ask(ENGINE, block(3, Buffer.of(0))), '7F 36 71', 'more data than the download asked for');
    const crc = crc32(data).toString(16).toUpperCase().padStart(8, '0');
    assert.equal(b.ask(ENGINE, '37'), `77 ${crc.match(/../g)!.join(' ')}`);
    assert.deepEqual(b.car.ecuStatus('engine').download, {
      address: 0x80000,
      size: 1536,
      received: 1536,
      blocks: 2,
      complete: true,
      crc32: crc,
    });
    assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926, 'the CRC-32 check value');
  });

  it('a download needs security and does not survive a change of session', () => {
    const b = new VehicleBench();
    assert.equal(b.ask(ENGINE, '10 03'), '50 03 00 32 01 F4');
    assert.equal(b.ask(ENGINE, '10 02'), '50 02 00 32 01 F4');
    assert.equal(b.ask(ENGINE, '34 00 44 00 08 00 00 00 00 00 10'), '7F 34 33');
    b.wait(10);
    const b2 = new VehicleBench();
    programming(b2);
    assert.equal(b2.ask(ENGINE, '34 00 44 00 08 00 00 00 00 00 10'), '74 20 04 02');
    assert.equal(b2.ask(ENGINE, '34 00 44 00 08 00 00 00 00 00 10'), '7F 34 22', 'one download at a time');
    assert.equal(b2.ask(ENGINE, '10 02'), '50 02 00 32 01 F4');
    assert.equal(b2.car.ecuStatus('engine').download, undefined);
  });
});
