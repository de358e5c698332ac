import assert from 'node:assert/strict';
import { defaultConnectionPool } from '../../client';
import { OpenObdSimulator } from '../../simulator';
import { builtinSimulatorUsers, currentBuiltinSimulator } from '../../nodes/lib/builtin-simulator';
import { registry } from '../../nodes/lib/registry';
import { FAST_SETTINGS, baseFlow, catchNode, helper, nextMessage, nodeRedVersion, openobdNodes, type AnyMsg } from '../support/nodered';
import { request, startSession } from '../support/flow-builder';

/** Timers and sockets of this process, by kind (Node's own view of what keeps it busy). */
function handles(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) out[kind] = (out[kind] ?? 0) + 1;
  return out;
}

async function settle(ms = 100): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/**
 * Redeploy, partial deploy, node deletion and stop: every stream, timer, channel and session is
 * released, counted on both sides of the wire.
 */
describe(`Node-RED ${nodeRedVersion()}: deploys leave nothing behind`, function () {
  this.timeout(60000);
  let sim: OpenObdSimulator;

  beforeEach(async function () {
    helper.settings(FAST_SETTINGS as never);
    sim = new OpenObdSimulator({ tokenIntervalMs: 300, tokenValidityMs: 3000 });
    await sim.start();
  });

  afterEach(async function () {
    await helper.unload();
    helper.settings({});
    await sim.stop();
  });

  const flow = (ticket: string) =>
    baseFlow([startSession({ target: ticket, to: ['req'] }), request({ request: '22F190', to: ['out'] }), { id: 'out', type: 'helper' }], {
      mode: 'custom',
      host: '127.0.0.1',
      port: sim.port,
      tls: false,
      closePolicy: 'interrupt',
    });
  // A fresh object each time: the runtime deletes entries of the credentials object it is given.
  const creds = () => ({ account: { clientId: 'simulator-partner', clientSecret: 'simulator-secret' } });

  async function startOne(): Promise<string> {
    const out = nextMessage(helper.getNode('out'));
    const caught = helper.getNode('caught');
    let onCaught: ((c: AnyMsg) => void) | undefined;
    const failed = new Promise<never>((_, reject) => {
      onCaught = (c) => reject(new Error(`caught ${c.error.code}: ${c.error.message}`));
      caught.once('input', onCaught);
    });
    helper.getNode('start').receive({});
    try {
      return ((await Promise.race([out, failed])) as AnyMsg).openobd.sessionId as string;
    } finally {
      if (onCaught) caught.removeListener('input', onCaught);
    }
  }

  it('20 full deploys in a row, each with a live session: no stream, channel, session or timer leaks, each close fast', async function () {
    await helper.load([openobdNodes, catchNode] as never, flow('1001') as never, creds() as never);
    await startOne();
    const baseline = handles();
    const closeTimes: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t0 = Date.now();
      await helper.setFlows(flow('1001') as never, 'full', creds() as never);
      closeTimes.push(Date.now() - t0);
      await startOne(); // the ticket is free again: the old session was interrupted, not leaked
    }
    await settle(300);
    const stats = sim.stats();
    assert.equal(stats.sessions.active, 1, `active sessions on the server: ${JSON.stringify(stats.sessions)}`);
    assert.equal(stats.sessions.interrupted, 20, 'every replaced session was interrupted (the close policy)');
    assert.equal(stats.streams.token, 1, "one token stream: the live session's");
    assert.equal(stats.streams.isotp, 1);
    assert.equal(registry.size, 1);
    assert.equal(defaultConnectionPool.size, 2, "two connections: the controller's and the live session's");
    assert.ok(Math.max(...closeTimes) < 5000, `deploy times ${closeTimes.join(',')} ms`);
    const now = handles();
    for (const kind of ['Timeout', 'TCPSocketWrap']) {
      assert.ok(
        (now[kind] ?? 0) <= (baseline[kind] ?? 0) + 2,
        `${kind}: ${baseline[kind] ?? 0} before, ${now[kind] ?? 0} after 20 deploys`,
      );
    }
  });

  it('a modified-nodes deploy that leaves the account alone keeps the session alive and usable', async function () {
    await helper.load([openobdNodes, catchNode] as never, flow('1001') as never, creds() as never);
    const id = await startOne();
    const changed = flow('1001').map((n) => (n.id === 'req' ? { ...n, name: 'renamed' } : n));
    await helper.setFlows(changed as never, 'nodes', creds() as never);
    assert.equal(registry.get(id)?.session.state, 'active');
    const out = nextMessage(helper.getNode('out'));
    helper.getNode('req').receive({ openobd: { sessionId: id } });
    assert.equal((await out).openobd.sessionId, id);
    assert.equal(sim.stats().sessions.active, 1);
  });

  it('deleting the account (and its nodes) ends its sessions and closes everything', async function () {
    await helper.load([openobdNodes, catchNode] as never, flow('1001') as never, creds() as never);
    await startOne();
    await helper.setFlows([{ id: 'tab', type: 'tab', label: 'empty' }] as never, 'full', creds() as never);
    await settle(200);
    assert.equal(sim.stats().openStreams, 0);
    assert.equal(sim.stats().sessions.interrupted, 1);
    assert.equal(registry.size, 0);
    assert.equal(defaultConnectionPool.size, 0);
  });

  it('the "finish" close policy finishes open sessions with a runtime-error result instead', async function () {
    const finishing = flow('1002').map((n) => (n.id === 'account' ? { ...n, closePolicy: 'finish' } : n));
    await helper.load([openobdNodes, catchNode] as never, finishing as never, creds() as never);
    const results: unknown[] = [];
    sim.on('finished', (_id: string, result: unknown) => results.push(result));
    await startOne();
    await helper.unload();
    await settle(100);
    assert.equal(sim.stats().sessions.finished, 1);
    assert.deepEqual((results[0] as { result: string[] }).result, ['RESULT_FAILURE_RUNTIME_ERROR']);
  });

  it('stopping Node-RED with live sessions closes within the budget and leaves no stream', async function () {
    await helper.load([openobdNodes, catchNode] as never, flow('1001') as never, creds() as never);
    await startOne();
    const t0 = Date.now();
    await helper.unload();
    assert.ok(Date.now() - t0 < 5000);
    await settle(100);
    assert.equal(sim.stats().openStreams, 0);
    assert.equal(registry.size, 0);
  });

  it('the built-in simulator is shared by accounts and stops when the last one goes', async function () {
    const two = [
      ...baseFlow([]),
      { id: 'account2', type: 'openobd-account', name: 'sim 2', mode: 'simulator', clusterId: '001', closePolicy: 'interrupt' },
    ];
    await helper.load([openobdNodes, catchNode] as never, two as never);
    await settle(200);
    assert.equal(builtinSimulatorUsers(), 2);
    const running = await currentBuiltinSimulator();
    assert.ok(running?.running);
    await helper.unload();
    await settle(50);
    assert.equal(builtinSimulatorUsers(), 0);
    assert.equal(await currentBuiltinSimulator(), undefined);
    assert.equal(running?.running, false);
  });
});
