import { OpenObdError } from './errors';
import { isFinalState } from './session-info';

/**
 * What happened to a session when one of its streams ended. openOBD does not document which gRPC status
 * it sends on a session's open streams when the session ends (interrupted, finished elsewhere, failed,
 * out of time): it may be OK, CANCELLED, FAILED_PRECONDITION, NOT_FOUND, UNAVAILABLE... So the status
 * alone cannot tell "the session ended" from "the connection dropped", and a user who reads UNAVAILABLE
 * thinks openOBD is down and retries. When a stream ends, openOBD is asked for the session's state
 * (once for all streams that end together, bounded in time), and whoever was cut off is told what
 * really happened: SESSION_ENDED with the state, SESSION_LOST when the token ran out, or the original
 * error when the session is alive or openOBD cannot be reached.
 */

export type Verdict =
  /** The session reached a final state (it has been ended here too). */
  | { kind: 'ended' }
  /** openOBD says the session still runs: the stream broke on its own. */
  | { kind: 'alive' }
  /** openOBD could not be asked (unreachable, no answer in time, no way to ask). */
  | { kind: 'unknown'; error?: OpenObdError };

export interface SessionEndView {
  state: string;
  reason: string;
}

/** A short, stable cause of an end, for statuses: the reason says it in a sentence. */
export type EndCause = 'idle' | 'maxDuration' | 'replaced';

/** An end this process asked openOBD for (finish, or an interrupt through the controller), not yet answered. */
export interface AskedEnd {
  state: 'finished' | 'interrupted';
  reason: string;
  cause?: EndCause;
}

export interface FateHooks {
  sessionId: string;
  /** Asks openOBD for the session's state; rejects with the controller's error. */
  lookup?: (sessionId: string, timeoutMs: number) => Promise<string>;
  /** How the session ended, if it has. */
  ended(): SessionEndView | undefined;
  /** Ends the session here (state, reason, and a short cause where there is one). */
  end(state: string, reason: string, cause?: EndCause): void;
  /**
   * The end in `state` this process asked for and awaits the answer of, if any. openOBD ends the
   * session's streams when it ends the session, and nothing orders those ends before or after the
   * answer (separate gRPC calls): a stream that ends meanwhile is that end, not another client's.
   */
  askedEnd?(state: string): AskedEnd | undefined;
  /** Milliseconds the newest session token is still good for. */
  tokenRemainingMs(): number;
  /** When the session was created (ms since the epoch), for the maximum-duration check. */
  createdAtMs: number;
  /** openOBD's maximum session duration (documented: 4 h). */
  maxDurationMs: number;
  /** Longest wait for the state (default 3000 ms). */
  lookupTimeoutMs?: number;
}

/** The error for something cut off by the end of its session. */
export function sessionEndedError(sessionId: string, end: SessionEndView, operation: string, what = 'the call'): OpenObdError {
  const lost = end.state === 'lost';
  return new OpenObdError(
    lost ? 'SESSION_LOST' : 'SESSION_ENDED',
    `Start a new session: session ${sessionId} was ${end.state} before ${what} completed (${end.reason})`,
    {
      operation,
      sessionState: end.state,
    },
  );
}

function formatDuration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  return minutes % 60 === 0 ? `${minutes / 60} h` : `${minutes} min`;
}

/** A lookup that failed this way means openOBD could not be reached. */
const UNREACHABLE: ReadonlySet<string> = new Set(['UNAVAILABLE', 'DEADLINE_EXCEEDED']);

export class SessionFate {
  #check?: Promise<Verdict>;

  constructor(private readonly hooks: FateHooks) {}

  #outOfTime(): boolean {
    return Date.now() - this.hooks.createdAtMs >= this.hooks.maxDurationMs;
  }

  /** Why a session openOBD reports as `state` ended, as far as this process can tell. */
  #reason(state: string): string {
    const h = this.hooks;
    if (this.#outOfTime()) {
      return `it reached openOBD's maximum session duration of ${formatDuration(h.maxDurationMs)}`;
    }
    if (state === 'interrupted') return "interrupted outside this flow: through openOBD's dashboard, the partner API or another client";
    if (state === 'finished') return 'finished by another client';
    return 'openOBD ended it as failed';
  }

  /** Asks openOBD whether the session still runs (one question at a time); ends it here if not. */
  check(): Promise<Verdict> {
    const h = this.hooks;
    if (h.ended()) return Promise.resolve({ kind: 'ended' });
    if (!h.lookup) return Promise.resolve({ kind: 'unknown' });
    if (!this.#check) {
      this.#check = h
        .lookup(h.sessionId, h.lookupTimeoutMs ?? 3000)
        .then(
          (state): Verdict => {
            if (!isFinalState(state)) return { kind: 'alive' };
            const asked = h.askedEnd?.(state);
            if (asked) h.end(state, asked.reason, asked.cause);
            else h.end(state, this.#reason(state), this.#outOfTime() ? 'maxDuration' : undefined);
            return { kind: 'ended' };
          },
          (err: unknown): Verdict => {
            const error = err instanceof OpenObdError ? err : new OpenObdError('UNKNOWN', String(err));
            if (error.code === 'NOT_FOUND') {
              h.end('failed', 'openOBD no longer knows the session');
              return { kind: 'ended' };
            }
            return { kind: 'unknown', error };
          },
        )
        .finally(() => {
          this.#check = undefined;
        });
    }
    return this.#check;
  }

  /**
   * The error to report for `error`, which cut off `operation` when a stream or call of the session
   * failed: the session's end if it ended (asking openOBD when nothing here says so), else `error`.
   */
  async explain(error: OpenObdError, operation: string, what?: string): Promise<OpenObdError> {
    const h = this.hooks;
    const known = h.ended();
    if (known) return sessionEndedError(h.sessionId, known, operation, what);
    if (error.code === 'CLOSED') return error;
    if (h.tokenRemainingMs() <= 0) {
      h.end('lost', `its token expired (last error: ${error.message})`);
      return sessionEndedError(h.sessionId, h.ended()!, operation, what);
    }
    const verdict = await this.check();
    const ended = h.ended();
    if (verdict.kind === 'ended' && ended) return sessionEndedError(h.sessionId, ended, operation, what);
    if (verdict.kind === 'unknown' && verdict.error && UNREACHABLE.has(verdict.error.code)) {
      // Neither the stream nor openOBD answers: that is openOBD out of reach, whatever the stream said.
      return new OpenObdError('UNAVAILABLE', `${error.message}; openOBD cannot be reached (${verdict.error.message})`, {
        operation,
        grpcCode: error.grpcCode,
        details: error.details,
        retryable: true,
      });
    }
    if (verdict.kind === 'alive' && error.code === 'CANCELLED') {
      // openOBD cancelled the stream of a session that still runs: a dropped stream, worth another try.
      return new OpenObdError('UNAVAILABLE', `${error.message} by openOBD; the session still runs`, {
        operation,
        grpcCode: error.grpcCode,
        details: error.details,
        retryable: true,
      });
    }
    return error;
  }
}
