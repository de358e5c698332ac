#!/usr/bin/env node
'use strict';
/**
 * Builds dist/: compiles the TypeScript (protocol, client library, simulator, Node-RED runtime, tests,
 * benchmark), then assembles the one node set Node-RED loads from the node folders (nodes/<order>-<type>/):
 *   dist/nodes/openobd.js                      the runtime entry (compiled; it finds the folders itself)
 *   dist/nodes/openobd.html                    input rules + shared editor code (nodes/lib/*.html, editor.html
 *                                              first) + every node's editor file
 *   dist/nodes/locales/<lang>/openobd.json     shared catalog entries (nodes/lib/locales/<lang>/*.json) merged
 *                                              with every node's entries
 *   dist/nodes/locales/<lang>/openobd.html     every node's help
 *   dist/nodes/icons/*.svg
 * A node folder that lacks a part (for any language) fails the build with the file it expects.
 */
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');
const nodesSrc = path.join(root, 'nodes');
const nodesDist = path.join(dist, 'nodes');

function fail(message) {
  process.stderr.write(`build: ${message}\n`);
  process.exit(1);
}

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

function read(file) {
  if (!fs.existsSync(file)) fail(`missing ${path.relative(root, file)}`);
  return fs.readFileSync(file, 'utf8');
}

/** Deep-merges catalog `from` into `into`; the same key from two files is a mistake, not an override. */
function mergeCatalog(into, from, source, seen, prefix = '') {
  for (const [key, value] of Object.entries(from)) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      if (into[key] === undefined) into[key] = {};
      else if (typeof into[key] !== 'object') fail(`catalog key ${name} is a text in ${seen.get(name)} and a group in ${source}`);
      mergeCatalog(into[key], value, source, seen, name);
    } else {
      if (seen.has(name)) fail(`catalog key ${name} is defined in both ${seen.get(name)} and ${source}`);
      seen.set(name, source);
      into[key] = value;
    }
  }
}

// 1. TypeScript
fs.rmSync(dist, { recursive: true, force: true });
try {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.json')], {
    stdio: 'inherit',
    cwd: root,
  });
} catch {
  fail('TypeScript compilation failed');
}

// 2. The node folders, found the way the runtime finds them.
const { nodeFolders, languages, SHARED_DIR } = require(path.join(nodesDist, 'lib', 'node-folders.js'));
const folders = nodeFolders(nodesSrc);
const langs = languages(nodesSrc);
for (const f of folders) {
  read(path.join(nodesSrc, f.dir, `${f.type}.ts`));
  if (!fs.existsSync(path.join(nodesDist, f.dir, `${f.type}.js`))) fail(`${f.dir}/${f.type}.ts did not compile to ${f.dir}/${f.type}.js`);
}

/** The shared editor files of nodes/lib: editor.html (the helpers the others use) first, then the rest by name. */
function sharedEditorFiles() {
  const files = fs.readdirSync(path.join(nodesSrc, SHARED_DIR)).filter((f) => f.endsWith('.html'));
  if (!files.includes('editor.html')) fail('missing nodes/lib/editor.html');
  return ['editor.html', ...files.filter((f) => f !== 'editor.html').sort()];
}

// 3. Editor: the input rules (client/input-rules.ts, compiled; they import nothing) as window.OpenObdRules,
//    the shared editor code, then every node's definition and template in palette order.
const rulesJs = read(path.join(dist, 'client', 'input-rules.js')).replace(/^\/\/# sourceMappingURL=.*$/m, '');
if (/\brequire\(/.test(rulesJs)) fail('client/input-rules.ts must not import anything: it also runs in the browser');
const editorParts = [
  `<!-- input rules, shared with the runtime (client/input-rules.ts) -->\n<script type="text/javascript">\n(function (exports) {\n${rulesJs.trim()}\n})(window.OpenObdRules = {});\n</script>\n`,
  ...sharedEditorFiles().map((f) => `<!-- shared editor code: ${f} -->\n${read(path.join(nodesSrc, SHARED_DIR, f)).trim()}\n`),
  ...folders.map((f) => `<!-- ${f.type} -->\n${read(path.join(nodesSrc, f.dir, `${f.type}.html`)).trim()}\n`),
];
fs.mkdirSync(nodesDist, { recursive: true });
fs.writeFileSync(path.join(nodesDist, 'openobd.html'), editorParts.join('\n'));

// 4. Catalogs and help, per language.
for (const lang of langs) {
  const catalog = {};
  const seen = new Map();
  const sharedDir = path.join(nodesSrc, SHARED_DIR, 'locales', lang);
  for (const f of fs
    .readdirSync(sharedDir)
    .filter((n) => n.endsWith('.json'))
    .sort()) {
    mergeCatalog(catalog, JSON.parse(read(path.join(sharedDir, f))), path.relative(root, path.join(sharedDir, f)), seen);
  }
  const help = [];
  for (const f of folders) {
    const file = path.join(nodesSrc, f.dir, 'locales', lang, `${f.type}.json`);
    mergeCatalog(catalog, JSON.parse(read(file)), path.relative(root, file), seen);
    help.push(read(path.join(nodesSrc, f.dir, 'locales', lang, `${f.type}.html`)).trim());
  }
  const out = path.join(nodesDist, 'locales', lang);
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'openobd.json'), JSON.stringify(catalog, null, 4) + '\n');
  fs.writeFileSync(path.join(out, 'openobd.html'), help.join('\n\n') + '\n');
}

const icons = copyDir(path.join(root, 'icons'), path.join(nodesDist, 'icons'), (name) => name.endsWith('.svg') || name.endsWith('.png'));
process.stdout.write(
  `build: compiled TypeScript; assembled ${folders.length} node types (${folders.map((f) => f.type).join(', ')}) in ${langs.length} languages; copied ${icons} icons\n`,
);
