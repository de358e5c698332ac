import { OpenObdError } from './errors';

export interface BackoffPolicy {
  /** First delay before a retry. */
  initialDelayMs: number;
  /** Upper bound of any single delay. */
  maxDelayMs: number;
  /** Growth per attempt. */
  factor?: number;
}

export interface RetryPolicy extends BackoffPolicy {
  /** Total attempts including the first one. */
  attempts: number;
}

/**
 * Exponential backoff with "equal jitter": a random delay between half and all of the exponential
 * value, so many clients failing at the same moment do not come back in lockstep, while no retry comes
 * sooner than half the backoff.
 */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const factor = policy.factor ?? 2;
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * factor ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Resolves after `ms`, or rejects with CLOSED when `signal` aborts first. The timer never holds the process open. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new OpenObdError('CLOSED', 'Cancelled'));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(new OpenObdError('CLOSED', 'Cancelled'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    timer.unref?.();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface RetryHooks {
  /** Whether a failure is worth another attempt. */
  shouldRetry(err: unknown): boolean;
  /** Stops the retries (the pending wait rejects with CLOSED). */
  signal?: AbortSignal;
  onRetry?(err: unknown, attempt: number, delayMs: number): void;
}

/**
 * Runs `fn` until it succeeds, `shouldRetry` says no, the attempts are used up or `signal` aborts.
 * Only for idempotent operations: a call that may have reached the server must not be repeated blindly.
 */
export async function retrying<T>(fn: (attempt: number) => Promise<T>, policy: RetryPolicy, hooks: RetryHooks): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt + 1 >= policy.attempts || !hooks.shouldRetry(err) || hooks.signal?.aborted) throw err;
      const delay = backoffDelay(policy, attempt);
      hooks.onRetry?.(err, attempt + 1, delay);
      await sleep(delay, hooks.signal);
    }
  }
}
