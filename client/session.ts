import { EventEmitter } from 'node:events';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { OpenObdError, fromGrpcError, isStreamRefusal } from './errors';
import type { ConnectionLease, ConnectionPool, ResolvedEndpoint } from './endpoint';
import { defaultConnectionPool } from './endpoint';
import { Keepalive } from './keepalive';
import { safeLogger, type Logger } from './logger';
import type { BackoffPolicy } from './retry';
import { Rpc } from './rpc';
import { Secret } from './secret';
import { SessionFate, sessionEndedError, type AskedEnd, type EndCause } from './session-fate';
import { SessionUi, type UiOptions } from './ui';
import { SessionFunctions, serviceResultMessage } from './functions';
import { isFinalState, summarize, type SessionInfo, type SessionSummary } from './session-info';
import { DEFAULT_UDS_TIMING, type UdsExchange, type UdsTiming } from './uds-request';
import type { BusSpec, CanBusSpec, EcuSpec, Terminal15BusSpec } from './vehicle-spec';
import { TransportEngine } from './transports';
import type { Terminal15State } from './transports/terminal15';
import { FollowedStreams, type WatchFramesOptions } from './followed-streams';
import type {
  BusConfigurationMessage,
  ConfigurationMessage,
  ConnectorInformationMessage,
  EcuListMessage,
  EmptyMessage,
  FunctionContextMessage,
  ResultName,
  ServiceResultMessage,
  TokenMessage,
  UserFeedbackName,
} from '../protocol';

export interface SessionOptions {
  /** Assumed validity of each session token (default 300 s, as openOBD documents). */
  tokenValidityMs?: number;
  /** Expected token cadence before one is observed (default 120 s). */
  tokenIntervalMs?: number;
  /** Half-open detection: no token for interval × factor reopens the stream (default 1.25). */
  watchdogFactor?: number;
  /** Backoff between keepalive reopen attempts (default 250 ms doubling to 5 s, jittered). */
  reconnect?: BackoffPolicy;
  /** Deadline of unary session calls (default 15 s). */
  callTimeoutMs?: number;
  /**
   * No request and no `touch()` for this long emits 'idle' (default 0: never). The owner decides what to
   * do; the Node-RED account ends the session, so nothing a flow forgets blocks a car for hours.
   */
  idleLimitMs?: number;
  /** openOBD's maximum session duration (default 4 h): a session that ends after it is reported as such. */
  maxDurationMs?: number;
  /** Close an unused ISO-TP stream after this long; openOBD ends sessions whose streams idle for an hour (default 30 min). */
  isotpIdleCloseMs?: number;
  /** Default timing of diagnostic requests. */
  uds?: Partial<UdsTiming>;
  /** The control stream of `session.ui`: when it closes unused, how often a waiting control is sent again. */
  userInterface?: Partial<UiOptions>;
  logger?: Partial<Logger>;
}

/** What the controller hands a session besides the user's options. */
export interface SessionInit extends SessionOptions {
  endpoint: ResolvedEndpoint;
  connectionPool?: ConnectionPool;
  /** Asks openOBD for the session's state (through the session controller). */
  stateLookup?: (sessionId: string, timeoutMs: number) => Promise<string>;
}

/**
 * Local view of a session: the server states, plus `lost` (the token ran out before the keepalive could
 * renew it) and `closed` (released here without finishing; openOBD may still hold it).
 */
export type SessionState = 'available' | 'authenticating' | 'active' | 'finished' | 'interrupted' | 'failed' | 'lost' | 'closed';

export type { AskedEnd, EndCause } from './session-fate';

export interface SessionEnd {
  state: SessionState;
  reason: string;
  error?: OpenObdError;
  cause?: EndCause;
}

export interface FinishOptions {
  result?: ResultName | ResultName[];
  userFeedback?: UserFeedbackName;
  description?: string;
  /** Why it ends, as this process reports it afterwards (default: "finished with <results>"); not sent. */
  reason?: string;
  /** The same as a short cause, for statuses. */
  cause?: EndCause;
}

export { MAX_FUNCTIONAL_BYTES } from './transports';

/** openOBD's maximum session duration (openOBD documentation, "Limitations": 14,400 s). */
export const MAX_SESSION_DURATION_MS = 4 * 60 * 60_000;

/*
 * Statuses of a failed session call that can mean the session itself is over (openOBD does not say which
 * one it uses): such a failure is checked with openOBD before it is reported.
 */
const SESSION_STATUSES: ReadonlySet<number> = new Set([
  GrpcStatus.FAILED_PRECONDITION,
  GrpcStatus.UNAUTHENTICATED,
  GrpcStatus.PERMISSION_DENIED,
  GrpcStatus.NOT_FOUND,
  GrpcStatus.CANCELLED,
  GrpcStatus.UNAVAILABLE,
]);

export { RESULT_NAMES, USER_FEEDBACK_NAMES } from '../protocol';

/**
 * One claimed openOBD session: its token, its hidden keepalive, its vehicle link. Events:
 * `state` (state, reason), `token` ({ count, expiresAt }) without the value, `keepalive`
 * ('healthy' | 'recovering', error?), `idle` (ms unused, with an idle limit set), `ended` (SessionEnd)
 * once, `closed` once.
 */
export class Session extends EventEmitter {
  readonly id: string;
  readonly createdAt: string;
  #state: SessionState;
  #authToken: Secret;
  #functions?: SessionFunctions;
  /** While another function holds the session (a function call): its id. */
  #handedOver?: string;
  /** The function this session was handed to run, if it came from the function broker. */
  #servingFunction?: string;
  #token?: Secret;
  #tokenExpiresAt = 0;
  #tokenCount = 0;
  readonly #opts: Required<Omit<SessionOptions, 'logger' | 'uds' | 'userInterface'>> & { uds: UdsTiming };
  readonly #uiOptions?: Partial<UiOptions>;
  #ui?: SessionUi;
  readonly #lease: ConnectionLease;
  readonly #rpc: Rpc;
  readonly #log: Logger;
  readonly #keepalive: Keepalive;
  readonly #fate: SessionFate;
  /** The buses, the vehicle streams and the request path of every transport (client/transports/engine.ts). */
  readonly #engine: TransportEngine;
  #ended?: SessionEnd;
  /** Ends asked of openOBD here whose answers are still on their way (finish, an interrupt): see expectEnd. */
  readonly #askedEnds: Array<{ end: AskedEnd; taken: boolean }> = [];
  #closed = false;
  /** When a request or a touch() last used the session (for the idle limit). */
  #lastUsedAt = Date.now();
  /** Frame, terminal 15 and connector streams, opened on first use. */
  #followed?: FollowedStreams;
  #idleTimer?: NodeJS.Timeout;

  constructor(info: SessionInfo, init: SessionInit) {
    super();
    this.id = info.id;
    this.createdAt = info.createdAt;
    this.#state = isFinalState(info.state) ? (info.state as SessionState) : 'available';
    this.#authToken = info.authenticationToken;
    this.#opts = {
      tokenValidityMs: init.tokenValidityMs ?? 300_000,
      tokenIntervalMs: init.tokenIntervalMs ?? 120_000,
      watchdogFactor: init.watchdogFactor ?? 1.25,
      reconnect: init.reconnect ?? { initialDelayMs: 250, maxDelayMs: 5000, factor: 2 },
      callTimeoutMs: init.callTimeoutMs ?? 15_000,
      isotpIdleCloseMs: init.isotpIdleCloseMs ?? 30 * 60_000,
      maxDurationMs: init.maxDurationMs ?? MAX_SESSION_DURATION_MS,
      idleLimitMs: init.idleLimitMs ?? 0,
      uds: { ...DEFAULT_UDS_TIMING, ...init.uds },
    };
    this.#uiOptions = init.userInterface;
    this.#log = safeLogger(init.logger);
    this.#fate = new SessionFate({
      sessionId: this.id,
      lookup: init.stateLookup,
      ended: () => this.#ended,
      end: (state, reason, cause) => this.#end(state as SessionState, reason, undefined, cause),
      askedEnd: (state) => {
        const asked = this.#askedEnds.find((a) => a.end.state === state);
        if (asked) asked.taken = true;
        return asked?.end;
      },
      tokenRemainingMs: () => this.#tokenExpiresAt - Date.now(),
      createdAtMs: Date.parse(info.createdAt) || Date.now(),
      maxDurationMs: this.#opts.maxDurationMs,
    });
    this.#lease = (init.connectionPool ?? defaultConnectionPool).acquire(init.endpoint, 'sessions');
    this.#rpc = new Rpc(this.#lease);
    this.#keepalive = new Keepalive(
      { expectedIntervalMs: this.#opts.tokenIntervalMs, watchdogFactor: this.#opts.watchdogFactor, reconnect: this.#opts.reconnect },
      {
        open: () => this.#rpc.serverStream<EmptyMessage, TokenMessage>('session', 'openSessionTokenStream', {}, { token: this.#token }),
        onToken: (value) => this.#acceptToken(value),
        tokenRemainingMs: () => this.#tokenExpiresAt - Date.now(),
        sessionEnded: () => this.#fate.check().then((v) => v.kind === 'ended'),
        endAsked: () => this.#askedEnds.length > 0,
        onLost: (error) => this.#end('lost', error.message, error),
        onHealth: (health, error) => this.emit('keepalive', health, error),
        refused: (status) => isStreamRefusal(status.code, status.details) && this.#moveOn(),
      },
      this.#log,
    );
    this.#engine = new TransportEngine({
      open: (service, method) => this.#rpc.bidi(service, method, { token: this.#token }),
      sendBuses: (buses) =>
        this.#onAnotherConnectionIfRefused(
          () =>
            this.#rpc.clientStream<BusConfigurationMessage, EmptyMessage>('config', 'configureBus', buses, {
              token: this.#token,
              timeoutMs: this.#opts.callTimeoutMs,
            }),
          'config.configureBus',
        ).then(() => undefined),
      assertActive: (operation) => this.#assertActive(operation),
      explainEnd: (error, operation) => this.#fate.explain(error, operation, 'the request'),
      explainFailure: this.#explainFailure,
      refused: () => this.#moveOn(),
      log: this.#log,
      idleCloseMs: this.#opts.isotpIdleCloseMs,
      uds: this.#opts.uds,
    });
  }

  get state(): SessionState {
    return this.#state;
  }

  get active(): boolean {
    return this.#state === 'active';
  }

  /** 'healthy' while the token stream is up, 'recovering' while it is being reopened. */
  get keepaliveHealth(): 'healthy' | 'recovering' {
    return this.#keepalive.health;
  }

  get ended(): SessionEnd | undefined {
    return this.#ended;
  }

  /** The session's user interface (openOBD documentation, "User interface"); its control stream opens on the first ask. */
  get ui(): SessionUi {
    this.#ui ??= new SessionUi(
      {
        open: () => this.#rpc.bidi('userInterface', 'openControlStream', { token: this.#token }),
        assertActive: (operation) => {
          this.#assertActive(operation);
          this.touch();
        },
        explain: (error, operation) => this.explainStreamEnd(error, operation, 'the question to the technician'),
        log: this.#log,
      },
      this.#uiOptions,
    );
    return this.#ui;
  }

  /** Variables, arguments, results and calls of other functions (openOBD documentation, "Function calls"). */
  get functions(): SessionFunctions {
    this.#functions ??= new SessionFunctions({
      sessionId: this.id,
      createdAt: this.createdAt,
      endpoint: this.#lease.endpoint.target,
      servingFunction: () => this.#servingFunction,
      call: (service, name, request) => this.call(service, name, request),
      startContext: (functionId) => this.#startContext(functionId),
      monitor: (request, token) => this.#rpc.serverStream('function', 'monitorFunctionContext', request, { token }),
      finishWith: async (token, result) => {
        await this.#rpc.unary('session', 'finish', result, { token, timeoutMs: this.#opts.callTimeoutMs });
      },
      takeBack: (token) => this.#takeBack(token),
      lost: (error) => {
        this.#handedOver = undefined;
        if (!this.#ended) this.#end(error.code === 'SESSION_ENDED' ? 'interrupted' : 'lost', error.message, error);
      },
      explain: (error, operation) => this.explainStreamEnd(error, operation, 'the function call'),
      log: this.#log,
    });
    return this.#functions;
  }

  /** The function this session runs (set when the function broker handed it over), or undefined. */
  get servingFunction(): string | undefined {
    return this.#servingFunction;
  }

  set servingFunction(id: string | undefined) {
    this.#servingFunction = id;
  }

  /** The function the session is handed over to right now, or undefined. */
  get handedOverTo(): string | undefined {
    return this.#handedOver;
  }

  /** Hands the session over: its keepalive, user interface and streams stop (the server revokes its tokens). */
  async #startContext(functionId: string): Promise<FunctionContextMessage> {
    this.#assertActive('function.startFunctionContext');
    this.#handedOver = functionId;
    this.#keepalive.stop();
    this.#ui?.interrupt(new OpenObdError('HANDED_OVER', `Session ${this.id} was handed over to function ${functionId}`));
    try {
      return await this.#rpc.unary('function', 'startFunctionContext', {}, { token: this.#token, timeoutMs: this.#opts.callTimeoutMs });
    } catch (err) {
      this.#handedOver = undefined;
      if (!this.#closed) this.#keepalive.start();
      throw fromGrpcError(err, 'function.startFunctionContext');
    }
  }

  /** Takes the session back after a function call: authenticate with the fresh token, keepalive again. */
  async #takeBack(token: Secret): Promise<void> {
    if (this.#closed) throw new OpenObdError('CLOSED', `Session ${this.id} was closed while a function had it`);
    this.#authToken = token;
    try {
      const reply = await this.#rpc.unary<EmptyMessage, TokenMessage>(
        'session',
        'authenticate',
        {},
        { token, timeoutMs: this.#opts.callTimeoutMs },
      );
      this.#acceptToken(reply.value);
    } catch (err) {
      const error = await this.#fate.explain(
        fromGrpcError(err, 'session.authenticate'),
        'session.authenticate',
        'the session was taken back',
      );
      this.#handedOver = undefined;
      if (!this.#ended) this.#end('lost', error.message, error);
      throw error;
    }
    this.#handedOver = undefined;
    // The callee may have configured the buses its own way: configure them again on the next request.
    this.#engine.forgetBuses();
    if (!this.#closed) this.#keepalive.start();
  }

  /** Counters for statistics and leak checks. */
  get stats() {
    const transports = this.#engine.stats();
    return {
      tokens: this.#tokenCount,
      keepalive: { ...this.#keepalive.stats },
      isotpStreams: transports.isotp!.opens,
      isotpOpen: transports.isotp!.open,
      channels: this.#engine.budget.inUse,
      busyChannels: this.#engine.budget.busy,
      transports,
      frames: this.#engine.frameCounts,
    };
  }

  /** When the newest token stops being valid (estimated from its arrival and the documented 5 minutes). */
  get tokenExpiresAt(): number {
    return this.#tokenExpiresAt;
  }

  summary(): SessionSummary {
    return summarize({ id: this.id, state: this.#state, createdAt: this.createdAt });
  }

  #setState(state: SessionState, reason: string): void {
    if (this.#state === state) return;
    this.#state = state;
    this.emit('state', state, reason);
  }

  #acceptToken(value: string): void {
    this.#token = new Secret(value);
    this.#tokenExpiresAt = Date.now() + this.#opts.tokenValidityMs;
    this.#tokenCount += 1;
    this.emit('token', { count: this.#tokenCount, expiresAt: this.#tokenExpiresAt });
  }

  /** Authenticates with the one-time token (claiming the session) and starts the keepalive. */
  async open(): Promise<void> {
    if (this.#state !== 'available') throw new OpenObdError('SESSION_ENDED', `Session ${this.id} cannot be claimed: it is ${this.#state}`);
    this.#setState('authenticating', 'claiming the session');
    try {
      const reply = await this.#rpc.unary<EmptyMessage, TokenMessage>(
        'session',
        'authenticate',
        {},
        { token: this.#authToken, timeoutMs: this.#opts.callTimeoutMs },
      );
      this.#acceptToken(reply.value);
    } catch (err) {
      const error = fromGrpcError(err, 'session.authenticate');
      this.#setState('available', error.message);
      throw error;
    }
    if (this.#closed) throw new OpenObdError('CLOSED', 'The session was closed while it was being claimed');
    this.#setState('active', 'authenticated');
    this.#keepalive.start();
    this.#armIdle(this.#opts.idleLimitMs);
    this.#log.info(`openOBD session ${this.id} active`);
  }

  /**
   * This session's connection refused a stream (it is at its stream cap): the session goes on on another
   * connection to its endpoint, which the pool opens if none has room. Returns whether it moved.
   */
  #moveOn(): boolean {
    if (this.#closed) return false;
    this.#lease.moveOn();
    this.#log.debug(`openOBD session ${this.id}: its connection refused a stream; moved to another connection`);
    return true;
  }

  /** Marks the session as used now (requests do this themselves), for the idle limit. */
  touch(): void {
    this.#lastUsedAt = Date.now();
  }

  /** How long nothing has used the session, in milliseconds (0 while something follows one of its streams). */
  get idleMs(): number {
    return (this.#followed?.watching ?? 0) > 0 ? 0 : Date.now() - this.#lastUsedAt;
  }

  /*
   * One timer per session, not re-armed on every request (the request path only stamps #lastUsedAt):
   * when it fires early because the session was used, it waits for the rest of the limit.
   */
  #armIdle(ms: number): void {
    const limit = this.#opts.idleLimitMs;
    if (!(limit > 0) || this.#closed) return;
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      if (this.#closed || this.#state !== 'active') return;
      const idle = this.idleMs;
      if (idle < limit) this.#armIdle(limit - idle);
      else if (this.#ui?.waiting || this.#handedOver) {
        // A question waiting for the technician, or a called function holding the session, is use.
        this.touch();
        this.#armIdle(limit);
      } else this.emit('idle', idle);
    }, ms);
    this.#idleTimer.unref();
  }

  #assertActive(operation: string): void {
    if (this.#handedOver && this.#state === 'active')
      throw new OpenObdError(
        'HANDED_OVER',
        `Session ${this.id} is handed over to function ${this.#handedOver} until it finishes; ${operation} has to wait`,
        {
          operation,
        },
      );
    if (this.#state === 'active') return;
    if (this.#ended) {
      throw new OpenObdError(
        this.#ended.state === 'lost' ? 'SESSION_LOST' : 'SESSION_ENDED',
        `Start a new session: session ${this.id} is ${this.#ended.state} (${this.#ended.reason}), so ${operation} is not possible`,
        { operation, sessionState: this.#ended.state },
      );
    }
    throw new OpenObdError('SESSION_ENDED', `Start a new session: session ${this.id} is ${this.#state}, so ${operation} is not possible`, {
      operation,
      sessionState: this.#state,
    });
  }

  /**
   * A unary session-level call with the newest token. A failure that may mean the session has ended is
   * checked with openOBD, and then reported as SESSION_ENDED with the session's state.
   */
  async call<Req, Res>(service: Parameters<Rpc['unary']>[0], name: string, request: Req): Promise<Res> {
    const operation = `${service}.${name}`;
    this.#assertActive(operation);
    this.#lastUsedAt = Date.now();
    const once = () => this.#rpc.unary<Req, Res>(service, name, request, { token: this.#token, timeoutMs: this.#opts.callTimeoutMs });
    try {
      return await this.#onAnotherConnectionIfRefused(once, operation);
    } catch (err) {
      const error = fromGrpcError(err, operation);
      throw SESSION_STATUSES.has(error.grpcCode ?? -1) ? await this.#fate.explain(error, operation) : error;
    }
  }

  /** Runs `call`; when its connection refused the stream, once more on another connection. */
  async #onAnotherConnectionIfRefused<T>(call: () => Promise<T>, operation: string): Promise<T> {
    try {
      return await call();
    } catch (err) {
      const error = fromGrpcError(err, operation);
      if (!isStreamRefusal(error.grpcCode, error.details) || !this.#moveOn()) throw error;
      return call();
    }
  }

  /**
   * For whatever else holds a stream of this session (the user interface, other buses): what to report
   * when that stream ended with `error`. SESSION_ENDED / SESSION_LOST when the session is over (openOBD
   * is asked when nothing here says so), otherwise `error`.
   */
  explainStreamEnd(error: OpenObdError, operation: string, what?: string): Promise<OpenObdError> {
    return this.#fate.explain(error, operation, what);
  }

  /**
   * Ends the session with a service result (default RESULT_SUCCESS) and releases everything it holds.
   * Finishing an already finished session resolves without another call.
   */
  async finish(options: FinishOptions = {}): Promise<SessionSummary> {
    if (this.#state === 'finished') return this.summary();
    const message = serviceResultMessage(options);
    const reason = options.reason ?? 'finished with ' + message.result.join(', ');
    const asked = this.#expect({ state: 'finished', reason, cause: options.cause });
    try {
      await this.call<ServiceResultMessage, EmptyMessage>('session', 'finish', message);
    } catch (err) {
      // The answer failed, but openOBD had already said (to a stream's end) that the session is finished.
      if (asked.entry.taken) return this.summary();
      throw err;
    } finally {
      asked.done();
    }
    this.#end('finished', reason, undefined, options.cause);
    return this.summary();
  }

  /**
   * Tells the session that an end of it which this process asked openOBD for (an interrupt through the
   * controller) awaits its answer. Until the returned function runs, a stream that ends meanwhile is
   * reported as that end, not as another client's. finish() does this itself.
   */
  expectEnd(end: AskedEnd): () => void {
    return this.#expect(end).done;
  }

  #expect(end: AskedEnd): { entry: { end: AskedEnd; taken: boolean }; done: () => void } {
    const entry = { end: { ...end }, taken: false };
    this.#askedEnds.push(entry);
    const done = () => {
      const i = this.#askedEnds.indexOf(entry);
      if (i >= 0) this.#askedEnds.splice(i, 1);
    };
    return { entry, done };
  }

  /**
   * Configures the buses this session uses. openOBD replaces the whole set on every configureBus, so the
   * session keeps the union of every bus asked for and sends the union whenever a bus is new or changed.
   */
  configureBuses(buses: BusSpec[]): Promise<void> {
    return this.#engine.configureBuses(buses);
  }

  /** configureBuses for bus messages already built (a TP 2.0 or raw-frames bus is a CAN bus with its protocol set). */
  configureBusMessages(wanted: BusConfigurationMessage[]): Promise<void> {
    return this.#engine.configureBusMessages(wanted);
  }

  /**
   * Sends one diagnostic request (UDS, KWP2000 or OBD-II) to an ECU over its transport (ISO-TP, K-Line,
   * TP 2.0, DoIP) and waits for the answer(s); see TransportEngine.request.
   */
  request(ecu: EcuSpec, payload: unknown, timing: Partial<UdsTiming> = {}, signal?: AbortSignal): Promise<UdsExchange> {
    this.#lastUsedAt = Date.now();
    return this.#engine.request(ecu, payload, timing, signal);
  }

  /**
   * A request cancelled because its session ended here (ended, then closed) says how it ended. A request
   * cut off by the end of its stream was already explained by the link (SessionFate).
   */
  readonly #explainFailure = async (error: OpenObdError): Promise<OpenObdError> => {
    const ended = this.#ended;
    return error.code === 'CLOSED' && ended ? sessionEndedError(this.id, ended, 'uds.request', 'the request') : error;
  };

  /** The frame, terminal 15 and connector streams this session follows (FollowedStreams). */
  #follow(): FollowedStreams {
    this.#followed ??= new FollowedStreams({
      assertActive: (operation) => this.#assertActive(operation),
      ensureBus: (bus) => (this.#engine.busReady(bus) ? undefined : this.#engine.configureBusMessages([bus])),
      transports: this.#engine,
      open: (service, method) => this.#rpc.serverStream(service, method, {}, { token: this.#token }),
      explain: (error, operation) => this.#fate.explain(error, operation, 'the stream'),
      used: () => this.touch(),
    });
    return this.#followed;
  }

  /** Listens to raw CAN frames on a frames bus: see FollowedStreams.watchFrames. */
  watchFrames(bus: CanBusSpec, options: WatchFramesOptions): Promise<() => void> {
    return this.#follow().watchFrames(bus, options);
  }

  /** Sends raw CAN frames on `bus` (a frames bus), in order; each frame has at most 8 data bytes. */
  sendFrames(bus: CanBusSpec, frames: ReadonlyArray<{ id: number; data: unknown }>): Promise<number> {
    return this.#follow().sendFrames(bus, frames);
  }

  /** Follows terminal 15 (ignition) on `bus` (default: pin 1, named KL15): see FollowedStreams.watchTerminal15. */
  watchTerminal15(
    onState: (state: Terminal15State) => void,
    onError?: (error: OpenObdError) => void,
    bus?: Terminal15BusSpec,
  ): Promise<() => void> {
    return this.#follow().watchTerminal15(onState, onError, bus);
  }

  /** The buses this session has configured on openOBD (its union), as bus messages. */
  get configuredBuses(): BusConfigurationMessage[] {
    return this.#engine.configuredBuses;
  }

  getConfiguration(): Promise<ConfigurationMessage> {
    return this.call<EmptyMessage, ConfigurationMessage>('config', 'getConfiguration', {});
  }

  getConnectorInformation(): Promise<ConnectorInformationMessage> {
    return this.call<EmptyMessage, ConnectorInformationMessage>('connectionMonitor', 'getConnectorInformation', {});
  }

  getEcuList(): Promise<EcuListMessage> {
    return this.call<EmptyMessage, EcuListMessage>('vehicleInfo', 'getEcuList', {});
  }

  /** Follows the connector information stream (one message a second): see FollowedStreams.watchConnector. */
  watchConnector(onInfo: (info: ConnectorInformationMessage) => void, onError?: (error: OpenObdError) => void): () => void {
    return this.#follow().watchConnector(onInfo, onError);
  }

  /** Marks the session as ended (by a remote state, a loss or an interrupt) and releases it. */
  markEnded(state: string, reason: string, cause?: EndCause): void {
    this.#end((isFinalState(state) ? state : 'interrupted') as SessionState, reason, undefined, cause);
  }

  #end(state: SessionState, reason: string, error?: OpenObdError, cause?: EndCause): void {
    if (this.#ended) return;
    this.#ended = cause === undefined ? { state, reason, error } : { state, reason, error, cause };
    this.#setState(state, reason);
    if (state === 'lost') this.#log.error(`openOBD session ${this.id} lost: ${reason}`);
    else this.#log.info(`openOBD session ${this.id} ${state}: ${reason}`);
    this.emit('ended', this.#ended);
    this.close();
  }

  /**
   * Releases every stream, timer and the channel without finishing the session on openOBD (which then
   * ends it by itself once its token runs out). Use finish() to end it properly.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#keepalive.stop();
    this.#engine.close();
    this.#followed?.close();
    this.#lease.release();
    if (!this.#ended) {
      this.#ended = { state: 'closed', reason: 'released locally' };
      this.#setState('closed', 'released locally');
      this.emit('ended', this.#ended);
    }
    if (this.#ui && this.#ended) {
      const ended = this.#ended;
      this.#ui.close(
        ended.state === 'closed'
          ? new OpenObdError('CLOSED', `Session ${this.id} was closed here before the technician answered`)
          : sessionEndedError(this.id, ended, 'userInterface.openControlStream', 'the question to the technician'),
      );
    }
    this.emit('closed');
    this.removeAllListeners();
  }

  get closed(): boolean {
    return this.#closed;
  }

  override toString(): string {
    return `Session(${this.id}, ${this.#state})`;
  }

  toJSON(): SessionSummary {
    return this.summary();
  }
}
