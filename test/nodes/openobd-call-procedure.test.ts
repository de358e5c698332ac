import assert from 'node:assert/strict';
import { helper, nextMessage, nodeRedVersion, statusHistory } from '../support/nodered';
import { finish, online, procedure, procedureSuite, variables } from '../support/procedure-flows';
import { startSession } from '../support/flow-builder';

describe(`Node-RED ${nodeRedVersion()}: call procedure on the built-in simulator`, function () {
  this.timeout(30000);
  const { load } = procedureSuite();

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
      startSession({ target: '1003', to: ['unknown'] }),
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
});
