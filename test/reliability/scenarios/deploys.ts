import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { defaultConnectionPool } from '../../../client';
import { registry } from '../../../nodes/lib/registry';
import { describeOutcome } from '../harness/flow';
import { FlowHarness } from '../harness/harness';
import { prng } from '../harness/prng';
import { figures, scenarioResult, type ScenarioResult } from '../harness/result';
import { LOG_LEVEL, onLog } from '../harness/taps';
import { delay, until } from '../harness/wait';

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
  const f = figures();
  f.faults = opts.count;
  const closeTimes: number[] = [];
  const inFlightFates: Record<string, number> = {};
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
    const flow = h.flow({ closePolicy: state.policy }, changes);
    return state.list ? flow : flow.filter((n) => n.id !== 'list');
  };
  /** The sessions open when Node-RED is stopped. */
  let live: string[] = [];
  const leaks = await h.closeAfter(async () => {
    const crashes: string[] = [];
    const onCrash = (err: unknown) => crashes.push(inspect(err).slice(0, 500));
    process.on('uncaughtException', onCrash);
    process.on('unhandledRejection', onCrash);
    const errorLogs: string[] = [];
    const offLog = onLog((e) => {
      const entry = e as { level?: number; msg?: unknown; type?: string };
      if ((entry.level ?? 99) <= LOG_LEVEL.error) errorLogs.push(`${entry.type ?? ''}: ${String(entry.msg)}`.slice(0, 300));
    });
    try {
      const tickets = ['1001', '1002'];
      const sessions = new Map<string, string>();
      for (const t of tickets) sessions.set(t, await h.startSession(t));
      const plan = deployPlan(opts.count);
      f.details.plan = plan.reduce<Record<string, number>>(
        (acc, s) => ((acc[`${s.type}/${s.change}`] = (acc[`${s.type}/${s.change}`] ?? 0) + 1), acc),
        {},
      );
      for (let i = 0; i < plan.length; i++) {
        const step = plan[i];
        const which = `deploy ${i + 1} (${step.type}/${step.change})`;
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
        const fi = await inFlight;
        f.requests += 1;
        const fate = fi.ok ? 'answered' : (fi.code ?? '?');
        inFlightFates[fate] = (inFlightFates[fate] ?? 0) + 1;
        // Answered, or cut short by its node stopping (CLOSED, or dropped with the node: no outcome) or by
        // its session being ended by the close policy (SESSION_ENDED): never anything else.
        const cutShort = fi.code === 'CLOSED' || fi.code === 'SESSION_ENDED' || fi.code === 'NO_OUTCOME';
        assert.ok(fi.ok || cutShort, `${which}: the request in flight ended in ${describeOutcome(fi)}`);
        if (!fi.ok) f.expectedErrors += 1;
        assert.ok(ms <= 5000, `${which} took ${ms} ms to stop the old nodes`);
        const restarted = restartsAccount(step);
        for (const t of tickets) {
          const id = sessions.get(t) as string;
          if (restarted) {
            const want = oldPolicy === 'finish' ? 'finished' : 'interrupted';
            assert.ok(
              await until(() => h.sim.sessions.get(id)?.state === want, 5000),
              `${which}: session on ${t} is ${h.sim.sessions.get(id)?.state} on the server, expected ${want} by the close policy`,
            );
            ended[want] += 1;
            assert.ok(!registry.get(id), `${which}: the replaced session on ${t} is still registered`);
            const fresh = await h.send('start', { payload: t });
            f.requests += 1;
            assert.ok(fresh.ok, `${which}: a new session on ${t} does not start: ${describeOutcome(fresh)}`);
            f.recovered += 1;
            sessions.set(t, fresh.msg?.openobd.sessionId as string);
          } else {
            assert.equal(
              registry.get(id)?.session.state,
              'active',
              `${which} ended the session on ${t} although the account did not change`,
            );
          }
          const r = await h.request(sessions.get(t) as string, '3E00');
          f.requests += 1;
          assert.ok(r.ok, `${which}: a request on ${t}: ${describeOutcome(r)}`);
        }
        // Server and process agree on what is open: two sessions, each with one token stream, one channel.
        const counted = await until(() => {
          const s = h.sim.stats();
          return (
            s.sessions.active === 2 &&
            s.streams.token === 2 &&
            s.streams.isotp <= 2 &&
            registry.size === 2 &&
            defaultConnectionPool.size === 2
          );
        }, 5000);
        const s = h.sim.stats();
        assert.ok(
          counted,
          `after ${which}: server ${JSON.stringify(s.sessions)} token streams ${s.streams.token}, isotp ${s.streams.isotp}; registry ${registry.size}; channels ${defaultConnectionPool.size} (expected 2 active sessions, 2 token streams, at most 2 ISO-TP streams, 2 registered, 2 connections: the controller's and the sessions')`,
        );
      }
      f.details.closeMs = {
        max: Math.max(...closeTimes),
        mean: Math.round(closeTimes.reduce((a, b) => a + b, 0) / Math.max(1, closeTimes.length)),
      };
      f.details.sessionsEnded = { ...ended };
      f.details.inFlightFates = inFlightFates;
      f.details.errorLogs = { count: errorLogs.length, first: errorLogs.slice(0, 3) };
      f.details.subscribers = registry.subscriberCount;
      assert.equal(crashes.length, 0, `uncaught exceptions or rejections: ${crashes.slice(0, 2).join(' | ')}`);
    } finally {
      process.off('uncaughtException', onCrash);
      process.off('unhandledRejection', onCrash);
      offLog();
    }
    // Stopping Node-RED with the two sessions live ends them by the policy in force.
    live = registry.list().map((l) => l.id);
  });
  const want = state.policy === 'finish' ? 'finished' : 'interrupted';
  for (const id of live)
    assert.equal(
      h.sim.sessions.get(id)?.state,
      want,
      `at shutdown session ${id} was left ${h.sim.sessions.get(id)?.state}, expected ${want} by the close policy`,
    );
  f.details.closeMsAtShutdown = leaks.closeMs;
  return scenarioResult(`${opts.count} full and partial deploys`, h, t0, leaks, f);
}
