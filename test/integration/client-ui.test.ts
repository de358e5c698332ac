import assert from 'node:assert/strict';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { OpenObdError, SessionController, controlMessage, type Session, type UiControl } from '../../client';
import type { OpenObdSimulator, SimulatorOptions } from '../../simulator';
import { controllerFor, delay, startSimulator, waitFor } from '../support/sim';

/*
 * session.ui against the simulator over real gRPC: every control type answered by the simulated
 * technician (scripted and interactive), the one-control-at-a-time rule, timeouts, cancelling, the
 * session's end, invalid controls refused before anything is sent, and the idle close of the stream.
 */

describe('client library <-> simulator: the user interface (session.ui)', function () {
  let sim: OpenObdSimulator;
  let controller: SessionController;
  let session: Session;

  async function setUp(ui: SimulatorOptions['ui'], idleCloseMs = 60_000): Promise<void> {
    sim = await startSimulator({ ui });
    controller = controllerFor(sim, { session: { userInterface: { idleCloseMs } } });
    session = await controller.startSession({ ticketId: '1001' });
  }

  afterEach(async function () {
    session?.close();
    controller?.close();
    await sim?.stop();
  });

  describe('scripted answers', function () {
    beforeEach(async function () {
      await setUp({ answerDelayMs: 10, answers: [false, 2, 'Manual gearbox', 57] });
    });

    it('answers every control type; the answer is checked and typed; one stream carries them all', async function () {
      const label = await session.ui.ask({ type: 'label', label: 'Reading the fault memory…' });
      assert.equal(label.type, 'label');
      assert.equal(label.value, null);
      assert.equal((await session.ui.ask({ type: 'continue', label: 'Switch the ignition on, then continue' })).value, null);
      assert.equal((await session.ui.ask({ type: 'yesno', label: 'Is the engine running?' })).value, false);
      const option = await session.ui.ask({ type: 'options', label: 'Gearbox?', options: ['unknown', 'automatic', 'manual'] });
      assert.deepEqual({ value: option.value, option: option.option }, { value: 2, option: 'manual' });
      assert.equal((await session.ui.ask({ type: 'freetext', label: 'Describe the gearbox' })).value, 'Manual gearbox');
      const n = await session.ui.ask({ type: 'number', label: 'Mileage (thousands of km)?', minimum: 0, maximum: 999 });
      assert.equal(n.value, 57);
      assert.ok(n.elapsedMs >= 0 && n.elapsedMs < 5000);
      assert.equal(session.ui.stats.opens, 1, 'one control stream for the session');
      assert.equal(sim.stats().streams.control, 1);
    });

    it('sends target, image and translations as openOBD defines them, and the technician screen shows them', async function () {
      await session.ui.ask({
        type: 'yesno',
        label: 'Switch the ignition on?',
        target: 'operator',
        image: 'https://example.com/ignition.png',
        translations: { de: 'Zündung einschalten?', nl: 'Contact aan?' },
      });
      const shown = sim.technician.view().cars.find((c) => c.ticketId === '1001')!;
      const c = shown.control!;
      assert.equal(c.target, 'operator');
      assert.equal(c.image, 'https://example.com/ignition.png');
      assert.deepEqual(c.translations, [
        {
          label: 'Switch the ignition on?',
          translations: [
            { language: 'de', label: 'Zündung einschalten?' },
            { language: 'nl', label: 'Contact aan?' },
          ],
        },
      ]);
      assert.equal(c.answer?.by, 'script');
      assert.deepEqual(controlMessage({ type: 'number', label: 'x', minimum: 1, maximum: 3, target: 'mechanic' }), {
        target: 'INTERFACE_USER',
        control_number: { label: 'x', minimum: 1, maximum: 3 },
      });
    });

    it('a label with a minimal display time is seen only after that time', async function () {
      const started = Date.now();
      await session.ui.ask({ type: 'label', label: 'Please wait', minimalDisplayTimeS: 1 });
      assert.ok(Date.now() - started >= 950, `resolved after ${Date.now() - started} ms`);
    });

    it('closes the control stream once unused for its idle time, and opens a new one for the next control', async function () {
      session.close();
      controller.close();
      controller = controllerFor(sim, { session: { userInterface: { idleCloseMs: 200 } } });
      session = await controller.startSession({ ticketId: '1002' });
      await session.ui.ask({ type: 'continue', label: 'Go on' });
      assert.equal(session.ui.isOpen, true);
      await waitFor(() => !session.ui.isOpen && sim.stats().streams.control === 0, 3000, 'the idle stream to close');
      await session.ui.ask({ type: 'continue', label: 'Again' });
      assert.equal(session.ui.stats.opens, 2);
    });
  });

  describe('interactive answers, one control at a time', function () {
    beforeEach(async function () {
      await setUp({ mode: 'interactive' });
    });

    it('waits for the technician; the answer comes from the technician view', async function () {
      const asked = session.ui.ask({ type: 'options', label: 'Which brake?', options: ['front', 'rear'] });
      await waitFor(() => !!sim.technician.current('1001'), 3000, 'the control on the screen');
      assert.throws(() => sim.technician.answer('1001', 5), /Choose an option from 0 to 1/);
      sim.technician.answer('1001', 1);
      const a = await asked;
      assert.deepEqual([a.value, a.option], [1, 'rear']);
      assert.equal(sim.technician.view().cars[0]!.control!.answer!.by, 'technician');
    });

    it('a new control replaces the shown one: the earlier ask ends with CONTROL_REPLACED, the new one gets the answer', async function () {
      const first = session.ui.ask({ type: 'yesno', label: 'First question?' });
      await waitFor(() => sim.technician.current('1001')?.label === 'First question?', 3000, 'the first control');
      const firstSeq = sim.technician.current('1001')!.seq;
      const second = session.ui.ask({ type: 'yesno', label: 'Second question?' });
      await assert.rejects(first, (err: OpenObdError) => {
        assert.equal(err.code, 'CONTROL_REPLACED');
        assert.equal(err.message, 'A new control replaced "First question?" before it was answered');
        return true;
      });
      await waitFor(() => sim.technician.current('1001')?.label === 'Second question?', 3000, 'the second control');
      assert.throws(() => sim.technician.answer('1001', true, firstSeq), /not on the screen of 1001 any more/);
      sim.technician.answer('1001', true);
      assert.equal((await second).value, true);
      const history = sim.technician.view().cars[0]!.history;
      assert.equal(history.find((c) => c.label === 'First question?')?.ended, 'replaced');
    });

    it('no answer in time: TIMEOUT, and the control leaves the screen', async function () {
      await assert.rejects(session.ui.ask({ type: 'freetext', label: 'Mileage?' }, { timeoutMs: 300 }), (err: OpenObdError) => {
        assert.equal(err.code, 'TIMEOUT');
        assert.equal(err.message, 'No answer to "Mileage?" within 0.3 s');
        return true;
      });
      await waitFor(() => !sim.technician.current('1001'), 3000, 'the screen to clear');
      assert.equal(sim.technician.view().cars[0]!.history[0]!.ended, 'closed');
    });

    it('the control stream drops while a question waits: it is reopened, the question shown again and answered', async function () {
      const asked = session.ui.ask({ type: 'number', label: 'Odometer?', minimum: 0, maximum: 999999 });
      await waitFor(() => !!sim.technician.current('1001'), 3000, 'the control');
      assert.equal(sim.dropStreams('control', GrpcStatus.UNAVAILABLE, 'Simulated network blip'), 1);
      await waitFor(
        () => session.ui.stats.opens === 2 && sim.technician.current('1001')?.label === 'Odometer?',
        5000,
        'the question again',
      );
      sim.technician.answer('1001', 123456);
      assert.equal((await asked).value, 123456);
    });

    it('an aborted ask ends with CLOSED', async function () {
      const ac = new AbortController();
      const asked = session.ui.ask({ type: 'continue', label: 'Continue?' }, { signal: ac.signal });
      await delay(50);
      ac.abort();
      await assert.rejects(asked, (err: OpenObdError) => err.code === 'CLOSED');
    });

    it('the session ends while the technician is asked: SESSION_ENDED; a later ask fails at once with SESSION_ENDED', async function () {
      const asked = session.ui.ask({ type: 'yesno', label: 'Still there?' });
      await waitFor(() => !!sim.technician.current('1001'), 3000, 'the control');
      assert.ok(sim.interrupt(session.id));
      await assert.rejects(asked, (err: OpenObdError) => {
        assert.equal(err.code, 'SESSION_ENDED');
        assert.match(err.message, /was interrupted before the question to the technician completed/);
        return true;
      });
      await assert.rejects(
        session.ui.ask({ type: 'continue', label: 'After the end' }),
        (err: OpenObdError) => err.code === 'SESSION_ENDED',
      );
      await waitFor(() => sim.stats().streams.control === 0, 3000, 'the control stream to close');
    });

    it('finishing the session here ends a waiting ask with SESSION_ENDED', async function () {
      const asked = session.ui.ask({ type: 'yesno', label: 'Finish?' });
      await waitFor(() => !!sim.technician.current('1001'), 3000, 'the control');
      await session.finish();
      await assert.rejects(asked, (err: OpenObdError) => err.code === 'SESSION_ENDED');
    });
  });

  describe('whatever status openOBD ends the control stream with when the session ends, a waiting question gets SESSION_ENDED', function () {
    for (const [name, code, finalMessage] of [
      ['OK, after an empty last message', GrpcStatus.OK, true],
      ['CANCELLED', GrpcStatus.CANCELLED, false],
      ['UNAVAILABLE', GrpcStatus.UNAVAILABLE, false],
      ['NOT_FOUND', GrpcStatus.NOT_FOUND, false],
    ] as const) {
      it(name, async function () {
        sim = await startSimulator({ ui: { mode: 'interactive' }, sessionEndStatus: code, sessionEndFinalMessage: finalMessage });
        controller = controllerFor(sim);
        session = await controller.startSession({ ticketId: '1001' });
        const asked = session.ui.ask({ type: 'yesno', label: 'Still there?' });
        await waitFor(() => !!sim.technician.current('1001'), 3000, 'the control');
        sim.interrupt(session.id);
        await assert.rejects(asked, (err: OpenObdError) => {
          assert.equal(err.code, 'SESSION_ENDED', `${err.code}: ${err.message}`);
          return true;
        });
        assert.equal(session.ui.stats.opens, 1, 'the stream of an ended session is not reopened');
      });
    }
  });

  describe('invalid controls are refused with BAD_REQUEST before anything is sent', function () {
    beforeEach(async function () {
      await setUp({});
    });

    const cases: Array<[string, unknown, RegExp]> = [
      ['an empty label', { type: 'yesno', label: '  ' }, /The label is empty/],
      ['no label', { type: 'continue' }, /The label must be text/],
      ['an unknown type', { type: 'slider', label: 'x' }, /Unknown control type 'slider'/],
      ['options without options', { type: 'options', label: 'x', options: [] }, /at least one option/],
      ['an empty option', { type: 'options', label: 'x', options: ['a', ''] }, /option 2 is empty/],
      ['minimum above maximum', { type: 'number', label: 'x', minimum: 10, maximum: 2 }, /minimum \(10\) is above the maximum \(2\)/],
      ['a negative minimum', { type: 'number', label: 'x', minimum: -1, maximum: 2 }, /minimum must be a whole number/],
      ['a fractional maximum', { type: 'number', label: 'x', minimum: 0, maximum: 2.5 }, /maximum must be a whole number/],
      ['an image that is not a URL', { type: 'continue', label: 'x', image: 'file:///etc/passwd' }, /http or https URL/],
      ['a bad language code', { type: 'continue', label: 'x', translations: { 'not a language': 'y' } }, /is not a language code/],
      ['an unknown target', { type: 'continue', label: 'x', target: 'customer' }, /Unknown target 'customer'/],
    ];
    for (const [what, control, message] of cases) {
      it(what, async function () {
        await assert.rejects(session.ui.ask(control as UiControl), (err: OpenObdError) => {
          assert.equal(err.code, 'BAD_REQUEST');
          assert.match(err.message, message);
          return true;
        });
        assert.equal(session.ui.stats.opens, 0, 'no stream was opened');
      });
    }

    it('a timeout that is not a positive number', async function () {
      await assert.rejects(
        session.ui.ask({ type: 'continue', label: 'x' }, { timeoutMs: -5 }),
        (err: OpenObdError) => err.code === 'BAD_REQUEST',
      );
    });
  });
});
