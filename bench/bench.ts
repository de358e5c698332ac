/*
 * `npm run bench`: what a request and a session cost, measured against raw gRPC, in one command.
 *
 *   1. cost per request: raw grpc-js (a), the client library (b), a Node-RED flow (c); p50/p99, ratios
 *   2. throughput through "send request" with 1, 10 and 100 concurrent sessions
 *   3. 100, 1,000 and (full run) 5,000 concurrent sessions in one Node-RED process against a server capped at
 *      100 streams per connection: connections, start time, memory, idle CPU, and a simulator restart
 *   4. start-up: from loading the package to the first session started
 *   5. the full-system scan of a 30-ECU car behind a 60 ms network: against the latency bound and one at a time
 *   6. the first answer of a fresh session behind a 60 ms link, in round trips (library plaintext and TLS, a flow)
 *
 * Each section runs in its own fresh Node.js process (started here, --expose-gc), with the openOBD
 * simulator in a child process of its own on loopback (instant-answer ECU), so the figures of the
 * Node-RED process are the client side only. Prints one markdown table at the end (progress goes to
 * stderr). Absolute times vary between machines; the headline figures are ratios measured in one run.
 *
 * Options: --quick (short, to try the command), --only latency,scale,startup,scan,roundtrips, --cpu-prof (each worker
 * writes a V8 CPU profile into bench-profiles/), --json <file> (the raw results).
 */
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT, fmt, machineInfo, median, type MachineInfo } from './common';
import type { LatencyResult } from './latency';
import type { ScaleResult } from './scale';
import type { StartupResult } from './startup';
import type { ScanBenchResult } from './scan';
import type { RoundTripResult } from './round-trips';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.includes('--only') ? args[args.indexOf('--only') + 1].split(',') : undefined;
const want = (section: string) => !only || only.includes(section);
const profile = args.includes('--cpu-prof');
const jsonOut = args.includes('--json') ? args[args.indexOf('--json') + 1] : undefined;
const profileDir = path.join(ROOT, 'bench-profiles');

const GOALS = {
  libraryRatio: 1.1,
  nodeRatio: 1.5,
  scaleSessions: 1000,
  scanToBound: 1.2,
  sequentialToScan: 5,
  firstAnswerRoundTrips: 4.2,
};

function progress(text: string): void {
  process.stderr.write(`bench: ${text}\n`);
}

/** Runs a benchmark worker in a fresh process and returns what it sends back. */
function worker<T>(script: string, workerArgs: string[], label: string): Promise<T> {
  const execArgv = ['--expose-gc'];
  if (profile) {
    fs.mkdirSync(profileDir, { recursive: true });
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${label}.cpuprofile`);
  }
  return new Promise<T>((resolve, reject) => {
    const child = fork(path.join(__dirname, script), workerArgs, { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: T | undefined;
    child.on('message', (m: { type: string; result: T }) => {
      if (m.type === 'result') result = m.result;
    });
    child.on('exit', (code) => {
      if (result !== undefined) resolve(result);
      else reject(new Error(`bench: ${script} ${workerArgs.join(' ')} exited with ${code} and no result`));
    });
  });
}

const us = (n: number) => fmt(n, n < 100 ? 1 : 0);
const ms = (n: number) => fmt(n, n < 100 ? 1 : 0);
const kib = (bytes: number) => `${fmt(bytes / 1024, 1)} KiB`;
const ratio = (n: number) => fmt(n, 2);
const verdict = (ok: boolean) => (ok ? '**met**' : '**missed**');

interface Results {
  machine: MachineInfo;
  startedAt: string;
  seconds: number;
  quick: boolean;
  latency?: LatencyResult;
  scale: ScaleResult[];
  startup: { library: StartupResult[]; nodered: StartupResult[] };
  scan?: ScanBenchResult;
  roundTrips?: RoundTripResult;
}

function table(r: Results): string {
  const m = r.machine;
  const out: string[] = [];
  out.push(`### Benchmark results (${r.startedAt.slice(0, 10)}${r.quick ? ', --quick' : ''})`);
  out.push('');
  out.push(
    `Machine: ${m.cpuModel}, **${m.cores} cores**, ${m.memoryGiB} GiB, ${m.platform}. Node.js ${m.node}, Node-RED ${m.nodeRed}, @grpc/grpc-js ${m.grpcJs}, @grpc/proto-loader ${m.protoLoader}.`,
  );
  out.push(
    `Simulator: a child process on loopback; sections 1–4 an instant-answer ECU (\`responseDelayMs: 0\`), request \`3E 00\` → \`7E 00\`; section 5 the fleet car behind a network profile; section 6 the instant-answer ECU behind a delaying proxy. Whole run: ${fmt(r.seconds, 0)} s.`,
  );
  out.push('');

  const L = r.latency;
  if (L) {
    out.push(
      `**1. Cost per request** — sequential round trips, ${fmt(L.rounds * L.perRound)} per path in ${L.rounds} interleaved rounds after ${fmt(L.warmup)} warm-up each; one process, one simulator.`,
    );
    out.push('');
    out.push('| path | p50 µs | p90 µs | p99 µs | mean µs | p50 ÷ (a) | client CPU µs/request |');
    out.push('|---|---:|---:|---:|---:|---:|---:|');
    const row = (name: string, s: LatencyResult['raw'], cpu: number, withRatio: boolean) =>
      `| ${name} | ${us(s.p50)} | ${us(s.p90)} | ${us(s.p99)} | ${us(s.mean)} | ${withRatio ? ratio(s.p50 / L.raw.p50) : '—'} | ${us(cpu)} |`;
    out.push(row('(a) raw @grpc/grpc-js: IsotpMessage write → read on can/openIsotpStream', L.raw, L.cpuPerRequestUs.raw, false));
    out.push(row('(b) client library: `session.request(ENGINE, "3E00")`', L.library, L.cpuPerRequestUs.library, true));
    out.push(row('(c) Node-RED flow: junction → **send request** → junction', L.node, L.cpuPerRequestUs.node, true));
    out.push(
      row(
        '(c₀) for reference: the same flow with a minimal node (its handler only calls `session.request` and sends msg on)',
        L.minimal,
        L.cpuPerRequestUs.minimal,
        true,
      ),
    );
    out.push(row('for reference: Node-RED alone, junction → junction → junction (no wire)', L.hops, L.cpuPerRequestUs.hops, false));
    out.push('');
    out.push(
      `Ratios as the median of the ${L.rounds} per-round p50 ratios: b/a ${ratio(L.roundRatioLibrary)}, c/a ${ratio(L.roundRatioNode)}. Errors: ${L.errors}.`,
    );
    out.push('');
    out.push(
      '**2. Throughput through send request** — each session a closed loop (one request in flight per session, as a tester looping live data).',
    );
    out.push('');
    out.push('| concurrent sessions | requests/s | Node-RED process CPU | simulator process CPU | errors |');
    out.push('|---:|---:|---:|---:|---:|');
    for (const t of L.throughput)
      out.push(`| ${t.sessions} | ${fmt(t.perSecond)} | ${fmt(t.cpuPercent)} % | ${fmt(t.simCpuPercent)} % | ${t.errors} |`);
    out.push('');
  }

  if (r.scale.length > 0) {
    const s0 = r.scale[0];
    out.push(
      `**3. Sessions at scale** — one Node-RED process; each session started by a *start session* node, then one request through *send request* (its ISO-TP stream and channel); keepalive token rotation every ${fmt(s0.tokenIntervalMs)} ms (validity ${fmt(s0.tokenValidityMs / 1000)} s). The simulator caps concurrent streams per HTTP/2 connection at ${s0.maxConcurrentStreams || 'no limit'}, as gRPC front ends do. Memory and CPU of the Node-RED process only (the simulator is a child process; its CPU is shown apart); memory after a forced GC.`,
    );
    out.push('');
    out.push(
      "| active sessions | connections (sessions') | start all | open their channels | errors | keepalive reopens | RSS / session | JS heap / session | idle CPU (one core) | token rotations / s | CPU / rotation | simulator CPU |",
    );
    out.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const s of r.scale) {
      const reopens = s.startKeepaliveReopens.watchdogFires + s.startKeepaliveReopens.drops + s.idle.keepaliveDrops + s.idle.watchdogFires;
      out.push(
        `| ${fmt(s.active)} of ${fmt(s.sessions)} | ${fmt(s.connections)} (${fmt(s.sessionConnections)}) | ${fmt(s.startAllMs)} ms | ${fmt(s.openChannelsMs)} ms | ${s.errors} | ${reopens} | ${kib(s.rssPerSessionBytes)} | ${kib(s.heapPerSessionBytes)} | ${fmt(s.idle.cpuPercent, 1)} % | ${fmt(s.idle.tokensRotated / s.idle.seconds)} | ${us(s.idle.cpuPerRotationUs)} µs | ${fmt(s.idle.simCpuPercent, 1)} % |`,
      );
    }
    out.push('');
    const restarts = r.scale.filter((s) => s.restart);
    if (restarts.length > 0) {
      out.push(
        `**Simulator restart with every session live** — the server stops (every connection cut) for ${fmt(restarts[0]!.restart!.downtimeMs)} ms and comes back with its sessions; time from its return until every session holds a token stream again and received a token on it.`,
      );
      out.push('');
      out.push('| sessions | every keepalive back after | active afterwards | lost | errors |');
      out.push('|---:|---:|---:|---:|---:|');
      for (const s of restarts) {
        const x = s.restart!;
        out.push(`| ${fmt(s.sessions)} | ${fmt(x.recoveredMs)} ms | ${fmt(x.active)} | ${x.lost} | ${x.errors} |`);
      }
      out.push('');
    }
  }

  const lib = r.startup.library;
  const nr = r.startup.nodered;
  if (lib.length > 0 || nr.length > 0) {
    const med = (xs: StartupResult[], f: (x: StartupResult) => number) => median(xs.map(f));
    out.push(
      `**4. Start-up** — fresh process each time, median of ${Math.max(lib.length, nr.length)}; the simulator child is started before the clock.`,
    );
    out.push('');
    out.push(
      '| from | loading | Node-RED start (loads the package) | first session started | of which after loading / flow start | second session (another account) | proto loads (time) |',
    );
    out.push('|---|---:|---:|---:|---:|---:|---:|');
    if (lib.length > 0) {
      out.push(
        `| \`require\` of the client library | ${ms(med(lib, (x) => x.requireMs))} ms | — | ${ms(med(lib, (x) => x.firstSessionMs))} ms | ${ms(med(lib, (x) => x.firstSessionMs - x.requireMs))} ms | ${ms(med(lib, (x) => x.secondSessionMs))} ms | ${Math.max(...lib.map((x) => x.protoLoads))} (${ms(med(lib, (x) => x.protoLoadMs))} ms) |`,
      );
    }
    const table = lib.find((x) => x.dtcTable)?.dtcTable;
    if (table) {
      out.push(
        `| of which the fault code table (${table.codes} codes, ${table.failureTypes} failure types, ${fmt(table.bytes / 1024, 1)} KiB) | ${ms(med(lib, (x) => x.dtcTable?.ms ?? NaN))} ms | — | — | — | — | — |`,
      );
    }
    if (nr.length > 0) {
      out.push(
        `| \`require('node-red')\`, flow with 2 accounts | ${ms(med(nr, (x) => x.requireMs))} ms | ${ms(med(nr, (x) => x.nodeRedStartMs ?? NaN))} ms | ${ms(med(nr, (x) => x.firstSessionMs))} ms | ${ms(med(nr, (x) => x.firstSessionMs - x.requireMs - (x.nodeRedStartMs ?? 0)))} ms | ${ms(med(nr, (x) => x.secondSessionMs))} ms | ${Math.max(...nr.map((x) => x.protoLoads))} (${ms(med(nr, (x) => x.protoLoadMs))} ms) |`,
      );
    }
    out.push('');
  }

  const S = r.scan;
  if (S) {
    const scan = median(S.scanMs);
    out.push(
      `**5. Full-system scan** — the fleet car (ticket 2002: ${S.ecus} ECUs on the powertrain CAN, a body CAN, the K-Line and DoIP) behind a network profile of ${S.network.roundTripMs} ± ${S.network.jitterMs} ms round trip, each ECU with its own response time; ${S.requests} requests (identification and DTCs of every ECU). Median of ${S.runs} runs, each on a fresh session started before the clock.`,
    );
    out.push('');
    out.push('| path | wall time | ÷ scan node |');
    out.push('|---|---:|---:|');
    out.push(`| **scan node** (ECU list, one configureBus, every ECU at once within 32 channels) | ${ms(scan)} ms | 1.00 |`);
    out.push(
      `| (a) latency bound: the slowest ECU's chain alone (${S.slowestEcu}, ${ms(S.slowestChainMs)} ms) + ECU list and one configureBus (${ms(S.preludeMs)} ms) | ${ms(S.boundMs)} ms | ${ratio(S.boundMs / scan)} |`,
    );
    out.push(
      `| (b) the same requests one at a time (client library, one session) | ${ms(S.sequentialMs)} ms | ${ratio(S.sequentialMs / scan)} |`,
    );
    out.push('');
    out.push(
      `Runs: ${S.scanMs.map((x) => ms(x)).join(', ')} ms. The K-Line ECU sets the bound (its bytes at 10400 baud, one exchange at a time); the slowest ECU on CAN needs ${ms(S.slowestCanChainMs)} ms alone and ${ms(median(S.scanCanMaxMs))} ms in the scan, among the other ${S.ecus - 1}. ECU errors in the reports: ${S.errors}.`,
    );
    out.push('');
  }

  const R = r.roundTrips;
  if (R) {
    out.push(
      `**6. First answer of a fresh session** — through a proxy that delays every chunk ${fmt(R.roundTripMs / 2)} ms each way (${fmt(R.roundTripMs)} ms round trip), the controller's token already held: start a session on a ticket, claim it (its token stream opening as the library does), read the VIN (22 F190 over ISO-TP, the bus configured first). ${R.runs} sessions one after another, each finished before the next; round trips = time ÷ ${fmt(R.roundTripMs)} ms. openOBD's floor is 4 (startSessionOnTicket, authenticate, configureBus, the request); before each session, the floor is measured on the same link (a plain grpc-js client making those four calls on a connection it holds), so what the machine's load adds shows there too.`,
    );
    out.push('');
    out.push(
      '| path | round trips, median (runs 2–) | of which until claimed | first run | measured floor | against the floor (floor = 4) | new TCP connections per session | errors |',
    );
    out.push('|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const v of R.variants)
      out.push(
        `| ${v.name} | ${ratio(v.roundTrips)} | ${v.claimRoundTrips === undefined ? '—' : ratio(v.claimRoundTrips)} | ${ratio(v.firstRoundTrips)} | ${ratio(v.floorRoundTrips)} | ${ratio(v.againstFloor)} | ${fmt(v.connectionsPerRun)} | ${v.errors} |`,
      );
    out.push('');
  }

  out.push('**Goals**');
  out.push('');
  out.push('| goal | target | measured | verdict |');
  out.push('|---|---|---|---|');
  if (L) {
    const b = L.library.p50 / L.raw.p50;
    const c = L.node.p50 / L.raw.p50;
    out.push(
      `| library request vs raw gRPC, p50 (b/a) | ≤ ${GOALS.libraryRatio} | ${ratio(b)} (per-round median ${ratio(L.roundRatioLibrary)}) | ${verdict(b <= GOALS.libraryRatio)} |`,
    );
    out.push(
      `| Node-RED flow vs raw gRPC, p50 (c/a) | ≤ ${GOALS.nodeRatio} | ${ratio(c)} (per-round median ${ratio(L.roundRatioNode)}) | ${verdict(c <= GOALS.nodeRatio)} |`,
    );
  }
  const big = r.scale.find((s) => s.sessions >= GOALS.scaleSessions);
  if (big) {
    const ok = big.errors === 0 && big.active === big.sessions;
    out.push(
      `| ${fmt(big.sessions)} concurrent sessions in one process | no error | ${fmt(big.active)} active, ${big.errors} errors | ${verdict(ok)} |`,
    );
    out.push(
      `| memory per idle session | reported | ${kib(big.rssPerSessionBytes)} RSS, ${kib(big.heapPerSessionBytes)} JS heap | reported |`,
    );
    out.push(
      `| idle CPU, ${fmt(big.sessions)} sessions, rotation every ${fmt(big.tokenIntervalMs / 1000)} s | reported | ${fmt(big.idle.cpuPercent, 1)} % of one core | reported |`,
    );
  }
  if (S) {
    const scan = median(S.scanMs);
    out.push(
      `| scan node vs the latency bound (a) | ≤ ${GOALS.scanToBound} × | ${ratio(scan / S.boundMs)} × | ${verdict(scan / S.boundMs <= GOALS.scanToBound)} |`,
    );
    out.push(
      `| one at a time (b) vs scan node | ≥ ${GOALS.sequentialToScan} × slower | ${ratio(S.sequentialMs / scan)} × | ${verdict(S.sequentialMs / scan >= GOALS.sequentialToScan)} |`,
    );
  }
  const plain = R?.variants.find((v) => v.key === 'plaintext');
  if (plain) {
    out.push(
      `| first answer of a fresh session (${plain.name}), the measured floor counted as 4 | ≤ ${GOALS.firstAnswerRoundTrips} round trips | ${ratio(plain.againstFloor)} (${ratio(plain.roundTrips)} ÷ ${fmt(R!.roundTripMs)} ms, the floor itself ${ratio(plain.floorRoundTrips)}) | ${verdict(plain.againstFloor <= GOALS.firstAnswerRoundTrips)} |`,
    );
  }
  if (nr.length > 0) {
    const loads = Math.max(...nr.map((x) => x.protoLoads), ...lib.map((x) => x.protoLoads));
    out.push(`| proto files load once per process | 1 load | ${loads} per process (2 accounts, 2 sessions) | ${verdict(loads === 1)} |`);
  }
  return out.join('\n');
}

async function main(): Promise<void> {
  const started = Date.now();
  const results: Results = {
    machine: machineInfo(),
    startedAt: new Date().toISOString(),
    seconds: 0,
    quick,
    scale: [],
    startup: { library: [], nodered: [] },
  };
  progress(
    `${results.machine.cpuModel}, ${results.machine.cores} cores, Node ${results.machine.node}, Node-RED ${results.machine.nodeRed}${quick ? ' (--quick)' : ''}`,
  );
  if (want('latency')) {
    progress('1+2: cost per request (raw gRPC, client library, Node-RED flow) and throughput ...');
    results.latency = await worker<LatencyResult>('latency.js', quick ? ['--quick'] : [], 'latency');
  }
  if (want('scale')) {
    // 5,000 only on a full run: it takes a few minutes and several GiB across both processes.
    for (const n of quick ? [100, 1000] : [100, 1000, 5000]) {
      progress(`3: ${n} concurrent sessions in one Node-RED process, the server capped at 100 streams per connection ...`);
      results.scale.push(await worker<ScaleResult>('scale.js', ['--sessions', String(n), ...(quick ? ['--quick'] : [])], `scale-${n}`));
    }
  }
  if (want('startup')) {
    const runs = quick ? 1 : 3;
    for (let i = 0; i < runs; i++) {
      progress(`4: start-up, run ${i + 1} of ${runs} ...`);
      results.startup.library.push(await worker<StartupResult>('startup.js', ['--mode', 'library'], `startup-library-${i + 1}`));
      results.startup.nodered.push(await worker<StartupResult>('startup.js', ['--mode', 'nodered'], `startup-nodered-${i + 1}`));
    }
  }
  if (want('scan')) {
    progress('5: full-system scan of the 30-ECU car at 60 ± 10 ms round trip ...');
    results.scan = await worker<ScanBenchResult>('scan.js', quick ? ['--quick'] : [], 'scan');
  }
  if (want('roundtrips')) {
    progress('6: the first answer of a fresh session behind a 60 ms link, in round trips ...');
    results.roundTrips = await worker<RoundTripResult>('round-trips.js', quick ? ['--quick'] : [], 'round-trips');
  }
  results.seconds = (Date.now() - started) / 1000;
  if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify(results, null, 2));
  if (profile) progress(`CPU profiles in ${path.relative(process.cwd(), profileDir) || profileDir}`);
  process.stdout.write(table(results) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
