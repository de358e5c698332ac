import { OpenObdError } from './errors';
import { classifyResponse, kwpSuppressesResponse, nrcName, suppressesPositiveResponse, toHex } from './codec';
import { canIdText, type IsotpChannelMessage } from '../protocol';

/** `hex` is the payload as it came off the wire, in upper case; `responseId` the id it came from. */
export type PayloadListener = (payload: Buffer, hex: string, responseId: number) => void;
export type FailureListener = (error: OpenObdError) => void;

/**
 * What a request needs from a transport's stream: ISO-TP's link, and the K-Line, TP 2.0 and DoIP
 * links (client/transports), which carry a channel of their own kind in every message.
 */
export interface RequestLink<C> {
  /** Announces the channel (if it is new) and returns the key its listeners are filed under. */
  ensureChannel(channel: C): string;
  addListener(key: string, listener: PayloadListener): void;
  removeListener(key: string, listener: PayloadListener): void;
  addFailureListener(listener: FailureListener): void;
  removeFailureListener(listener: FailureListener): void;
  send(channel: C, payloadHex: string): void;
}

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

export interface UdsTarget<C = IsotpChannelMessage> {
  /** The channel requests are sent on. */
  send: C;
  /** Channels answers are read from: the same channel for a physical request, one per responder for a functional one. */
  listen: C[];
  functional: boolean;
  /** Reported as the answer's `ecu.requestId`: the CAN request id, the K-Line address, the TP 2.0 logical address, the DoIP tester address; 0 for functional requests. */
  requestId: number;
  /** How errors name the ECU ("K-Line ECU 01 on KLINE"); ISO-TP channels are named by their CAN ids. */
  label?: string;
  /** What a timeout tells the user to check besides the ignition ("K-Line address and initialisation"); default "CAN ids". */
  addressing?: string;
  /** 'kwp2000' matches answers by the rules of ISO 14230-3 (no suppress-positive-response bit); default UDS. */
  protocol?: 'uds' | 'kwp2000';
}

/** What a caller can add to a request besides its bytes and timing. */
export interface UdsRequestHooks {
  /** Cancels the request (CLOSED). */
  signal?: AbortSignal | readonly AbortSignal[];
  /** Turns a failure into a better one (e.g. "the session ended"); successes pay nothing for it. */
  explainFailure?: (error: OpenObdError) => Promise<OpenObdError>;
  /** Called once, synchronously, when the request settles (before its promise does). */
  onSettled?: () => void;
}

/**
 * One UDS/OBD request and its answer(s), beyond what the official client does: a response-pending
 * answer restarts a P2* timer instead of eating into one fixed timeout; "busy" is retried after a pause;
 * an overall deadline bounds everything; frames that do not answer this request (by SID and echo) are
 * ignored, not taken as the answer; a functional request collects every ECU that answers.
 */
export function udsRequest<C>(
  link: RequestLink<C>,
  target: UdsTarget<C>,
  request: Buffer,
  timing: UdsTiming,
  hooks: UdsRequestHooks = {},
): Promise<UdsExchange> {
  return new Promise<UdsExchange>((resolve, reject) => {
    const explain = hooks.explainFailure;
    const fail = explain ? (error: OpenObdError) => void explain(error).then(reject, reject) : reject;
    new UdsRun(link as RequestLink<unknown>, target as UdsTarget<unknown>, request, timing, hooks, resolve, fail).start();
  });
}

/** What the phase timer waits for. */
const enum Phase {
  /** The first answer to a physical request (or, suppressed, the short wait for a negative one). */
  First,
  /** The next answer after a "response pending" (P2*). */
  Pending,
  /** The end of a functional request's collection window. */
  Functional,
}

/*
 * The state of one request. It is a class rather than a closure over a dozen functions because it is
 * created for every request of a tester looping live data: its timers take it as an argument and it
 * listens with one function per request, so little is allocated besides the answer itself.
 */
class UdsRun {
  readonly #started = Date.now();
  readonly #requestHex: string;
  readonly #suppress: boolean;
  readonly #sid: number;
  /** Several signals are watched one by one: AbortSignal.any() costs more than the whole rest of a request. */
  readonly #signals: readonly AbortSignal[];
  /** Answers by response CAN id. */
  readonly #answers = new Map<number, UdsResponse>();
  /** Response id → "response pending" answers so far, and when its P2* ends; created on the first one. */
  #pending?: Map<number, number>;
  #pendingDeadline?: Map<number, number>;
  #busyRetries = 0;
  #strays = 0;
  #phaseTimer?: NodeJS.Timeout;
  #overallTimer?: NodeJS.Timeout;
  #retryTimer?: NodeJS.Timeout;
  #settled = false;
  /** Channel keys listened on. */
  #keys: string[] = [];
  readonly #onPayload: PayloadListener = (payload, hex, responseId) => this.#payload(payload, hex, responseId);
  readonly #onFailure: FailureListener = (error) => {
    // The link is closed only when its session closes: the request is cancelled, not cut off.
    if (error.code === 'CLOSED') this.cancel();
    else
      this.#fail(
        new OpenObdError(error.code, `The request ${this.#requestHex} was cut off: ${error.message}`, {
          operation: 'uds.request',
          grpcCode: error.grpcCode,
          details: error.details,
          sessionState: error.sessionState,
          // A request cut off by a dropped stream may go through on the next one; not one whose session ended.
          retryable: error.sessionState === undefined,
        }),
      );
  };

  constructor(
    private readonly link: RequestLink<unknown>,
    private readonly target: UdsTarget<unknown>,
    private readonly request: Buffer,
    private readonly timing: UdsTiming,
    private readonly hooks: UdsRequestHooks,
    private readonly resolve: (exchange: UdsExchange) => void,
    private readonly reject: (error: OpenObdError) => void,
  ) {
    const signal = hooks.signal;
    this.#signals =
      signal === undefined ? NO_SIGNALS : Array.isArray(signal) ? (signal as readonly AbortSignal[]) : [signal as AbortSignal];
    this.#requestHex = toHex(request);
    this.#suppress = target.protocol === 'kwp2000' ? kwpSuppressesResponse(request) : suppressesPositiveResponse(request);
    this.#sid = request[0];
  }

  start(): void {
    const signals = this.#signals;
    for (const s of signals) {
      if (s.aborted) {
        this.cancel();
        return;
      }
    }
    for (const s of signals) watch(s, this);
    const { link, target, timing } = this;
    link.addFailureListener(this.#onFailure);
    try {
      for (const channel of target.listen) {
        const key = link.ensureChannel(channel);
        link.addListener(key, this.#onPayload);
        this.#keys.push(key);
      }
    } catch (err) {
      // e.g. CHANNEL_LIMIT: nothing was sent; what was set up is undone and the queue moves on.
      this.#fail(err instanceof OpenObdError ? err : new OpenObdError('UNKNOWN', String(err)));
      return;
    }
    // The overall deadline only matters once a phase can outlast it (pending answers, busy retries, or
    // a first phase as long as the whole): one timer less per ordinary request.
    const firstPhaseMs = target.functional ? timing.functionalWindowMs : this.#suppress ? timing.suppressedWaitMs : timing.timeoutMs;
    if (firstPhaseMs >= timing.overallTimeoutMs) this.#armOverall();
    this.#send();
  }

  #cleanup(): void {
    this.#settled = true;
    if (this.#phaseTimer) clearTimeout(this.#phaseTimer);
    if (this.#overallTimer) clearTimeout(this.#overallTimer);
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    for (const key of this.#keys) this.link.removeListener(key, this.#onPayload);
    this.link.removeFailureListener(this.#onFailure);
    for (const s of this.#signals) unwatch(s, this);
    this.hooks.onSettled?.();
  }

  /** @internal The request's signal aborted (or its session closed). */
  cancel(): void {
    this.#fail(new OpenObdError('CLOSED', 'The request was cancelled', { operation: 'uds.request' }));
  }

  #fail(error: OpenObdError): void {
    if (this.#settled) return;
    this.#cleanup();
    this.reject(error);
  }

  #finish(): void {
    if (this.#settled) return;
    this.#cleanup();
    const responses = [...this.#answers.values()];
    if (responses.length === 0 && !this.#suppress) {
      this.#fail(this.#timeoutError());
      return;
    }
    this.resolve({
      requestHex: this.#requestHex,
      functional: this.target.functional,
      suppressed: responses.length === 0,
      responses,
      busyRetries: this.#busyRetries,
      strays: this.#strays,
      elapsedMs: Date.now() - this.#started,
    });
  }

  #ecuLabel(): string {
    if (this.target.label !== undefined) return this.target.label;
    const send = this.target.send as IsotpChannelMessage;
    return `ECU ${canIdText(send.request_id)}${this.target.functional ? ' (functional)' : ` (answers on ${canIdText(send.response_id)})`}`;
  }

  #timeoutError(): OpenObdError {
    let pendingTotal = 0;
    for (const n of this.#pending?.values() ?? []) pendingTotal += n;
    const { timing } = this;
    const message =
      pendingTotal > 0
        ? `${this.#ecuLabel()} answered "response pending" ${pendingTotal} time(s) to ${this.#requestHex}, then nothing within ${timing.pendingTimeoutMs} ms`
        : this.target.functional
          ? `No ECU answered the functional request ${this.#requestHex} within ${timing.functionalWindowMs} ms`
          : `Check the ignition and the ECU's ${this.target.addressing ?? 'CAN ids'}: no response from ${this.#ecuLabel()} within ${timing.timeoutMs} ms to ${this.#requestHex}`;
    return new OpenObdError('TIMEOUT', message, { operation: 'uds.request' });
  }

  #armOverall(): void {
    if (this.#overallTimer || this.#settled) return;
    this.#overallTimer = setTimeout(overallExpired, Math.max(0, this.#started + this.timing.overallTimeoutMs - Date.now()), this);
  }

  /** @internal timer callback */
  overallExpired(): void {
    this.#fail(
      new OpenObdError(
        'TIMEOUT',
        `The request ${this.#requestHex} to ${this.#ecuLabel()} did not complete within the overall ${this.timing.overallTimeoutMs} ms`,
        { operation: 'uds.request' },
      ),
    );
  }

  #armPhase(ms: number, phase: Phase): void {
    if (this.#phaseTimer) clearTimeout(this.#phaseTimer);
    this.#phaseTimer = setTimeout(phaseExpired, Math.max(0, ms), this, phase);
  }

  /** @internal timer callback */
  phaseExpired(phase: Phase): void {
    if (phase === Phase.First) {
      if (this.#suppress && (this.#pending?.size ?? 0) === 0) this.#finish();
      else this.#fail(this.#timeoutError());
    } else if (phase === Phase.Pending) {
      this.#fail(this.#timeoutError());
    } else {
      const now = Date.now();
      let stillPending = false;
      for (const [id, d] of this.#pendingDeadline ?? []) if (!this.#answers.has(id) && d > now) stillPending = true;
      if (stillPending) this.#armFunctionalEnd();
      else this.#finish();
    }
  }

  // Physical: one answer ends the exchange. Functional: the window (and any P2* still running) does.
  #armFunctionalEnd(): void {
    const now = Date.now();
    const { timing } = this;
    let end = this.#started + (this.#suppress ? Math.min(timing.suppressedWaitMs, timing.functionalWindowMs) : timing.functionalWindowMs);
    for (const [id, deadline] of this.#pendingDeadline ?? []) if (!this.#answers.has(id)) end = Math.max(end, deadline);
    this.#armPhase(end - now, Phase.Functional);
  }

  #send(): void {
    try {
      this.link.send(this.target.send, this.#requestHex);
    } catch (err) {
      this.#fail(err instanceof OpenObdError ? err : new OpenObdError('UNKNOWN', String(err)));
      return;
    }
    if (this.target.functional) this.#armFunctionalEnd();
    else this.#armPhase(this.#suppress ? this.timing.suppressedWaitMs : this.timing.timeoutMs, Phase.First);
  }

  /** @internal timer callback */
  retryNow(): void {
    this.#retryTimer = undefined;
    if (!this.#settled) this.#send();
  }

  #payload(payload: Buffer, hex: string | undefined, responseId: number): void {
    if (this.#settled) return;
    const { target, timing } = this;
    const kind = classifyResponse(this.request, payload, target.protocol);
    if (kind === 'unrelated') {
      this.#strays += 1;
      return;
    }
    if (kind === 'pending') {
      this.#armOverall();
      const pending = (this.#pending ??= new Map());
      const deadlines = (this.#pendingDeadline ??= new Map());
      pending.set(responseId, (pending.get(responseId) ?? 0) + 1);
      deadlines.set(responseId, Date.now() + timing.pendingTimeoutMs);
      if (target.functional) this.#armFunctionalEnd();
      else this.#armPhase(timing.pendingTimeoutMs, Phase.Pending);
      return;
    }
    if (
      kind === 'busy' &&
      !target.functional &&
      this.#busyRetries < timing.busyRetries &&
      Date.now() + timing.busyRetryDelayMs < this.#started + timing.overallTimeoutMs
    ) {
      this.#busyRetries += 1;
      this.#armOverall();
      if (this.#phaseTimer) clearTimeout(this.#phaseTimer);
      this.#retryTimer = setTimeout(retryNow, timing.busyRetryDelayMs, this);
      return;
    }
    const positive = kind === 'positive';
    const nrc = positive ? undefined : payload[2];
    this.#answers.set(responseId, {
      ecu: { requestId: target.requestId, responseId },
      payload,
      hex: hex ?? toHex(payload),
      positive,
      sid: this.#sid,
      nrc,
      nrcName: nrc === undefined ? undefined : nrcName(nrc),
      pendingCount: this.#pending?.get(responseId) ?? 0,
      elapsedMs: Date.now() - this.#started,
    });
    this.#pendingDeadline?.delete(responseId);
    if (!target.functional) this.#finish();
  }
}

const NO_SIGNALS: readonly AbortSignal[] = [];

/*
 * The requests watching each signal, with one 'abort' listener per signal added the first time a
 * request uses it. A flow node passes the same signal with every message, and an EventTarget listener
 * added and removed per request costs more than the rest of the request's bookkeeping.
 */
const watchers = new WeakMap<AbortSignal, UdsRun[]>();

function watch(signal: AbortSignal, run: UdsRun): void {
  let runs = watchers.get(signal);
  if (!runs) {
    const list: UdsRun[] = [];
    runs = list;
    watchers.set(signal, list);
    signal.addEventListener(
      'abort',
      () => {
        for (const r of list.splice(0)) r.cancel();
      },
      { once: true },
    );
  }
  runs.push(run);
}

function unwatch(signal: AbortSignal, run: UdsRun): void {
  const runs = watchers.get(signal);
  const i = runs ? runs.indexOf(run) : -1;
  if (i >= 0) runs!.splice(i, 1);
}

// Timer callbacks that take the run as an argument: no closure per timer.
function overallExpired(run: UdsRun): void {
  run.overallExpired();
}
function phaseExpired(run: UdsRun, phase: Phase): void {
  run.phaseExpired(phase);
}
function retryNow(run: UdsRun): void {
  run.retryNow();
}
