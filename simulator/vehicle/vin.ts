/** VIN rules of ISO 3779 and 49 CFR 565 (the North American check digit). */

const TRANSLITERATION = '0123456789.ABCDEFGH..JKLMN.P.R..STUVWXYZ';
const WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];

/** 17 characters from 0-9 and A-Z without I, O, Q. */
export function isWellFormedVin(vin: string): boolean {
  return /^[A-HJ-NPR-Z0-9]{17}$/.test(vin);
}

function charValue(ch: string): number {
  if (ch >= '0' && ch <= '9') return Number(ch);
  // Letters: A=1…H=8, J=1…N=5, P=7, R=9, S=2…Z=9 — the table index mod 10 gives exactly that.
  return TRANSLITERATION.indexOf(ch) % 10;
}

/** The check digit (position 9) a well-formed VIN should carry: "0"–"9" or "X". */
export function vinCheckDigit(vin: string): string {
  if (!isWellFormedVin(vin)) throw new Error(`not a well-formed VIN: "${vin}"`);
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += charValue(vin[i]) * WEIGHTS[i];
  const rest = sum % 11;
  return rest === 10 ? 'X' : String(rest);
}

export function hasValidCheckDigit(vin: string): boolean {
  return isWellFormedVin(vin) && vinCheckDigit(vin) === vin[8];
}
