/** Diagnostic trouble codes: SAE J2012 text for 2-byte OBD and 3-byte UDS DTCs, and the UDS status byte. */
import { hexNumber } from '../../protocol';
import { OpenObdError } from '../errors';

const DTC_LETTERS = ['P', 'C', 'B', 'U'] as const; // powertrain, chassis, body, network

function checkInteger(value: number, max: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    const range = `0 to 0x${hexNumber(max, 1)}`;
    throw new OpenObdError('BAD_REQUEST', `${what} must be a whole number from ${range}; got ${String(value)}`);
  }
}

/** The J2012 text of the two high bytes: letter from bits 15-14, then bits 13-12 and three hex digits. */
function twoByteDtc(value: number): string {
  const letter = DTC_LETTERS[value >> 14]!;
  return `${letter}${(value >> 12) & 0x3}${hexNumber(value & 0xfff, 3)}`;
}

/** 3-byte UDS DTC (DTCFormatIdentifier 01) → e.g. 'P0123-45'; the suffix is the failure type byte. */
export function udsDtcToString(code: number): string {
  checkInteger(code, 0xffffff, 'A UDS DTC');
  return `${twoByteDtc(code >> 8)}-${hexNumber(code & 0xff, 2)}`;
}

/** 2-byte OBD DTC (services 03/07/0A) → e.g. 'P0104'. */
export function obdDtcToString(hi: number, lo: number): string {
  checkInteger(hi, 0xff, 'The DTC high byte');
  checkInteger(lo, 0xff, 'The DTC low byte');
  return twoByteDtc((hi << 8) | lo);
}

export interface DtcStatus {
  testFailed: boolean;
  testFailedThisOperationCycle: boolean;
  pendingDTC: boolean;
  confirmedDTC: boolean;
  testNotCompletedSinceLastClear: boolean;
  testFailedSinceLastClear: boolean;
  testNotCompletedThisOperationCycle: boolean;
  /** The MIL (check-engine lamp) or another warning indicator is requested. */
  warningIndicatorRequested: boolean;
}

export function decodeDtcStatus(status: number): DtcStatus {
  checkInteger(status, 0xff, 'A DTC status');
  const bit = (n: number): boolean => (status & (1 << n)) !== 0;
  return {
    testFailed: bit(0),
    testFailedThisOperationCycle: bit(1),
    pendingDTC: bit(2),
    confirmedDTC: bit(3),
    testNotCompletedSinceLastClear: bit(4),
    testFailedSinceLastClear: bit(5),
    testNotCompletedThisOperationCycle: bit(6),
    warningIndicatorRequested: bit(7),
  };
}
