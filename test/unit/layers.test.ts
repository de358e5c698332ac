import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

/*
 * The layers only point down: protocol/ (wire interface) ← client/ (Node-RED-free library) and
 * simulator/ (a server) ← nodes/lib (shared runtime) ← nodes/<order>-<type>/ (one folder per node). This
 * reads every import of the sources and fails on one that points up or sideways.
 */

const ROOT = path.resolve(__dirname, '..', '..', '..');

interface Import {
  from: string;
  to: string;
}

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sources(rel));
    else if (entry.name.endsWith('.ts')) out.push(rel);
  }
  return out;
}

/** Where a relative specifier leads, as a repository path of a .ts file (a folder means its index.ts). */
function resolve(fromFile: string, spec: string): string {
  const base = path.normalize(path.join(path.dirname(fromFile), spec));
  for (const candidate of [`${base}.ts`, path.join(base, 'index.ts'), base])
    if (fs.existsSync(path.join(ROOT, candidate))) return candidate;
  return base;
}

function importsOf(file: string): Import[] {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  const out: Import[] = [];
  const patterns = [/\bfrom\s+'([^']+)'/g, /\bimport\(\s*'([^']+)'\s*\)/g, /\brequire\(\s*'([^']+)'\s*\)/g, /^import\s+'([^']+)'/gm];
  for (const re of patterns) {
    for (const m of text.matchAll(re)) {
      const spec = m[1]!;
      out.push({ from: file, to: spec.startsWith('.') ? resolve(file, spec) : `package:${spec}` });
    }
  }
  return out;
}

const under = (p: string, dir: string) => p === dir || p.startsWith(dir + path.sep);
const nodeFolderOf = (p: string) => /^nodes\/(\d+-[^/]+)\//.exec(p)?.[1];

/** Why `imp` breaks the layering, or undefined. */
function violation(imp: Import): string | undefined {
  const { from, to } = imp;
  if (to.startsWith('package:')) {
    if (from === path.join('client', 'input-rules.ts')) return 'client/input-rules.ts also runs in the browser: it imports nothing';
    const pkg = to.slice('package:'.length);
    if (pkg === 'node-red' && !under(from, 'nodes')) return 'only nodes/ may know Node-RED';
    return undefined;
  }
  if (under(from, 'protocol')) return under(to, 'protocol') ? undefined : 'protocol/ imports nothing of the package';
  if (under(from, 'client')) return under(to, 'protocol') || under(to, 'client') ? undefined : 'client/ imports only protocol/';
  if (under(from, 'simulator')) return under(to, 'protocol') || under(to, 'simulator') ? undefined : 'simulator/ imports only protocol/';
  if (!under(from, 'nodes')) return undefined;
  // The editor code runs in the browser: the only part of the client it sees is the input rules, which the build
  // ships to the browser as window.OpenObdRules (its types are named in nodes/lib/editor/red.d.ts).
  if (under(from, path.join('nodes', 'lib', 'editor')) || /^nodes\/\d+-[^/]+\/editor\.ts$/.test(from))
    return to === path.join('client', 'input-rules.ts')
      ? undefined
      : 'the editor code (browser scripts) imports only client/input-rules.ts';
  const publicEntry = to === path.join('client', 'index.ts') || to === path.join('simulator', 'index.ts');
  if (under(to, 'client') || under(to, 'simulator'))
    return publicEntry ? undefined : 'nodes import the client and the simulator only through their index.ts';
  if (under(to, 'protocol')) return 'nodes reach the wire interface only through the client';
  if (under(from, path.join('nodes', 'lib'))) return under(to, path.join('nodes', 'lib')) ? undefined : 'nodes/lib imports no node folder';
  const folder = nodeFolderOf(from);
  if (folder) {
    if (under(to, path.join('nodes', 'lib'))) return undefined;
    return nodeFolderOf(to) === folder ? undefined : 'a node folder imports only nodes/lib and its own files';
  }
  return undefined; // nodes/openobd.ts, the entry
}

describe('layers: imports only point down', function () {
  const files = ['protocol', 'client', 'simulator', 'nodes'].flatMap(sources);
  const imports = files.flatMap(importsOf);

  it(`reads the imports of every source file (${files.length} files)`, function () {
    assert.ok(files.length > 40, `${files.length} files`);
    assert.ok(
      imports.some((i) => i.from.startsWith('nodes') && i.to === path.join('client', 'index.ts')),
      'the nodes import the client (sanity check of the resolver)',
    );
  });

  it('no import breaks the layering', function () {
    const broken = imports.map((i) => ({ ...i, why: violation(i) })).filter((i) => i.why);
    assert.deepEqual(
      broken.map((b) => `${b.from} → ${b.to}: ${b.why}`),
      [],
    );
  });

  it('the check itself catches an upward import', function () {
    assert.ok(violation({ from: 'simulator/simulator.ts', to: 'client/wire.ts' }));
    assert.ok(violation({ from: 'nodes/lib/flow-node.ts', to: 'nodes/10-openobd-account/openobd-account.ts' }));
    assert.ok(violation({ from: 'nodes/30-openobd-request/openobd-request.ts', to: 'client/session.ts' }));
    assert.ok(violation({ from: 'nodes/30-openobd-request/openobd-request.ts', to: 'nodes/15-openobd-ecu/openobd-ecu.ts' }));
    assert.ok(violation({ from: 'client/input-rules.ts', to: 'package:node:net' }));
    assert.equal(violation({ from: 'nodes/30-openobd-request/response-details.ts', to: 'client/index.ts' }), undefined);
    assert.ok(violation({ from: 'nodes/30-openobd-request/editor.ts', to: 'client/index.ts' }));
    assert.ok(violation({ from: 'nodes/lib/editor/editor.ts', to: 'nodes/lib/flow.ts' }));
    assert.equal(violation({ from: 'nodes/lib/editor/red.d.ts', to: 'client/input-rules.ts' }), undefined);
  });
});

/**
 * The import cycles among `files`, each as a path that returns to its start (a → b → a); imports of
 * types count too, because they tie the modules together just the same for a reader.
 */
function cycles(imports: Import[], files: string[]): string[][] {
  const inside = new Set(files);
  const next = new Map<string, string[]>(files.map((f) => [f, []]));
  for (const i of imports) if (inside.has(i.from) && inside.has(i.to)) next.get(i.from)!.push(i.to);
  const found: string[][] = [];
  const done = new Set<string>();
  const trail: string[] = [];
  const visit = (file: string): void => {
    const at = trail.indexOf(file);
    if (at >= 0) {
      found.push([...trail.slice(at), file]);
      return;
    }
    if (done.has(file)) return;
    trail.push(file);
    for (const to of next.get(file)!) visit(to);
    trail.pop();
    done.add(file);
  };
  for (const f of files) visit(f);
  return found;
}

describe('layers: no import cycles inside client/', function () {
  const files = sources('client');
  const imports = files.flatMap(importsOf);

  it('no module of client/ imports, through others, a module that imports it', function () {
    assert.deepEqual(
      cycles(imports, files).map((c) => c.join(' → ')),
      [],
    );
  });

  it('the check itself catches a cycle', function () {
    const a = path.join('client', 'a.ts');
    const b = path.join('client', 'b.ts');
    const c = path.join('client', 'c.ts');
    const found = cycles(
      [
        { from: a, to: b },
        { from: b, to: c },
        { from: c, to: a },
      ],
      [a, b, c],
    );
    assert.deepEqual(found, [[a, b, c, a]]);
    assert.deepEqual(cycles([{ from: a, to: b }], [a, b]), []);
  });
});
