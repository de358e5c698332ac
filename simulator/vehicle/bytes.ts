/** Small byte helpers shared by the vehicle model and its tests. */

/** Parses hex text ("22 F1 90", "22f190") into bytes; throws on odd length or non-hex characters. */
export function fromHex(text: string): Buffer {
  const compact = text.replace(/\s+/g, '');
  if (compact.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(compact)) {
    throw new Error(`not a hex byte string: "${text}"`);
  }
  return Buffer.from(compact, 'hex');
}

/** Upper-case hex with a space between bytes ("62 F1 90"), the form used in logs and tests. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes)
    .toString('hex')
    .toUpperCase()
    .replace(/(..)(?!$)/g, '$1 ');
}

/** Unsigned big-endian integer of `size` bytes (1–6). */
export function uintBytes(value: number, size: number): Buffer {
  const out = Buffer.alloc(size);
  out.writeUIntBE(value, 0, size);
  return out;
}

/** ASCII text padded with NUL bytes (or cut) to exactly `size` bytes, as OBD mode 09 expects. */
export function asciiPadded(text: string, size: number): Buffer {
  const out = Buffer.alloc(size);
  out.write(text.slice(0, size), 'latin1');
  return out;
}
