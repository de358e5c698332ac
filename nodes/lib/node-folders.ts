import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * A node type is one folder under nodes/: `<order>-<type>/` holding `<type>.ts` (the runtime, exporting
 * `register(RED)`), `<type>.html` (the editor definition and template) and, for every language,
 * `locales/<lang>/<type>.json` (catalog entries) and `locales/<lang>/<type>.html` (help). The number
 * orders the palette, as the numbered files of Node-RED's core nodes do (`20-inject.js`).
 *
 * The runtime entry and the build both list the folders with this function, so there is no list of
 * node types to keep in step anywhere.
 */
export interface NodeFolder {
  /** Folder name, e.g. `30-openobd-request`. */
  dir: string;
  /** Node type, e.g. `openobd-request`. */
  type: string;
  order: number;
}

const FOLDER = /^(\d+)-([a-z][a-z0-9-]*)$/;

export function nodeFolders(nodesDir: string): NodeFolder[] {
  const out: NodeFolder[] = [];
  for (const entry of fs.readdirSync(nodesDir, { withFileTypes: true })) {
    const m = entry.isDirectory() ? FOLDER.exec(entry.name) : null;
    if (m) out.push({ dir: entry.name, type: m[2]!, order: Number(m[1]) });
  }
  return out.sort((a, b) => a.order - b.order || a.type.localeCompare(b.type));
}

/** Folder of the shared runtime, editor code and catalog entries. */
export const SHARED_DIR = 'lib';

/** The languages the package speaks: one folder each under nodes/lib/locales. */
export function languages(nodesDir: string): string[] {
  return fs
    .readdirSync(path.join(nodesDir, SHARED_DIR, 'locales'), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}
