import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

/*
 * `npm start` (scripts/start.js) as a user runs it: it keeps the user's own settings.js, and Ctrl-C or
 * SIGTERM stops Node-RED with everything in between (npx and Node 22 for --nr5), so nothing keeps the port.
 */

const ROOT = path.resolve(__dirname, '..', '..', '..');

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

/** Whether something accepts connections on the port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function until(predicate: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));
}

describe('npm start (scripts/start.js)', function () {
  this.timeout(180000);
  let userDir: string;

  beforeEach(function () {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'openobd-start-'));
  });

  afterEach(function () {
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  async function start(extra: string[]): Promise<{ child: ChildProcess; port: number; output: () => string }> {
    const port = await freePort();
    let out = '';
    const child = spawn(
      process.execPath,
      [path.join(ROOT, 'scripts', 'start.js'), '--no-build', '--port', String(port), '--userdir', userDir, ...extra],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    await until(() => listening(port), 120000, `Node-RED on port ${port}\n${out}`);
    return { child, port, output: () => out };
  }

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} stops Node-RED 4.1 and frees the port`, async function () {
      const { child, port } = await start(['--nr4']);
      child.kill(signal);
      await exited(child);
      await until(async () => !(await listening(port)), 15000, `port ${port} to be free`);
    });
  }

  it('SIGINT stops Node-RED 5 started through npx (--nr5), Node 22 included, and frees the port', async function () {
    const { child, port } = await start(['--nr5']);
    child.kill('SIGINT');
    await exited(child);
    await until(async () => !(await listening(port)), 15000, `port ${port} to be free`);
  });

  it("keeps the user's settings.js (a credentialSecret added by hand survives a restart)", async function () {
    const first = await start(['--nr4']);
    first.child.kill('SIGTERM');
    await exited(first.child);
    const settingsFile = path.join(userDir, 'settings.js');
    const created = fs.readFileSync(settingsFile, 'utf8');
    assert.match(created.split('\n')[0]!, /yours now: npm start never changes it again/);
    const mine = created.replace('module.exports = {', "module.exports = {\n  credentialSecret: 'my own secret',");
    fs.writeFileSync(settingsFile, mine);
    const second = await start(['--nr4']);
    second.child.kill('SIGTERM');
    await exited(second.child);
    assert.equal(fs.readFileSync(settingsFile, 'utf8'), mine);
  });
});
