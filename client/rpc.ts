import * as grpc from '@grpc/grpc-js';
import { fromGrpcError } from './errors';
import { method, type ServiceName } from '../protocol';
import type { Secret } from './secret';

export interface CallOptions {
  /** Bearer token for this call; none for the two credential exchanges. */
  token?: Secret;
  /** Deadline for unary and client-streaming calls. */
  timeoutMs?: number;
  /**
   * Unary calls: how long to wait for a reconnect first while the channel is in TRANSIENT_FAILURE
   * (default CONNECT_WAIT_MS, capped by `timeoutMs`; 0 sends at once, e.g. for retries).
   */
  connectWaitMs?: number;
}

function metadataFor(token: Secret | undefined): grpc.Metadata {
  const md = new grpc.Metadata();
  if (token && !token.isEmpty) md.set('authorization', `Bearer ${token.reveal()}`);
  return md;
}

function deadline(timeoutMs: number | undefined): grpc.CallOptions {
  return timeoutMs && timeoutMs > 0 ? { deadline: Date.now() + timeoutMs } : {};
}

/**
 * Longest wait for a connection before a unary call while the channel is in TRANSIENT_FAILURE (the
 * server was unreachable and grpc-js is between reconnect attempts). Covers one reconnect attempt at the
 * pool's maximum reconnect backoff (3 s, plus grpc-js' 20 % jitter), with room for a busy event loop.
 */
export const CONNECT_WAIT_MS = 5000;

/**
 * Typed calls over a shared grpc-js client. Methods are looked up by their wire names in the loaded
 * proto, so a typo fails at the first call instead of reaching the server. Every failure comes back as
 * an OpenObdError naming the operation.
 */
export class Rpc {
  /** `connection` is read for every call: a pooled lease can move to another connection. */
  constructor(private readonly connection: { readonly client: grpc.Client }) {}

  /**
   * Resolves once the channel is not in TRANSIENT_FAILURE any more, or after `timeoutMs`; never rejects.
   * grpc-js fails a call at once while its channel waits for the next reconnect attempt, so right after
   * openOBD comes back every call would fail for up to a backoff period (and a session start, which is
   * never retried, would fail outright). Waiting here is not a retry: nothing has been sent yet.
   *
   * grpc-js' own `waitForReady` call option is not the same: it waits inside the call's deadline, so an
   * unreachable openOBD would fail a call only when its whole deadline (15 s) has passed, as
   * DEADLINE_EXCEEDED ("no answer in time"), instead of after this bounded wait as UNAVAILABLE ("openOBD
   * is not reachable"), and a call that got through late would have little of its deadline left.
   */
  whenConnected(timeoutMs: number = CONNECT_WAIT_MS): Promise<void> {
    const channel = this.connection.client.getChannel();
    const TF = grpc.connectivityState.TRANSIENT_FAILURE;
    let state: grpc.connectivityState;
    try {
      state = channel.getConnectivityState(false);
    } catch {
      return Promise.resolve(); // closed: the call itself reports that
    }
    if (state !== TF || timeoutMs <= 0) return Promise.resolve();
    const until = Date.now() + timeoutMs;
    return new Promise<void>((resolve) => {
      const watch = (current: grpc.connectivityState) => {
        if (current !== TF || Date.now() >= until) {
          resolve();
          return;
        }
        try {
          channel.watchConnectivityState(current, until, (err?: Error) => (err ? resolve() : watch(channel.getConnectivityState(false))));
        } catch {
          resolve(); // the channel was closed meanwhile
        }
      };
      watch(state);
    });
  }

  /** A unary call; while the channel is reconnecting it first waits for the connection (see `connectWaitMs`). */
  unary<Req, Res>(service: ServiceName, name: string, request: Req, options: CallOptions = {}): Promise<Res> {
    let wait = options.connectWaitMs ?? CONNECT_WAIT_MS;
    if (options.timeoutMs && options.timeoutMs > 0) wait = Math.min(wait, options.timeoutMs);
    if (wait > 0 && this.#reconnecting())
      return this.whenConnected(wait).then(() => this.#unary<Req, Res>(service, name, request, options));
    return this.#unary<Req, Res>(service, name, request, options);
  }

  #reconnecting(): boolean {
    try {
      return this.connection.client.getChannel().getConnectivityState(false) === grpc.connectivityState.TRANSIENT_FAILURE;
    } catch {
      return false;
    }
  }

  #unary<Req, Res>(service: ServiceName, name: string, request: Req, options: CallOptions): Promise<Res> {
    const def = method(service, name);
    const operation = `${service}.${name}`;
    return new Promise<Res>((resolve, reject) => {
      this.connection.client.makeUnaryRequest<Req, Res>(
        def.path,
        def.requestSerialize,
        def.responseDeserialize,
        request,
        metadataFor(options.token),
        deadline(options.timeoutMs),
        (err, response) => {
          if (err) reject(fromGrpcError(err, operation));
          else resolve(response as Res);
        },
      );
    });
  }

  /** Sends every request, half-closes, and resolves with the single response. */
  clientStream<Req, Res>(service: ServiceName, name: string, requests: Req[], options: CallOptions = {}): Promise<Res> {
    const def = method(service, name);
    const operation = `${service}.${name}`;
    return new Promise<Res>((resolve, reject) => {
      const call = this.connection.client.makeClientStreamRequest<Req, Res>(
        def.path,
        def.requestSerialize,
        def.responseDeserialize,
        metadataFor(options.token),
        deadline(options.timeoutMs),
        (err, response) => {
          if (err) reject(fromGrpcError(err, operation));
          else resolve(response as Res);
        },
      );
      for (const r of requests) call.write(r);
      call.end();
    });
  }

  serverStream<Req, Res>(service: ServiceName, name: string, request: Req, options: CallOptions = {}): grpc.ClientReadableStream<Res> {
    const def = method(service, name);
    return this.connection.client.makeServerStreamRequest<Req, Res>(
      def.path,
      def.requestSerialize,
      def.responseDeserialize,
      request,
      metadataFor(options.token),
      {},
    );
  }

  bidi<Req, Res>(service: ServiceName, name: string, options: CallOptions = {}): grpc.ClientDuplexStream<Req, Res> {
    const def = method(service, name);
    return this.connection.client.makeBidiStreamRequest<Req, Res>(
      def.path,
      def.requestSerialize,
      def.responseDeserialize,
      metadataFor(options.token),
      {},
    );
  }
}
