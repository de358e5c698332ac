/** What a diagnostic trouble code means, from the SAE J2012 / ISO 15031-6 table in dtc-table.ts. */
import { DTC_DESCRIPTIONS, DTC_GROUPS, DTC_OWNERS, DTC_SYSTEMS, FAILURE_TYPES, MANUFACTURER_RANGES } from './dtc-table';

export type DtcSystem = (typeof DTC_SYSTEMS)[keyof typeof DTC_SYSTEMS];

export interface DtcMeaning {
  /** The generic description, the subsystem's for a generic code without one, or "manufacturer specific". */
  description: string;
  system: DtcSystem;
  /** Generic codes mean the same in every car; manufacturer-specific ones what the car's maker documents. */
  definedBy: 'generic' | 'manufacturer';
  /** The failure type byte of a 3-byte UDS DTC and its meaning (ISO 14229-1 Annex D). */
  failureType?: number;
  failureTypeDescription?: string;
}

const CODE = /^([PCBU])([0-3])([0-9A-F]{3})(?:-([0-9A-F]{2}))?$/i;

function manufacturerRange(code: string): boolean {
  return MANUFACTURER_RANGES.some(([first, last]) => code >= first && code <= last);
}

/** The meaning of a failure type byte, or undefined for a value the standard does not list. */
export function failureTypeMeaning(ftb: number): string | undefined {
  return FAILURE_TYPES[ftb];
}

/**
 * The meaning of a code in its J2012 text form: 'P0301' (OBD-II, KWP2000) or 'P0301-13' (UDS, with the
 * failure type byte). Undefined for text that is not such a code.
 */
export function dtcMeaning(text: string): DtcMeaning | undefined {
  const m = CODE.exec(text.trim());
  if (!m) return undefined;
  const letter = m[1]!.toUpperCase() as keyof typeof DTC_SYSTEMS;
  const code = `${letter}${m[2]}${m[3]!.toUpperCase()}`;
  const system = DTC_SYSTEMS[letter];
  const definedBy = DTC_OWNERS[code.slice(0, 2)] === 'manufacturer' || manufacturerRange(code) ? 'manufacturer' : 'generic';
  const description =
    definedBy === 'manufacturer'
      ? `Manufacturer specific ${system} code: see the car maker's documentation`
      : (DTC_DESCRIPTIONS[code] ?? `${DTC_GROUPS[code.slice(0, 3)] ?? `Generic ${system} code`} (no generic description of this code)`);
  const out: DtcMeaning = { description, system, definedBy };
  if (m[4] !== undefined) {
    out.failureType = parseInt(m[4], 16);
    out.failureTypeDescription = failureTypeMeaning(out.failureType) ?? 'manufacturer or reserved failure type';
  }
  return out;
}

/** "P0301 Cylinder 1 misfire detected" (with the failure type for UDS codes): one line for a person. */
export function dtcLine(text: string): string {
  const meaning = dtcMeaning(text);
  if (!meaning) return text;
  const ftb = meaning.failureType !== undefined && meaning.failureType !== 0 ? ` (${meaning.failureTypeDescription})` : '';
  return `${text} ${meaning.description}${ftb}`;
}
