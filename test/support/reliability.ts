/**
 * Reliability harness shared by test/reliability/*.test.ts and `npm run soak` (bench/soak.ts): real
 * Node-RED flows (node-red-node-test-helper runs the real runtime) on an external simulator, with the
 * account in 'custom' mode so faults can be injected and server-side streams counted. Each scenario
 * returns its figures and the list of invariants it saw broken (`problems`); tests assert that list is
 * empty, the soak prints it.
 */
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { inspect } from 'node:util';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { defaultChannelPool } from '../../client';
import { backoffDelay } from '../../client/retry';
import { OpenObdSimulator, type SimulatorOptions } from '../../simulator';
import { registry, type SessionEvent } from '../../nodes/lib/registry';
import type { AccountNode } from '../../nodes/lib/accounts';
import { baseFlow, catchNode, helper, openobdNodes, type AnyMsg } from './nodered';

export type FlowNode = Record<string, unknown> & { id: string; type: string };
export type NodeStatusRecord = { fill?: string; shape?: string; text?: string };

export const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resolves when `predicate` holds (checked every 20 ms); false after `timeoutMs`. */
export async function until(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > end) return false;
    await delay(20);
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------
// Taps on everything Node-RED shows or logs: installed once below the test-helper's own spies, so they
// survive helper.load/unload. Each costs nothing while no listener is registered.
// ---------------------------------------------------------------------------------------------------

type StatusTap = (nodeId: string, status: NodeStatusRecord) => void;
type SendTap = (nodeId: string, msg: unknown) => void;
type LogTap = (entry: unknown) => void;
const statusTaps = new Set<StatusTap>();
const sendTaps = new Set<SendTap>();
const logTaps = new Set<LogTap>();
let tapsInstalled = false;

function installTaps(): void {
  if (tapsInstalled) return;
  tapsInstalled = true;
  const h = helper as unknown as {
    _NodePrototype: Record<string, (...a: unknown[]) => unknown>;
    _log: Record<string, (...a: unknown[]) => unknown>;
  };
  const proto = h._NodePrototype;
  const status0 = proto.status;
  proto.status = function (this: { id: string }, ...args: unknown[]) {
    for (const fn of statusTaps) fn(this.id, (args[0] ?? {}) as NodeStatusRecord);
    return status0.apply(this, args);
  };
  const send0 = proto.send;
  proto.send = function (this: { id: string }, ...args: unknown[]) {
    for (const fn of sendTaps) fn(this.id, args[0]);
    return send0.apply(this, args);
  };
  const log = h._log;
  const log0 = log.log;
  log.log = function (this: unknown, ...args: unknown[]) {
    for (const fn of logTaps) fn(args[0]);
    return log0.apply(this, args);
  };
}
installTaps();

export function onStatus(fn: StatusTap): () => void {
  statusTaps.add(fn);
  return () => statusTaps.delete(fn);
}
export function onSend(fn: SendTap): () => void {
  sendTaps.add(fn);
  return () => sendTaps.delete(fn);
}
export function onLog(fn: LogTap): () => void {
  logTaps.add(fn);
  return () => logTaps.delete(fn);
}

/**
 * The test-helper keeps every call of its spies (every send, status and log line, with the messages);
 * over thousands of messages that is a leak of the harness, not of the nodes. Dropped regularly.
 */
export function dropSpyHistory(): void {
  const h = helper as unknown as { _sandbox?: { resetHistory(): void } };
  h._sandbox?.resetHistory();
}

/** Node-RED log levels (numbers in log entries). */
export const LOG_LEVEL = { fatal: 10, error: 20, warn: 30, info: 40, debug: 50, trace: 60 } as const;

// ---------------------------------------------------------------------------------------------------
// Resources and memory
// ---------------------------------------------------------------------------------------------------

/** Resource kinds that must come back to their baseline (timers that keep the process alive, sockets, servers). */
const WATCHED = ['Timeout', 'TCPSocketWrap', 'TCPServerWrap'];

export function resources(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) if (WATCHED.includes(kind)) out[kind] = (out[kind] ?? 0) + 1;
  return out;
}

function excess(base: Record<string, number>, now: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const kind of WATCHED) {
    const d = (now[kind] ?? 0) - (base[kind] ?? 0);
    if (d > 0) out[kind] = d;
  }
  return out;
}

let gcFn: (() => void) | undefined;
/** A full garbage collection (without --expose-gc on the command line). */
export function collectGarbage(): void {
  if (!gcFn) {
    v8.setFlagsFromString('--expose-gc');
    gcFn = vm.runInNewContext('gc') as () => void;
  }
  gcFn();
  gcFn();
}

/** Samples the resident set size while running. */
export class RssSampler {
  peak = process.memoryUsage().rss;
  readonly #timer: NodeJS.Timeout;
  constructor(intervalMs = 200) {
    this.#timer = setInterval(() => this.sample(), intervalMs);
    this.#timer.unref();
  }
  sample(): void {
    const rss = process.memoryUsage().rss;
    if (rss > this.peak) this.peak = rss;
  }
  stop(): number {
    clearInterval(this.#timer);
    this.sample();
    return this.peak;
  }
}

// ---------------------------------------------------------------------------------------------------
// Flows
// ---------------------------------------------------------------------------------------------------

export const PARTNER = { clientId: 'simulator-partner', clientSecret: 'simulator-secret' };

/** The helper nodes whose input is an outcome of a message sent by FlowDriver. */
export const OUTPUTS = ['started', 'answered', 'finished', 'interrupted', 'info', 'slowOut'];

/**
 * The standard reliability tab: an account on the external simulator, start (ticket from msg.payload),
 * send request (payload from msg), finish, interrupt, session info (get, list), and a Catch for all.
 */
export function reliabilityFlow(
  port: number,
  account: Record<string, unknown> = {},
  extra: FlowNode[] = [],
  changes: Record<string, Record<string, unknown>> = {},
): FlowNode[] {
  const nodes = baseFlow(
    [
      {
        id: 'start',
        type: 'openobd-start-session',
        account: 'account',
        targetType: 'ticket',
        target: 'payload',
        targetSource: 'msg',
        wires: [['started']],
      },
      {
        id: 'req',
        type: 'openobd-request',
        ecu: 'engine',
        request: '',
        output: 'hex',
        negative: 'error',
        decode: true,
        outputs: 1,
        wires: [['answered']],
      },
      {
        id: 'finish',
        type: 'openobd-finish',
        result: '',
        userFeedback: '',
        description: '',
        descriptionSource: 'str',
        wires: [['finished']],
      },
      { id: 'interrupt', type: 'openobd-interrupt', account: 'account', sessionId: '', sessionIdSource: 'str', wires: [['interrupted']] },
      {
        id: 'get',
        type: 'openobd-session-info',
        account: 'account',
        action: 'get',
        sessionId: '',
        sessionIdSource: 'str',
        wires: [['info']],
      },
      {
        id: 'list',
        type: 'openobd-session-info',
        account: 'account',
        action: 'list',
        sessionId: '',
        sessionIdSource: 'str',
        wires: [['info']],
      },
      { id: 'started', type: 'helper' },
      { id: 'answered', type: 'helper' },
      { id: 'finished', type: 'helper' },
      { id: 'interrupted', type: 'helper' },
      { id: 'info', type: 'helper' },
      ...extra,
    ],
    { mode: 'custom', host: '127.0.0.1', port, tls: false, allowInsecure: false, closePolicy: 'interrupt', ...account },
  ) as FlowNode[];
  return nodes.map((n) => {
    const out: FlowNode = changes[n.id] ? { ...n, ...changes[n.id] } : { ...n };
    // Config nodes have no position (baseFlow places every extra node on the tab).
    if (out.type === 'openobd-ecu') {
      delete out.x;
      delete out.y;
      delete out.z;
    }
    return out;
  });
}

export interface Outcome {
  ok: boolean;
  /** msg.error.code for errors; 'NO_OUTCOME' when nothing came back in time. */
  code?: string;
  message?: string;
  /** The node whose error was caught. */
  source?: string;
  msg?: AnyMsg;
  ms: number;
}

/**
 * Sends messages into flow nodes and resolves with what came of each: the message at an output helper,
 * or the error a Catch node received. Messages are told apart by a sequence number in `msg._rel`.
 */
export class FlowDriver {
  #seq = 0;
  readonly #pending = new Map<number, { resolve: (o: Outcome) => void; t0: number; timer: NodeJS.Timeout }>();
  readonly #attached = new WeakSet<object>();
  /** Outcomes for messages that had already settled (a node answering twice). */
  duplicates = 0;

  /** Listens on the output helpers and the Catch helper of the deployed flow (again after each deploy). */
  attach(): void {
    for (const id of [...OUTPUTS, 'caught']) {
      const node = helper.getNode(id) as unknown as (NodeJS.EventEmitter & object) | null;
      if (!node || this.#attached.has(node)) continue;
      this.#attached.add(node);
      node.on('input', (m: AnyMsg) => this.#settle(m, id === 'caught'));
    }
  }

  #settle(m: AnyMsg, isError: boolean): void {
    const seq = m?._rel as number | undefined;
    if (typeof seq !== 'number') return;
    const p = this.#pending.get(seq);
    if (!p) {
      this.duplicates += 1;
      return;
    }
    this.#pending.delete(seq);
    clearTimeout(p.timer);
    const ms = Date.now() - p.t0;
    if (isError)
      p.resolve({ ok: false, code: m.error?.code ?? 'NO_CODE', message: m.error?.message, source: m.error?.source?.id, msg: m, ms });
    else p.resolve({ ok: true, msg: m, ms });
  }

  send(nodeId: string, msg: AnyMsg, timeoutMs = 30000): Promise<Outcome> {
    const node = helper.getNode(nodeId);
    const seq = ++this.#seq;
    msg._rel = seq;
    return new Promise<Outcome>((resolve) => {
      const t0 = Date.now();
      const timer = setTimeout(() => {
        this.#pending.delete(seq);
        resolve({ ok: false, code: 'NO_OUTCOME', message: `nothing from ${nodeId} within ${timeoutMs} ms`, ms: Date.now() - t0 });
      }, timeoutMs);
      this.#pending.set(seq, { resolve, t0, timer });
      if (!node) {
        clearTimeout(timer);
        this.#pending.delete(seq);
        resolve({ ok: false, code: 'NO_NODE', message: `no node ${nodeId}`, ms: 0 });
        return;
      }
      node.receive(msg);
    });
  }

  get pending(): number {
    return this.#pending.size;
  }
}

/** Records the statuses of chosen nodes (by id; every node when `ids` is empty), with times. */
export class StatusLog {
  readonly entries: Array<{ id: string; t: number } & NodeStatusRecord> = [];
  readonly #off: () => void;
  constructor(ids: string[] = []) {
    this.#off = onStatus((id, s) => {
      if (ids.length === 0 || ids.includes(id)) this.entries.push({ id, t: Date.now(), fill: s.fill, shape: s.shape, text: s.text });
    });
  }
  of(id: string) {
    return this.entries.filter((e) => e.id === id);
  }
  last(id: string) {
    const all = this.of(id).filter((e) => e.fill !== undefined || e.text !== undefined);
    return all[all.length - 1];
  }
  red(since = 0) {
    return this.entries.filter((e) => e.fill === 'red' && e.t >= since);
  }
  stop(): void {
    this.#off();
  }
}

/** Keepalive health changes of sessions, as the registry announces them to flow nodes. */
export class HealthLog {
  readonly events: Array<SessionEvent & { t: number }> = [];
  readonly #off: () => void;
  constructor() {
    this.#off = registry.subscribe((e) => this.events.push({ ...e, t: Date.now() }));
  }
  of(id: string) {
    return this.events.filter((e) => e.id === id);
  }
  /** Recovering → active transitions of one session. */
  recoveries(id: string): number {
    let n = 0;
    let recovering = false;
    for (const e of this.of(id)) {
      if (e.health === 'recovering') recovering = true;
      else if (e.health === 'active' && recovering) {
        n += 1;
        recovering = false;
      }
    }
    return n;
  }
  stop(): void {
    this.#off();
  }
}

export interface LeakReport {
  /** Resource kinds above their baseline after everything closed (process.getActiveResourcesInfo). */
  process: Record<string, number>;
  /** Streams still open on the simulator after Node-RED stopped. */
  serverStreams: number;
  /** Sessions still registered in this process. */
  liveSessions: number;
  /** gRPC channels still pooled. */
  channels: number;
  /** Registry subscriptions above the baseline (status trackers that were not released). */
  subscribers: number;
  total: number;
  /** How long stopping Node-RED took. */
  closeMs: number;
}

export interface HarnessOptions {
  sim?: SimulatorOptions;
  /** settings.js `openobdAccountSession`. */
  session?: Record<string, unknown>;
  account?: Record<string, unknown>;
  extra?: FlowNode[];
  credentials?: { clientId: string; clientSecret: string };
  /** The account's recheck interval while openOBD is unreachable. */
  recheckIntervalMs?: number;
}

/**
 * One scenario's world: an external simulator, Node-RED with the reliability flow in 'custom' mode, a
 * driver, samplers; `close()` stops everything and reports what was left behind.
 */
export class FlowHarness {
  readonly sim: OpenObdSimulator;
  readonly driver = new FlowDriver();
  readonly rss = new RssSampler();
  readonly options: HarnessOptions;
  readonly #baseline: Record<string, number>;
  readonly #subscribers: number;
  #spyDrain?: NodeJS.Timeout;

  private constructor(sim: OpenObdSimulator, options: HarnessOptions, baseline: Record<string, number>, subscribers: number) {
    this.sim = sim;
    this.options = options;
    this.#baseline = baseline;
    this.#subscribers = subscribers;
  }

  static async start(options: HarnessOptions = {}): Promise<FlowHarness> {
    // After a turn of the event loop, so a test runner's own timer for this test (mocha arms it once the
    // test function has returned its promise) is part of the baseline.
    await new Promise((r) => setImmediate(r));
    collectGarbage();
    const baseline = resources();
    const subscribers = registry.subscriberCount;
    const sim = new OpenObdSimulator({ tokenIntervalMs: 300, tokenValidityMs: 3000, ...options.sim });
    await sim.start();
    const h = new FlowHarness(sim, options, baseline, subscribers);
    helper.settings({
      credentialSecret: false,
      openobdAccountSession: {
        tokenIntervalMs: 300,
        tokenValidityMs: 3000,
        reconnect: { initialDelayMs: 25, maxDelayMs: 250 },
        ...options.session,
      },
    } as never);
    await helper.load([openobdNodes, catchNode] as never, h.flow() as never, h.credentials() as never);
    h.afterDeploy();
    h.#spyDrain = setInterval(dropSpyHistory, 1000);
    h.#spyDrain.unref();
    return h;
  }

  /** A fresh credentials object each time: the runtime deletes entries of the one it is given. */
  credentials(c = this.options.credentials ?? PARTNER): Record<string, unknown> {
    return { account: { ...c } };
  }

  flow(account: Record<string, unknown> = {}, changes: Record<string, Record<string, unknown>> = {}): FlowNode[] {
    return reliabilityFlow(this.sim.port as number, { ...this.options.account, ...account }, this.options.extra ?? [], changes);
  }

  /** Re-attaches the driver and applies settings that live on the account runtime. */
  afterDeploy(): void {
    this.driver.attach();
    if (this.options.recheckIntervalMs !== undefined) {
      const account = helper.getNode('account') as unknown as AccountNode | null;
      if (account?.runtime) account.runtime.settings.recheckIntervalMs = this.options.recheckIntervalMs;
    }
  }

  /** A deploy of `flow` (type full, flows or nodes); resolves with how long stopping the old nodes took. */
  async deploy(
    flow: FlowNode[],
    type: 'full' | 'flows' | 'nodes',
    credentials?: { clientId: string; clientSecret: string },
  ): Promise<number> {
    const t0 = Date.now();
    await helper.setFlows(flow as never, type, this.credentials(credentials) as never);
    const ms = Date.now() - t0;
    this.afterDeploy();
    return ms;
  }

  send(nodeId: string, msg: AnyMsg, timeoutMs?: number): Promise<Outcome> {
    return this.driver.send(nodeId, msg, timeoutMs);
  }

  async startSession(ticket = '1001', timeoutMs = 20000): Promise<string> {
    const o = await this.send('start', { payload: ticket }, timeoutMs);
    if (!o.ok) throw new Error(`start on ticket ${ticket} failed: ${o.code} ${o.message}`);
    return o.msg?.openobd.sessionId as string;
  }

  request(sessionId: string, payload: unknown, node = 'req', timeoutMs?: number): Promise<Outcome> {
    return this.send(node, { payload, openobd: { sessionId } }, timeoutMs);
  }

  /** Stops Node-RED and the simulator; reports every stream, session, channel and handle left behind. */
  async close(): Promise<LeakReport> {
    if (this.#spyDrain) clearInterval(this.#spyDrain);
    const t0 = Date.now();
    await helper.unload();
    const closeMs = Date.now() - t0;
    helper.settings({});
    await until(() => this.sim.stats().openStreams === 0, 5000);
    const serverStreams = this.sim.stats().openStreams;
    const liveSessions = registry.size;
    const channels = defaultChannelPool.size;
    const subscribers = Math.max(0, registry.subscriberCount - this.#subscribers);
    await this.sim.stop();
    this.rss.stop();
    dropSpyHistory();
    // Sockets close and timers fire asynchronously: give them a moment, event-polled.
    await until(() => Object.keys(excess(this.#baseline, resources())).length === 0, 5000);
    const left = excess(this.#baseline, resources());
    const processLeft = Object.values(left).reduce((a, b) => a + b, 0);
    return {
      process: left,
      serverStreams,
      liveSessions,
      channels,
      subscribers,
      total: processLeft + serverStreams + liveSessions + channels + subscribers,
      closeMs,
    };
  }
}

export interface ScenarioResult {
  scenario: string;
  faults: number;
  requests: number;
  /** Errors that were the point of the scenario (each with the expected code). */
  expectedErrors: number;
  /** Anything else that failed: must be 0. */
  failed: number;
  recovered: number;
  leaks: LeakReport;
  peakRssMb: number;
  durationMs: number;
  /** Invariants seen broken; empty when the scenario passed. */
  problems: string[];
  details: Record<string, unknown>;
}

function result(
  name: string,
  h: FlowHarness,
  t0: number,
  leaks: LeakReport,
  r: Omit<ScenarioResult, 'scenario' | 'leaks' | 'peakRssMb' | 'durationMs'>,
): ScenarioResult {
  const problems = [...r.problems];
  if (leaks.total > 0) problems.push(`left behind: ${JSON.stringify(leaks)}`);
  if (leaks.closeMs > 5000) problems.push(`stopping Node-RED took ${leaks.closeMs} ms`);
  return { scenario: name, ...r, problems, leaks, peakRssMb: Math.round(h.rss.peak / 1048576), durationMs: Date.now() - t0 };
}

function describeOutcome(o: Outcome): string {
  return o.ok ? `ok in ${o.ms} ms` : `${o.code} from ${o.source ?? '?'} after ${o.ms} ms: ${o.message}`;
}

// ---------------------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------------------

const VALID: Record<string, string> = {
  '3E00': '7E00',
  '22F190': '62F190' + Buffer.from('WVWZZZAU6KW204711').toString('hex').toUpperCase(),
};

/** Runs request loops against one session until `stop()`; counts and keeps the first failures. */
function requestLoad(h: FlowHarness, sessionId: () => string, concurrency: number, pauseMs = 5) {
  let running = true;
  const stats = { sent: 0, ok: 0, failed: 0, failures: [] as Array<{ t: number; text: string }> };
  const loop = async (k: number) => {
    let i = k;
    while (running) {
      const payload = i++ % 2 === 0 ? '3E00' : '22F190';
      const o = await h.request(sessionId(), payload, 'req', 20000);
      stats.sent += 1;
      if (o.ok && o.msg?.payload === VALID[payload]) stats.ok += 1;
      else {
        stats.failed += 1;
        if (stats.failures.length < 20)
          stats.failures.push({ t: Date.now(), text: o.ok ? `wrong answer ${String(o.msg?.payload)}` : describeOutcome(o) });
      }
      if (pauseMs > 0) await delay(pauseMs);
    }
  };
  const loops = Array.from({ length: concurrency }, (_, k) => loop(k));
  return {
    stats,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

/**
 * Token stream dropped every `dropEveryMs` for `durationMs` while `concurrency` request loops run: the
 * session survives, no request fails, no node turns red and every drop is recovered.
 */
export async function tokenDropScenario(opts: { durationMs: number; dropEveryMs?: number; concurrency?: number }): Promise<ScenarioResult> {
  const t0 = Date.now();
  const dropEveryMs = opts.dropEveryMs ?? 2000;
  const h = await FlowHarness.start({
    sim: { tokenIntervalMs: 250, tokenValidityMs: 2500 },
    session: { tokenIntervalMs: 250, tokenValidityMs: 2500, reconnect: { initialDelayMs: 25, maxDelayMs: 250 } },
  });
  const problems: string[] = [];
  let faults = 0;
  let recovered = 0;
  let load: ReturnType<typeof requestLoad> | undefined;
  const details: Record<string, unknown> = {};
  const statuses = new StatusLog(['start', 'req']);
  const health = new HealthLog();
  try {
    const id = await h.startSession('1001');
    const runStart = Date.now();
    load = requestLoad(h, () => id, opts.concurrency ?? 4);
    const end = runStart + opts.durationMs;
    while (Date.now() + dropEveryMs <= end) {
      await delay(dropEveryMs);
      faults += h.sim.dropTokenStreams(GrpcStatus.UNAVAILABLE, 'Simulated token stream drop');
    }
    await delay(Math.max(0, end - Date.now()));
    await load.stop();
    const live = registry.get(id);
    if (!(await until(() => live?.session.keepaliveHealth === 'healthy', 10000)))
      problems.push('the keepalive did not come back after the last drop');
    recovered = health.recoveries(id);
    const server = h.sim.sessions.get(id);
    if (live?.session.state !== 'active') problems.push(`the session is ${live?.session.state ?? 'gone'} here`);
    if (server?.state !== 'active') problems.push(`the session is ${server?.state} on the server`);
    if (load.stats.failed > 0)
      problems.push(`${load.stats.failed} of ${load.stats.sent} requests failed: ${JSON.stringify(load.stats.failures.slice(0, 5))}`);
    if (faults < Math.floor(opts.durationMs / dropEveryMs) - 1) problems.push(`only ${faults} drops were injected`);
    if (recovered < faults) problems.push(`${faults} drops but ${recovered} recoveries`);
    const reds = statuses.red(runStart);
    if (reds.length > 0) problems.push(`red statuses during the run: ${JSON.stringify(reds.slice(0, 3))}`);
    const last = statuses.last('start');
    if (last?.fill !== 'green') problems.push(`the start node ends with ${JSON.stringify(last)}`);
    if (!(await until(() => h.sim.stats().streams.token === 1, 5000)))
      problems.push(`server token streams: ${h.sim.stats().streams.token}`);
    details.statusChanges = statuses.of('start').length;
    details.keepalive = live?.session.stats.keepalive;
    details.tokenCalls = h.sim.callCounts.get('session.openSessionTokenStream');
  } catch (err) {
    problems.push(`scenario aborted: ${(err as Error).stack}`);
  } finally {
    await load?.stop();
    statuses.stop();
    health.stop();
  }
  const leaks = await h.close();
  return result(`token stream dropped every ${dropEveryMs / 1000} s for ${Math.round(opts.durationMs / 1000)} s`, h, t0, leaks, {
    faults,
    requests: load?.stats.sent ?? 0,
    expectedErrors: 0,
    failed: load?.stats.failed ?? 0,
    recovered,
    problems,
    details,
  });
}

/**
 * The simulator stopped and restarted three times mid-session:
 *  A. shorter than the token validity: the session's keepalive reconnects by itself, requests work again;
 *  B. longer than the validity, with a session-controller call failing meanwhile: the session is reported
 *     lost with a clear error, the account's status comes back by itself, a new session starts;
 *  C. again longer, and a new session is started the moment the service is back: it succeeds at once
 *     (the controller waits for the reconnect instead of failing on a channel in backoff).
 * No redeploy anywhere.
 */
export async function restartScenario(opts: { shortDowntimeMs?: number; longDowntimeMs?: number } = {}): Promise<ScenarioResult> {
  const t0 = Date.now();
  const shortDown = opts.shortDowntimeMs ?? 500;
  const longDown = opts.longDowntimeMs ?? 4000;
  const h = await FlowHarness.start({
    sim: { tokenIntervalMs: 250, tokenValidityMs: 2000 },
    session: { tokenIntervalMs: 250, tokenValidityMs: 2000, reconnect: { initialDelayMs: 50, maxDelayMs: 500 } },
    recheckIntervalMs: 1000,
  });
  const problems: string[] = [];
  const details: Record<string, unknown> = {};
  const statuses = new StatusLog(['start', 'req', 'list']);
  const health = new HealthLog();
  let requests = 0;
  let expectedErrors = 0;
  let failed = 0;
  let recovered = 0;
  let faults = 0;
  const expect = (o: Outcome, ok: boolean, what: string, code?: string, pattern?: RegExp) => {
    requests += 1;
    if (ok && o.ok) return;
    if (!ok && !o.ok && (!code || o.code === code) && (!pattern || pattern.test(o.message ?? ''))) {
      expectedErrors += 1;
      return;
    }
    failed += 1;
    problems.push(`${what}: expected ${ok ? 'success' : `${code} ${pattern ?? ''}`}, got ${describeOutcome(o)}`);
  };
  let load: ReturnType<typeof requestLoad> | undefined;
  try {
    // A. A short restart with requests in flight.
    const a = await h.startSession('1001');
    load = requestLoad(h, () => a, 2, 20);
    await delay(300);
    await h.sim.restart(shortDown);
    faults += 1;
    const back = Date.now();
    if (!(await until(() => registry.get(a)?.session.keepaliveHealth === 'healthy' && health.recoveries(a) >= 1, 10000)))
      problems.push('A: the keepalive did not reconnect by itself');
    const healthyAt = Date.now();
    await delay(1500);
    await load.stop();
    // Requests that failed before the keepalive was back were the outage (their errors may reach Catch a
    // moment later on a busy machine); any failure well after it is a defect.
    const late = load.stats.failures.filter((f) => f.t > healthyAt + 500);
    requests += load.stats.sent;
    expectedErrors += load.stats.failed - late.length;
    failed += late.length;
    if (late.length > 0) problems.push(`A: requests failed after the keepalive was back: ${JSON.stringify(late.slice(0, 3))}`);
    expect(await h.request(a, '3E00'), true, 'A: a request after the restart');
    if (registry.get(a)?.session.state !== 'active' || h.sim.sessions.get(a)?.state !== 'active')
      problems.push('A: the session did not survive a short restart');
    else recovered += 1;
    details.shortRecoveryMs = healthyAt - back;

    // B. A long outage: the session is lost, the account recovers by itself, a new session starts.
    expect(await h.send('list', {}), true, 'B: list before the outage');
    const lost = new Promise<SessionEvent>((resolve) => {
      const off = registry.subscribe((e) => {
        if (e.id === a && e.health === 'ended') {
          off();
          resolve(e);
        }
      });
    });
    const stoppedAt = Date.now();
    await h.sim.stop();
    faults += 1;
    expect(await h.send('list', {}), false, 'B: list while openOBD is down', 'UNAVAILABLE', /not reachable/);
    const listRed = statuses.last('list');
    if (listRed?.fill !== 'red') problems.push(`B: the session-info node shows ${JSON.stringify(listRed)} while openOBD is down`);
    const end = await Promise.race([lost, delay(10000).then(() => undefined)]);
    if (end?.state !== 'lost') problems.push(`B: the session was not reported lost: ${JSON.stringify(end)}`);
    const lostStatus = statuses.of('start').filter((s) => s.fill === 'red' && /lost/.test(s.text ?? ''));
    if (lostStatus.length === 0)
      problems.push(`B: the start node never showed the session as lost: ${JSON.stringify(statuses.of('start').slice(-3))}`);
    expect(
      await h.request(a, '3E00'),
      false,
      'B: a request on the lost session',
      'SESSION_LOST',
      /token expired before its keepalive could be restored/,
    );
    // Stay down long enough for at least two failed rechecks of the account.
    await delay(Math.max(0, longDown - (Date.now() - stoppedAt)));
    const listCallsDown = h.sim.callCounts.get('sessionController.getSessionList') ?? 0;
    await h.sim.start();
    const upAt = Date.now();
    const green = await until(() => statuses.last('list')?.fill === 'green', 10000);
    if (!green) problems.push(`B: the account status did not recover by itself: ${JSON.stringify(statuses.last('list'))}`);
    else recovered += 1;
    details.accountRecoveryMs = Date.now() - upAt;
    details.recheckCallsAfterRestart = (h.sim.callCounts.get('sessionController.getSessionList') ?? 0) - listCallsDown;
    const b = await h.send('start', { payload: '1002' });
    expect(b, true, 'B: a new session after the outage');
    const bId = b.msg?.openobd?.sessionId as string | undefined;
    if (bId) expect(await h.request(bId, '22F190'), true, 'B: a request on the new session');

    // C. Another long outage; a session is started the moment the service is back.
    await h.sim.stop();
    faults += 1;
    await delay(longDown);
    await h.sim.start();
    const c = await h.send('start', { payload: '1003' });
    expect(c, true, 'C: a session started the moment openOBD is back');
    if (c.ok) recovered += 1;
    details.startRightAfterRestartMs = c.ms;
    // The old session of ticket 1001 failed on the server once its token expired; the ticket is free again.
    if (!(await until(() => h.sim.sessions.get(a)?.state === 'failed', 5000)))
      problems.push(`the lost session is ${h.sim.sessions.get(a)?.state} on the server`);
    const again = await h.send('start', { payload: '1001' });
    expect(again, true, 'C: ticket 1001 again');
    if (again.ok) expect(await h.request(again.msg?.openobd.sessionId, '3E00'), true, 'C: a request on ticket 1001 again');
  } catch (err) {
    problems.push(`scenario aborted: ${(err as Error).stack}`);
  } finally {
    await load?.stop();
    statuses.stop();
    health.stop();
  }
  const leaks = await h.close();
  return result(`simulator restarted (${shortDown} ms, 2 × ${longDown / 1000} s down)`, h, t0, leaks, {
    faults,
    requests,
    expectedErrors,
    failed,
    recovered,
    problems,
    details,
  });
}

/** When each sessionController call reached the simulator. */
function callTimes(sim: OpenObdSimulator): Map<string, number[]> {
  const times = new Map<string, number[]>();
  const original = sim.countCall.bind(sim);
  sim.countCall = (service: string, method: string) => {
    const key = `${service}.${method}`;
    const list = times.get(key) ?? [];
    list.push(Date.now());
    times.set(key, list);
    original(service, method);
  };
  return times;
}

/**
 * UNAVAILABLE bursts on session-controller calls, through session info (get, list), interrupt, start
 * and finish nodes: idempotent calls retry with exponential backoff and jitter and succeed; a burst
 * longer than the retry budget ends in one UNAVAILABLE to Catch; start session and finish are sent
 * exactly once, fail, and the next message works.
 */
export async function unavailableScenario(opts: { rounds?: number } = {}): Promise<ScenarioResult> {
  const t0 = Date.now();
  const rounds = opts.rounds ?? 6;
  const h = await FlowHarness.start({ recheckIntervalMs: 1000 });
  const problems: string[] = [];
  const details: Record<string, unknown> = {};
  const times = callTimes(h.sim);
  const count = (m: string) => times.get(m)?.length ?? 0;
  let requests = 0;
  let expectedErrors = 0;
  let failed = 0;
  let recovered = 0;
  let faults = 0;
  const statuses = new StatusLog(['list', 'get']);
  const policy = { initialDelayMs: 200, maxDelayMs: 3000, factor: 2 }; // the controller's default retry policy
  const send = async (
    node: string,
    msg: AnyMsg,
    fail: number,
    expectOk: boolean,
    method: string,
    expectedCalls: number,
    code = 'UNAVAILABLE',
  ) => {
    const before = count(method);
    if (fail > 0) h.sim.faults.failNext(method, fail, GrpcStatus.UNAVAILABLE, 'Simulated overload');
    const o = await h.send(node, msg);
    requests += 1;
    const calls = count(method) - before;
    faults += Math.min(fail, calls);
    if (expectOk && o.ok) {
      if (fail > 0) recovered += 1;
    } else if (!expectOk && !o.ok && o.code === code) expectedErrors += 1;
    else {
      failed += 1;
      problems.push(`${node} with ${fail} injected failures: ${describeOutcome(o)}`);
    }
    if (calls !== expectedCalls)
      problems.push(`${method}: ${calls} calls for one message with ${fail} injected failures, expected ${expectedCalls}`);
    h.sim.faults.clear();
    return { o, stamps: (times.get(method) ?? []).slice(before) };
  };
  try {
    const id = await h.startSession('1001');
    await h.send('list', {}); // the controller token is fetched once, before the bursts
    const gaps: number[][] = [];
    // get and list: a burst of up to three failures is absorbed by the retries.
    for (let r = 0; r < rounds; r++) {
      const fail = 1 + (r % 3);
      const node = r % 2 === 0 ? 'get' : 'list';
      const method = node === 'get' ? 'sessionController.getSession' : 'sessionController.getSessionList';
      const { stamps } = await send(node, { openobd: { sessionId: id } }, fail, true, method, fail + 1);
      gaps.push(stamps.slice(1).map((t, i) => t - stamps[i]));
    }
    // Every gap lies inside its jitter window: [half, all] of initialDelay × 2^attempt (plus time on the wire).
    const slack = 1000; // time on the wire and a busy event loop; the lower bounds are exact
    for (const g of gaps) {
      g.forEach((gap, attempt) => {
        const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.factor ** attempt);
        if (gap < ceiling / 2 - 2 || gap > ceiling + slack)
          problems.push(`retry ${attempt + 1} came after ${gap} ms, outside [${ceiling / 2}, ${ceiling}] ms`);
      });
    }
    const firstGaps = gaps.map((g) => g[0]);
    details.firstRetryGapsMs = firstGaps;
    details.retryGapsMs = gaps;
    if (rounds >= 4 && Math.max(...firstGaps) - Math.min(...firstGaps) < 10)
      problems.push(`first retries all came after the same delay (${firstGaps.join(', ')} ms): no jitter`);
    if (backoffDelay(policy, 0, () => 0) !== 100 || backoffDelay(policy, 0, () => 1) !== 200 || backoffDelay(policy, 2, () => 0.5) !== 600)
      problems.push('backoffDelay is not "half plus a random half" of the exponential delay');

    // A burst longer than the retry budget (4 attempts): one UNAVAILABLE reaches Catch and the status
    // turns red. The burst goes on through the account's background rechecks (each one failing too); the
    // status comes back by itself once openOBD answers again, without any message.
    const listCalls = count('sessionController.getSessionList');
    h.sim.faults.failNext('sessionController.getSessionList', 12, GrpcStatus.UNAVAILABLE, 'Simulated overload');
    const o = await h.send('list', {});
    requests += 1;
    if (!o.ok && o.code === 'UNAVAILABLE') expectedErrors += 1;
    else {
      failed += 1;
      problems.push(`a list during a long burst: ${describeOutcome(o)}`);
    }
    const red = statuses.last('list');
    if (red?.fill !== 'red') problems.push(`after an exhausted retry the list node shows ${JSON.stringify(red)}`);
    // 12 failures: the message's 4 attempts, then two failed rechecks of 4; the third recheck succeeds.
    const rechecked = await until(
      () => count('sessionController.getSessionList') - listCalls >= 13 && statuses.last('list')?.fill === 'green',
      20000,
    );
    faults += Math.min(12, count('sessionController.getSessionList') - listCalls);
    details.longBurstCalls = count('sessionController.getSessionList') - listCalls;
    if (!rechecked)
      problems.push(
        `the account stopped rechecking after a failed recheck: ${details.longBurstCalls} calls, status ${JSON.stringify(statuses.last('list'))}`,
      );
    else recovered += 1;
    h.sim.faults.clear();
    await send('list', {}, 0, true, 'sessionController.getSessionList', 1);

    // interrupt is idempotent (interrupting twice ends the same way): retried.
    const spare = await h.startSession('1002');
    await send('interrupt', { openobd: { sessionId: spare } }, 2, true, 'sessionController.interruptSession', 3);

    // start session is not: one call, one UNAVAILABLE, and no retry later either.
    const beforeStart = count('sessionController.startSessionOnTicket');
    await send('start', { payload: '1002' }, 1, false, 'sessionController.startSessionOnTicket', 1);
    await delay(1500);
    if (count('sessionController.startSessionOnTicket') - beforeStart !== 1) problems.push('start session was repeated after its failure');
    const s2 = await send('start', { payload: '1002' }, 0, true, 'sessionController.startSessionOnTicket', 1);
    if (s2.o.ok) recovered += 1;

    // finish is not either: one call, the session stays usable, the next finish works.
    await send('finish', { openobd: { sessionId: id }, result: 'success' }, 1, false, 'session.finish', 1);
    if (registry.get(id)?.session.state !== 'active')
      problems.push(`after a failed finish the session is ${registry.get(id)?.session.state}`);
    const r = await h.request(id, '3E00');
    requests += 1;
    if (!r.ok) {
      failed += 1;
      problems.push(`a request after the failed finish: ${describeOutcome(r)}`);
    }
    const f = await send('finish', { openobd: { sessionId: id }, result: 'success' }, 0, true, 'session.finish', 1);
    if (f.o.ok) recovered += 1;
  } catch (err) {
    problems.push(`scenario aborted: ${(err as Error).stack}`);
  } finally {
    statuses.stop();
  }
  const leaks = await h.close();
  return result('UNAVAILABLE bursts on controller calls', h, t0, leaks, {
    faults,
    requests,
    expectedErrors,
    failed,
    recovered,
    problems,
    details,
  });
}

/**
 * Wrong partner secret: red status on deploy, one clear error in the log per actual attempt, every
 * message caught with INVALID_ARGUMENT, at most one attempt per cooldown (20 s: three a minute) however
 * many messages arrive; a deploy with the right secret works at once.
 */
export async function wrongCredentialsScenario(opts: { durationMs: number; messageEveryMs?: number }): Promise<ScenarioResult> {
  const t0 = Date.now();
  const wrong = { clientId: 'simulator-partner', clientSecret: `wrong-secret-${Math.random().toString(36).slice(2)}` };
  const logs: unknown[] = [];
  const offLog = onLog((e) => logs.push(e));
  const statuses = new StatusLog(['start', 'list']);
  const h = await FlowHarness.start({ credentials: wrong });
  const problems: string[] = [];
  const details: Record<string, unknown> = {};
  let requests = 0;
  let expectedErrors = 0;
  let failed = 0;
  let recovered = 0;
  const attempts = () => h.sim.callCounts.get('sessionController.getSessionControllerToken') ?? 0;
  try {
    if (!(await until(() => statuses.last('start')?.fill === 'red', 10000)))
      problems.push(`no red status on deploy: ${JSON.stringify(statuses.last('start'))}`);
    const runStart = Date.now();
    const end = runStart + opts.durationMs;
    while (Date.now() < end) {
      const o = await h.send(requests % 3 === 0 ? 'list' : 'start', { payload: '1001' });
      requests += 1;
      if (!o.ok && o.code === 'INVALID_ARGUMENT' && /rejected the partner credentials/.test(o.message ?? '')) expectedErrors += 1;
      else {
        failed += 1;
        if (failed < 5) problems.push(`a message with wrong credentials: ${describeOutcome(o)}`);
      }
      await delay(opts.messageEveryMs ?? 50);
    }
    const elapsed = Date.now() - t0;
    const n = attempts();
    // The deploy check plus one per started 20-second cooldown.
    const bound = 1 + Math.ceil(elapsed / 20000);
    if (n > bound) problems.push(`${n} credential attempts in ${elapsed} ms (bound ${bound})`);
    details.credentialAttempts = n;
    details.seconds = Math.round(elapsed / 1000);
    details.messages = requests;
    const errorLines = logs.filter((e) => (e as { level?: number }).level === LOG_LEVEL.error);
    const credentialLines = errorLines.filter((e) => /rejected the partner credentials/.test(String((e as { msg?: unknown }).msg)));
    details.errorLogLines = errorLines.length;
    if (credentialLines.length !== n || errorLines.length !== n)
      problems.push(`${errorLines.length} error log lines (${credentialLines.length} about the credentials) for ${n} attempts`);
    const greens = statuses.entries.filter((s) => s.fill === 'green');
    if (greens.length > 0) problems.push(`a green status with wrong credentials: ${JSON.stringify(greens[0])}`);
    // Fixing the secret in the editor changes the account's credentials: a modified-nodes deploy
    // restarts it (the editor sends them inside the node, which is what marks it changed).
    await h.deploy(h.flow({ credentials: { ...PARTNER } }), 'nodes', PARTNER);
    const ok = await h.send('start', { payload: '1001' });
    requests += 1;
    if (ok.ok) recovered += 1;
    else {
      failed += 1;
      problems.push(`after fixing the secret: ${describeOutcome(ok)}`);
    }
  } catch (err) {
    problems.push(`scenario aborted: ${(err as Error).stack}`);
  } finally {
    statuses.stop();
    offLog();
  }
  const leaks = await h.close();
  return result(`wrong credentials for ${Math.round(opts.durationMs / 1000)} s`, h, t0, leaks, {
    faults: 1,
    requests,
    expectedErrors,
    failed,
    recovered,
    problems,
    details,
  });
}

/** XOR key of the engine's security level 1 (default vehicle). */
function engineKey(seedHex: string): string {
  const seed = Buffer.from(seedHex, 'hex');
  const mask = Buffer.from('4F50454E', 'hex');
  return Buffer.from(seed.map((b, i) => b ^ mask[i % mask.length]))
    .toString('hex')
    .toUpperCase();
}

/**
 * A slow vehicle: routine FF00 answers "response pending" three times 1.5 s apart and completes (while
 * another ECU keeps answering); an ECU that never answers ends in TIMEOUT after the configured time,
 * and the next request works.
 */
export async function slowVehicleScenario(opts: { rounds?: number; timeoutMs?: number } = {}): Promise<ScenarioResult> {
  const t0 = Date.now();
  const timeoutMs = opts.timeoutMs ?? 1500;
  const extra: FlowNode[] = [
    {
      id: 'trans',
      type: 'openobd-ecu',
      name: 'Transmission',
      busName: 'OBD-CAN',
      pinPlus: 6,
      pinMinus: 14,
      bitRate: 500,
      requestId: '7E1',
      responseId: '7E9',
      functional: false,
      padding: 'default',
      keepAlive: false,
    },
    {
      id: 'slow',
      type: 'openobd-request',
      ecu: 'engine',
      request: '',
      output: 'hex',
      negative: 'error',
      decode: true,
      outputs: 1,
      timeout: '1000',
      pendingTimeout: '2500',
      overallTimeout: '20000',
      wires: [['slowOut']],
    },
    {
      id: 'strict',
      type: 'openobd-request',
      ecu: 'engine',
      request: '',
      output: 'hex',
      negative: 'error',
      decode: true,
      outputs: 1,
      timeout: String(timeoutMs),
      wires: [['answered']],
    },
    {
      id: 'reqT',
      type: 'openobd-request',
      ecu: 'trans',
      request: '',
      output: 'hex',
      negative: 'error',
      decode: true,
      outputs: 1,
      wires: [['answered']],
    },
    { id: 'slowOut', type: 'helper' },
  ];
  const h = await FlowHarness.start({ extra });
  const problems: string[] = [];
  const details: Record<string, unknown> = { routineMs: [] as number[], timeoutMs: [] as number[] };
  let requests = 0;
  let expectedErrors = 0;
  let failed = 0;
  let recovered = 0;
  let faults = 0;
  const need = (o: Outcome, what: string, hex?: RegExp) => {
    requests += 1;
    if (o.ok && (!hex || hex.test(String(o.msg?.payload)))) return true;
    failed += 1;
    problems.push(`${what}: ${o.ok ? `answered ${String(o.msg?.payload)}` : describeOutcome(o)}`);
    return false;
  };
  try {
    const id = await h.startSession('1001');
    for (let round = 0; round < (opts.rounds ?? 1); round++) {
      need(await h.request(id, '1003'), 'extended session', /^5003/);
      const seed = await h.request(id, '2701');
      if (!need(seed, 'seed', /^6701/)) continue;
      need(await h.request(id, '2702' + engineKey(String(seed.msg?.payload).slice(4))), 'key', /^6702$/);
      const routine = h.request(id, '3101FF00', 'slow', 30000);
      // Another ECU on the same session is not held up by the pending routine.
      await delay(300);
      const other = await h.request(id, '3E00', 'reqT');
      need(other, 'transmission during the routine', /^7E00$/);
      if (other.ms > 2000) problems.push(`the transmission answered after ${other.ms} ms while the engine was busy`);
      const r = await routine;
      faults += 3;
      if (need(r, 'routine FF00', /^7101FF0000$/)) {
        (details.routineMs as number[]).push(r.ms);
        if (r.msg?.openobd.response.pendingCount !== 3) problems.push(`pendingCount ${r.msg?.openobd.response.pendingCount}`);
        if (r.ms < 4000) problems.push(`the routine completed after ${r.ms} ms: the pending answers were not waited for`);
        recovered += 1;
      }
      // An ECU that never answers: TIMEOUT after the configured time, then the next request works.
      h.sim.faults.withholdResponses('engine');
      faults += 1;
      const silent = await h.request(id, '22F190', 'strict', 30000);
      requests += 1;
      if (!silent.ok && silent.code === 'TIMEOUT' && new RegExp(`within ${timeoutMs} ms`).test(silent.message ?? '')) {
        expectedErrors += 1;
        (details.timeoutMs as number[]).push(silent.ms);
        if (silent.ms < timeoutMs - 5 || silent.ms > timeoutMs + 3000)
          problems.push(`TIMEOUT after ${silent.ms} ms, configured ${timeoutMs} ms`);
      } else {
        failed += 1;
        problems.push(`a silent ECU: ${describeOutcome(silent)}`);
      }
      h.sim.faults.clear();
      if (need(await h.request(id, '3E00'), 'the request after the timeout', /^7E00$/)) recovered += 1;
      if (round + 1 < (opts.rounds ?? 1)) need(await h.request(id, '1001'), 'default session', /^5001/);
    }
  } catch (err) {
    problems.push(`scenario aborted: ${(err as Error).stack}`);
  }
  const leaks = await h.close();
  return result('slow vehicle (response pending, silent ECU)', h, t0, leaks, {
    faults,
    requests,
    expectedErrors,
    failed,
    recovered,
    problems,
    details,
  });
}

/**
 * Half-open token streams: the simulator keeps the stream open but sends nothing. The keepalive's
 * watchdog (no token within 1.25 × the cadence) reopens it; the session survives and requests go on.
 */
export async function halfOpenScenario(opts: { stalls?: number } = {}): Promise<ScenarioResult> {
  const t0 = Date.now();
  const h = await FlowHarness.start({
    sim: { tokenIntervalMs: 200, tokenValidityMs: 3000 },
    session: { tokenIntervalMs: 200, tokenValidityMs: 3000, reconnect: { initialDelayMs: 25, maxDelayMs: 250 } },
  });
  const problems: string[] = [];
  const details: Record<string, unknown> = {};
  const statuses = new StatusLog(['start']);
  const health = new HealthLog();
  let faults = 0;
  let recovered = 0;
  let load: ReturnType<typeof requestLoad> | undefined;
  try {
    const id = await h.startSession('1001');
    const live = registry.get(id);
    if (!live) throw new Error('no live session');
    const ka = () => live.session.stats.keepalive;
    if (!(await until(() => live.session.stats.tokens >= 4, 5000))) problems.push('no token rotation before the stalls');
    const runStart = Date.now();
    load = requestLoad(h, () => id, 2, 10);
    const opens0 = h.sim.callCounts.get('session.openSessionTokenStream') ?? 0;
    for (let i = 0; i < (opts.stalls ?? 3); i++) {
      const fires = ka().watchdogFires;
      h.sim.faults.stallTokenStreams = true;
      faults += 1;
      const detected = await until(() => ka().watchdogFires > fires, 5000);
      h.sim.faults.stallTokenStreams = false;
      if (!detected) {
        problems.push(`stall ${i + 1}: the watchdog never fired`);
        continue;
      }
      const tokens = live.session.stats.tokens;
      if (await until(() => live.session.stats.tokens > tokens && live.session.keepaliveHealth === 'healthy', 5000)) recovered += 1;
      else problems.push(`stall ${i + 1}: no token on the reopened stream`);
      await delay(700);
    }
    await load.stop();
    details.keepalive = { ...ka() };
    details.reopens = (h.sim.callCounts.get('session.openSessionTokenStream') ?? 0) - opens0;
    details.statusRecoveries = health.recoveries(id);
    if (live.session.state !== 'active' || h.sim.sessions.get(id)?.state !== 'active') problems.push('the session did not survive');
    if (load.stats.failed > 0)
      problems.push(`${load.stats.failed} of ${load.stats.sent} requests failed: ${JSON.stringify(load.stats.failures.slice(0, 3))}`);
    if ((details.reopens as number) < recovered) problems.push(`only ${String(details.reopens)} reopened streams`);
    if (!(await until(() => h.sim.stats().streams.token === 1, 5000)))
      problems.push(`${h.sim.stats().streams.token} token streams open on the server: half-open ones were not closed`);
    const reds = statuses.red(runStart);
    if (reds.length > 0) problems.push(`red status: ${JSON.stringify(reds[0])}`);
    if (health.recoveries(id) < 1) problems.push('no node showed the recovery');
    if (statuses.last('start')?.fill !== 'green') problems.push(`the start node ends with ${JSON.stringify(statuses.last('start'))}`);
  } catch (err) {
    problems.push(`scenario aborted: ${(err as Error).stack}`);
  } finally {
    await load?.stop();
    statuses.stop();
    health.stop();
  }
  const leaks = await h.close();
  return result('half-open token stream', h, t0, leaks, {
    faults,
    requests: load?.stats.sent ?? 0,
    expectedErrors: 0,
    failed: load?.stats.failed ?? 0,
    recovered,
    problems,
    details,
  });
}

// ---------------------------------------------------------------------------------------------------
// Fuzz
// ---------------------------------------------------------------------------------------------------

/** A small seeded PRNG (mulberry32), so every run sends the same messages. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FuzzCase {
  node: 'req' | 'start' | 'finish' | 'interrupt';
  kind: string;
  msg: AnyMsg;
  /** Acceptable msg.error.code values. */
  codes: string[];
}

export interface FuzzContext {
  live: string;
  ended: string;
  foreign: string;
}

/**
 * `count` malformed messages for the request, start, finish and interrupt nodes: bad hex, odd-length
 * hex, empty payloads, payloads over 4095 bytes, wrong types, missing or foreign session ids, unknown
 * tickets, results out of range. None of them may do anything but fail with one of `codes`.
 */
export function fuzzCases(count: number, ctx: FuzzContext, seed = 20240601): FuzzCase[] {
  const rnd = prng(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(list: readonly T[]): T => list[int(list.length)];
  const hex = (bytes: number) => Array.from({ length: bytes }, () => int(256).toString(16).padStart(2, '0')).join('');
  const uuid = () => `${hex(4)}-${hex(2)}-4${hex(2).slice(1)}-8${hex(2).slice(1)}-${hex(6)}`;
  const weird: unknown[] = [
    42,
    -1,
    0.5,
    NaN,
    Infinity,
    true,
    false,
    null,
    {},
    { a: 1 },
    [[1, 2]],
    new Date(0),
    BigInt(7),
    new Float32Array(2),
    new Int8Array([1]),
    Symbol('x'),
    { type: 'Buffer' },
    new Map(),
  ];
  const badIds: unknown[] = [
    42,
    '',
    '   ',
    {},
    [],
    true,
    null,
    { id: 'x' },
    'x'.repeat(300),
    ctx.foreign,
    uuid(),
    '../../etc/passwd',
    '\u0000',
    '11111111-2222-4333-8444-555555555555',
  ];
  const sessionShapes = (): { openobd?: unknown; codes: string[] } => {
    switch (int(6)) {
      case 0:
        return { codes: ['NO_SESSION'] };
      case 1:
        return { openobd: pick([null, 'abc', 17, [], true]), codes: ['NO_SESSION'] };
      case 2:
        return { openobd: { sessionId: pick(badIds) }, codes: ['NO_SESSION'] };
      case 3:
        return { openobd: { sessionId: uuid() }, codes: ['NO_SESSION'] };
      case 4:
        return { openobd: { sessionId: ctx.foreign }, codes: ['NO_SESSION'] };
      default:
        return { openobd: { sessionId: ctx.ended }, codes: ['SESSION_ENDED'] };
    }
  };
  const live = () => ({ sessionId: ctx.live });

  const request = (): FuzzCase => {
    const k = int(8);
    if (k === 7) {
      const s = sessionShapes();
      return {
        node: 'req',
        kind: 'request: missing or foreign session id',
        msg: { payload: '3E00', ...(s.openobd === undefined ? {} : { openobd: s.openobd }) },
        codes: s.codes,
      };
    }
    let payload: unknown;
    let kind: string;
    if (k === 0) {
      const text = hex(1 + int(20));
      const i = int(text.length);
      payload =
        text.slice(0, i) +
        pick([...'GHIJKLMNOPQRSTUVWXYZghijklmnopqrstuvwxyz!#$%&*+,./:;<=>?@[]^_`{|}~"\'', '\u00e9', '\u{1F600}', '\u0000']) +
        text.slice(i);
      kind = 'request: bad hex';
    } else if (k === 1) {
      payload = hex(int(20)) + pick([...'0123456789ABCDEFabcdef']);
      kind = 'request: odd-length hex';
    } else if (k === 2) {
      payload = pick<unknown>(['', '   ', '\t\n', [], Buffer.alloc(0), new Uint8Array(0), { type: 'Buffer', data: [] }, '0x']);
      kind = 'request: empty payload';
    } else if (k === 3) {
      const n = 4096 + int(3000);
      payload = pick<() => unknown>([
        () => 'AB'.repeat(n),
        () => Buffer.alloc(n, 0x22),
        () => Array(n).fill(0x22),
        () => ({ type: 'Buffer', data: Array(n).fill(1) }),
      ])();
      kind = 'request: over 4095 bytes';
    } else if (k === 4 || k === 5) {
      payload = pick(weird);
      kind = 'request: wrong type';
    } else {
      payload = pick<unknown>([
        [0x22, 256],
        [-1],
        [1.5],
        ['22'],
        [NaN],
        [0x3e, null],
        { type: 'Buffer', data: [300] },
        { type: 'Buffer', data: 'x' },
        [0x22, 0xf1, 0x90, 1e9],
      ]);
      kind = 'request: byte out of range';
    }
    return { node: 'req', kind, msg: { payload, openobd: live() }, codes: ['BAD_PAYLOAD'] };
  };

  const start = (): FuzzCase => {
    const k = int(5);
    if (k === 0) {
      const ticket = pick<() => string>([
        () => String(2000 + int(1e8)),
        () => `T-${hex(3)}`,
        () => '１００１',
        () => '10\u000001',
        () => `${1005 + int(1000)}`,
      ])();
      return { node: 'start', kind: 'start: unknown ticket', msg: { payload: ticket }, codes: ['FAILED_PRECONDITION'] };
    }
    if (k === 1)
      return {
        node: 'start',
        kind: 'start: wrong type',
        msg: {
          payload: pick<unknown>([{}, [], true, false, null, undefined, Buffer.from('1001'), NaN, Infinity, { ticket: '1002' }, ['1002']]),
        },
        codes: ['BAD_REQUEST'],
      };
    if (k === 2)
      return {
        node: 'start',
        kind: 'start: empty or too long',
        msg: { payload: pick(['', '   ', '\n', 'x'.repeat(201 + int(500))]) },
        codes: ['BAD_REQUEST'],
      };
    if (k === 3)
      return { node: 'start', kind: 'start: ticket in use', msg: { payload: pick(['1001', ' 1001 ', 1001]) }, codes: ['UNAVAILABLE'] };
    return { node: 'start', kind: 'start: unknown ticket number', msg: { payload: 5000 + int(1e6) }, codes: ['FAILED_PRECONDITION'] };
  };

  const finish = (): FuzzCase => {
    const k = int(5);
    if (k === 0) {
      const s = sessionShapes();
      return {
        node: 'finish',
        kind: 'finish: missing or foreign session id',
        msg: { result: 'success', ...(s.openobd === undefined ? {} : { openobd: s.openobd }) },
        codes: s.codes,
      };
    }
    if (k === 1 || k === 2) {
      // Only truthy values: a blank result means the default RESULT_SUCCESS, which is valid.
      const result = pick<unknown>([
        'RESULT_MAYBE',
        'maybe',
        'RESULT_SUCCESS; DROP',
        7,
        -3,
        true,
        {},
        { result: 'success' },
        [],
        ['RESULT_SUCCESS', 'BOGUS'],
        [42],
        [null],
        ['success', {}],
        'RESULT_',
        'FAILURE_',
        '\u0000',
      ]);
      return { node: 'finish', kind: 'finish: result out of range', msg: { openobd: live(), result }, codes: ['BAD_REQUEST'] };
    }
    if (k === 3) {
      return {
        node: 'finish',
        kind: 'finish: user feedback out of range',
        msg: {
          openobd: live(),
          result: 'success',
          userFeedback: pick<unknown>(['happy', 5, 0, false, null, {}, ['SUCCESS'], 'USER_FEEDBACK_', 'USER_FEEDBACK_MAYBE']),
        },
        codes: ['BAD_REQUEST'],
      };
    }
    return {
      node: 'finish',
      kind: 'finish: description not text',
      msg: { openobd: live(), result: 'success', description: pick<unknown>([42, {}, [], true, { text: 'x' }, Buffer.from('x')]) },
      codes: ['BAD_REQUEST'],
    };
  };

  const interrupt = (): FuzzCase => {
    const k = int(5);
    if (k === 0)
      return {
        node: 'interrupt',
        kind: 'interrupt: missing session id',
        msg: pick<AnyMsg>([{}, { openobd: null }, { openobd: {} }, { openobd: 'x' }, { openobd: { sessionId: undefined } }]),
        codes: ['NO_SESSION'],
      };
    if (k === 1)
      return {
        node: 'interrupt',
        kind: 'interrupt: wrong type',
        msg: { openobd: { sessionId: pick<unknown>([{}, [], true, false, null, { id: 1 }, NaN, Infinity]) } },
        codes: ['BAD_REQUEST'],
      };
    if (k === 2)
      return {
        node: 'interrupt',
        kind: 'interrupt: empty or too long',
        msg: { openobd: { sessionId: pick(['', '  ', 'x'.repeat(201 + int(300))]) } },
        codes: ['BAD_REQUEST'],
      };
    if (k === 3)
      return { node: 'interrupt', kind: 'interrupt: foreign session', msg: { openobd: { sessionId: ctx.foreign } }, codes: ['NOT_FOUND'] };
    return {
      node: 'interrupt',
      kind: 'interrupt: unknown session',
      msg: { openobd: { sessionId: pick<() => unknown>([uuid, () => int(1e6), () => `s-${hex(4)}`])() } },
      codes: ['NOT_FOUND'],
    };
  };

  const makers = [request, request, start, finish, interrupt];
  return Array.from({ length: count }, (_, i) => makers[i % makers.length]());
}

/**
 * `count` malformed messages through the request, start, finish and interrupt nodes: each ends in one
 * caught error with an expected code, nothing crashes, the heap stays flat, and afterwards valid
 * messages work on the same flow and session.
 */
export async function fuzzScenario(opts: { count: number; seed?: number }): Promise<ScenarioResult> {
  const t0 = Date.now();
  const partnerB = { clientId: 'other-partner', clientSecret: 'other-secret', clusterId: '001' };
  const h = await FlowHarness.start({ sim: { partners: [{ ...PARTNER, clusterId: '001' }, partnerB], vehicles: 4 } });
  const problems: string[] = [];
  const details: Record<string, unknown> = {};
  const crashes: string[] = [];
  const onCrash = (err: unknown) => crashes.push(inspect(err).slice(0, 500));
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  const logs: Array<{ level?: number; msg?: unknown }> = [];
  const offLog = onLog((e) => logs.push(e as { level?: number; msg?: unknown }));
  let requests = 0;
  let expectedErrors = 0;
  let failed = 0;
  let recovered = 0;
  const byKind: Record<string, number> = {};
  try {
    const live = await h.startSession('1001');
    const ended = await h.startSession('1002');
    const fin = await h.send('finish', { openobd: { sessionId: ended }, result: 'success' });
    if (!fin.ok) throw new Error(`could not finish the session for "ended": ${describeOutcome(fin)}`);
    // A session of another partner on the same service: invisible to this account.
    const { SessionController } = await import('../../client');
    const other = new SessionController({
      endpoint: { host: '127.0.0.1', port: h.sim.port as number, tls: false },
      credentials: partnerB,
      env: {},
    });
    const foreignInfo = await other.startSessionOnTicket('1003');
    other.close();
    const cases = fuzzCases(opts.count, { live, ended, foreign: foreignInfo.id }, opts.seed);
    let heapAfterWarmup = 0;
    const warmup = Math.min(200, Math.floor(opts.count / 5));
    const logsBefore = logs.length;
    for (let i = 0; i < cases.length; i++) {
      if (i === warmup) {
        dropSpyHistory();
        collectGarbage();
        heapAfterWarmup = process.memoryUsage().heapUsed;
      }
      const c = cases[i];
      const o = await h.send(c.node, c.msg, 20000);
      requests += 1;
      byKind[c.kind] = (byKind[c.kind] ?? 0) + 1;
      if (!o.ok && c.codes.includes(o.code ?? '') && o.source === c.node && (o.message ?? '').length > 0) expectedErrors += 1;
      else {
        failed += 1;
        if (failed <= 10)
          problems.push(
            `#${i} ${c.kind} ${inspect(c.msg, { depth: 2, maxStringLength: 60, maxArrayLength: 5 })}: expected ${c.codes.join('|')}, got ${describeOutcome(o)}`,
          );
      }
      if (i % 100 === 99) dropSpyHistory();
    }
    dropSpyHistory();
    collectGarbage();
    const heapEnd = process.memoryUsage().heapUsed;
    details.heapGrowthMb = Math.round(((heapEnd - heapAfterWarmup) / 1048576) * 10) / 10;
    details.cases = byKind;
    // Flat: what 80 % of the messages left on the heap, after a full collection.
    if (heapEnd - heapAfterWarmup > 8 * 1048576)
      problems.push(`the heap grew by ${details.heapGrowthMb} MB over ${opts.count - warmup} malformed messages`);
    const uncaughtLogs = logs.slice(logsBefore).filter((l) => (l.level ?? 99) <= LOG_LEVEL.error);
    if (uncaughtLogs.length > 0)
      problems.push(`${uncaughtLogs.length} errors were logged instead of caught: ${inspect(uncaughtLogs[0]).slice(0, 300)}`);
    if (h.driver.duplicates > 0) problems.push(`${h.driver.duplicates} messages had more than one outcome`);
    if (crashes.length > 0) problems.push(`uncaught: ${crashes.slice(0, 2).join(' | ')}`);
    // The live session was never touched; valid messages work on every node afterwards.
    const valid: Array<[string, AnyMsg, RegExp | undefined]> = [
      ['req', { payload: '22F190', openobd: { sessionId: live } }, /^62F190/],
      ['get', { openobd: { sessionId: live } }, undefined],
      ['start', { payload: '1004' }, undefined],
    ];
    for (const [node, msg, pattern] of valid) {
      const o = await h.send(node, msg);
      requests += 1;
      if (o.ok && (!pattern || pattern.test(String(o.msg?.payload)))) recovered += 1;
      else {
        failed += 1;
        problems.push(`valid message to ${node} after the fuzz: ${describeOutcome(o)}`);
      }
    }
    const fourth = registry.list().find((l) => l.target.ticketId === '1004');
    const last: Array<[string, AnyMsg]> = [
      ['finish', { openobd: { sessionId: live }, result: 'success' }],
      ['interrupt', { openobd: { sessionId: fourth?.id } }],
    ];
    for (const [node, msg] of last) {
      const o = await h.send(node, msg);
      requests += 1;
      if (o.ok) recovered += 1;
      else {
        failed += 1;
        problems.push(`valid message to ${node} after the fuzz: ${describeOutcome(o)}`);
      }
    }
  } catch (err) {
    problems.push(`scenario aborted: ${(err as Error).stack}`);
  } finally {
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
    offLog();
  }
  const leaks = await h.close();
  return result(`fuzz: ${opts.count} malformed messages`, h, t0, leaks, {
    faults: opts.count,
    requests,
    expectedErrors,
    failed,
    recovered,
    problems,
    details,
  });
}

// ---------------------------------------------------------------------------------------------------
// Deploys
// ---------------------------------------------------------------------------------------------------

export type DeployType = 'full' | 'flows' | 'nodes';

export interface DeployStep {
  type: DeployType;
  /** What changes: nothing, the request node, the ECU config, the account (name or close policy). */
  change: 'none' | 'request' | 'ecu' | 'account-name' | 'account-policy' | 'remove-list';
}

/** A fixed, mixed sequence of `count` deploys covering every type and change. */
export function deployPlan(count: number, seed = 7): DeployStep[] {
  const rnd = prng(seed);
  const all: DeployStep[] = [
    { type: 'full', change: 'none' },
    { type: 'flows', change: 'request' },
    { type: 'nodes', change: 'request' },
    { type: 'nodes', change: 'ecu' },
    { type: 'nodes', change: 'account-name' },
    { type: 'flows', change: 'account-policy' },
    { type: 'nodes', change: 'remove-list' },
    { type: 'full', change: 'account-policy' },
  ];
  const steps = all.slice(0, Math.min(count, all.length));
  while (steps.length < count) steps.push(all[Math.floor(rnd() * all.length)]);
  return steps;
}

/** Whether a deploy restarts the account (and so ends its sessions by its close policy). */
export function restartsAccount(step: DeployStep): boolean {
  return step.type === 'full' || step.change === 'account-name' || step.change === 'account-policy';
}

/**
 * `count` full and partial deploys with two live sessions and a request in flight: sessions survive
 * exactly the deploys that leave the account alone, the others end them by the close policy in force
 * (interrupt or finish, alternating); each stop takes under 5 s; afterwards nothing is left open.
 */
export async function deployScenario(opts: { count: number }): Promise<ScenarioResult> {
  const t0 = Date.now();
  const h = await FlowHarness.start();
  const problems: string[] = [];
  const details: Record<string, unknown> = {};
  const crashes: string[] = [];
  const onCrash = (err: unknown) => crashes.push(inspect(err).slice(0, 500));
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  let requests = 0;
  let expectedErrors = 0;
  let failed = 0;
  let recovered = 0;
  const closeTimes: number[] = [];
  const inFlightFates: Record<string, number> = {};
  const errorLogs: string[] = [];
  const offLog = onLog((e) => {
    const entry = e as { level?: number; msg?: unknown; type?: string };
    if ((entry.level ?? 99) <= LOG_LEVEL.error) errorLogs.push(`${entry.type ?? ''}: ${String(entry.msg)}`.slice(0, 300));
  });
  const ended = { interrupted: 0, finished: 0 };
  const state = {
    accountName: 'sim',
    policy: 'interrupt' as 'interrupt' | 'finish',
    reqName: '',
    ecuName: 'Engine',
    list: true,
    version: 0,
  };
  const flowOf = () => {
    const changes: Record<string, Record<string, unknown>> = {
      account: { name: state.accountName, closePolicy: state.policy },
      req: { name: state.reqName },
      engine: { name: state.ecuName },
    };
    const f = h.flow({ closePolicy: state.policy }, changes);
    return state.list ? f : f.filter((n) => n.id !== 'list');
  };
  try {
    const tickets = ['1001', '1002'];
    const sessions = new Map<string, string>();
    for (const t of tickets) sessions.set(t, await h.startSession(t));
    const plan = deployPlan(opts.count);
    details.plan = plan.reduce<Record<string, number>>(
      (acc, s) => ((acc[`${s.type}/${s.change}`] = (acc[`${s.type}/${s.change}`] ?? 0) + 1), acc),
      {},
    );
    for (let i = 0; i < plan.length; i++) {
      const step = plan[i];
      const oldPolicy = state.policy;
      state.version += 1;
      if (step.change === 'request') state.reqName = `req v${state.version}`;
      if (step.change === 'ecu') state.ecuName = `Engine v${state.version}`;
      if (step.change === 'account-name') state.accountName = `sim v${state.version}`;
      if (step.change === 'account-policy') state.policy = state.policy === 'interrupt' ? 'finish' : 'interrupt';
      if (step.change === 'remove-list') state.list = !state.list;
      // A request in flight while the deploy happens (the engine answers after 400 ms).
      h.sim.faults.delayResponses(400, 'engine');
      const inFlight = h.request(sessions.get('1001') as string, '3E00', 'req', 1500);
      await delay(50);
      const ms = await h.deploy(flowOf(), step.type);
      closeTimes.push(ms);
      h.sim.faults.clear();
      const f = await inFlight;
      requests += 1;
      const fate = f.ok ? 'answered' : (f.code ?? '?');
      inFlightFates[fate] = (inFlightFates[fate] ?? 0) + 1;
      // Answered, or cut short by its node stopping (CLOSED, or dropped with the node: no outcome) or by
      // its session being ended by the close policy (SESSION_ENDED): never anything else.
      const cutShort = f.code === 'CLOSED' || f.code === 'SESSION_ENDED' || f.code === 'NO_OUTCOME';
      if (!f.ok && cutShort) expectedErrors += 1;
      else if (!f.ok) {
        failed += 1;
        problems.push(`deploy ${i + 1} (${step.type}/${step.change}): the request in flight ended in ${describeOutcome(f)}`);
      }
      if (ms > 5000) problems.push(`deploy ${i + 1} (${step.type}/${step.change}) took ${ms} ms to stop the old nodes`);
      const restarted = restartsAccount(step);
      for (const t of tickets) {
        const id = sessions.get(t) as string;
        if (restarted) {
          const want = oldPolicy === 'finish' ? 'finished' : 'interrupted';
          if (!(await until(() => h.sim.sessions.get(id)?.state === want, 5000))) {
            problems.push(
              `deploy ${i + 1} (${step.type}/${step.change}): session on ${t} is ${h.sim.sessions.get(id)?.state} on the server, expected ${want}`,
            );
          } else ended[want] += 1;
          if (registry.get(id)) problems.push(`deploy ${i + 1}: the replaced session on ${t} is still registered`);
          const fresh = await h.send('start', { payload: t });
          requests += 1;
          if (fresh.ok) {
            recovered += 1;
            sessions.set(t, fresh.msg?.openobd.sessionId as string);
          } else {
            failed += 1;
            problems.push(`deploy ${i + 1}: a new session on ${t}: ${describeOutcome(fresh)}`);
          }
        } else if (registry.get(id)?.session.state !== 'active') {
          problems.push(`deploy ${i + 1} (${step.type}/${step.change}) ended the session on ${t} although the account did not change`);
        }
        const r = await h.request(sessions.get(t) as string, '3E00');
        requests += 1;
        if (!r.ok) {
          failed += 1;
          problems.push(`deploy ${i + 1} (${step.type}/${step.change}): a request on ${t}: ${describeOutcome(r)}`);
        }
      }
      // Server and process agree on what is open: two sessions, each with one token stream, one channel.
      const counted = await until(() => {
        const s = h.sim.stats();
        return (
          s.sessions.active === 2 && s.streams.token === 2 && s.streams.isotp <= 2 && registry.size === 2 && defaultChannelPool.size === 1
        );
      }, 5000);
      if (!counted) {
        const s = h.sim.stats();
        problems.push(
          `after deploy ${i + 1} (${step.type}/${step.change}): server ${JSON.stringify(s.sessions)} token streams ${s.streams.token}, isotp ${s.streams.isotp}; registry ${registry.size}; channels ${defaultChannelPool.size}`,
        );
      }
      if (problems.length > 10) break;
    }
    details.closeMs = {
      max: Math.max(...closeTimes),
      mean: Math.round(closeTimes.reduce((a, b) => a + b, 0) / Math.max(1, closeTimes.length)),
    };
    details.sessionsEnded = { ...ended };
    details.inFlightFates = inFlightFates;
    details.errorLogs = { count: errorLogs.length, first: errorLogs.slice(0, 3) };
    details.subscribers = registry.subscriberCount;
    if (crashes.length > 0) problems.push(`uncaught: ${crashes.slice(0, 2).join(' | ')}`);
  } catch (err) {
    problems.push(`scenario aborted: ${(err as Error).stack}`);
  } finally {
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
    offLog();
  }
  // Stopping Node-RED with the two sessions live ends them by the policy in force.
  const live = registry.list().map((l) => l.id);
  const leaks = await h.close();
  const want = state.policy === 'finish' ? 'finished' : 'interrupted';
  for (const id of live)
    if (h.sim.sessions.get(id)?.state !== want)
      problems.push(`at shutdown session ${id} was left ${h.sim.sessions.get(id)?.state}, expected ${want}`);
  return result(`${opts.count} full and partial deploys`, h, t0, leaks, {
    faults: opts.count,
    requests,
    expectedErrors,
    failed,
    recovered,
    problems,
    details: { ...details, closeMsAtShutdown: leaks.closeMs },
  });
}

// ---------------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------------

/** The soak table (markdown). */
export function table(results: ScenarioResult[]): string {
  const rows = [
    '| scenario | faults injected | requests sent | failed | expected errors | recovered | leaked handles | peak RSS | time |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    rows.push(
      `| ${r.scenario} | ${r.faults} | ${r.requests} | ${r.failed} | ${r.expectedErrors} | ${r.recovered} | ${r.leaks.total} | ${r.peakRssMb} MB | ${(r.durationMs / 1000).toFixed(0)} s |`,
    );
  }
  return rows.join('\n');
}

/** Prints a scenario's figures when RELIABILITY_VERBOSE is set (for tuning and the report). */
export function report(r: ScenarioResult): void {
  if (!process.env.RELIABILITY_VERBOSE) return;
  const { problems, ...rest } = r;
  process.stdout.write(`${inspect({ ...rest, problems: problems.length }, { depth: 4, breakLength: 160 })}\n`);
}
