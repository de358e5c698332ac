import assert from 'node:assert/strict';
import { DEFAULT_SIMULATOR_CREDENTIALS, OpenObdSimulator } from '../../simulator';
import { ACCOUNT_SETTINGS } from '../../nodes/10-openobd-account/openobd-account';
import { FAST_SETTINGS, catchNode, helper, nextMessage, nodeRedDir, nodeRedVersion, openobdNodes, type AnyMsg } from '../support/nodered';
import { startSession } from '../support/flow-builder';

/** The account config node: where its credentials and settings come from, and what the editor is told. */
describe(`Node-RED ${nodeRedVersion()}: the account config node`, function () {
  this.timeout(30000);
  let sim: OpenObdSimulator | undefined;

  afterEach(async function () {
    await helper.unload();
    helper.settings({});
    await sim?.stop();
    sim = undefined;
  });

  /** A tab with environment variables, an account on it (custom endpoint) and a start node. */
  function flowWithEnv(port: number, env: Array<{ name: string; value: string }>, account: Record<string, unknown>) {
    return [
      { id: 'tab', type: 'tab', label: 'env', env: env.map((e) => ({ ...e, type: 'str' })) },
      {
        id: 'account',
        z: 'tab',
        type: 'openobd-account',
        mode: 'custom',
        host: '127.0.0.1',
        port,
        tls: false,
        closePolicy: 'interrupt',
        ...account,
      },
      startSession({ target: '1001', to: ['out'] }),
      { id: 'out', z: 'tab', type: 'helper', x: 0, y: 0 },
      { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, x: 0, y: 0, wires: [['caught']] },
      { id: 'caught', z: 'tab', type: 'helper', x: 0, y: 0 },
    ];
  }

  it("${NAME} in a credential field reads the variable from the flow's environment, not only the process", async function () {
    sim = new OpenObdSimulator();
    await sim.start();
    assert.equal(process.env.OBD_TEST_SECRET, undefined, 'not a process variable');
    helper.settings(FAST_SETTINGS as never);
    await helper.load(
      [openobdNodes, catchNode] as never,
      flowWithEnv(sim.port!, [{ name: 'OBD_TEST_SECRET', value: DEFAULT_SIMULATOR_CREDENTIALS.clientSecret }], {}) as never,
      {
        account: { clientId: DEFAULT_SIMULATOR_CREDENTIALS.clientId, clientSecret: '${OBD_TEST_SECRET}' },
      } as never,
    );
    const out = nextMessage(helper.getNode('out'));
    helper.getNode('start').receive({});
    const m = await out;
    assert.equal(m.openobd.state, 'active', 'the secret from the flow environment was accepted');
    assert.ok(!JSON.stringify(m).includes(DEFAULT_SIMULATOR_CREDENTIALS.clientSecret), 'and it is not in the message');
  });

  it('a cluster id of type "env" reads the named variable (literally, "MY_CLUSTER" would be refused)', async function () {
    sim = new OpenObdSimulator();
    await sim.start();
    helper.settings(FAST_SETTINGS as never);
    await helper.load(
      [openobdNodes, catchNode] as never,
      flowWithEnv(sim.port!, [{ name: 'MY_CLUSTER', value: DEFAULT_SIMULATOR_CREDENTIALS.clusterId }], {
        clusterId: 'MY_CLUSTER',
        clusterIdType: 'env',
      }) as never,
      { account: { clientId: DEFAULT_SIMULATOR_CREDENTIALS.clientId, clientSecret: DEFAULT_SIMULATOR_CREDENTIALS.clientSecret } } as never,
    );
    const out = nextMessage(helper.getNode('out'));
    helper.getNode('start').receive({});
    assert.equal((await out).openobd.state, 'active');
  });

  it('declares its settings.js entries the way Node-RED requires (named after the type, with a default)', function () {
    // The runtime's own rule for custom node settings (it only warns at load time, so it is applied here).
    const util = require(require.resolve('@node-red/util', { paths: [nodeRedDir()] })) as {
      util: { normaliseNodeTypeName(t: string): string };
    };
    const prefix = util.util.normaliseNodeTypeName('openobd-account');
    assert.equal(prefix, 'openobdAccount');
    for (const [name, setting] of Object.entries(ACCOUNT_SETTINGS)) {
      assert.ok(name.startsWith(prefix), `${name} starts with ${prefix}`);
      assert.deepEqual(setting.value, {}, `${name} has a default`);
      assert.equal(setting.exportable, false, `${name} stays on the server`);
    }
  });

  it("the editor's ticket choices are what the configured simulator has (settings.js openobdAccountSimulator.vehicles)", async function () {
    helper.settings({ openobdAccountSimulator: { vehicles: 5 } } as never);
    await helper.load([openobdNodes, catchNode] as never, [{ id: 'tab', type: 'tab' }] as never);
    const res = await helper.request().get('/openobd/simulator').expect(200);
    const body = res.body as AnyMsg;
    assert.equal(body.running, false, 'no account uses it yet');
    assert.deepEqual(body.tickets, ['1001', '1002', '1003', '1004', '1005', '2001', '2002']);
    assert.equal(body.connectors.length, 7);
    assert.equal(body.connectors[4], '00000000-0000-4000-8000-000000000005');
  });
});
