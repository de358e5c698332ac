import type * as grpc from '@grpc/grpc-js';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { OpenObdError, grpcStatusName } from './errors';
import type { Logger } from './logger';
import { backoffDelay, type BackoffPolicy } from './retry';
import type { TokenMessage } from '../protocol';

export interface KeepaliveOptions {
  /** How often openOBD is expected to send a new token (default 120 s; learnt from the stream once seen). */
  expectedIntervalMs: number;
  /** No token for `interval × factor` means the stream is half-open: reopen it (default 1.25). */
  watchdogFactor: number;
  /** Backoff between reopen attempts. */
  reconnect: BackoffPolicy;
}

export interface KeepaliveHooks {
  /** Opens `session/openSessionTokenStream` with the newest token. */
  open(): grpc.ClientReadableStream<TokenMessage>;
  /** A new token arrived. */
  onToken(value: string): void;
  /** Milliseconds the newest token is still good for; reopening stops when this runs out. */
  tokenRemainingMs(): number;
  /**
   * The stream ended (other than by the watchdog): ask whether the session still exists.
   * Resolves true when the session has ended (the keepalive then stops for good).
   */
  sessionEnded(status: grpc.StatusObject | undefined): Promise<boolean>;
  /** An end of the session asked here (finish, interrupt) awaits its answer: a stream end is most likely that. */
  endAsked?(): boolean;
  /** The token expired before a stream could be reopened. */
  onLost(error: OpenObdError): void;
  /**
   * The stream was refused (its connection is at its stream cap): true when the session moved to another
   * connection, so the stream is reopened there at once.
   */
  refused?(status: grpc.StatusObject): boolean;
  /** The stream went down ('recovering') or came back ('healthy'). */
  onHealth(health: 'healthy' | 'recovering', error?: OpenObdError): void;
}

/**
 * The hidden keepalive of one session: holds `openSessionTokenStream` open and hands every token it
 * receives to the session. Where the official client silently stops refreshing after a network blip
 * (and the session dies five minutes later), this one reopens the stream with backoff for as long as the
 * current token is valid, and detects a half-open stream with a watchdog on the token cadence.
 */
export class Keepalive {
  #stream?: grpc.ClientReadableStream<TokenMessage>;
  #watchdog?: NodeJS.Timeout;
  #retryTimer?: NodeJS.Timeout;
  #attempt = 0;
  #lastTokenAt?: number;
  #learntIntervalMs?: number;
  #stopped = true;
  #health: 'healthy' | 'recovering' = 'healthy';
  /** Streams opened, tokens received and drops seen (for statistics and tests). */
  readonly stats = { opens: 0, tokens: 0, drops: 0, watchdogFires: 0 };

  constructor(
    private readonly options: KeepaliveOptions,
    private readonly hooks: KeepaliveHooks,
    private readonly log: Logger,
  ) {}

  get running(): boolean {
    return !this.#stopped;
  }

  get health(): 'healthy' | 'recovering' {
    return this.#health;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#open();
  }

  stop(): void {
    this.#stopped = true;
    this.#clearTimers();
    this.#dropStream();
  }

  /**
   * The cadence to watch: what the server actually does once two tokens have been seen, but never less
   * than the expected cadence. Gaps shorter than that are not the server's cadence: they are tokens
   * bunched after this process (or the network) held one up, and watching them would reopen healthy
   * streams; with hundreds of sessions that reopening itself keeps the process busy enough to go on.
   */
  get intervalMs(): number {
    return Math.max(this.#learntIntervalMs ?? 0, this.options.expectedIntervalMs);
  }

  #open(): void {
    if (this.#stopped) return;
    let stream: grpc.ClientReadableStream<TokenMessage>;
    try {
      stream = this.hooks.open();
    } catch (err) {
      this.#scheduleReopen(err instanceof OpenObdError ? err : new OpenObdError('UNKNOWN', String(err)));
      return;
    }
    this.stats.opens += 1;
    this.#stream = stream;
    this.#lastTokenAt = undefined; // learn the cadence only from two tokens of the same stream
    // Response headers mean the server accepted the call: the stream is back even before the next token.
    stream.on('metadata', () => {
      this.#markHealthy();
      // The server's cadence starts when it accepts the stream: time the first token from here, not
      // from the open call, which may have waited behind many others (hundreds of sessions starting).
      if (this.#lastTokenAt === undefined && this.#stream === stream) this.#armWatchdog();
    });
    stream.on('data', (m: TokenMessage) => this.#onToken(m));
    stream.on('error', () => undefined); // the outcome is read from 'status'
    stream.on('status', (s: grpc.StatusObject) => {
      if (this.#stream !== stream) return;
      this.#stream = undefined;
      void this.#onEnd(s);
    });
    this.#armWatchdog();
  }

  #onToken(m: TokenMessage): void {
    if (!m.value) return;
    const now = Date.now();
    if (this.#lastTokenAt !== undefined) {
      const gap = now - this.#lastTokenAt;
      if (gap > 0) this.#learntIntervalMs = gap;
    }
    this.#lastTokenAt = now;
    this.stats.tokens += 1;
    this.hooks.onToken(m.value);
    this.#markHealthy();
    this.#armWatchdog();
  }

  #markRecovering(error: OpenObdError): void {
    if (this.#health === 'recovering') return;
    this.#health = 'recovering';
    this.log.warn(`openOBD session keepalive interrupted: ${error.message}; reopening`);
    this.hooks.onHealth('recovering', error);
  }

  #markHealthy(): void {
    this.#attempt = 0;
    if (this.#health !== 'healthy') {
      this.#health = 'healthy';
      this.log.info('openOBD session keepalive restored');
      this.hooks.onHealth('healthy');
    }
  }

  async #onEnd(status: grpc.StatusObject, halfOpen = false): Promise<void> {
    if (this.#stopped) return;
    this.stats.drops += 1;
    this.#clearWatchdog();
    const error = new OpenObdError(
      grpcStatusName(status.code),
      `The session token stream ended (${grpcStatusName(status.code)}${status.details ? `: ${status.details}` : ''})`,
      { operation: 'session.openSessionTokenStream', grpcCode: status.code, details: status.details, retryable: true },
    );
    // openOBD does not document the status it ends a session's streams with, so any end may mean the
    // session is over: ask before reopening (a stream of an ended session is never reopened). Only the
    // watchdog's own finding is about the connection alone. A status that speaks of the connection shows
    // "recovering" at once; any other is asked about first, so an ended session is not shown reconnecting.
    const code = status.code;
    if (!halfOpen && this.hooks.refused?.(status)) {
      // On another connection now: reopened there (with the usual backoff, in case every one refuses).
      this.#markRecovering(error);
      this.#scheduleReopen(error);
      return;
    }
    const connection = halfOpen || code === GrpcStatus.UNAVAILABLE || code === GrpcStatus.INTERNAL || code === GrpcStatus.DEADLINE_EXCEEDED;
    // While a finish or interrupt asked here is on its way, the end is asked about first: no "reopening" for it.
    if (connection && (halfOpen || !this.hooks.endAsked?.())) this.#markRecovering(error);
    if (!halfOpen) {
      // A failed lookup cannot tell (e.g. openOBD unreachable): keep trying while the token lasts.
      const ended = await this.hooks.sessionEnded(status).catch(() => false);
      if (ended || this.#stopped) {
        this.stop();
        return;
      }
    }
    this.#markRecovering(error);
    this.#scheduleReopen(error);
  }

  #scheduleReopen(error: OpenObdError): void {
    if (this.#stopped) return;
    const delay = backoffDelay(this.options.reconnect, this.#attempt);
    this.#attempt += 1;
    const remaining = this.hooks.tokenRemainingMs();
    if (remaining <= delay) {
      this.stop();
      this.hooks.onLost(
        new OpenObdError(
          'SESSION_LOST',
          `The session's token expired before its keepalive could be restored (last error: ${error.message})`,
          {
            operation: 'session.openSessionTokenStream',
            grpcCode: error.grpcCode,
            details: error.details,
          },
        ),
      );
      return;
    }
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#open();
    }, delay);
  }

  #armWatchdog(): void {
    this.#clearWatchdog();
    const ms = Math.round(this.intervalMs * this.options.watchdogFactor);
    const armed = setTimeout(() => {
      // Timers run before the event loop reads sockets: after this process was busy for a while, a
      // token may be waiting unread. Decide after one turn of the loop, once pending input is read.
      setImmediate(() => {
        if (this.#watchdog === armed && !this.#stopped) this.#watchdogFired(ms);
      });
    }, ms);
    armed.unref();
    this.#watchdog = armed;
  }

  #watchdogFired(ms: number): void {
    this.#watchdog = undefined;
    this.stats.watchdogFires += 1;
    this.log.warn(`No session token for ${ms} ms: the token stream looks half-open; reopening it`);
    const stream = this.#stream;
    this.#stream = undefined;
    if (stream) {
      stream.removeAllListeners('data');
      stream.cancel();
    }
    void this.#onEnd({ code: GrpcStatus.UNAVAILABLE, details: 'no token within the expected cadence', metadata: undefined as never }, true);
  }

  #clearWatchdog(): void {
    if (this.#watchdog) clearTimeout(this.#watchdog);
    this.#watchdog = undefined;
  }

  #clearTimers(): void {
    this.#clearWatchdog();
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
  }

  #dropStream(): void {
    const stream = this.#stream;
    this.#stream = undefined;
    if (stream) {
      stream.removeAllListeners('data');
      stream.removeAllListeners('metadata');
      stream.cancel();
    }
  }
}
