import { OpenObdError } from '../errors';
import { ISOTP_MAX_PAYLOAD, checkHexText } from '../input-rules';

export { toHex } from '../../protocol';

export { ISOTP_MAX_PAYLOAD };

export interface PayloadOptions {
  /** Longest accepted payload in bytes; default {@link ISOTP_MAX_PAYLOAD}. */
  maxLength?: number;
  /** Accept a zero-length payload (openOBD uses one to open a channel). Default false. */
  allowEmpty?: boolean;
}

const ACCEPTED_FORMS = 'Use hex text such as "22 F1 90", a Buffer, or an array of byte values from 0 to 255';

function badPayload(message: string): OpenObdError {
  return new OpenObdError('BAD_PAYLOAD', message);
}

const PLAIN_HEX = /^[0-9A-Fa-f]+$/;

/**
 * Parses hex text in any case. Whitespace anywhere between digits is ignored and one leading "0x" is
 * allowed, because users paste payloads from logs and tools that format them in all of these ways.
 * Positions in error messages count characters from 1, as a person reading the text would.
 */
export function parseHex(text: string): Buffer {
  if (typeof text !== 'string') {
    throw badPayload(`Payload must be hex text; got ${describeValue(text)}`);
  }
  // The common case on the request path, plain digits ("3E00", "22F190"), without the scan below.
  if (text.length % 2 === 0 && PLAIN_HEX.test(text)) return Buffer.from(text, 'hex');
  const scanned = checkHexText(text);
  if (!scanned.ok) {
    const v = scanned.problem.values;
    throw badPayload(
      scanned.problem.rule === 'hexChar'
        ? `Payload is not valid hex: ${v.shown} at position ${v.position} is not a hex digit`
        : `Payload has an odd number of hex digits (${v.count})`,
    );
  }
  return Buffer.from(scanned.value, 'hex');
}

/** A short phrase naming what a value is, for error messages aimed at flow authors. */
function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing (undefined)';
  if (typeof value === 'number') return `a number (${String(value)})`;
  if (typeof value === 'boolean') return `a boolean (${String(value)})`;
  if (typeof value === 'bigint') return `a bigint (${String(value)})`;
  if (typeof value === 'string') {
    return `text (${JSON.stringify(value.length > 20 ? `${value.slice(0, 20)}…` : value)})`;
  }
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a symbol';
  if (Array.isArray(value)) return 'an array';
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  return 'an object';
}

function bytesFromArray(items: readonly unknown[], where: string): Buffer {
  const bytes = Buffer.alloc(items.length);
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (typeof item !== 'number' || !Number.isInteger(item) || item < 0 || item > 255) {
      const shown = typeof item === 'number' ? String(item) : describeValue(item);
      throw badPayload(`Payload ${where} item ${i} is ${shown}; each item must be a whole number from 0 to 255`);
    }
    bytes[i] = item;
  }
  return bytes;
}

function isBufferJson(value: object): value is { type: 'Buffer'; data: unknown } {
  return (value as { type?: unknown }).type === 'Buffer' && 'data' in value;
}

/**
 * Turns whatever a flow put in `msg.payload` into request bytes, or explains in plain words why it cannot.
 * The result is always a fresh Buffer, so later changes to the caller's value cannot alter a request in flight.
 */
export function toPayloadBytes(value: unknown, options: PayloadOptions = {}): Buffer {
  const maxLength = options.maxLength ?? ISOTP_MAX_PAYLOAD;
  let bytes: Buffer;
  if (typeof value === 'string') {
    bytes = parseHex(value);
  } else if (value instanceof Uint8Array) {
    // Covers Buffer too; other typed arrays hold values that are not bytes and are rejected below.
    bytes = Buffer.from(value);
  } else if (Array.isArray(value)) {
    bytes = bytesFromArray(value, 'array');
  } else if (typeof value === 'object' && value !== null && isBufferJson(value)) {
    // A Buffer that went through JSON (e.g. a message from MQTT or a file) arrives in this form.
    if (!Array.isArray(value.data)) {
      throw badPayload(`Payload looks like a JSON Buffer but its "data" is ${describeValue(value.data)}, not an array`);
    }
    bytes = bytesFromArray(value.data, 'Buffer data');
  } else {
    throw badPayload(`Payload cannot be ${describeValue(value)}. ${ACCEPTED_FORMS}`);
  }

  if (bytes.length === 0 && !options.allowEmpty) {
    throw badPayload('Payload is empty');
  }
  if (bytes.length > maxLength) {
    throw badPayload(
      maxLength === ISOTP_MAX_PAYLOAD
        ? `Payload is ${bytes.length} bytes; ISO-TP carries at most ${ISOTP_MAX_PAYLOAD}`
        : `Payload is ${bytes.length} bytes; at most ${maxLength} are allowed here`,
    );
  }
  return bytes;
}
