import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type * as grpc from '@grpc/grpc-js';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type {
  FunctionCallMessage,
  FunctionContextMessage,
  FunctionDetailsMessage,
  FunctionRegistrationMessage,
  FunctionUpdateMessage,
  ServiceResultMessage,
  VariableMessage,
} from '../protocol';
import { STRUCT_TYPE_URL, decodeStruct } from '../protocol';
import type { OpenObdSimulator } from './simulator';
import { SimStatus } from './status';
import { isFinal, type OpenStream, type SessionRecord } from './state';

/*
 * Functions and the function broker as openOBD documents them (openOBD documentation, "Function broker",
 * "Function calls", "Function composition"): partners host functions on a broker stream, the ticket
 * dashboard (or another function) calls them with a session, and a session holds a stack of function
 * contexts c^0..c^n, each `available` (not authenticated; its one-time authentication token works for the
 * calls the documented table allows there) or `active` (authenticated; session tokens). Starting a
 * context hands the session to it; finishing it hands the session back to the parent with a fresh
 * authentication token, delivered on the parent's monitor stream with the child's service result.
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

type ContextType = 'GLOBAL_CONTEXT' | 'FUNCTION_CONTEXT' | 'CONNECTION_CONTEXT';

/** One function context of a session's stack. c^0 is the session itself. */
export interface ContextRecord {
  id: string;
  depth: number;
  /** Started from an active parent: communication only, no user interface. */
  communicationOnly: boolean;
  monitorToken?: string;
  monitorTokens: Set<string>;
  monitors: Set<OpenStream>;
  variables: Map<string, VariableMessage>;
  /** Arguments handed over by the parent when it started this context. */
  arguments: VariableMessage[];
  /** Arguments this context sets for the next context it starts. */
  pendingArguments: VariableMessage[];
  results: VariableMessage[];
  /** The results and service result of the last child that finished. */
  lastChild?: { id: string; results: VariableMessage[]; serviceResult: ServiceResultMessage };
  details?: FunctionDetailsMessage;
  authTimer?: NodeJS.Timeout;
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

/** A run started from the simulated ticket dashboard, and how it ended. */
export interface DashboardRun {
  runId: string;
  functionId: string;
  functionName: string;
  ticketId: string;
  sessionId?: string;
  startedAt: string;
  state: 'starting' | 'running' | 'finished' | 'failed';
  result?: { result: string[]; userFeedback?: string; description?: string };
  results?: Record<string, unknown>;
  error?: string;
  endedAt?: string;
}

/** What the dashboard shows of a registered function (plain data). */
export interface DashboardFunction {
  id: string;
  name: string;
  version: string;
  description?: string;
  state: 'online' | 'offline' | 'unavailable';
  visibility: 'dashboard' | 'internal';
}

const CONTEXT_TYPES: Record<string, ContextType> = {
  GLOBAL_CONTEXT: 'GLOBAL_CONTEXT',
  FUNCTION_CONTEXT: 'FUNCTION_CONTEXT',
  CONNECTION_CONTEXT: 'CONNECTION_CONTEXT',
  '1': 'GLOBAL_CONTEXT',
  '2': 'FUNCTION_CONTEXT',
  '3': 'CONNECTION_CONTEXT',
};

/** A result as the dashboard shows it: the text, the JSON object of a Struct, or the type of another message. */
function resultValue(v: VariableMessage): unknown {
  if (v.Val !== 'object') return v.value ?? '';
  if (v.object?.type_url === STRUCT_TYPE_URL) {
    try {
      return decodeStruct(v.object.value);
    } catch {
      // fall through: show its type
    }
  }
  return { type_url: v.object?.type_url };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const DASHBOARD_CALLER = 'ticket-dashboard';

export class SimulatedFunctions extends EventEmitter {
  readonly options: Required<FunctionBrokerOptions>;
  readonly registrations = new Map<string, Registration>();
  readonly streams = new Set<BrokerStream>();
  readonly #brokerTokens = new Map<string, { clientId: string; expiresAtMs: number }>();
  readonly #monitorTokens = new Map<string, { sessionId: string; contextId: string; expiresAtMs: number }>();
  readonly #stacks = new Map<string, ContextRecord[]>();
  readonly #globals = new Map<string, Map<string, VariableMessage>>();
  readonly #connection = new Map<string, Map<string, VariableMessage>>();
  readonly #calls = new Set<PendingCall>();
  readonly runs = new Map<string, DashboardRun>();
  /** Calls handed to hosts (statistics and tests). */
  readonly stats = { calls: 0, accepted: 0, refused: 0, reconnectRequests: 0 };

  constructor(
    private readonly sim: OpenObdSimulator,
    options: FunctionBrokerOptions = {},
  ) {
    super();
    // One listener per dashboard run in progress, and the sidebar's.
    this.setMaxListeners(0);
    this.options = {
      tokenLifetimeMs: options.tokenLifetimeMs ?? 300_000,
      tokenPushIntervalMs: options.tokenPushIntervalMs ?? 120_000,
      idleCloseMs: options.idleCloseMs ?? 600_000,
      callTimeoutMs: options.callTimeoutMs ?? 10_000,
      signingKey: options.signingKey ?? 'openobd-simulator-function-signing-key',
    };
    // The session's state changes drive the contexts: an authenticate makes the top context active.
    sim.on('session', (id: string, state: string) => {
      const top = this.#stacks.get(id)?.at(-1);
      if (top && state === 'active' && top.authTimer) {
        clearTimeout(top.authTimer);
        top.authTimer = undefined;
      }
    });
  }

  // ---- broker tokens and signatures ----

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
    this.emit('change');
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
    this.emit('change');
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
      this.emit('change');
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
    this.emit('change');
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

  // ---- contexts ----

  #stack(session: SessionRecord): ContextRecord[] {
    let s = this.#stacks.get(session.id);
    if (!s) {
      s = [this.#newContext(session.id, 0, false)];
      this.#stacks.set(session.id, s);
    }
    return s;
  }

  #newContext(id: string, depth: number, communicationOnly: boolean): ContextRecord {
    return {
      id,
      depth,
      communicationOnly,
      monitorTokens: new Set(),
      monitors: new Set(),
      variables: new Map(),
      arguments: [],
      pendingArguments: [],
      results: [],
    };
  }

  /** The top context of a session (its current function context). */
  top(session: SessionRecord): ContextRecord {
    return this.#stack(session).at(-1)!;
  }

  /** How deep a session's stack is (0: only the session's own context). */
  depth(sessionId: string): number {
    return (this.#stacks.get(sessionId)?.length ?? 1) - 1;
  }

  /**
   * The session a call with this bearer may act on, and whether the bearer is the top context's
   * authentication token ('available') or one of its session tokens ('active').
   */
  contextCall(
    metadata: grpc.Metadata,
    allowed: { available: boolean; active: boolean },
    what: string,
  ): { session: SessionRecord; state: 'available' | 'active' } {
    const { value, record } = this.sim.bearer(metadata);
    if (record.kind === 'controller') throw new SimStatus(GrpcStatus.UNAUTHENTICATED, 'A session token is required');
    const session = this.sim.sessions.get(record.sessionId);
    if (!session) throw new SimStatus(GrpcStatus.UNAUTHENTICATED, 'Unknown session');
    if (isFinal(session.state)) throw new SimStatus(GrpcStatus.FAILED_PRECONDITION, `Session ${session.id} has ended (${session.state})`);
    if (record.kind === 'auth') {
      if (value !== session.authToken || session.state !== 'available')
        throw new SimStatus(GrpcStatus.UNAUTHENTICATED, 'Invalid authentication token');
      if (!allowed.available)
        throw new SimStatus(GrpcStatus.PERMISSION_DENIED, 'Only allowed call to be made at this point is the authenticate() call');
      return { session, state: 'available' };
    }
    if (!allowed.active)
      throw new SimStatus(GrpcStatus.PERMISSION_DENIED, `${what} is not allowed once the function context is authenticated`);
    return { session, state: 'active' };
  }

  /** Revokes every token of the session and ends its streams except the monitor streams of its contexts. */
  #handOver(session: SessionRecord, details: string): void {
    for (const [value, t] of this.sim.tokens) if (t.kind !== 'controller' && t.sessionId === session.id) this.sim.tokens.delete(value);
    for (const s of [...session.streams])
      if (s.kind !== 'monitor') this.sim.closeStream(s, { code: GrpcStatus.FAILED_PRECONDITION, details });
  }

  /** `function/startFunctionContext`: pushes c^(n+1), available, and hands the session to it. */
  startContext(session: SessionRecord, parentState: 'available' | 'active'): FunctionContextMessage {
    const stack = this.#stack(session);
    const parent = stack.at(-1)!;
    const child = this.#newContext(randomUUID(), stack.length, parentState === 'active' || parent.communicationOnly);
    child.arguments = parent.pendingArguments;
    parent.pendingArguments = [];
    this.#handOver(session, `The session was handed over to function context ${child.id}`);
    // The context has its own authentication timeout; the session's first one no longer applies.
    if (session.authTimer) clearTimeout(session.authTimer);
    if (parent.authTimer) clearTimeout(parent.authTimer);
    parent.authTimer = undefined;
    stack.push(child);
    const now = Date.now();
    session.state = 'available';
    session.authToken = this.sim.issueToken({
      kind: 'auth',
      sessionId: session.id,
      expiresAtMs: now + this.sim.options.authenticationTimeoutMs,
    });
    session.tokenExpiresAtMs = now + this.sim.options.authenticationTimeoutMs;
    child.monitorToken = this.#monitorToken(session.id, child.id);
    child.authTimer = setTimeout(() => {
      if (this.#stacks.get(session.id)?.at(-1) === child && session.state === 'available')
        this.#pop(session, {
          result: ['RESULT_FAILURE'],
          description: 'The function context was not authenticated within the authentication timeout',
        });
    }, this.sim.options.authenticationTimeoutMs);
    child.authTimer.unref();
    this.sim.emit('session', session.id, 'available');
    this.emit('change');
    return { id: child.id, finished: false, monitor_token: child.monitorToken, authentication_token: session.authToken };
  }

  #monitorToken(sessionId: string, contextId: string): string {
    const value = this.sim.issueLooseToken();
    this.#monitorTokens.set(value, { sessionId, contextId, expiresAtMs: Date.now() + this.sim.options.tokenValidityMs });
    return value;
  }

  /** @internal The context a monitor token watches, or UNAUTHENTICATED. */
  monitorTarget(metadata: grpc.Metadata): { session: SessionRecord; context: ContextRecord } {
    const header = metadata.get('authorization')[0];
    const m = /^Bearer\s+(\S+)$/i.exec((typeof header === 'string' ? header : (header?.toString() ?? '')).trim());
    const t = m ? this.#monitorTokens.get(m[1]!) : undefined;
    if (!t || t.expiresAtMs <= Date.now()) throw new SimStatus(GrpcStatus.UNAUTHENTICATED, 'A valid monitor token is required');
    const session = this.sim.sessions.get(t.sessionId);
    if (!session) throw new SimStatus(GrpcStatus.UNAUTHENTICATED, 'Unknown session');
    if (isFinal(session.state)) throw new SimStatus(GrpcStatus.FAILED_PRECONDITION, `Session ${session.id} has ended (${session.state})`);
    const context = this.#stack(session).find((c) => c.id === t.contextId);
    if (!context) throw new SimStatus(GrpcStatus.NOT_FOUND, `Function context ${t.contextId} has finished`);
    return { session, context };
  }

  /** @internal A monitor stream of `context`: a fresh monitor token every token interval. */
  monitor(session: SessionRecord, context: ContextRecord, call: grpc.ServerWritableStream<unknown, FunctionContextMessage>): void {
    const timer = setInterval(
      () => call.write({ id: context.id, finished: false, monitor_token: this.#monitorToken(session.id, context.id) }),
      this.sim.options.tokenIntervalMs,
    );
    timer.unref();
    const stream: OpenStream = {
      kind: 'monitor',
      call: call as grpc.ServerWritableStream<unknown, unknown>,
      dispose: () => {
        clearInterval(timer);
        context.monitors.delete(stream);
      },
    };
    context.monitors.add(stream);
    this.sim.trackStream(session, stream);
  }

  /**
   * `session/finish` on a session whose top context is a function context (n > 0): only that context
   * closes; the parent becomes available with a fresh authentication token, delivered with the
   * service result on the parent's monitor streams. Returns false for the session's own context.
   */
  finishContext(session: SessionRecord, result: ServiceResultMessage): boolean {
    const stack = this.#stacks.get(session.id);
    if (!stack || stack.length < 2) return false;
    this.#pop(session, result);
    return true;
  }

  #pop(session: SessionRecord, result: ServiceResultMessage): void {
    const stack = this.#stack(session);
    const child = stack.pop()!;
    if (child.authTimer) clearTimeout(child.authTimer);
    for (const v of [...this.#monitorTokens.keys()]) if (this.#monitorTokens.get(v)!.contextId === child.id) this.#monitorTokens.delete(v);
    this.#handOver(session, `Function context ${child.id} finished`);
    const parent = stack.at(-1)!;
    parent.lastChild = { id: child.id, results: child.results, serviceResult: result };
    const now = Date.now();
    session.state = 'available';
    session.authToken = this.sim.issueToken({
      kind: 'auth',
      sessionId: session.id,
      expiresAtMs: now + this.sim.options.authenticationTimeoutMs,
    });
    session.tokenExpiresAtMs = now + this.sim.options.authenticationTimeoutMs;
    // The parent has the authentication timeout to take the session back.
    parent.authTimer = setTimeout(() => {
      if (this.#stacks.get(session.id)?.at(-1) !== parent || session.state !== 'available' || isFinal(session.state)) return;
      if (parent.depth === 0)
        this.sim.endSession(session, 'failed', 'not authenticated again within the authentication timeout after a function call');
      else this.#pop(session, { result: ['RESULT_FAILURE'], description: 'The function context was not authenticated again in time' });
    }, this.sim.options.authenticationTimeoutMs);
    parent.authTimer.unref();
    const done: FunctionContextMessage = {
      id: child.id,
      finished: true,
      monitor_token: '',
      authentication_token: session.authToken,
      service_result: result,
    };
    for (const s of [...child.monitors]) {
      try {
        (s.call as grpc.ServerWritableStream<unknown, FunctionContextMessage>).write(done);
      } catch {
        // gone with its connection
      }
      this.sim.closeStream(s);
    }
    this.sim.emit('session', session.id, 'available');
    this.emit('contextFinished', session.id, child, result);
    this.emit('change');
  }

  /** Whether the top context may use the user interface (a context started from an active parent may not). */
  uiAllowed(session: SessionRecord): boolean {
    return !this.#stacks.get(session.id)?.at(-1)?.communicationOnly;
  }

  registerDetails(session: SessionRecord, details: FunctionDetailsMessage): void {
    this.top(session).details = details;
  }

  details(session: SessionRecord): FunctionDetailsMessage {
    const d = this.top(session).details;
    if (!d) throw new SimStatus(GrpcStatus.NOT_FOUND, 'No function details are registered in this context');
    return d;
  }

  // ---- variables ----

  #scope(session: SessionRecord, type: unknown): Map<string, VariableMessage> {
    const t =
      CONTEXT_TYPES[String(type ?? '')] ??
      (type === undefined || type === 'UNDEFINED_CONTEXT' || type === 0 ? 'FUNCTION_CONTEXT' : undefined);
    if (!t) throw new SimStatus(GrpcStatus.INVALID_ARGUMENT, `Unknown context type ${String(type)}`);
    if (t === 'FUNCTION_CONTEXT') return this.top(session).variables;
    const store = t === 'GLOBAL_CONTEXT' ? this.#globals : this.#connection;
    const key = t === 'GLOBAL_CONTEXT' ? session.id : session.connectorId;
    let m = store.get(key);
    if (!m) {
      m = new Map();
      if (t === 'CONNECTION_CONTEXT') {
        const vin = this.sim.connectors.get(session.connectorId)?.vehicle.vin;
        if (vin) m.set('vehicle:info:vin', { type: 'CONNECTION_CONTEXT', key: 'vehicle:info:vin', value: vin });
      }
      store.set(key, m);
    }
    return m;
  }

  #key(v: VariableMessage): string {
    const key = (v.key ?? '').trim();
    if (!key) throw new SimStatus(GrpcStatus.INVALID_ARGUMENT, 'A variable needs a key');
    return key;
  }

  setVariable(session: SessionRecord, v: VariableMessage): void {
    const key = this.#key(v);
    if (!v.Val) throw new SimStatus(GrpcStatus.INVALID_ARGUMENT, `Variable ${key} needs a value or an object`);
    this.#scope(session, v.type).set(key, { ...v, key });
  }

  getVariable(session: SessionRecord, v: VariableMessage): VariableMessage {
    const key = this.#key(v);
    const found = this.#scope(session, v.type).get(key);
    if (!found) throw new SimStatus(GrpcStatus.NOT_FOUND, `No variable ${key}`);
    return found;
  }

  deleteVariable(session: SessionRecord, v: VariableMessage): void {
    const key = this.#key(v);
    if (!this.#scope(session, v.type).delete(key)) throw new SimStatus(GrpcStatus.NOT_FOUND, `No variable ${key}`);
  }

  listVariables(session: SessionRecord, type: unknown, prefix: string | undefined): VariableMessage[] {
    return [...this.#scope(session, type).values()]
      .filter((v) => !prefix || v.key.startsWith(prefix))
      .sort((a, b) => a.key.localeCompare(b.key));
  }

  setArgument(session: SessionRecord, v: VariableMessage): void {
    const key = this.#key(v);
    const top = this.top(session);
    top.pendingArguments = [...top.pendingArguments.filter((a) => a.key !== key), { ...v, key }];
  }

  arguments(session: SessionRecord): VariableMessage[] {
    return this.top(session).arguments;
  }

  setResult(session: SessionRecord, v: VariableMessage): void {
    const key = this.#key(v);
    const top = this.top(session);
    top.results = [...top.results.filter((a) => a.key !== key), { ...v, key }];
  }

  /** The results of the last function this context called (before any call: its own results). */
  results(session: SessionRecord): VariableMessage[] {
    const top = this.top(session);
    return top.lastChild?.results ?? top.results;
  }

  // ---- the ticket dashboard ----

  /** The functions the simulated ticket dashboard shows (visibility DASHBOARD), newest name order. */
  dashboardFunctions(): DashboardFunction[] {
    return [...this.registrations.values()]
      .filter((r) => r.visibility === 'FUNCTION_VISIBILITY_DASHBOARD')
      .map((r): DashboardFunction => ({
        id: r.details.id,
        name: r.details.name,
        version: r.details.version,
        description: r.details.description,
        state:
          r.state === 'FUNCTION_REGISTRATION_STATE_ONLINE'
            ? 'online'
            : r.state === 'FUNCTION_REGISTRATION_STATE_OFFLINE'
              ? 'offline'
              : 'unavailable',
        visibility: 'dashboard',
      }))
      .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  }

  /**
   * Presses Run in the ticket dashboard: starts a session on the ticket, opens a function context for the
   * function and hands it to its host (as the dashboard does); when the function finishes, the session
   * is finished with its result. Resolves with the run once the host accepted or refused it.
   */
  async runFromDashboard(ticketId: string, functionId: string): Promise<DashboardRun> {
    const r = this.registrations.get(functionId);
    if (!r) throw new SimStatus(GrpcStatus.NOT_FOUND, `No function ${functionId} is registered`);
    const ticket = this.sim.tickets.get(ticketId);
    const connector = ticket ? this.sim.connectors.get(ticket.connectorId) : undefined;
    if (!ticket || !connector) throw new SimStatus(GrpcStatus.FAILED_PRECONDITION, `No ticket found with the ticket number: "${ticketId}"`);
    const run: DashboardRun = {
      runId: randomBytes(6).toString('hex'),
      functionId,
      functionName: r.details.name,
      ticketId,
      startedAt: new Date().toISOString(),
      state: 'starting',
    };
    this.runs.set(`${ticketId}/${functionId}`, run);
    this.emit('change');
    const fail = (error: string) => {
      run.state = 'failed';
      run.error = error;
      run.endedAt = new Date().toISOString();
      this.emit('change');
      return run;
    };
    let session: SessionRecord;
    try {
      session = this.sim.createSession(r.clientId, connector, ticket.id);
    } catch (err) {
      return fail((err as Error).message);
    }
    run.sessionId = session.id;
    // The dashboard itself is c^0 (never authenticated); the function runs in c^1.
    const context = this.startContext(session, 'available');
    const onFinished = (sessionId: string, child: ContextRecord, result: ServiceResultMessage) => {
      if (sessionId !== session.id || child.id !== context.id) return;
      this.off('contextFinished', onFinished);
      run.state = 'finished';
      run.result = {
        result: (result.result ?? []).map(String),
        userFeedback: result.user_feedback === undefined ? undefined : String(result.user_feedback),
        description: result.description,
      };
      run.results = Object.fromEntries(child.results.map((v) => [v.key, resultValue(v)]));
      run.endedAt = new Date().toISOString();
      this.sim.endSession(session, 'finished', `finished by the ticket dashboard after ${r.details.name}`);
      this.emit('change');
    };
    this.on('contextFinished', onFinished);
    let answer: FunctionUpdateMessage;
    try {
      answer = await this.callFunction(r.clientId, {
        id: functionId,
        caller_id: DASHBOARD_CALLER,
        session_info: { ...this.sim.sessionInfoMessage(session), authentication_token: context.authentication_token ?? '' },
      });
    } catch (err) {
      this.off('contextFinished', onFinished);
      this.sim.endSession(session, 'interrupted', 'the function could not be started');
      return fail((err as Error).message);
    }
    if (answer.response !== 'FUNCTION_UPDATE_SUCCESS') {
      this.off('contextFinished', onFinished);
      this.sim.endSession(session, 'interrupted', 'the host refused the function call');
      return fail(answer.response_description || String(answer.response));
    }
    if (run.state === 'starting') run.state = 'running';
    this.emit('change');
    return run;
  }

  /** @internal The simulator ended a session: forget its contexts. */
  sessionEnded(session: SessionRecord): void {
    const stack = this.#stacks.get(session.id);
    if (!stack) return;
    for (const c of stack) if (c.authTimer) clearTimeout(c.authTimer);
    this.#stacks.delete(session.id);
    this.#globals.delete(session.id);
    for (const [v, t] of this.#monitorTokens) if (t.sessionId === session.id) this.#monitorTokens.delete(v);
    for (const run of this.runs.values()) {
      if (run.sessionId === session.id && (run.state === 'running' || run.state === 'starting')) {
        run.state = 'failed';
        run.error = `The session ended (${session.state}) before the function finished`;
        run.endedAt = new Date().toISOString();
      }
    }
    this.emit('change');
  }

  /** @internal Expired broker and monitor tokens go. */
  sweep(now = Date.now()): void {
    for (const [v, t] of this.#brokerTokens) if (t.expiresAtMs <= now) this.#brokerTokens.delete(v);
    for (const [v, t] of this.#monitorTokens) if (t.expiresAtMs <= now) this.#monitorTokens.delete(v);
  }

  clear(): void {
    for (const c of [...this.#calls])
      this.#settleCall(c, {
        type: 'FUNCTION_UPDATE_TYPE_RESPONSE',
        response: 'FUNCTION_UPDATE_UNAVAILABLE',
        response_description: 'Simulator reset',
      });
    for (const stack of this.#stacks.values()) for (const c of stack) if (c.authTimer) clearTimeout(c.authTimer);
    this.#stacks.clear();
    this.registrations.clear();
    this.runs.clear();
    this.emit('change');
  }
}
