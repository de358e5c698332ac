import assert from 'node:assert/strict';
import { OpenObdError } from '../../client/errors';
import { ISOTP_MAX_PAYLOAD, parseHex, toHex, toPayloadBytes } from '../../client/codec';

function badPayload(message: string | RegExp): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof OpenObdError, 'expected an OpenObdError');
    assert.equal(err.code, 'BAD_PAYLOAD');
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  };
}

describe('codec/hex parseHex', () => {
  it('accepts upper, lower and mixed case', () => {
    assert.deepEqual([...parseHex('22F190')], [0x22, 0xf1, 0x90]);
    assert.deepEqual([...parseHex('22f190')], [0x22, 0xf1, 0x90]);
    assert.deepEqual([...parseHex('aBcD')], [0xab, 0xcd]);
  });

  it('ignores whitespace between digits, including tabs and new lines', () => {
    assert.deepEqual([...parseHex('22 f1 90')], [0x22, 0xf1, 0x90]);
    assert.deepEqual([...parseHex('  22\tF1\n90  ')], [0x22, 0xf1, 0x90]);
    assert.deepEqual([...parseHex('2 2F 19 0')], [0x22, 0xf1, 0x90]);
  });

  it('accepts one leading 0x or 0X', () => {
    assert.deepEqual([...parseHex('0x22F190')], [0x22, 0xf1, 0x90]);
    assert.deepEqual([...parseHex('0X22 F1 90')], [0x22, 0xf1, 0x90]);
    assert.deepEqual([...parseHex(' 0x 3E 00')], [0x3e, 0x00]);
  });

  it("returns an empty Buffer for empty text (emptiness is the caller's rule)", () => {
    assert.equal(parseHex('').length, 0);
    assert.equal(parseHex('   ').length, 0);
    assert.equal(parseHex('0x').length, 0);
    assert.ok(Buffer.isBuffer(parseHex('')));
  });

  it('names the bad character and its 1-based position', () => {
    assert.throws(() => parseHex('22G190'), badPayload("Payload is not valid hex: 'G' at position 3 is not a hex digit"));
    assert.throws(() => parseHex('22-F1'), badPayload("Payload is not valid hex: '-' at position 3 is not a hex digit"));
    assert.throws(() => parseHex('22 F1 G0'), badPayload("Payload is not valid hex: 'G' at position 7 is not a hex digit"));
  });

  it('allows 0x only at the start', () => {
    assert.throws(() => parseHex('22 0xF1'), badPayload("Payload is not valid hex: 'x' at position 5 is not a hex digit"));
    assert.throws(() => parseHex('0x0x22'), badPayload("Payload is not valid hex: 'x' at position 4 is not a hex digit"));
  });

  it('shows invisible characters as code points and astral characters whole', () => {
    assert.throws(() => parseHex('22\u0000'), badPayload('Payload is not valid hex: U+0000 at position 3 is not a hex digit'));
    assert.throws(() => parseHex('22\u{1F600}00'), badPayload("Payload is not valid hex: '\u{1F600}' at position 3 is not a hex digit"));
  });

  it('rejects an odd number of digits and says how many there are', () => {
    assert.throws(() => parseHex('22F19'), badPayload('Payload has an odd number of hex digits (5)'));
    assert.throws(() => parseHex('0x2 2 F'), badPayload('Payload has an odd number of hex digits (3)'));
  });
});

describe('codec/hex toHex', () => {
  it('writes upper case without separators', () => {
    assert.equal(toHex(Buffer.from([0x62, 0xf1, 0x90, 0x0a])), '62F1900A');
    assert.equal(toHex(new Uint8Array([])), '');
  });

  it('respects the offset and length of a view', () => {
    const whole = Buffer.from([0x01, 0xab, 0xcd, 0x02]);
    assert.equal(toHex(whole.subarray(1, 3)), 'ABCD');
    assert.equal(toHex(new Uint8Array(whole.buffer, whole.byteOffset + 2, 1)), 'CD');
  });

  it('round-trips with parseHex', () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    assert.deepEqual(parseHex(toHex(bytes)), bytes);
  });
});

describe('codec/hex toPayloadBytes', () => {
  it('accepts hex text', () => {
    assert.deepEqual([...toPayloadBytes('22 F1 90')], [0x22, 0xf1, 0x90]);
  });

  it('accepts a Buffer and returns a copy', () => {
    const source = Buffer.from([0x10, 0x03]);
    const bytes = toPayloadBytes(source);
    source[1] = 0x01;
    assert.deepEqual([...bytes], [0x10, 0x03]);
  });

  it('accepts a Uint8Array', () => {
    const bytes = toPayloadBytes(new Uint8Array([0x3e, 0x80]));
    assert.ok(Buffer.isBuffer(bytes));
    assert.deepEqual([...bytes], [0x3e, 0x80]);
  });

  it('accepts an array of integers 0..255', () => {
    assert.deepEqual([...toPayloadBytes([0, 34, 255])], [0x00, 0x22, 0xff]);
  });

  it('accepts the JSON form of a Buffer', () => {
    const json: unknown = JSON.parse(JSON.stringify(Buffer.from([0x19, 0x02, 0xff])));
    assert.deepEqual([...toPayloadBytes(json)], [0x19, 0x02, 0xff]);
  });

  it('rejects values of other types, saying what was given and what is accepted', () => {
    const accepted = 'Use hex text such as "22 F1 90", a Buffer, or an array of byte values from 0 to 255';
    assert.throws(() => toPayloadBytes(34), badPayload(`Payload cannot be a number (34). ${accepted}`));
    assert.throws(() => toPayloadBytes(Number.NaN), badPayload(`Payload cannot be a number (NaN). ${accepted}`));
    assert.throws(() => toPayloadBytes(null), badPayload(`Payload cannot be null. ${accepted}`));
    assert.throws(() => toPayloadBytes(undefined), badPayload(`Payload cannot be nothing (undefined). ${accepted}`));
    assert.throws(() => toPayloadBytes(true), badPayload(`Payload cannot be a boolean (true). ${accepted}`));
    assert.throws(() => toPayloadBytes({ sid: 0x22 }), badPayload(`Payload cannot be an object. ${accepted}`));
    assert.throws(() => toPayloadBytes(new Uint16Array([1, 2])), badPayload(`Payload cannot be a Uint16Array. ${accepted}`));
  });

  it('rejects array items that are not bytes and names the item', () => {
    const rule = 'each item must be a whole number from 0 to 255';
    assert.throws(() => toPayloadBytes([1, 256]), badPayload(`Payload array item 1 is 256; ${rule}`));
    assert.throws(() => toPayloadBytes([-1]), badPayload(`Payload array item 0 is -1; ${rule}`));
    assert.throws(() => toPayloadBytes([1, 2, 1.5]), badPayload(`Payload array item 2 is 1.5; ${rule}`));
    assert.throws(() => toPayloadBytes([Number.NaN]), badPayload(`Payload array item 0 is NaN; ${rule}`));
    assert.throws(() => toPayloadBytes(['22']), badPayload(`Payload array item 0 is text ("22"); ${rule}`));
    assert.throws(() => toPayloadBytes([null]), badPayload(`Payload array item 0 is null; ${rule}`));
  });

  it('rejects a JSON Buffer with bad data', () => {
    assert.throws(
      () => toPayloadBytes({ type: 'Buffer', data: 'abc' }),
      badPayload('Payload looks like a JSON Buffer but its "data" is text ("abc"), not an array'),
    );
    assert.throws(
      () => toPayloadBytes({ type: 'Buffer', data: [1, 300] }),
      badPayload('Payload Buffer data item 1 is 300; each item must be a whole number from 0 to 255'),
    );
  });

  it('passes hex text errors through', () => {
    assert.throws(() => toPayloadBytes('22F19'), badPayload('Payload has an odd number of hex digits (5)'));
  });

  it('rejects an empty payload unless allowed', () => {
    for (const empty of ['', '  ', Buffer.alloc(0), [], new Uint8Array(0)]) {
      assert.throws(() => toPayloadBytes(empty), badPayload('Payload is empty'));
      assert.equal(toPayloadBytes(empty, { allowEmpty: true }).length, 0);
    }
  });

  it('enforces the ISO-TP limit of 4095 bytes by default', () => {
    assert.equal(ISOTP_MAX_PAYLOAD, 4095);
    assert.equal(toPayloadBytes(Buffer.alloc(4095, 1)).length, 4095);
    assert.throws(() => toPayloadBytes(Buffer.alloc(4096)), badPayload('Payload is 4096 bytes; ISO-TP carries at most 4095'));
    assert.throws(() => toPayloadBytes(Buffer.alloc(5000)), badPayload('Payload is 5000 bytes; ISO-TP carries at most 4095'));
    assert.throws(() => toPayloadBytes('00'.repeat(5000)), badPayload('Payload is 5000 bytes; ISO-TP carries at most 4095'));
  });

  it('honours a custom maxLength', () => {
    assert.equal(toPayloadBytes([1, 2, 3], { maxLength: 3 }).length, 3);
    assert.throws(() => toPayloadBytes([1, 2, 3, 4], { maxLength: 3 }), badPayload('Payload is 4 bytes; at most 3 are allowed here'));
    assert.equal(toPayloadBytes(Buffer.alloc(5000), { maxLength: 8192 }).length, 5000);
  });
});
