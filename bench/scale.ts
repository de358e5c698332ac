/*
 * Benchmark section 3: many concurrent active sessions in one Node-RED process. Each session is started
 * by a "start session" node (account on the simulator child), then gets one ISO-TP channel from one
 * request through "send request"; every session keeps its hidden keepalive, with token rotations at a
 * short cadence. Measured here, in the Node-RED process only (the simulator is a child process and its
 * CPU is reported apart): time to start them all, memory per session, CPU while idle.
 * Run by bench.ts; standalone: `node --expose-gc dist/bench/scale.js --sessions 1000 [--quick]`.
 */
import { performance } from 'node:perf_hooks';
import { defaultConnectionPool } from '../client';
import { registry } from '../nodes/lib/registry';
import {
  FlowSink,
  REQUEST_HEX,
  SimChild,
  baseFlow,
  cpuMs,
  delay,
  flowNode,
  requestNode,
  startSessionNode,
  gc,
  nowUs,
  runAsWorker,
  startNodeRed,
  waitUntil,
} from './common';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

export interface ScaleResult {
  sessions: number;
  tokenIntervalMs: number;
  tokenValidityMs: number;
  /** From the first "start session" message to the last session active (all sent at once). */
  startAllMs: number;
  /** Then one request per session through "send request" (opens its ISO-TP stream and channel). */
  openChannelsMs: number;
  active: number;
  errors: number;
  /** Keepalive streams reopened while the sessions were being started (watchdog fires, stream drops). */
  startKeepaliveReopens: { watchdogFires: number; drops: number };
  rssBaselineBytes: number;
  rssBytes: number;
  heapBaselineBytes: number;
  heapBytes: number;
  rssPerSessionBytes: number;
  heapPerSessionBytes: number;
  idle: {
    seconds: number;
    /** CPU of the Node-RED process over the idle window, in % of one core. */
    cpuPercent: number;
    eventLoopUtilization: number;
    tokensRotated: number;
    cpuPerRotationUs: number;
    simCpuPercent: number;
    /** Keepalive reopens and watchdog fires during the window (0 expected). */
    keepaliveDrops: number;
    watchdogFires: number;
    /** Heap after the window minus before (leak check), per session. */
    heapGrowthPerSessionBytes: number;
  };
  simRssBytes: number;
  /** Open streams on the simulator by kind (one token and one ISO-TP stream per session expected). */
  simStreams: Record<string, number>;
  /** The server's cap on concurrent streams per HTTP/2 connection (0: none). */
  maxConcurrentStreams: number;
  /** HTTP/2 connections the Node-RED process holds: the controller's and those the sessions are spread over. */
  connections: number;
  sessionConnections: number;
  /** The simulator restarted with every session live: how long until every keepalive is back. */
  restart?: {
    downtimeMs: number;
    /** From the server coming back until every session has its token stream again (and a new token). */
    recoveredMs: number;
    active: number;
    lost: number;
    errors: number;
  };
}

function keepaliveTotals() {
  let tokens = 0;
  let drops = 0;
  let watchdogFires = 0;
  for (const live of registry.list()) {
    const s = live.session.stats;
    tokens += s.tokens;
    drops += s.keepalive.drops;
    watchdogFires += s.keepalive.watchdogFires;
  }
  return { tokens, drops, watchdogFires };
}

export async function runScale(options: {
  sessions: number;
  quick?: boolean;
  idleSeconds?: number;
  restart?: boolean;
}): Promise<ScaleResult> {
  const n = options.sessions;
  const tokenIntervalMs = Number(process.env.BENCH_TOKEN_INTERVAL_MS || 1000);
  const tokenValidityMs = 60_000;
  const idleSeconds = options.idleSeconds ?? (options.quick ? 4 : 10);
  const maxConcurrentStreams = Number(process.env.BENCH_MAX_STREAMS ?? 100);
  const sim = await SimChild.start({ vehicles: n + 2, instant: true, tokenIntervalMs, tokenValidityMs, maxConcurrentStreams });
  try {
    const red = await startNodeRed(
      [
        ...baseFlow(sim.port),
        startSessionNode('started'),
        flowNode({ id: 'started', type: 'junction', wires: [] }),
        flowNode({ id: 'in', type: 'junction', wires: [['req']] }),
        requestNode('out'),
        flowNode({ id: 'out', type: 'junction', wires: [] }),
        flowNode({ id: 'catch', type: 'catch', scope: null, uncaught: false, wires: [['caught']] }),
        flowNode({ id: 'caught', type: 'junction', wires: [] }),
      ],
      // The keepalive cadence of every session this Node-RED starts (settings.js openobdAccountSession).
      { openobdAccountSession: { tokenIntervalMs, tokenValidityMs } },
    );
    const startedSink = new FlowSink(red.getNode('started'), red.getNode('caught'), (m: Any) => String(m.benchKey));
    const outSink = new FlowSink(red.getNode('out'), red.getNode('caught'), (m: Any) => String(m.benchKey));
    // The account checks its credentials on deploy; wait for that, so the baseline holds a ready controller.
    await waitUntil(() => red.getNode('account').runtime.status.state === 'ready', 10000, 'the account to be ready');
    await delay(500);
    gc();
    const rss0 = process.memoryUsage().rss;
    const heap0 = process.memoryUsage().heapUsed;

    let errors = 0;
    const t0 = nowUs();
    const starts: Array<Promise<string>> = [];
    for (let i = 0; i < n; i++) {
      const key = `s${i}`;
      const p = startedSink.next(key).then(
        (m: Any) => String(m.openobd.sessionId),
        (err: Error) => {
          errors += 1;
          process.stderr.write(`bench scale: start ${i}: ${err.message}\n`);
          return '';
        },
      );
      red.getNode('start').receive({ payload: String(1001 + i), benchKey: key });
      starts.push(p);
    }
    const ids = (await Promise.all(starts)).filter(Boolean);
    const t1 = nowUs();
    const opened = ids.map((sessionId, i) => {
      const key = `c${i}`;
      const p = outSink.next(key).then(
        () => undefined,
        (err: Error) => {
          errors += 1;
          process.stderr.write(`bench scale: channel ${i}: ${err.message}\n`);
        },
      );
      red.getNode('in').receive({ payload: REQUEST_HEX, openobd: { sessionId }, benchKey: key });
      return p;
    });
    await Promise.all(opened);
    const t2 = nowUs();

    // Let the start-up garbage go, then measure what the sessions hold.
    await delay(2000);
    gc();
    const rss1 = process.memoryUsage().rss;
    const heap1 = process.memoryUsage().heapUsed;

    // Idle: nothing but keepalives (token rotations every tokenIntervalMs for every session).
    const sim0 = await sim.stats();
    const s0 = nowUs();
    const ka0 = keepaliveTotals();
    const startReopens = { watchdogFires: ka0.watchdogFires, drops: ka0.drops };
    const elu0 = performance.eventLoopUtilization();
    const c0 = cpuMs();
    const w0 = nowUs();
    await delay(idleSeconds * 1000);
    const c1 = cpuMs();
    const seconds = (nowUs() - w0) / 1e6;
    const elu = performance.eventLoopUtilization(elu0);
    const ka1 = keepaliveTotals();
    const sim1 = await sim.stats();
    const simSeconds = (nowUs() - s0) / 1e6;
    gc();
    const heap2 = process.memoryUsage().heapUsed;
    const active = registry.list().filter((l) => l.session.active).length;
    const tokensRotated = ka1.tokens - ka0.tokens;

    const result: ScaleResult = {
      sessions: n,
      tokenIntervalMs,
      tokenValidityMs,
      startAllMs: (t1 - t0) / 1000,
      openChannelsMs: (t2 - t1) / 1000,
      active,
      errors: errors + startedSink.unexpected + outSink.unexpected,
      startKeepaliveReopens: startReopens,
      rssBaselineBytes: rss0,
      rssBytes: rss1,
      heapBaselineBytes: heap0,
      heapBytes: heap1,
      rssPerSessionBytes: (rss1 - rss0) / n,
      heapPerSessionBytes: (heap1 - heap0) / n,
      idle: {
        seconds,
        cpuPercent: ((c1 - c0) / 1000 / seconds) * 100,
        eventLoopUtilization: elu.utilization,
        tokensRotated,
        cpuPerRotationUs: tokensRotated > 0 ? ((c1 - c0) * 1000) / tokensRotated : NaN,
        simCpuPercent: ((sim1.cpuMs - sim0.cpuMs) / 1000 / simSeconds) * 100,
        keepaliveDrops: ka1.drops - ka0.drops,
        watchdogFires: ka1.watchdogFires - ka0.watchdogFires,
        heapGrowthPerSessionBytes: (heap2 - heap1) / n,
      },
      simRssBytes: sim1.rssBytes,
      simStreams: sim1.streams,
      maxConcurrentStreams,
      connections: defaultConnectionPool.stats().connections,
      sessionConnections: defaultConnectionPool.stats().sessionConnections,
    };
    if (options.restart !== false) result.restart = await measureRestart(sim, n, tokenIntervalMs);
    // Leaving: the sessions are dropped with the process (the simulator goes too); no 1,000 interrupts.
    return result;
  } finally {
    await sim.stop();
  }
}

/**
 * The simulator goes down for a moment and comes back with every session still live on its side (its
 * state outlives the socket): the time until every session's keepalive holds a token stream again and
 * has received a token on it.
 */
async function measureRestart(sim: SimChild, n: number, tokenIntervalMs: number): Promise<NonNullable<ScaleResult['restart']>> {
  const downtimeMs = 500;
  const before = new Map(registry.list().map((l) => [l.id, l.session.stats.keepalive.opens]));
  await sim.restart(downtimeMs);
  const back = nowUs();
  const recovered = () =>
    registry.list().every((l) => l.session.keepaliveHealth === 'healthy' && l.session.stats.keepalive.opens > (before.get(l.id) ?? 0));
  await waitUntil(recovered, 120000 + tokenIntervalMs, 'every keepalive to be back');
  // A token on the new streams: the session really goes on.
  const tokens = new Map(registry.list().map((l) => [l.id, l.session.stats.tokens]));
  await waitUntil(
    () => registry.list().every((l) => l.session.stats.tokens > (tokens.get(l.id) ?? 0)),
    30000 + 3 * tokenIntervalMs,
    'a token on every stream',
  );
  const recoveredMs = (nowUs() - back) / 1000;
  const live = registry.list();
  const active = live.filter((l) => l.session.active).length;
  return { downtimeMs, recoveredMs, active, lost: n - active, errors: n - active };
}

if (require.main === module) {
  const at = process.argv.indexOf('--sessions');
  const sessions = at > 0 ? Number(process.argv[at + 1]) : 100;
  const idleAt = process.argv.indexOf('--idle-seconds');
  runAsWorker(
    'scale',
    runScale({ sessions, quick: process.argv.includes('--quick'), idleSeconds: idleAt > 0 ? Number(process.argv[idleAt + 1]) : undefined }),
  );
}
