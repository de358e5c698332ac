#!/usr/bin/env node
'use strict';
/**
 * Builds dist/: compiles the TypeScript (protocol, client library, simulator, Node-RED runtime, tests,
 * benchmark), then assembles the one node set Node-RED loads from the node folders (nodes/<order>-<type>/):
 *   dist/nodes/openobd.js                      the runtime entry (compiled; it finds the folders itself)
 *   dist/nodes/openobd.html                    input rules + shared editor parts (nodes/lib/editor/<name>.ts compiled,
 *                                              then nodes/lib/<name>.html; "editor" first) + every node's editor code
 *                                              (nodes/<order>-<type>/editor.ts compiled) and templates (<type>.html)
 * The editor code is TypeScript compiled for the browser (tsconfig.editor.json: plain scripts, no modules); a
 * template may include a shared dialog part, nodes/lib/editor/<part>.html, with <!-- openobd:<part> name="value" -->
 * (each {{name}} in the part is replaced by its value).
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

// 1. TypeScript: the runtime, then the editor code (into dist/.editor, inlined below and removed).
fs.rmSync(dist, { recursive: true, force: true });
const editorOut = path.join(dist, '.editor');
for (const project of ['tsconfig.json', 'tsconfig.editor.json']) {
  try {
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(root, project)], {
      stdio: 'inherit',
      cwd: root,
    });
  } catch {
    fail(`TypeScript compilation failed (${project})`);
  }
}

// 2. The node folders, found the way the runtime finds them.
const { nodeFolders, languages, SHARED_DIR } = require(path.join(nodesDist, 'lib', 'node-folders.js'));
const folders = nodeFolders(nodesSrc);
const langs = languages(nodesSrc);
for (const f of folders) {
  read(path.join(nodesSrc, f.dir, `${f.type}.ts`));
  if (!fs.existsSync(path.join(nodesDist, f.dir, `${f.type}.js`))) fail(`${f.dir}/${f.type}.ts did not compile to ${f.dir}/${f.type}.js`);
}

/** The compiled editor script of `source` (a .ts file under nodes/), as a <script> block; '' when there is none. */
function editorScript(source) {
  if (!fs.existsSync(source)) return '';
  const compiled = path.join(editorOut, path.relative(root, source)).replace(/\.ts$/, '.js');
  const js = read(compiled)
    .replace(/^\/\/# sourceMappingURL=.*$/m, '')
    .trim();
  if (/^\s*(import|export)\b|\brequire\(/m.test(js))
    fail(`${path.relative(root, source)} must be a plain script: no import, export or require`);
  return `<script type="text/javascript">\n${js}\n</script>\n`;
}

/** A template with its shared dialog parts filled in: <!-- openobd:<part> name="value" ... --> -> nodes/lib/editor/<part>.html. */
function withParts(html, file) {
  return html.replace(/<!-- openobd:([a-z-]+)((?:\s+[a-zA-Z]+="[^"]*")*)\s*-->/g, (_, part, attrs) => {
    const values = Object.fromEntries([...attrs.matchAll(/([a-zA-Z]+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    return read(path.join(nodesSrc, SHARED_DIR, 'editor', `${part}.html`))
      .trim()
      .replace(/\{\{(\w+)\}\}/g, (__, name) => {
        if (!(name in values)) fail(`${file}: the ${part} part needs ${name}="..."`);
        return values[name];
      });
  });
}

/** The shared editor parts of nodes/lib: editor (the helpers the others use) first, then the rest by name. */
function sharedEditorParts() {
  const names = new Set();
  for (const f of fs.readdirSync(path.join(nodesSrc, SHARED_DIR))) if (f.endsWith('.html')) names.add(f.slice(0, -5));
  for (const f of fs.readdirSync(path.join(nodesSrc, SHARED_DIR, 'editor')))
    if (f.endsWith('.ts') && !f.endsWith('.d.ts')) names.add(f.slice(0, -3));
  if (!names.has('editor')) fail('missing nodes/lib/editor/editor.ts');
  return ['editor', ...[...names].filter((n) => n !== 'editor').sort()].map((name) => {
    const html = path.join(nodesSrc, SHARED_DIR, `${name}.html`);
    const code = editorScript(path.join(nodesSrc, SHARED_DIR, 'editor', `${name}.ts`));
    return `<!-- shared editor code: ${name} -->\n${code}${fs.existsSync(html) ? withParts(read(html).trim(), name) + '\n' : ''}`;
  });
}

// 3. Editor: the input rules (client/input-rules.ts, compiled; they import only protocol/wire.ts, which imports
//    nothing) as window.OpenObdRules, the shared editor code, then every node's definition and template in palette order.
const compiledModule = (file) =>
  read(path.join(dist, file))
    .replace(/^\/\/# sourceMappingURL=.*$/m, '')
    .trim();
const rulesJs = compiledModule('client/input-rules.js');
const wireJs = compiledModule('protocol/wire.js');
const rulesRequires = [...rulesJs.matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1]);
if (rulesRequires.some((r) => r !== '../protocol/wire') || /\brequire\(/.test(wireJs))
  fail('client/input-rules.ts may import only protocol/wire.ts, and that nothing: they also run in the browser');
const editorParts = [
  `<!-- input rules, shared with the runtime (client/input-rules.ts, with protocol/wire.ts) -->\n<script type="text/javascript">\n(function (exports) {\n${rulesJs}\nfunction require() {\n    var wire = {};\n    (function (exports) {\n${wireJs}\n    })(wire);\n    return wire;\n}\n})(window.OpenObdRules = {});\n</script>\n`,
  ...sharedEditorParts(),
  ...folders.map((f) => {
    const file = path.join(f.dir, `${f.type}.html`);
    const code = path.join(nodesSrc, f.dir, 'editor.ts');
    read(code);
    return `<!-- ${f.type} -->\n${editorScript(code)}${withParts(read(path.join(nodesSrc, file)).trim(), file)}\n`;
  }),
];
fs.mkdirSync(nodesDist, { recursive: true });
fs.writeFileSync(path.join(nodesDist, 'openobd.html'), editorParts.join('\n'));
fs.rmSync(editorOut, { recursive: true, force: true });

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
