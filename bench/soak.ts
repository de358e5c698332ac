/**
 * `npm run soak`: the reliability fault scenarios through real Node-RED flows (the node-red-node-test-helper
 * runtime: the real Node-RED runtime with this package's nodes) on an external simulator with fault
 * injection, for their full durations, then a markdown table of what was injected, sent, recovered and
 * left behind. A scenario stops at its first failed assertion; the soak reports it as failed with the
 * assertion's message and goes on with the next. Exit code 1 if any scenario failed.
 *
 * Options: --only <name>[,<name>] with names drop, restart, unavailable, credentials, slow, halfopen,
 * fuzz, deploys; --quick (short durations, for trying the command out).
 */
import { AssertionError } from 'node:assert';
import * as os from 'node:os';
import { nodeRedVersion } from '../test/support/nodered';
import { table, type ScenarioFailure, type ScenarioResult } from '../test/reliability/harness/result';
import { deployScenario } from '../test/reliability/scenarios/deploys';
import { fuzzScenario } from '../test/reliability/scenarios/fuzz';
import { halfOpenScenario } from '../test/reliability/scenarios/half-open';
import { restartScenario } from '../test/reliability/scenarios/restart';
import { slowVehicleScenario } from '../test/reliability/scenarios/slow-vehicle';
import { tokenDropScenario } from '../test/reliability/scenarios/token-drop';
import { unavailableScenario } from '../test/reliability/scenarios/unavailable';
import { wrongCredentialsScenario } from '../test/reliability/scenarios/wrong-credentials';

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

/** What a failed scenario says: an assertion's message, or the stack of an error that ended it early. */
function failureText(err: unknown): string {
  if (err instanceof AssertionError) return err.message;
  return `aborted: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
}

async function main(): Promise<void> {
  const started = Date.now();
  process.stdout.write(
    `openOBD soak: Node.js ${process.version}, Node-RED ${nodeRedVersion()}, ${os.cpus().length} CPUs, ${new Date().toISOString()}${quick ? ' (quick)' : ''}\n`,
  );
  const rows: Array<ScenarioResult | ScenarioFailure> = [];
  const failures: ScenarioFailure[] = [];
  for (const [name, run] of scenarios) {
    if (only && !only.includes(name)) continue;
    process.stdout.write(`\n▶ ${name} … `);
    const t0 = Date.now();
    try {
      const r = await run();
      rows.push(r);
      process.stdout.write(`ok in ${(r.durationMs / 1000).toFixed(1)} s\n`);
      process.stdout.write(`    ${JSON.stringify({ ...r.details, leaks: r.leaks })}\n`);
    } catch (err) {
      const failure: ScenarioFailure = { scenario: name, error: err, durationMs: Date.now() - t0 };
      rows.push(failure);
      failures.push(failure);
      process.stdout.write(`FAILED in ${(failure.durationMs / 1000).toFixed(1)} s\n`);
      for (const line of failureText(err).split('\n')) if (line.trim()) process.stdout.write(`    ✗ ${line}\n`);
    }
  }
  process.stdout.write(`\n${table(rows)}\n\n`);
  process.stdout.write(
    `Total ${((Date.now() - started) / 1000).toFixed(0)} s. result: ok when every expectation of the scenario held (every request got the expected outcome, nothing was left behind), FAILED at the first one that did not; ` +
      `expected errors: coded errors that were the point of the fault; ` +
      `leaked handles: timers and sockets above the baseline after teardown + server streams + sessions + channels + registry subscriptions left.\n`,
  );
  if (failures.length > 0) {
    process.stdout.write(`\n${failures.length} scenario(s) failed:\n`);
    for (const f of failures) process.stdout.write(`  ${f.scenario}: ${failureText(f.error).split('\n')[0]}\n`);
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
