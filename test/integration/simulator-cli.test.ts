import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/*
 * The openobd-simulator command as another openOBD client meets it: a plain @grpc/grpc-js client built from
 * proto/ (nothing from client/), given only what the command prints. In plaintext it prints the host and the
 * port apart (OPENOBD_GRPC_HOST, OPENOBD_GRPC_PORT: openOBD's Python client dials plaintext only when given a
 * port other than 443); with --tls it serves a self-signed certificate it made and prints its path, or
 * serves the given --tls-cert/--tls-key.
 */

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'simulator', 'cli.js');
const PROTO_DIR = path.join(ROOT, 'proto');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'tls');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;
type Client = grpc.Client & Record<string, Any>;

const definition = protoLoader.loadSync(path.join('openobd', 'v1', 'session_controller.proto'), {
  keepCase: true,
  defaults: true,
  includeDirs: [PROTO_DIR],
});
const SessionController = (grpc.loadPackageDefinition(definition) as Any).openOBD.v1.sessionController as new (
  address: string,
  credentials: grpc.ChannelCredentials,
) => Client;

function unary<T = Any>(client: Client, method: string, request: unknown, metadata = new grpc.Metadata()): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    client[method](request, metadata, { deadline: Date.now() + 5000 }, (err: grpc.ServiceError | null, reply: T) =>
      err ? reject(err) : resolve(reply),
    );
  });
}

/** What every openOBD client does first: the controller token, then a session on ticket 1001. */
async function startSession(address: string, credentials: grpc.ChannelCredentials, env: Record<string, string>): Promise<Any> {
  const client = new SessionController(address, credentials);
  try {
    const token = await unary<{ value: string }>(client, 'getSessionControllerToken', {
      client_id: env.OPENOBD_PARTNER_CLIENT_ID,
      client_secret: env.OPENOBD_PARTNER_CLIENT_SECRET,
      cluster_id: env.OPENOBD_CLUSTER_ID,
    });
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${token.value}`);
    const info = await unary(client, 'startSessionOnTicket', { value: '1001' }, md);
    await unary(client, 'interruptSession', { value: info.id }, md);
    return info;
  } finally {
    client.close();
  }
}

/**
 * Runs, in a process of its own whose environment is `env` and nothing else, a plain grpc-js client with
 * default TLS credentials and this package's SessionController with its defaults; returns what they print.
 */
function clientsFromEnvironment(env: Record<string, string>): Promise<string> {
  const script = `
    const grpc = require('@grpc/grpc-js');
    const loader = require('@grpc/proto-loader');
    const { SessionController } = require(${JSON.stringify(path.join(ROOT, 'dist', 'client'))});
    const e = process.env;
    const def = loader.loadSync('openobd/v1/session_controller.proto', { keepCase: true, includeDirs: [${JSON.stringify(PROTO_DIR)}] });
    const Ctl = grpc.loadPackageDefinition(def).openOBD.v1.sessionController;
    const c = new Ctl(e.OPENOBD_GRPC_HOST, grpc.credentials.createSsl());
    const call = (m, req, md) => new Promise((ok, no) => c[m](req, md || new grpc.Metadata(), (err, r) => (err ? no(err) : ok(r))));
    (async () => {
      const t = await call('getSessionControllerToken', { client_id: e.OPENOBD_PARTNER_CLIENT_ID, client_secret: e.OPENOBD_PARTNER_CLIENT_SECRET, cluster_id: e.OPENOBD_CLUSTER_ID });
      const md = new grpc.Metadata();
      md.set('authorization', 'Bearer ' + t.value);
      const info = await call('startSessionOnTicket', { value: '1001' }, md);
      await call('interruptSession', { value: info.id }, md);
      c.close();
      const controller = new SessionController();
      const session = await controller.startSession({ ticketId: '1001' });
      const answer = await session.request({ bus: { name: 'obd-can' }, requestId: 0x7e0, responseId: 0x7e8 }, '3E00');
      await session.finish();
      controller.close();
      process.stdout.write('plain gRPC: ' + info.state + '; this package: ' + answer.responses[0].hex);
    })().catch((err) => { process.stderr.write(String(err && err.stack || err)); process.exit(1); });
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], {
      cwd: ROOT,
      env: { ...env, PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`client exited with ${code}: ${out}\n${err}`))));
  });
}

interface Running {
  child: ChildProcess;
  /** Everything printed up to "Press Ctrl-C to stop." (or the JSON line). */
  text: string;
  /** The NAME=value lines printed. */
  env: Record<string, string>;
}

const running = new Set<ChildProcess>();

function cli(args: string[]): Promise<Running> {
  const child = spawn(process.execPath, [CLI, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`no output in 20 s: ${out} ${err}`)), 20000);
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (/Press Ctrl-C to stop\.\n/.test(out) || (args.includes('--json') && out.includes('\n'))) {
        clearTimeout(timer);
        const env = Object.fromEntries([...out.matchAll(/^ {2}([A-Z_]+)=(\S+)/gm)].map((m) => [m[1]!, m[2]!]));
        resolve({ child, text: out, env });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(Object.assign(new Error(`exited with ${code}: ${out} ${err}`), { code, stderr: err }));
    });
  });
}

async function stop(child: ChildProcess): Promise<void> {
  running.delete(child);
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

describe('the openobd-simulator command line', function () {
  this.timeout(60000);

  afterEach(async function () {
    for (const child of [...running]) await stop(child);
  });

  it('plaintext: prints the host and the port apart, and a client given just those two starts a session', async function () {
    const { child, text, env } = await cli([]);
    assert.match(text, /^openOBD simulator listening on 127\.0\.0\.1:\d+ \(plaintext\)$/m);
    assert.equal(env.OPENOBD_GRPC_HOST, '127.0.0.1');
    assert.match(env.OPENOBD_GRPC_PORT!, /^\d+$/);
    assert.notEqual(env.OPENOBD_GRPC_PORT, '443');
    const info = await startSession(`${env.OPENOBD_GRPC_HOST}:${env.OPENOBD_GRPC_PORT}`, grpc.credentials.createInsecure(), env);
    assert.equal(info.state, 'available');
    assert.ok(!text.includes('certificate'));
    await stop(child);
  });

  it('--tls: serves a self-signed certificate for localhost and 127.0.0.1, prints its path, and a client trusting it starts a session', async function () {
    const { child, text, env } = await cli(['--tls']);
    const port = /^openOBD simulator listening on 127\.0\.0\.1:(\d+) \(TLS\)$/m.exec(text)?.[1];
    assert.ok(port, text);
    const certFile = /^ {2}certificate: (\S+)/m.exec(text)?.[1];
    assert.ok(certFile && path.isAbsolute(certFile), text);
    assert.equal(env.GRPC_DEFAULT_SSL_ROOTS_FILE_PATH, certFile);
    // The target whole: openOBD's Python client dials TLS to it when OPENOBD_GRPC_PORT is not given.
    assert.equal(env.OPENOBD_GRPC_HOST, `127.0.0.1:${port}`);
    assert.equal(env.OPENOBD_GRPC_PORT, undefined);
    const ca = fs.readFileSync(certFile);
    const x509 = new crypto.X509Certificate(ca);
    assert.equal(x509.checkHost('localhost'), 'localhost');
    assert.equal(x509.checkIP('127.0.0.1'), '127.0.0.1');
    assert.ok(x509.verify(x509.publicKey), 'self-signed');
    assert.equal(fs.statSync(path.join(path.dirname(certFile), 'key.pem')).mode & 0o777, 0o600);

    const address = env.OPENOBD_GRPC_HOST;
    const info = await startSession(address, grpc.credentials.createSsl(ca), env);
    assert.equal(info.state, 'available');
    assert.match(info.authentication_token, /\S/);
    // By name too: the certificate names localhost.
    await startSession(`localhost:${port}`, grpc.credentials.createSsl(ca), env);

    // Clients that only read the printed variables from their environment, with no code for the simulator:
    // gRPC's default roots come from GRPC_DEFAULT_SSL_ROOTS_FILE_PATH, as in openOBD's Python client.
    assert.equal(await clientsFromEnvironment(env), 'plain gRPC: available; this package: 7E00');

    // Neither plaintext nor a client that trusts another certificate gets through.
    await assert.rejects(startSession(address, grpc.credentials.createInsecure(), env), (err: grpc.ServiceError) => {
      assert.equal(err.code, grpc.status.UNAVAILABLE);
      return true;
    });
    await assert.rejects(
      startSession(address, grpc.credentials.createSsl(fs.readFileSync(path.join(FIXTURES, 'other.crt'))), env),
      (err: grpc.ServiceError) => {
        assert.equal(err.code, grpc.status.UNAVAILABLE);
        return true;
      },
    );

    // The certificate was made for this run: Ctrl-C removes it.
    await stop(child);
    assert.equal(fs.existsSync(path.dirname(certFile)), false);
  });

  it('--tls-dir alone turns TLS on too', async function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openobd-cli-tls-'));
    try {
      const { text } = await cli(['--tls-dir', dir]);
      assert.match(text, /\(TLS\)$/m);
      assert.ok(fs.existsSync(path.join(dir, 'cert.pem')));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--tls --tls-dir: keeps the certificate there and serves the same one after a restart', async function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openobd-cli-tls-'));
    try {
      const first = await cli(['--tls', '--tls-dir', dir, '--json']);
      const info = JSON.parse(first.text.split('\n')[0]!) as Any;
      assert.equal(info.tls, true);
      assert.equal(info.certFile, path.join(dir, 'cert.pem'));
      assert.equal(info.host, '127.0.0.1');
      assert.equal(info.endpoint, `127.0.0.1:${info.port}`);
      const ca = fs.readFileSync(info.certFile);
      await stop(first.child);
      assert.ok(fs.existsSync(info.certFile), 'a kept folder keeps its certificate');

      const second = await cli(['--tls', '--tls-dir', dir, '--json']);
      const again = JSON.parse(second.text.split('\n')[0]!) as Any;
      assert.deepEqual(fs.readFileSync(again.certFile), ca);
      const env = {
        OPENOBD_PARTNER_CLIENT_ID: again.clientId,
        OPENOBD_PARTNER_CLIENT_SECRET: again.clientSecret,
        OPENOBD_CLUSTER_ID: again.clusterId,
      };
      assert.equal((await startSession(again.endpoint, grpc.credentials.createSsl(ca), env)).state, 'available');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--tls-cert/--tls-key: serves the given certificate', async function () {
    const certFile = path.join(FIXTURES, 'server.crt');
    const { text, env } = await cli(['--tls-cert', certFile, '--tls-key', path.join(FIXTURES, 'server.key')]);
    assert.ok(text.includes(`  certificate: ${certFile} `), text);
    const port = env.OPENOBD_GRPC_HOST!.split(':')[1];
    const info = await startSession(`localhost:${port}`, grpc.credentials.createSsl(fs.readFileSync(certFile)), env);
    assert.equal(info.state, 'available');
  });

  it('--tls-cert without --tls-key stops with a message', async function () {
    await assert.rejects(cli(['--tls-cert', path.join(FIXTURES, 'server.crt')]), (err: Error & { code: number; stderr: string }) => {
      assert.equal(err.code, 1);
      assert.match(err.stderr, /--tls-cert and --tls-key go together/);
      return true;
    });
  });
});
