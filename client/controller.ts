import { EventEmitter } from 'node:events';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { OpenObdError, fromGrpcError, isStreamRefusal, isTransientStatus } from './errors';
import {
  ConnectionPool,
  defaultConnectionPool,
  parseAddress,
  resolveEndpoint,
  OPENOBD_DEFAULT_HOST,
  type ConnectionLease,
  type EndpointOptions,
  type ResolvedEndpoint,
} from './endpoint';
import { safeLogger, type Logger } from './logger';
import { retrying, type RetryPolicy } from './retry';
import { Rpc } from './rpc';
import { Secret } from './secret';
import { isFinalState, sessionInfoFromWire, type SessionInfo } from './session-info';
import { Session, type EndCause, type SessionOptions } from './session';
import { FunctionBroker, type FunctionBrokerOptions } from './function-broker';
import type { Authenticate, EmptyMessage, IdMessage, SessionInfoListMessage, SessionInfoMessage, TokenMessage } from '../protocol';

/** Partner API credentials. Blank fields fall back to the official environment variables. */
export interface PartnerCredentials {
  clientId?: string;
  clientSecret?: string | Secret;
  clusterId?: string;
}

export const ENV = {
  clientId: 'OPENOBD_PARTNER_CLIENT_ID',
  clientSecret: 'OPENOBD_PARTNER_CLIENT_SECRET',
  clusterId: 'OPENOBD_CLUSTER_ID',
  host: 'OPENOBD_GRPC_HOST',
  port: 'OPENOBD_GRPC_PORT',
} as const;

export interface SessionControllerOptions {
  /** The partner-level endpoint; default `OPENOBD_GRPC_HOST` or grpc.openobd.com, port 443, TLS. */
  endpoint?: EndpointOptions | string;
  credentials?: PartnerCredentials;
  /** Assumed lifetime of a controller token; the server does not say (default 5400 s, as the official client). */
  tokenLifetimeMs?: number;
  /** Fetch a new controller token this long before the assumed lifetime ends (default 60 s). */
  tokenRefreshMarginMs?: number;
  /** Deadline of every unary call (default 15 s). */
  callTimeoutMs?: number;
  /** Retries of idempotent calls (get, list, interrupt, token) on transient failures. */
  retry?: Partial<RetryPolicy>;
  /**
   * After openOBD rejects the credentials, further attempts fail fast with the same error for this long
   * instead of hammering the service (default 20 s: at most three attempts a minute).
   */
  authRetryCooldownMs?: number;
  /** Where sessions connect. Default: the `grpc_endpoint` of each SessionInfo, with this endpoint's TLS settings. */
  sessionEndpoint?: EndpointOptions | string;
  /** Defaults for every session this controller opens. */
  session?: SessionOptions;
  logger?: Partial<Logger>;
  /** A connection pool to share HTTP/2 connections with; default the process-wide pool. */
  connectionPool?: ConnectionPool;
  /** Environment to read fallbacks from (default process.env); tests pass their own. */
  env?: NodeJS.ProcessEnv;
}

/** How the controller's link to openOBD is doing, for status displays. */
export type ControllerState = 'idle' | 'ready' | 'unavailable' | 'rejected' | 'closed';

export type StartTarget = { ticketId: string } | { connectorId: string };

const DEFAULT_RETRY: RetryPolicy = { attempts: 4, initialDelayMs: 200, maxDelayMs: 3000, factor: 2 };

/** A credentials rejection is final until someone changes them; these statuses on the token call mean that. */
const REJECTION = new Set<number>([GrpcStatus.INVALID_ARGUMENT, GrpcStatus.UNAUTHENTICATED, GrpcStatus.PERMISSION_DENIED]);

/**
 * The partner-level client: holds the credentials, the controller token and one channel, and opens
 * sessions. Several controllers (several partners or clusters) can live in one process; nothing here is
 * a singleton, unlike the official client.
 */
export class SessionController extends EventEmitter {
  readonly endpoint: ResolvedEndpoint;
  readonly clusterId: string;
  readonly clientId: string;
  readonly #clientSecret: Secret;
  readonly #options: Required<
    Pick<SessionControllerOptions, 'tokenLifetimeMs' | 'tokenRefreshMarginMs' | 'callTimeoutMs' | 'authRetryCooldownMs'>
  >;
  readonly #retry: RetryPolicy;
  readonly #lease: ConnectionLease;
  readonly #rpc: Rpc;
  readonly #log: Logger;
  readonly #pool: ConnectionPool;
  readonly #sessionEndpoint?: EndpointOptions | string;
  readonly #sessionDefaults: SessionOptions;
  readonly #sessions = new Set<Session>();
  /** Where this controller's sessions connected, newest last: a new session likely goes there too. */
  readonly #sessionEndpoints = new Map<string, ResolvedEndpoint>();
  #broker?: FunctionBroker;
  #token?: { value: Secret; fetchedAt: number };
  #tokenFlight?: Promise<Secret>;
  #rejected?: { error: OpenObdError; at: number };
  #state: ControllerState = 'idle';
  #closed = false;
  /** Aborted by close(): retries waiting for their next attempt stop at once. */
  readonly #closing = new AbortController();

  constructor(options: SessionControllerOptions = {}) {
    super();
    const env = options.env ?? process.env;
    const creds = options.credentials ?? {};
    this.clientId = (creds.clientId || env[ENV.clientId] || '').trim();
    this.#clientSecret = Secret.from(
      creds.clientSecret && !Secret.from(creds.clientSecret).isEmpty ? creds.clientSecret : env[ENV.clientSecret],
    );
    this.clusterId = (creds.clusterId || env[ENV.clusterId] || '001').trim();
    if (!this.clientId) {
      throw new OpenObdError('BAD_CONFIG', `No openOBD client id: set it in the account or in ${ENV.clientId}`);
    }
    if (this.#clientSecret.isEmpty) {
      throw new OpenObdError('BAD_CONFIG', `No openOBD client secret: set it in the account or in ${ENV.clientSecret}`);
    }
    this.endpoint = resolveEndpoint(options.endpoint ?? defaultEndpointFromEnv(env));
    this.#options = {
      tokenLifetimeMs: options.tokenLifetimeMs ?? 5_400_000,
      tokenRefreshMarginMs: options.tokenRefreshMarginMs ?? 60_000,
      callTimeoutMs: options.callTimeoutMs ?? 15_000,
      authRetryCooldownMs: options.authRetryCooldownMs ?? 20_000,
    };
    this.#retry = { ...DEFAULT_RETRY, ...options.retry };
    this.#log = safeLogger(options.logger);
    this.#pool = options.connectionPool ?? defaultConnectionPool;
    this.#sessionEndpoint = options.sessionEndpoint;
    this.#sessionDefaults = options.session ?? {};
    this.#lease = this.#pool.acquire(this.endpoint);
    this.#rpc = new Rpc(this.#lease);
  }

  get state(): ControllerState {
    return this.#state;
  }

  /** Sessions opened through this controller that are not closed yet. */
  get openSessions(): readonly Session[] {
    return [...this.#sessions];
  }

  #setState(state: ControllerState, error?: OpenObdError): void {
    if (this.#state === state || this.#state === 'closed') return;
    this.#state = state;
    this.emit('state', state, error);
  }

  #assertOpen(): void {
    if (this.#closed) throw new OpenObdError('CLOSED', 'The openOBD session controller is closed');
  }

  /** The controller token: fetched once, shared by concurrent callers, refreshed before its assumed lifetime. */
  async token(): Promise<Secret> {
    this.#assertOpen();
    const t = this.#token;
    if (t && Date.now() - t.fetchedAt < this.#options.tokenLifetimeMs - this.#options.tokenRefreshMarginMs) return t.value;
    if (this.#rejected && Date.now() - this.#rejected.at < this.#options.authRetryCooldownMs) throw this.#rejected.error;
    if (!this.#tokenFlight) {
      this.#tokenFlight = this.#fetchToken().finally(() => {
        this.#tokenFlight = undefined;
      });
    }
    return this.#tokenFlight;
  }

  async #fetchToken(): Promise<Secret> {
    const request: Authenticate = {
      client_id: this.clientId,
      client_secret: this.#clientSecret.reveal(),
      cluster_id: this.clusterId,
    };
    try {
      const reply = await retrying(
        // Only the first attempt waits for a reconnecting channel: retries must not multiply that wait.
        (attempt) =>
          this.#rpc.unary<Authenticate, TokenMessage>('sessionController', 'getSessionControllerToken', request, {
            timeoutMs: this.#options.callTimeoutMs,
            connectWaitMs: attempt === 0 ? undefined : 0,
          }),
        this.#retry,
        { shouldRetry: isTransient, signal: this.#closing.signal },
      );
      const value = new Secret(reply.value);
      this.#token = { value, fetchedAt: Date.now() };
      this.#rejected = undefined;
      this.#log.debug('openOBD session controller token obtained');
      this.#setState('ready');
      return value;
    } catch (err) {
      const error = fromGrpcError(err, 'sessionController.getSessionControllerToken');
      if (error.grpcCode !== undefined && REJECTION.has(error.grpcCode)) {
        this.#rejected = { error, at: Date.now() };
        this.#setState('rejected', error);
        this.#log.error(error.message);
      } else {
        this.#setState('unavailable', error);
      }
      throw error;
    }
  }

  /**
   * A sessionController call with the controller token. A token the server no longer accepts is fetched
   * again once; idempotent calls are also retried on transient failures.
   */
  async #call<Req, Res>(name: string, request: Req, idempotent: boolean, quick?: { timeoutMs: number }): Promise<Res> {
    this.#assertOpen();
    const timeoutMs = quick?.timeoutMs ?? this.#options.callTimeoutMs;
    const once = async (attempt = 0): Promise<Res> => {
      const token = await this.token();
      try {
        // Only the first attempt waits for a reconnecting channel: retries must not multiply that wait.
        // A quick call does not wait at all: its caller wants an answer now or knows it cannot have one.
        return await this.#rpc.unary<Req, Res>('sessionController', name, request, {
          token,
          timeoutMs,
          connectWaitMs: attempt === 0 && !quick ? undefined : 0,
        });
      } catch (err) {
        // The controllers' connection refused the call (at its stream cap): later calls go on another one.
        if (err instanceof OpenObdError && isStreamRefusal(err.grpcCode, err.details)) this.#lease.moveOn();
        if (err instanceof OpenObdError && err.grpcCode === GrpcStatus.UNAUTHENTICATED && this.#token?.value === token) {
          this.#token = undefined;
          this.#log.debug('openOBD controller token was not accepted any more; fetching a new one');
          const fresh = await this.token();
          return this.#rpc.unary<Req, Res>('sessionController', name, request, { token: fresh, timeoutMs });
        }
        throw err;
      }
    };
    try {
      const result =
        idempotent && !quick
          ? await retrying(once, this.#retry, {
              shouldRetry: isTransient,
              signal: this.#closing.signal,
              onRetry: (err, attempt, delay) =>
                this.#log.debug(`sessionController.${name} failed (${(err as OpenObdError).code}); retry ${attempt} in ${delay} ms`),
            })
          : await once();
      this.#setState('ready');
      return result;
    } catch (err) {
      const error = fromGrpcError(err, `sessionController.${name}`);
      if (error.grpcCode === GrpcStatus.UNAVAILABLE && !/in use|no free resources/i.test(error.details ?? '')) {
        this.#setState('unavailable', error);
      }
      throw error;
    }
  }

  /** Starts a session on a ticket (billed, production use). Never retried: it may have reached the server. */
  async startSessionOnTicket(ticketId: string): Promise<SessionInfo> {
    const value = requireId(ticketId, 'ticket id');
    return sessionInfoFromWire(await this.#call<IdMessage, SessionInfoMessage>('startSessionOnTicket', { value }, false));
  }

  /** Starts a session on a connector (development only, not billed). Never retried. */
  async startSessionOnConnector(connectorId: string): Promise<SessionInfo> {
    const value = requireId(connectorId, 'connector id');
    return sessionInfoFromWire(await this.#call<IdMessage, SessionInfoMessage>('startSessionOnConnector', { value }, false));
  }

  async getSession(sessionId: string): Promise<SessionInfo> {
    const value = requireId(sessionId, 'session id');
    return sessionInfoFromWire(await this.#call<IdMessage, SessionInfoMessage>('getSession', { value }, true).catch(forgotten(value)));
  }

  /**
   * The state openOBD reports for a session, asked once without retries or waiting for a reconnect,
   * within `timeoutMs`: what a session asks when one of its streams ends.
   */
  async sessionState(sessionId: string, timeoutMs: number): Promise<string> {
    const value = requireId(sessionId, 'session id');
    const info = await this.#call<IdMessage, SessionInfoMessage>('getSession', { value }, true, { timeoutMs }).catch(forgotten(value));
    return info.state;
  }

  async listSessions(): Promise<SessionInfo[]> {
    const reply = await this.#call<EmptyMessage, SessionInfoListMessage>('getSessionList', {}, true);
    return (reply.sessions ?? []).map(sessionInfoFromWire);
  }

  /**
   * Interrupts a session (final state `interrupted`). Interrupting twice ends the same way, so it is
   * retried. `reason` is what this process reports as the reason (default: through the session controller).
   */
  async interruptSession(sessionId: string, reason = 'interrupted through the session controller', cause?: EndCause): Promise<SessionInfo> {
    const value = requireId(sessionId, 'session id');
    // The session's streams may end before the answer comes: they are this interrupt, not someone else's.
    const asked = [...this.#sessions].filter((s) => s.id === value).map((s) => s.expectEnd({ state: 'interrupted', reason, cause }));
    let info: SessionInfo;
    try {
      info = sessionInfoFromWire(
        await this.#call<IdMessage, SessionInfoMessage>('interruptSession', { value }, true).catch(forgotten(value)),
      );
    } finally {
      for (const done of asked) done();
    }
    for (const s of this.#sessions)
      if (s.id === info.id) s.markEnded(info.state === 'available' || info.state === 'active' ? 'interrupted' : info.state, reason, cause);
    return info;
  }

  /** Where a session's calls go: its own `grpc_endpoint`, with this controller's TLS settings. */
  sessionEndpointFor(info: SessionInfo): ResolvedEndpoint {
    if (this.#sessionEndpoint) return resolveEndpoint(this.#sessionEndpoint);
    const parsed = parseAddress(info.grpcEndpoint || this.endpoint.target);
    return resolveEndpoint({
      host: parsed.host,
      port: parsed.port ?? 443,
      tls: parsed.tls ?? this.endpoint.tls,
      ca: this.endpoint.ca,
      allowInsecure: this.endpoint.allowInsecure,
      channelOptions: this.endpoint.channelOptions,
    });
  }

  /**
   * Claims a session: connects to its endpoint, authenticates with the one-time token and starts the
   * keepalive. The returned Session is active.
   */
  async openSession(info: SessionInfo, options: SessionOptions = {}): Promise<Session> {
    this.#assertOpen();
    const endpoint = this.sessionEndpointFor(info);
    this.#sessionEndpoints.delete(endpoint.key);
    this.#sessionEndpoints.set(endpoint.key, endpoint);
    const session = new Session(info, {
      ...this.#sessionDefaults,
      ...options,
      endpoint,
      connectionPool: this.#pool,
      logger: options.logger ?? this.#sessionDefaults.logger ?? this.#log,
      stateLookup: (id, timeoutMs) => this.sessionState(id, timeoutMs),
    });
    this.#sessions.add(session);
    session.once('closed', () => this.#sessions.delete(session));
    try {
      await session.open();
      return session;
    } catch (err) {
      session.close();
      throw err;
    }
  }

  /**
   * Starts and claims a session in one step. If claiming fails, the fresh session is interrupted so the
   * ticket or connector is not blocked until openOBD's 60-second authentication timeout.
   */
  async startSession(target: StartTarget, options: SessionOptions = {}): Promise<Session> {
    this.#warmSessionConnection();
    const info =
      'ticketId' in target ? await this.startSessionOnTicket(target.ticketId) : await this.startSessionOnConnector(target.connectorId);
    try {
      return await this.openSession(info, options);
    } catch (err) {
      if (!isFinalState(info.state)) {
        await this.interruptSession(info.id).catch((e: unknown) =>
          this.#log.warn(`Could not interrupt unclaimed session ${info.id}: ${(e as Error).message}`),
        );
      }
      throw err;
    }
  }

  /**
   * A session is being started: its connection starts connecting now, alongside the start call, when
   * its endpoint can be known before the answer (a configured session endpoint, or where this
   * controller's last session went). Usually a connection is still there from the last session.
   */
  #warmSessionConnection(): void {
    let endpoint: ResolvedEndpoint | undefined;
    try {
      endpoint = this.#sessionEndpoint ? resolveEndpoint(this.#sessionEndpoint) : [...this.#sessionEndpoints.values()].pop();
    } catch {
      return; // a bad session endpoint: openSession reports it
    }
    if (!endpoint) return;
    this.#sessionEndpoints.set(endpoint.key, endpoint);
    this.#pool.warm(endpoint);
  }

  /**
   * The function broker of this partner (openOBD documentation, "Function broker"): created on first use
   * with this controller's endpoint and credentials; the sessions it is handed are opened here.
   */
  functionBroker(options: Partial<Omit<FunctionBrokerOptions, 'endpoint' | 'credentials' | 'openSession'>> = {}): FunctionBroker {
    this.#assertOpen();
    this.#broker ??= new FunctionBroker({
      ...options,
      endpoint: this.endpoint,
      credentials: { clientId: this.clientId, clientSecret: this.#clientSecret, clusterId: this.clusterId },
      openSession: (info) => this.openSession(info),
      connectionPool: this.#pool,
      logger: options.logger ?? this.#log,
    });
    return this.#broker;
  }

  /**
   * Releases the controller: closes every session it opened (their streams and timers) and the channel.
   * Closing does not end the sessions on openOBD: a caller that wants them ended finishes or interrupts
   * them first (the Node-RED account does, by its close policy).
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.abort();
    void this.#broker?.close();
    for (const s of [...this.#sessions]) s.close();
    this.#sessions.clear();
    this.#lease.release();
    // Connections kept idle for this controller's next session: there is none.
    for (const endpoint of this.#sessionEndpoints.values()) this.#pool.closeIdle(endpoint);
    this.#sessionEndpoints.clear();
    this.#state = 'closed';
    this.emit('state', 'closed');
    this.removeAllListeners();
  }

  get closed(): boolean {
    return this.#closed;
  }

  override toString(): string {
    return `SessionController(${this.endpoint.target}, client ${this.clientId}, cluster ${this.clusterId})`;
  }

  toJSON(): Record<string, unknown> {
    return { endpoint: this.endpoint.target, clientId: this.clientId, clusterId: this.clusterId, state: this.#state };
  }
}

/**
 * NOT_FOUND from getSession or interruptSession: openOBD forgets a session two minutes after it ends
 * (openOBD documentation, "Session states"), and never shows another partner's. Said in those words.
 */
function forgotten(sessionId: string): (err: unknown) => never {
  return (err: unknown) => {
    if (err instanceof OpenObdError && err.code === 'NOT_FOUND') {
      throw new OpenObdError(
        'NOT_FOUND',
        `openOBD does not know session ${sessionId}: it ended more than two minutes ago (openOBD keeps an ended session for two minutes), or it belongs to another partner account`,
        { operation: err.operation, grpcCode: err.grpcCode, details: err.details },
      );
    }
    throw err;
  };
}

function isTransient(err: unknown): boolean {
  return err instanceof OpenObdError && isTransientStatus(err.grpcCode, err.details);
}

function requireId(value: unknown, what: string): string {
  if (typeof value !== 'string' && typeof value !== 'number') {
    throw new OpenObdError('BAD_REQUEST', `The ${what} must be a string, got ${value === null ? 'null' : typeof value}`);
  }
  const s = String(value).trim();
  if (!s) throw new OpenObdError('BAD_REQUEST', `The ${what} is empty`);
  if (s.length > 200) throw new OpenObdError('BAD_REQUEST', `The ${what} is too long (${s.length} characters)`);
  return s;
}

function defaultEndpointFromEnv(env: NodeJS.ProcessEnv): EndpointOptions {
  const host = env[ENV.host]?.trim() || OPENOBD_DEFAULT_HOST;
  const port = env[ENV.port] ? Number(env[ENV.port]) : undefined;
  const parsed = parseAddress(host);
  return { host: parsed.host, port: port ?? parsed.port ?? 443, tls: parsed.tls ?? true };
}
