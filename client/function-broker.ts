import { EventEmitter } from 'node:events';
import type * as grpc from '@grpc/grpc-js';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { ConnectionLease, ConnectionPool, ResolvedEndpoint } from './endpoint';
import { defaultConnectionPool } from './endpoint';
import { OpenObdError, fromGrpcError, grpcStatusName, isTransientStatus } from './errors';
import { safeLogger, type Logger } from './logger';
import { backoffDelay, retrying, type BackoffPolicy, type RetryPolicy } from './retry';
import { Rpc } from './rpc';
import { Secret } from './secret';
import { sessionInfoFromWire, type SessionInfo } from './session-info';
import type { Session } from './session';
import { variablesToRecord, type RunAnswer, type VariableValue } from './functions';
import type {
  Authenticate,
  EmptyMessage,
  FunctionCallMessage,
  FunctionRegistrationMessage,
  FunctionSignatureMessage,
  FunctionUpdateMessage,
  IdMessage,
  SessionInfoMessage,
  TokenMessage,
  VariableListMessage,
} from '../protocol';

/*
 * The function broker (openOBD documentation, "Function broker", "Hosting functions"): a partner hosts
 * functions on one bidirectional `openFunctionStream` per account; they appear in the ticket dashboard,
 * and when someone runs one the broker hands the host a session over the stream.
 *
 * Where the official launcher does not reconnect before 1.26.7 and never reopens a stream the broker
 * closed, this client: fetches the broker token once for concurrent callers and again after
 * UNAUTHENTICATED, switches to every token the broker pushes and echoes it; on a reconnect request opens
 * the new stream and registers everything on it before the old one is dropped; reopens with backoff
 * whenever the stream ends while functions are hosted; and sets functions OFFLINE when they stop.
 */

export type FunctionVisibility = 'dashboard' | 'internal';

/** A function as the broker knows it. The id and signature come from `generateSignature`. */
export interface FunctionDefinition {
  id: string;
  signature: string | Secret;
  name: string;
  /** Default '1.0'. */
  version?: string;
  description?: string;
  /** 'dashboard' (default): shown in the ticket dashboard; 'internal': only called by other functions. */
  visibility?: FunctionVisibility;
  products?: string[];
  vehicles?: string[];
}

/** Where a hosted function stands with the broker. */
export type HostedState = 'registering' | 'online' | 'offline' | 'unauthorized' | 'failed' | 'reconnecting';

/** A call of a hosted function: the session it was handed, claimed (authenticated, keepalive running). */
export interface FunctionCall {
  functionId: string;
  /** Who called: 'ticket-dashboard' or another function's id, when the broker says. */
  callerId?: string;
  session: Session;
  /** The arguments the caller set (string values, JSON objects, or `{ typeUrl, value }` for other protobuf messages). */
  arguments: Record<string, VariableValue>;
}

export interface FunctionBrokerOptions {
  endpoint: ResolvedEndpoint;
  credentials: { clientId: string; clientSecret: Secret; clusterId: string };
  /** Claims a handed-over session (the controller's openSession: authenticate, keepalive). */
  openSession(info: SessionInfo): Promise<Session>;
  connectionPool?: ConnectionPool;
  logger?: Partial<Logger>;
  /** Assumed lifetime of a broker token; the server does not say (default 300 s, as the official client). */
  tokenLifetimeMs?: number;
  /** Fetch a new token this long before the assumed lifetime ends (default 30 s). */
  tokenRefreshMarginMs?: number;
  /** Deadline of unary broker calls (default 15 s). */
  callTimeoutMs?: number;
  /** Backoff between reopen attempts of the function stream (default 250 ms doubling to 10 s, jittered). */
  reconnect?: BackoffPolicy;
  /** After the last function stops, the stream stays open this long for one that comes back (a redeploy; default 3 s). */
  closeGraceMs?: number;
  /** Retries of token fetches on transient failures. */
  retry?: Partial<RetryPolicy>;
}

const DEFAULT_RETRY: RetryPolicy = { attempts: 4, initialDelayMs: 200, maxDelayMs: 3000, factor: 2 };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const REJECTION = new Set<number>([GrpcStatus.INVALID_ARGUMENT, GrpcStatus.UNAUTHENTICATED, GrpcStatus.PERMISSION_DENIED]);

type Stream = grpc.ClientDuplexStream<FunctionUpdateMessage, FunctionUpdateMessage>;

interface StreamState {
  stream: Stream;
  /** Registrations sent and not answered yet, oldest first (answers that do not name their function are matched in order). */
  pending: Array<{ id: string; online: boolean }>;
  accepted: boolean;
}

/**
 * A function hosted on the broker. Events: `state` (state, reason). `stop()` sets it OFFLINE and
 * removes it; a stopped function is not registered again.
 */
export class HostedFunction extends EventEmitter {
  readonly id: string;
  readonly definition: Readonly<FunctionDefinition>;
  #state: HostedState = 'registering';
  #reason = '';
  /** Calls handed to this function (statistics and tests). */
  calls = 0;

  constructor(
    definition: FunctionDefinition,
    readonly handler: (call: FunctionCall) => void | Promise<void>,
    private readonly broker: FunctionBroker,
  ) {
    super();
    this.id = definition.id.toLowerCase();
    this.definition = definition;
  }

  get state(): HostedState {
    return this.#state;
  }

  get reason(): string {
    return this.#reason;
  }

  /** @internal */
  setState(state: HostedState, reason = ''): void {
    if (this.#state === state && this.#reason === reason) return;
    this.#state = state;
    this.#reason = reason;
    this.emit('state', state, reason);
  }

  /** Sets the function OFFLINE on the broker and stops hosting it. Resolves once the broker answered (or after 2 s). */
  stop(): Promise<void> {
    return this.broker.unhost(this);
  }
}

export type { RunAnswer } from './functions';

function responseName(r: unknown): RunAnswer['response'] {
  switch (r) {
    case 'FUNCTION_UPDATE_SUCCESS':
    case 1:
      return 'success';
    case 'FUNCTION_UPDATE_FAILED':
    case 2:
      return 'failed';
    case 'FUNCTION_UPDATE_UNAVAILABLE':
    case 3:
      return 'unavailable';
    case 'FUNCTION_UPDATE_UNAUTHORIZED':
    case 4:
      return 'unauthorized';
    default:
      return 'undefined';
  }
}

/**
 * The broker client of one account: the broker token, one function stream for every hosted function,
 * and the caller's calls (run a function, read a registration, generate a signature).
 */
export class FunctionBroker extends EventEmitter {
  readonly #o: Required<Omit<FunctionBrokerOptions, 'connectionPool' | 'logger' | 'retry' | 'reconnect'>> & {
    reconnect: BackoffPolicy;
    retry: RetryPolicy;
  };
  readonly #log: Logger;
  readonly #lease: ConnectionLease;
  readonly #rpc: Rpc;
  readonly #functions = new Map<string, HostedFunction>();
  /** Functions whose OFFLINE answer is still awaited. */
  readonly #stopping = new Map<string, HostedFunction>();
  #token?: { value: Secret; fetchedAt: number };
  #tokenFlight?: Promise<Secret>;
  #rejected?: { error: OpenObdError; at: number };
  #current?: StreamState;
  /** Streams being replaced after a reconnect request (still answered until they end). */
  readonly #retiring = new Set<StreamState>();
  #opening = false;
  #attempt = 0;
  #retryTimer?: NodeJS.Timeout;
  #graceTimer?: NodeJS.Timeout;
  #closed = false;
  readonly #closing = new AbortController();
  /** Streams opened, reopens, tokens pushed and echoed, calls handed over (statistics and tests). */
  readonly stats = { opens: 0, reopens: 0, reconnectRequests: 0, tokenPushes: 0, calls: 0, refusedCalls: 0 };

  constructor(options: FunctionBrokerOptions) {
    super();
    this.#o = {
      endpoint: options.endpoint,
      credentials: options.credentials,
      openSession: options.openSession,
      tokenLifetimeMs: options.tokenLifetimeMs ?? 300_000,
      tokenRefreshMarginMs: options.tokenRefreshMarginMs ?? 30_000,
      callTimeoutMs: options.callTimeoutMs ?? 15_000,
      closeGraceMs: options.closeGraceMs ?? 3000,
      reconnect: options.reconnect ?? { initialDelayMs: 250, maxDelayMs: 10_000, factor: 2 },
      retry: { ...DEFAULT_RETRY, ...options.retry },
    };
    this.#log = safeLogger(options.logger);
    // A long-lived stream, as a session's: on a session connection, not the controllers' one.
    this.#lease = (options.connectionPool ?? defaultConnectionPool).acquire(options.endpoint, 'sessions');
    this.#rpc = new Rpc(this.#lease);
  }

  /** Functions hosted now. */
  get hosted(): readonly HostedFunction[] {
    return [...this.#functions.values()];
  }

  /** Whether the function stream is open (its headers arrived). */
  get connected(): boolean {
    return !!this.#current?.accepted;
  }

  #assertOpen(): void {
    if (this.#closed) throw new OpenObdError('CLOSED', 'The function broker client is closed');
  }

  // ---- the broker token ----

  /** The broker token: fetched once for concurrent callers, refreshed before its assumed lifetime, replaced by pushed tokens. */
  async token(): Promise<Secret> {
    this.#assertOpen();
    const t = this.#token;
    if (t && Date.now() - t.fetchedAt < this.#o.tokenLifetimeMs - this.#o.tokenRefreshMarginMs) return t.value;
    if (this.#rejected && Date.now() - this.#rejected.at < 20_000) throw this.#rejected.error;
    this.#tokenFlight ??= this.#fetchToken().finally(() => {
      this.#tokenFlight = undefined;
    });
    return this.#tokenFlight;
  }

  async #fetchToken(): Promise<Secret> {
    const c = this.#o.credentials;
    const request: Authenticate = { client_id: c.clientId, client_secret: c.clientSecret.reveal(), cluster_id: c.clusterId };
    try {
      const reply = await retrying(
        (attempt) =>
          this.#rpc.unary<Authenticate, TokenMessage>('functionBroker', 'getFunctionBrokerToken', request, {
            timeoutMs: this.#o.callTimeoutMs,
            connectWaitMs: attempt === 0 ? undefined : 0,
          }),
        this.#o.retry,
        { shouldRetry: (e) => e instanceof OpenObdError && isTransientStatus(e.grpcCode), signal: this.#closing.signal },
      );
      const value = new Secret(reply.value);
      this.#token = { value, fetchedAt: Date.now() };
      this.#rejected = undefined;
      return value;
    } catch (err) {
      const error = fromGrpcError(err, 'functionBroker.getFunctionBrokerToken');
      if (error.grpcCode !== undefined && REJECTION.has(error.grpcCode)) this.#rejected = { error, at: Date.now() };
      throw error;
    }
  }

  /** A unary broker call with the broker token; a token the broker no longer accepts is fetched again once. */
  async #call<Req, Res>(name: string, request: Req): Promise<Res> {
    this.#assertOpen();
    const token = await this.token();
    try {
      return await this.#rpc.unary<Req, Res>('functionBroker', name, request, { token, timeoutMs: this.#o.callTimeoutMs });
    } catch (err) {
      if (err instanceof OpenObdError && err.grpcCode === GrpcStatus.UNAUTHENTICATED && this.#token?.value === token) {
        this.#token = undefined;
        return this.#rpc.unary<Req, Res>('functionBroker', name, request, { token: await this.token(), timeoutMs: this.#o.callTimeoutMs });
      }
      throw err;
    }
  }

  // ---- the caller's side ----

  /** A new function id and its signature, for a function that is registered for the first time. */
  async generateSignature(): Promise<{ id: string; signature: Secret }> {
    const s = await this.#call<EmptyMessage, FunctionSignatureMessage>('generateFunctionSignature', {});
    return { id: s.id, signature: new Secret(s.signature) };
  }

  /** What the broker knows of a function: its details, state and visibility. */
  async getRegistration(id: string): Promise<{ id: string; name: string; version: string; state: string; visibility: string }> {
    const r = await this.#call<IdMessage, FunctionRegistrationMessage>('getFunctionRegistration', { value: id });
    return {
      id: r.details?.id ?? id,
      name: r.details?.name ?? '',
      version: r.details?.version ?? '',
      state: String(r.state)
        .replace(/^FUNCTION_REGISTRATION_STATE_/, '')
        .toLowerCase(),
      visibility: String(r.visibility ?? '')
        .replace(/^FUNCTION_VISIBILITY_/, '')
        .toLowerCase(),
    };
  }

  /** Hands a session (a function context's SessionInfo) to a function through the broker: the host's answer. */
  async runFunction(functionId: string, sessionInfo: SessionInfoMessage, callerId?: string): Promise<RunAnswer> {
    const call: FunctionCallMessage = { id: functionId, session_info: sessionInfo };
    if (callerId) call.caller_id = callerId;
    const u = await this.#call<FunctionCallMessage, FunctionUpdateMessage>('runFunction', call);
    return { response: responseName(u.response), description: u.response_description ?? '' };
  }

  // ---- hosting ----

  /**
   * Hosts a function: registers it ONLINE on the account's function stream (opened on first use) and
   * hands every call of it, with its session claimed, to `handler`. The same id hosted again replaces
   * the earlier one.
   */
  host(definition: FunctionDefinition, handler: (call: FunctionCall) => void | Promise<void>): HostedFunction {
    this.#assertOpen();
    checkDefinition(definition);
    const fn = new HostedFunction(definition, handler, this);
    this.#functions.get(fn.id)?.setState('offline', 'replaced');
    this.#functions.set(fn.id, fn);
    if (this.#graceTimer) clearTimeout(this.#graceTimer);
    this.#graceTimer = undefined;
    if (this.#current) this.#sendRegistration(this.#current, fn, true);
    else this.#ensureStream();
    return fn;
  }

  /** @internal */
  unhost(fn: HostedFunction): Promise<void> {
    if (this.#functions.get(fn.id) !== fn) return Promise.resolve();
    this.#functions.delete(fn.id);
    const s = this.#current;
    let done: Promise<void> = Promise.resolve();
    if (s && !this.#closed) {
      this.#stopping.set(fn.id, fn);
      done = new Promise<void>((resolve) => {
        const finish = () => {
          clearTimeout(timer);
          if (this.#stopping.get(fn.id) === fn) this.#stopping.delete(fn.id);
          fn.setState('offline', fn.reason || 'stopped');
          resolve();
        };
        const timer = setTimeout(finish, 2000);
        timer.unref();
        fn.once('state', finish);
      });
      this.#sendRegistration(s, fn, false);
    } else fn.setState('offline', 'stopped');
    if (this.#functions.size === 0) this.#scheduleClose();
    return done;
  }

  #scheduleClose(): void {
    if (this.#graceTimer) clearTimeout(this.#graceTimer);
    this.#graceTimer = setTimeout(() => {
      this.#graceTimer = undefined;
      if (this.#functions.size === 0) this.#dropStreams();
    }, this.#o.closeGraceMs);
    this.#graceTimer.unref();
  }

  #registration(fn: HostedFunction, online: boolean): FunctionRegistrationMessage {
    const d = fn.definition;
    return {
      details: {
        id: fn.id,
        version: d.version?.trim() || '1.0',
        name: d.name.trim(),
        description: d.description,
        products: (d.products ?? []).map((id) => ({ id })),
        vehicles: (d.vehicles ?? []).map((id) => ({ id })),
      },
      state: online ? 'FUNCTION_REGISTRATION_STATE_ONLINE' : 'FUNCTION_REGISTRATION_STATE_OFFLINE',
      signature: Secret.from(d.signature).reveal(),
      visibility: d.visibility === 'internal' ? 'FUNCTION_VISIBILITY_INTERNAL' : 'FUNCTION_VISIBILITY_DASHBOARD',
    };
  }

  #sendRegistration(s: StreamState, fn: HostedFunction, online: boolean): void {
    // An online function registered again on a new stream (a reconnect) stays online meanwhile.
    if (online && fn.state !== 'online') fn.setState('registering');
    s.pending.push({ id: fn.id, online });
    this.#write(s, { type: 'FUNCTION_UPDATE_TYPE_REQUEST', function_registration: this.#registration(fn, online) });
  }

  #write(s: StreamState, update: FunctionUpdateMessage): void {
    try {
      s.stream.write(update);
    } catch (err) {
      this.#log.debug(`function stream write failed: ${(err as Error).message}`);
    }
  }

  #ensureStream(): void {
    if (this.#closed || this.#current || this.#opening || this.#retryTimer || this.#functions.size === 0) return;
    void this.#open();
  }

  /** Opens a function stream and registers every hosted function on it; it replaces the current stream. */
  async #open(): Promise<void> {
    this.#opening = true;
    let token: Secret;
    try {
      token = await this.token();
    } catch (err) {
      this.#opening = false;
      const error = fromGrpcError(err, 'functionBroker.getFunctionBrokerToken');
      for (const fn of this.#functions.values()) fn.setState('failed', error.message);
      this.#scheduleReopen(error);
      return;
    }
    this.#opening = false;
    if (this.#closed || this.#functions.size === 0) return;
    const stream = this.#rpc.bidi<FunctionUpdateMessage, FunctionUpdateMessage>('functionBroker', 'openFunctionStream', { token });
    const s: StreamState = { stream, pending: [], accepted: false };
    const previous = this.#current;
    this.#current = s;
    if (previous) this.#retire(previous);
    this.stats.opens += 1;
    stream.on('metadata', () => {
      s.accepted = true;
      this.emit('connected');
    });
    stream.on('data', (u: FunctionUpdateMessage) => this.#onUpdate(s, u));
    stream.on('error', () => undefined); // the outcome is read from 'status'
    stream.on('status', (status: grpc.StatusObject) => this.#onEnd(s, status));
    for (const fn of this.#functions.values()) this.#sendRegistration(s, fn, true);
  }

  /** An old stream keeps answering what comes on it for a short while, then it is closed. */
  #retire(s: StreamState): void {
    this.#retiring.add(s);
    const timer = setTimeout(() => this.#end(s), 2000);
    timer.unref();
  }

  #end(s: StreamState): void {
    this.#retiring.delete(s);
    s.stream.removeAllListeners('data');
    try {
      s.stream.end();
    } catch {
      // already gone
    }
    s.stream.cancel();
  }

  #dropStreams(): void {
    const s = this.#current;
    this.#current = undefined;
    if (s) this.#end(s);
    for (const r of [...this.#retiring]) this.#end(r);
  }

  #onEnd(s: StreamState, status: grpc.StatusObject): void {
    this.#retiring.delete(s);
    if (this.#current !== s) return;
    this.#current = undefined;
    if (this.#closed) return;
    if (this.#functions.size === 0) return; // the broker closes streams nobody serves on
    const error = new OpenObdError(
      grpcStatusName(status.code),
      `The function stream ended (${grpcStatusName(status.code)}${status.details ? `: ${status.details}` : ''})`,
      { operation: 'functionBroker.openFunctionStream', grpcCode: status.code, details: status.details, retryable: true },
    );
    if (status.code === GrpcStatus.UNAUTHENTICATED) this.#token = undefined;
    for (const fn of this.#functions.values()) fn.setState('reconnecting', error.message);
    this.#log.warn(`${error.message}; reopening it`);
    this.#scheduleReopen(error);
  }

  #scheduleReopen(error: OpenObdError): void {
    if (this.#closed || this.#retryTimer) return;
    const delay = backoffDelay(this.#o.reconnect, this.#attempt);
    this.#attempt += 1;
    this.#log.debug(`function stream reopens in ${delay} ms (${error.code})`);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.stats.reopens += 1;
      this.#ensureStream();
    }, delay);
    this.#retryTimer.unref();
  }

  #onUpdate(s: StreamState, u: FunctionUpdateMessage): void {
    const request = u.type === 'FUNCTION_UPDATE_TYPE_REQUEST' || u.type === 1;
    if (request && u.function_broker_token) {
      // The broker's keep-alive: switch to the new token and echo it.
      this.stats.tokenPushes += 1;
      this.#token = { value: new Secret(u.function_broker_token.value), fetchedAt: Date.now() };
      this.#write(s, {
        type: 'FUNCTION_UPDATE_TYPE_RESPONSE',
        function_broker_token: { value: u.function_broker_token.value },
        response_description: 'Updated broker token',
      });
      return;
    }
    if (request && u.function_broker_reconnect) {
      this.stats.reconnectRequests += 1;
      this.#log.info(`the function broker asks to reconnect within ${u.function_broker_reconnect.seconds_until_disconnect} s`);
      if (this.#current === s) void this.#open();
      return;
    }
    if (request && u.function_call) {
      void this.#onCall(s, u.function_call);
      return;
    }
    if (!request && u.response !== undefined) this.#onRegistrationAnswer(s, u);
  }

  #onRegistrationAnswer(s: StreamState, u: FunctionUpdateMessage): void {
    const named = u.function_registration?.details?.id?.toLowerCase();
    let i = named ? s.pending.findIndex((p) => p.id === named) : 0;
    if (i < 0) i = 0;
    const sent = s.pending.splice(i, 1)[0];
    const id = named ?? sent?.id;
    if (!id) return;
    const online = sent ? sent.online : u.function_registration?.state !== 'FUNCTION_REGISTRATION_STATE_OFFLINE';
    const fn = this.#functions.get(id);
    const response = responseName(u.response);
    const reason = u.response_description ?? '';
    if (!online) {
      // An OFFLINE answer concerns a function that has stopped: tell it, whatever the broker said.
      const stopped = this.#stopping.get(id) ?? fn;
      this.#stopping.delete(id);
      stopped?.setState('offline', reason);
      return;
    }
    if (!fn) return;
    if (response === 'success') {
      this.#attempt = 0;
      fn.setState('online', reason);
    } else if (response === 'unauthorized') fn.setState('unauthorized', reason || 'the broker refused the signature');
    else fn.setState('failed', reason || `the broker answered ${response}`);
  }

  async #onCall(s: StreamState, call: FunctionCallMessage): Promise<void> {
    const fn = this.#functions.get(String(call.id).toLowerCase());
    const echo: FunctionCallMessage = {
      id: call.id,
      session_info: call.session_info ? { ...call.session_info, authentication_token: '' } : null,
    };
    if (call.caller_id) echo.caller_id = call.caller_id;
    const answer = (ok: boolean, description: string) =>
      this.#write(s, {
        type: 'FUNCTION_UPDATE_TYPE_RESPONSE',
        function_call: echo,
        response: ok ? 'FUNCTION_UPDATE_SUCCESS' : 'FUNCTION_UPDATE_FAILED',
        response_description: description,
      });
    // A function being registered again (a reconnect) serves; one the broker refused or that stopped does not.
    if (!fn || fn.state === 'unauthorized' || fn.state === 'failed' || fn.state === 'offline') {
      this.stats.refusedCalls += 1;
      answer(false, `Function ${call.id} is not hosted here`);
      return;
    }
    if (!call.session_info) {
      this.stats.refusedCalls += 1;
      answer(false, 'The call carries no session');
      return;
    }
    let session: Session;
    let args: Record<string, VariableValue>;
    try {
      session = await this.#o.openSession(sessionInfoFromWire(call.session_info));
      try {
        const list = await session.call<EmptyMessage, VariableListMessage>('function', 'getFunctionArgumentList', {});
        args = variablesToRecord(list.variables ?? []);
      } catch (err) {
        this.#log.warn(`The arguments of a call of ${fn.definition.name} could not be read: ${(err as Error).message}`);
        args = {};
      }
    } catch (err) {
      this.stats.refusedCalls += 1;
      const error = fromGrpcError(err, 'session.authenticate');
      this.#log.warn(`A call of ${fn.definition.name} could not take its session: ${error.message}`);
      answer(false, `The session could not be claimed: ${error.message}`);
      return;
    }
    session.servingFunction = fn.id;
    this.stats.calls += 1;
    fn.calls += 1;
    answer(true, `${fn.definition.name} started`);
    try {
      await fn.handler({ functionId: fn.id, callerId: call.caller_id || undefined, session, arguments: args });
    } catch (err) {
      this.#log.error(`${fn.definition.name} failed: ${(err as Error).message}`);
      if (session.active)
        await session
          .finish({ result: 'RESULT_FAILURE_RUNTIME_ERROR', description: String((err as Error).message).slice(0, 500) })
          .catch(() => undefined);
    }
  }

  /**
   * Stops hosting everything (each function set OFFLINE, bounded to 2 s), closes the stream and the
   * channel. Sessions handed to functions are not touched: they belong to whoever holds them.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    await Promise.all([...this.#functions.values()].map((fn) => fn.stop()));
    this.#closed = true;
    this.#closing.abort();
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    if (this.#graceTimer) clearTimeout(this.#graceTimer);
    this.#dropStreams();
    // Its connection carried the function stream only: nothing would come to use it idle.
    this.#lease.release({ linger: false });
    this.removeAllListeners();
  }

  get closed(): boolean {
    return this.#closed;
  }
}

function checkDefinition(d: FunctionDefinition): void {
  const bad = (m: string) => new OpenObdError('BAD_CONFIG', m);
  if (!d || typeof d !== 'object') throw bad('A function definition is required');
  if (typeof d.id !== 'string' || !UUID.test(d.id.trim()))
    throw bad(`The function id must be a UUID from generateSignature, got "${String(d.id)}"`);
  if (Secret.from(d.signature).isEmpty) throw bad(`Function ${d.id} has no signature`);
  if (typeof d.name !== 'string' || !d.name.trim()) throw bad(`Function ${d.id} needs a name`);
  if (d.name.length > 200) throw bad(`The name of function ${d.id} is too long`);
  if (d.visibility !== undefined && d.visibility !== 'dashboard' && d.visibility !== 'internal')
    throw bad(`Unknown visibility '${String(d.visibility)}'; use dashboard or internal`);
}
