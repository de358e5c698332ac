import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as acorn from 'acorn';
import * as walk from 'acorn-walk';
import * as vm from 'node:vm';
import * as rules from '../../client/input-rules';
import { CONFIG_TYPES, LANGS, NODE_TYPES } from '../support/node-types';
import { nodeRedFolder } from '../support/nodered-server';

/*
 * Static checks of the editor part as it is shipped (dist/nodes): the node definitions parsed the way
 * node-red-dev validate (checknodes.js) and the Flow Library read them, the edit templates, the
 * credentials, help and catalogs in en-US and de, the icons, the CSS under the Node-RED 5 dark theme,
 * the example flows and the admin endpoints behind the dropdowns.
 */

const ROOT = path.resolve(__dirname, '..', '..', '..');
const DIST = path.join(ROOT, 'dist', 'nodes');
const EDITOR_HTML = path.join(DIST, 'openobd.html');
const PKG = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  'node-red': { nodes: Record<string, string> };
};

const ALL_TYPES = NODE_TYPES;

interface Literal<T = unknown> {
  literal: boolean;
  value?: T;
}
interface Definition {
  category?: Literal<string>;
  color?: Literal<string>;
  icon?: Literal<string>;
  inputs?: Literal<number>;
  outputs?: Literal<number>;
  defaults?: string[];
  credentials?: Record<string, string | undefined>;
}

type AnyNode = acorn.Node & Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * node-red-dev's getNodeDefinitions (src/libs/checknodes.js, 0.1.6): the same regular expression for the
 * `<script type="text/javascript">` blocks, acorn with ecmaVersion 'latest', acorn-walk over every
 * CallExpression whose callee property is `registerType`, a literal type and an ObjectExpression definition.
 */
function getNodeDefinitions(file: string): { defs: Record<string, Definition>; errors: string[]; scripts: number } {
  const regExp = /<script.+?type=['"]text\/javascript['"].*?>([\S\s]*?)<\/script>/gi;
  const content = fs.readFileSync(file, 'utf8');
  const parts: string[] = [];
  let match: RegExpExecArray | null;
  while ((match = regExp.exec(content)) !== null) parts.push(match[1]);
  const defs: Record<string, Definition> = {};
  const errors: string[] = [];
  for (const part of parts) {
    const ast = acorn.parse(part, { ecmaVersion: 'latest' });
    walk.simple(ast, {
      CallExpression(node: AnyNode) {
        if (!(node.callee.property && node.callee.property.name === 'registerType')) return;
        const [typeNode, defNode] = node.arguments as AnyNode[];
        if (typeNode.type !== 'Literal') {
          errors.push(`non-literal type at ${typeNode.start}`);
          return;
        }
        if (defNode.type !== 'ObjectExpression') {
          errors.push(`non-objectexpression definition of ${typeNode.value}`);
          return;
        }
        const def: Definition = {};
        defs[typeNode.value as string] = def;
        for (const prop of defNode.properties as AnyNode[]) {
          const key = prop.key && prop.key.name;
          const value = prop.value as AnyNode;
          if (key === 'defaults') {
            if (!value.properties) errors.push(`defaults-not-inline in ${typeNode.value}`);
            else def.defaults = value.properties.map((p: AnyNode) => p.key.name as string);
          } else if (key === 'credentials') {
            if (!value.properties) errors.push(`credentials-not-inline in ${typeNode.value}`);
            else {
              def.credentials = {};
              for (const p of value.properties as AnyNode[]) {
                const typeProp = (p.value.properties || []).find((q: AnyNode) => q.key.name === 'type');
                def.credentials[p.key.name] = typeProp && typeProp.value.type === 'Literal' ? typeProp.value.value : undefined;
              }
            }
          } else if (key === 'category' || key === 'color' || key === 'icon' || key === 'inputs' || key === 'outputs') {
            (def as Record<string, Literal>)[key] = value.type === 'Literal' ? { literal: true, value: value.value } : { literal: false };
            if (value.type !== 'Literal') errors.push(`${key}-not-inline in ${typeNode.value}`);
          }
        }
      },
    });
  }
  return { defs, errors, scripts: parts.length };
}

function read(file: string): string {
  return fs.readFileSync(file, 'utf8');
}

/** The `<script type="text/html" data-<attr>="type">` blocks of a file, by type. */
function htmlBlocks(content: string, attr: 'data-template-name' | 'data-help-name'): Record<string, string> {
  const out: Record<string, string> = {};
  const re = new RegExp(`<script\\s+type="text/(?:html|x-red|markdown)"\\s+${attr}="([^"]+)"\\s*>([\\s\\S]*?)<\\/script>`, 'g');
  let m: RegExpExecArray | null;
  while ((m = re.exec(content)) !== null) out[m[1]] = m[2];
  return out;
}

function lookup(catalog: unknown, key: string): unknown {
  return key.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), catalog);
}

function flatten(obj: unknown, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object') Object.assign(out, flatten(v, key));
    else out[key] = String(v);
  }
  return out;
}

function allFiles(dir: string, filter: (f: string) => boolean): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...allFiles(p, filter));
    else if (filter(p)) out.push(p);
  }
  return out;
}

describe('editor files as shipped (static checks, parsed like node-red-dev validate)', function () {
  let parsed: ReturnType<typeof getNodeDefinitions>;
  let html: string;
  let templates: Record<string, string>;

  before(function () {
    assert.ok(fs.existsSync(EDITOR_HTML), `${path.relative(ROOT, EDITOR_HTML)} is missing: run node scripts/build.js`);
    html = read(EDITOR_HTML);
    parsed = getNodeDefinitions(EDITOR_HTML);
    templates = htmlBlocks(html, 'data-template-name');
  });

  describe('node definitions (scorecard N checks, Flow Library)', function () {
    it('package.json points at the node set whose .html sits beside it', function () {
      const files = Object.values(PKG['node-red'].nodes);
      assert.deepEqual(files, ['dist/nodes/openobd.js']);
      for (const f of files) {
        assert.ok(fs.existsSync(path.join(ROOT, f)), `${f} exists`);
        assert.ok(
          fs.existsSync(path.join(ROOT, f.replace('.js', '.html'))),
          `${f.replace('.js', '.html')} exists (node-red-dev looks there)`,
        );
      }
    });

    it('every registerType call has a literal type and an inline object, as checknodes requires', function () {
      assert.ok(parsed.scripts >= ALL_TYPES.length, 'one script block per node at least');
      assert.deepEqual(parsed.errors, []);
      assert.deepEqual(Object.keys(parsed.defs).sort(), [...ALL_TYPES].sort());
    });

    it('each definition has a literal category, colour and icon, and flow nodes literal inputs and outputs', function () {
      for (const type of ALL_TYPES) {
        const def = parsed.defs[type];
        assert.ok(def.category?.literal, `${type}: literal category`);
        assert.equal(def.category?.value, CONFIG_TYPES.includes(type) ? 'config' : 'openOBD', `${type}: category`);
        assert.ok(def.color?.literal && /^#[0-9A-Fa-f]{6}$/.test(String(def.color.value)), `${type}: literal colour`);
        assert.ok(def.icon?.literal && /^openobd-[a-z0-9-]+\.svg$/.test(String(def.icon.value)), `${type}: literal icon file`);
        if (CONFIG_TYPES.includes(type)) {
          assert.equal(def.inputs, undefined, `${type}: a config node has no inputs`);
          assert.equal(def.outputs, undefined, `${type}: a config node has no outputs`);
        } else {
          // A trigger node (dashboard procedure, like the core inject node) has no input.
          assert.ok(def.inputs?.literal && (def.inputs.value === 1 || def.inputs.value === 0), `${type}: literal inputs: 0 or 1`);
          assert.ok(def.outputs?.literal && typeof def.outputs.value === 'number', `${type}: literal outputs`);
        }
      }
    });

    it('every validator written in a definition takes (value, opt): Node-RED shows its sentence only then', function () {
      // Node-RED 4 (validateNodeProperty) takes a returned string as the reason only from a validator of two
      // parameters; from one of one parameter any string counts as valid.
      const regExp = /<script.+?type=['"]text\/javascript['"].*?>([\S\s]*?)<\/script>/gi;
      const oneParameter: string[] = [];
      let validators = 0;
      for (const [, code] of html.matchAll(regExp)) {
        walk.simple(acorn.parse(code!, { ecmaVersion: 'latest' }), {
          Property(node: AnyNode) {
            if (node.key?.name !== 'validate' || node.value.type !== 'FunctionExpression') return;
            validators++;
            if (node.value.params.length !== 2) oneParameter.push(code!.slice(node.start, node.start + 80));
          },
          ReturnStatement(node: AnyNode) {
            // The validator factories of the shared code (OpenObdEditor.pin, when, oneOf...) return one.
            const fn = node.argument;
            if (fn?.type !== 'FunctionExpression' || fn.params[0]?.name !== 'v') return;
            validators++;
            if (fn.params.length !== 2) oneParameter.push(code!.slice(node.start, node.start + 80));
          },
        });
      }
      assert.ok(validators > 40, `${validators} validators found`);
      assert.deepEqual(oneParameter, []);
    });

    it('the editor code is readable, not minified: every registerType starts its own line', function () {
      const calls = html.match(/^\s*RED\.nodes\.registerType\('openobd-[a-z0-9-]+', \{$/gm) || [];
      assert.equal(calls.length, ALL_TYPES.length);
      const longest = Math.max(...html.split('\n').map((l) => l.length));
      assert.ok(longest < 400, `longest line ${longest} characters`);
    });

    it('every flow node type appears in some example (N02), and each example is a JSON array with a comment', function () {
      const dir = path.join(ROOT, 'examples');
      const used = new Set<string>();
      for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json'))) {
        const flow = JSON.parse(read(path.join(dir, file))) as Array<{ type: string }>;
        assert.ok(Array.isArray(flow), `${file} is an array of nodes`);
        assert.ok(
          flow.some((n) => n.type === 'comment'),
          `${file} explains itself in a comment node`,
        );
        for (const n of flow) used.add(n.type);
      }
      const missing = Object.keys(parsed.defs).filter((t) => parsed.defs[t].category?.value !== 'config' && !used.has(t));
      assert.deepEqual(missing, []);
    });

    it('examples use only core nodes and openOBD nodes (and Dashboard 2.0 where they say so)', function () {
      const core = new Set([
        'tab',
        'comment',
        'inject',
        'debug',
        'catch',
        'status',
        'complete',
        'change',
        'function',
        'switch',
        'template',
        'delay',
        'trigger',
        'join',
        'split',
        'link in',
        'link out',
        'link call',
        'junction',
        'group',
      ]);
      const dir = path.join(ROOT, 'examples');
      for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json'))) {
        const nodes = JSON.parse(read(path.join(dir, file))) as Array<{ type: string; name?: string }>;
        // Dashboard 2.0 only where the example says so in its title (its Comment node) and in its file name.
        const dashboard =
          /Dashboard 2\.0/.test(file) && nodes.some((n) => n.type === 'comment' && /needs Dashboard 2\.0/.test(n.name ?? ''));
        const foreign = nodes
          .map((n) => n.type)
          .filter((t) => !core.has(t) && !ALL_TYPES.includes(t) && !(dashboard && t.startsWith('ui-')));
        assert.deepEqual(foreign, [], `${file} needs no other package`);
      }
    });

    it('config nodes shared between examples are identical, and flow node ids are not shared', function () {
      // Importing a second example reuses a config node with the same id ("Import copy"), so the copies must agree.
      const dir = path.join(ROOT, 'examples');
      const configs = new Map<string, { json: string; file: string }>();
      const flowIds = new Map<string, string>();
      for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json'))) {
        for (const n of JSON.parse(read(path.join(dir, file))) as Array<Record<string, unknown> & { id: string; type: string }>) {
          if (CONFIG_TYPES.includes(n.type)) {
            const json = JSON.stringify(n);
            const seen = configs.get(n.id);
            if (seen) assert.equal(json, seen.json, `${n.type} ${n.id} differs between ${seen.file} and ${file}`);
            else configs.set(n.id, { json, file });
          } else {
            assert.ok(!flowIds.has(n.id), `${n.type} ${n.id} is in ${flowIds.get(n.id)} and ${file}`);
            flowIds.set(n.id, file);
          }
        }
      }
    });
  });

  describe('edit templates and credentials', function () {
    it('every type has an edit template', function () {
      assert.deepEqual(Object.keys(templates).sort(), [...ALL_TYPES].sort());
    });

    it('every defaults key and every credential has its node-input-<key> (node-config-input-<key>) field', function () {
      for (const type of ALL_TYPES) {
        const def = parsed.defs[type];
        const prefix = CONFIG_TYPES.includes(type) ? 'node-config-input-' : 'node-input-';
        const ids = new Set([...templates[type].matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]));
        const keys = [...(def.defaults || []), ...Object.keys(def.credentials || {})];
        assert.ok(keys.length > 0, `${type} has properties`);
        // A list property is edited in an editableList, whose container is `<prefix><key>-container` (Node-RED's own convention).
        const missing = keys.filter((k) => !ids.has(prefix + k) && !ids.has(`${prefix}${k}-container`));
        assert.deepEqual(missing, [], `${type}: fields missing from the template`);
        const wrongPrefix = [...ids].filter((id) => /^node-(config-)?input-/.test(id) && !id.startsWith(prefix));
        assert.deepEqual(wrongPrefix, [], `${type}: fields with the other prefix`);
      }
    });

    it('no default uses a reserved property name', function () {
      for (const type of ALL_TYPES) {
        for (const key of parsed.defs[type].defaults || []) {
          assert.ok(key.length > 1 && !['id', 'type', 'wires', 'inputs', 'x', 'y', 'z', 'g'].includes(key), `${type}.${key} is reserved`);
        }
      }
    });

    it('no credential name appears in defaults; the client secret is a password credential in a password field', function () {
      for (const type of ALL_TYPES) {
        const def = parsed.defs[type];
        const overlap = (def.defaults || []).filter((k) => Object.keys(def.credentials || {}).includes(k));
        assert.deepEqual(overlap, [], `${type}: credentials also in defaults`);
        for (const k of def.defaults || []) assert.ok(!/secret|password|token/i.test(k), `${type}.${k} looks like a secret in defaults`);
      }
      const account = parsed.defs['openobd-account'];
      assert.deepEqual(account.credentials, { clientId: 'text', clientSecret: 'password', ca: 'text' });
      assert.match(templates['openobd-account'], /<input type="password" id="node-config-input-clientSecret"/);
    });

    it('the runtime declares the same credentials', function () {
      const runtime = read(path.join(DIST, '10-openobd-account', 'openobd-account.js'));
      assert.match(runtime, /clientSecret:\s*\{\s*type:\s*'password'\s*\}/);
      assert.match(runtime, /clientId:\s*\{\s*type:\s*'text'\s*\}/);
    });
  });

  describe('help and catalogs', function () {
    const catalogs: Record<string, unknown> = {};
    const help: Record<string, Record<string, string>> = {};
    before(function () {
      for (const lang of LANGS) {
        catalogs[lang] = JSON.parse(read(path.join(DIST, 'locales', lang, 'openobd.json')));
        help[lang] = htmlBlocks(read(path.join(DIST, 'locales', lang, 'openobd.html')), 'data-help-name');
      }
    });

    it('every type has help in en-US and de, starting with a one-paragraph summary (the palette tooltip)', function () {
      for (const lang of LANGS) {
        assert.deepEqual(Object.keys(help[lang]).sort(), [...ALL_TYPES].sort(), `${lang} help`);
        for (const type of ALL_TYPES) {
          const text = help[lang][type].trim();
          assert.match(text, /^<p>[^<]{20,}/, `${lang} help of ${type} starts with a <p> summary`);
        }
      }
    });

    it('help follows the editor style: Inputs, Outputs, Details, References, with message property lists', function () {
      const sections: Record<string, string[]> = {
        'en-US': ['Inputs', 'Outputs', 'Details', 'References'],
        de: ['Eingänge', 'Ausgänge', 'Details', 'Referenzen'],
      };
      for (const lang of LANGS) {
        for (const type of ALL_TYPES) {
          const h3 = [...help[lang][type].matchAll(/<h3>([^<]+)<\/h3>/g)].map((m) => m[1].trim());
          const [inputs, outputs, details, refs] = sections[lang];
          const expected = CONFIG_TYPES.includes(type) ? [details, refs] : [inputs, outputs, details, refs];
          assert.deepEqual(h3, expected, `${lang} help sections of ${type}`);
          if (!CONFIG_TYPES.includes(type)) {
            assert.match(help[lang][type], /<dl class="message-properties">/, `${lang} ${type}: message properties`);
            assert.match(help[lang][type], /<span class="property-type">/, `${lang} ${type}: property types`);
          }
          assert.match(help[lang][type], /<a href="https:\/\/[^"]+"/, `${lang} ${type}: a reference link`);
        }
      }
    });

    it('every i18n key the editor and the runtime use exists in en-US and de', function () {
      const keys = new Set<string>();
      for (const m of html.matchAll(/data-i18n="([^"]+)"/g)) {
        for (const part of m[1].split(';')) {
          const key = part.replace(/^\[[^\]]+\]/, '');
          if (!key.includes(':')) keys.add(key);
        }
      }
      // OpenObdEditor.label('<key>') is a label function that translates the key.
      for (const m of html.matchAll(/(?:\._|\bt|\.t|\.label)\(\s*'([A-Za-z0-9_.-]+)'/g)) keys.add(m[1]);
      const runtime = allFiles(DIST, (f) => f.endsWith('.js'))
        .map(read)
        .join('\n');
      for (const m of runtime.matchAll(/['"`](openobd\.[A-Za-z0-9_.-]+)['"`]/g)) keys.add(m[1]);
      const used = [...keys].filter((k) => !k.endsWith('.'));
      assert.ok(used.length > 100, `${used.length} keys found`);
      for (const lang of LANGS) {
        const missing = used.filter((k) => typeof lookup(catalogs[lang], k) !== 'string');
        assert.deepEqual(missing, [], `keys missing from the ${lang} catalog`);
      }
    });

    it('the palette category description is a key of this node set (Node-RED 5 translates it when shown)', function () {
      const all = html.match(/categoryDescription:/g) || [];
      const literal = [...html.matchAll(/categoryDescription:\s*'([^']+)'/g)].map((m) => m[1]);
      assert.ok(all.length > 0, 'the flow nodes describe their category');
      assert.equal(literal.length, all.length, 'every categoryDescription is a string literal');
      for (const value of literal) {
        const [ns, key] = value.split(':');
        assert.equal(ns, `${PKG.name}/openobd`, `namespace of ${value}`);
        for (const lang of LANGS) assert.equal(typeof lookup(catalogs[lang], key), 'string', `${key} in ${lang}`);
      }
    });

    it('the de catalog translates every en-US message, with the same __placeholders__', function () {
      const en = flatten(catalogs['en-US']);
      const de = flatten(catalogs.de);
      assert.deepEqual(
        Object.keys(de).filter((k) => !(k in en)),
        [],
        'keys only in de',
      );
      assert.deepEqual(
        Object.keys(en).filter((k) => !(k in de)),
        [],
        'keys missing in de',
      );
      const vars = (s: string) => [...s.matchAll(/__(\w+)__/g)].map((m) => m[1]).sort();
      for (const k of Object.keys(en)) assert.deepEqual(vars(de[k]), vars(en[k]), `placeholders of ${k}`);
    });
  });

  describe('icons and styles', function () {
    it('every icon a definition names is an SVG in dist/nodes/icons, white on transparent, 2:3', function () {
      for (const type of ALL_TYPES) {
        const icon = String(parsed.defs[type].icon?.value);
        const file = path.join(DIST, 'icons', icon);
        assert.ok(fs.existsSync(file), `${type}: ${path.relative(ROOT, file)} exists`);
        const svg = read(file).trim();
        assert.match(svg, /^(<\?xml[^>]*>\s*)?<svg\b[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/, `${icon} is an SVG document`);
        assert.match(svg, /<\/svg>$/);
        const box = /viewBox="0 0 ([\d.]+) ([\d.]+)"/.exec(svg);
        assert.ok(box && Math.abs(Number(box[1]) / Number(box[2]) - 2 / 3) < 0.01, `${icon} is 2:3`);
        const fills = [...svg.matchAll(/\b(?:fill|stroke)="([^"]+)"/g)].map((m) => m[1].toLowerCase());
        assert.ok(
          fills.length > 0 && fills.every((f) => ['#fff', '#ffffff', 'white', 'none'].includes(f)),
          `${icon} is white on transparent (${fills.join(', ')})`,
        );
        assert.ok(!/<script|on\w+=/i.test(svg), `${icon} has no script`);
      }
    });

    it('CSS uses Node-RED theme variables: no hard-coded colours outside var() fallbacks', function () {
      const sources: Array<[string, string]> = [
        ['openobd.html', html],
        ...LANGS.map((l): [string, string] => [`locales/${l}/openobd.html`, read(path.join(DIST, 'locales', l, 'openobd.html'))]),
      ];
      const colourProps =
        /(?:^|;|\{)\s*(color|background(?:-color)?|border(?:-(?:top|right|bottom|left))?(?:-color)?|outline(?:-color)?|box-shadow|fill|stroke)\s*:\s*([^;}"]+)/gi;
      const literal =
        /#[0-9a-f]{3,8}\b|\brgba?\(|\bhsla?\(|\b(?:white|black|silver|gr[ae]y|whitesmoke|snow|ivory|gainsboro|beige|linen|lightgr[ae]y|red|green|blue|yellow|orange)\b/i;
      const problems: string[] = [];
      for (const [name, content] of sources) {
        const css = [...content.matchAll(/<style[^>]*>([\s\S]*?)<\/style>/g)].map((m) => m[1]);
        const inline = [...content.matchAll(/\sstyle="([^"]*)"/g)].map((m) => `{${m[1]}}`);
        for (const block of [...css, ...inline]) {
          for (const m of block.matchAll(colourProps)) {
            // Fallbacks inside var(--red-ui-x, fallback) only apply where the variable does not exist.
            let value = m[2];
            let previous;
            do {
              previous = value;
              value = value.replace(/var\(--[a-z0-9-]+(?:\s*,[^()]*(?:\([^()]*\)[^()]*)*)?\)/gi, '');
            } while (value !== previous);
            if (literal.test(value)) problems.push(`${name}: ${m[1]}: ${m[2].trim()}`);
          }
        }
      }
      assert.deepEqual(problems, []);
    });

    it('every var(--red-ui-*) the editor uses exists in the Node-RED 4.1 and 5 editor styles', function () {
      const used = new Set([...html.matchAll(/var\((--red-ui-[a-z0-9-]+)/g)].map((m) => m[1]));
      assert.ok(used.size > 0);
      for (const pkg of ['node-red', 'node-red-5']) {
        const cssFile = require.resolve('@node-red/editor-client/public/red/style.min.css', {
          paths: [nodeRedFolder(pkg)],
        });
        const css = read(cssFile);
        const missing = [...used].filter((v) => !css.includes(`${v}:`));
        assert.deepEqual(missing, [], `variables not defined by ${pkg}`);
      }
    });
  });

  describe('dropdowns fed by the runtime', function () {
    it('every admin endpoint requires a Node-RED permission', function () {
      const routes: string[] = [];
      for (const file of allFiles(DIST, (f) => f.endsWith('.js'))) {
        const source = read(file);
        if (!source.includes('httpAdmin')) continue;
        const ast = acorn.parse(source, { ecmaVersion: 'latest', sourceType: 'script' });
        const permissionVars = new Set<string>();
        walk.simple(ast, {
          VariableDeclarator(node: AnyNode) {
            if (node.init && source.slice(node.init.start, node.init.end).includes('needsPermission')) permissionVars.add(node.id.name);
          },
        });
        walk.simple(ast, {
          CallExpression(node: AnyNode) {
            const callee = node.callee;
            if (callee.type !== 'MemberExpression' || !['get', 'post', 'put', 'delete', 'patch'].includes(callee.property.name)) return;
            if (!source.slice(callee.object.start, callee.object.end).endsWith('httpAdmin')) return;
            const route = source.slice(node.arguments[0].start, node.arguments[0].end);
            routes.push(route);
            const guards = (node.arguments as AnyNode[])
              .slice(1, -1)
              .map((a) => (a.type === 'Identifier' && permissionVars.has(a.name) ? 'needsPermission' : source.slice(a.start, a.end)));
            assert.ok(
              guards.some((g) => g.includes('needsPermission')),
              `${path.relative(ROOT, file)}: ${callee.property.name} ${route} has no RED.auth.needsPermission`,
            );
          },
        });
      }
      assert.ok(routes.length >= 2, `admin routes found: ${routes.join(', ')}`);
    });

    it('the editor calls them with relative URLs (so a path prefix such as httpAdminRoot works)', function () {
      const calls = [...html.matchAll(/\$\.(?:getJSON|get|post|ajax)\(\s*(['"][^'"]*['"])/g)].map((m) => m[1]);
      assert.ok(calls.length >= 2);
      for (const c of calls) assert.ok(!/^['"]\//.test(c), `${c} is absolute`);
    });
  });

  describe('input rules shared by the runtime and the dialogs', function () {
    it("the editor runs the runtime's own rules (client/input-rules.ts, wrapped by the build): same answers for the same input", function () {
      const block =
        /<script type="text\/javascript">\n(\(function \(exports\) \{[\s\S]*?\}\)\(window\.OpenObdRules = \{\}\);)\n<\/script>/.exec(html);
      assert.ok(block, 'the rules script is in the editor file');
      const window: { OpenObdRules?: Record<string, (v: unknown) => unknown> & { ISOTP_MAX_PAYLOAD?: number } } = {};
      vm.runInNewContext(block[1]!, { window });
      const browser = window.OpenObdRules!;
      const runtime = rules as unknown as Record<string, (v: unknown) => unknown>;
      const inputs: Record<string, unknown[]> = {
        checkHexText: ['22 F1 90', '0x3e00', '22G190', '22F19', ' ', '\t22 f1', '2\u00002'],
        checkCanId: ['7E0', '0x18DA10F1', '', 'XYZ', '20000000', 7],
        checkResponderIds: ['', '7E8-7EF', '7E8, 7EA', '7EF-7E8', '700-7FF', 'ZZ'],
        isLoopbackHost: ['localhost', 'a.localhost', '127.0.0.1', '127.1.2.300', '::1', '[::1]', 'example.com', '10.0.0.1'],
      };
      for (const [name, values] of Object.entries(inputs)) {
        // Compared as JSON: objects made in the vm have another realm's prototypes.
        for (const v of values)
          assert.equal(JSON.stringify(browser[name]!(v)), JSON.stringify(runtime[name]!(v)), `${name}(${JSON.stringify(v)})`);
      }
      assert.equal(browser.ISOTP_MAX_PAYLOAD, rules.ISOTP_MAX_PAYLOAD);
    });

    it('every rule a check can break has a sentence in every catalog', function () {
      const ruleNames = [
        'hexChar',
        'hexOdd',
        'hexEmpty',
        'hexLong',
        'canIdRequired',
        'canId',
        'canIdRange',
        'responderRange',
      ] satisfies rules.RuleName[];
      for (const lang of LANGS) {
        const catalog = JSON.parse(read(path.join(DIST, 'locales', lang, 'openobd.json'))) as {
          openobd: { validation: Record<string, string> };
        };
        for (const r of ruleNames) assert.equal(typeof catalog.openobd.validation[r], 'string', `${lang}: openobd.validation.${r}`);
      }
    });
  });
});
