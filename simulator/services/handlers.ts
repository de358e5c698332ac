import type * as grpc from '@grpc/grpc-js';
import { toServerError } from '../status';
import type { OpenObdSimulator } from '../simulator';

/*
 * Wrappers shared by every service: count the call, apply a planned failure (fault injection) before
 * the handler runs, and turn anything thrown into a gRPC status so a handler bug can never take the
 * server down.
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

export function unary(
  sim: OpenObdSimulator,
  service: string,
  method: string,
  fn: (call: grpc.ServerUnaryCall<Any, Any>) => unknown,
): grpc.handleUnaryCall<Any, Any> {
  return (call, callback) => {
    sim.countCall(service, method);
    const planned = sim.faults.take(service, method);
    if (planned) {
      callback(planned.toServerError());
      return;
    }
    const held = sim.faults.answerDelay(service, method);
    const answer = (send: () => void) => (held > 0 ? void setTimeout(send, held) : send());
    Promise.resolve()
      .then(() => fn(call))
      .then(
        (reply) => answer(() => callback(null, reply)),
        (err: unknown) => answer(() => callback(toServerError(err))),
      );
  };
}

export function clientStream(
  sim: OpenObdSimulator,
  service: string,
  method: string,
  fn: (messages: Any[], call: grpc.ServerReadableStream<Any, Any>) => unknown,
): grpc.handleClientStreamingCall<Any, Any> {
  return (call, callback) => {
    sim.countCall(service, method);
    const planned = sim.faults.take(service, method);
    if (planned) {
      callback(planned.toServerError());
      return;
    }
    const messages: Any[] = [];
    let done = false;
    call.on('data', (m) => messages.push(m));
    call.on('error', () => {
      done = true;
    });
    call.on('end', () => {
      if (done) return;
      done = true;
      Promise.resolve()
        .then(() => fn(messages, call))
        .then(
          (reply) => callback(null, reply),
          (err: unknown) => callback(toServerError(err)),
        );
    });
  };
}

/** Server-streaming and bidirectional calls: the handler owns the call; a throw ends it with a status. */
function streaming<C extends NodeJS.EventEmitter>(
  sim: OpenObdSimulator,
  service: string,
  method: string,
  fn: (call: C) => void,
): (call: C) => void {
  return (call) => {
    sim.countCall(service, method);
    const planned = sim.faults.take(service, method) ?? sim.faults.takeStreamRefusal();
    if (planned) {
      call.emit('error', planned.toServerError());
      return;
    }
    try {
      fn(call);
    } catch (err) {
      call.emit('error', toServerError(err));
    }
  };
}

export function serverStream(
  sim: OpenObdSimulator,
  service: string,
  method: string,
  fn: (call: grpc.ServerWritableStream<Any, Any>) => void,
): grpc.handleServerStreamingCall<Any, Any> {
  return streaming(sim, service, method, fn);
}

export function bidi(
  sim: OpenObdSimulator,
  service: string,
  method: string,
  fn: (call: grpc.ServerDuplexStream<Any, Any>) => void,
): grpc.handleBidiStreamingCall<Any, Any> {
  return streaming(sim, service, method, fn);
}
