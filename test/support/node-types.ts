import * as fs from 'node:fs';
import * as path from 'node:path';
import { languages, nodeFolders } from '../../nodes/lib/node-folders';

/**
 * The node types and languages of the package, found the way the build and the runtime find them (one
 * folder per node type under nodes/), so no test keeps a list of its own.
 */
const ROOT = path.resolve(__dirname, '..', '..', '..');
const NODES = path.join(ROOT, 'nodes');

export const NODE_FOLDERS = nodeFolders(NODES);
export const NODE_TYPES = NODE_FOLDERS.map((f) => f.type);
/** Config nodes are those whose editor definition (nodes/<order>-<type>/editor.ts) says `category: 'config'`. */
export const CONFIG_TYPES = NODE_FOLDERS.filter((f) =>
  /category:\s*'config'/.test(fs.readFileSync(path.join(NODES, f.dir, 'editor.ts'), 'utf8')),
).map((f) => f.type);
export const FLOW_TYPES = NODE_TYPES.filter((t) => !CONFIG_TYPES.includes(t));
export const LANGS = languages(NODES);
