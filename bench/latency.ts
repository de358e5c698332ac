/*
 * Benchmark sections 1 (cost per request) and 2 (throughput through the node), in one process:
 *   (a) a plain @grpc/grpc-js client built from proto/ with @grpc/proto-loader, on a session it claimed
 *       itself: write one IsotpMessage on can/openIsotpStream, wait for the answer (the floor);
 *   (b) this package's client library: `session.request(ENGINE, '3E00')`;
 *   (c) a message through "send request" in a running, embedded Node-RED: junction → send request →
 *       junction, msg.payload '3E00';
 *   and two references: (c0) the same two hops with a minimal node that only calls session.request and
 *   sends msg on (what Node-RED itself costs around a request), and Node-RED's hops alone, no wire.
 * The simulator runs in a child process (instant-answer ECU), the same one for every path. The paths
 * are measured in interleaved rounds (rotating order) so drift and noise hit them alike.
 * Run by bench.ts; standalone: `node --expose-gc dist/bench/latency.js [--quick]` prints JSON;
 * `--profile-mode <raw|library|node|minimal|hops>` runs one path for a --cpu-prof profile.
 */
import * as grpc from '@grpc/grpc-js';
import { SessionController, type EcuSpec, type Session } from '../client';
import { registry } from '../nodes/lib/registry';
import {
  ANSWER_HEX,
  FlowSink,
  REQUEST_HEX,
  SIM_CREDENTIALS,
  SimChild,
  baseFlow,
  bearer,
  cpuMs,
  delay,
  flowNode,
  requestNode,
  startSessionNode,
  gc,
  nowUs,
  rawConfigureObdCan,
  rawOpenObd,
  runAsWorker,
  startNodeRed,
  summarize,
  type Summary,
  unary,
} from './common';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

export interface LatencyResult {
  rounds: number;
  perRound: number;
  warmup: number;
  raw: Summary;
  library: Summary;
  node: Summary;
  /** Node-RED alone: the same two message hops between core junction nodes, no openOBD node, no wire. */
  hops: Summary;
  /** A minimal node on the same two hops: only session.request and send (the Node-RED floor of (c)). */
  minimal: Summary;
  /** CPU time of this process (client side: gRPC client, library, Node-RED) per request, in µs. */
  cpuPerRequestUs: { raw: number; library: number; node: number; minimal: number; hops: number };
  /** Medians of the per-round p50 ratios (more robust to drift than the ratio of pooled p50s). */
  roundRatioLibrary: number;
  roundRatioNode: number;
  throughput: Array<{
    sessions: number;
    requests: number;
    seconds: number;
    perSecond: number;
    cpuPercent: number;
    simCpuPercent: number;
    errors: number;
  }>;
  nodeRedVersion: string;
  errors: number;
}

const ENGINE: EcuSpec = { bus: { name: 'OBD-CAN', pinPlus: 6, pinMinus: 14, bitRateKbps: 500 }, requestId: 0x7e0, responseId: 0x7e8 };

// ---------------------------------------------------------------- (a) raw grpc-js

/** A session claimed by a plain grpc-js client (no code from client/), with its ISO-TP stream open and the channel announced. */
async function rawSession(endpoint: string, ticket: string) {
  const v1 = rawOpenObd();
  const creds = grpc.credentials.createInsecure();
  const controller = new v1.sessionController(endpoint, creds);
  const { value: ctoken } = await unary(controller, 'getSessionControllerToken', {
    client_id: SIM_CREDENTIALS.clientId,
    client_secret: SIM_CREDENTIALS.clientSecret,
    cluster_id: SIM_CREDENTIALS.clusterId,
  });
  const info = await unary(controller, 'startSessionOnTicket', { value: ticket }, bearer(ctoken));
  const session = new v1.session(info.grpc_endpoint, creds);
  const { value: token } = await unary(session, 'authenticate', {}, bearer(info.authentication_token));
  const config = new v1.config(info.grpc_endpoint, creds);
  await rawConfigureObdCan(config, token);
  const can = new v1.can(info.grpc_endpoint, creds);
  const isotp = can.openIsotpStream(bearer(token)) as grpc.ClientDuplexStream<Any, Any>;
  const channel = { bus_name: 'OBD-CAN', request_id: 0x7e0, response_id: 0x7e8 };
  let waiter: ((m: { payload: string }) => void) | undefined;
  isotp.on('data', (m: { payload: string }) => {
    const w = waiter;
    waiter = undefined;
    w?.(m);
  });
  isotp.on('error', (err: Error) => process.stderr.write(`bench raw ISO-TP stream: ${err.message}\n`));
  isotp.write({ channel, payload: '' });
  const request = (): Promise<{ payload: string }> =>
    new Promise((resolve) => {
      waiter = resolve;
      isotp.write({ channel, payload: REQUEST_HEX });
    });
  const close = async () => {
    isotp.removeAllListeners('data');
    isotp.removeAllListeners('error');
    isotp.on('error', () => undefined);
    isotp.cancel();
    await unary(session, 'finish', { result: ['RESULT_SUCCESS'] }, bearer(token)).catch(() => undefined);
    for (const c of [controller, session, config, can]) c.close();
  };
  return { request, close };
}

// ---------------------------------------------------------------- the run

export async function runLatency(options: { quick?: boolean; profileMode?: string } = {}): Promise<LatencyResult> {
  const quick = options.quick === true;
  const rounds = quick ? 6 : 40;
  const perRound = quick ? 200 : 400;
  const warmup = quick ? 500 : 3000;
  const throughputSessions = [1, 10, 100];
  const windowMs = quick ? 1000 : 3000;
  const maxSessions = Math.max(...throughputSessions);

  const sim = await SimChild.start({ vehicles: 3 + maxSessions + 2, instant: true });
  let errors = 0;
  try {
    // (a)
    const raw = await rawSession(sim.endpoint, '1001');

    // (b)
    const controller = new SessionController({
      endpoint: { host: '127.0.0.1', port: sim.port, tls: false },
      credentials: { ...SIM_CREDENTIALS },
      env: {},
    });
    const session: Session = await controller.startSession({ ticketId: '1002' });

    // (c)
    const red = await startNodeRed([
      ...baseFlow(sim.port),
      startSessionNode('started'),
      flowNode({ id: 'started', type: 'junction', wires: [] }),
      flowNode({ id: 'in', type: 'junction', wires: [['req']] }),
      requestNode('out'),
      flowNode({ id: 'out', type: 'junction', wires: [] }),
      // Node-RED's own cost of the same two hops, without the wire: junction → junction → junction.
      flowNode({ id: 'hopIn', type: 'junction', wires: [['hopMid']] }),
      flowNode({ id: 'hopMid', type: 'junction', wires: [['hopOut']] }),
      flowNode({ id: 'hopOut', type: 'junction', wires: [] }),
      // A minimal node on the same two hops: its input handler is replaced below by one that only calls
      // session.request on the same session and sends msg on (the Node-RED floor of a request node).
      flowNode({ id: 'minIn', type: 'junction', wires: [['minNode']] }),
      flowNode({ id: 'minNode', type: 'junction', wires: [['minOut']] }),
      flowNode({ id: 'minOut', type: 'junction', wires: [] }),
      flowNode({ id: 'catch', type: 'catch', scope: null, uncaught: false, wires: [['caught']] }),
      flowNode({ id: 'caught', type: 'junction', wires: [] }),
    ]);
    const sink = new FlowSink(red.getNode('out'), red.getNode('caught'), (m: Any) => String(m.benchKey));
    const startedSink = new FlowSink(red.getNode('started'), red.getNode('caught'), (m: Any) => String(m.benchKey));
    const inNode = red.getNode('in');
    const hopSink = new FlowSink(red.getNode('hopOut'), red.getNode('caught'), (m: Any) => String(m.benchKey));
    const hopIn = red.getNode('hopIn');
    let key = 0;
    const startSession = async (ticket: string): Promise<string> => {
      const k = `start-${ticket}`;
      const p = startedSink.next(k);
      red.getNode('start').receive({ payload: ticket, benchKey: k });
      return String((await p).openobd.sessionId);
    };
    const nodeSessionId = await startSession('1003');
    const nodeSession = registry.get(nodeSessionId)!.session;
    const engineSpec = red.getNode('engine').spec as EcuSpec;
    const minSink = new FlowSink(red.getNode('minOut'), red.getNode('caught'), (m: Any) => String(m.benchKey));
    const minIn = red.getNode('minIn');
    red.getNode('minNode')._inputCallback = (msg: Any, send: (m: Any) => void, done: (err?: Error) => void) => {
      nodeSession.request(engineSpec, msg.payload).then((x) => {
        msg.payload = x.responses[0]?.hex;
        send(msg);
        done();
      }, done);
    };

    const modes = {
      raw: async () => {
        const m = await raw.request();
        if (m.payload !== ANSWER_HEX) errors += 1;
      },
      library: async () => {
        const x = await session.request(ENGINE, REQUEST_HEX);
        if (x.responses[0]?.hex !== ANSWER_HEX) errors += 1;
      },
      node: async () => {
        const k = String(++key);
        const p = sink.next(k);
        inNode.receive({ payload: REQUEST_HEX, openobd: { sessionId: nodeSessionId }, benchKey: k });
        const m = await p;
        if (m.payload !== ANSWER_HEX) errors += 1;
      },
      minimal: async () => {
        const k = String(++key);
        const p = minSink.next(k);
        minIn.receive({ payload: REQUEST_HEX, benchKey: k });
        const m = await p;
        if (m.payload !== ANSWER_HEX) errors += 1;
      },
      hops: async () => {
        const k = String(++key);
        const p = hopSink.next(k);
        hopIn.receive({ payload: REQUEST_HEX, openobd: { sessionId: nodeSessionId }, benchKey: k });
        await p;
      },
    } as const;
    type Mode = keyof typeof modes;
    const order: Mode[] = ['raw', 'library', 'node', 'minimal', 'hops'];
    const samples: Record<Mode, number[]> = { raw: [], library: [], node: [], minimal: [], hops: [] };
    const roundP50: Record<Mode, number[]> = { raw: [], library: [], node: [], minimal: [], hops: [] };
    const cpuUs: Record<Mode, number> = { raw: 0, library: 0, node: 0, minimal: 0, hops: 0 };

    for (const mode of order) for (let i = 0; i < warmup; i++) await modes[mode]();
    gc();
    if (options.profileMode) {
      // For --cpu-prof: one mode only, long enough for a clear profile; nothing else is measured.
      const run = modes[options.profileMode as Mode];
      if (!run) throw new Error(`unknown mode ${options.profileMode}: use raw, library, node, minimal or hops`);
      const mine: number[] = [];
      for (let i = 0; i < 30000; i++) {
        const t0 = nowUs();
        await run();
        mine.push(nowUs() - t0);
      }
      process.stderr.write(`profile mode ${options.profileMode}: ${JSON.stringify(summarize(mine))}\n`);
      process.exit(0);
    }
    for (let r = 0; r < rounds; r++) {
      const rotated = [...order.slice(r % order.length), ...order.slice(0, r % order.length)];
      for (const mode of rotated) {
        const run = modes[mode];
        const mine: number[] = [];
        const c0 = cpuMs();
        for (let i = 0; i < perRound; i++) {
          const t0 = nowUs();
          await run();
          mine.push(nowUs() - t0);
        }
        cpuUs[mode] += (cpuMs() - c0) * 1000;
        samples[mode].push(...mine);
        roundP50[mode].push(summarize(mine).p50);
      }
    }
    const ratios = (mode: Mode) => roundP50[mode].map((v, i) => v / roundP50.raw[i]).sort((a, b) => a - b);
    const mid = (xs: number[]) => xs[Math.floor(xs.length / 2)];

    // Section 2: throughput through the node, each session a closed loop (one request in flight per
    // session, as a tester looping live data does: requests on one channel are sequential anyway).
    const sessionIds: string[] = [];
    for (let i = 0; i < maxSessions; i++) sessionIds.push(await startSession(String(1004 + i)));
    const throughput: LatencyResult['throughput'] = [];
    for (const n of throughputSessions) {
      let measuring = false;
      let stop = false;
      let count = 0;
      let loopErrors = 0;
      const loop = async (sessionId: string) => {
        while (!stop) {
          const k = String(++key);
          const p = sink.next(k);
          inNode.receive({ payload: REQUEST_HEX, openobd: { sessionId }, benchKey: k });
          try {
            const m = await p;
            if (m.payload !== ANSWER_HEX) loopErrors += 1;
            else if (measuring) count += 1;
          } catch {
            loopErrors += 1;
          }
        }
      };
      gc();
      const loops = sessionIds.slice(0, n).map((id) => loop(id));
      await delay(quick ? 300 : 700); // warm-up
      const simBefore = await sim.stats();
      const sim0 = nowUs();
      const cpu0 = cpuMs();
      const t0 = nowUs();
      count = 0;
      measuring = true;
      await delay(windowMs);
      measuring = false;
      const seconds = (nowUs() - t0) / 1e6;
      const cpu1 = cpuMs();
      const simAfter = await sim.stats();
      const simSeconds = (nowUs() - sim0) / 1e6;
      stop = true;
      await Promise.all(loops);
      errors += loopErrors;
      throughput.push({
        sessions: n,
        requests: count,
        seconds,
        perSecond: count / seconds,
        cpuPercent: ((cpu1 - cpu0) / 1000 / seconds) * 100,
        simCpuPercent: ((simAfter.cpuMs - simBefore.cpuMs) / 1000 / simSeconds) * 100,
        errors: loopErrors,
      });
    }
    errors += sink.unexpected + sink.errors;

    const result: LatencyResult = {
      rounds,
      perRound,
      warmup,
      raw: summarize(samples.raw),
      library: summarize(samples.library),
      node: summarize(samples.node),
      hops: summarize(samples.hops),
      minimal: summarize(samples.minimal),
      cpuPerRequestUs: {
        raw: cpuUs.raw / (rounds * perRound),
        library: cpuUs.library / (rounds * perRound),
        node: cpuUs.node / (rounds * perRound),
        minimal: cpuUs.minimal / (rounds * perRound),
        hops: cpuUs.hops / (rounds * perRound),
      },
      roundRatioLibrary: mid(ratios('library')),
      roundRatioNode: mid(ratios('node')),
      throughput,
      nodeRedVersion: red.version,
      errors,
    };
    await raw.close();
    await session.finish().catch(() => undefined);
    controller.close();
    await red.stop();
    return result;
  } finally {
    await sim.stop();
  }
}

if (require.main === module) {
  const at = process.argv.indexOf('--profile-mode');
  runAsWorker('latency', runLatency({ quick: process.argv.includes('--quick'), profileMode: at > 0 ? process.argv[at + 1] : undefined }));
}
