import assert from 'node:assert/strict';
import { hexToBytes, toSpacedHex } from '../../protocol';
import { computeKey } from '../../simulator/vehicle/ecu';
import { ABS, ENGINE, VehicleBench } from '../support/vehicle-bench';

/** default-vehicle.json: engine level 1 key = seed XOR 4F 50 45 4E. */
const ENGINE_MASK = [0x4f, 0x50, 0x45, 0x4e];

class Bench extends VehicleBench {
  /** 27 01 in the engine; returns the 4 seed bytes after checking the `67 01` header. */
  engineSeed(): Buffer {
    const answer = hexToBytes(this.ask(ENGINE, '27 01'));
    assert.equal(toSpacedHex(answer.subarray(0, 2)), '67 01');
    assert.equal(answer.length, 6);
    return answer.subarray(2);
  }
}

const xorKey = (seed: Buffer): string => toSpacedHex(Buffer.from(seed.map((b, i) => b ^ ENGINE_MASK[i])));

describe('vehicle 0x27 security access', () => {
  it('is only available in the extended/programming session (7F 27 7F in default)', () => {
    const b = new Bench();
    assert.equal(b.ask(ENGINE, '27 01'), '7F 27 7F');
    b.ask(ENGINE, '10 03');
    b.engineSeed();
  });

  it('seed → key (seed XOR mask) → 67 02, then the seed is all zeros (U22)', () => {
    const b = new Bench();
    b.ask(ENGINE, '10 03');
    const seed = b.engineSeed();
    assert.notEqual(toSpacedHex(seed), '00 00 00 00');
    assert.equal(b.ask(ENGINE, `27 02 ${xorKey(seed)}`), '67 02');
    assert.equal(b.ask(ENGINE, '27 01'), '67 01 00 00 00 00');
    assert.deepEqual(b.car.ecuStatus('engine').unlockedLevel, 1);
  });

  it('seeds are clock-derived: the same clock gives the same seed, another request another seed', () => {
    const a = new Bench();
    const c = new Bench();
    a.ask(ENGINE, '10 03');
    c.ask(ENGINE, '10 03');
    const first = a.engineSeed();
    assert.equal(toSpacedHex(c.engineSeed()), toSpacedHex(first));
    assert.notEqual(toSpacedHex(a.engineSeed()), toSpacedHex(first));
  });

  it('only the latest seed counts', () => {
    const b = new Bench();
    b.ask(ENGINE, '10 03');
    const old = b.engineSeed();
    const latest = b.engineSeed();
    assert.equal(b.ask(ENGINE, `27 02 ${xorKey(old)}`), '7F 27 35');
    const again = b.engineSeed();
    assert.notEqual(toSpacedHex(again), toSpacedHex(latest));
    assert.equal(b.ask(ENGINE, `27 02 ${xorKey(again)}`), '67 02');
  });

  it('key without seed → 24; a seed is used once, right or wrong', () => {
    const b = new Bench();
    b.ask(ENGINE, '10 03');
    assert.equal(b.ask(ENGINE, '27 02 00 00 00 00'), '7F 27 24');
    const seed = b.engineSeed();
    assert.equal(b.ask(ENGINE, '27 02 00 00 00 00'), '7F 27 35');
    assert.equal(b.ask(ENGINE, `27 02 ${xorKey(seed)}`), '7F 27 24');
  });

  it('key of the wrong length → 13 and does not count as an attempt', () => {
    const b = new Bench();
    b.ask(ENGINE, '10 03');
    b.engineSeed();
    assert.equal(b.ask(ENGINE, '27 02 00 00 00'), '7F 27 13');
    for (let i = 0; i < 2; i++) {
      b.engineSeed();
      assert.equal(b.ask(ENGINE, '27 02 00 00 00 00'), '7F 27 35');
    }
  });

  it('3 wrong keys: 35, 35, 36; then 37 for 10 s; then seeds again', () => {
    const b = new Bench();
    b.ask(ENGINE, '10 03');
    const answers: string[] = [];
    for (let i = 0; i < 3; i++) {
      b.engineSeed();
      answers.push(b.ask(ENGINE, '27 02 00 00 00 00'));
      b.wait(100);
    }
    assert.deepEqual(answers, ['7F 27 35', '7F 27 35', '7F 27 36']);
    assert.equal(b.ask(ENGINE, '27 01'), '7F 27 37');
    assert.equal(b.ask(ENGINE, '27 02 00 00 00 00'), '7F 27 37');
    b.ask(ENGINE, '3E 80'); // keep the session alive through the lockout
    b.wait(4000);
    b.ask(ENGINE, '3E 80');
    b.wait(4000);
    b.ask(ENGINE, '3E 80');
    b.wait(1800); // 9.9 s after the third wrong key
    assert.equal(b.ask(ENGINE, '27 01'), '7F 27 37');
    b.wait(100);
    const seed = b.engineSeed();
    assert.equal(b.ask(ENGINE, `27 02 ${xorKey(seed)}`), '67 02');
  });

  it('after the lockout the tester has a full set of attempts again', () => {
    const b = new Bench();
    b.ask(ENGINE, '10 03');
    for (let i = 0; i < 3; i++) {
      b.engineSeed();
      b.ask(ENGINE, '27 02 00 00 00 00');
    }
    b.wait(10_000);
    b.ask(ENGINE, '10 03');
    const answers: string[] = [];
    for (let i = 0; i < 3; i++) {
      b.engineSeed();
      answers.push(b.ask(ENGINE, '27 02 00 00 00 00'));
    }
    assert.deepEqual(answers, ['7F 27 35', '7F 27 35', '7F 27 36']);
  });

  it('a successful unlock resets the failed-attempt counter', () => {
    const b = new Bench();
    b.ask(ENGINE, '10 03');
    for (let i = 0; i < 2; i++) {
      b.engineSeed();
      assert.equal(b.ask(ENGINE, '27 02 00 00 00 00'), '7F 27 35');
    }
    const seed = b.engineSeed();
    assert.equal(b.ask(ENGINE, `27 02 ${xorKey(seed)}`), '67 02');
    b.ask(ENGINE, '10 03');
    const answers: string[] = [];
    for (let i = 0; i < 3; i++) {
      b.engineSeed();
      answers.push(b.ask(ENGINE, '27 02 00 00 00 00'));
    }
    assert.deepEqual(answers, ['7F 27 35', '7F 27 35', '7F 27 36']);
  });

  it('a new operation cycle ends the lockout', () => {
    const b = new Bench();
    b.ask(ENGINE, '10 03');
    for (let i = 0; i < 3; i++) {
      b.engineSeed();
      b.ask(ENGINE, '27 02 00 00 00 00');
    }
    b.car.startOperationCycle();
    b.ask(ENGINE, '10 03');
    b.engineSeed();
  });

  it('an ECU reset relocks but keeps the lockout', () => {
    const b = new Bench();
    b.ask(ENGINE, '10 03');
    const seed = b.engineSeed();
    b.ask(ENGINE, `27 02 ${xorKey(seed)}`);
    b.ask(ENGINE, '11 01');
    b.wait(200);
    b.ask(ENGINE, '10 03');
    assert.notEqual(b.ask(ENGINE, '27 01'), '67 01 00 00 00 00');
    for (let i = 0; i < 3; i++) {
      b.engineSeed();
      b.ask(ENGINE, '27 02 00 00 00 00');
    }
    b.ask(ENGINE, '11 01');
    b.wait(200);
    b.ask(ENGINE, '10 03');
    assert.equal(b.ask(ENGINE, '27 01'), '7F 27 37');
  });

  it('unknown level → 12 (seed or key), 27 alone → 13', () => {
    const b = new Bench();
    b.ask(ENGINE, '10 03');
    assert.equal(b.ask(ENGINE, '27 05'), '7F 27 12');
    assert.equal(b.ask(ENGINE, '27'), '7F 27 13');
    b.ask(ABS, '10 03');
    b.ask(ABS, '27 03');
    assert.equal(b.ask(ABS, '27 02 00 00'), '7F 27 12');
  });

  it('ABS level 3: 2-byte seed, key = seed + 0x1234 (big-endian, carry dropped)', () => {
    const b = new Bench();
    assert.equal(b.ask(ABS, '10 03'), '50 03 00 32 01 F4');
    const answer = hexToBytes(b.ask(ABS, '27 03'));
    assert.equal(toSpacedHex(answer.subarray(0, 2)), '67 03');
    assert.equal(answer.length, 4);
    const key = (answer.readUInt16BE(2) + 0x1234) & 0xffff;
    assert.equal(b.ask(ABS, `27 04 ${toSpacedHex(Buffer.of(key >> 8, key & 0xff))}`), '67 04');
    assert.equal(b.ask(ABS, '27 03'), '67 03 00 00');
  });

  it('computeKey follows the documented algorithms', () => {
    const seed = hexToBytes('11 22 33 44');
    assert.equal(toSpacedHex(computeKey({ algorithm: 'xor', value: hexToBytes('4F 50 45 4E') }, seed)), '5E 72 76 0A');
    assert.equal(toSpacedHex(computeKey({ algorithm: 'xor', value: hexToBytes('FF') }, seed)), 'EE DD CC BB');
    assert.equal(toSpacedHex(computeKey({ algorithm: 'add', value: hexToBytes('12 34') }, hexToBytes('FF FF'))), '12 33');
    assert.equal(toSpacedHex(computeKey({ algorithm: 'add', value: hexToBytes('01') }, hexToBytes('00 FF FF'))), '01 00 00');
  });

  it('SPRMIB on requestSeed hides the seed; the key still works with 27 82', () => {
    const b = new Bench();
    b.ask(ENGINE, '10 03');
    assert.equal(b.ask(ENGINE, '27 81'), '(silence)');
    assert.equal(b.ask(ENGINE, '27 82 00 00 00 00'), '7F 27 35');
  });
});
