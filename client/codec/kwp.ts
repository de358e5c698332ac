/**
 * KWP2000 (ISO 14230-3) answers, decoded for a flow author as plain JSON: identification (0x1A),
 * DTCs by status (0x18), local identifiers (0x21), sessions (0x10) and clearing (0x14). The envelope is
 * UDS's; the parameters are KWP2000's.
 */
import { hexByte, hexNumber, toHex } from '../../protocol';
import { DID_NAMES, type DecodedResponse } from './decoded';
import { obdDtcToString } from './dtc';
import { dtcMeaning, type DtcMeaning } from './dtc-meaning';

/**
 * readEcuIdentification options 0x87–0x99 name the same items as the UDS identifiers F187–F199 of
 * ISO 14229-1, which took over KWP2000's numbering; 0x9A–0x9F belong to the vehicle manufacturer (VW's 9B
 * carries part number, software version and component text).
 */
export function kwpIdentificationName(option: number): string | undefined {
  if (option >= 0x87 && option <= 0x99) return DID_NAMES[0xf100 | option];
  if (option >= 0x9a && option <= 0x9f) return 'vehicleManufacturerSpecific';
  return undefined;
}

const KWP_SESSIONS: Readonly<Record<number, string>> = { 0x81: 'standardSession', 0x85: 'programmingSession' };

/** Storage state of a KWP2000 statusOfDTC (bits 6–5), as KWP2000 implementations document it. */
const STORAGE_STATES = ['noDtcDetected', 'notPresentAtTimeOfRequest', 'maturingIntermittent', 'presentAtTimeOfRequest'] as const;

function printable(data: Uint8Array): string | undefined {
  let end = data.length;
  while (end > 0 && (data[end - 1] === 0x00 || data[end - 1] === 0x20 || data[end - 1] === 0xff)) end--;
  if (end === 0) return undefined;
  for (let i = 0; i < end; i++) if (data[i]! < 0x20 || data[i]! > 0x7e) return undefined;
  return Buffer.from(data.subarray(0, end)).toString('latin1');
}

export interface KwpDtc extends Partial<DtcMeaning> {
  /** The two DTC bytes in the ISO 15031-6 form (P0301, C1234...). */
  code: string;
  hex: string;
  status: number;
  warningLamp: boolean;
  storageState: (typeof STORAGE_STATES)[number];
}

/** `58 n [DTC(2) status]…` */
export function decodeKwpDtcs(response: Uint8Array): { count: number; dtcs: KwpDtc[]; undecodedHex?: string } {
  const count = response[1] ?? 0;
  const dtcs: KwpDtc[] = [];
  let at = 2;
  for (; at + 3 <= response.length; at += 3) {
    const code = (response[at]! << 8) | response[at + 1]!;
    const status = response[at + 2]!;
    const text = obdDtcToString(response[at]!, response[at + 1]!);
    dtcs.push({
      code: text,
      ...dtcMeaning(text),
      hex: hexNumber(code, 4),
      status,
      warningLamp: (status & 0x80) !== 0,
      storageState: STORAGE_STATES[(status >> 5) & 0x03]!,
    });
  }
  return at === response.length ? { count, dtcs } : { count, dtcs, undecodedHex: toHex(response.subarray(at)) };
}

/** The meaning of a positive KWP2000 answer, or undefined for what this module does not know. */
export function decodeKwpPositive(request: Uint8Array, response: Buffer): DecodedResponse | undefined {
  switch (request[0]) {
    case 0x10: {
      const session = response[1];
      if (session === undefined) return undefined;
      return { session, sessionName: KWP_SESSIONS[session] ?? 'vehicleManufacturerSpecific' };
    }
    case 0x1a: {
      const option = response[1];
      if (option === undefined) return undefined;
      const data = response.subarray(2);
      const out: DecodedResponse = { identificationOption: hexByte(option), hex: toHex(data) };
      const name = kwpIdentificationName(option);
      if (name) out.name = name;
      const text = printable(data);
      if (text !== undefined) out.text = text;
      return out;
    }
    case 0x18:
      return { ...decodeKwpDtcs(response) };
    case 0x21: {
      const lid = response[1];
      if (lid === undefined) return undefined;
      const data = response.subarray(2);
      const out: DecodedResponse = { localIdentifier: hexByte(lid), hex: toHex(data) };
      const text = printable(data);
      if (text !== undefined) out.text = text;
      return out;
    }
    case 0x14:
      return response.length >= 3 ? { cleared: true, group: hexNumber(response.readUInt16BE(1), 4) } : { cleared: true };
    default:
      return undefined;
  }
}
