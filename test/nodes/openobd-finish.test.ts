import assert from 'node:assert/strict';
import { caughtFrom, flow, session } from '../support/error-flows';
import { catchNode, helper, nextMessage, nodeRedVersion, nodeSuite, openobdNodes } from '../support/nodered';

describe(`Node-RED ${nodeRedVersion()}: finish session, and its errors at Catch`, function () {
  this.timeout(20000);
  nodeSuite();

  it('SESSION_ENDED: a request or a second finish after finish', async function () {
    await helper.load([openobdNodes, catchNode] as never, flow() as never);
    const s = await session();
    const finished = nextMessage(helper.getNode('finished'));
    helper.getNode('finish').receive({ openobd: s.openobd, result: 'success' });
    assert.equal((await finished).openobd.state, 'finished');
    const c = await caughtFrom('req', { payload: '3E00', openobd: s.openobd });
    assert.equal(c.error.code, 'SESSION_ENDED');
    assert.match(c.error.message, /^Start a new session: session .* is finished/);
    assert.equal((await caughtFrom('finish', { openobd: s.openobd })).error.code, 'SESSION_ENDED');
  });

  it('BAD_REQUEST: a service result or user feedback out of range; the session stays usable', async function () {
    await helper.load([openobdNodes, catchNode] as never, flow() as never);
    const s = await session();
    const c = await caughtFrom('finish', { openobd: s.openobd, result: 'RESULT_MAYBE' });
    assert.equal(c.error.code, 'BAD_REQUEST');
    assert.match(c.error.message, /Unknown service result 'RESULT_MAYBE'/);
    assert.equal((await caughtFrom('finish', { openobd: s.openobd, result: 7 })).error.code, 'BAD_REQUEST');
    assert.equal((await caughtFrom('finish', { openobd: s.openobd, userFeedback: 'happy' })).error.code, 'BAD_REQUEST');
    const finished = nextMessage(helper.getNode('finished'));
    helper.getNode('finish').receive({
      openobd: s.openobd,
      result: 'failure_communication_error',
      userFeedback: 'assistance requested',
      description: 'ECU asleep',
    });
    const f = await finished;
    assert.deepEqual(f.openobd.result, {
      result: ['RESULT_FAILURE_COMMUNICATION_ERROR'],
      userFeedback: 'USER_FEEDBACK_ASSISTANCE_REQUESTED',
      description: 'ECU asleep',
    });
  });
});
