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
const html = copyDir(nodesSrc, nodesDist, (name) => name.endsWith('.html') || name.endsWith('.json'));
const icons = copyDir(path.join(root, 'icons'), path.join(nodesDist, 'icons'), (name) => name.endsWith('.svg') || name.endsWith('.png'));
process.stdout.write(`build: compiled TypeScript, copied ${html} editor/locale files and ${icons} icons into dist/nodes\n`);
