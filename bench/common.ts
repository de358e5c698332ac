/*
 * Shared parts of the benchmark (npm run bench): the simulator child process, the embedded Node-RED,
 * the raw grpc-js client built from proto/ only, statistics and machine facts. Nothing here is a test:
 * timings live in the benchmark command, never in the test suite.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { VehicleDefinition } from '../simulator/vehicle/types';
import { account, custom, ecu, onTab, request, startSession, tab } from '../test/support/flow-builder';

/** The package root (bench/ compiles into dist/bench/). */
export const ROOT = findRoot();

function findRoot(): string {
  for (const candidate of [path.resolve(__dirname, '..', '..'), path.resolve(__dirname, '..')]) {
    if (fs.existsSync(path.join(candidate, 'proto', 'openobd'))) return candidate;
  }
  throw new Error(`package root not found from ${__dirname}`);
}

export const SIM_CREDENTIALS = { clientId: 'simulator-partner', clientSecret: 'simulator-secret', clusterId: '001' } as const;

/**
 * The instant-answer car: one ECU (7E0/7E8) on the OBD CAN bus with `responseDelayMs: 0`, so the
 * simulator's CAN service writes the answer synchronously, inside the handler of the request. What is
 * left of a round trip is gRPC, HTTP/2 and the two processes.
 */
export const INSTANT_VEHICLE: VehicleDefinition = {
  name: 'bench-instant',
  description: 'One instant-answer ECU for the benchmark',
  vin: 'WVWZZZAU6KW204711',
  can: { pinPlus: 6, pinMinus: 14, bitRateKbps: 500 },
  functionalRequestId: '7DF',
  ecus: [
    {
      name: 'engine',
      requestId: '7E0',
      responseId: '7E8',
      obd: true,
      responseDelayMs: 0,
      dids: { F190: { name: 'VIN', source: 'vin' } },
    },
  ],
};

/** The request every section sends: TesterPresent, answered `7E 00`. */
export const REQUEST_HEX = '3E00';
export const ANSWER_HEX = '7E00';

// ---------------------------------------------------------------- raw grpc-js (no code from client/)

function protoFiles(dir: string, root: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...protoFiles(full, root));
    else if (entry.name.endsWith('.proto')) out.push(path.relative(root, full));
  }
  return out.sort();
}

/** The openOBD v1 services as plain grpc-js client constructors, built from proto/ with @grpc/proto-loader. */
export function rawOpenObd(): Any {
  const protoDir = path.join(ROOT, 'proto');
  const definition = protoLoader.loadSync(protoFiles(protoDir, protoDir), {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
    includeDirs: [protoDir],
  });
  return (grpc.loadPackageDefinition(definition) as Any).openOBD.v1;
}

export function bearer(token: string): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${token}`);
  return md;
}

export function unary<T = Any>(client: Any, method: string, request: unknown, metadata = new grpc.Metadata()): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    client[method](request, metadata, { deadline: Date.now() + 10000 }, (err: grpc.ServiceError | null, reply: T) =>
      err ? reject(err) : resolve(reply),
    );
  });
}

/** configureBus on a raw `config` client: the OBD-II CAN bus (pins 6/14, ISO-TP, 500 kbit/s). */
export function rawConfigureObdCan(config: Any, token: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const call = config.configureBus(bearer(token), { deadline: Date.now() + 10000 }, (err: Error | null, r: unknown) =>
      err ? reject(err) : resolve(r),
    );
    call.write({
      bus_name: 'OBD-CAN',
      can_bus: { pin_plus: 6, pin_min: 14, can_protocol: 'CAN_PROTOCOL_ISOTP', can_bit_rate: 'CAN_BIT_RATE_500' },
    });
    call.end();
  });
}

// ---------------------------------------------------------------- statistics

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export interface Summary {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  min: number;
  max: number;
}

/** Summary of samples in microseconds. */
export function summarize(samples: number[]): Summary {
  const s = [...samples].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / Math.max(1, s.length);
  return { n: s.length, p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99), mean, min: s[0], max: s[s.length - 1] };
}

export function median(values: number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

export const nowUs = (): number => Number(process.hrtime.bigint()) / 1000;

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) {
    g();
    g();
  }
}

export async function waitUntil(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`bench: timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(5);
  }
}

/** CPU time of this process (user + system) in milliseconds. */
export function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

// ---------------------------------------------------------------- machine

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  platform: string;
  node: string;
  nodeRed: string;
  grpcJs: string;
  protoLoader: string;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  const version = (pkg: string) =>
    (JSON.parse(fs.readFileSync(require.resolve(`${pkg}/package.json`, { paths: [ROOT] }), 'utf8')) as { version: string }).version;
  return {
    cpuModel: (cpus[0]?.model ?? 'unknown').trim(),
    cores: typeof os.availableParallelism === 'function' ? os.availableParallelism() : cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    nodeRed: version('node-red'),
    grpcJs: version('@grpc/grpc-js'),
    protoLoader: version('@grpc/proto-loader'),
  };
}

// ---------------------------------------------------------------- simulator child process

export interface SimChildOptions {
  vehicles: number;
  tokenIntervalMs?: number;
  tokenValidityMs?: number;
  /** Use the instant-answer car (default) or the bundled default car. */
  instant?: boolean;
  /** Concurrent streams per HTTP/2 connection the server allows (as a gRPC front end does). */
  maxConcurrentStreams?: number;
  /** The simulator's network profile (round trip and jitter to the J-Rex); default none. */
  network?: { roundTripMs: number; jitterMs?: number };
  /** Host name the simulator puts in SessionInfo.grpc_endpoint (default its listening host). */
  advertisedHost?: string;
  /** TLS instead of plaintext: the server's certificate and key (PEM). */
  tls?: { cert: string; key: string };
}

export interface SimProcessStats {
  cpuMs: number;
  rssBytes: number;
  heapUsedBytes: number;
  sessions: Record<string, number>;
  openStreams: number;
  streams: Record<string, number>;
  tokens: number;
}

/**
 * The openOBD simulator in its own process (dist/bench/sim-child.js), so the memory and CPU measured in
 * the Node-RED process are the client side only. Talks over the fork IPC channel.
 */
export class SimChild {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {}

  static async start(options: SimChildOptions): Promise<SimChild> {
    const child = fork(path.join(__dirname, 'sim-child.js'), [JSON.stringify(options)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      execArgv: [],
    });
    const port = await new Promise<number>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`bench: simulator child exited with ${code}`));
      child.once('exit', onExit);
      child.once('message', (m: { type: string; port: number }) => {
        child.off('exit', onExit);
        if (m.type === 'ready') resolve(m.port);
        else reject(new Error(`bench: unexpected message from the simulator child: ${JSON.stringify(m)}`));
      });
    });
    return new SimChild(child, port);
  }

  get endpoint(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Stops the server (every connection cut) and starts it again on the same port after `downtimeMs`. */
  restart(downtimeMs: number): Promise<void> {
    return new Promise((resolve) => {
      const onMessage = (m: { type: string }) => {
        if (m.type !== 'restarted') return;
        this.child.off('message', onMessage);
        resolve();
      };
      this.child.on('message', onMessage);
      this.child.send({ type: 'restart', downtimeMs });
    });
  }

  stats(): Promise<SimProcessStats> {
    return new Promise((resolve) => {
      const onMessage = (m: { type: string; stats: SimProcessStats }) => {
        if (m.type !== 'stats') return;
        this.child.off('message', onMessage);
        resolve(m.stats);
      };
      this.child.on('message', onMessage);
      this.child.send({ type: 'stats' });
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.send({ type: 'stop' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------- embedded Node-RED

export type FlowNode = Record<string, unknown>;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

export interface EmbeddedNodeRed {
  RED: Any;
  version: string;
  userDir: string;
  getNode(id: string): Any;
  stop(): Promise<void>;
}

/**
 * A real Node-RED runtime embedded in this process through its public module API (`RED.init`,
 * `RED.start`), with this package loaded from its folder through `nodesDir` (as `npm start` does), no
 * HTTP server, no editor, and the flow read from a flow file. Account credentials come from the
 * OPENOBD_* environment variables (blank credential fields fall back to them).
 */
export async function startNodeRed(flows: FlowNode[], extraSettings: Record<string, unknown> = {}): Promise<EmbeddedNodeRed> {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'openobd-bench-'));
  fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flows));
  process.env.OPENOBD_PARTNER_CLIENT_ID = SIM_CREDENTIALS.clientId;
  process.env.OPENOBD_PARTNER_CLIENT_SECRET = SIM_CREDENTIALS.clientSecret;
  process.env.OPENOBD_CLUSTER_ID = SIM_CREDENTIALS.clusterId;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const RED = require(require.resolve('node-red', { paths: [ROOT] })) as Any;
  RED.init({
    userDir,
    flowFile: 'flows.json',
    nodesDir: [ROOT],
    httpAdminRoot: false,
    httpNodeRoot: false,
    disableEditor: true,
    credentialSecret: false,
    telemetry: { enabled: false },
    externalModules: { palette: { allowInstall: false } },
    logging: { console: { level: process.env.BENCH_LOG_LEVEL || 'error', metrics: false, audit: false } },
    ...extraSettings,
  });
  await RED.start();
  const ids = flows.filter((n) => n.type !== 'tab').map((n) => String(n.id));
  await waitUntil(() => ids.every((id) => RED.nodes.getNode(id)), 30000, 'the benchmark flow to start');
  return {
    RED,
    version: RED.version as string,
    userDir,
    getNode: (id: string) => RED.nodes.getNode(id),
    stop: async () => {
      await RED.stop();
      fs.rmSync(userDir, { recursive: true, force: true });
    },
  };
}

/** Account + ECU config nodes pointing at a simulator child, and the tab. */
export function baseFlow(port: number): FlowNode[] {
  return [tab('bench'), account({ name: 'bench', ...custom(port) }), ecu()];
}

/** A flow node on the tab (x/y make it a flow node, not a config node). */
export function flowNode(n: FlowNode): FlowNode {
  return onTab(n, { x: 100, y: 100 });
}

/** A start session node 'start' on the account, its ticket from msg.payload. */
export function startSessionNode(wire: string): FlowNode {
  return flowNode(startSession({ to: [wire] }));
}

/** A send request node 'req' to the engine ECU, the answer as hex; `hex` '' sends msg.payload. */
export function requestNode(wire: string, hex = ''): FlowNode {
  return flowNode(request({ request: hex, timeout: '', pendingTimeout: '', overallTimeout: '', to: [wire] }));
}

/**
 * Resolves with the message a sink node (a core junction) receives for a key, or rejects with the
 * error a Catch node reports for it. The listener is an extra 'input' callback on the sink.
 */
export class FlowSink {
  readonly #waiters = new Map<string, { resolve: (msg: Any) => void; reject: (err: Error) => void }>();
  /** Messages that arrived without a waiter (should stay 0). */
  unexpected = 0;
  errors = 0;

  constructor(
    out: Any,
    caught: Any,
    private readonly keyOf: (msg: Any) => string,
  ) {
    out.on('input', (msg: Any) => {
      const w = this.#take(msg);
      if (w) w.resolve(msg);
      else this.unexpected += 1;
    });
    caught.on('input', (msg: Any) => {
      this.errors += 1;
      const w = this.#take(msg);
      const e = msg.error ?? {};
      const err = new Error(`flow error ${e.code ?? ''}: ${e.message ?? JSON.stringify(e)}`);
      if (w) w.reject(err);
      else process.stderr.write(`bench: ${err.message}\n`);
    });
  }

  #take(msg: Any) {
    const key = this.keyOf(msg);
    const w = this.#waiters.get(key);
    if (w) this.#waiters.delete(key);
    return w;
  }

  next(key: string): Promise<Any> {
    return new Promise((resolve, reject) => this.#waiters.set(key, { resolve, reject }));
  }
}

/** Formats a number for the table. */
export function fmt(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return 'n/a';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/**
 * Runs a bench section as a worker of bench.ts: the result goes to the parent over IPC (or to stdout
 * when run by hand), and the process exits, so no lingering handle can hold up the benchmark.
 */
export function runAsWorker<T>(name: string, work: Promise<T>): void {
  work
    .then((r) => {
      if (process.send) process.send({ type: 'result', result: r });
      else process.stdout.write(JSON.stringify(r, null, 2) + '\n');
      process.exit(0);
    })
    .catch((err: unknown) => {
      process.stderr.write(`bench ${name}: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    });
}
