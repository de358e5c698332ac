import assert from 'node:assert/strict';
import type { OpenObdSimulator } from '../../simulator';
import { currentBuiltinSimulator } from '../../nodes/lib/builtin-simulator';
import { registry } from '../../nodes/lib/registry';
import {
  FAST_SETTINGS,
  baseFlow,
  catchNode,
  collect,
  helper,
  nextMessage,
  nodeRedVersion,
  openobdNodes,
  recordStatus,
  statusHistory,
  type AnyMsg,
} from '../support/nodered';
import { request, startSession } from '../support/flow-builder';

/**
 * A run owns its session: a second message, or another flow, that wants the same ticket waits until the
 * run has ended its session (or fails, shares it, or restarts its own, as chosen) and never takes it over;
 * nothing a user does by accident leaves a session blocked: one nothing uses ends after the idle limit.
 */
describe(`Node-RED ${nodeRedVersion()}: sessions this Node-RED holds`, function () {
  this.timeout(30000);

  afterEach(async function () {
    await helper.unload();
    helper.settings({});
  });

  const flow = (ifHeld: string | undefined, account: Record<string, unknown> = {}) =>
    baseFlow(
      [
        startSession({ target: '1001', ifHeld, to: ['started'] }),
        request({ request: '3E 00', to: ['answered'] }),
        { id: 'started', type: 'helper' },
        { id: 'answered', type: 'helper' },
      ],
      account,
    );

  async function load(f: Array<Record<string, unknown>>): Promise<void> {
    helper.settings(FAST_SETTINGS as never);
    await helper.load([openobdNodes, catchNode] as never, f as never);
  }

  /** Sends a message into node `into` and resolves with the next message at node `out`. */
  function through(into: string, out: string, msg: AnyMsg = {}): Promise<AnyMsg> {
    const got = nextMessage(helper.getNode(out));
    helper.getNode(into).receive(msg);
    return got;
  }

  async function simulator(): Promise<OpenObdSimulator> {
    return (await currentBuiltinSimulator()) as OpenObdSimulator;
  }

  const activeOnSimulator = async () => (await simulator()).stats().sessions.active ?? 0;

  /** Resolves with the next message at `id`; the test fails with the Catch node's error if one comes first. */
  function outcome(id: string, timeoutMs = 10000): Promise<AnyMsg> {
    return Promise.race([
      nextMessage(helper.getNode(id), timeoutMs),
      nextMessage(helper.getNode('caught'), timeoutMs).then((c) => Promise.reject(new Error(`caught ${c.error.code}: ${c.error.message}`))),
    ]);
  }

  it('wait (the default): a second message waits until the first run has finished its session, then gets a fresh one', async function () {
    helper.settings(FAST_SETTINGS as never);
    const f = flow(undefined);
    f.push(
      { id: 'fin', z: 'tab', type: 'openobd-finish', x: 0, y: 0, result: 'RESULT_SUCCESS', wires: [['finished']] },
      {
        id: 'finished',
        z: 'tab',
        type: 'helper',
        x: 0,
        y: 0,
      },
    );
    await helper.load([openobdNodes, catchNode] as never, f as never);
    const started = collect(helper.getNode('started'));
    const a = await through('start', 'started', { run: 1 });
    const statuses = recordStatus(helper.getNode('start'));
    helper.getNode('start').receive({ run: 2 });
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(started.length, 1, 'the second run waits while the first holds the ticket');
    assert.ok(registry.get(a.openobd.sessionId)?.session.active, "the first run's session is untouched");
    assert.ok(
      statuses.some((s) => s.text === 'waiting: ticket 1001 in use'),
      JSON.stringify(statuses),
    );
    // The first run goes on and ends its session; only then does the second start.
    const ok = nextMessage(helper.getNode('answered'));
    helper.getNode('req').receive({ openobd: a.openobd });
    await ok;
    const second = nextMessage(helper.getNode('started'));
    const done = nextMessage(helper.getNode('finished'));
    helper.getNode('fin').receive({ openobd: a.openobd });
    await done;
    const b = await second;
    assert.equal(b.run, 2);
    assert.notEqual(b.openobd.sessionId, a.openobd.sessionId);
    assert.equal(b.openobd.reused, false);
    assert.equal((await simulator()).sessions.get(a.openobd.sessionId)?.state, 'finished');
    assert.equal(await activeOnSimulator(), 1);
  });

  it('wait: a run that keeps the vehicle past "wait at most" makes the next message fail with IN_USE, "ticket busy"', async function () {
    helper.settings(FAST_SETTINGS as never);
    const f = flow('wait');
    (f.find((n) => n.id === 'start') as Record<string, unknown>).waitSeconds = 0.3;
    await helper.load([openobdNodes, catchNode] as never, f as never);
    const a = await through('start', 'started');
    const caught = nextMessage(helper.getNode('caught'));
    const t0 = Date.now();
    helper.getNode('start').receive({});
    const c = await caught;
    assert.ok(Date.now() - t0 >= 250, 'it waited first');
    assert.equal(c.error.code, 'IN_USE');
    assert.equal(c.error.cause.situation, 'ticketBusy');
    assert.match(c.error.message, /^Ticket busy: ticket 1001 is in use by an earlier run of this start session node .*waited 0 s/);
    assert.equal(statusHistory(helper.getNode('start')).at(-1)?.text, 'ticket busy');
    assert.ok(registry.get(a.openobd.sessionId)?.session.active);
  });

  it('share, and "reuse" as flows saved before 0.2 say: a second start gets the same live session', async function () {
    for (const saved of ['share', 'reuse']) {
      await load(flow(saved));
      const started = collect(helper.getNode('started'));
      const a = await through('start', 'started');
      const b = await through('start', 'started');
      assert.equal(b.openobd.sessionId, a.openobd.sessionId, saved);
      assert.equal(a.openobd.reused, false);
      assert.equal(b.openobd.reused, true);
      assert.equal(await activeOnSimulator(), 1);
      assert.equal(statusHistory(helper.getNode('start')).at(-1)?.text, `${a.openobd.sessionId.slice(0, 8)} reused`);
      assert.equal(started.length, 2);
      await helper.unload();
    }
  });

  it('share, two clicks at once: both messages get the one session (no "ticket busy" for our own start in flight)', async function () {
    await load(flow('share'));
    const started = collect(helper.getNode('started'));
    const caught = collect(helper.getNode('caught'));
    helper.getNode('start').receive({});
    helper.getNode('start').receive({});
    const deadline = Date.now() + 5000;
    while (started.length + caught.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(caught, []);
    assert.equal(started.length, 2);
    assert.equal(started[0]!.openobd.sessionId, started[1]!.openobd.sessionId);
    assert.equal(await activeOnSimulator(), 1);
  });

  it('restart: the held session is ended (by the close policy) and a new one starts', async function () {
    await load(flow('restart'));
    const a = await through('start', 'started');
    const b = await through('start', 'started');
    assert.notEqual(b.openobd.sessionId, a.openobd.sessionId);
    assert.equal(b.openobd.reused, false);
    const sim = await simulator();
    assert.equal(sim.sessions.get(a.openobd.sessionId)?.state, 'interrupted');
    assert.equal(await activeOnSimulator(), 1);
    // The old session's id now says what happened to it.
    const c = await through('req', 'caught', { openobd: a.openobd });
    assert.equal(c.error.code, 'SESSION_ENDED');
    assert.match(c.error.message, /ended by Node-RED to start a new session on the same vehicle/);
  });

  it('fail: a second start fails at once with IN_USE, "ticket busy", and the held session goes on', async function () {
    await load(flow('fail'));
    const a = await through('start', 'started');
    const c = await through('start', 'caught');
    assert.equal(c.error.code, 'IN_USE');
    assert.equal(c.error.cause.situation, 'ticketBusy');
    assert.equal(statusHistory(helper.getNode('start')).at(-1)?.text, 'ticket busy');
    assert.ok(registry.get(a.openobd.sessionId)?.session.active);
  });

  /**
   * Two tabs on one ticket: "Guided check" (start2: a run that holds it, with its finish) and this test's
   * tab (start, with the Catch node), which asks for the ticket as `ifHeld` says. (The test helper loads a
   * core node once per node of its type, so there is one Catch node.)
   */
  function twoFlows(ifHeld: string, waitSeconds?: number): Array<Record<string, unknown>> {
    const f = flow(ifHeld);
    (f.find((n) => n.id === 'start') as Record<string, unknown>).waitSeconds = waitSeconds;
    f.push(
      { id: 'tab2', type: 'tab', label: 'Guided check' },
      startSession({ id: 'start2', z: 'tab2', target: '1001', ifHeld: 'wait', to: ['started2'] }),
      { id: 'started2', z: 'tab2', x: 0, y: 0, type: 'helper' },
      { id: 'fin', z: 'tab2', type: 'openobd-finish', x: 0, y: 0, result: 'RESULT_SUCCESS', wires: [['finished']] },
      { id: 'finished', z: 'tab2', type: 'helper', x: 0, y: 0 },
    );
    return f;
  }

  it('another flow never takes over a run\'s session: "fail" names the flow that holds it, "share" waits for it', async function () {
    await load(twoFlows('fail'));
    const a = await through('start2', 'started2');
    const c = await through('start', 'caught');
    assert.equal(c.error.code, 'IN_USE');
    assert.match(c.error.message, /^Ticket busy: ticket 1001 is in use by flow "Guided check"/);
    assert.equal(c.error.cause.holder, 'Guided check');
    assert.ok(registry.get(a.openobd.sessionId)?.session.active);
    await helper.unload();

    // A sharing node of another flow does not join a run that does not share: it waits, then fails.
    await load(twoFlows('share', 0.3));
    const held = await through('start2', 'started2');
    const statuses = recordStatus(helper.getNode('start'));
    const r = await through('start', 'caught');
    assert.equal(r.error.code, 'IN_USE');
    assert.ok(
      statuses.some((s) => s.text === 'waiting: ticket 1001 in use by "Guided check"'),
      JSON.stringify(statuses),
    );
    assert.ok(registry.get(held.openobd.sessionId)?.session.active);
  });

  it('another flow that waits starts on the ticket once the run holding it has finished; the run completes', async function () {
    await load(twoFlows('wait'));
    const a = await through('start2', 'started2');
    const other = outcome('started');
    helper.getNode('start').receive({});
    await new Promise((r) => setTimeout(r, 300));
    // The procedure goes on undisturbed: a request on its session, then its finish.
    const ok = nextMessage(helper.getNode('answered'));
    helper.getNode('req').receive({ openobd: a.openobd });
    assert.equal((await ok).openobd.sessionId, a.openobd.sessionId);
    const done = nextMessage(helper.getNode('finished'));
    helper.getNode('fin').receive({ openobd: a.openobd });
    await done;
    const b = await other;
    assert.notEqual(b.openobd.sessionId, a.openobd.sessionId);
    assert.equal((await simulator()).sessions.get(a.openobd.sessionId)?.state, 'finished');
  });

  it("deleting a start session node ends its runs' sessions (a redeploy of it keeps them)", async function () {
    helper.settings(FAST_SETTINGS as never);
    const f = flow('wait');
    await helper.load([openobdNodes, catchNode] as never, f as never);
    const a = await through('start', 'started');
    // Redeployed with a change (its name): the same node id, its run goes on.
    const renamed = f.map((n) => (n.id === 'start' ? { ...n, name: 'renamed' } : n));
    await helper.setFlows(renamed as never, 'nodes');
    assert.ok(registry.get(a.openobd.sessionId)?.session.active, 'a redeploy of the node keeps its run');
    // Deleted: no run of it can finish any more.
    await helper.setFlows(renamed.filter((n) => n.id !== 'start') as never, 'nodes');
    const sim = await simulator();
    const deadline = Date.now() + 5000;
    while (sim.sessions.get(a.openobd.sessionId)?.state === 'active' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(sim.sessions.get(a.openobd.sessionId)?.state, 'interrupted');
    const caught = nextMessage(helper.getNode('caught'));
    helper.getNode('req').receive({ openobd: a.openobd });
    assert.match((await caught).error.message, /stopped in Node-RED \(its start session node was deleted\)/);
  });

  it('the idle limit: a session no node used for the limit is ended; its nodes say so; a later message gets SESSION_ENDED "ended after … without use"', async function () {
    helper.settings(FAST_SETTINGS as never);
    // 0.01 min = 600 ms
    await helper.load([openobdNodes, catchNode] as never, flow('share', { idleMinutes: 0.01 }) as never);
    const a = await through('start', 'started');
    const id = a.openobd.sessionId as string;
    // Used every 200 ms for a while: the limit counts from the last use.
    for (let i = 0; i < 6; i++) {
      const ok = nextMessage(helper.getNode('answered'));
      helper.getNode('req').receive({ openobd: a.openobd });
      await ok;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(registry.get(id)?.session.active, 'still active while in use');
    const deadline = Date.now() + 5000;
    while (registry.get(id) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(registry.get(id), undefined, 'ended after the idle limit');
    const sim = await simulator();
    assert.equal(sim.sessions.get(id)?.state, 'interrupted', "ended on openOBD too, by the account's close policy (interrupt)");
    assert.equal(statusHistory(helper.getNode('start')).at(-1)?.text, `${id.slice(0, 8)} ended (idle)`);
    const c = await through('req', 'caught', { openobd: a.openobd });
    assert.equal(c.error.code, 'SESSION_ENDED');
    assert.match(c.error.message, /^Start a new session: session .* is interrupted \(ended after 1 s without use/);
  });

  it('the idle limit with the close policy "finish": finished with RESULT_FAILURE_RUNTIME_ERROR and a description', async function () {
    await load(flow('share', { idleMinutes: 0.01, closePolicy: 'finish' }));
    const sim = await (async () => {
      const first = nextMessage(helper.getNode('started'));
      helper.getNode('start').receive({});
      await first;
      return simulator();
    })();
    const finished = new Promise<{ result: string[]; description?: string }>((resolve) =>
      sim.once('finished', (_id: string, r: { result: string[]; description?: string }) => resolve(r)),
    );
    const r = await finished;
    assert.deepEqual(r.result, ['RESULT_FAILURE_RUNTIME_ERROR']);
    assert.match(r.description ?? '', /Node-RED: ended after 1 s without use/);
  });
});
