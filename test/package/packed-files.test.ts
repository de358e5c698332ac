import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { builtinModules } from 'node:module';
import * as path from 'node:path';
import * as acorn from 'acorn';
import * as walk from 'acorn-walk';

/*
 * The files `npm pack` (and so `npm publish`) puts in the tarball, against what users of the package need:
 * the runtime (every module required from the entry points of package.json and the node folders the
 * runtime finds, and the proto files it reads), the editor (its definitions,
 * catalogs, icons), the help of every language, the examples, and the type declarations of the library
 * (`types`). Nothing else may be packed: no tests, benchmark, sources, source maps or fixtures.
 */

const ROOT = path.resolve(__dirname, '..', '..', '..');
const DOCS = ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md'];

interface Manifest {
  main: string;
  types: string;
  bin: Record<string, string>;
  dependencies: Record<string, string>;
  'node-red': { nodes: Record<string, string> };
}

type AnyNode = acorn.Node & { callee?: AnyNode; name?: string; arguments?: AnyNode[]; value?: unknown };

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Manifest;
const posix = (p: string) => p.split(path.sep).join('/');
const rel = (abs: string) => posix(path.relative(ROOT, abs));

function allFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? allFiles(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

/** The literal require() arguments of a compiled module. */
function requires(file: string): string[] {
  const found: string[] = [];
  walk.simple(acorn.parse(fs.readFileSync(file, 'utf8'), { ecmaVersion: 'latest', sourceType: 'script' }), {
    CallExpression(node: AnyNode) {
      const arg = node.arguments?.[0];
      if (
        node.callee?.type === 'Identifier' &&
        node.callee.name === 'require' &&
        arg?.type === 'Literal' &&
        typeof arg.value === 'string'
      ) {
        found.push(arg.value);
      }
    },
  });
  return found;
}

/** A module compiled from types only: nothing in it but the ES module marker. */
function typeOnly(file: string): boolean {
  const code = fs
    .readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/.*$/gm, '')
    .replace(/\s+/g, '');
  return code === '"usestrict";Object.defineProperty(exports,"__esModule",{value:true});';
}

interface Needs {
  /** Files the package needs, relative to the root. */
  files: Set<string>;
  /** Folders (dist/<layer>) whose declarations are the library's types. */
  typeLayers: Set<string>;
  /** Packages the runtime requires by name. */
  packages: Set<string>;
}

/** What the package needs, read from the built dist/ the way Node-RED and Node.js use it. */
function needs(): Needs {
  const files = new Set<string>(DOCS);
  const packages = new Set<string>();

  // The runtime: entry points, the node folders nodes/openobd.js loads by path, and their require()s.
  const nodesDist = path.join(ROOT, path.dirname(Object.values(pkg['node-red'].nodes)[0]!));
  const { nodeFolders, languages } = require(path.join(nodesDist, 'lib', 'node-folders.js')) as {
    nodeFolders(dir: string): Array<{ dir: string; type: string }>;
    languages(dir: string): string[];
  };
  const entries = [
    pkg.main,
    ...Object.values(pkg.bin),
    ...Object.values(pkg['node-red'].nodes),
    ...nodeFolders(nodesDist).map((f) => rel(path.join(nodesDist, f.dir, `${f.type}.js`))),
  ];
  const queue = entries.map((e) => path.join(ROOT, e));
  while (queue.length) {
    const file = queue.pop()!;
    if (files.has(rel(file))) continue;
    files.add(rel(file));
    if (!file.endsWith('.js')) continue;
    for (const spec of requires(file)) {
      if (spec.startsWith('.')) queue.push(require.resolve(spec, { paths: [path.dirname(file)] }));
      else if (!builtinModules.includes(spec.replace(/^node:/, '')))
        packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
    }
  }

  // Read at run time: protocol/proto.ts loads every .proto file under proto/.
  for (const f of allFiles(path.join(ROOT, 'proto')).filter((f) => f.endsWith('.proto'))) files.add(rel(f));

  // The editor and the help, as Node-RED loads them next to each node set's .js file.
  for (const js of Object.values(pkg['node-red'].nodes)) {
    const dir = path.posix.dirname(js);
    const base = path.posix.basename(js, '.js');
    const html = `${dir}/${base}.html`;
    files.add(html);
    for (const lang of languages(path.join(ROOT, 'nodes'))) {
      files.add(`${dir}/locales/${lang}/${base}.json`);
      files.add(`${dir}/locales/${lang}/${base}.html`);
    }
    for (const m of fs.readFileSync(path.join(ROOT, html), 'utf8').matchAll(/\bicon:\s*'([a-z0-9-]+\.svg)'/g))
      files.add(`${dir}/icons/${m[1]}`);
  }

  // The examples the editor's import menu offers.
  for (const f of allFiles(path.join(ROOT, 'examples'))) files.add(rel(f));

  // The library's declarations: what `types` imports, and the layers that holds.
  const typeLayers = new Set<string>();
  const typeQueue = [path.join(ROOT, pkg.types)];
  while (typeQueue.length) {
    const file = typeQueue.pop()!;
    if (files.has(rel(file))) continue;
    files.add(rel(file));
    typeLayers.add(rel(file).split('/').slice(0, 2).join('/'));
    for (const m of fs.readFileSync(file, 'utf8').matchAll(/(?:from|import\()\s*'(\.[^']*)'/g)) {
      const target = path.resolve(path.dirname(file), m[1]!);
      typeQueue.push([`${target}.d.ts`, path.join(target, 'index.d.ts')].find((f) => fs.existsSync(f))!);
    }
  }
  return { files, typeLayers, packages };
}

/** What is missing from a packed file list, and what it holds that nothing needs. */
function audit(packed: string[], need: Needs): { missing: string[]; extra: string[] } {
  const set = new Set(packed);
  const missing = [...need.files].filter((f) => !set.has(f)).sort();
  const extra = packed
    .filter((f) => !need.files.has(f))
    // Declarations of the library's layers (a deep import of one of its modules), and the stub
    // a types-only module compiles to: neither runs, both belong to what is shipped.
    .filter((f) => !(f.endsWith('.d.ts') && need.typeLayers.has(f.split('/').slice(0, 2).join('/'))))
    .filter((f) => !(f.endsWith('.js') && fs.existsSync(path.join(ROOT, f)) && typeOnly(path.join(ROOT, f))))
    .sort();
  return { missing, extra };
}

describe('the packed file list (npm pack)', function () {
  this.timeout(120000);
  let packed: string[];
  let need: Needs;

  before(function () {
    // The files of the build npm test made, listed by npm as `npm publish` would pack them.
    const { npmPack } = require(path.join(ROOT, 'scripts', 'validate.js')) as {
      npmPack(args: string[]): Array<{ files: Array<{ path: string }> }>;
    };
    packed = npmPack(['--dry-run'])[0]!.files.map((f) => f.path);
    need = needs();
  });

  it('holds everything the runtime, the editor, the help and the examples need', function () {
    assert.ok(need.files.size > 100, `only ${need.files.size} files found to be needed: the walk is broken`);
    const { missing } = audit(packed, need);
    assert.deepEqual(missing, [], `needed but not packed:\n  ${missing.join('\n  ')}`);
  });

  it('holds nothing else (no tests, benchmark, sources, source maps, fixtures)', function () {
    const { extra } = audit(packed, need);
    assert.deepEqual(extra, [], `packed but not needed (package.json "files"):\n  ${extra.join('\n  ')}`);
  });

  it('the runtime requires only its dependencies and Node.js', function () {
    assert.deepEqual([...need.packages].sort(), Object.keys(pkg.dependencies).sort());
  });

  it('the check finds a missing help file and a shipped test', function () {
    const doctored = [...packed.filter((f) => f !== 'dist/nodes/locales/de/openobd.html'), 'dist/test/unit/codec-hex.test.js'];
    assert.deepEqual(audit(doctored, need), {
      missing: ['dist/nodes/locales/de/openobd.html'],
      extra: ['dist/test/unit/codec-hex.test.js'],
    });
  });
});
