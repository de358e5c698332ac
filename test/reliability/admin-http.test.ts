import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { OpenObdSimulator } from '../../simulator';
import { startSession } from '../support/flow-builder';
import { delay, until } from './harness/wait';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const NR_DIR = path.dirname(require.resolve('node-red/package.json'));
const NR_VERSION = (require('node-red/package.json') as { version: string }).version;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * A real Node-RED process (red.js with a settings file: credentialSecret, adminAuth, this package from
 * nodesDir), driven over its admin HTTP API as the editor drives it: credentials go in with a deploy and
 * never come back out, not in the flows, not on disk in plain text, not in the log; the package's admin
 * endpoints need a signed-in user with read permission.
 */
describe(`reliability (Node-RED ${NR_VERSION} process): exported flows, stored credentials, admin HTTP`, function () {
  this.timeout(120000);
  const secret = `sk-${randomBytes(16).toString('hex')}`;
  const credentialSecret = `cs-${randomBytes(12).toString('hex')}`;
  const passwords = { admin: `pw-${randomBytes(6).toString('hex')}`, reader: `pw-${randomBytes(6).toString('hex')}` };
  let userDir: string;
  let child: ChildProcess | undefined;
  let output = '';
  let base: string;
  let sim: OpenObdSimulator;
  let killOnExit: (() => void) | undefined;

  async function token(username: 'admin' | 'reader', scope: string): Promise<string> {
    const res = await fetch(`${base}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: 'node-red-admin',
        grant_type: 'password',
        scope,
        username,
        password: passwords[username],
      }).toString(),
    });
    assert.equal(res.status, 200, `token for ${username}: ${res.status} ${await res.clone().text()}`);
    return ((await res.json()) as { access_token: string }).access_token;
  }

  const get = (p: string, bearer?: string) =>
    fetch(`${base}${p}`, { headers: { 'Node-RED-API-Version': 'v2', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) } });

  before(async function () {
    sim = new OpenObdSimulator({ partners: [{ clientId: 'http-partner', clientSecret: secret, clusterId: '001' }] });
    await sim.start();
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'openobd-nr-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;

    const bcrypt = require(require.resolve('bcryptjs', { paths: [NR_DIR] })) as { hashSync(p: string, rounds: number): string };
    const settings = path.join(userDir, 'settings.js');
    fs.writeFileSync(
      settings,
      `module.exports = ${JSON.stringify(
        {
          uiPort: port,
          uiHost: '127.0.0.1',
          flowFile: 'flows.json',
          credentialSecret,
          nodesDir: [ROOT],
          adminAuth: {
            type: 'credentials',
            users: [
              { username: 'admin', password: bcrypt.hashSync(passwords.admin, 8), permissions: '*' },
              { username: 'reader', password: bcrypt.hashSync(passwords.reader, 8), permissions: 'read' },
            ],
          },
          editorTheme: { tours: false, projects: { enabled: false } },
          telemetry: { enabled: false },
          externalModules: { palette: { allowInstall: false } },
          logging: { console: { level: 'debug', metrics: false, audit: false } },
        },
        null,
        2,
      )};\n`,
    );
    child = spawn(process.execPath, [path.join(NR_DIR, 'red.js'), '-u', userDir, '-s', settings], {
      cwd: userDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const started = child;
    killOnExit = () => started.kill('SIGKILL');
    process.once('exit', killOnExit);
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    let exited = false;
    child.once('exit', () => (exited = true));
    const up = await until(() => exited || /Server now running/.test(output), 60000);
    assert.ok(up && !exited, `Node-RED did not start:\n${output}`);
    assert.match(output, /openobd/i, 'the node set was loaded');
  });

  after(async function () {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child?.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, delay(8000)]);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await Promise.race([new Promise((r) => child?.once('exit', r)), delay(3000)]);
      }
    }
    if (killOnExit) process.removeListener('exit', killOnExit);
    await sim?.stop();
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  });

  it('a deployed account secret is used, but never exported: GET /flows, the credentials API, flows_cred.json on disk and the log do not contain it', async function () {
    const admin = await token('admin', '*');
    const flows = [
      { id: 'f1', type: 'tab', label: 'export' },
      {
        id: 'acc',
        type: 'openobd-account',
        name: 'partner',
        mode: 'custom',
        host: '127.0.0.1',
        port: sim.port,
        tls: false,
        allowInsecure: false,
        clusterId: '001',
        closePolicy: 'interrupt',
        credentials: { clientId: 'http-partner', clientSecret: secret },
      },
      {
        id: 'inj',
        type: 'inject',
        z: 'f1',
        name: 'go',
        props: [{ p: 'payload' }],
        payload: '1001',
        payloadType: 'str',
        repeat: '',
        once: false,
        topic: '',
        x: 100,
        y: 100,
        wires: [['start']],
      },
      startSession({ z: 'f1', account: 'acc', x: 300, y: 100 }),
    ];
    const deploy = await fetch(`${base}/flows`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'Node-RED-API-Version': 'v2',
        'Node-RED-Deployment-Type': 'full',
        authorization: `Bearer ${admin}`,
      },
      body: JSON.stringify({ flows }),
    });
    assert.equal(deploy.status, 200, await deploy.clone().text());
    // The account checks its credentials on deploy: the secret reached openOBD.
    assert.ok(
      await until(() => (sim.callCounts.get('sessionController.getSessionControllerToken') ?? 0) >= 1, 15000),
      `no credential check:\n${output}`,
    );
    assert.equal(sim.tokens.size >= 1, true, 'the simulator accepted the secret');
    // A session, so there are session tokens to leak too.
    const inject = await fetch(`${base}/inject/inj`, { method: 'POST', headers: { authorization: `Bearer ${admin}` } });
    assert.equal(inject.status, 200);
    assert.ok(await until(() => sim.stats().sessions.active === 1, 15000), `no session:\n${output}`);

    const exported = await (await get('/flows', admin)).text();
    assert.ok(exported.includes('"openobd-account"'), exported);
    assert.ok(!exported.includes(secret), 'GET /flows holds the client secret');
    const parsed = JSON.parse(exported) as { flows: Array<Record<string, unknown>> };
    const account = parsed.flows.find((n) => n.id === 'acc') as Record<string, unknown>;
    assert.equal(account.credentials, undefined, 'credentials are not part of the exported node');

    const creds = (await (await get('/credentials/openobd-account/acc', admin)).json()) as Record<string, unknown>;
    assert.equal(creds.has_clientSecret, true);
    assert.equal(creds.clientSecret, undefined, 'the password field is never sent back');
    assert.ok(!JSON.stringify(creds).includes(secret));

    const credFile = path.join(userDir, 'flows_cred.json');
    assert.ok(await until(() => fs.existsSync(credFile), 5000), 'flows_cred.json written');
    const stored = fs.readFileSync(credFile, 'utf8');
    assert.ok(!stored.includes(secret), 'flows_cred.json holds the secret in plain text');
    assert.ok(!stored.includes('http-partner'), 'flows_cred.json holds the client id in plain text');
    assert.match(stored, /^\s*\{\s*"\$"\s*:/, 'flows_cred.json is encrypted with credentialSecret');
    assert.ok(!fs.readFileSync(path.join(userDir, 'flows.json'), 'utf8').includes(secret));

    // The sessions endpoint (read permission) lists ids and states only.
    const reader = await token('reader', 'read');
    const sessions = await (await get('/openobd/sessions', reader)).text();
    assert.match(sessions, /"state":"active"/);
    await delay(300);
    const forbidden = [secret, ...sim.issuedTokenHistory()];
    for (const [where, text] of [
      ['Node-RED output', output],
      ['GET /openobd/sessions', sessions],
      ['GET /flows', exported],
    ] as const) {
      for (const f of forbidden) assert.ok(!text.includes(f), `${where} holds ${f === secret ? 'the client secret' : 'a token'}`);
    }
    assert.ok(forbidden.length >= 3, 'a controller, an authentication and a session token were issued');
  });

  it('GET /openobd/sessions and /openobd/simulator: 401 without a token or with a bad one, 200 with a read-permission token', async function () {
    const reader = await token('reader', 'read');
    for (const p of ['/openobd/sessions', '/openobd/simulator']) {
      assert.equal((await get(p)).status, 401, `${p} without a token`);
      assert.equal((await get(p, 'not-a-token')).status, 401, `${p} with a bad token`);
      const ok = await get(p, reader);
      assert.equal(ok.status, 200, `${p} with a read token`);
      const body = (await ok.json()) as unknown;
      assert.ok(Array.isArray(body) || typeof body === 'object');
    }
    // The reader may read but not deploy.
    const denied = await fetch(`${base}/flows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${reader}` },
      body: '[]',
    });
    assert.equal(denied.status, 401);
  });
});
