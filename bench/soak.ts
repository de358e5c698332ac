/**
 * `npm run soak`: the reliability fault scenarios through real Node-RED flows (the node-red-node-test-helper
 * runtime: the real Node-RED runtime with this package's nodes) on an external simulator with fault
 * injection, for their full durations, then a markdown table of what was injected, sent, failed,
 * recovered and left behind. Exit code 1 if any scenario saw an invariant broken.
 *
 * Options: --only <name>[,<name>] with names drop, restart, unavailable, credentials, slow, halfopen,
 * fuzz, deploys; --quick (short durations, for trying the command out).
 */
import * as os from 'node:os';
import { nodeRedVersion } from '../test/support/nodered';
import {
  deployScenario,
  fuzzScenario,
  halfOpenScenario,
  restartScenario,
  slowVehicleScenario,
  table,
  tokenDropScenario,
  unavailableScenario,
  wrongCredentialsScenario,
  type ScenarioResult,
} from '../test/support/reliability';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.includes('--only') ? args[args.indexOf('--only') + 1].split(',') : undefined;

const scenarios: Array<[string, () => Promise<ScenarioResult>]> = [
  ['drop', () => tokenDropScenario({ durationMs: quick ? 10_000 : 120_000, dropEveryMs: 2000, concurrency: 4 })],
  // Outages long enough for grpc-js' own reconnect backoff to have grown past the connect wait.
  ['restart', () => restartScenario({ shortDowntimeMs: 500, longDowntimeMs: quick ? 4000 : 20_000 })],
  ['unavailable', () => unavailableScenario({ rounds: quick ? 6 : 12 })],
  ['credentials', () => wrongCredentialsScenario({ durationMs: quick ? 5000 : 60_000, messageEveryMs: 50 })],
  ['slow', () => slowVehicleScenario({ rounds: quick ? 1 : 3, timeoutMs: 1500 })],
  ['halfopen', () => halfOpenScenario({ stalls: quick ? 3 : 10 })],
  ['fuzz', () => fuzzScenario({ count: quick ? 1000 : 2000 })],
  ['deploys', () => deployScenario({ count: 50 })],
];

async function main(): Promise<void> {
  const started = Date.now();
  process.stdout.write(
    `openOBD soak: Node.js ${process.version}, Node-RED ${nodeRedVersion()}, ${os.cpus().length} CPUs, ${new Date().toISOString()}${quick ? ' (quick)' : ''}\n`,
  );
  const results: ScenarioResult[] = [];
  for (const [name, run] of scenarios) {
    if (only && !only.includes(name)) continue;
    process.stdout.write(`\n▶ ${name} … `);
    const r = await run();
    results.push(r);
    process.stdout.write(`${r.problems.length === 0 ? 'ok' : 'PROBLEMS'} in ${(r.durationMs / 1000).toFixed(1)} s\n`);
    for (const p of r.problems) process.stdout.write(`    ✗ ${p}\n`);
    const { problems: _p, leaks, scenario: _s, ...rest } = r;
    void _p;
    void _s;
    process.stdout.write(`    ${JSON.stringify({ ...rest.details, leaks })}\n`);
  }
  process.stdout.write(`\n${table(results)}\n\n`);
  const bad = results.filter((r) => r.problems.length > 0 || r.failed > 0 || r.leaks.total > 0);
  process.stdout.write(
    `Total ${((Date.now() - started) / 1000).toFixed(0)} s. failed: requests that did not get the expected outcome; expected errors: coded errors that were the point of the fault; ` +
      `leaked handles: timers and sockets above the baseline after teardown + server streams + sessions + channels + registry subscriptions left.\n`,
  );
  if (bad.length > 0) {
    process.stdout.write(`\n${bad.length} scenario(s) with problems: ${bad.map((r) => r.scenario).join('; ')}\n`);
    process.exitCode = 1;
  }
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`soak: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(() => {
    // Everything was stopped and counted; do not wait for anything else (e.g. a stray child of a dependency).
    setTimeout(() => process.exit(), 100).unref();
  });
