import assert from 'node:assert/strict';
import { answerWords } from '../../nodes/30-openobd-request/answer-words';
import { translate } from '../support/catalog';
import {
  FAST_SETTINGS,
  baseFlow,
  catchNode,
  helper,
  nextMessage,
  nodeRedVersion,
  openobdNodes,
  statusHistory,
  type AnyMsg,
} from '../support/nodered';

/** Send request's status says what the car answered, in words, where the answer decodes; the hex only where it does not. */
describe(`Node-RED ${nodeRedVersion()}: send request's status in the car's words`, function () {
  this.timeout(30000);

  afterEach(async function () {
    await helper.unload();
    helper.settings({});
  });

  const flow = (request: string, ecu = 'engine') =>
    baseFlow([
      {
        id: 'start',
        type: 'openobd-start-session',
        account: 'account',
        targetType: 'ticket',
        target: '1001',
        targetSource: 'str',
        ifHeld: 'share',
        wires: [['req']],
      },
      {
        id: 'req',
        type: 'openobd-request',
        ecu,
        request,
        output: 'hex',
        negative: 'output',
        decode: true,
        outputs: 2,
        wires: [['ok'], ['nrc']],
      },
      { id: 'ok', type: 'helper' },
      { id: 'nrc', type: 'helper' },
    ]);

  async function statusAfter(request: string, out: 'ok' | 'nrc' = 'ok', ecu?: string): Promise<string | undefined> {
    helper.settings(FAST_SETTINGS as never);
    await helper.load([openobdNodes, catchNode] as never, flow(request, ecu) as never);
    const got: Promise<AnyMsg> = nextMessage(helper.getNode(out));
    helper.getNode('start').receive({});
    await got;
    // Per-message statuses are drawn at most every so often: wait for the answer's to replace the busy one.
    const last = () => statusHistory(helper.getNode('req')).at(-1)?.text;
    const deadline = Date.now() + 3000;
    while (/→/.test(last() ?? '→') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return last();
  }

  it('the VIN with the maker and model year', async function () {
    assert.equal(await statusAfter('22 F1 90'), 'VIN WVWZZZAU6KW204711 · Volkswagen 2019');
  });

  it('fault codes, counted with the plural of the catalog', async function () {
    assert.equal(await statusAfter('19 02 FF'), '3 DTCs: P0301, P0171, P0442');
  });

  it('live data with units', async function () {
    assert.match((await statusAfter('01 0C 0D 05')) ?? '', /^\d+(\.\d)? rpm · \d+ km\/h · -?\d+ °C$/);
  });

  it('a negative answer in words', async function () {
    assert.equal(await statusAfter('22 12 34', 'nrc'), 'NRC 31 request out of range');
  });

  it('the hex where nothing decodes to words', async function () {
    assert.match((await statusAfter('3E 00')) ?? '', /^7E00 \d+ ms$/);
  });

  it("keeps its own outcome when the session ends (the end shows on start and finish); the flow's next run clears it", async function () {
    helper.settings(FAST_SETTINGS as never);
    const f = flow('22 F1 90');
    (f.find((n) => n.id === 'req') as Record<string, unknown>).wires = [['fin'], ['nrc']];
    f.push({ id: 'fin', z: 'tab', x: 0, y: 0, type: 'openobd-finish', result: 'RESULT_SUCCESS', wires: [['ok']] });
    await helper.load([openobdNodes, catchNode] as never, f as never);
    const done = nextMessage(helper.getNode('ok'));
    helper.getNode('start').receive({});
    const first = await done;
    const id = (first.openobd.sessionId as string).slice(0, 8);
    const last = (node: string) => statusHistory(helper.getNode(node)).at(-1)?.text;
    const deadline = Date.now() + 3000;
    while ((last('start') !== `${id} finished` || /→/.test(last('req') ?? '→')) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200)); // anything that would still replace it has come by now
    assert.equal(last('start'), `${id} finished`);
    assert.equal(last('fin'), `${id} finished`);
    assert.equal(last('req'), 'VIN WVWZZZAU6KW204711 · Volkswagen 2019', 'the answer stays, not "finished"');
    // The next run: its new session clears what the finished run left on the request node.
    const second = nextMessage(helper.getNode('ok'));
    const req = helper.getNode('req');
    const cleared = new Promise<void>((resolve) =>
      (req as unknown as NodeJS.EventEmitter).on('call:status', (c: { args: Array<{ text?: string }> }) => {
        if (c.args[0]?.text === undefined) resolve();
      }),
    );
    helper.getNode('start').receive({});
    await cleared;
    await second;
  });

  it('in German from the German catalog, one and none', function () {
    const de = (key: string, subs?: Record<string, unknown>) => translate(key, subs, 'de');
    assert.equal(answerWords({ dtcs: [{ code: 'P0301-00' }, { code: 'U0100-87' }] }, de), '2 Fehlercodes: P0301, U0100');
    assert.equal(answerWords({ dtcs: ['P0301'] }, de), '1 Fehlercode: P0301');
    assert.equal(answerWords({ dtcs: [] }, de), 'keine Fehlercodes');
    assert.equal(answerWords({ resetType: 1, resetTypeName: 'hardReset' }, de), 'hard reset');
  });
});
