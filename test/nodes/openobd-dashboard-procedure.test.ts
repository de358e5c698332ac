import assert from 'node:assert/strict';
import { baseFlow, helper, nextMessage, nodeRedVersion, statusHistory, type AnyMsg } from '../support/nodered';
import { SETTINGS, VIN, finish, online, procedure, procedureSuite, simulator, variables } from '../support/procedure-flows';
import { waitFor } from '../support/sim';
import { request, signIn, startNodeRed, unsupportedNode, nodeRedPackage } from '../support/nodered-server';
import { request as requestNode } from '../support/flow-builder';

describe(`Node-RED ${nodeRedVersion()}: dashboard procedure on the built-in simulator`, function () {
  this.timeout(30000);
  const { load } = procedureSuite();

  it('registers on deploy (registering → online); a run from the dashboard sends the handed-over session; finish ends only its context', async function () {
    await load([
      procedure('proc', 'Read VIN', [['vin', 'started']]),
      requestNode({ id: 'vin', request: '22 F1 90', to: ['result'] }),
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
