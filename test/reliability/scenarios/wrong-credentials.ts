import assert from 'node:assert/strict';
import { PARTNER, describeOutcome } from '../harness/flow';
import { FlowHarness } from '../harness/harness';
import { figures, scenarioResult, type ScenarioResult } from '../harness/result';
import { LOG_LEVEL, StatusLog, onLog } from '../harness/taps';
import { delay, until } from '../harness/wait';

/**
 * Wrong partner secret: red status on deploy, one clear error in the log per actual attempt, every
 * message caught with INVALID_ARGUMENT, at most one attempt per cooldown (20 s: three a minute) however
 * many messages arrive; a deploy with the right secret works at once.
 */
export async function wrongCredentialsScenario(opts: { durationMs: number; messageEveryMs?: number }): Promise<ScenarioResult> {
  const t0 = Date.now();
  const wrong = { clientId: 'simulator-partner', clientSecret: `wrong-secret-${Math.random().toString(36).slice(2)}` };
  // Recording from before the deploy: the red status and the first attempt's log line come with it.
  const logs: unknown[] = [];
  const offLog = onLog((e) => logs.push(e));
  const statuses = new StatusLog(['start', 'list']);
  const f = figures();
  f.faults = 1;
  try {
    const h = await FlowHarness.start({ credentials: wrong });
    const attempts = () => h.sim.callCounts.get('sessionController.getSessionControllerToken') ?? 0;
    const leaks = await h.closeAfter(async () => {
      assert.ok(
        await until(() => statuses.last('start')?.fill === 'red', 10000),
        `no red status within 10 s of deploying wrong credentials: ${JSON.stringify(statuses.last('start'))}`,
      );
      const runStart = Date.now();
      const end = runStart + opts.durationMs;
      while (Date.now() < end) {
        const o = await h.send(f.requests % 3 === 0 ? 'list' : 'start', { payload: '1001' });
        f.requests += 1;
        assert.ok(
          !o.ok && o.code === 'INVALID_ARGUMENT' && /rejected the partner credentials/.test(o.message ?? ''),
          `a message with wrong credentials: expected INVALID_ARGUMENT "rejected the partner credentials", got ${describeOutcome(o)}`,
        );
        f.expectedErrors += 1;
        await delay(opts.messageEveryMs ?? 50);
      }
      const elapsed = Date.now() - t0;
      const n = attempts();
      // The deploy check plus one per started 20-second cooldown.
      const bound = 1 + Math.ceil(elapsed / 20000);
      assert.ok(n <= bound, `${n} credential attempts in ${elapsed} ms (bound ${bound}): openOBD is hammered with a rejected secret`);
      f.details.credentialAttempts = n;
      f.details.seconds = Math.round(elapsed / 1000);
      f.details.messages = f.requests;
      const errorLines = logs.filter((e) => (e as { level?: number }).level === LOG_LEVEL.error);
      const credentialLines = errorLines.filter((e) => /rejected the partner credentials/.test(String((e as { msg?: unknown }).msg)));
      f.details.errorLogLines = errorLines.length;
      assert.ok(
        credentialLines.length === n && errorLines.length === n,
        `${errorLines.length} error log lines (${credentialLines.length} about the credentials) for ${n} attempts: the log should say it once per attempt`,
      );
      const greens = statuses.entries.filter((s) => s.fill === 'green');
      assert.equal(greens.length, 0, `a node showed green with wrong credentials: ${JSON.stringify(greens[0])}`);
      // Fixing the secret in the editor changes the account's credentials: a modified-nodes deploy
      // restarts it (the editor sends them inside the node, which is what marks it changed).
      await h.deploy(h.flow({ credentials: { ...PARTNER } }), 'nodes', PARTNER);
      const ok = await h.send('start', { payload: '1001' });
      f.requests += 1;
      assert.ok(ok.ok, `after fixing the secret a session does not start: ${describeOutcome(ok)}`);
      f.recovered += 1;
    });
    return scenarioResult(`wrong credentials for ${Math.round(opts.durationMs / 1000)} s`, h, t0, leaks, f);
  } finally {
    statuses.stop();
    offLog();
  }
}
