import assert from 'node:assert/strict';
import { helper, nextMessage, nodeRedVersion, statusHistory } from '../support/nodered';
import { VIN, procedureSuite, variables } from '../support/procedure-flows';
import { startSession } from '../support/flow-builder';

describe(`Node-RED ${nodeRedVersion()}: variables on the built-in simulator`, function () {
  this.timeout(30000);
  const { load } = procedureSuite();

  it('variables: set, get, list and delete in the function, global and connection contexts; bad input reaches Catch', async function () {
    await load([
      startSession({ target: '1001', to: ['set'] }),
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
