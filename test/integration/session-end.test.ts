import assert from 'node:assert/strict';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { OpenObdError, Session, SessionController, SessionEnd } from '../../client';
import type { OpenObdSimulator } from '../../simulator';
import { ENGINE, controllerFor, delay, finishElsewhere, startSimulator, waitFor } from '../support/sim';

/*
 * openOBD does not document the gRPC status it ends a session's streams with when the session ends.
 * Whatever it is (OK, CANCELLED, FAILED_PRECONDITION, UNAVAILABLE, NOT_FOUND, PERMISSION_DENIED,
 * UNAUTHENTICATED; with or without a last message), a request in flight must report what happened to the
 * session (SESSION_ENDED with its state and why), and the keepalive must not reopen the token stream of a
 * session that is over. Every combination of end status, last message and way of ending runs here.
 */

const END_STATUSES: Array<[string, GrpcStatus]> = [
  ['OK', GrpcStatus.OK],
  ['CANCELLED', GrpcStatus.CANCELLED],
  ['FAILED_PRECONDITION', GrpcStatus.FAILED_PRECONDITION],
  ['UNAVAILABLE', GrpcStatus.UNAVAILABLE],
  ['NOT_FOUND', GrpcStatus.NOT_FOUND],
  ['PERMISSION_DENIED', GrpcStatus.PERMISSION_DENIED],
  ['UNAUTHENTICATED', GrpcStatus.UNAUTHENTICATED],
];

/** Long enough for the other ways of ending to happen first; short enough to wait for. */
const MAX_DURATION_MS = 1500;

interface Way {
  name: string;
  ticket: string;
  /** Ends the session; resolves when it has been told to end. */
  end(sim: OpenObdSimulator, session: Session): Promise<void>;
  state: string;
  reason: RegExp;
}

const WAYS: Way[] = [
  {
    name: 'interrupted by the operator (partner API)',
    ticket: '1001',
    end: async (sim, s) => void sim.interrupt(s.id),
    state: 'interrupted',
    reason: /interrupted outside this flow/,
  },
  {
    name: 'finished by another client',
    ticket: '1002',
    end: (sim, s) => finishElsewhere(sim, s.id),
    state: 'finished',
    reason: /finished by another client/,
  },
  {
    name: 'failed on the server',
    ticket: '1003',
    end: async (sim, s) => void sim.fail(s.id),
    state: 'failed',
    reason: /openOBD ended it as failed/,
  },
  {
    name: 'out of time (maximum session duration)',
    ticket: '1004',
    end: async () => undefined, // the simulator ends it by itself
    state: 'failed',
    reason: /maximum session duration/,
  },
];

describe('a session ended by openOBD, whatever status its streams end with', function () {
  this.timeout(30000);

  for (const [statusName, code] of END_STATUSES) {
    for (const finalMessage of [false, true]) {
      describe(`streams end with ${statusName}${finalMessage ? ' after a last empty message' : ''}`, function () {
        let sim: OpenObdSimulator;
        let controller: SessionController;

        before(async function () {
          sim = await startSimulator({
            vehicles: 4,
            sessionEndStatus: code,
            sessionEndFinalMessage: finalMessage,
            maxSessionDurationMs: MAX_DURATION_MS,
            sweepIntervalMs: 50,
          });
          controller = controllerFor(sim, { session: { maxDurationMs: MAX_DURATION_MS } });
        });

        after(async function () {
          controller.close();
          await sim.stop();
        });

        for (const way of WAYS) {
          it(`${way.name}: the request in flight gets SESSION_ENDED (${way.state}), the token stream is not reopened`, async function () {
            const session = await controller.startSession({ ticketId: way.ticket });
            await session.request(ENGINE, '3E00');
            sim.faults.delayResponses(MAX_DURATION_MS * 2, 'engine');
            const inFlight = session.request(ENGINE, '22F190');
            await delay(50);
            await way.end(sim, session);
            await assert.rejects(inFlight, (err: OpenObdError) => {
              assert.equal(err.code, 'SESSION_ENDED', err.message);
              assert.equal(err.sessionState, way.state);
              assert.match(err.message, new RegExp(`was ${way.state} before the request completed`));
              assert.match(err.message, way.reason);
              return true;
            });
            sim.faults.clear();
            await waitFor(() => session.closed, 5000, 'the session released');
            assert.equal(session.ended?.state, way.state);
            const opens = sim.callCounts.get('session.openSessionTokenStream');
            await delay(300);
            assert.equal(sim.callCounts.get('session.openSessionTokenStream'), opens, 'no token stream reopened after the end');
            assert.equal(sim.stats().openStreams, 0, 'nothing left open on the server');
            // Whatever comes next for it says the same, at once.
            await assert.rejects(
              session.request(ENGINE, '3E00'),
              (err: OpenObdError) => err.code === 'SESSION_ENDED' && way.reason.test(err.message),
            );
          });
        }
      });
    }
  }

  /*
   * finish() and interruptSession() end the session's streams on openOBD before (or while) their answer
   * travels back, and those ends are explained by asking openOBD for the state: "finished", which alone
   * would read as another client's finish. The simulator holds the answer back so that a stream always
   * ends first; the delays vary so the lookup lands before, during and after the answer.
   */
  for (const [statusName, code] of [
    ['FAILED_PRECONDITION', GrpcStatus.FAILED_PRECONDITION],
    ['UNAVAILABLE', GrpcStatus.UNAVAILABLE],
    ['OK', GrpcStatus.OK],
  ] as const) {
    describe(`an end asked here, its streams ending with ${statusName} before the answer`, function () {
      const ROUNDS = 30;
      let sim: OpenObdSimulator;
      let controller: SessionController;
      let lines: string[];

      before(async function () {
        sim = await startSimulator({ sessionEndStatus: code });
        lines = [];
        const log = (level: string) => (m: string) => lines.push(`${level} ${m}`);
        controller = controllerFor(sim, { logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') } });
      });

      after(async function () {
        controller.close();
        await sim.stop();
      });

      /** A session with its token, ISO-TP and connector streams open; what its streams and keepalive report. */
      async function busySession() {
        const session = await controller.startSession({ ticketId: '1001' });
        await session.request(ENGINE, '3E00');
        const streamErrors: OpenObdError[] = [];
        session.watchConnector(
          () => undefined,
          (e) => streamErrors.push(e),
        );
        const health: string[] = [];
        session.on('keepalive', (h: string) => health.push(h));
        return { session, streamErrors, health };
      }

      function assertOwnEnd(ends: Array<Partial<SessionEnd>>, expected: Partial<SessionEnd>, streamErrors: OpenObdError[]) {
        const others = ends
          .map((end, round) => ({ round, state: end.state, reason: end.reason, cause: end.cause }))
          .filter((end) => end.state !== expected.state || end.reason !== expected.reason || end.cause !== expected.cause);
        assert.deepEqual(others, [], `${others.length} of ${ends.length} ends are not the one asked for`);
        assert.deepEqual(
          streamErrors.map((e) => e.message).filter((m) => /another client|outside this flow/.test(m)),
          [],
          'what the streams report',
        );
        assert.deepEqual(
          lines.filter((l) => /another client|outside this flow/.test(l) || /^(warn|error) /.test(l)),
          [],
          'no line says someone else ended it, nothing warns',
        );
      }

      it(`finish, ${ROUNDS} times: always this finish (state, reason, log), never "finished by another client"`, async function () {
        const ends: Array<Partial<SessionEnd>> = [];
        const streamErrors: OpenObdError[] = [];
        const health: string[] = [];
        for (let i = 0; i < ROUNDS; i++) {
          const busy = await busySession();
          sim.faults.delayAnswers('session.finish', (i % 6) * 10);
          const summary = await busy.session.finish({ result: 'RESULT_SUCCESS' });
          assert.equal(summary.state, 'finished');
          await waitFor(() => busy.session.closed, 3000, 'the session released');
          ends.push({ ...busy.session.ended });
          streamErrors.push(...busy.streamErrors);
          health.push(...busy.health);
        }
        sim.faults.clear();
        assertOwnEnd(ends, { state: 'finished', reason: 'finished with RESULT_SUCCESS' }, streamErrors);
        assert.deepEqual(health, [], 'the keepalive never showed "recovering" for the finish');
      });

      it(`interrupt through the controller, ${ROUNDS} times: always this interrupt, never "outside this flow"`, async function () {
        const ends: Array<Partial<SessionEnd>> = [];
        const streamErrors: OpenObdError[] = [];
        for (let i = 0; i < ROUNDS; i++) {
          const busy = await busySession();
          sim.faults.delayAnswers('sessionController.interruptSession', (i % 6) * 10);
          await controller.interruptSession(busy.session.id, 'the flow interrupted it', 'replaced');
          await waitFor(() => busy.session.closed, 3000, 'the session released');
          ends.push({ ...busy.session.ended });
          streamErrors.push(...busy.streamErrors);
        }
        sim.faults.clear();
        assertOwnEnd(ends, { state: 'interrupted', reason: 'the flow interrupted it', cause: 'replaced' }, streamErrors);
      });
    });
  }

  describe('what is not a session end', function () {
    let sim: OpenObdSimulator;
    let controller: SessionController;

    beforeEach(async function () {
      sim = await startSimulator({ sweepIntervalMs: 50, finalStateRetentionMs: 200 });
      controller = controllerFor(sim, { session: { reconnect: { initialDelayMs: 20, maxDelayMs: 100 } } });
    });

    afterEach(async function () {
      controller.close();
      await sim.stop();
    });

    it('openOBD unreachable (the server stops): a request in flight reports UNAVAILABLE, not a session end', async function () {
      const session = await controller.startSession({ ticketId: '1001' });
      await session.request(ENGINE, '3E00');
      sim.faults.delayResponses(3000, 'engine');
      const inFlight = session.request(ENGINE, '22F190');
      await delay(50);
      await sim.stop();
      await assert.rejects(inFlight, (err: OpenObdError) => {
        assert.equal(err.code, 'UNAVAILABLE', err.message);
        assert.equal(err.sessionState, undefined);
        assert.equal(err.retryable, true);
        return true;
      });
      assert.equal(session.state, 'active', 'the session is not given up while its token is valid');
    });

    it('a stream that drops while the session lives: the request is cut off as UNAVAILABLE (retryable), the next one works', async function () {
      const session = await controller.startSession({ ticketId: '1001' });
      await session.request(ENGINE, '3E00');
      sim.faults.delayResponses(3000, 'engine');
      const inFlight = session.request(ENGINE, '22F190');
      await delay(50);
      assert.equal(sim.dropStreams('isotp', GrpcStatus.UNAVAILABLE, 'connection reset'), 1);
      await assert.rejects(inFlight, (err: OpenObdError) => err.code === 'UNAVAILABLE' && err.retryable && /cut off/.test(err.message));
      sim.faults.clear();
      assert.equal((await session.request(ENGINE, '3E00')).responses[0]!.hex, '7E00');
      assert.equal(session.state, 'active');
    });

    it('getSession and interruptSession on a session openOBD has forgotten: NOT_FOUND in words', async function () {
      const session = await controller.startSession({ ticketId: '1001' });
      const id = session.id;
      await session.finish();
      await waitFor(() => !sim.sessions.has(id), 3000, 'the simulator to forget the session');
      for (const call of [() => controller.getSession(id), () => controller.interruptSession(id)]) {
        await assert.rejects(call(), (err: OpenObdError) => {
          assert.equal(err.code, 'NOT_FOUND');
          assert.match(err.message, new RegExp(`openOBD does not know session ${id}: it ended more than two minutes ago`));
          return true;
        });
      }
    });
  });
});
