import assert from 'node:assert/strict';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { DEFAULT_SIMULATOR_CREDENTIALS, OpenObdSimulator, type DashboardRun } from '../../simulator';
import { registry } from '../../nodes/lib/registry';
import { catchNode, helper, nodeRedVersion, openobdNodes } from '../support/nodered';
import { waitFor } from '../support/sim';

/*
 * Dashboard procedures under faults, against an external simulator (account in custom mode, so the
 * broker's streams and registrations are counted on the server side): the broker stream dropped or asked
 * to reconnect while functions are online, redeploys, and 20 functions on one account.
 */

const VEHICLES = 20;

type Def = Record<string, unknown>;

function flow(sim: OpenObdSimulator, procedures: Array<{ id: string; name: string; description?: string }>): Def[] {
  const nodes: Def[] = [
    { id: 'tab', type: 'tab', label: 'functions' },
    {
      id: 'account',
      type: 'openobd-account',
      name: 'sim',
      mode: 'custom',
      host: '127.0.0.1',
      port: sim.port,
      tls: false,
      allowInsecure: false,
      clusterId: '001',
      closePolicy: 'interrupt',
    },
    { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, x: 0, y: 0, wires: [['caught']] },
    { id: 'caught', z: 'tab', type: 'helper', x: 0, y: 0 },
  ];
  for (const p of procedures) {
    nodes.push(
      {
        id: p.id,
        z: 'tab',
        x: 0,
        y: 0,
        type: 'openobd-dashboard-procedure',
        account: 'account',
        functionName: p.name,
        description: p.description ?? '',
        version: '1.0',
        visibility: 'dashboard',
        wires: [[`${p.id}-res`]],
      },
      {
        id: `${p.id}-res`,
        z: 'tab',
        x: 0,
        y: 0,
        type: 'openobd-variables',
        operation: 'result',
        context: 'function',
        key: 'by',
        keySource: 'str',
        value: p.name,
        valueSource: 'str',
        prefix: '',
        wires: [[`${p.id}-fin`]],
      },
      {
        id: `${p.id}-fin`,
        z: 'tab',
        x: 0,
        y: 0,
        type: 'openobd-finish',
        result: 'RESULT_SUCCESS',
        userFeedback: '',
        description: `${p.name} done`,
        descriptionSource: 'str',
        wires: [[]],
      },
    );
  }
  return nodes;
}

const credentials = {
  account: { clientId: DEFAULT_SIMULATOR_CREDENTIALS.clientId, clientSecret: DEFAULT_SIMULATOR_CREDENTIALS.clientSecret },
};

describe(`reliability (Node-RED ${nodeRedVersion()}): dashboard procedures and the function broker`, function () {
  this.timeout(120000);
  let sim: OpenObdSimulator;

  beforeEach(async function () {
    sim = new OpenObdSimulator({
      vehicles: VEHICLES,
      tokenIntervalMs: 300,
      tokenValidityMs: 3000,
      functionBroker: { tokenPushIntervalMs: 500 },
    });
    await sim.start();
    helper.settings({
      credentialSecret: false,
      openobdAccountSession: { tokenIntervalMs: 300, tokenValidityMs: 3000, reconnect: { initialDelayMs: 25, maxDelayMs: 250 } },
      openobdAccountFunctionBroker: { reconnect: { initialDelayMs: 50, maxDelayMs: 500 }, closeGraceMs: 200 },
    } as never);
  });

  afterEach(async function () {
    await helper.unload();
    helper.settings({});
    // Nothing left behind on either side once Node-RED stopped.
    await waitFor(() => sim.stats().openStreams === 0, 5000, 'every server stream to close');
    assert.equal(registry.size, 0, 'no session left registered');
    await sim.stop();
  });

  const online = () => [...sim.functions.registrations.values()].filter((r) => r.state === 'FUNCTION_REGISTRATION_STATE_ONLINE');

  async function run(functionId: string, ticketId: string): Promise<DashboardRun> {
    const r = await sim.functions.runFromDashboard(ticketId, functionId);
    assert.notEqual(r.state, 'failed', r.error);
    await waitFor(() => r.state !== 'running' && r.state !== 'starting', 15000, `the run of ${functionId}`);
    assert.equal(r.state, 'finished', r.error);
    assert.deepEqual(r.result?.result, ['RESULT_SUCCESS']);
    return r;
  }

  it('20 procedures on one account share one broker stream; all 20 run at once, each on its own ticket', async function () {
    const procedures = Array.from({ length: 20 }, (_, i) => ({ id: `p${i}`, name: `Procedure ${String(i).padStart(2, '0')}` }));
    await helper.load([openobdNodes, catchNode] as never, flow(sim, procedures) as never, credentials as never);
    await waitFor(() => online().length === 20, 15000, '20 online');
    assert.equal(sim.stats().streams.function, 1, 'one function stream');
    assert.equal(sim.callCounts.get('functionBroker.openFunctionStream'), 1);
    const tickets = sim.ticketIds();
    const runs = await Promise.all(online().map((r, i) => run(r.details.id, tickets[i]!)));
    assert.deepEqual(runs.map((r) => r.results?.by).sort(), procedures.map((p) => p.name).sort());
  });

  it('the broker stream dropped, or a reconnect requested, while online: registered again within seconds, and a call right after is served', async function () {
    const procedures = Array.from({ length: 5 }, (_, i) => ({ id: `p${i}`, name: `Drop ${i}` }));
    await helper.load([openobdNodes, catchNode] as never, flow(sim, procedures) as never, credentials as never);
    await waitFor(() => online().length === 5, 10000, '5 online');
    const ids = online().map((r) => r.details.id);
    const recoveries: number[] = [];
    for (let round = 0; round < 6; round++) {
      const t0 = Date.now();
      const opensBefore = sim.callCounts.get('functionBroker.openFunctionStream') ?? 0;
      if (round % 2 === 0) {
        // The stream of an earlier reconnect may still be closing: each open stream is dropped.
        assert.ok(sim.dropStreams('function', round === 2 ? GrpcStatus.INTERNAL : GrpcStatus.UNAVAILABLE, 'Simulated broker drop') >= 1);
        await waitFor(() => online().length < 5, 2000, 'the drop to show on the broker');
        await waitFor(() => online().length === 5, 5000, `registered again after drop ${round}`);
      } else {
        // A reconnect request: the call is made at once, while the client moves to its new stream.
        assert.equal(sim.functions.requestReconnect(3), 1);
        await run(ids[round % 5]!, sim.ticketIds()[round]!);
        await waitFor(
          () => (sim.callCounts.get('functionBroker.openFunctionStream') ?? 0) > opensBefore && online().length === 5,
          5000,
          'the new stream',
        );
      }
      recoveries.push(Date.now() - t0);
      // The call right after is not lost: it reaches the flow and finishes.
      const r = await run(ids[round % 5]!, sim.ticketIds()[10 + round]!);
      assert.equal(r.results?.by, `Drop ${round % 5}`);
    }
    await waitFor(() => sim.stats().streams.function === 1, 5000, 'one stream in the end');
    assert.ok(Math.max(...recoveries) < 5000, `recoveries took ${recoveries.join(', ')} ms`);
    if (process.env.RELIABILITY_VERBOSE === '1') process.stdout.write(`      re-registered after ${recoveries.join(', ')} ms\n`);
  });

  it('redeploys (modified nodes, flows and full) set each procedure offline, then online again: no duplicate, the same identity, one stream', async function () {
    const procedures = [
      { id: 'a', name: 'Alpha' },
      { id: 'b', name: 'Beta' },
    ];
    await helper.load([openobdNodes, catchNode] as never, flow(sim, procedures) as never, credentials as never);
    await waitFor(() => online().length === 2, 10000, 'both online');
    const idOf = (name: string) => [...sim.functions.registrations.values()].find((r) => r.details.name === name)!.details.id;
    const alpha = idOf('Alpha');
    const beta = idOf('Beta');
    const seen: string[] = [];
    const onChange = () => {
      const r = sim.functions.registrations.get(alpha);
      const s = r?.state.replace('FUNCTION_REGISTRATION_STATE_', '') ?? 'none';
      if (seen.at(-1) !== s) seen.push(s);
    };
    sim.functions.on('change', onChange);
    const types = ['nodes', 'flows', 'full', 'nodes', 'full'] as const;
    for (const [i, type] of types.entries()) {
      await helper.setFlows(
        flow(sim, [
          { id: 'a', name: 'Alpha', description: `deploy ${i}` },
          { id: 'b', name: 'Beta' },
        ]) as never,
        type,
        credentials as never,
      );
      await waitFor(
        () => sim.functions.registrations.get(alpha)?.details.description === `deploy ${i}` && online().length === 2,
        10000,
        `deploy ${i} (${type})`,
      );
      assert.equal(idOf('Alpha'), alpha, 'the identity survives the redeploy');
      assert.equal(idOf('Beta'), beta);
    }
    sim.functions.off('change', onChange);
    assert.equal(sim.functions.registrations.size, 2, 'no duplicate registration');
    // Each redeploy of Alpha took it offline first (or, for a full deploy, the account's stream went away), then online.
    const offlines = seen.filter((s) => s === 'OFFLINE' || s === 'UNAVAILABLE').length;
    assert.ok(offlines >= types.length, `Alpha went ${seen.join(' → ')}`);
    assert.equal(seen.at(-1), 'ONLINE');
    await waitFor(() => sim.stats().streams.function === 1, 5000, 'one stream after the deploys');
    await run(alpha, '1001');
  });
});
