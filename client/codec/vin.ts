/** Vehicle identification numbers (ISO 3779 / 49 CFR 565): check digit, maker, model year. */

const VIN_LENGTH = 17;
const CHECK_DIGIT_INDEX = 8;
const MODEL_YEAR_INDEX = 9;
const WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2] as const;

/** Letters skip I, O and Q (too easily read as 1 and 0), so the values restart at J and jump at S. */
const LETTER_VALUES: Readonly<Record<string, number>> = {
  A: 1,
  B: 2,
  C: 3,
  D: 4,
  E: 5,
  F: 6,
  G: 7,
  H: 8,
  J: 1,
  K: 2,
  L: 3,
  M: 4,
  N: 5,
  P: 7,
  R: 9,
  S: 2,
  T: 3,
  U: 4,
  V: 5,
  W: 6,
  X: 7,
  Y: 8,
  Z: 9,
};

/** Model-year codes in order from 1980; the cycle repeats every 30 years (A = 1980, 2010, 2040). */
const MODEL_YEAR_CODES = 'ABCDEFGHJKLMNPRSTVWXY123456789';
const MODEL_YEAR_BASE = 1980;
const MODEL_YEAR_CYCLE = MODEL_YEAR_CODES.length;

/** World manufacturer identifiers (VIN positions 1-3) of makes commonly met in workshops. */
export const WMI_MANUFACTURERS: Readonly<Record<string, string>> = {
  WVW: 'Volkswagen',
  WVG: 'Volkswagen',
  WV1: 'Volkswagen Commercial Vehicles',
  WV2: 'Volkswagen Commercial Vehicles',
  '1VW': 'Volkswagen',
  '3VW': 'Volkswagen',
  VWV: 'Volkswagen',
  LFV: 'FAW-Volkswagen',
  WAU: 'Audi',
  WUA: 'Audi Sport',
  TRU: 'Audi',
  TMB: 'Škoda',
  VSS: 'SEAT',
  WP0: 'Porsche',
  WP1: 'Porsche',
  WBA: 'BMW',
  WBS: 'BMW M',
  WBY: 'BMW i',
  WMW: 'MINI',
  WDB: 'Mercedes-Benz',
  WDD: 'Mercedes-Benz',
  WDC: 'Mercedes-Benz',
  W1K: 'Mercedes-Benz',
  W1N: 'Mercedes-Benz',
  WME: 'smart',
  W0L: 'Opel',
  W0V: 'Opel',
  WF0: 'Ford',
  VF1: 'Renault',
  UU1: 'Dacia',
  VF3: 'Peugeot',
  VR3: 'Peugeot',
  VF7: 'Citroën',
  ZFA: 'Fiat',
  ZAR: 'Alfa Romeo',
  ZFF: 'Ferrari',
  ZHW: 'Lamborghini',
  SAL: 'Land Rover',
  SAJ: 'Jaguar',
  SCC: 'Lotus',
  YV1: 'Volvo',
  YS3: 'Saab',
  '1G1': 'Chevrolet',
  '1GC': 'Chevrolet',
  '1G4': 'Buick',
  '1FA': 'Ford',
  '1FM': 'Ford',
  '1FT': 'Ford',
  '1M8': 'Motor Coach Industries',
  '5YJ': 'Tesla',
  JTD: 'Toyota',
  '2T1': 'Toyota',
  SB1: 'Toyota',
  VNK: 'Toyota',
  JTH: 'Lexus',
  JHM: 'Honda',
  JN1: 'Nissan',
  SJN: 'Nissan',
  JMZ: 'Mazda',
  KMH: 'Hyundai',
  TMA: 'Hyundai',
  KNA: 'Kia',
};

export interface VinCheckDigit {
  /** Computed check digit; undefined when the VIN is not well formed. */
  expected?: string;
  /** The character at position 9 ('' if the VIN is shorter). */
  actual: string;
  valid: boolean;
}

export interface VinInfo {
  vin: string;
  wellFormed: boolean;
  wmi: string;
  manufacturer?: string;
  /** From position 10; the code repeats every 30 years, see {@link modelYearFromCode}. */
  modelYear?: number;
  checkDigit: VinCheckDigit;
}

function characterValue(ch: string): number | undefined {
  if (ch >= '0' && ch <= '9') return ch.charCodeAt(0) - 0x30;
  return LETTER_VALUES[ch];
}

/**
 * The weighted sum behind the check digit, or undefined when a character is not allowed. Position 9 has
 * weight 0, so any placeholder there (e.g. '?') is accepted: the digit can be computed before it is known.
 */
export function vinWeightedSum(vin: string): number | undefined {
  if (vin.length !== VIN_LENGTH) return undefined;
  let sum = 0;
  for (let i = 0; i < VIN_LENGTH; i++) {
    if (i === CHECK_DIGIT_INDEX) continue;
    const value = characterValue(vin[i]!);
    if (value === undefined) return undefined;
    sum += value * WEIGHTS[i]!;
  }
  return sum;
}

/** '0'-'9' or 'X' (remainder 10), or undefined when the VIN is not 17 valid characters. */
export function vinCheckDigit(vin: string): string | undefined {
  const sum = vinWeightedSum(vin);
  if (sum === undefined) return undefined;
  const remainder = sum % 11;
  return remainder === 10 ? 'X' : String(remainder);
}

/**
 * Model year for a position-10 code. The same code stands for years 30 apart, so the latest candidate
 * not after `referenceYear` is chosen. Caveat: a next-year model sold before New Year (a 2026 car in
 * autumn 2025) is then dated 30 years back; pass a later reference date when that matters.
 */
export function modelYearFromCode(code: string, referenceYear: number): number | undefined {
  if (code.length !== 1) return undefined;
  const index = MODEL_YEAR_CODES.indexOf(code);
  if (index < 0) return undefined;
  const first = MODEL_YEAR_BASE + index;
  const cycles = Math.floor((referenceYear - first) / MODEL_YEAR_CYCLE);
  return first + Math.max(0, cycles) * MODEL_YEAR_CYCLE;
}

function isWellFormed(vin: string): boolean {
  return /^[A-HJ-NPR-Z0-9]{17}$/.test(vin);
}

/**
 * Everything a VIN tells without a database. A wrong check digit does not reject it: the digit is only
 * mandatory in North America and many European VINs fail it.
 */
export function decodeVin(vin: string, now: Date = new Date()): VinInfo {
  // ECUs pad identification strings with NULs or spaces; VINs are upper case by definition.
  const normalized = vin.replace(/^[\s\0]+|[\s\0]+$/g, '').toUpperCase();
  const wellFormed = isWellFormed(normalized);
  const wmi = normalized.slice(0, 3);
  const expected = wellFormed ? vinCheckDigit(normalized) : undefined;
  const actual = normalized[CHECK_DIGIT_INDEX] ?? '';
  const checkDigit: VinCheckDigit = expected === undefined ? { actual, valid: false } : { expected, actual, valid: expected === actual };
  const info: VinInfo = { vin: normalized, wellFormed, wmi, checkDigit };
  const manufacturer = WMI_MANUFACTURERS[wmi];
  if (manufacturer !== undefined) info.manufacturer = manufacturer;
  if (wellFormed) {
    const modelYear = modelYearFromCode(normalized[MODEL_YEAR_INDEX]!, now.getFullYear());
    if (modelYear !== undefined) info.modelYear = modelYear;
  }
  return info;
}
