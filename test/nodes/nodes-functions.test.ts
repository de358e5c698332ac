import assert from 'node:assert/strict';
import { currentBuiltinSimulator } from '../../nodes/lib/builtin-simulator';
import {
  FAST_SETTINGS,
  baseFlow,
  catchNode,
  coreNode,
  helper,
  nextMessage,
  nodeRedVersion,
  openobdNodes,
  statusHistory,
  type AnyMsg,
} from '../support/nodered';
import { request, signIn, startNodeRed, unsupportedNode, nodeRedPackage } from '../support/nodered-server';
import { waitFor } from '../support/sim';
import type { OpenObdSimulator } from '../../simulator';

/*
 * dashboard procedure, call procedure and variables on the built-in simulator: registration and its
 * statuses, the identity kept as credentials, dashboard runs through the admin route, redeploys without
 * duplicates, calls between procedures and their errors, variables and results.
 */

const VIN = 'WVWZZZAU6KW204711';
const delayNode = coreNode('function/89-delay.js');
const SETTINGS = {
  ...FAST_SETTINGS,
  openobdAccountFunctionBroker: { reconnect: { initialDelayMs: 20, maxDelayMs: 200 }, closeGraceMs: 200 },
};

type Def = Record<string, unknown>;

function procedure(id: string, functionName: string, wires: string[][], over: Def = {}): Def {
  return {
    id,
    type: 'openobd-dashboard-procedure',
    account: 'account',
    functionName,
    description: '',
    version: '1.0',
    visibility: 'dashboard',
    wires,
    ...over,
  };
}

function variables(id: string, operation: string, key: string, wires: string[][], over: Def = {}): Def {
  return {
    id,
    type: 'openobd-variables',
    operation,
    context: 'function',
    key,
    keySource: 'str',
    value: 'payload',
    valueSource: 'msg',
    prefix: '',
    wires,
    ...over,
  };
}

const finish = (id: string, wires: string[][], description = 'done'): Def => ({
  id,
  type: 'openobd-finish',
  result: 'RESULT_SUCCESS',
  userFeedback: '',
  description,
  descriptionSource: 'str',
  wires,
});

async function simulator(): Promise<OpenObdSimulator> {
  for (let i = 0; i < 200; i++) {
    const sim = await currentBuiltinSimulator();
    if (sim) return sim;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('the built-in simulator did not start');
}

/*
 * Waits until the procedure is online on the built-in simulator. The simulator is looked up on every try:
 * after an unload the last account stops it and the next load starts a new one, so one taken too early
 * may be the one about to stop.
 */
async function online(name: string): Promise<{ sim: OpenObdSimulator; id: string }> {
  const deadline = Date.now() + 10000;
  for (;;) {
    const sim = await currentBuiltinSimulator();
    const registration = sim
      ? [...sim.functions.registrations.values()].find((r) => r.details.name === name && r.state === 'FUNCTION_REGISTRATION_STATE_ONLINE')
      : undefined;
    if (sim && registration) return { sim, id: registration.details.id };
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${name} online`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe(`Node-RED ${nodeRedVersion()}: dashboard procedure, call procedure, variables`, function () {
  this.timeout(30000);

  beforeEach(function () {
    helper.settings(SETTINGS as never);
  });

  afterEach(async function () {
    await helper.unload();
    helper.settings({});
  });

  function load(flow: Def[], credentials: Record<string, unknown> = {}) {
    return helper.load([openobdNodes, catchNode, delayNode] as never, baseFlow(flow) as never, credentials as never);
  }

  it('registers on deploy (registering → online); a run from the dashboard sends the handed-over session; finish ends only its context', async function () {
    await load([
      procedure('proc', 'Read VIN', [['vin', 'started']]),
      {
        id: 'vin',
        type: 'openobd-request',
        ecu: 'engine',
        request: '22 F1 90',
        output: 'hex',
        negative: 'error',
        decode: true,
        outputs: 1,
        wires: [['result']],
      },
      variables('result', 'result', 'vin', [['fin']], { value: 'openobd.response.decoded.vin' }),
      finish('fin', [['finished']], 'VIN read'),
      { id: 'started', type: 'helper' },
      { id: 'finished', type: 'helper' },
    ]);
    const { sim, id } = await online('Read VIN');
    await waitFor(() => statusHistory(helper.getNode('proc')).at(-1)?.text === 'online', 5000, 'the status online');
    const texts = statusHistory(helper.getNode('proc')).map((s) => s.text);
    assert.ok(texts.includes('registering') && texts.at(-1) === 'online', texts.join(' | '));
    const started = nextMessage(helper.getNode('started'));
    const finished = nextMessage(helper.getNode('finished'));
    // As a person pressing Run in the sidebar's ticket dashboard.
    const ran = await helper.request().post('/openobd/simulator/run').send({ ticketId: '1001', functionId: id }).expect(200);
    assert.equal(ran.body.run.state, 'running');
    const s = await started;
    assert.match(s.openobd.sessionId, /^[0-9a-f-]{36}$/);
    assert.equal(s.openobd.functionId, id);
    assert.equal(s.openobd.callerId, 'ticket-dashboard');
    assert.equal(s.openobd.state, 'active');
    assert.deepEqual(s.payload, {});
    const f = await finished;
    assert.equal(f.openobd.state, 'finished');
    const run = sim.functions.runs.get(`1001/${id}`)!;
    await waitFor(() => run.state === 'finished', 5000, 'the run');
    assert.deepEqual(run.result?.result, ['RESULT_SUCCESS']);
    assert.equal(run.results?.vin, VIN);
    // The sidebar view has the dashboard's part: the function, and the run on its ticket.
    const view = (await helper.request().get('/openobd/simulator/view').expect(200)).body;
    assert.deepEqual(
      view.functions.map((x: AnyMsg) => [x.name, x.state]),
      [['Read VIN', 'online']],
    );
    assert.equal(view.cars.find((c: AnyMsg) => c.ticketId === '1001').runs[0].state, 'finished');
    assert.equal(statusHistory(helper.getNode('proc')).at(-1)?.text, 'online, 1 run');
    const json = JSON.stringify(s);
    for (const token of sim.issuedTokenHistory()) assert.ok(!json.includes(token), 'no token in msg');
  });

  it('keeps the id and signature given as credentials; a wrong signature shows "unauthorized"', async function () {
    const sim = await (async () => {
      await load([procedure('a', 'Kept', [[]])]);
      return simulator();
    })();
    const identity = sim.functions.generateSignature('simulator-partner');
    await helper.unload();
    helper.settings(SETTINGS as never);
    await load([procedure('a', 'Kept', [[]]), procedure('b', 'Forged', [[]])], {
      a: { functionId: identity.id, signature: identity.signature },
      b: { functionId: identity.id.replace(/^./, (c) => (c === '9' ? '8' : '9')), signature: 'forged' }, // another id
    });
    const { id } = await online('Kept');
    assert.equal(id, identity.id);
    await waitFor(() => statusHistory(helper.getNode('b')).at(-1)?.text === 'unauthorized', 10000, 'unauthorized');
  });

  it("the edit dialog's identity route: a new identity from the deployed account or from an account not deployed yet, none for a node that has one", async function () {
    await load([procedure('p', 'Has one', [[]])]);
    const { id } = await online('Has one');
    const route = () => helper.request().post('/openobd/procedures/identity');
    // The node is deployed with an identity: the runtime keeps it and does not hand out its signature.
    const kept = await route().send({ account: 'account', node: 'p' }).expect(200);
    assert.deepEqual(kept.body, { functionId: id, kept: true });
    // A new node, with the deployed account: a new identity the broker accepts.
    const fresh = (await route().send({ account: 'account', node: 'new-node' }).expect(200)).body as {
      functionId: string;
      signature: string;
    };
    assert.notEqual(fresh.functionId, id);
    // An account the editor has but the runtime does not (imported with the procedure): its draft is used.
    const drafted = (
      await route()
        .send({ account: 'not-deployed', node: 'new-node', draft: { mode: 'simulator' } })
        .expect(200)
    ).body as {
      functionId: string;
      signature: string;
    };
    assert.match(drafted.functionId, /^[0-9a-f-]{36}$/);
    assert.notEqual(drafted.functionId, fresh.functionId);
    const none = await route().send({ account: 'not-deployed', node: 'new-node' }).expect(409);
    assert.match(none.body.error, /account/);
    // Both identities register: what the dialog puts into the credentials is what the first deploy hosts.
    await helper.unload();
    helper.settings(SETTINGS as never);
    await load([procedure('a', 'From the dialog', [[]]), procedure('b', 'From a draft', [[]])], {
      a: fresh,
      b: drafted,
    });
    assert.equal((await online('From the dialog')).id, fresh.functionId);
    assert.equal((await online('From a draft')).id, drafted.functionId);
    const log = JSON.stringify(helper.log().args);
    assert.ok(!log.includes(fresh.signature) && !log.includes(drafted.signature), 'no signature in the log');
    assert.ok(!log.includes('New function identity'), 'no identity made on deploy');
  });

  it('a redeploy of the procedure sets it offline, then online again: one registration, one function stream', async function () {
    const flow = [procedure('p', 'Redeployed', [['out']]), { id: 'out', type: 'helper' }];
    await load(flow);
    const { sim, id } = await online('Redeployed');
    for (let i = 0; i < 3; i++) {
      await helper.setFlows(
        baseFlow([procedure('p', 'Redeployed', [['out']], { description: `deploy ${i}` }), { id: 'out', type: 'helper' }]) as never,
        'nodes',
      );
      await waitFor(
        () =>
          [...sim.functions.registrations.values()].some(
            (r) => r.details.description === `deploy ${i}` && r.state === 'FUNCTION_REGISTRATION_STATE_ONLINE',
          ),
        10000,
        `deploy ${i} online`,
      );
    }
    const named = [...sim.functions.registrations.values()].filter((r) => r.details.name === 'Redeployed');
    assert.equal(named.length, 1, 'no duplicate registration');
    assert.equal(named[0]!.details.id, id, 'the same identity across redeploys');
    assert.equal(sim.stats().streams.function, 1);
  });

  it('call procedure: a procedure calls another on its session, with arguments; the result comes back in msg.payload', async function () {
    await load([
      procedure('caller', 'Caller', [['call']]),
      {
        id: 'call',
        type: 'openobd-call-procedure',
        account: 'account',
        procedure: 'callee',
        procedureSource: 'node',
        arguments: '{"ecu":"engine","depth":2}',
        argumentsSource: 'json',
        timeout: '20',
        wires: [['fin1', 'called']],
      },
      finish('fin1', [[]]),
      procedure('callee', 'Callee', [['args']], { visibility: 'internal' }),
      variables('args', 'arguments', '', [['seen', 'res']]),
      variables('res', 'result', 'echo', [['fin2']]),
      finish('fin2', [[]], 'callee done'),
      { id: 'seen', type: 'helper' },
      { id: 'called', type: 'helper' },
    ]);
    const { sim, id } = await online('Caller');
    await online('Callee');
    const seen = nextMessage(helper.getNode('seen'));
    const called = nextMessage(helper.getNode('called'));
    await sim.functions.runFromDashboard('1002', id);
    assert.deepEqual((await seen).payload, { ecu: 'engine', depth: '2' });
    const c = await called;
    assert.equal(c.payload.success, true);
    assert.deepEqual(c.payload.serviceResult, { result: ['RESULT_SUCCESS'], description: 'callee done' });
    assert.deepEqual(c.payload.results, { echo: { ecu: 'engine', depth: '2' } });
    assert.equal(c.openobd.call.name, 'Callee');
    assert.equal(c.openobd.state, 'active', 'the caller has its session back');
    assert.match(statusHistory(helper.getNode('call')).at(-1)?.text ?? '', /^done: SUCCESS/);
  });

  it('call procedure errors reach Catch: an unknown function (FUNCTION_REFUSED), a slow one (FUNCTION_TIMEOUT), no session', async function () {
    await load([
      {
        id: 'start',
        type: 'openobd-start-session',
        account: 'account',
        targetType: 'ticket',
        target: '1003',
        targetSource: 'str',
        wires: [['unknown']],
      },
      {
        id: 'unknown',
        type: 'openobd-call-procedure',
        account: 'account',
        procedure: '00000000-0000-4000-8000-0000000000aa',
        procedureSource: 'str',
        arguments: '',
        argumentsSource: 'none',
        timeout: '',
        wires: [[]],
      },
      {
        id: 'slowcall',
        type: 'openobd-call-procedure',
        account: 'account',
        procedure: 'slow',
        procedureSource: 'node',
        arguments: '',
        argumentsSource: 'none',
        timeout: '1',
        wires: [[]],
      },
      procedure('slow', 'Slow', [['wait']]),
      {
        id: 'wait',
        type: 'delay',
        pauseType: 'delay',
        timeout: '2',
        timeoutUnits: 'seconds',
        rate: '1',
        nbRateUnits: '1',
        rateUnits: 'second',
        randomFirst: '1',
        randomLast: '5',
        randomUnits: 'seconds',
        drop: false,
        wires: [['fin']],
      },
      finish('fin', [[]]),
    ]);
    await online('Slow');
    let caught = nextMessage(helper.getNode('caught'));
    helper.getNode('start').receive({ payload: 1 });
    let e = await caught;
    assert.equal(e.error.code, 'FUNCTION_REFUSED');
    assert.match(e.error.message, /could not be run: .*No function/);
    assert.equal(statusHistory(helper.getNode('unknown')).at(-1)?.text, 'call refused');
    const sessionId = e.openobd.sessionId;
    caught = nextMessage(helper.getNode('caught'));
    helper.getNode('slowcall').receive({ openobd: { sessionId } });
    e = await caught;
    assert.equal(e.error.code, 'FUNCTION_TIMEOUT');
    assert.equal(statusHistory(helper.getNode('slowcall')).at(-1)?.text, 'no result in time');
    caught = nextMessage(helper.getNode('caught'));
    helper.getNode('slowcall').receive({ payload: 'x' });
    assert.equal((await caught).error.code, 'NO_SESSION');
  });

  it('variables: set, get, list and delete in the function, global and connection contexts; bad input reaches Catch', async function () {
    await load([
      {
        id: 'start',
        type: 'openobd-start-session',
        account: 'account',
        targetType: 'ticket',
        target: '1001',
        targetSource: 'str',
        wires: [['set']],
      },
      variables('set', 'set', 'result:check', [['setGlobal']]),
      variables('setGlobal', 'set', 'note', [['get']], { context: 'global', value: 'written by a test', valueSource: 'str' }),
      variables('get', 'get', 'result:check', [['got', 'list']]),
      variables('list', 'list', '', [['listed', 'conn']], { prefix: 'result:' }),
      variables('conn', 'get', 'vehicle:info:vin', [['vin', 'del']], { context: 'connection' }),
      variables('del', 'delete', 'result:check', [['deleted', 'again']]),
      variables('again', 'get', 'result:check', [['gone']]),
      {
        id: 'bad',
        type: 'openobd-variables',
        operation: 'set',
        context: 'function',
        key: '',
        keySource: 'str',
        value: 'payload',
        valueSource: 'msg',
        prefix: '',
        wires: [[]],
      },
      ...['got', 'listed', 'vin', 'deleted', 'gone'].map((id) => ({ id, type: 'helper' })),
    ]);
    const got = nextMessage(helper.getNode('got'));
    const listed = nextMessage(helper.getNode('listed'));
    const vin = nextMessage(helper.getNode('vin'));
    const deleted = nextMessage(helper.getNode('deleted'));
    const gone = nextMessage(helper.getNode('gone'));
    helper.getNode('start').receive({ payload: { dtcs: 3, ok: true } });
    const g = await got;
    assert.deepEqual(g.payload, { dtcs: 3, ok: true });
    assert.deepEqual(g.openobd.variable, { key: 'result:check', context: 'function', found: true });
    assert.deepEqual((await listed).payload, { 'result:check': { dtcs: 3, ok: true } });
    assert.equal((await vin).payload, VIN);
    assert.equal((await deleted).openobd.variable.deleted, true);
    const n = await gone;
    assert.equal(n.payload, null);
    assert.equal(n.openobd.variable.found, false);
    assert.equal(statusHistory(helper.getNode('again')).at(-1)?.text, 'no result:check');
    const caught = nextMessage(helper.getNode('caught'));
    helper.getNode('bad').receive({ payload: 1, openobd: { sessionId: n.openobd.sessionId } });
    const e = await caught;
    assert.equal(e.error.code, 'BAD_REQUEST');
    assert.match(e.error.message, /variable key is empty/);
  });
});

describe(`Node-RED ${nodeRedVersion()}: the identity route needs the procedure's write permission`, function () {
  this.timeout(180000);
  // bcrypt of "openobd-test" (cost 8), as settings.js adminAuth expects.
  const HASH = '$2b$08$mxsno6pktee9Yal1c5414.DHCK2JrmxFwOG1DQhUk8kMlIeZj4aWq';
  let server: Awaited<ReturnType<typeof startNodeRed>> | undefined;

  before(async function () {
    const unsupported = unsupportedNode(nodeRedPackage());
    if (unsupported) throw new Error(unsupported);
    server = await startNodeRed({
      settings: {
        adminAuth: {
          type: 'credentials',
          users: [
            { username: 'reader', password: HASH, permissions: 'read' },
            { username: 'flows', password: HASH, permissions: ['read', 'openobd-account.write'] },
            { username: 'procedures', password: HASH, permissions: ['read', 'openobd-dashboard-procedure.write'] },
          ],
        },
      },
    });
  });

  after(async function () {
    await server?.stop();
  });

  async function token(username: string): Promise<string> {
    const bearer = await signIn(server!.url, username, 'openobd-test');
    assert.ok(bearer, `${username} could not sign in`);
    return bearer;
  }

  const ask = (bearer?: string) =>
    request(`${server!.url}openobd/procedures/identity`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
      body: JSON.stringify({ account: 'imported', node: 'new-node', draft: { mode: 'simulator' } }),
      timeoutMs: 30000,
    });

  it('refused without a sign-in and without openobd-dashboard-procedure.write; answered with it, and the signature is not logged', async function () {
    assert.equal((await ask()).status, 401);
    for (const user of ['reader', 'flows']) {
      const refused = await ask(await token(user));
      assert.ok(refused.status === 401 || refused.status === 403, `${user} is refused (${refused.status})`);
      assert.ok(!/signature/.test(refused.body), refused.body);
    }
    const answered = await ask(await token('procedures'));
    assert.equal(answered.status, 200, answered.body);
    const identity = answered.json<{ functionId: string; signature: string }>();
    assert.match(identity.functionId, /^[0-9a-f-]{36}$/);
    assert.ok(identity.signature.length > 20);
    assert.ok(!server!.output().includes(identity.signature), 'no signature in the Node-RED log');
  });
});
