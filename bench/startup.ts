/*
 * Benchmark section 4: start-up, in a fresh process each time (bench.ts runs it several times).
 *   --mode library: from require() of the package (dist/client) to the first session active;
 *   --mode nodered: from require('node-red') through RED.start (which loads this package's nodes) to the
 *     first session started by a "start session" node; the flow has two account nodes and a second
 *     session is started through the other one afterwards.
 * In both, @grpc/proto-loader's loadSync is counted and timed: the proto files load once per process,
 * whatever the number of account nodes and sessions. The simulator child is started before the clock.
 */
import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { FlowSink, ROOT, SIM_CREDENTIALS, SimChild, baseFlow, flowNode, runAsWorker, startNodeRed } from './common';
import { account, custom, startSession } from '../test/support/flow-builder';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

export interface StartupResult {
  mode: 'library' | 'nodered';
  /** library: require('dist/client'); nodered: require('node-red'). */
  requireMs: number;
  /** nodered only: RED.init + RED.start until the flow's nodes exist (loads this package). */
  nodeRedStartMs?: number;
  /** From the first require to the first session active. */
  firstSessionMs: number;
  /** From the first require to the second session active (through a second account in nodered mode). */
  secondSessionMs: number;
  protoLoads: number;
  protoLoadMs: number;
  /** Node's own start-up before this script ran (process start to the first line), for context. */
  processBootMs: number;
  /** library only: the fault code table (client/codec/dtc-table), loaded first: its share of requireMs. */
  dtcTable?: { ms: number; bytes: number; codes: number; failureTypes: number };
}

function countProtoLoads(): { loads: () => number; ms: () => number } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const loader = require(require.resolve('@grpc/proto-loader', { paths: [ROOT] })) as Any;
  const original = loader.loadSync;
  let loads = 0;
  let ms = 0;
  loader.loadSync = function (...args: unknown[]) {
    loads += 1;
    const t = performance.now();
    try {
      return original.apply(this, args);
    } finally {
      ms += performance.now() - t;
    }
  };
  return { loads: () => loads, ms: () => ms };
}

export async function runStartup(mode: 'library' | 'nodered'): Promise<StartupResult> {
  const processBootMs = performance.now();
  const sim = await SimChild.start({ vehicles: 3, instant: true });
  const proto = countProtoLoads();
  try {
    if (mode === 'library') {
      const t0 = performance.now();
      // The fault code table on its own first (then cached for the library): what it adds to loading.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const table = require('../client/codec/dtc-table') as typeof import('../client/codec/dtc-table');
      const tTable = performance.now();
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const lib = require('../client') as typeof import('../client');
      const t1 = performance.now();
      const dtcTable = {
        ms: tTable - t0,
        bytes: fs.statSync(require.resolve('../client/codec/dtc-table')).size,
        codes: Object.keys(table.DTC_DESCRIPTIONS).length,
        failureTypes: Object.keys(table.FAILURE_TYPES).length,
      };
      const controller = new lib.SessionController({
        endpoint: { host: '127.0.0.1', port: sim.port, tls: false },
        credentials: { ...SIM_CREDENTIALS },
        env: {},
      });
      const first = await controller.startSession({ ticketId: '1001' });
      const t2 = performance.now();
      const other = new lib.SessionController({
        endpoint: { host: '127.0.0.1', port: sim.port, tls: false },
        credentials: { ...SIM_CREDENTIALS },
        env: {},
      });
      const second = await other.startSession({ ticketId: '1002' });
      const t3 = performance.now();
      first.close();
      second.close();
      controller.close();
      other.close();
      return {
        mode,
        requireMs: t1 - t0,
        firstSessionMs: t2 - t0,
        secondSessionMs: t3 - t0,
        protoLoads: proto.loads(),
        protoLoadMs: proto.ms(),
        processBootMs,
        dtcTable,
      };
    }
    const t0 = performance.now();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require(require.resolve('node-red', { paths: [ROOT] }));
    const t1 = performance.now();
    const flow = [
      ...baseFlow(sim.port),
      account({ id: 'account2', name: 'second', ...custom(sim.port) }),
      startSession({ id: 'start', account: 'account', target: '1001', to: ['started'] }),
      startSession({ id: 'start2', account: 'account2', target: '1002', to: ['started'] }),
      flowNode({ id: 'started', type: 'junction', wires: [] }),
      flowNode({ id: 'catch', type: 'catch', scope: null, uncaught: false, wires: [['caught']] }),
      flowNode({ id: 'caught', type: 'junction', wires: [] }),
    ];
    const red = await startNodeRed(flow);
    const t2 = performance.now();
    const sink = new FlowSink(red.getNode('started'), red.getNode('caught'), (m: Any) => String(m.benchKey));
    const first = sink.next('1');
    red.getNode('start').receive({ benchKey: '1' });
    await first;
    const t3 = performance.now();
    const second = sink.next('2');
    red.getNode('start2').receive({ benchKey: '2' });
    await second;
    const t4 = performance.now();
    const result: StartupResult = {
      mode,
      requireMs: t1 - t0,
      nodeRedStartMs: t2 - t1,
      firstSessionMs: t3 - t0,
      secondSessionMs: t4 - t0,
      protoLoads: proto.loads(),
      protoLoadMs: proto.ms(),
      processBootMs,
    };
    await red.stop();
    return result;
  } finally {
    await sim.stop();
  }
}

if (require.main === module) {
  const at = process.argv.indexOf('--mode');
  const mode = at > 0 && process.argv[at + 1] === 'library' ? 'library' : 'nodered';
  runAsWorker('startup', runStartup(mode));
}
