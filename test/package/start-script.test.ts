import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

/*
 * `npm start` (scripts/start.js) as a user runs it: it keeps the user's own settings.js, and Ctrl-C or
 * SIGTERM stops Node-RED with everything in between (npx and Node 22 for --nr5), so nothing keeps the port.
 * On a fresh user directory the settings it writes leave the palette manager on and carry a credentialSecret
 * of their own, and Node-RED's log has no warning but the ones it always prints (WARN_ALLOWED).
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

  async function start(extra: string[], dir = userDir): Promise<{ child: ChildProcess; port: number; output: () => string }> {
    const port = await freePort();
    let out = '';
    const child = spawn(
      process.execPath,
      [path.join(ROOT, 'scripts', 'start.js'), '--no-build', '--port', String(port), '--userdir', dir, ...extra],
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

  it("keeps the user's settings.js (a change made by hand survives a restart)", async function () {
    const first = await start(['--nr4']);
    first.child.kill('SIGTERM');
    await exited(first.child);
    const settingsFile = path.join(userDir, 'settings.js');
    const created = fs.readFileSync(settingsFile, 'utf8');
    assert.match(created.split('\n')[0]!, /yours now: npm start never changes it again/);
    const mine = created.replace('module.exports = {', "module.exports = {\n  functionGlobalContext: { mine: 'my own setting' },");
    fs.writeFileSync(settingsFile, mine);
    const second = await start(['--nr4']);
    second.child.kill('SIGTERM');
    await exited(second.child);
    assert.equal(fs.readFileSync(settingsFile, 'utf8'), mine);
  });

  describe('a fresh user directory', function () {
    /*
     * Node-RED warns about projects whenever they are off, whether editorTheme.projects.enabled is false
     * (this text) or missing ("set editorTheme.projects.enabled=true to enable"); turning them on would
     * open Node-RED's project wizard instead of the example.
     */
    const WARN_ALLOWED = ['Projects disabled : editorTheme.projects.enabled=false'];

    /** Starts Node-RED, waits for its flows, stops it and returns its log. */
    async function run(extra: string[], dir: string, whileRunning?: (port: number) => Promise<void>): Promise<string> {
      const { child, port, output } = await start(extra, dir);
      try {
        await until(async () => /\[info\] Started flows/.test(output()), 60000, `the flows to start\n${output()}`);
        if (whileRunning) await whileRunning(port);
      } finally {
        child.kill('SIGTERM');
        await exited(child);
      }
      return output();
    }

    function assertCleanLog(log: string, secret: string): void {
      assert.doesNotMatch(log, /system-generated key/);
      assert.doesNotMatch(log, /Encrypted credentials not found/);
      assert.doesNotMatch(log, /Palette editor disabled/);
      assert.doesNotMatch(log, /Failed to decrypt credentials|Error decrypting credentials/);
      const alarming = log
        .split('\n')
        .filter((l) => /\[(warn|error)\]/.test(l))
        .filter((l) => !WARN_ALLOWED.some((allowed) => l.endsWith(`] ${allowed}`)));
      assert.deepEqual(alarming, [], `unexpected warnings in:\n${log}`);
      assert.ok(!log.includes(secret), 'the credentialSecret appears in the log');
    }

    /** The settings npm start wrote: the file's mode and its credentialSecret, read as Node-RED reads it. */
    function writtenSettings(dir: string): { mode: number; credentialSecret: unknown; externalModules: unknown } {
      const file = path.join(dir, 'settings.js');
      const settings = require(file) as { credentialSecret: unknown; externalModules: unknown };
      delete require.cache[require.resolve(file)];
      return { mode: fs.statSync(file).mode & 0o777, ...settings };
    }

    async function paletteAllowsInstall(port: number): Promise<void> {
      const res = await fetch(`http://127.0.0.1:${port}/settings`);
      assert.equal(res.status, 200);
      // The editor shows Manage palette > Install unless the runtime says allowInstall: false.
      const settings = (await res.json()) as { externalModules?: { palette?: { allowInstall?: boolean } } };
      assert.notEqual(settings.externalModules?.palette?.allowInstall, false, JSON.stringify(settings.externalModules));
    }

    it('Node-RED 4.1: the palette manager is on, a credentialSecret of its own (0600, not logged), a clean log at each start', async function () {
      const otherDir = fs.mkdtempSync(path.join(os.tmpdir(), 'openobd-start-'));
      try {
        const log = await run(['--nr4'], userDir, paletteAllowsInstall);
        const settings = writtenSettings(userDir);
        assert.equal(settings.mode, 0o600);
        assert.equal(settings.externalModules, undefined);
        assert.match(String(settings.credentialSecret), /^[0-9a-f]{64}$/);
        const secret = settings.credentialSecret as string;
        assertCleanLog(log, secret);

        // A deploy stores the account's credentials under that secret; the next start reads them quietly.
        const again = await run(['--nr4'], userDir, async (port) => {
          const flows = (await (await fetch(`http://127.0.0.1:${port}/flows`)).json()) as Array<Record<string, unknown>>;
          const account = flows.find((n) => n.type === 'openobd-account')!;
          account.credentials = { clientId: 'my-client-id', clientSecret: 'my-client-secret-7f3a' };
          const res = await fetch(`http://127.0.0.1:${port}/flows`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
            body: JSON.stringify(flows),
          });
          assert.equal(res.status, 204, await res.text());
        });
        const stored = fs.readFileSync(path.join(userDir, 'flows_cred.json'), 'utf8');
        assert.match(stored, /^\{\s*"\$":/);
        assert.ok(!stored.includes('my-client-secret-7f3a'), 'flows_cred.json holds the secret in plain text');
        assertCleanLog(again, secret);
        assert.equal(writtenSettings(userDir).credentialSecret, secret);

        // Another user directory gets another secret.
        await run(['--nr4'], otherDir);
        const other = writtenSettings(otherDir).credentialSecret;
        assert.match(String(other), /^[0-9a-f]{64}$/);
        assert.notEqual(other, secret);
      } finally {
        fs.rmSync(otherDir, { recursive: true, force: true });
      }
    });

    it('Node-RED 5 (--nr5): the palette manager is on and the log is as clean', async function () {
      const log = await run(['--nr5'], userDir, paletteAllowsInstall);
      const settings = writtenSettings(userDir);
      assert.equal(settings.mode, 0o600);
      assert.match(String(settings.credentialSecret), /^[0-9a-f]{64}$/);
      assertCleanLog(log, settings.credentialSecret as string);
    });
  });
});
