/**
 * JSON values as `google.protobuf.Struct`, packed into a `google.protobuf.Any` (the protobuf well-known
 * types: Struct, Value, ListValue). openOBD variables carry either a string (`Variable.value`) or any
 * protobuf message (`Variable.object`, an Any); a JSON object travels as an Any with the type URL
 * STRUCT_TYPE_URL and the Struct's protobuf encoding, which any protobuf library can unpack.
 *
 * The encoding follows the protobuf wire format (varints, length-delimited fields, little-endian
 * doubles); no other dependency is needed for these three messages.
 */

export const STRUCT_TYPE_URL = 'type.googleapis.com/google.protobuf.Struct';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

const VARINT = 0;
const FIXED64 = 1;
const LEN = 2;

class Writer {
  readonly parts: Buffer[] = [];

  varint(n: number): void {
    const bytes: number[] = [];
    let v = n >>> 0;
    let hi = Math.floor(n / 2 ** 32);
    // Only small non-negative values occur here (tags, lengths, enum 0, bool).
    while (v > 0x7f || hi > 0) {
      bytes.push((v & 0x7f) | 0x80);
      v = (v >>> 7) | ((hi & 0x7f) << 25);
      hi = Math.floor(hi / 128);
    }
    bytes.push(v);
    this.parts.push(Buffer.from(bytes));
  }

  tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  bytes(field: number, data: Buffer): void {
    this.tag(field, LEN);
    this.varint(data.length);
    this.parts.push(data);
  }

  double(field: number, n: number): void {
    this.tag(field, FIXED64);
    const b = Buffer.alloc(8);
    b.writeDoubleLE(n);
    this.parts.push(b);
  }

  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

function encodeValue(v: JsonValue): Buffer {
  const w = new Writer();
  if (v === null) {
    w.tag(1, VARINT);
    w.varint(0);
  } else if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new TypeError(`${v} cannot be stored as JSON`);
    w.double(2, v);
  } else if (typeof v === 'string') w.bytes(3, Buffer.from(v, 'utf8'));
  else if (typeof v === 'boolean') {
    w.tag(4, VARINT);
    w.varint(v ? 1 : 0);
  } else if (Array.isArray(v)) {
    const list = new Writer();
    for (const item of v) list.bytes(1, encodeValue(item));
    w.bytes(6, list.done());
  } else if (typeof v === 'object') w.bytes(5, encodeStruct(v));
  else throw new TypeError(`A ${typeof v} cannot be stored as JSON`);
  return w.done();
}

/** The protobuf encoding of a Struct holding the object's fields. */
export function encodeStruct(obj: { [key: string]: JsonValue }): Buffer {
  const w = new Writer();
  for (const [key, value] of Object.entries(obj)) {
    if (value === undefined) continue;
    const entry = new Writer();
    entry.bytes(1, Buffer.from(key, 'utf8'));
    entry.bytes(2, encodeValue(value));
    w.bytes(1, entry.done());
  }
  return w.done();
}

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  get more(): boolean {
    return this.pos < this.buf.length;
  }

  varint(): number {
    let result = 0;
    let factor = 1;
    for (;;) {
      if (this.pos >= this.buf.length) throw new RangeError('Truncated varint');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * factor;
      if (b < 0x80) return result;
      factor *= 128;
      if (factor > 2 ** 63) throw new RangeError('Varint too long');
    }
  }

  tag(): { field: number; wire: number } {
    const t = this.varint();
    return { field: Math.floor(t / 8), wire: t & 7 };
  }

  bytes(): Buffer {
    const n = this.varint();
    if (this.pos + n > this.buf.length) throw new RangeError('Truncated field');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  double(): number {
    if (this.pos + 8 > this.buf.length) throw new RangeError('Truncated double');
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  skip(wire: number): void {
    if (wire === VARINT) this.varint();
    else if (wire === FIXED64) this.pos += 8;
    else if (wire === LEN) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new RangeError(`Unsupported wire type ${wire}`);
  }
}

function decodeValue(buf: Buffer): JsonValue {
  const r = new Reader(buf);
  let value: JsonValue = null;
  while (r.more) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === VARINT) {
      r.varint();
      value = null;
    } else if (field === 2 && wire === FIXED64) value = r.double();
    else if (field === 3 && wire === LEN) value = r.bytes().toString('utf8');
    else if (field === 4 && wire === VARINT) value = r.varint() !== 0;
    else if (field === 5 && wire === LEN) value = decodeStruct(r.bytes());
    else if (field === 6 && wire === LEN) {
      const list = new Reader(r.bytes());
      const items: JsonValue[] = [];
      while (list.more) {
        const t = list.tag();
        if (t.field === 1 && t.wire === LEN) items.push(decodeValue(list.bytes()));
        else list.skip(t.wire);
      }
      value = items;
    } else r.skip(wire);
  }
  return value;
}

/** The object a Struct's protobuf encoding holds. Throws RangeError on bytes that are not a Struct. */
export function decodeStruct(buf: Buffer | Uint8Array): { [key: string]: JsonValue } {
  const r = new Reader(Buffer.isBuffer(buf) ? buf : Buffer.from(buf));
  const out: { [key: string]: JsonValue } = {};
  while (r.more) {
    const { field, wire } = r.tag();
    if (field !== 1 || wire !== LEN) {
      r.skip(wire);
      continue;
    }
    const entry = new Reader(r.bytes());
    let key = '';
    let value: JsonValue = null;
    while (entry.more) {
      const t = entry.tag();
      if (t.field === 1 && t.wire === LEN) key = entry.bytes().toString('utf8');
      else if (t.field === 2 && t.wire === LEN) value = decodeValue(entry.bytes());
      else entry.skip(t.wire);
    }
    out[key] = value;
  }
  return out;
}
