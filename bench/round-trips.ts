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
 * Variants: the client library in plaintext and over TLS, and a Node-RED flow (start session → send
 * request). The proxy also counts the TCP connections opened through it during each run.
 *
 * Run by bench.ts; standalone: `node dist/bench/round-trips.js [--quick]` prints JSON.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { SessionController, type EcuSpec } from '../client';
import { registry } from '../nodes/lib/registry';
import { selfSignedCertificate } from '../simulator/tls';
import { FlowSink, SIM_CREDENTIALS, SimChild, baseFlow, flowNode, median, nowUs, runAsWorker, startNodeRed, waitUntil } from './common';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

export const ONE_WAY_MS = 30;
const ROUND_TRIP_MS = 2 * ONE_WAY_MS;
/** The proxy listens on another loopback address, on the simulator's port, so the advertised endpoint is the proxy's. */
const PROXY_HOST = '127.0.0.2';
const VIN_REQUEST = '22F190';
const ENGINE: EcuSpec = { bus: { name: 'OBD-CAN', pinPlus: 6, pinMinus: 14, bitRateKbps: 500 }, requestId: 0x7e0, responseId: 0x7e8 };

export interface RoundTripVariant {
  name: string;
  /** Every run's time from the start to the VIN, ms. */
  runsMs: number[];
  /** Median of the runs after the first, in round trips. */
  roundTrips: number;
  /** The first run (no earlier session on the link), in round trips. */
  firstRoundTrips: number;
  /** Median of the runs after the first: until the session was claimed, in round trips (library only). */
  claimRoundTrips?: number;
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

  static async start(listen: { host: string; port: number }, target: { host: string; port: number }, oneWayMs: number): Promise<DelayProxy> {
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

function summarizeRuns(name: string, runsMs: number[], connections: number[], errors: number, claimMs?: number[]): RoundTripVariant {
  const rest = runsMs.slice(1);
  return {
    name,
    runsMs: runsMs.map((x) => Math.round(x * 10) / 10),
    roundTrips: median(rest) / ROUND_TRIP_MS,
    firstRoundTrips: runsMs[0] / ROUND_TRIP_MS,
    claimRoundTrips: claimMs ? median(claimMs.slice(1)) / ROUND_TRIP_MS : undefined,
    connectionsPerRun: median(connections.slice(1)),
    errors,
  };
}

/** The client library: controller.startSession, then session.request (which configures the bus first). */
async function libraryVariant(tls: boolean, runs: number): Promise<RoundTripVariant> {
  const link = await startLink(tls);
  const controller = new SessionController({
    endpoint: { host: PROXY_HOST, port: link.sim.port, tls, ca: link.ca },
    credentials: { ...SIM_CREDENTIALS },
    env: {},
  });
  try {
    await controller.token(); // the controller's token is held before the clock, as the issue measures
    const runsMs: number[] = [];
    const claimMs: number[] = [];
    const connections: number[] = [];
    let errors = 0;
    for (let i = 0; i < runs; i++) {
      const c0 = await link.proxy.connections();
      const t0 = nowUs();
      const session = await controller.startSession({ ticketId: '1001' });
      const t1 = nowUs();
      const answer = await session.request(ENGINE, VIN_REQUEST);
      const t2 = nowUs();
      if (!answer.responses[0]?.hex.startsWith('62F190')) errors += 1;
      runsMs.push((t2 - t0) / 1000);
      claimMs.push((t1 - t0) / 1000);
      connections.push((await link.proxy.connections()) - c0);
      await session.finish();
    }
    return summarizeRuns(`client library, ${tls ? 'TLS' : 'plaintext'}`, runsMs, connections, errors, claimMs);
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
    flowNode({
      id: 'start',
      type: 'openobd-start-session',
      account: 'account',
      targetType: 'ticket',
      target: 'payload',
      targetSource: 'msg',
      wires: [['req']],
    }),
    flowNode({
      id: 'req',
      type: 'openobd-request',
      ecu: 'engine',
      request: VIN_REQUEST,
      output: 'hex',
      negative: 'error',
      timeout: '',
      pendingTimeout: '',
      overallTimeout: '',
      decode: true,
      outputs: 1,
      wires: [['out']],
    }),
    flowNode({ id: 'out', type: 'junction', wires: [] }),
    flowNode({ id: 'catch', type: 'catch', scope: null, uncaught: false, wires: [['caught']] }),
    flowNode({ id: 'caught', type: 'junction', wires: [] }),
  ]);
  try {
    // The account checks its credentials on deploy (fetching the controller token): wait for that.
    await waitUntil(() => red.getNode('account').runtime.status.state === 'ready', 10000, 'the account to be ready');
    const sink = new FlowSink(red.getNode('out'), red.getNode('caught'), (m: Any) => String(m.benchKey));
    const runsMs: number[] = [];
    const connections: number[] = [];
    let errors = 0;
    for (let i = 0; i < runs; i++) {
      const key = `r${i}`;
      const out = sink.next(key);
      const c0 = await link.proxy.connections();
      const t0 = nowUs();
      red.getNode('start').receive({ payload: '1001', benchKey: key });
      const msg = await out;
      const t1 = nowUs();
      if (!String(msg.payload).startsWith('62F190')) errors += 1;
      runsMs.push((t1 - t0) / 1000);
      connections.push((await link.proxy.connections()) - c0);
      await registry.get(String(msg.openobd.sessionId))!.session.finish();
    }
    return summarizeRuns('Node-RED flow (start session → send request), plaintext', runsMs, connections, errors);
  } finally {
    await red.stop();
    await stopLink(link);
  }
}

export async function runRoundTrips(options: { quick?: boolean } = {}): Promise<RoundTripResult> {
  const runs = options.quick ? 4 : 11;
  const variants: RoundTripVariant[] = [];
  variants.push(await libraryVariant(false, runs));
  variants.push(await libraryVariant(true, runs));
  variants.push(await flowVariant(runs));
  return { roundTripMs: ROUND_TRIP_MS, runs, variants };
}

if (require.main === module) {
  runAsWorker('round-trips', runRoundTrips({ quick: process.argv.includes('--quick') }));
}
