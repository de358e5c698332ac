import assert from 'node:assert/strict';
import type { SimulatorOptions } from '../../simulator';
import { currentBuiltinSimulator } from '../../nodes/lib/builtin-simulator';
import {
  FAST_SETTINGS,
  baseFlow,
  catchNode,
  collect,
  helper,
  nextMessage,
  nodeRedVersion,
  openobdNodes,
  statusHistory,
  type AnyMsg,
} from '../support/nodered';
import { waitFor } from '../support/sim';
import { startSession } from '../support/flow-builder';

/*
 * "ask technician" on the built-in simulator: every control type, answered by the simulator's script or
 * through the technician view's admin routes (as a person clicking in the editor), the outputs, the
 * statuses, the timeout, a replaced control, the session's end and invalid controls.
 */

type Def = Record<string, unknown>;

/** An ask node with every property at its default, overridden by `over`. */
function askNode(over: Def): Def {
  return {
    id: 'ask',
    type: 'openobd-ask-technician',
    name: '',
    controlType: 'yesno',
    text: 'Is the ignition on?',
    textSource: 'str',
    options: [],
    optionsSource: 'list',
    optionsProperty: '',
    optionOutputs: 'single',
    minimum: '0',
    minimumSource: 'num',
    maximum: '100',
    maximumSource: 'num',
    displayTime: '',
    image: '',
    imageSource: 'str',
    target: 'mechanic',
    translations: [],
    timeout: '',
    outputs: 1,
    ...over,
  };
}

function settings(ui: SimulatorOptions['ui']) {
  return { ...FAST_SETTINGS, openobdAccountSimulator: { ...FAST_SETTINGS.openobdAccountSimulator, ui } };
}

describe(`Node-RED ${nodeRedVersion()}: ask technician`, function () {
  this.timeout(20000);

  afterEach(async function () {
    await helper.unload();
    helper.settings({});
  });

  /** start session → ask (with `over`) → out0, out1, ... ; the Catch node goes to `caught`. */
  async function load(over: Def, outputs = 1, extra: Def[] = []): Promise<void> {
    const outs = Array.from({ length: outputs }, (_, i) => `out${i}`);
    await helper.load(
      [openobdNodes, catchNode] as never,
      baseFlow([
        startSession({ target: '1001', to: ['ask'] }),
        askNode({ outputs, ...over, wires: outs.map((o) => [o]) }),
        ...outs.map((id) => ({ id, type: 'helper' })),
        ...extra,
      ]) as never,
    );
  }

  function start(msg: AnyMsg = {}): void {
    helper.getNode('start').receive({ payload: 'go', ...msg });
  }

  describe('scripted answers', function () {
    const cases: Array<{
      title: string;
      over: Def;
      answers?: unknown[];
      outputs?: number;
      out?: number;
      payload?: unknown;
      ui: Def;
      status: string;
    }> = [
      {
        title: 'yes/no answered yes: output 1, msg.payload true',
        over: { controlType: 'yesno' },
        answers: [true],
        outputs: 2,
        out: 0,
        payload: true,
        ui: { type: 'yesno', label: 'Is the ignition on?', answer: true, target: 'mechanic' },
        status: 'answered yes',
      },
      {
        title: 'yes/no answered no: output 2, msg.payload false',
        over: { controlType: 'yesno', text: 'Engine running?' },
        answers: [false],
        outputs: 2,
        out: 1,
        payload: false,
        ui: { type: 'yesno', label: 'Engine running?', answer: false },
        status: 'answered no',
      },
      {
        title: 'options on one output: msg.payload = { index, label }',
        over: { controlType: 'options', text: 'Gearbox?', options: ['manual', 'automatic', 'CVT'] },
        answers: [1],
        payload: { index: 1, label: 'automatic' },
        ui: { type: 'options', answer: 1, index: 1, option: 'automatic' },
        status: 'answered 2: automatic',
      },
      {
        title: 'options with one output per option: the chosen output',
        over: { controlType: 'options', text: 'Gearbox?', options: ['manual', 'automatic', 'CVT'], optionOutputs: 'each' },
        answers: [2],
        outputs: 3,
        out: 2,
        payload: { index: 2, label: 'CVT' },
        ui: { type: 'options', index: 2, option: 'CVT' },
        status: 'answered 3: CVT',
      },
      {
        title: 'options from msg.payload.choices',
        over: { controlType: 'options', text: 'Which ECU?', optionsSource: 'msg', optionsProperty: 'payload.choices' },
        answers: [0],
        payload: { index: 0, label: 'engine' },
        ui: { type: 'options', option: 'engine' },
        status: 'answered 1: engine',
      },
      {
        title: 'free text with a value of msg in the question',
        over: { controlType: 'freetext', text: 'Coolant is {{payload.coolant}} °C. Anything unusual?' },
        answers: ['Fan is loud'],
        payload: 'Fan is loud',
        ui: { type: 'freetext', label: 'Coolant is 92 °C. Anything unusual?', answer: 'Fan is loud' },
        status: 'answered Fan is loud',
      },
      {
        title: 'a number within limits from msg',
        over: { controlType: 'number', text: 'Mileage in km?', minimum: '1000', maximum: 'payload.max', maximumSource: 'msg' },
        answers: [123456],
        payload: 123456,
        ui: { type: 'number', answer: 123456 },
        status: 'answered 123456',
      },
      {
        title: 'continue leaves msg.payload as it was',
        over: { controlType: 'continue', text: 'Switch the ignition on, then continue', target: 'operator' },
        payload: 'go',
        ui: { type: 'continue', answer: null, target: 'operator' },
        status: 'continued',
      },
      {
        title: 'a label is shown for its display time and leaves msg.payload as it was',
        over: { controlType: 'label', text: 'Reading the fault memory', displayTime: '1' },
        payload: 'go',
        ui: { type: 'label', answer: null },
        status: 'shown',
      },
    ];
    for (const c of cases) {
      it(c.title, async function () {
        helper.settings(settings({ mode: 'script', answerDelayMs: 10, answers: (c.answers ?? []) as never }) as never);
        await load(c.over, c.outputs ?? 1);
        const all = Array.from({ length: c.outputs ?? 1 }, (_, i) => collect(helper.getNode(`out${i}`)));
        const got = nextMessage(helper.getNode(`out${c.out ?? 0}`));
        const started = Date.now();
        start({
          payload:
            c.over.controlType === 'continue' || c.over.controlType === 'label'
              ? 'go'
              : { coolant: 92, choices: ['engine', 'gearbox'], max: 999999 },
        });
        const m = await got;
        assert.deepEqual(m.payload, c.payload);
        for (const [k, v] of Object.entries(c.ui)) assert.deepEqual(m.openobd.ui[k], v, `msg.openobd.ui.${k}`);
        assert.equal(typeof m.openobd.ui.elapsedMs, 'number');
        if (c.over.controlType === 'label') assert.ok(Date.now() - started >= 950, 'the label stayed for its display time');
        const texts = statusHistory(helper.getNode('ask')).map((s) => s.text);
        assert.ok(texts.includes('waiting for technician'), texts.join(' | '));
        assert.equal(texts.at(-1), c.status);
        // Plain data only: the answer and what was asked, no token of any kind.
        const sim = await currentBuiltinSimulator();
        const json = JSON.stringify(m);
        for (const token of sim!.issuedTokenHistory()) assert.ok(!json.includes(token), 'no token in msg');
        assert.deepEqual(
          all.map((a) => a.length),
          all.map((_, i) => (i === (c.out ?? 0) ? 1 : 0)),
          'only the chosen output sent',
        );
      });
    }
  });

  describe('answered in the technician view (interactive)', function () {
    beforeEach(function () {
      helper.settings(settings({ mode: 'interactive' }) as never);
    });

    it('the view shows the control with its image and translation; an answer posted to the admin route sends the flow on', async function () {
      await load(
        {
          controlType: 'options',
          text: 'Which wheel?',
          options: ['front left', 'front right'],
          image: 'https://example.com/wheels.png',
          translations: [{ language: 'de', text: 'Welches Rad?' }],
        },
        1,
      );
      const got = nextMessage(helper.getNode('out0'));
      start();
      const sim = (await waitForSim())!;
      await waitFor(() => !!sim.technician.current('1001'), 5000, 'the control on the screen');
      const view = (await helper.request().get('/openobd/simulator/view').expect(200)).body;
      assert.equal(view.running, true);
      assert.equal(view.mode, 'interactive');
      const car = view.cars.find((c: AnyMsg) => c.ticketId === '1001');
      assert.equal(car.session.state, 'active');
      assert.equal(car.ignitionOn, true);
      assert.equal(car.control.type, 'options');
      assert.deepEqual(car.control.options, ['front left', 'front right']);
      assert.equal(car.control.image, 'https://example.com/wheels.png');
      assert.deepEqual(car.control.translations, [{ label: 'Which wheel?', translations: [{ language: 'de', label: 'Welches Rad?' }] }]);
      assert.ok(!JSON.stringify(view).match(new RegExp(sim.issuedTokenHistory().join('|'))), 'no token in the view');
      // Answers the control does not allow are refused, and the flow still waits.
      const bad = await helper
        .request()
        .post('/openobd/simulator/answer')
        .send({ ticketId: '1001', seq: car.control.seq, value: 7 })
        .expect(400);
      assert.match(bad.body.error, /Choose an option from 0 to 1/);
      await helper.request().post('/openobd/simulator/answer').send({ ticketId: '1001', seq: car.control.seq, value: 1 }).expect(200);
      const m = await got;
      assert.deepEqual(m.payload, { index: 1, label: 'front right' });
      const after = (await helper.request().get('/openobd/simulator/view').expect(200)).body.cars[0];
      assert.equal(after.control.answer.by, 'technician');
      assert.equal(
        (await helper.request().post('/openobd/simulator/answer').send({ ticketId: '1001', value: 0 })).status,
        409,
        'already answered',
      );
    });

    it('the ignition is switched from the view: with it off the engine does not answer', async function () {
      await load({ controlType: 'continue', text: 'go' });
      start();
      const sim = (await waitForSim())!;
      await helper.request().post('/openobd/simulator/ignition').send({ ticketId: '1001', on: false }).expect(200);
      assert.equal(sim.connectors.get(sim.tickets.get('1001')!.connectorId)!.vehicle.ignitionOn, false);
      const view = (await helper.request().get('/openobd/simulator/view').expect(200)).body;
      assert.equal(view.cars[0].ignitionOn, false);
      await helper.request().post('/openobd/simulator/ignition').send({ ticketId: '1001', on: 'yes' }).expect(400);
      await helper.request().post('/openobd/simulator/ignition').send({ ticketId: '9999', on: true }).expect(404);
    });

    it('no answer within the timeout: TIMEOUT to Catch, status "no answer", the control leaves the screen', async function () {
      await load({ controlType: 'yesno', timeout: '1' }, 2);
      const caught = nextMessage(helper.getNode('caught'));
      start();
      const e = await caught;
      assert.equal(e.error.code, 'TIMEOUT');
      assert.equal(e.error.message, 'No answer to "Is the ignition on?" within 1 s');
      assert.equal(statusHistory(helper.getNode('ask')).at(-1)?.text, 'no answer');
      const sim = (await waitForSim())!;
      await waitFor(() => !sim.technician.current('1001'), 3000, 'the screen to clear');
    });

    it('a second message replaces the shown control: the first ends with CONTROL_REPLACED, the second gets the answer', async function () {
      await load({ controlType: 'freetext', text: 'Question {{payload.n}}' }, 1, [
        {
          id: 'again',
          type: 'openobd-ask-technician',
          ...askNode({ id: 'again', controlType: 'freetext', text: 'Question 2' }),
          wires: [['out1']],
        },
        { id: 'out1', type: 'helper' },
      ]);
      const caught = nextMessage(helper.getNode('caught'));
      helper.getNode('start').receive({ payload: { n: 1 } });
      const sim = (await waitForSim())!;
      await waitFor(() => sim.technician.current('1001')?.label === 'Question 1', 5000, 'the first question');
      const sessionId = [...sim.sessions.values()].find((s) => s.state === 'active')!.id;
      const second = nextMessage(helper.getNode('out1'));
      helper.getNode('again').receive({ openobd: { sessionId } });
      const e = await caught;
      assert.equal(e.error.code, 'CONTROL_REPLACED');
      assert.equal(e.error.message, 'A new control replaced "Question 1" before it was answered');
      assert.equal(statusHistory(helper.getNode('ask')).at(-1)?.text, 'replaced');
      await waitFor(() => sim.technician.current('1001')?.label === 'Question 2', 5000, 'the second question');
      await helper.request().post('/openobd/simulator/answer').send({ ticketId: '1001', value: 'ok' }).expect(200);
      assert.equal((await second).payload, 'ok');
    });

    it('the session is interrupted while the technician is asked: SESSION_ENDED; a control for an ended session: SESSION_ENDED', async function () {
      await load({ controlType: 'yesno' }, 2);
      const caught = nextMessage(helper.getNode('caught'));
      start();
      const sim = (await waitForSim())!;
      await waitFor(() => !!sim.technician.current('1001'), 5000, 'the control');
      const sessionId = [...sim.sessions.values()].find((s) => s.state === 'active')!.id;
      sim.interrupt(sessionId);
      const e = await caught;
      assert.equal(e.error.code, 'SESSION_ENDED');
      const later = nextMessage(helper.getNode('caught'));
      helper.getNode('ask').receive({ openobd: { sessionId } });
      const e2 = await later;
      assert.equal(e2.error.code, 'SESSION_ENDED');
      assert.match(e2.error.message, /is interrupted/);
    });
  });

  describe('bad controls and messages reach Catch with a code, before anything is shown', function () {
    beforeEach(function () {
      helper.settings(settings({ mode: 'interactive' }) as never);
    });
    const cases: Array<[string, Def, AnyMsg, string, RegExp]> = [
      [
        'an empty text from msg',
        { textSource: 'msg', text: 'payload.question' },
        { payload: { question: '' } },
        'BAD_REQUEST',
        /The text is empty/,
      ],
      [
        'options from msg that are no list',
        { controlType: 'options', optionsSource: 'msg', optionsProperty: 'payload' },
        { payload: 42 },
        'BAD_REQUEST',
        /options must be an array/,
      ],
      [
        'an empty list of options from msg',
        { controlType: 'options', optionsSource: 'msg', optionsProperty: 'payload' },
        { payload: [] },
        'BAD_REQUEST',
        /at least one option/,
      ],
      [
        'a minimum above the maximum',
        { controlType: 'number', minimum: 'payload', minimumSource: 'msg', maximum: '5' },
        { payload: 9 },
        'BAD_REQUEST',
        /minimum \(9\) is above the maximum \(5\)/,
      ],
      [
        'an image that is not an http(s) URL',
        { image: 'payload', imageSource: 'msg' },
        { payload: 'javascript:alert(1)' },
        'BAD_REQUEST',
        /http or https URL/,
      ],
      [
        'a translation with a bad language code',
        { translations: [{ language: 'german language', text: 'x' }] },
        {},
        'BAD_REQUEST',
        /not a language code/,
      ],
    ];
    for (const [what, over, msg, code, message] of cases) {
      it(what, async function () {
        await load(over, 2);
        const caught = nextMessage(helper.getNode('caught'));
        start(msg);
        const e = await caught;
        assert.equal(e.error.code, code);
        assert.match(e.error.message, message);
        const sim = (await waitForSim())!;
        assert.equal(sim.technician.current('1001'), undefined, 'nothing was shown');
        assert.equal(statusHistory(helper.getNode('ask')).at(-1)?.text, 'bad request');
      });
    }

    it('no session id: NO_SESSION', async function () {
      await load({}, 2);
      const caught = nextMessage(helper.getNode('caught'));
      helper.getNode('ask').receive({ payload: 1 });
      assert.equal((await caught).error.code, 'NO_SESSION');
    });
  });
});

async function waitForSim() {
  let sim = await currentBuiltinSimulator();
  for (let i = 0; !sim && i < 100; i++) {
    await new Promise((r) => setTimeout(r, 20));
    sim = await currentBuiltinSimulator();
  }
  return sim;
}
