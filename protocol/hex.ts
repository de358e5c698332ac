/**
 * How numbers and bytes are written as text: openOBD carries every payload as a string of hexadecimal
 * digits, and people read CAN ids, service ids and response codes in hex. The one place for these forms,
 * shared by the client, the simulator and the nodes.
 */

/** Upper-case hex, zero-padded to `digits` ("7E8", "0F"). */
export function hexNumber(value: number, digits: number): string {
  return value.toString(16).toUpperCase().padStart(digits, '0');
}

/** One byte as two upper-case digits ("7F"). */
export function hexByte(value: number): string {
  return hexNumber(value, 2);
}

/** A CAN id as people write it: three digits for an 11-bit id ("7E0"), eight for a 29-bit one ("18DA10F1"). */
export function canIdText(id: number): string {
  return hexNumber(id, id > 0x7ff ? 8 : 3);
}

/** Bytes as upper-case hex without separators ("22F190"): the form openOBD puts on the wire. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex').toUpperCase();
}

/** Bytes as upper-case hex with a space between bytes ("62 F1 90"), for logs and test output. */
export function toSpacedHex(bytes: Uint8Array): string {
  return toHex(bytes).replace(/(..)(?!$)/g, '$1 ');
}

/**
 * Strict parse of hex written by a program or a data file ("22 F1 90", "22f190"): spaces are ignored,
 * anything else but pairs of hex digits throws. User input goes through the client's `parseHex`, which
 * explains its mistakes in more detail.
 */
export function hexToBytes(text: string): Buffer {
  const compact = text.replace(/\s+/g, '');
  if (compact.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(compact)) throw new Error(`not a hex byte string: "${text}"`);
  return Buffer.from(compact, 'hex');
}
