import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

/*
 * The package installs the way users install nodes: `npm pack` on a copy of the sources (nothing built
 * yet, as in a fresh clone) builds it (the `prepare` script) and gives a tarball; the tarball goes into a
 * fresh Node-RED user directory with `npm install`, as the palette manager does it; Node-RED started
 * there loads the nodes from node_modules, offers the examples in its menu, and example 01, fetched from
 * the examples menu path and deployed unchanged, reads the VIN when its button is pressed.
 */

const ROOT = path.resolve(__dirname, '..', '..', '..');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const SKIP = new Set(['node_modules', 'dist', '.git', '.userdir', 'test-results', '.tools']);
const EXAMPLE = '01 Read the VIN and identify the car';

function copySources(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true });
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    if (SKIP.has(entry.name) || entry.name.endsWith('.tgz')) continue;
    const src = path.join(from, entry.name);
    const dst = path.join(to, entry.name);
    if (entry.isDirectory()) copySources(src, dst);
    else fs.copyFileSync(src, dst);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('the package as users install it (npm pack, npm install in a Node-RED user directory)', function () {
  this.timeout(300000);
  let work: string;
  let nodeRed: ChildProcess | undefined;
  let log = '';

  before(function () {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'openobd-pack-'));
  });

  after(async function () {
    if (nodeRed && nodeRed.exitCode === null) {
      nodeRed.kill('SIGTERM');
      await new Promise((r) => nodeRed!.once('exit', r));
    }
    fs.rmSync(work, { recursive: true, force: true });
  });

  it(`packs, installs, loads, and runs example "${EXAMPLE}" from the examples menu`, async function () {
    // 1. A copy of the sources with nothing built, packed: `prepare` builds it.
    const src = path.join(work, 'src');
    copySources(ROOT, src);
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(src, 'node_modules'), 'dir');
    const packOutput = execFileSync(NPM, ['pack', '--json', '--pack-destination', work], {
      cwd: src,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // The build's own lines (the prepare script) come first on stdout; npm's JSON report is last.
    const packed = JSON.parse(packOutput.slice(packOutput.search(/^\[/m))) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const files = packed[0]!.files.map((f) => f.path);
    for (const f of [
      'dist/nodes/openobd.js',
      'dist/nodes/openobd.html',
      'dist/nodes/locales/de/openobd.json',
      'dist/protocol/index.js',
      'proto/openobd/v1',
    ]) {
      assert.ok(
        files.some((p) => p.startsWith(f)),
        `${f} is in the package`,
      );
    }
    assert.ok(!files.some((p) => p.startsWith('dist/test/')), 'the tests are not shipped');
    const tarball = path.join(work, packed[0]!.filename.replace(/^@[^/]+\//, '').replace('/', '-'));
    assert.ok(fs.existsSync(tarball), `${tarball} exists`);

    // 2. A fresh Node-RED user directory; the palette manager runs npm install there.
    const userDir = path.join(work, 'userdir');
    fs.mkdirSync(userDir);
    fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-project', private: true }));
    execFileSync(NPM, ['install', '--no-audit', '--no-fund', '--omit=dev', '--prefer-offline', tarball], {
      cwd: userDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    fs.writeFileSync(
      path.join(userDir, 'settings.js'),
      "module.exports = { uiHost: '127.0.0.1', flowFile: 'flows.json', credentialSecret: false, editorTheme: { tours: false }, telemetry: { enabled: false } };\n",
    );

    // 3. Node-RED (4.1, the declared minimum) on that user directory.
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    nodeRed = spawn(
      process.execPath,
      [path.join(ROOT, 'node_modules', 'node-red', 'red.js'), '--userDir', userDir, '--port', String(port)],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    nodeRed.stdout!.on('data', (d: Buffer) => (log += d.toString()));
    nodeRed.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    const nodes = await until(
      async () => {
        const r = await fetch(`${base}/nodes`, { headers: { Accept: 'application/json' } });
        return r.ok ? ((await r.json()) as Array<{ module: string; types: string[]; err?: string; enabled: boolean }>) : undefined;
      },
      60000,
      `Node-RED to answer\n${log}`,
    );
    const ours = nodes.filter((n) => n.module === '@obdflow/node-red-openobd');
    assert.equal(ours.length, 1, `the node set is loaded from node_modules\n${log}`);
    assert.equal(ours[0]!.err, undefined, `loaded without an error\n${log}`);
    assert.ok(ours[0]!.types.includes('openobd-start-session'), ours[0]!.types.join(', '));

    // 4. The example, from the path the Import → Examples menu reads, deployed unchanged.
    const example = (await (
      await fetch(`${base}/library/examples/flows/@obdflow/node-red-openobd/${encodeURIComponent(EXAMPLE)}`)
    ).json()) as Array<Record<string, unknown> & { id: string; type: string }>;
    assert.ok(Array.isArray(example) && example.length > 5, JSON.stringify(example).slice(0, 200));
    // It carries its own tab, so it deploys as it is.
    assert.ok(
      example.some((n) => n.type === 'tab'),
      'the example has a tab of its own',
    );
    const flows = example;
    const deployed = await fetch(`${base}/flows`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
      body: JSON.stringify(flows),
    });
    assert.equal(deployed.status, 204, await deployed.text());

    // 5. The debug sidebar's feed (the editor's websocket), then the button.
    const { default: WebSocket } = (await import(
      require.resolve('ws', { paths: [path.dirname(require.resolve('node-red/package.json'))] })
    )) as {
      default: new (url: string) => { on(e: string, f: (d: unknown) => void): void; send(s: string): void; close(): void };
    };
    const ws = new WebSocket(`ws://127.0.0.1:${port}/comms`);
    const debug: Array<{ name?: string; msg: string; format?: string }> = [];
    await new Promise<void>((resolve, reject) => {
      ws.on('open', () => {
        ws.send(JSON.stringify({ subscribe: 'debug' }));
        resolve();
      });
      ws.on('error', reject as (d: unknown) => void);
    });
    ws.on('message', (data: unknown) => {
      for (const m of JSON.parse(String(data)) as Array<{ topic: string; data: { name?: string; msg: string } }>)
        if (m.topic === 'debug') debug.push(m.data);
    });
    const inject = example.find((n) => n.type === 'inject' && n.name === 'read VIN')!;
    const pressed = await until(
      async () => {
        const r = await fetch(`${base}/inject/${inject.id}`, { method: 'POST' });
        return r.status === 200 ? true : undefined;
      },
      15000,
      'the inject node to be deployed',
    );
    assert.ok(pressed);
    const vin = await until(
      async () => debug.find((d) => d.name === 'VIN'),
      30000,
      `the VIN in the debug sidebar\n${JSON.stringify(debug)}\n${log}`,
    );
    ws.close();
    assert.equal((JSON.parse(vin.msg) as { vin: string }).vin, 'WVWZZZAU6KW204711');
    assert.ok(!debug.some((d) => d.name === 'error'), `no error: ${JSON.stringify(debug)}`);
  });
});
