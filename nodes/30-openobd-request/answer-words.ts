import type { Translate } from '../lib/status';

/** Longest status text: Node-RED draws it under the node, where a long one runs into the next. */
const MAX = 40;

type Decoded = Record<string, unknown>;

/** "camelCaseName" → "camel case name": the codec's names read as words. */
export function words(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
}

function cut(text: string): string {
  return text.length <= MAX ? text : `${text.slice(0, MAX - 1)}…`;
}

function number(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Math.round(value * 10) / 10);
}

/** The fault codes of a 59, 58 or 43 answer: "2 DTCs: P0301, U0100" (codes without the failure type byte). */
function dtcWords(list: unknown[], t: Translate): string {
  if (list.length === 0) return t('openobd.answer.noDtcs');
  const codes = list.map((d) => (typeof d === 'string' ? d : String((d as { code?: unknown }).code ?? '')).replace(/-[0-9A-F]{2}$/, ''));
  return `${t('openobd.answer.dtcs', { count: list.length })}: ${codes.join(', ')}`;
}

/**
 * What a decoded answer means, in a few words for the node's status ("VIN WVWZZZAU6KW204711 · Volkswagen
 * 2019", "2 DTCs: P0301, U0100", "776 rpm · 0 km/h · 22 °C"); undefined when nothing decodes to words, so
 * the caller shows the hex.
 */
export function answerWords(decoded: Decoded | undefined, t: Translate): string | undefined {
  if (!decoded) return undefined;
  if (typeof decoded.vin === 'string') {
    const car = [decoded.manufacturer, decoded.modelYear].filter((x) => x !== undefined && x !== null).join(' ');
    return cut(`VIN ${decoded.vin}${car ? ` · ${car}` : ''}`);
  }
  if (Array.isArray(decoded.dtcs)) return cut(dtcWords(decoded.dtcs, t));
  const readings = decoded.readings as Record<string, { value: unknown; unit?: string }> | undefined;
  if (readings && typeof readings === 'object') {
    const parts = Object.values(readings)
      .filter((r) => typeof r?.value === 'number')
      .map((r) => `${number(r.value as number)}${r.unit ? ` ${r.unit}` : ''}`);
    if (parts.length) return cut(parts.join(' · '));
  }
  if (decoded.cleared === true) return t('openobd.answer.cleared');
  if (typeof decoded.text === 'string' && decoded.text) return cut(`${words(String(decoded.name ?? decoded.did ?? ''))}: ${decoded.text}`);
  for (const key of ['sessionName', 'resetTypeName', 'controlTypeName', 'dtcSetting'] as const)
    if (typeof decoded[key] === 'string') return cut(words(decoded[key]));
  return undefined;
}
