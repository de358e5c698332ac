import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { inspect } from 'node:util';
import { ConnectionPool, OpenObdError, SessionController, defaultConnectionPool, resolveEndpoint } from '../../client';
import { DEFAULT_SIMULATOR_CREDENTIALS, OpenObdSimulator } from '../../simulator';
import { ENGINE, controllerFor, delay, startSimulator } from '../support/sim';

const FIXTURES = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'tls');
const read = (f: string) => fs.readFileSync(path.join(FIXTURES, f));

describe('client library: transport, credentials and secrets', function () {
  this.timeout(20000);

  describe('TLS', function () {
    let sim: OpenObdSimulator;
    before(async function () {
      sim = await startSimulator({ tls: { cert: read('server.crt'), key: read('server.key') }, advertisedHost: 'localhost' });
    });
    after(async function () {
      await sim.stop();
    });

    it('speaks TLS on a port other than 443 when trusting the given CA (TLS is a setting, not a port)', async function () {
      assert.notEqual(sim.port, 443);
      const controller = new SessionController({
        endpoint: { host: 'localhost', port: sim.port, tls: true, ca: read('server.crt') },
        credentials: DEFAULT_SIMULATOR_CREDENTIALS,
        env: {},
      });
      try {
        const session = await controller.startSession({ ticketId: '1001' });
        assert.equal((await session.request(ENGINE, '3E00')).responses[0].hex, '7E00');
        await session.finish();
      } finally {
        controller.close();
      }
    });

    it('refuses a server whose certificate the CA does not vouch for', async function () {
      const controller = new SessionController({
        endpoint: { host: 'localhost', port: sim.port, ca: read('other.crt') },
        credentials: DEFAULT_SIMULATOR_CREDENTIALS,
        env: {},
        retry: { attempts: 1 },
        callTimeoutMs: 3000,
      });
      try {
        await assert.rejects(
          controller.listSessions(),
          (err: OpenObdError) => err.code === 'UNAVAILABLE' || err.code === 'DEADLINE_EXCEEDED',
        );
      } finally {
        controller.close();
      }
    });

    it('a plaintext client cannot talk to the TLS server', async function () {
      const controller = controllerFor(sim, { retry: { attempts: 1 }, callTimeoutMs: 3000 });
      try {
        await assert.rejects(
          controller.listSessions(),
          (err: OpenObdError) => err.code === 'UNAVAILABLE' || err.code === 'DEADLINE_EXCEEDED' || err.code === 'INTERNAL',
        );
      } finally {
        controller.close();
      }
    });
  });

  describe('endpoints', function () {
    it('TLS is on by default; plaintext only on loopback unless allowed', function () {
      assert.equal(resolveEndpoint('grpc.openobd.com').tls, true);
      assert.equal(resolveEndpoint('grpc.openobd.com').port, 443);
      assert.equal(resolveEndpoint({ host: 'example.com', port: 8443 }).tls, true);
      assert.equal(resolveEndpoint({ host: '127.0.0.1', port: 50051, tls: false }).target, '127.0.0.1:50051');
      assert.equal(resolveEndpoint({ host: '::1', port: 50051, tls: false }).target, '[::1]:50051');
      assert.throws(
        () => resolveEndpoint({ host: '10.0.0.5', port: 50051, tls: false }),
        (e: OpenObdError) => e.code === 'INSECURE_ENDPOINT',
      );
      assert.equal(resolveEndpoint({ host: '10.0.0.5', port: 50051, tls: false, allowInsecure: true }).tls, false);
      assert.equal(resolveEndpoint('grpc://localhost:50051').tls, false);
      assert.equal(resolveEndpoint('grpcs://diag.example.com:9443').port, 9443);
      assert.throws(
        () => resolveEndpoint({ host: 'x', port: 70000 }),
        (e: OpenObdError) => e.code === 'BAD_CONFIG',
      );
    });

    it("one connection for the controllers' calls, one for the sessions, shared and counted", async function () {
      const sim = await startSimulator();
      try {
        const before = defaultConnectionPool.size;
        const idleBefore = defaultConnectionPool.idle;
        const a = controllerFor(sim);
        const b = controllerFor(sim);
        assert.equal(defaultConnectionPool.size, before + 1, 'the controllers share one connection');
        const s = await a.startSession({ ticketId: '1001' }); // the session endpoint is the same server
        const t = await b.startSession({ ticketId: '1002' });
        assert.equal(
          defaultConnectionPool.size,
          before + 2,
          'sessions go on a connection of their own, which no controller call waits behind',
        );
        s.close();
        t.close();
        assert.equal(defaultConnectionPool.size, before + 1, 'the sessions connection is out of use with its last session');
        assert.equal(defaultConnectionPool.idle, idleBefore + 1, '... and waits idle for the next session');
        a.close();
        assert.equal(defaultConnectionPool.idle, idleBefore, 'closed with a controller whose sessions used it');
        assert.equal(defaultConnectionPool.size, before + 1, 'still used by b');
        b.close();
        assert.equal(defaultConnectionPool.size, before);
      } finally {
        await sim.stop();
      }
    });

    it('a sessions connection waits idle for the next session: taken again, closed after idleLingerMs or with the controller', async function () {
      const sim = await startSimulator();
      const pool = new ConnectionPool({ idleLingerMs: 300 });
      const controller = controllerFor(sim, { connectionPool: pool });
      const idle = { connections: 1, sessionConnections: 0, sessions: 0, idleConnections: 1 };
      const inUse = { connections: 2, sessionConnections: 1, sessions: 1, idleConnections: 0 };
      try {
        const first = await controller.startSession({ ticketId: '1001' });
        await first.finish();
        assert.deepEqual(pool.stats(), idle, 'its last session ended: the connection stays, idle');
        const second = await controller.startSession({ ticketId: '1001' });
        assert.deepEqual(pool.stats(), inUse, 'the next session took the idle connection (no second one)');
        await second.finish();
        await delay(450);
        assert.deepEqual(pool.stats(), { ...idle, idleConnections: 0 }, 'closed after idleLingerMs');
        // After the pause the start warms a connection to where the last session went; the session takes it.
        const third = await controller.startSession({ ticketId: '1001' });
        assert.deepEqual(pool.stats(), inUse);
        assert.equal((await third.request(ENGINE, '3E00')).responses[0].hex, '7E00');
        await third.finish();
        assert.equal(pool.idle, 1);
        controller.close();
        assert.deepEqual(pool.stats(), { ...idle, connections: 0, idleConnections: 0 }, 'closed with the controller');
      } finally {
        controller.close();
        await sim.stop();
      }
    });

    it('with idleLingerMs 0 a sessions connection closes with its last session', async function () {
      const sim = await startSimulator();
      const pool = new ConnectionPool({ idleLingerMs: 0 });
      const controller = controllerFor(sim, { connectionPool: pool });
      try {
        await (await controller.startSession({ ticketId: '1001' })).finish();
        assert.deepEqual(pool.stats(), { connections: 1, sessionConnections: 0, sessions: 0, idleConnections: 0 });
      } finally {
        controller.close();
        await sim.stop();
      }
    });
  });

  describe('credentials', function () {
    let sim: OpenObdSimulator;
    before(async function () {
      sim = await startSimulator();
    });
    after(async function () {
      await sim.stop();
    });

    it('falls back to the official environment variables', async function () {
      const env = {
        OPENOBD_PARTNER_CLIENT_ID: DEFAULT_SIMULATOR_CREDENTIALS.clientId,
        OPENOBD_PARTNER_CLIENT_SECRET: DEFAULT_SIMULATOR_CREDENTIALS.clientSecret,
        OPENOBD_CLUSTER_ID: '001',
        OPENOBD_GRPC_HOST: `grpc://127.0.0.1:${sim.port}`,
      };
      const controller = new SessionController({ env });
      try {
        assert.equal(controller.endpoint.target, `127.0.0.1:${sim.port}`);
        assert.deepEqual(await controller.listSessions(), []);
      } finally {
        controller.close();
      }
      assert.throws(
        () => new SessionController({ env: { OPENOBD_PARTNER_CLIENT_ID: 'x' } }),
        (e: OpenObdError) => e.code === 'BAD_CONFIG' && /OPENOBD_PARTNER_CLIENT_SECRET/.test(e.message),
      );
    });

    it('fetches a new controller token before its assumed lifetime ends', async function () {
      const controller = controllerFor(sim, { tokenLifetimeMs: 300, tokenRefreshMarginMs: 100 });
      const calls = () => sim.callCounts.get('sessionController.getSessionControllerToken') ?? 0;
      try {
        const before = calls();
        await controller.listSessions();
        await controller.listSessions();
        assert.equal(calls() - before, 1);
        await new Promise((r) => setTimeout(r, 250));
        await controller.listSessions();
        assert.equal(calls() - before, 2);
      } finally {
        controller.close();
      }
    });

    it('never shows a token or the client secret: toString, JSON, inspect, log lines, errors', async function () {
      const lines: string[] = [];
      const log = (m: string) => lines.push(m);
      const controller = controllerFor(sim, { logger: { debug: log, info: log, warn: log, error: log } });
      try {
        const info = await controller.startSessionOnTicket('1002');
        const session = await controller.openSession(info);
        await session.request(ENGINE, '22F190');
        sim.dropTokenStreams();
        await new Promise((r) => setTimeout(r, 300));
        const texts = [
          String(controller),
          JSON.stringify(controller),
          inspect(controller, { depth: 5, showHidden: true }),
          String(session),
          JSON.stringify(session),
          inspect(session, { depth: 3 }),
          String(info.authenticationToken),
          JSON.stringify(info),
          inspect(info),
          ...lines,
        ];
        const bad = new OpenObdError('UNKNOWN', `something echoed ${info.authenticationToken.reveal()} back`, {
          details: `details with ${info.authenticationToken.reveal()}`,
        });
        texts.push(bad.message, JSON.stringify(bad), bad.details ?? '');
        const secrets = [DEFAULT_SIMULATOR_CREDENTIALS.clientSecret, info.authenticationToken.reveal(), ...sim.tokens.keys()];
        for (const text of texts)
          for (const secret of secrets) assert.ok(!text.includes(secret), `a secret leaked into: ${text.slice(0, 120)}`);
        assert.ok(
          lines.some((l) => /keepalive/.test(l)),
          'the log did record the keepalive drop',
        );
        await session.finish();
      } finally {
        controller.close();
      }
    });
  });

  describe('the openobd-simulator command', function () {
    it('starts, prints its endpoint and credentials, and serves a session', async function () {
      const cli = path.resolve(__dirname, '..', '..', 'simulator', 'cli.js');
      const child = spawn(process.execPath, [cli, '--port', '0', '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
      try {
        const line = await new Promise<string>((resolve, reject) => {
          let buf = '';
          child.stdout.on('data', (d: Buffer) => {
            buf += d.toString();
            if (buf.includes('\n')) resolve(buf.split('\n')[0]);
          });
          child.once('exit', (code) => reject(new Error(`exited with ${code}`)));
        });
        const info = JSON.parse(line) as { endpoint: string; clientId: string; clientSecret: string; clusterId: string; tickets: string[] };
        assert.match(info.endpoint, /^127\.0\.0\.1:\d+$/);
        assert.deepEqual(info.tickets, ['1001', '1002', '1003', '2001', '2002']);
        const controller = new SessionController({ endpoint: `grpc://${info.endpoint}`, credentials: info, env: {} });
        try {
          const session = await controller.startSession({ ticketId: info.tickets[0] });
          assert.equal((await session.request(ENGINE, '3E00')).responses[0].hex, '7E00');
          await session.finish();
        } finally {
          controller.close();
        }
      } finally {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
    });
  });
});
