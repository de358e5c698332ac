import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import type * as grpc from '@grpc/grpc-js';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { FunctionCallMessage, FunctionDetailsMessage, FunctionRegistrationMessage, FunctionUpdateMessage } from '../../protocol';
import type { OpenObdSimulator } from '../simulator';
import { SimStatus } from '../status';
import type { OpenStream } from '../state';

/*
 * The function broker (openOBD documentation, "Function broker"): broker tokens, function signatures,
 * one function stream per host on which it registers its functions, and the calls handed to hosts.
 */

export interface FunctionBrokerOptions {
  /** Validity of a function broker token (default 300 s, what the official client assumes). */
  tokenLifetimeMs?: number;
  /** How often an open function stream gets a fresh broker token (default 120 s). */
  tokenPushIntervalMs?: number;
  /** A function stream with no function online for this long is closed (default 10 min). */
  idleCloseMs?: number;
  /** How long the host has to accept a function call (default 10 s). */
  callTimeoutMs?: number;
  /** Key of the function signatures; the same key accepts the same signatures after a restart. */
  signingKey?: string;
}

export interface Registration {
  clientId: string;
  details: FunctionDetailsMessage;
  state: 'FUNCTION_REGISTRATION_STATE_ONLINE' | 'FUNCTION_REGISTRATION_STATE_OFFLINE' | 'FUNCTION_REGISTRATION_STATE_UNAVAILABLE';
  visibility: 'FUNCTION_VISIBILITY_DASHBOARD' | 'FUNCTION_VISIBILITY_INTERNAL';
  signature: string;
  stream?: BrokerStream;
  updatedAt: number;
}

export interface BrokerStream {
  readonly clientId: string;
  readonly open: OpenStream;
  readonly call: grpc.ServerDuplexStream<FunctionUpdateMessage, FunctionUpdateMessage>;
  /** Broker tokens pushed and echoed (statistics and tests). */
  pushed: number;
  echoed: number;
  registrations: number;
  pushTimer?: NodeJS.Timeout;
  idleTimer?: NodeJS.Timeout;
  closeTimer?: NodeJS.Timeout;
}

interface PendingCall {
  functionId: string;
  sessionId: string;
  resolve(update: FunctionUpdateMessage): void;
  timer: NodeJS.Timeout;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The broker's side of functions: tokens, signatures, function streams, registrations and calls. */
export class SimulatedBroker {
  readonly options: Required<FunctionBrokerOptions>;
  readonly registrations = new Map<string, Registration>();
  readonly streams = new Set<BrokerStream>();
  readonly #brokerTokens = new Map<string, { clientId: string; expiresAtMs: number }>();
  readonly #calls = new Set<PendingCall>();
  /** Calls handed to hosts (statistics and tests). */
  readonly stats = { calls: 0, accepted: 0, refused: 0, reconnectRequests: 0 };

  constructor(
    private readonly sim: OpenObdSimulator,
    /** Where 'change' is told (SimulatedFunctions). */
    private readonly events: EventEmitter,
    options: FunctionBrokerOptions = {},
  ) {
    this.options = {
      tokenLifetimeMs: options.tokenLifetimeMs ?? 300_000,
      tokenPushIntervalMs: options.tokenPushIntervalMs ?? 120_000,
      idleCloseMs: options.idleCloseMs ?? 600_000,
      callTimeoutMs: options.callTimeoutMs ?? 10_000,
      signingKey: options.signingKey ?? 'openobd-simulator-function-signing-key',
    };
  }

  issueBrokerToken(clientId: string): string {
    const value = this.sim.issueLooseToken();
    this.#brokerTokens.set(value, { clientId, expiresAtMs: Date.now() + this.options.tokenLifetimeMs });
    return value;
  }

  /** The partner behind a broker token, or UNAUTHENTICATED. */
  brokerClient(metadata: grpc.Metadata): string {
    const header = metadata.get('authorization')[0];
    const text = typeof header === 'string' ? header : (header?.toString() ?? '');
    const m = /^Bearer\s+(\S+)$/i.exec(text.trim());
    if (!m) throw new SimStatus(GrpcStatus.UNAUTHENTICATED, 'Missing bearer token');
    const t = this.#brokerTokens.get(m[1]!);
    if (!t) throw new SimStatus(GrpcStatus.UNAUTHENTICATED, 'A valid function broker token is required');
    if (t.expiresAtMs <= Date.now()) {
      this.#brokerTokens.delete(m[1]!);
      throw new SimStatus(GrpcStatus.UNAUTHENTICATED, 'The function broker token has expired');
    }
    return t.clientId;
  }

  #sign(clientId: string, id: string): string {
    return createHmac('sha256', this.options.signingKey).update(`${clientId}:${id.toLowerCase()}`).digest('base64url');
  }

  generateSignature(clientId: string): { id: string; signature: string } {
    const id = randomUUID();
    return { id, signature: this.#sign(clientId, id) };
  }

  #signatureValid(clientId: string, id: string, signature: string | undefined): boolean {
    if (!signature || !UUID.test(id)) return false;
    const want = Buffer.from(this.#sign(clientId, id));
    const got = Buffer.from(signature);
    return want.length === got.length && timingSafeEqual(want, got);
  }

  // ---- the function stream ----

  /** @internal A host opened `openFunctionStream`. */
  attach(clientId: string, call: grpc.ServerDuplexStream<FunctionUpdateMessage, FunctionUpdateMessage>): BrokerStream {
    const open: OpenStream = {
      kind: 'function',
      call: call as grpc.ServerDuplexStream<unknown, unknown>,
      dispose: () => this.#detach(stream),
    };
    const stream: BrokerStream = { clientId, open, call, pushed: 0, echoed: 0, registrations: 0 };
    this.streams.add(stream);
    this.sim.trackStream(undefined, open);
    stream.pushTimer = setInterval(() => {
      stream.pushed += 1;
      this.#write(stream, { type: 'FUNCTION_UPDATE_TYPE_REQUEST', function_broker_token: { value: this.issueBrokerToken(clientId) } });
    }, this.options.tokenPushIntervalMs);
    stream.pushTimer.unref();
    this.#armIdle(stream);
    call.on('data', (u: FunctionUpdateMessage) => this.#onUpdate(stream, u));
    call.on('end', () => {
      this.sim.forgetStream(undefined, open);
      call.end();
    });
    this.events.emit('change');
    return stream;
  }

  #write(stream: BrokerStream, update: FunctionUpdateMessage): void {
    if (!this.streams.has(stream)) return;
    try {
      if (!stream.call.destroyed && stream.call.writable) stream.call.write(update);
    } catch {
      // the call went with its connection
    }
  }

  #detach(stream: BrokerStream): void {
    if (!this.streams.delete(stream)) return;
    for (const t of [stream.pushTimer, stream.idleTimer, stream.closeTimer]) if (t) clearTimeout(t);
    // The host went away: its functions cannot be called until it registers them again.
    for (const r of this.registrations.values()) {
      if (r.stream !== stream) continue;
      r.stream = undefined;
      if (r.state === 'FUNCTION_REGISTRATION_STATE_ONLINE') r.state = 'FUNCTION_REGISTRATION_STATE_UNAVAILABLE';
      r.updatedAt = Date.now();
    }
    for (const c of [...this.#calls]) {
      const r = this.registrations.get(c.functionId);
      if (!r?.stream)
        this.#settleCall(c, {
          type: 'FUNCTION_UPDATE_TYPE_RESPONSE',
          response: 'FUNCTION_UPDATE_UNAVAILABLE',
          response_description: 'The host of the function went away',
        });
    }
    this.events.emit('change');
  }

  /** Closes a stream that has had no function online for `idleCloseMs`, as the broker does. */
  #armIdle(stream: BrokerStream): void {
    if (stream.idleTimer) clearTimeout(stream.idleTimer);
    stream.idleTimer = undefined;
    const online = [...this.registrations.values()].some((r) => r.stream === stream && r.state === 'FUNCTION_REGISTRATION_STATE_ONLINE');
    if (online) return;
    stream.idleTimer = setTimeout(() => this.sim.closeStream(stream.open), this.options.idleCloseMs);
    stream.idleTimer.unref();
  }

  #onUpdate(stream: BrokerStream, u: FunctionUpdateMessage): void {
    if (u.type === 'FUNCTION_UPDATE_TYPE_REQUEST' && u.function_registration) return this.#register(stream, u.function_registration);
    if (u.type === 'FUNCTION_UPDATE_TYPE_RESPONSE' && u.function_broker_token) {
      stream.echoed += 1;
      this.events.emit('change');
      return;
    }
    if (u.type === 'FUNCTION_UPDATE_TYPE_RESPONSE' && u.function_call) {
      const c = [...this.#calls].find((p) => p.functionId === u.function_call!.id && p.sessionId === u.function_call!.session_info?.id);
      if (c)
        this.#settleCall(c, {
          type: 'FUNCTION_UPDATE_TYPE_RESPONSE',
          response: u.response ?? 'FUNCTION_UPDATE_UNDEFINED',
          response_description: u.response_description ?? '',
        });
      return;
    }
    this.#write(stream, {
      type: 'FUNCTION_UPDATE_TYPE_RESPONSE',
      response: 'FUNCTION_UPDATE_FAILED',
      response_description: 'Unexpected function update',
    });
  }

  #register(stream: BrokerStream, reg: FunctionRegistrationMessage): void {
    stream.registrations += 1;
    const details = reg.details;
    const answer = (response: FunctionUpdateMessage['response'], description: string) =>
      this.#write(stream, {
        type: 'FUNCTION_UPDATE_TYPE_RESPONSE',
        function_registration: reg,
        response,
        response_description: description,
      });
    if (!details || !details.id) return answer('FUNCTION_UPDATE_FAILED', 'A function registration needs details with an id');
    if (!this.#signatureValid(stream.clientId, details.id, reg.signature))
      return answer('FUNCTION_UPDATE_UNAUTHORIZED', `The signature of function ${details.id} does not match`);
    if (!details.name?.trim()) return answer('FUNCTION_UPDATE_FAILED', `Function ${details.id} needs a name`);
    const state =
      reg.state === 'FUNCTION_REGISTRATION_STATE_OFFLINE'
        ? 'FUNCTION_REGISTRATION_STATE_OFFLINE'
        : reg.state === 'FUNCTION_REGISTRATION_STATE_ONLINE'
          ? 'FUNCTION_REGISTRATION_STATE_ONLINE'
          : undefined;
    if (!state) return answer('FUNCTION_UPDATE_FAILED', `Function ${details.id}: a registration is ONLINE or OFFLINE`);
    const existing = this.registrations.get(details.id);
    if (state === 'FUNCTION_REGISTRATION_STATE_OFFLINE' && existing && existing.stream && existing.stream !== stream) {
      // An OFFLINE from an old stream does not take down the function a newer stream serves.
      return answer('FUNCTION_UPDATE_SUCCESS', `Function ${details.id} is served by another stream`);
    }
    this.registrations.set(details.id, {
      clientId: stream.clientId,
      details: { ...details, products: details.products ?? [], vehicles: details.vehicles ?? [] },
      state,
      visibility: reg.visibility === 'FUNCTION_VISIBILITY_INTERNAL' ? 'FUNCTION_VISIBILITY_INTERNAL' : 'FUNCTION_VISIBILITY_DASHBOARD',
      signature: reg.signature ?? '',
      stream: state === 'FUNCTION_REGISTRATION_STATE_ONLINE' ? stream : undefined,
      updatedAt: Date.now(),
    });
    // The old stream of a function that moved no longer counts as serving it.
    if (existing?.stream && existing.stream !== stream) this.#armIdle(existing.stream);
    this.#armIdle(stream);
    answer(
      'FUNCTION_UPDATE_SUCCESS',
      state === 'FUNCTION_REGISTRATION_STATE_ONLINE' ? `Function ${details.name} is online` : `Function ${details.name} is offline`,
    );
    this.events.emit('change');
  }

  /** Asks every open function stream to reconnect (function_broker_reconnect), and closes each after `secondsUntilDisconnect`. */
  requestReconnect(secondsUntilDisconnect = 5): number {
    let n = 0;
    for (const s of [...this.streams]) {
      this.#write(s, {
        type: 'FUNCTION_UPDATE_TYPE_REQUEST',
        function_broker_reconnect: { seconds_until_disconnect: secondsUntilDisconnect },
      });
      s.closeTimer = setTimeout(
        () => this.sim.closeStream(s.open, { code: GrpcStatus.UNAVAILABLE, details: 'Reconnect requested' }),
        secondsUntilDisconnect * 1000,
      );
      s.closeTimer.unref();
      n += 1;
    }
    this.stats.reconnectRequests += n;
    return n;
  }

  // ---- calls ----

  #settleCall(c: PendingCall, update: FunctionUpdateMessage): void {
    if (!this.#calls.delete(c)) return;
    clearTimeout(c.timer);
    c.resolve(update);
  }

  /**
   * Hands a call to the host of the function. Resolves with the host's answer (SUCCESS once it has
   * taken the session, FAILED with its reason). A function that is not online: UNAVAILABLE; another
   * partner's function: PERMISSION_DENIED (only your own functions can be run); no answer in time:
   * DEADLINE_EXCEEDED.
   */
  callFunction(clientId: string, call: FunctionCallMessage): Promise<FunctionUpdateMessage> {
    const r = this.registrations.get(call.id);
    if (!r) throw new SimStatus(GrpcStatus.NOT_FOUND, `No function ${call.id} is registered`);
    if (r.clientId !== clientId) throw new SimStatus(GrpcStatus.PERMISSION_DENIED, 'Only functions hosted by yourself can be run');
    if (r.state !== 'FUNCTION_REGISTRATION_STATE_ONLINE' || !r.stream)
      throw new SimStatus(GrpcStatus.UNAVAILABLE, `Function ${r.details.name} is not online`);
    if (!call.session_info?.authentication_token)
      throw new SimStatus(GrpcStatus.INVALID_ARGUMENT, 'A function call needs session info with an authentication token');
    this.stats.calls += 1;
    const stream = r.stream;
    return new Promise<FunctionUpdateMessage>((resolve, reject) => {
      const pending: PendingCall = {
        functionId: call.id,
        sessionId: call.session_info!.id,
        resolve: (u) => {
          if (u.response === 'FUNCTION_UPDATE_SUCCESS') this.stats.accepted += 1;
          else this.stats.refused += 1;
          resolve(u);
        },
        timer: setTimeout(() => {
          this.#calls.delete(pending);
          reject(new SimStatus(GrpcStatus.DEADLINE_EXCEEDED, `The host of ${r.details.name} did not accept the call in time`));
        }, this.options.callTimeoutMs),
      };
      pending.timer.unref();
      this.#calls.add(pending);
      const forward: FunctionCallMessage = { id: call.id, session_info: call.session_info };
      if (call.caller_id) forward.caller_id = call.caller_id;
      this.#write(stream, { type: 'FUNCTION_UPDATE_TYPE_REQUEST', function_call: forward });
    });
  }

  /** @internal Expired broker tokens go. */
  sweep(now: number): void {
    for (const [v, t] of this.#brokerTokens) if (t.expiresAtMs <= now) this.#brokerTokens.delete(v);
  }

  /** Every call waiting for its host is refused; the registrations go. */
  clear(): void {
    for (const c of [...this.#calls])
      this.#settleCall(c, {
        type: 'FUNCTION_UPDATE_TYPE_RESPONSE',
        response: 'FUNCTION_UPDATE_UNAVAILABLE',
        response_description: 'Simulator reset',
      });
    this.registrations.clear();
  }
}
