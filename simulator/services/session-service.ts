import * as grpc from '@grpc/grpc-js';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { ServiceResultMessage } from '../../protocol';
import type { OpenObdSimulator } from '../simulator';
import { Details, SimStatus } from '../status';
import { isFinal, type OpenStream, type SessionRecord } from '../state';
import { serverStream, unary } from './handlers';

/** `openOBD.v1.session`: claiming a session, its token stream, finishing it. */
export function sessionService(sim: OpenObdSimulator): grpc.UntypedServiceImplementation {
  const S = 'session';

  const newSessionToken = (session: SessionRecord): string => {
    const expiresAtMs = Date.now() + sim.options.tokenValidityMs;
    session.tokenExpiresAtMs = expiresAtMs;
    return sim.issueToken({ kind: 'session', sessionId: session.id, expiresAtMs });
  };

  return {
    authenticate: unary(sim, S, 'authenticate', (call) => {
      const { value, record } = sim.bearer(call.metadata);
      if (record.kind === 'controller') throw new SimStatus(GrpcStatus.UNAUTHENTICATED, 'A session authentication token is required');
      const session = sim.sessions.get(record.sessionId);
      if (!session) throw new SimStatus(GrpcStatus.UNAUTHENTICATED, 'Unknown session');
      if (isFinal(session.state)) throw new SimStatus(GrpcStatus.FAILED_PRECONDITION, `Session ${session.id} has ended (${session.state})`);
      // The one-time token, or a session token, on an already claimed session (openOBD documentation, "Problems").
      if (record.kind === 'session' || session.state === 'active')
        throw new SimStatus(GrpcStatus.PERMISSION_DENIED, Details.alreadyAuthenticated);
      if (value !== session.authToken) throw new SimStatus(GrpcStatus.UNAUTHENTICATED, 'Invalid authentication token');
      session.state = 'active';
      if (session.authTimer) clearTimeout(session.authTimer);
      sim.emit('session', session.id, 'active');
      return { value: newSessionToken(session) };
    }),

    assertAuthenticationPossible: unary(sim, S, 'assertAuthenticationPossible', (call) => {
      const { record } = sim.bearer(call.metadata);
      if (record.kind === 'controller') throw new SimStatus(GrpcStatus.UNAUTHENTICATED, 'A session authentication token is required');
      const session = sim.sessions.get(record.sessionId);
      if (!session || isFinal(session.state)) throw new SimStatus(GrpcStatus.FAILED_PRECONDITION, 'Session is not available');
      if (session.state === 'active' && record.kind === 'auth')
        throw new SimStatus(GrpcStatus.PERMISSION_DENIED, Details.alreadyAuthenticated);
      return {};
    }),

    openSessionTokenStream: serverStream(sim, S, 'openSessionTokenStream', (call) => {
      const session = sim.activeSession(call.metadata);
      // Headers now, so the client knows the stream is accepted before the first token arrives.
      call.sendMetadata(new grpc.Metadata());
      const push = () => {
        if (sim.faults.stallTokenStreams || isFinal(session.state)) return;
        call.write({ value: newSessionToken(session) });
      };
      const timer = setInterval(push, sim.options.tokenIntervalMs);
      const stream: OpenStream = {
        kind: 'token',
        call,
        dispose: () => clearInterval(timer),
        finalMessage: () => call.write({ value: '' }),
      };
      sim.trackStream(session, stream);
      if (sim.options.tokenOnOpen) push();
    }),

    finish: unary(sim, S, 'finish', (call) => {
      // Allowed in both states of the top function context (openOBD documentation, "Function calls").
      const { session } = sim.functions.contexts.contextCall(call.metadata, { available: true, active: true }, 'finish');
      const result = call.request as ServiceResultMessage;
      if (!Array.isArray(result.result)) throw new SimStatus(GrpcStatus.INVALID_ARGUMENT, 'A service result is required');
      // Finishing a function context closes only that context and hands the session back to its caller.
      if (sim.functions.contexts.finishContext(session, result)) return {};
      sim.emit('finished', session.id, result);
      sim.endSession(session, 'finished', `finished with ${result.result.join(', ') || 'no result'}`);
      return {};
    }),
  };
}
