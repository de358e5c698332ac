/*
 * Benchmark section 5: the full-system scan at the speed limit. The simulator child runs the fleet car
 * (ticket 2002: 30 ECUs on the powertrain CAN, a body CAN, the K-Line and DoIP) behind a network profile
 * of 60 ± 10 ms round trip to the J-Rex, with each ECU's own response time on top.
 *
 *   - scan node: the wall time of the *scan* node in a Node-RED flow (ECU list, one configureBus,
 *     identification and DTCs of every ECU concurrently), from the message into the node to the report
 *     out of it, on a session started before the clock; median of the runs, each on a fresh session.
 *   - (a) the latency bound: the longest chain of round trips any one ECU needs, i.e. the time of that
 *     ECU's requests alone (measured one at a time in the pass below, the slowest ECU), plus what the
 *     scan needs once before (the ECU list and one bus configuration, measured).
 *   - (b) one at a time: the same requests to the same ECUs, one after another on one session through
 *     the client library, as the official client's examples do it (plus the same ECU list and bus
 *     configuration).
 * Goals: scan ≤ 1.2 × (a), and (b) ≥ 5 × scan.
 */
import { performance } from 'node:perf_hooks';
import { FlowSink, SIM_CREDENTIALS, SimChild, baseFlow, flowNode, median, runAsWorker, startNodeRed } from './common';
import { startSession } from '../test/support/flow-builder';
import { SessionController, detectedEcus, scanPlan, type Session } from '../client';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

const TICKET = '2002';
export const NETWORK = { roundTripMs: 60, jitterMs: 10 };

export interface ScanBenchResult {
  network: typeof NETWORK;
  ecus: number;
  requests: number;
  runs: number;
  /** Wall time of the scan node, each run (ms). */
  scanMs: number[];
  /** (a): the slowest ECU's chain alone, plus the ECU list and one bus configuration (ms). */
  boundMs: number;
  slowestEcu: string;
  slowestChainMs: number;
  /** The ECU list call and one configureBus, measured (ms). */
  preludeMs: number;
  /** The slowest ECU on CAN (the chains that only the network and the ECU shape). */
  slowestCanChainMs: number;
  /** In the scan, the slowest ECU on CAN (its requests from first to last), each run (ms). */
  scanCanMaxMs: number[];
  /** (b): every request one after another (ms). */
  sequentialMs: number;
  errors: number;
}

async function sequentialPass(
  port: number,
): Promise<{ totalMs: number; preludeMs: number; chains: Array<{ address: string; ms: number }> }> {
  const controller = new SessionController({
    endpoint: { host: '127.0.0.1', port, tls: false },
    credentials: { ...SIM_CREDENTIALS },
    env: {},
  });
  let session: Session | undefined;
  try {
    session = await controller.startSession({ ticketId: TICKET });
    const t0 = performance.now();
    const ecus = detectedEcus(await session.getEcuList());
    // What the scan does once before its first request: the ECU list, then every bus in one configureBus.
    await session.configureBuses([...new Map(ecus.map((e) => [e.spec.bus.name, e.spec.bus])).values()]);
    const preludeMs = performance.now() - t0;
    const chains: Array<{ address: string; ms: number }> = [];
    for (const e of ecus) {
      const c0 = performance.now();
      for (const request of scanPlan(e.spec)) await session.request(e.spec, request).catch(() => undefined);
      chains.push({ address: e.address, ms: performance.now() - c0 });
    }
    return { totalMs: performance.now() - t0, preludeMs, chains };
  } finally {
    await session?.finish().catch(() => undefined);
    controller.close();
  }
}

export async function runScanBench(runs: number): Promise<ScanBenchResult> {
  const sim = await SimChild.start({ vehicles: 1, instant: true, network: NETWORK });
  try {
    const flow = [
      ...baseFlow(sim.port),
      startSession({ target: TICKET, ifHeld: 'fail', to: ['started'] }),
      flowNode({ id: 'started', type: 'junction', wires: [[]] }),
      flowNode({
        id: 'scan',
        type: 'openobd-scan',
        discover: 'ecu-list',
        identification: true,
        dtcs: true,
        concurrency: 32,
        wires: [['out']],
      }),
      flowNode({ id: 'out', type: 'junction', wires: [[]] }),
      flowNode({ id: 'finish', type: 'openobd-finish', result: 'RESULT_SUCCESS', wires: [['finished']] }),
      flowNode({ id: 'finished', type: 'junction', wires: [[]] }),
      flowNode({ id: 'catch', type: 'catch', scope: null, uncaught: false, wires: [['caught']] }),
      flowNode({ id: 'caught', type: 'junction', wires: [[]] }),
    ];
    const red = await startNodeRed(flow);
    const sink = (id: string) => new FlowSink(red.getNode(id), red.getNode('caught'), () => 'one');
    const started = sink('started');
    const out = sink('out');
    const finished = sink('finished');
    const scanMs: number[] = [];
    const scanCanMaxMs: number[] = [];
    let ecus = 0;
    let requests = 0;
    let errors = 0;
    try {
      // One scan to warm up (JIT, proto caches), then the measured runs, each on a fresh session.
      for (let i = 0; i <= runs; i++) {
        const s = started.next('one');
        red.getNode('start').receive({ payload: 'go' });
        const msg: Any = await s;
        const done = out.next('one');
        const t0 = performance.now();
        red.getNode('scan').receive({ openobd: msg.openobd });
        const report: Any = (await done).payload;
        const ms = performance.now() - t0;
        if (i > 0) {
          scanMs.push(ms);
          scanCanMaxMs.push(Math.max(...report.ecus.filter((e: Any) => e.transport === 'isotp').map((e: Any) => e.elapsedMs)));
        }
        ecus = report.summary.ecus;
        requests = report.summary.requests;
        errors += report.ecus.reduce((n: number, e: Any) => n + e.errors.length, 0);
        const f = finished.next('one');
        red.getNode('finish').receive({ openobd: msg.openobd });
        await f;
      }
    } finally {
      await red.stop();
    }
    const seq = await sequentialPass(sim.port);
    const slowest = seq.chains.reduce((a, b) => (b.ms > a.ms ? b : a));
    const can = seq.chains.filter((c) => /^[0-9A-F]{3}\//.test(c.address));
    const scanPrelude = seq.preludeMs;
    return {
      network: NETWORK,
      ecus,
      requests,
      runs,
      scanMs,
      scanCanMaxMs,
      boundMs: slowest.ms + scanPrelude,
      slowestEcu: slowest.address,
      slowestChainMs: slowest.ms,
      preludeMs: scanPrelude,
      slowestCanChainMs: Math.max(...can.map((c) => c.ms)),
      sequentialMs: seq.totalMs,
      errors,
    };
  } finally {
    await sim.stop();
  }
}

export function medianScan(r: ScanBenchResult): number {
  return median(r.scanMs);
}

if (require.main === module) {
  const quick = process.argv.includes('--quick');
  runAsWorker('scan', runScanBench(quick ? 1 : 5));
}
