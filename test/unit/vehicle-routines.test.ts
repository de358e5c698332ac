import assert from 'node:assert/strict';
import { hexToBytes, toSpacedHex } from '../../protocol';
import { ABS, ENGINE, VehicleBench } from '../support/vehicle-bench';

class Bench extends VehicleBench {
  /** ABS: extended session + level 3 (key = seed + 0x1234). */
  unlockAbs(): void {
    this.ask(ABS, '10 03');
    const seed = hexToBytes(this.ask(ABS, '27 03')).readUInt16BE(2);
    const key = (seed + 0x1234) & 0xffff;
    assert.equal(this.ask(ABS, `27 04 ${toSpacedHex(Buffer.of(key >> 8, key & 0xff))}`), '67 04');
  }
}

const PENDING_FF00 = '7E8 +5 7F 31 78 | +1500 7F 31 78 | +1500 7F 31 78 | +1500 71 01 FF 00 00';

describe('vehicle 0x31 routine control', () => {
  it('FF00 needs the extended session (7F 31 7F) and level 1 (7F 31 33)', () => {
    const b = new Bench();
    assert.equal(b.ask(ENGINE, '31 01 FF 00'), '7F 31 7F');
    b.ask(ENGINE, '10 03');
    assert.equal(b.ask(ENGINE, '31 01 FF 00'), '7F 31 33');
  });

  it('FF00 answers 7F 31 78 three times 1.5 s apart, then 71 01 FF 00 00', () => {
    const b = new Bench();
    b.unlockEngine();
    assert.deepEqual(b.send(ENGINE, '31 01 FF 00'), [PENDING_FF00]);
  });

  it('option bytes after the RID are accepted (like U28)', () => {
    const b = new Bench();
    b.unlockEngine();
    assert.deepEqual(b.send(ENGINE, '31 01 FF 00 44 08 01 00 00 00 00 4A 8C'), [PENDING_FF00]);
  });

  it('SPRMIB with response pending: the final positive answer is still sent', () => {
    const b = new Bench();
    b.unlockEngine();
    assert.deepEqual(b.send(ENGINE, '31 81 FF 00'), ['7E8 +5 7F 31 78 | +1500 7F 31 78 | +1500 7F 31 78 | +1500 71 01 FF 00 00']);
  });

  it('31 03 before 31 01 → 24; running → in progress (01); finished → result (00)', () => {
    const b = new Bench();
    b.unlockEngine();
    assert.equal(b.ask(ENGINE, '31 03 FF 00'), '7F 31 24');
    b.send(ENGINE, '31 01 FF 00');
    b.wait(4504);
    assert.equal(b.ask(ENGINE, '31 03 FF 00'), '71 03 FF 00 01');
    b.wait(1);
    assert.equal(b.ask(ENGINE, '31 03 FF 00'), '71 03 FF 00 00');
  });

  it('a second start while it runs → 22; after it finished it can start again', () => {
    const b = new Bench();
    b.unlockEngine();
    b.send(ENGINE, '31 01 FF 00');
    b.wait(1000);
    assert.equal(b.ask(ENGINE, '31 01 FF 00'), '7F 31 22');
    b.wait(4000);
    assert.deepEqual(b.send(ENGINE, '31 01 FF 00'), [PENDING_FF00]);
  });

  it('31 02 on a finished routine → 24', () => {
    const b = new Bench();
    b.unlockEngine();
    b.send(ENGINE, '31 01 FF 00');
    b.wait(5000);
    assert.equal(b.ask(ENGINE, '31 02 FF 00'), '7F 31 24');
  });

  it('S3 runs from the end of the pending sequence, not from the request', () => {
    const b = new Bench();
    b.unlockEngine();
    b.send(ENGINE, '31 01 FF 00'); // last frame at +4505 ms
    b.wait(9000);
    assert.equal(b.ask(ENGINE, '22 F1 86'), '62 F1 86 03');
  });

  it('0203 answers busy 7F 31 21 twice, accepts the third start, and is busy again next time', () => {
    const b = new Bench();
    b.ask(ENGINE, '10 03');
    const answers: string[] = [];
    for (let i = 0; i < 4; i++) {
      answers.push(b.ask(ENGINE, '31 01 02 03'));
      b.wait(500);
    }
    assert.deepEqual(answers, ['7F 31 21', '7F 31 21', '71 01 02 03 00', '7F 31 21']);
    assert.equal(b.ask(ENGINE, '31 03 02 03'), '71 03 02 03 00');
  });

  it('unknown RID → 31; sub-function 04 → 12; RID missing → 13', () => {
    const b = new Bench();
    b.ask(ENGINE, '10 03');
    assert.equal(b.ask(ENGINE, '31 01 12 34'), '7F 31 31');
    assert.equal(b.ask(ENGINE, '31 04 FF 00'), '7F 31 12');
    assert.equal(b.ask(ENGINE, '31 01 FF'), '7F 31 13');
  });

  it('leaving the session forgets routine results', () => {
    const b = new Bench();
    b.unlockEngine();
    b.send(ENGINE, '31 01 FF 00');
    b.wait(5000);
    b.ask(ENGINE, '10 01');
    b.unlockEngine();
    assert.equal(b.ask(ENGINE, '31 03 FF 00'), '7F 31 24');
  });

  it('ABS 0400 runs 3 s after its start: 71 01 04 00 01, results 01 then 00', () => {
    const b = new Bench();
    b.unlockAbs();
    assert.deepEqual(b.send(ABS, '31 01 04 00'), ['768 +10 71 01 04 00 01']);
    b.wait(2000);
    assert.equal(b.ask(ABS, '31 03 04 00'), '71 03 04 00 01');
    b.wait(1010);
    assert.equal(b.ask(ABS, '31 03 04 00'), '71 03 04 00 00');
  });

  it('ABS 0400 can be stopped while running (71 02 04 00); then it has no results', () => {
    const b = new Bench();
    b.unlockAbs();
    b.ask(ABS, '31 01 04 00');
    b.wait(1000);
    assert.equal(b.ask(ABS, '31 02 04 00'), '71 02 04 00');
    assert.equal(b.ask(ABS, '31 03 04 00'), '7F 31 24');
    assert.equal(b.ask(ABS, '31 02 04 00'), '7F 31 24');
  });

  it('functional routine requests: unknown RID silent, busy still answered', () => {
    const b = new Bench();
    b.send(0x7df, '10 03');
    assert.deepEqual(b.send(0x7df, '31 01 12 34'), []);
    assert.deepEqual(b.send(0x7df, '31 01 02 03'), ['7E8 +5 7F 31 21']);
  });
});
