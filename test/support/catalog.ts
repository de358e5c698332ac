import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The package's message catalog as shipped (dist/nodes/locales/<lang>/openobd.json) and a translator
 * that fills it in the way Node-RED's i18next does (`__name__` substitutions, `_plural` for counts), so
 * tests read the words a user reads. node-red-node-test-helper's own RED._ returns keys unchanged.
 */
const DIST = path.resolve(__dirname, '..', '..', 'nodes', 'locales');

type Catalog = { [key: string]: string | Catalog };

const catalogs = new Map<string, Catalog>();

export function catalog(lang = 'en-US'): Catalog {
  let c = catalogs.get(lang);
  if (!c) {
    c = JSON.parse(fs.readFileSync(path.join(DIST, lang, 'openobd.json'), 'utf8')) as Catalog;
    catalogs.set(lang, c);
  }
  return c;
}

function lookup(key: string, lang: string): string | undefined {
  let node: string | Catalog | undefined = catalog(lang);
  for (const part of key.split('.')) {
    if (!node || typeof node === 'string') return undefined;
    node = node[part];
  }
  return typeof node === 'string' ? node : undefined;
}

/** RED._ with the package's catalog: the text, or the key itself when the catalog has no such text. */
export function translate(key: string, substitutions: Record<string, unknown> = {}, lang = 'en-US'): string {
  const plural = typeof substitutions.count === 'number' && substitutions.count !== 1 ? lookup(`${key}_plural`, lang) : undefined;
  const text = plural ?? lookup(key, lang);
  if (text === undefined) return key;
  return text.replace(/__(\w+)__/g, (all, name: string) => (name in substitutions ? String(substitutions[name]) : all));
}

/** What the editor shows for a status text: a catalog key translated, any other text as it is. */
export function shown(text: string | undefined, lang = 'en-US'): string | undefined {
  if (text === undefined) return undefined;
  return /^[a-zA-Z]/.test(text) && lookup(text, lang) !== undefined ? translate(text, {}, lang) : text;
}
