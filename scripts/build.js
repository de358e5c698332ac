#!/usr/bin/env node
'use strict';
/**
 * Builds dist/: compiles the TypeScript (client library, simulator, Node-RED runtime files, tests) and
 * lays the editor files next to the node .js files, where Node-RED looks for them:
 *   dist/nodes/<type>.js + <type>.html, dist/nodes/locales/<lang>/<type>.json|.html, dist/nodes/icons/*.svg
 */
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');

function copyDir(from, to, filter = () => true) {
  if (!fs.existsSync(from)) return 0;
  let n = 0;
  fs.mkdirSync(to, { recursive: true });
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, entry.name);
    const dst = path.join(to, entry.name);
    if (entry.isDirectory()) n += copyDir(src, dst, filter);
    else if (filter(entry.name)) {
      fs.copyFileSync(src, dst);
      n += 1;
    }
  }
  return n;
}

fs.rmSync(dist, { recursive: true, force: true });
const tsc = require.resolve('typescript/bin/tsc');
try {
  execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.json')], { stdio: 'inherit', cwd: root });
} catch {
  process.exitCode = 1;
  process.stderr.write('build: TypeScript compilation failed\n');
  process.exit(1);
}

const nodesSrc = path.join(root, 'nodes');
const nodesDist = path.join(dist, 'nodes');

// Every node keeps its editor part (definition, template, help) in nodes/<type>/<type>.html; Node-RED
// wants one .html beside the one .js of the node set, so they are joined in palette order.
const NODE_ORDER = [
  'openobd-account',
  'openobd-ecu',
  'openobd-start-session',
  'openobd-request',
  'openobd-finish',
  'openobd-interrupt',
  'openobd-session-info',
];
const parts = NODE_ORDER.map((type) => {
  const file = path.join(nodesSrc, type, `${type}.html`);
  if (!fs.existsSync(file)) throw new Error(`build: missing editor file ${path.relative(root, file)}`);
  return `<!-- ${type} -->\n${fs.readFileSync(file, 'utf8').trim()}\n`;
});
const shared = path.join(nodesSrc, 'editor-shared.html');
if (fs.existsSync(shared)) parts.unshift(`<!-- shared editor code -->\n${fs.readFileSync(shared, 'utf8').trim()}\n`);
fs.mkdirSync(nodesDist, { recursive: true });
fs.writeFileSync(path.join(nodesDist, 'openobd.html'), parts.join('\n'));

const locales = copyDir(path.join(nodesSrc, 'locales'), path.join(nodesDist, 'locales'));
const icons = copyDir(path.join(root, 'icons'), path.join(nodesDist, 'icons'), (name) => name.endsWith('.svg') || name.endsWith('.png'));
process.stdout.write(
  `build: compiled TypeScript, joined ${NODE_ORDER.length} editor files, copied ${locales} locale files and ${icons} icons into dist/nodes\n`,
);
