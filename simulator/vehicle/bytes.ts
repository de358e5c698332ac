/** Small byte helpers shared by the vehicle model and its tests. */

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
