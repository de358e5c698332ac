import assert from 'node:assert/strict';
import { registry } from '../../nodes/lib/registry';
import { shown } from '../support/catalog';
import {
  baseFlow,
  helper,
  nextMessage,
  nodeRedVersion,
  nodeSuite,
  rawStatusHistory,
  recordStatus,
  statusHistory,
} from '../support/nodered';
import { chain, finish, request, startSession } from '../support/flow-builder';

const VIN = 'WVWZZZAU6KW204711';

describe(`Node-RED ${nodeRedVersion()}: start session on the built-in simulator`, function () {
  this.timeout(20000);
  const { load } = nodeSuite();

  it('start session → read VIN → finish: msg carries plain session data, the VIN decoded, the final state', async function () {
    await load(
      baseFlow([
        ...chain(
          startSession({ target: '1001', to: ['started'] }),
          request({ id: 'vin', request: '22 F1 90', to: ['read'] }),
          finish({ result: 'RESULT_SUCCESS', description: 'VIN read', to: ['finished'] }),
        ),
        { id: 'started', type: 'helper' },
        { id: 'read', type: 'helper' },
        { id: 'finished', type: 'helper' },
      ]),
    );
    const startStatus = recordStatus(helper.getNode('start'));
    const started = nextMessage(helper.getNode('started'));
    const read = nextMessage(helper.getNode('read'));
    const finished = nextMessage(helper.getNode('finished'));
    helper.getNode('start').receive({ payload: 'go' });

    const s = await started;
    assert.match(s.openobd.sessionId, /^[0-9a-f-]{36}$/);
    assert.equal(s.openobd.state, 'active');
    assert.equal(s.openobd.ticketId, '1001');
    assert.equal(typeof s.openobd.createdAt, 'string');
    assert.deepEqual(Object.keys(s.openobd).sort(), ['createdAt', 'reused', 'sessionId', 'state', 'ticketId']);
    assert.equal(s.openobd.reused, false);

    const r = await read;
    assert.equal(r.payload, '62F190' + Buffer.from(VIN).toString('hex').toUpperCase());
    assert.equal(r.openobd.response.positive, true);
    assert.equal(r.openobd.response.sid, '22');
    assert.equal(r.openobd.response.ecu.responseId, '7E8');
    assert.equal(r.openobd.response.ecu.name, 'Engine');
    assert.equal(r.openobd.response.decoded.vin, VIN);
    assert.equal(r.openobd.request.hex, '22F190');

    const f = await finished;
    assert.equal(f.openobd.state, 'finished');
    assert.deepEqual(f.openobd.result.result, ['RESULT_SUCCESS']);
    assert.equal(registry.get(s.openobd.sessionId), undefined, 'the finished session is released');
    // What a user sees on the start node: starting, the session active, then finished.
    const id8 = s.openobd.sessionId.slice(0, 8);
    const texts = startStatus.map((st) => st.text);
    assert.deepEqual(
      texts.slice(texts.indexOf('starting session')),
      ['starting session', `${id8} active`, `${id8} finished`],
      `statuses: ${JSON.stringify(startStatus)}`,
    );
    assert.deepEqual(startStatus.at(-1), { fill: 'grey', shape: 'dot', text: `${id8} finished` });
    // Plain data only: a structured clone would throw on sockets, streams or class instances with private state.
    structuredClone(f);
  });

  it("the start node shows the account's state before any message", async function () {
    await load(baseFlow([startSession({ target: '1001' })]));
    const node = helper.getNode('start');
    const deadline = Date.now() + 5000;
    while (!statusHistory(node).some((s) => s.fill === 'green') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const statuses = statusHistory(node);
    assert.deepEqual(statuses[0], { fill: 'yellow', shape: 'ring', text: 'connecting' }, 'connecting first');
    assert.deepEqual(statuses.at(-1), { fill: 'green', shape: 'dot', text: 'ready' }, JSON.stringify(statuses));
    // The runtime sends the fixed text as a catalog key, so a German browser shows it in German.
    const raw = rawStatusHistory(node).at(-1)?.text;
    assert.equal(raw, 'openobd.status.ready');
    assert.equal(shown(raw, 'de'), 'bereit');
  });
});
