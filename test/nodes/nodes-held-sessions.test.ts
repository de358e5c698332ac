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
  statusHistory,
  type AnyMsg,
} from '../support/nodered';

/**
 * Nothing a user does by accident may leave a session (a car, a paid ticket) blocked: a second start on a
 * ticket this Node-RED holds reuses the session (or restarts it, or fails, as chosen), and a session that
 * nothing uses is ended after the account's idle limit.
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
        {
          id: 'start',
          type: 'openobd-start-session',
          account: 'account',
          targetType: 'ticket',
          target: '1001',
          targetSource: 'str',
          ifHeld,
          wires: [['started']],
        },
        {
          id: 'req',
          type: 'openobd-request',
          ecu: 'engine',
          request: '3E 00',
          output: 'hex',
          negative: 'error',
          decode: true,
          outputs: 1,
          wires: [['answered']],
        },
        { id: 'started', type: 'helper' },
        { id: 'answered', type: 'helper' },
      ],
      account,
    );

  async function simulator(): Promise<OpenObdSimulator> {
    return (await currentBuiltinSimulator()) as OpenObdSimulator;
  }

  const activeOnSimulator = async () => (await simulator()).stats().sessions.active ?? 0;

  it('reuse (the default, also for flows saved before the option existed): a second start gets the same live session', async function () {
    helper.settings(FAST_SETTINGS as never);
    await helper.load([openobdNodes, catchNode] as never, flow(undefined) as never);
    const started = collect(helper.getNode('started'));
    const first = nextMessage(helper.getNode('started'));
    helper.getNode('start').receive({});
    const a = await first;
    const second = nextMessage(helper.getNode('started'));
    helper.getNode('start').receive({});
    const b = await second;
    assert.equal(b.openobd.sessionId, a.openobd.sessionId);
    assert.equal(a.openobd.reused, false);
    assert.equal(b.openobd.reused, true);
    assert.equal(await activeOnSimulator(), 1);
    assert.equal(statusHistory(helper.getNode('start')).at(-1)?.text, `${a.openobd.sessionId.slice(0, 8)} reused`);
    assert.equal(started.length, 2);
  });

  it('reuse, two clicks at once: both messages get the one session (no "ticket busy" for our own start in flight)', async function () {
    helper.settings(FAST_SETTINGS as never);
    await helper.load([openobdNodes, catchNode] as never, flow('reuse') as never);
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
    helper.settings(FAST_SETTINGS as never);
    await helper.load([openobdNodes, catchNode] as never, flow('restart') as never);
    const first = nextMessage(helper.getNode('started'));
    helper.getNode('start').receive({});
    const a = await first;
    const second = nextMessage(helper.getNode('started'));
    helper.getNode('start').receive({});
    const b = await second;
    assert.notEqual(b.openobd.sessionId, a.openobd.sessionId);
    assert.equal(b.openobd.reused, false);
    const sim = await simulator();
    assert.equal(sim.sessions.get(a.openobd.sessionId)?.state, 'interrupted');
    assert.equal(await activeOnSimulator(), 1);
    // The old session's id now says what happened to it.
    const caught = nextMessage(helper.getNode('caught'));
    helper.getNode('req').receive({ openobd: a.openobd });
    const c = await caught;
    assert.equal(c.error.code, 'SESSION_ENDED');
    assert.match(c.error.message, /ended by Node-RED to start a new session on the same vehicle/);
  });

  it('fail: a second start fails as openOBD says, "ticket busy", and the held session goes on', async function () {
    helper.settings(FAST_SETTINGS as never);
    await helper.load([openobdNodes, catchNode] as never, flow('fail') as never);
    const first = nextMessage(helper.getNode('started'));
    helper.getNode('start').receive({});
    const a = await first;
    const caught = nextMessage(helper.getNode('caught'));
    helper.getNode('start').receive({});
    const c = await caught;
    assert.equal(c.error.code, 'UNAVAILABLE');
    assert.equal(c.error.cause.situation, 'ticketBusy');
    assert.equal(statusHistory(helper.getNode('start')).at(-1)?.text, 'ticket busy');
    assert.ok(registry.get(a.openobd.sessionId)?.session.active);
  });

  it('the idle limit: a session no node used for the limit is ended; its nodes say so; a later message gets SESSION_ENDED "ended after … without use"', async function () {
    helper.settings(FAST_SETTINGS as never);
    // 0.01 min = 600 ms
    await helper.load([openobdNodes, catchNode] as never, flow('reuse', { idleMinutes: 0.01 }) as never);
    const first = nextMessage(helper.getNode('started'));
    helper.getNode('start').receive({});
    const a: AnyMsg = await first;
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
    const caught = nextMessage(helper.getNode('caught'));
    helper.getNode('req').receive({ openobd: a.openobd });
    const c = await caught;
    assert.equal(c.error.code, 'SESSION_ENDED');
    assert.match(c.error.message, /^Start a new session: session .* is interrupted \(ended after 1 s without use/);
  });

  it('the idle limit with the close policy "finish": finished with RESULT_FAILURE_RUNTIME_ERROR and a description', async function () {
    helper.settings(FAST_SETTINGS as never);
    await helper.load([openobdNodes, catchNode] as never, flow('reuse', { idleMinutes: 0.01, closePolicy: 'finish' }) as never);
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
