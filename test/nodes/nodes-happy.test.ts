import assert from 'node:assert/strict';
import { shown } from '../support/catalog';
import {
  FAST_SETTINGS,
  baseFlow,
  catchNode,
  helper,
  nextMessage,
  nodeRedVersion,
  openobdNodes,
  rawStatusHistory,
  recordStatus,
  statusHistory,
  type AnyMsg,
} from '../support/nodered';
import { registry } from '../../nodes/lib/registry';

const VIN = 'WVWZZZAU6KW204711';

describe(`Node-RED ${nodeRedVersion()}: the flow nodes on the built-in simulator`, function () {
  this.timeout(20000);

  beforeEach(function () {
    helper.settings(FAST_SETTINGS as never);
  });

  afterEach(async function () {
    await helper.unload();
    helper.settings({});
  });

  function load(flow: Array<Record<string, unknown>>) {
    return helper.load([openobdNodes, catchNode] as never, flow as never);
  }

  it('start session → read VIN → finish: msg carries plain session data, the VIN decoded, the final state', async function () {
    await load(
      baseFlow([
        {
          id: 'start',
          type: 'openobd-start-session',
          account: 'account',
          targetType: 'ticket',
          target: '1001',
          targetSource: 'str',
          wires: [['started', 'vin']],
        },
        {
          id: 'vin',
          type: 'openobd-request',
          ecu: 'engine',
          request: '22 F1 90',
          output: 'hex',
          negative: 'error',
          decode: true,
          outputs: 1,
          wires: [['read', 'finish']],
        },
        {
          id: 'finish',
          type: 'openobd-finish',
          result: 'RESULT_SUCCESS',
          userFeedback: '',
          description: 'VIN read',
          descriptionSource: 'str',
          wires: [['finished']],
        },
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

  it("a functional OBD request gives every ECU's answer", async function () {
    await load(
      baseFlow([
        {
          id: 'start',
          type: 'openobd-start-session',
          account: 'account',
          targetType: 'ticket',
          target: '1002',
          targetSource: 'str',
          wires: [['pids']],
        },
        {
          id: 'pids',
          type: 'openobd-request',
          ecu: 'obd',
          request: '',
          output: 'hex',
          negative: 'error',
          decode: true,
          outputs: 1,
          wires: [['out']],
        },
        { id: 'out', type: 'helper' },
      ]),
    );
    const out = nextMessage(helper.getNode('out'));
    helper.getNode('start').receive({ payload: '0100' });
    const m = await out;
    assert.ok(Array.isArray(m.payload));
    const ids = (m.openobd.responses as AnyMsg[]).map((r) => r.ecu.responseId).sort();
    assert.deepEqual(ids, ['7E8', '7E9']);
    for (const r of m.openobd.responses as AnyMsg[]) assert.ok(Array.isArray(r.decoded.supportedPids));
  });

  it('a ticket from msg.payload; a request given as a byte array in msg.payload; a Buffer answer', async function () {
    await load(
      baseFlow([
        {
          id: 'start',
          type: 'openobd-start-session',
          account: 'account',
          targetType: 'ticket',
          target: 'payload',
          targetSource: 'msg',
          wires: [['started']],
        },
        {
          id: 'req',
          type: 'openobd-request',
          ecu: 'engine',
          request: '',
          output: 'buffer',
          negative: 'error',
          decode: true,
          outputs: 1,
          wires: [['out']],
        },
        { id: 'started', type: 'helper' },
        { id: 'out', type: 'helper' },
      ]),
    );
    const started = nextMessage(helper.getNode('started'));
    helper.getNode('start').receive({ payload: 1003 });
    const s = await started;
    assert.equal(s.openobd.ticketId, '1003');
    const out = nextMessage(helper.getNode('out'));
    helper.getNode('req').receive({ openobd: s.openobd, payload: [0x22, 0xf1, 0x87] });
    const m = await out;
    assert.ok(Buffer.isBuffer(m.payload));
    assert.equal(m.payload.subarray(0, 3).toString('hex'), '62f187');
    assert.equal(m.openobd.response.decoded.did, 'F187');
  });

  it('session info lists and gets; interrupt ends a session and tells every node', async function () {
    await load(
      baseFlow([
        {
          id: 'start',
          type: 'openobd-start-session',
          account: 'account',
          targetType: 'connector',
          target: '00000000-0000-4000-8000-000000000001',
          targetSource: 'str',
          wires: [['started']],
        },
        { id: 'started', type: 'helper' },
        {
          id: 'list',
          type: 'openobd-session-info',
          account: 'account',
          action: 'list',
          sessionId: '',
          sessionIdSource: 'str',
          wires: [['listed']],
        },
        {
          id: 'get',
          type: 'openobd-session-info',
          account: 'account',
          action: 'get',
          sessionId: '',
          sessionIdSource: 'str',
          wires: [['got']],
        },
        { id: 'stop', type: 'openobd-interrupt', account: 'account', sessionId: '', sessionIdSource: 'str', wires: [['stopped']] },
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

  it("the start node shows the account's state before any message", async function () {
    await load(
      baseFlow([
        {
          id: 'start',
          type: 'openobd-start-session',
          account: 'account',
          targetType: 'ticket',
          target: '1001',
          targetSource: 'str',
          wires: [[]],
        },
      ]),
    );
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
