import assert from 'node:assert/strict';
import { registry } from '../../nodes/lib/registry';
import { baseFlow, helper, nextMessage, nodeRedVersion, nodeSuite, recordStatus, type AnyMsg } from '../support/nodered';
import { interrupt, sessionInfo, startSession } from '../support/flow-builder';

describe(`Node-RED ${nodeRedVersion()}: session info and interrupt on the built-in simulator`, function () {
  this.timeout(20000);
  const { load } = nodeSuite();

  it('session info lists and gets; interrupt ends a session and tells every node', async function () {
    await load(
      baseFlow([
        startSession({ targetType: 'connector', target: '00000000-0000-4000-8000-000000000001', to: ['started'] }),
        { id: 'started', type: 'helper' },
        sessionInfo({ id: 'list', action: 'list', to: ['listed'] }),
        sessionInfo({ to: ['got'] }),
        interrupt({ id: 'stop', to: ['stopped'] }),
        { id: 'listed', type: 'helper' },
        { id: 'got', type: 'helper' },
        { id: 'stopped', type: 'helper' },
      ]),
    );
    const started = nextMessage(helper.getNode('started'));
    helper.getNode('start').receive({});
    const s = await started;
    assert.equal(s.openobd.connectorId, '00000000-0000-4000-8000-000000000001');

    const listed = nextMessage(helper.getNode('listed'));
    helper.getNode('list').receive({});
    const l = await listed;
    assert.ok((l.payload as AnyMsg[]).some((x) => x.id === s.openobd.sessionId && x.state === 'active' && x.heldHere === true));

    const got = nextMessage(helper.getNode('got'));
    helper.getNode('get').receive({ openobd: { sessionId: s.openobd.sessionId } });
    const g = await got;
    assert.equal(g.payload.state, 'active');
    assert.equal(g.payload.keepalive, 'healthy');

    const startStatus = recordStatus(helper.getNode('start'));
    const stopped = nextMessage(helper.getNode('stopped'));
    helper.getNode('stop').receive({ openobd: { sessionId: s.openobd.sessionId } });
    const st = await stopped;
    assert.equal(st.openobd.state, 'interrupted');
    assert.equal(st.payload.state, 'interrupted');
    assert.equal(registry.get(s.openobd.sessionId), undefined);
    assert.deepEqual(
      startStatus.at(-1),
      { fill: 'grey', shape: 'ring', text: `${s.openobd.sessionId.slice(0, 8)} interrupted` },
      `the start node shows the end: ${JSON.stringify(startStatus)}`,
    );
    assert.ok(!startStatus.some((x) => /recovering/.test(x.text ?? '')), 'an interrupted session is not shown as recovering');
  });
});
