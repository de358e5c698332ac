/**
 * What the package accepts from people, in one place for the runtime and the edit dialogs: hex requests,
 * CAN ids, responder lists and loopback hosts. The build wraps the compiled form of this file into the
 * editor script (as `window.OpenObdRules`), so it imports only protocol/wire.ts (which imports nothing) and uses
 * no Node.js API.
 *
 * A check returns the parsed value, or a problem: the rule that was broken, which the dialogs translate
 * as `openobd.validation.<rule>`, and the values for that sentence. The runtime phrases its own errors
 * (they carry more context, such as which field of which node).
 */

/** The service results and user feedback of openOBD, for the finish node's dialog (protocol/wire.ts imports nothing). */
export { RESULT_NAMES, USER_FEEDBACK_NAMES } from '../protocol/wire';

export type RuleName =
  | 'hexChar'
  | 'hexOdd'
  | 'hexEmpty'
  | 'hexLong'
  | 'canIdRequired'
  | 'canId'
  | 'canIdRange'
  | 'responderRange'
  | 'addressRequired'
  | 'address'
  | 'addressRange'
  | 'keyBytes'
  | 'frameFilter';

export interface Problem {
  rule: RuleName;
  values: Record<string, string | number>;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; problem: Problem };

/** Longest ISO-TP message on classic CAN (12-bit first-frame length, ISO 15765-2); openOBD segments on its side. */
export const ISOTP_MAX_PAYLOAD = 4095;

/** Largest CAN id: 29 bits (extended frame format, ISO 11898-1). */
export const MAX_CAN_ID = 0x1fffffff;

/** A responder range ("7E8-7EF") may span at most this many ids. */
export const MAX_RESPONDER_SPAN = 32;

/** CAN bit rates openOBD configures, in kbit/s as people write them, fastest first (openOBD's CanBitRate). */
export const CAN_BIT_RATES_KBPS: readonly string[] = ['1000', '500', '250', '125', '100', '94', '83.3', '50', '33.3', '20', '10', '5'];

function fail<T>(rule: RuleName, values: Record<string, string | number> = {}): Checked<T> {
  return { ok: false, problem: { rule, values } };
}

/** One character as a person can recognise it in a message, control characters included ("U+0009"). */
export function showCharacter(ch: string): string {
  const code = ch.codePointAt(0) ?? 0;
  if (code < 0x20 || code === 0x7f || (code >= 0x80 && code < 0xa0)) return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return `'${ch}'`;
}

/**
 * Hex text as users paste it from logs and tools: any case, whitespace anywhere between digits, one
 * leading "0x". The value is the digits alone (possibly none). Positions count characters from 1, whole
 * code points, as a person reading the text would.
 */
export function checkHexText(text: string): Checked<string> {
  let start = 0;
  while (start < text.length && /\s/.test(text[start]!)) start++;
  if (text[start] === '0' && (text[start + 1] === 'x' || text[start + 1] === 'X')) start += 2;
  let digits = '';
  let position = 0;
  for (const ch of text) {
    position++;
    if (position - 1 < start || /\s/.test(ch)) continue;
    if (!/^[0-9a-fA-F]$/.test(ch)) return fail('hexChar', { char: ch, shown: showCharacter(ch), position });
    digits += ch;
  }
  if (digits.length % 2 !== 0) return fail('hexOdd', { count: digits.length });
  return { ok: true, value: digits };
}

/** A CAN id written in hex ("7E0", "0x7e0", "18DA10F1"). */
export function checkCanId(text: unknown): Checked<number> {
  const raw = text === undefined || text === null ? '' : String(text);
  const s = raw.trim().replace(/^0x/i, '');
  if (!s) return fail('canIdRequired');
  if (!/^[0-9a-fA-F]{1,8}$/.test(s)) return fail('canId', { value: raw });
  const id = parseInt(s, 16);
  if (id > MAX_CAN_ID) return fail('canIdRange', { value: s.toUpperCase() });
  return { ok: true, value: id };
}

/**
 * The ids a functional request's answers come from: "7E8-7EF", "7E8, 7EA", or blank (an empty list:
 * the caller's default, the OBD-II range).
 */
export function checkResponderIds(text: unknown): Checked<number[]> {
  const s = text === undefined || text === null ? '' : String(text).trim();
  const ids: number[] = [];
  for (const part of s.split(/[\s,;]+/).filter((p) => p !== '')) {
    const range = /^([0-9a-fx]+)-([0-9a-fx]+)$/i.exec(part);
    if (!range) {
      const one = checkCanId(part);
      if (!one.ok) return one;
      ids.push(one.value);
      continue;
    }
    const from = checkCanId(range[1]);
    if (!from.ok) return from;
    const to = checkCanId(range[2]);
    if (!to.ok) return to;
    if (to.value < from.value || to.value - from.value >= MAX_RESPONDER_SPAN) return fail('responderRange', { range: part });
    for (let id = from.value; id <= to.value; id++) ids.push(id);
  }
  return { ok: true, value: ids };
}

function isIpv4(h: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  return !!m && m.slice(1).every((octet) => Number(octet) <= 255);
}

/**
 * Whether a host name stays on this machine: localhost, *.localhost, 127.0.0.0/8 or ::1. Plaintext gRPC
 * is allowed to these hosts only, unless the user says otherwise.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .replace(/^\[|\]$/g, '')
    .toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIpv4(h)) return h.startsWith('127.');
  return h === '::1' || h === '0:0:0:0:0:0:0:1';
}

/**
 * An address written in hex: a K-Line ECU address or a TP 2.0 logical address (one byte, 00 to FF),
 * or a DoIP logical address (two bytes, 0001 to FFFF: ISO 13400-2 reserves 0000).
 */
export function checkAddress(text: unknown, bytes: 1 | 2): Checked<number> {
  const raw = text === undefined || text === null ? '' : String(text);
  const s = raw.trim().replace(/^0x/i, '');
  const max = bytes === 1 ? 0xff : 0xffff;
  const min = bytes === 1 ? 0 : 1;
  const range = { min: bytes === 1 ? '00' : '0001', max: max.toString(16).toUpperCase() };
  if (!s) return fail('addressRequired', range);
  if (!/^[0-9a-fA-F]{1,8}$/.test(s)) return fail('address', { value: raw, ...range });
  const value = parseInt(s, 16);
  if (value < min || value > max) return fail('addressRange', { value: s.toUpperCase(), ...range });
  return { ok: true, value };
}

/** K-Line key bytes KB1 KB2 (ISO 14230-2), e.g. "EF 8F"; blank: not checked. */
export function checkKeyBytes(text: unknown): Checked<[number, number] | undefined> {
  const s = text === undefined || text === null ? '' : String(text).trim();
  if (!s) return { ok: true, value: undefined };
  const scanned = checkHexText(s);
  if (!scanned.ok || scanned.value.length !== 4) return fail('keyBytes', { value: s });
  return { ok: true, value: [parseInt(scanned.value.slice(0, 2), 16), parseInt(scanned.value.slice(2), 16)] };
}

/**
 * CAN frame filters: ids, or id/mask pairs, separated by commas or spaces ("0C9, 700/700, 18DAF100/1FFFFF00").
 * A frame passes when its id matches a filter's id in every bit of the mask; an id alone matches exactly.
 * Blank: every frame.
 */
export function checkFrameFilters(text: unknown): Checked<Array<{ id: number; mask: number }>> {
  const s = text === undefined || text === null ? '' : String(text).trim();
  const out: Array<{ id: number; mask: number }> = [];
  for (const part of s.split(/[\s,;]+/).filter((p) => p !== '')) {
    const [idText, maskText, extra] = part.split('/');
    if (extra !== undefined) return fail('frameFilter', { value: part });
    const id = checkCanId(idText);
    if (!id.ok) return fail('frameFilter', { value: part });
    let mask = id.value > 0x7ff ? MAX_CAN_ID : 0x7ff;
    if (maskText !== undefined) {
      const m = checkCanId(maskText);
      if (!m.ok) return fail('frameFilter', { value: part });
      mask = m.value;
    }
    out.push({ id: id.value, mask });
  }
  return { ok: true, value: out };
}

/**
 * What the ECU dialog shows of each transport: the bus name it defaults to (one per transport, so two
 * transports never share a bus by name), the dialog's row groups (`openobd-ecu-<row>`) and the node
 * settings it asks for. The transport modules (client/transports/table.ts) hold the same entries, so
 * a new transport adds its entry here and its module, and the dialog follows.
 */
export interface TransportFields {
  readonly busName: string;
  readonly rows: readonly string[];
  readonly fields: readonly string[];
}

export const TRANSPORT_FIELDS: { readonly [transport: string]: TransportFields } = {
  isotp: {
    busName: 'OBD-CAN',
    rows: ['isotp', 'can'],
    fields: ['pinPlus', 'pinMinus', 'bitRate', 'requestId', 'responseId', 'functional', 'responderIds', 'padding', 'keepAlive'],
  },
  tp20: { busName: 'TP20', rows: ['tp20', 'can'], fields: ['pinPlus', 'pinMinus', 'bitRate', 'logicalAddress'] },
  kline: { busName: 'K-LINE', rows: ['kline'], fields: ['klineAddress', 'klinePin', 'klineInit', 'klineBaud', 'keyBytes'] },
  doip: { busName: 'DOIP', rows: ['doip'], fields: ['doipOption', 'doipNetwork', 'gatewayId', 'testerId', 'doipEcuId'] },
};

/** The transports whose dialog asks for a node setting (for validators that apply only there). */
export function transportsWith(field: string): string[] {
  return Object.keys(TRANSPORT_FIELDS).filter((t) => TRANSPORT_FIELDS[t]!.fields.includes(field));
}
