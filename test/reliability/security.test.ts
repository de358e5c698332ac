import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { inspect } from 'node:util';
import { SessionController, isLoopbackHost } from '../../client';
import { OpenObdSimulator } from '../../simulator';
import { currentBuiltinSimulator } from '../../nodes/lib/builtin-simulator';
import { registry } from '../../nodes/lib/registry';
import { FAST_SETTINGS, baseFlow, catchNode, helper, nodeRedVersion, openobdNodes } from '../support/nodered';
import { startSession } from '../support/flow-builder';
import type { FlowNode } from './harness/flow';
import { FlowHarness } from './harness/harness';
import { onLog, onSend, onStatus } from './harness/taps';
import { delay, until } from './harness/wait';

const ROOT = path.resolve(__dirname, '..', '..', '..');

/** Everything Node-RED showed, sent, logged or printed while recording, as text. */
class OutputRecorder {
  readonly records: Array<{ where: string; text: string }> = [];
  readonly #offs: Array<() => void> = [];
  readonly #writes: Array<[NodeJS.WriteStream, NodeJS.WriteStream['write']]> = [];

  start(): void {
    const text = (v: unknown) => inspect(v, { depth: 12, maxStringLength: Infinity, maxArrayLength: Infinity, breakLength: Infinity });
    this.#offs.push(onStatus((id, s) => this.records.push({ where: `status ${id}`, text: text(s) })));
    this.#offs.push(onSend((id, m) => this.records.push({ where: `msg from ${id}`, text: text(m) })));
    this.#offs.push(onLog((e) => this.records.push({ where: 'log', text: text(e) })));
    for (const stream of [process.stdout, process.stderr]) {
      const original = stream.write;
      this.#writes.push([stream, original]);
      const records = this.records;
      stream.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]) {
        records.push({ where: stream === process.stdout ? 'stdout' : 'stderr', text: String(chunk) });
        return (original as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
      } as NodeJS.WriteStream['write'];
    }
  }

  /** Adds a caught error as Node-RED handed it to the Catch node. */
  add(where: string, value: unknown): void {
    this.records.push({ where, text: inspect(value, { depth: 12, maxStringLength: Infinity }) });
  }

  stop(): void {
    for (const off of this.#offs.splice(0)) off();
    for (const [stream, original] of this.#writes.splice(0)) stream.write = original;
  }
}

/** Every record holding one of the forbidden values, with which one. */
function findSecrets(records: Array<{ where: string; text: string }>, forbidden: Array<{ name: string; value: string }>): string[] {
  const hits: string[] = [];
  for (const r of records) {
    for (const f of forbidden) if (r.text.includes(f.value)) hits.push(`${f.name} in ${r.where}: ${r.text.slice(0, 200)}`);
  }
  return hits;
}

/** A non-loopback IPv4 address of this machine, if it has one. */
function externalIPv4(): string | undefined {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

describe(`reliability (Node-RED ${nodeRedVersion()}): security`, function () {
  this.timeout(120000);

  it('no client secret, session token, controller token or authentication token appears in any msg, status, log line, printed line or caught error across happy paths, errors, keepalive faults, restarts and deploys', async function () {
    const secret = `sk-${randomBytes(16).toString('hex')}`;
    const wrongSecret = `wrong-${randomBytes(16).toString('hex')}`;
    const partner = { clientId: 'scan-partner', clientSecret: secret };
    const recorder = new OutputRecorder();
    recorder.start();
    let h: FlowHarness | undefined;
    const caught: unknown[] = [];
    try {
      h = await FlowHarness.start({
        sim: { partners: [{ ...partner, clusterId: '001' }], tokenIntervalMs: 150, tokenValidityMs: 2000 },
        session: { tokenIntervalMs: 150, tokenValidityMs: 2000, reconnect: { initialDelayMs: 25, maxDelayMs: 250 } },
        credentials: partner,
      });
      const record = (o: { ok: boolean; msg?: unknown }) => {
        if (!o.ok) caught.push(o.msg);
        return o;
      };
      // Happy paths and message-level errors.
      const id = await h.startSession('1001');
      for (const payload of ['22F190', '0902', '1902FF', '22FFFF', 'ZZ', '3E00']) record(await h.request(id, payload));
      record(await h.send('get', { openobd: { sessionId: id } }));
      record(await h.send('list', {}));
      record(await h.send('start', { payload: '424242' }));
      record(await h.send('finish', { openobd: { sessionId: id }, result: 'RESULT_MAYBE' }));
      // Keepalive faults: rotations, drops, a half-open stream, a server restart; all logged as they happen.
      assert.ok(await until(() => (registry.get(id)?.session.stats.tokens ?? 0) >= 12, 10000), 'token rotations');
      for (let i = 0; i < 2; i++) {
        await delay(400);
        h.sim.dropTokenStreams();
      }
      h.sim.faults.stallTokenStreams = true;
      await delay(600);
      h.sim.faults.stallTokenStreams = false;
      await h.sim.restart(300);
      await delay(800);
      record(await h.request(id, '22F190'));
      // Interrupt and finish.
      const other = await h.startSession('1002');
      record(await h.send('interrupt', { openobd: { sessionId: other } }));
      record(await h.send('finish', { openobd: { sessionId: id }, result: 'success', description: 'scan' }));
      record(await h.request(id, '3E00'));
      // A session lost while the server is away.
      const lostId = await h.startSession('1003');
      await h.sim.stop();
      await delay(2500);
      await h.sim.start();
      record(await h.request(lostId, '3E00'));
      // Deploys: wrong credentials (modified nodes), back to the right ones (full) with a live session, the finish policy.
      await h.deploy(h.flow({ credentials: { clientId: partner.clientId, clientSecret: wrongSecret } }), 'nodes', {
        clientId: partner.clientId,
        clientSecret: wrongSecret,
      });
      await delay(300);
      record(await h.send('start', { payload: '1001' }));
      record(await h.send('list', {}));
      await h.deploy(h.flow(), 'full', partner);
      await until(() => (h?.sim.sessions.get(lostId)?.state ?? 'failed') === 'failed', 5000);
      await h.startSession('1001');
      await h.deploy(h.flow({ closePolicy: 'finish' }), 'full', partner);
      await h.startSession('1001');
      const leaks = await h.close();
      assert.equal(leaks.total, 0, JSON.stringify(leaks));
    } finally {
      recorder.stop();
      if (h && h.sim.running) await h.sim.stop();
    }
    for (const c of caught) recorder.add('caught error', c);
    const sim = h as FlowHarness;
    const tokens = sim.sim.issuedTokenHistory();
    // At least: 3 controller tokens (three account runtimes), 5 one-time authentication tokens and 5 first
    // session tokens (five claimed sessions), 12 rotations of the first session.
    assert.ok(tokens.length >= 25, `only ${tokens.length} tokens were issued: the scan would prove little`);
    const forbidden = [
      { name: 'client secret', value: secret },
      { name: 'wrong client secret', value: wrongSecret },
      ...tokens.map((value, i) => ({ name: `token #${i}`, value })),
    ];
    const kinds = new Set(recorder.records.map((r) => r.where.split(' ')[0]));
    for (const kind of ['status', 'msg', 'log']) assert.ok(kinds.has(kind), `recorded ${[...kinds].join(', ')}`);
    assert.ok(caught.length >= 8, `caught errors: ${caught.length}`);
    assert.ok(recorder.records.length > 200, `records: ${recorder.records.length}`);
    assert.deepEqual(findSecrets(recorder.records, forbidden).slice(0, 5), []);
    // The scan itself works: a planted token is found.
    assert.equal(findSecrets([{ where: 'planted', text: `Bearer ${tokens[tokens.length - 1]}` }], forbidden).length, 1);
  });

  it('TLS is required for every non-loopback endpoint: plaintext is refused with INSECURE_ENDPOINT unless "allow insecure" is set', async function () {
    const refused = [
      'diag.example.com',
      '192.0.2.10',
      '10.0.0.1',
      '0.0.0.0',
      '::ffff:127.0.0.1',
      '127.0.0.1.nip.io',
      'localhost.example.com',
      'fd00::2',
    ];
    for (const host of refused) assert.equal(isLoopbackHost(host), false, host);
    for (const host of ['127.0.0.1', '127.8.9.10', 'localhost', '::1', '[::1]']) assert.equal(isLoopbackHost(host), true, host);
    const sim = new OpenObdSimulator();
    await sim.start();
    try {
      // One account per host, each with a start node, in one flow.
      const nodes: FlowNode[] = [
        { id: 'tab', type: 'tab', label: 'tls' },
        { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, x: 0, y: 0, wires: [['caught']] },
        { id: 'caught', z: 'tab', type: 'helper', x: 0, y: 0 },
      ];
      const credentials: Record<string, unknown> = {};
      const hosts = [
        ...refused.map((host) => ({ host, allowInsecure: false, tls: false })),
        { host: '127.0.0.1', allowInsecure: false, tls: false },
        { host: 'localhost', allowInsecure: false, tls: false },
      ];
      hosts.forEach((a, i) => {
        nodes.push({
          id: `acc${i}`,
          type: 'openobd-account',
          name: a.host,
          mode: 'custom',
          host: a.host,
          port: a.host.includes('127.0.0.1') || a.host === 'localhost' ? sim.port : 50051,
          tls: a.tls,
          allowInsecure: a.allowInsecure,
          clusterId: '001',
          closePolicy: 'interrupt',
        });
        nodes.push(startSession({ id: `start${i}`, account: `acc${i}`, target: String(1001 + (i % 3)), to: ['ok'] }));
        credentials[`acc${i}`] = { clientId: 'simulator-partner', clientSecret: 'simulator-secret' };
      });
      nodes.push({ id: 'ok', z: 'tab', type: 'helper', x: 0, y: 0 });
      helper.settings(FAST_SETTINGS as never);
      await helper.load([openobdNodes, catchNode] as never, nodes as never, credentials as never);
      const outcome = (i: number) =>
        new Promise<{ ok: boolean; code?: string; message?: string }>((resolve) => {
          const ok = helper.getNode('ok') as unknown as NodeJS.EventEmitter;
          const c = helper.getNode('caught') as unknown as NodeJS.EventEmitter;
          const onOk = () => finish({ ok: true });
          const onErr = (m: { error: { code: string; message: string; source: { id: string } } }) =>
            m.error.source.id === `start${i}` && finish({ ok: false, code: m.error.code, message: m.error.message });
          const finish = (o: { ok: boolean; code?: string; message?: string }) => {
            ok.removeListener('input', onOk);
            c.removeListener('input', onErr);
            resolve(o);
          };
          ok.on('input', onOk);
          c.on('input', onErr);
          helper.getNode(`start${i}`).receive({});
        });
      for (let i = 0; i < refused.length; i++) {
        const o = await outcome(i);
        assert.equal(o.code, 'INSECURE_ENDPOINT', `${refused[i]}: ${JSON.stringify(o)}`);
        assert.match(o.message ?? '', /Refusing plaintext gRPC/);
      }
      // Loopback may be plaintext (the simulator).
      assert.equal((await outcome(refused.length)).ok, true, '127.0.0.1');
      await helper.unload();
      helper.settings({});

      // With "allow insecure", plaintext to a non-loopback address works: a simulator told to listen there.
      const ip = externalIPv4();
      if (ip) {
        const exposed = new OpenObdSimulator({ host: ip });
        await exposed.start();
        try {
          const flow = (allowInsecure: boolean) =>
            baseFlow([startSession({ target: '1001', to: ['ok'] }), { id: 'ok', type: 'helper' }], {
              mode: 'custom',
              host: ip,
              port: exposed.port,
              tls: false,
              allowInsecure,
            });
          helper.settings(FAST_SETTINGS as never);
          await helper.load(
            [openobdNodes, catchNode] as never,
            flow(true) as never,
            { account: { clientId: 'simulator-partner', clientSecret: 'simulator-secret' } } as never,
          );
          const ok = new Promise((resolve, reject) => {
            helper.getNode('ok').once('input', resolve);
            helper.getNode('caught').once('input', (m: { error: { message: string } }) => reject(new Error(m.error.message)));
          });
          helper.getNode('start').receive({});
          await ok;
          assert.equal(exposed.stats().sessions.active, 1);
        } finally {
          await helper.unload();
          helper.settings({});
          await exposed.stop();
        }
      }
      // The built-in and the cloud defaults: TLS unless switched off, port 443.
      const cloud = new SessionController({ credentials: { clientId: 'x', clientSecret: 'y' }, env: {} });
      assert.equal(cloud.endpoint.tls, true);
      assert.equal(cloud.endpoint.target, 'grpc.openobd.com:443');
      cloud.close();
    } finally {
      await sim.stop();
    }
  });

  it('a session endpoint handed out by the server cannot switch a loopback controller to plaintext off loopback; the unclaimed session is interrupted', async function () {
    const sim = new OpenObdSimulator({ advertisedHost: 'diag.example.com' });
    await sim.start();
    try {
      const flow = baseFlow([startSession({ target: '1001', to: ['ok'] }), { id: 'ok', type: 'helper' }], {
        mode: 'custom',
        host: '127.0.0.1',
        port: sim.port,
        tls: false,
      });
      helper.settings(FAST_SETTINGS as never);
      await helper.load(
        [openobdNodes, catchNode] as never,
        flow as never,
        { account: { clientId: 'simulator-partner', clientSecret: 'simulator-secret' } } as never,
      );
      const caught = new Promise<{ error: { code: string; message: string } }>((resolve) =>
        helper.getNode('caught').once('input', resolve),
      );
      helper.getNode('start').receive({});
      const c = await caught;
      assert.equal(c.error.code, 'INSECURE_ENDPOINT');
      assert.match(c.error.message, /diag\.example\.com/);
      assert.ok(await until(() => sim.stats().sessions.interrupted === 1, 5000), JSON.stringify(sim.stats().sessions));
      assert.equal(sim.stats().sessions.active ?? 0, 0);
    } finally {
      await helper.unload();
      helper.settings({});
      await sim.stop();
    }
  });

  it('the simulator listens on loopback only unless told otherwise (library, built-in simulator of the account, command line)', async function () {
    const ip = externalIPv4();
    const sim = new OpenObdSimulator();
    await sim.start();
    try {
      assert.equal(sim.options.host, '127.0.0.1');
      assert.match(sim.endpoint, /^127\.0\.0\.1:\d+$/);
      assert.equal(await canConnect('127.0.0.1', sim.port as number), true);
      if (ip) assert.equal(await canConnect(ip, sim.port as number), false, `reachable on ${ip}`);
    } finally {
      await sim.stop();
    }
    // The account's built-in simulator.
    helper.settings(FAST_SETTINGS as never);
    await helper.load([openobdNodes, catchNode] as never, baseFlow([]) as never);
    try {
      let builtin: OpenObdSimulator | undefined;
      for (let i = 0; i < 100 && !builtin; i++) {
        builtin = await currentBuiltinSimulator();
        if (!builtin) await delay(20);
      }
      assert.ok(builtin, 'the built-in simulator runs');
      assert.equal(builtin.options.host, '127.0.0.1');
      if (ip) assert.equal(await canConnect(ip, builtin.port as number), false);
    } finally {
      await helper.unload();
      helper.settings({});
    }
    // The command line (openobd-simulator).
    const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'simulator', 'cli.js'), '--port', '0', '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`no output: ${out} ${err}`)), 20000);
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('\n')) {
            clearTimeout(timer);
            resolve(out.split('\n')[0]);
          }
        });
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`exited ${code}: ${out} ${err}`));
        });
      });
      const info = JSON.parse(line) as { endpoint: string };
      assert.match(info.endpoint, /^127\.0\.0\.1:\d+$/);
      if (ip) assert.equal(await canConnect(ip, Number(info.endpoint.split(':')[1])), false);
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      if (child.exitCode === null) child.kill('SIGTERM');
      await Promise.race([exited, delay(5000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  it('every admin HTTP route of the node set requires a Node-RED permission, and no route is public', function () {
    type Route = { method: string; path: string; handlers: unknown[] };
    const routes: Route[] = [];
    const publicRoutes: Route[] = [];
    const permission = (p: string) => Object.assign((_req: unknown, _res: unknown, next: () => void) => next(), { permission: p });
    const app = (list: Route[]) => {
      const add =
        (method: string) =>
        (p: string, ...handlers: unknown[]) =>
          list.push({ method, path: p, handlers });
      return {
        get: add('get'),
        post: add('post'),
        put: add('put'),
        delete: add('delete'),
        patch: add('patch'),
        all: add('all'),
        use: add('use'),
      };
    };
    const RED = {
      nodes: { registerType: () => undefined, createNode: () => undefined, getNode: () => null },
      httpAdmin: app(routes),
      httpNode: app(publicRoutes),
      auth: { needsPermission: permission },
      settings: {},
      util: {},
      log: { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined, trace: () => undefined },
      _: (k: string) => k,
      events: { on: () => undefined },
    };
    (openobdNodes as (red: unknown) => void)(RED);
    assert.ok(routes.length >= 2, `admin routes: ${routes.map((r) => r.path).join(', ')}`);
    for (const r of routes) {
      assert.notEqual(r.method, 'use', `global middleware on ${r.path}`);
      const guard = r.handlers.find((f) => typeof (f as { permission?: string }).permission === 'string') as
        { permission: string } | undefined;
      assert.ok(guard, `${r.method.toUpperCase()} ${r.path} has no permission check`);
      assert.match(guard.permission, /^openobd-[a-z-]+\.(read|write)$/);
      assert.equal(r.handlers.indexOf(guard), 0, `${r.path}: the permission check comes first`);
    }
    assert.deepEqual(publicRoutes, [], 'no route on the public httpNode app');
  });
});
