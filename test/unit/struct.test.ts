import assert from 'node:assert/strict';
import { decodeStruct, encodeStruct } from '../../protocol';

/*
 * JSON objects as google.protobuf.Struct (how variables carry them): the encoding of the protobuf wire
 * format, checked byte for byte on a small object, and round trips of every JSON kind.
 */
describe('google.protobuf.Struct codec (JSON objects in variables)', function () {
  it('encodes {"a": 1} as the protobuf wire format does', function () {
    // Struct.fields (1, LEN) → entry { key (1) "a", value (2) Value { number_value (2, fixed64) 1.0 } }
    assert.equal(encodeStruct({ a: 1 }).toString('hex'), '0a0e0a0161120911000000000000f03f');
  });

  it('round-trips strings, numbers, booleans, null, nested objects and lists', function () {
    const value = { s: 'Zündung', n: -12.5, big: 1e21, t: true, f: false, z: null, o: { x: [1, 'two', { three: 3 }, []] }, empty: {} };
    assert.deepEqual(decodeStruct(encodeStruct(value)), value);
  });

  it('refuses bytes that end inside a field', function () {
    assert.throws(() => decodeStruct(Buffer.from('0a0e0a01', 'hex')), RangeError);
  });
});
