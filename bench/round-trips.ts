/*
 * Benchmark section 6: the first answer of a fresh session, counted in round trips of a slow link.
 *
 * A TCP proxy in this process delays every chunk 30 ms in each direction (order kept), so the link has a
 * 60 ms round trip; everything between here and the simulator child goes through it, the sessions' own
 * connections too (the simulator advertises the proxy's address in SessionInfo.grpc_endpoint). The proxy
 * is a child process of its own (delay-proxy.ts), as is the simulator. With the
 * controller's token already held, one run is: start a session on a ticket, claim it (authenticate; the
 * token stream opens as the library does), and read the VIN (UDS 22 F190 over ISO-TP, which configures
 * the bus first). Elapsed ÷ 60 ms is the number of round trips. openOBD's floor is 4: startSessionOnTicket,
 * authenticate, configureBus and the request each wait for the answer of the one before.
 *
 * Sessions run one after another, each finished before the next starts (a workshop running one procedure
 * at a time); the first run of each variant is reported apart (no earlier session has used the link).
 * Variants: the client library in plaintext and over TLS, a Node-RED flow (start session → send
 * request), and the library again with each session after a pause longer than the pool keeps an idle
 * connection. Each run follows a run of the measured floor on the same link (a plain grpc-js client making
 * the same four calls on an open connection), so the load of the machine shows in both alike. The proxy also counts the TCP connections opened through it during each run.
 *
 * Run by bench.ts; standalone: `node dist/bench/round-trips.js [--quick] [--variants plaintext,tls,flow,after-linger]`
 * prints JSON.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { SessionController, defaultConnectionPool, type EcuSpec } from '../client';
import { registry } from '../nodes/lib/registry';
import { selfSignedCertificate } from '../simulator/tls';
import {
  FlowSink,
  SIM_CREDENTIALS,
  SimChild,
  baseFlow,
  bearer,
  flowNode,
  requestNode,
  startSessionNode,
  median,
  nowUs,
  rawConfigureObdCan,
  rawOpenObd,
  runAsWorker,
  startNodeRed,
  unary,
  waitUntil,
} from './common';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

export const ONE_WAY_MS = 30;
const ROUND_TRIP_MS = 2 * ONE_WAY_MS;
/** The proxy listens on another loopback address, on the simulator's port, so the advertised endpoint is the proxy's. */
const PROXY_HOST = '127.0.0.2';
const VIN_REQUEST = '22F190';
const ENGINE: EcuSpec = { bus: { name: 'OBD-CAN', pinPlus: 6, pinMinus: 14, bitRateKbps: 500 }, requestId: 0x7e0, responseId: 0x7e8 };

export interface RoundTripVariant {
  key: 'plaintext' | 'tls' | 'flow' | 'after-linger';
  name: string;
  /** Every run's time from the start to the VIN, ms. */
  runsMs: number[];
  /** Median of the runs after the first, in round trips. */
  roundTrips: number;
  /** The first run (no earlier session on the link), in round trips. */
  firstRoundTrips: number;
  /** Median of the runs after the first: until the session was claimed, in round trips (library only). */
  claimRoundTrips?: number;
  /** The measured floor (a plain grpc-js client, the same four calls on an open connection), median, in round trips. */
  floorRoundTrips: number;
  /** The median of the runs after the first against the measured floor, the floor counted as 4 round trips. */
  againstFloor: number;
  /** TCP connections opened through the proxy per run after the first (median). */
  connectionsPerRun: number;
  errors: number;
}

export interface RoundTripResult {
  roundTripMs: number;
  runs: number;
  variants: RoundTripVariant[];
}

/** The proxy child (delay-proxy.ts): every chunk delayed `oneWayMs` each way, in order. */
class DelayProxy {
  private constructor(private readonly child: ChildProcess) {}

  static async start(
    listen: { host: string; port: number },
    target: { host: string; port: number },
    oneWayMs: number,
  ): Promise<DelayProxy> {
    const child = fork(path.join(__dirname, 'delay-proxy.js'), [JSON.stringify({ listen, target, oneWayMs })], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      execArgv: [],
    });
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`bench: the delay proxy exited with ${code}`)));
      child.once('message', () => resolve());
    });
    child.removeAllListeners('exit');
    return new DelayProxy(child);
  }

  /** How many TCP connections it has carried. */
  connections(): Promise<number> {
    return new Promise((resolve) => {
      this.child.once('message', (m: { connections: number }) => resolve(m.connections));
      this.child.send({ type: 'connections' });
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.disconnect();
    await exited;
  }
}

interface Link {
  sim: SimChild;
  proxy: DelayProxy;
  ca?: string;
}

async function startLink(tls: boolean): Promise<Link> {
  const pair = tls ? selfSignedCertificate([PROXY_HOST, '127.0.0.1', 'localhost']) : undefined;
  const sim = await SimChild.start({ vehicles: 2, instant: true, advertisedHost: PROXY_HOST, tls: pair });
  const proxy = await DelayProxy.start({ host: PROXY_HOST, port: sim.port }, { host: '127.0.0.1', port: sim.port }, ONE_WAY_MS);
  return { sim, proxy, ca: pair?.cert };
}

async function stopLink(link: Link): Promise<void> {
  await link.proxy.stop();
  await link.sim.stop();
}

/** One session's first answer, timed; `finish` ends the session after the clock. */
interface Attempt {
  ms: number;
  claimMs?: number;
  ok: boolean;
  finish(): Promise<unknown>;
}

/**
 * The protocol's floor, measured on the same link: the same four calls, one after another, from a plain
 * grpc-js client built from proto/ (no code from client/) on a connection it already holds.
 */
async function rawFloor(link: Link, tls: boolean): Promise<{ attempt(): Promise<Attempt>; close(): void }> {
  const v1 = rawOpenObd();
  const creds = tls ? grpc.credentials.createSsl(Buffer.from(link.ca!)) : grpc.credentials.createInsecure();
  const target = `${PROXY_HOST}:${link.sim.port}`;
  // Clients of one target and credentials share grpc-js' subchannel: one connection for all four services.
  const controller = new v1.sessionController(target, creds);
  const session = new v1.session(target, creds);
  const config = new v1.config(target, creds);
  const can = new v1.can(target, creds);
  const { value: controllerToken } = await unary(controller, 'getSessionControllerToken', {
    client_id: SIM_CREDENTIALS.clientId,
    client_secret: SIM_CREDENTIALS.clientSecret,
    cluster_id: SIM_CREDENTIALS.clusterId,
  });
  const attempt = async (): Promise<Attempt> => {
    const t0 = nowUs();
    const info = await unary(controller, 'startSessionOnTicket', { value: '1001' }, bearer(controllerToken));
    if (info.grpc_endpoint !== target) throw new Error(`bench: the session endpoint ${info.grpc_endpoint} is not the proxy`);
    const { value: token } = await unary(session, 'authenticate', {}, bearer(info.authentication_token));
    await rawConfigureObdCan(config, token);
    const isotp = can.openIsotpStream(bearer(token)) as grpc.ClientDuplexStream<Any, Any>;
    isotp.on('error', () => undefined);
    const channel = { bus_name: 'OBD-CAN', request_id: 0x7e0, response_id: 0x7e8 };
    const answer = new Promise<{ payload: string }>((resolve) => isotp.once('data', resolve));
    isotp.write({ channel, payload: '' });
    isotp.write({ channel, payload: VIN_REQUEST });
    const ok = (await answer).payload.toUpperCase().startsWith('62F190');
    const ms = (nowUs() - t0) / 1000;
    return {
      ms,
      ok,
      finish: async () => {
        isotp.cancel();
        await unary(session, 'finish', { result: ['RESULT_SUCCESS'] }, bearer(token));
      },
    };
  };
  return { attempt, close: () => [controller, session, config, can].forEach((c) => c.close()) };
}

/**
 * Runs `runs` sessions of `subject`, each after a session of the measured floor on the same link, so that
 * both see the same load of the machine; each session is finished before the next starts.
 */
async function measure(
  link: Link,
  tls: boolean,
  key: RoundTripVariant['key'],
  name: string,
  runs: number,
  subject: () => Promise<Attempt>,
): Promise<RoundTripVariant> {
  const floor = await rawFloor(link, tls);
  const runsMs: number[] = [];
  const claimMs: number[] = [];
  const floorMs: number[] = [];
  const connections: number[] = [];
  let errors = 0;
  try {
    for (let i = 0; i < runs; i++) {
      const f = await floor.attempt();
      await f.finish();
      if (!f.ok) errors += 1;
      floorMs.push(f.ms);
      const c0 = await link.proxy.connections();
      const a = await subject();
      connections.push((await link.proxy.connections()) - c0);
      await a.finish();
      if (!a.ok) errors += 1;
      runsMs.push(a.ms);
      if (a.claimMs !== undefined) claimMs.push(a.claimMs);
    }
  } finally {
    floor.close();
  }
  const rest = median(runsMs.slice(1));
  const floorMedian = median(floorMs);
  return {
    key,
    name,
    runsMs: runsMs.map((x) => Math.round(x * 10) / 10),
    roundTrips: rest / ROUND_TRIP_MS,
    firstRoundTrips: runsMs[0] / ROUND_TRIP_MS,
    claimRoundTrips: claimMs.length > 0 ? median(claimMs.slice(1)) / ROUND_TRIP_MS : undefined,
    floorRoundTrips: floorMedian / ROUND_TRIP_MS,
    againstFloor: (4 * rest) / floorMedian,
    connectionsPerRun: median(connections.slice(1)),
    errors,
  };
}

/**
 * The client library: controller.startSession, then session.request (which configures the bus first).
 * `afterLinger`: the idle connection the last session left is closed before each run, as after a pause
 * longer than the pool keeps it.
 */
async function libraryVariant(tls: boolean, runs: number, afterLinger = false): Promise<RoundTripVariant> {
  const link = await startLink(tls);
  const controller = new SessionController({
    endpoint: { host: PROXY_HOST, port: link.sim.port, tls, ca: link.ca },
    credentials: { ...SIM_CREDENTIALS },
    env: {},
  });
  try {
    await controller.token(); // the controller's token is held before the clock, as the issue measures
    const key = afterLinger ? 'after-linger' : tls ? 'tls' : 'plaintext';
    const name = `client library, ${tls ? 'TLS' : 'plaintext'}${afterLinger ? ', each session after a pause (no idle connection left)' : ''}`;
    return await measure(link, tls, key, name, runs, async () => {
      if (afterLinger) defaultConnectionPool.closeIdle();
      const t0 = nowUs();
      const session = await controller.startSession({ ticketId: '1001' });
      const t1 = nowUs();
      const answer = await session.request(ENGINE, VIN_REQUEST);
      const t2 = nowUs();
      return {
        ms: (t2 - t0) / 1000,
        claimMs: (t1 - t0) / 1000,
        ok: answer.responses[0]?.hex.startsWith('62F190') === true,
        finish: () => session.finish(),
      };
    });
  } finally {
    controller.close();
    await stopLink(link);
  }
}

/** A Node-RED flow: start session → send request (22 F190) → junction; the clock runs from the message into start session. */
async function flowVariant(runs: number): Promise<RoundTripVariant> {
  const link = await startLink(false);
  const flow = baseFlow(link.sim.port).map((n) => (n.id === 'account' ? { ...n, host: PROXY_HOST } : n));
  const red = await startNodeRed([
    ...flow,
    startSessionNode('req'),
    requestNode('out', VIN_REQUEST),
    flowNode({ id: 'out', type: 'junction', wires: [] }),
    flowNode({ id: 'catch', type: 'catch', scope: null, uncaught: false, wires: [['caught']] }),
    flowNode({ id: 'caught', type: 'junction', wires: [] }),
  ]);
  try {
    // The account checks its credentials on deploy (fetching the controller token): wait for that.
    await waitUntil(() => red.getNode('account').runtime.status.state === 'ready', 10000, 'the account to be ready');
    const sink = new FlowSink(red.getNode('out'), red.getNode('caught'), (m: Any) => String(m.benchKey));
    let n = 0;
    return await measure(link, false, 'flow', 'Node-RED flow (start session → send request), plaintext', runs, async () => {
      const key = `r${n++}`;
      const out = sink.next(key);
      const t0 = nowUs();
      red.getNode('start').receive({ payload: '1001', benchKey: key });
      const msg = await out;
      const t1 = nowUs();
      return {
        ms: (t1 - t0) / 1000,
        ok: String(msg.payload).startsWith('62F190'),
        finish: () => registry.get(String(msg.openobd.sessionId))!.session.finish(),
      };
    });
  } finally {
    await red.stop();
    await stopLink(link);
  }
}

export async function runRoundTrips(options: { quick?: boolean; only?: string[] } = {}): Promise<RoundTripResult> {
  const runs = options.quick ? 4 : 11;
  const want = (name: string) => !options.only || options.only.includes(name);
  const variants: RoundTripVariant[] = [];
  if (want('plaintext')) variants.push(await libraryVariant(false, runs));
  if (want('tls')) variants.push(await libraryVariant(true, runs));
  if (want('flow')) variants.push(await flowVariant(runs));
  if (want('after-linger')) variants.push(await libraryVariant(false, runs, true));
  return { roundTripMs: ROUND_TRIP_MS, runs, variants };
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const only = args.includes('--variants') ? args[args.indexOf('--variants') + 1].split(',') : undefined;
  runAsWorker('round-trips', runRoundTrips({ quick: args.includes('--quick'), only }));
}
