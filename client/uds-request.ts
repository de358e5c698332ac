import { OpenObdError } from './errors';
import { classifyResponse, nrcName, suppressesPositiveResponse, toHex } from './codec';
import type { IsotpLink } from './isotp-link';
import type { IsotpChannelMessage } from './wire';

/** Timing of one diagnostic request. All values in milliseconds. */
export interface UdsTiming {
  /** Wait for the first answer (P2 on the client side, network included). Default 5000. */
  timeoutMs: number;
  /** Wait after each "response pending" (7F xx 78); restarted by every one of them (P2*). Default 5000. */
  pendingTimeoutMs: number;
  /** Upper bound of the whole exchange, pending answers and busy retries included. Default 30000. */
  overallTimeoutMs: number;
  /** How often a "busy, repeat request" (7F xx 21) is answered by sending again. Default 3. */
  busyRetries: number;
  /** Pause before such a repeat. Default 500. */
  busyRetryDelayMs: number;
  /** With the suppress-positive-response bit set, how long a negative answer may still come. Default 500. */
  suppressedWaitMs: number;
  /** How long answers to a functional request are collected (longer for ECUs that said pending). Default 1500. */
  functionalWindowMs: number;
}

export const DEFAULT_UDS_TIMING: UdsTiming = {
  timeoutMs: 5000,
  pendingTimeoutMs: 5000,
  overallTimeoutMs: 30000,
  busyRetries: 3,
  busyRetryDelayMs: 500,
  suppressedWaitMs: 500,
  functionalWindowMs: 1500,
};

export interface UdsResponse {
  /** The CAN ids of the answering ECU: its physical request id is unknown for functional answers (0). */
  ecu: { requestId: number; responseId: number };
  payload: Buffer;
  hex: string;
  positive: boolean;
  /** The service id of the request this answers. */
  sid: number;
  nrc?: number;
  nrcName?: string;
  /** "Response pending" answers this ECU sent before its final answer. */
  pendingCount: number;
  elapsedMs: number;
}

export interface UdsExchange {
  requestHex: string;
  functional: boolean;
  /** The request asked for no positive answer (SPRMIB) and no negative one came. */
  suppressed: boolean;
  responses: UdsResponse[];
  busyRetries: number;
  /** Frames that arrived on the channel but did not answer this request (ignored). */
  strays: number;
  elapsedMs: number;
}

export interface UdsTarget {
  /** The channel requests are sent on. */
  send: IsotpChannelMessage;
  /** Channels answers are read from: the same channel for a physical request, one per responder for a functional one. */
  listen: IsotpChannelMessage[];
  functional: boolean;
}

function hex3(n: number): string {
  return n.toString(16).toUpperCase().padStart(3, '0');
}

/**
 * One UDS/OBD request and its answer(s), beyond what the official client does: a response-pending
 * answer restarts a P2* timer instead of eating into one fixed timeout; "busy" is retried after a pause;
 * an overall deadline bounds everything; frames that do not answer this request (by SID and echo) are
 * ignored, not taken as the answer; a functional request collects every ECU that answers.
 */
export function udsRequest(link: IsotpLink, target: UdsTarget, request: Buffer, timing: UdsTiming, signal?: AbortSignal): Promise<UdsExchange> {
  return new Promise<UdsExchange>((resolve, reject) => {
    const started = Date.now();
    const requestHex = toHex(request);
    const suppress = suppressesPositiveResponse(request);
    const sid = request[0];
    const answers = new Map<number, UdsResponse>(); // by response CAN id
    const pending = new Map<number, number>(); // response id -> pending count
    const pendingDeadline = new Map<number, number>(); // response id -> time its P2* ends
    let busyRetries = 0;
    let strays = 0;
    let phaseTimer: NodeJS.Timeout | undefined;
    let overallTimer: NodeJS.Timeout | undefined;
    let retryTimer: NodeJS.Timeout | undefined;
    let settled = false;
    const unsubscribers: Array<() => void> = [];

    const cleanup = () => {
      settled = true;
      for (const t of [phaseTimer, overallTimer, retryTimer]) if (t) clearTimeout(t);
      for (const u of unsubscribers) u();
      signal?.removeEventListener('abort', onAbort);
    };
    const fail = (error: OpenObdError) => {
      if (settled) return;
      cleanup();
      reject(error);
    };
    const finish = () => {
      if (settled) return;
      cleanup();
      const responses = [...answers.values()];
      if (responses.length === 0 && !suppress) {
        fail(timeoutError());
        return;
      }
      resolve({ requestHex, functional: target.functional, suppressed: responses.length === 0, responses, busyRetries, strays, elapsedMs: Date.now() - started });
    };
    const ecuLabel = () => `ECU ${hex3(target.send.request_id)}${target.functional ? ' (functional)' : ` (answers on ${hex3(target.send.response_id)})`}`;
    const timeoutError = () => {
      const pendingTotal = [...pending.values()].reduce((a, b) => a + b, 0);
      const message =
        pendingTotal > 0
          ? `${ecuLabel()} answered "response pending" ${pendingTotal} time(s) to ${requestHex}, then nothing within ${timing.pendingTimeoutMs} ms`
          : target.functional
            ? `No ECU answered the functional request ${requestHex} within ${timing.functionalWindowMs} ms`
            : `No response from ${ecuLabel()} within ${timing.timeoutMs} ms to ${requestHex}`;
      return new OpenObdError('TIMEOUT', message, { operation: 'uds.request' });
    };

    const armPhase = (ms: number, onExpiry: () => void) => {
      if (phaseTimer) clearTimeout(phaseTimer);
      phaseTimer = setTimeout(onExpiry, Math.max(0, ms));
    };

    // Physical: one answer ends the exchange. Functional: the window (and any P2* still running) does.
    const armFunctionalEnd = () => {
      const now = Date.now();
      let end = started + (suppress ? Math.min(timing.suppressedWaitMs, timing.functionalWindowMs) : timing.functionalWindowMs);
      for (const [id, deadline] of pendingDeadline) if (!answers.has(id)) end = Math.max(end, deadline);
      armPhase(end - now, () => {
        const stillPending = [...pendingDeadline].some(([id, d]) => !answers.has(id) && d > Date.now());
        if (stillPending) armFunctionalEnd();
        else finish();
      });
    };

    const send = () => {
      try {
        link.send(target.send, requestHex);
      } catch (err) {
        fail(err instanceof OpenObdError ? err : new OpenObdError('UNKNOWN', String(err)));
        return;
      }
      if (target.functional) armFunctionalEnd();
      else armPhase(suppress ? timing.suppressedWaitMs : timing.timeoutMs, () => (suppress && pending.size === 0 ? finish() : fail(timeoutError())));
    };

    const onPayload = (responseId: number) => (payload: Buffer) => {
      if (settled) return;
      const kind = classifyResponse(request, payload);
      if (kind === 'unrelated') {
        strays += 1;
        return;
      }
      if (kind === 'pending') {
        pending.set(responseId, (pending.get(responseId) ?? 0) + 1);
        pendingDeadline.set(responseId, Date.now() + timing.pendingTimeoutMs);
        if (target.functional) armFunctionalEnd();
        else armPhase(timing.pendingTimeoutMs, () => fail(timeoutError()));
        return;
      }
      if (kind === 'busy' && !target.functional && busyRetries < timing.busyRetries && Date.now() + timing.busyRetryDelayMs < started + timing.overallTimeoutMs) {
        busyRetries += 1;
        if (phaseTimer) clearTimeout(phaseTimer);
        retryTimer = setTimeout(() => {
          retryTimer = undefined;
          if (!settled) send();
        }, timing.busyRetryDelayMs);
        return;
      }
      const positive = kind === 'positive';
      const nrc = positive ? undefined : payload[2];
      answers.set(responseId, {
        ecu: { requestId: target.functional ? 0 : target.send.request_id, responseId },
        payload,
        hex: toHex(payload),
        positive,
        sid,
        nrc,
        nrcName: nrc === undefined ? undefined : nrcName(nrc),
        pendingCount: pending.get(responseId) ?? 0,
        elapsedMs: Date.now() - started,
      });
      pendingDeadline.delete(responseId);
      if (!target.functional) finish();
    };

    const onAbort = () => fail(new OpenObdError('CLOSED', 'The request was cancelled', { operation: 'uds.request' }));
    if (signal?.aborted) {
      onAbort();
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });

    for (const channel of target.listen) {
      const key = link.ensureChannel(channel);
      unsubscribers.push(link.subscribe(key, onPayload(channel.response_id)));
    }
    unsubscribers.push(link.onFailure((error) => fail(new OpenObdError(error.code, `The request ${requestHex} was cut off: ${error.message}`, { operation: 'uds.request', grpcCode: error.grpcCode, details: error.details, retryable: true }))));
    overallTimer = setTimeout(() => fail(new OpenObdError('TIMEOUT', `The request ${requestHex} to ${ecuLabel()} did not complete within the overall ${timing.overallTimeoutMs} ms`, { operation: 'uds.request' })), timing.overallTimeoutMs);
    send();
  });
}
