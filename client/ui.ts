import type * as grpc from '@grpc/grpc-js';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { OpenObdError, grpcStatusName } from './errors';
import type { Logger } from './logger';
import { backoffDelay } from './retry';
import type { ControlMessage } from '../protocol';

/*
 * The user interface of a session (openOBD documentation, "User interface"): the partner's procedure
 * shows one control at a time to the person at the car (or to the operator) over the bidirectional
 * `userInterface/openControlStream`, and the answer comes back on the same stream as the same control
 * with its `answer` filled in. A control stays on the screen until another one replaces it or the stream
 * closes; an idle stream is closed by openOBD after 3600 s, which ends the session.
 */

export type UiControlType = 'label' | 'continue' | 'yesno' | 'options' | 'freetext' | 'number';

/** Who sees the control: the mechanic at the car (openOBD's INTERFACE_USER) or the remote operator. */
export type UiTarget = 'mechanic' | 'operator';

export const UI_CONTROL_TYPES: readonly UiControlType[] = ['label', 'continue', 'yesno', 'options', 'freetext', 'number'];

/** Translations of one text of the control (its label or an option) into other languages. */
export interface UiTranslation {
  /** The text as written in the control. */
  label: string;
  /** Language code → translated text, e.g. `{ de: 'Zündung einschalten' }`. */
  translations: Record<string, string>;
}

interface UiControlBase {
  /** The text shown. */
  label: string;
  target?: UiTarget;
  /** URL of an image shown with the control (http or https). */
  image?: string;
  /** Translations of the label (`{ de: '...' }`), or of any text of the control (a list of UiTranslation). */
  translations?: Record<string, string> | UiTranslation[];
}

export type UiControl =
  | (UiControlBase & { type: 'label'; /** Seconds the label stays at least before it counts as seen. */ minimalDisplayTimeS?: number })
  | (UiControlBase & { type: 'continue' })
  | (UiControlBase & { type: 'yesno' })
  | (UiControlBase & { type: 'options'; options: string[] })
  | (UiControlBase & { type: 'freetext' })
  | (UiControlBase & { type: 'number'; minimum: number; maximum: number });

/** What the person answered. */
export interface UiAnswer {
  type: UiControlType;
  /** yes/no: a boolean; options: the chosen index; free text: the text; number: the number; label and continue: null. */
  value: boolean | number | string | null;
  /** For options: the text of the chosen option. */
  option?: string;
  /** From sending the control to the answer. */
  elapsedMs: number;
}

export interface AskOptions {
  /** No answer within this long ends the ask with TIMEOUT and takes the control off the screen. Default: wait. */
  timeoutMs?: number;
  /** Aborting ends the ask with CLOSED and takes the control off the screen. */
  signal?: AbortSignal;
}

export interface UiOptions {
  /** Close the control stream after it has been unused this long (default 5 min; openOBD ends a session whose stream idles 3600 s). */
  idleCloseMs: number;
  /** While an ask waits this long, the control is sent again so the stream never idles into openOBD's limit (default 30 min). */
  refreshMs: number;
}

export const DEFAULT_UI_OPTIONS: UiOptions = { idleCloseMs: 5 * 60_000, refreshMs: 30 * 60_000 };

/** What the session lends its user interface. */
export interface UiHooks {
  /** Opens `userInterface/openControlStream` with the session's newest token. */
  open(): grpc.ClientDuplexStream<ControlMessage, ControlMessage>;
  /** Throws SESSION_ENDED / SESSION_LOST when the session cannot be used. */
  assertActive(operation: string): void;
  /**
   * The control stream ended with `error` while a question waited: what to report (SESSION_ENDED or
   * SESSION_LOST when the session is over, asking openOBD when nothing here says so; otherwise `error`).
   */
  explain(error: OpenObdError, operation: string): Promise<OpenObdError>;
  log: Logger;
}

const OPERATION = 'userInterface.openControlStream';
const MAX_LABEL = 2000;
const MAX_OPTIONS = 64;
const MAX_UINT32 = 0xffffffff;
const FIELD: Record<UiControlType, keyof ControlMessage> = {
  label: 'control_label',
  continue: 'control_continue',
  yesno: 'control_yesno',
  options: 'control_options',
  freetext: 'control_freetext',
  number: 'control_number',
};
/** Reopens after a transient drop while an ask waits (the control is sent again). */
const REOPEN = { attempts: 3, policy: { initialDelayMs: 250, maxDelayMs: 2000, factor: 2 } };

function bad(message: string): OpenObdError {
  return new OpenObdError('BAD_REQUEST', message, { operation: OPERATION });
}

function text(value: unknown, what: string, max = MAX_LABEL): string {
  if (typeof value !== 'string') throw bad(`The ${what} must be text, got ${value === null ? 'null' : typeof value}`);
  if (!value.trim()) throw bad(`The ${what} is empty`);
  if (value.length > max) throw bad(`The ${what} is too long (${value.length} characters, at most ${max})`);
  return value;
}

function uint32(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_UINT32)
    throw bad(`The ${what} must be a whole number from 0 to ${MAX_UINT32}, got ${String(value)}`);
  return value;
}

function translationsOf(control: UiControl): ControlMessage['translations'] {
  const given = control.translations;
  if (given === undefined) return [];
  const list: UiTranslation[] = Array.isArray(given) ? given : [{ label: control.label, translations: given }];
  return list.map((t, i) => {
    if (!t || typeof t !== 'object' || !t.translations || typeof t.translations !== 'object')
      throw bad(`Translation ${i + 1} needs a label and its translations`);
    const label = text(t.label, `text of translation ${i + 1}`);
    return {
      label,
      translations: Object.entries(t.translations).map(([language, value]) => {
        if (!/^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$/.test(language))
          throw bad(`"${language}" is not a language code (such as de, nl or en-US)`);
        return { language, label: text(value, `${language} translation of "${label}"`) };
      }),
    };
  });
}

/**
 * The wire message of a control, or BAD_REQUEST saying what is wrong with it. Nothing invalid is sent:
 * an empty label, options without any option, a number range with minimum above maximum.
 */
export function controlMessage(control: UiControl): ControlMessage {
  if (!control || typeof control !== 'object') throw bad('A control must be an object with a type and a label');
  const type = control.type;
  if (!UI_CONTROL_TYPES.includes(type)) throw bad(`Unknown control type '${String(type)}'; use one of ${UI_CONTROL_TYPES.join(', ')}`);
  const label = text(control.label, 'label');
  const m: ControlMessage = {};
  if (control.target !== undefined) {
    if (control.target !== 'mechanic' && control.target !== 'operator')
      throw bad(`Unknown target '${String(control.target)}'; use mechanic or operator`);
    m.target = control.target === 'operator' ? 'INTERFACE_OPERATOR' : 'INTERFACE_USER';
  }
  switch (control.type) {
    case 'label': {
      const c: NonNullable<ControlMessage['control_label']> = { label };
      if (control.minimalDisplayTimeS !== undefined) c.minimal_display_time = uint32(control.minimalDisplayTimeS, 'minimal display time');
      m.control_label = c;
      break;
    }
    case 'continue':
      m.control_continue = { label };
      break;
    case 'yesno':
      m.control_yesno = { label };
      break;
    case 'freetext':
      m.control_freetext = { label };
      break;
    case 'options': {
      const options = control.options;
      if (!Array.isArray(options) || options.length === 0) throw bad('An options control needs at least one option');
      if (options.length > MAX_OPTIONS) throw bad(`An options control takes at most ${MAX_OPTIONS} options, got ${options.length}`);
      m.control_options = { label, options: options.map((o, i) => text(o, `option ${i + 1}`, 500)) };
      break;
    }
    case 'number': {
      const minimum = uint32(control.minimum, 'minimum');
      const maximum = uint32(control.maximum, 'maximum');
      if (minimum > maximum) throw bad(`The minimum (${minimum}) is above the maximum (${maximum})`);
      m.control_number = { label, minimum, maximum };
      break;
    }
  }
  const translations = translationsOf(control);
  if (translations && translations.length) m.translations = translations;
  if (control.image !== undefined) {
    const url = text(control.image, 'image URL');
    if (!/^https?:\/\/\S+$/i.test(url.trim())) throw bad(`The image must be an http or https URL, got "${url}"`);
    m.image = { url: url.trim() };
  }
  return m;
}

/** Which control a wire message carries. */
export function controlTypeOf(m: ControlMessage): UiControlType | undefined {
  for (const type of UI_CONTROL_TYPES) if (m[FIELD[type]]) return type;
  return undefined;
}

interface Pending {
  control: UiControl;
  message: ControlMessage;
  resolve(answer: UiAnswer): void;
  reject(error: OpenObdError): void;
  startedAt: number;
  timer?: NodeJS.Timeout;
  refresh?: NodeJS.Timeout;
  signal?: AbortSignal;
  onAbort?: () => void;
  reopens: number;
}

/**
 * The user interface of one session: one control stream, opened on the first `ask` and closed after it
 * has been unused for a while. One control at a time: a new `ask` replaces the control on the screen,
 * and the earlier `ask` ends with CONTROL_REPLACED.
 *
 * Where the official client blocks without a timeout and cannot be cancelled, an ask here has a timeout
 * and a signal, its answer is checked against the control (an option index in range, a number within
 * its limits), a transient drop of the stream while an ask waits reopens it and shows the control again,
 * and a stream cut off by the session's end reports SESSION_ENDED.
 */
export class SessionUi {
  readonly #hooks: UiHooks;
  readonly #options: UiOptions;
  #stream?: grpc.ClientDuplexStream<ControlMessage, ControlMessage>;
  #pending?: Pending;
  #idle?: NodeJS.Timeout;
  #closed = false;
  /** Streams opened, controls sent and answers received (statistics and tests). */
  readonly stats = { opens: 0, sent: 0, answers: 0 };

  constructor(hooks: UiHooks, options: Partial<UiOptions> = {}) {
    this.#hooks = hooks;
    this.#options = { ...DEFAULT_UI_OPTIONS, ...options };
  }

  /** Whether the control stream is open now. */
  get isOpen(): boolean {
    return this.#stream !== undefined;
  }

  /** Whether an ask is waiting for its answer. */
  get waiting(): boolean {
    return this.#pending !== undefined;
  }

  /**
   * Shows a control and resolves with the answer. Labels resolve once shown (after their minimal display
   * time), continue when it is pressed, the questions with their checked answer. Fails with BAD_REQUEST
   * (an invalid control, before anything is sent), TIMEOUT, CONTROL_REPLACED (another ask replaced it),
   * CLOSED (aborted), SESSION_ENDED / SESSION_LOST, INVALID_RESPONSE (an answer that does not fit the
   * control) or openOBD's code.
   */
  ask(control: UiControl, options: AskOptions = {}): Promise<UiAnswer> {
    let message: ControlMessage;
    try {
      message = controlMessage(control);
      if (options.timeoutMs !== undefined && !(Number.isFinite(options.timeoutMs) && options.timeoutMs > 0))
        throw bad(`The timeout must be a number of milliseconds above 0, got ${String(options.timeoutMs)}`);
      this.#hooks.assertActive(OPERATION);
      if (this.#closed)
        throw new OpenObdError('CLOSED', 'The session is closed: its user interface cannot be used', { operation: OPERATION });
      if (options.signal?.aborted) throw new OpenObdError('CLOSED', 'Cancelled before the control was shown', { operation: OPERATION });
    } catch (err) {
      return Promise.reject(err);
    }
    const previous = this.#pending;
    if (previous) {
      this.#settle(previous);
      previous.reject(
        new OpenObdError('CONTROL_REPLACED', `A new control replaced "${shorten(previous.control.label)}" before it was answered`, {
          operation: OPERATION,
        }),
      );
    }
    this.#clearIdle();
    return new Promise<UiAnswer>((resolve, reject) => {
      const p: Pending = { control, message, resolve, reject, startedAt: Date.now(), reopens: 0, signal: options.signal };
      this.#pending = p;
      if (options.timeoutMs !== undefined) {
        const seconds = Math.round(options.timeoutMs / 100) / 10;
        p.timer = setTimeout(
          () =>
            this.#fail(
              p,
              new OpenObdError('TIMEOUT', `No answer to "${shorten(control.label)}" within ${seconds} s`, { operation: OPERATION }),
              true,
            ),
          options.timeoutMs,
        );
      }
      if (options.signal) {
        p.onAbort = () =>
          this.#fail(
            p,
            new OpenObdError('CLOSED', `Cancelled while waiting for an answer to "${shorten(control.label)}"`, { operation: OPERATION }),
            true,
          );
        options.signal.addEventListener('abort', p.onAbort, { once: true });
      }
      p.refresh = setInterval(() => {
        if (this.#pending === p) this.#send(p.message);
      }, this.#options.refreshMs);
      p.refresh.unref();
      this.#send(message);
    });
  }

  #send(message: ControlMessage): void {
    let stream = this.#stream;
    if (!stream) {
      try {
        stream = this.#open();
      } catch (err) {
        const p = this.#pending;
        if (p) this.#fail(p, err instanceof OpenObdError ? err : new OpenObdError('UNKNOWN', String(err), { operation: OPERATION }), false);
        return;
      }
    }
    this.stats.sent += 1;
    stream.write(message);
  }

  #open(): grpc.ClientDuplexStream<ControlMessage, ControlMessage> {
    const stream = this.#hooks.open();
    this.stats.opens += 1;
    this.#stream = stream;
    stream.on('data', (m: ControlMessage) => {
      if (this.#stream === stream) this.#onAnswer(m);
    });
    stream.on('error', () => undefined); // the outcome is read from 'status'
    stream.on('status', (s: grpc.StatusObject) => {
      if (this.#stream !== stream) return;
      this.#stream = undefined;
      void this.#onEnd(s);
    });
    return stream;
  }

  #onAnswer(m: ControlMessage): void {
    const p = this.#pending;
    if (!p) return; // a late answer to a control that timed out or was replaced
    const type = controlTypeOf(m);
    // Another type is an answer to an earlier control (the official client ignores those as well).
    if (type !== p.control.type) return;
    const got = m[FIELD[type]] as { label?: string; answer?: unknown; options?: string[] } | null | undefined;
    if (!got) return;
    // An answer that names another label belongs to a control this one replaced.
    if (got.label && got.label !== p.control.label) return;
    const elapsedMs = Date.now() - p.startedAt;
    const answer = (value: UiAnswer['value'], option?: string): void => {
      this.stats.answers += 1;
      this.#settle(p);
      const a: UiAnswer = { type, value, elapsedMs };
      if (option !== undefined) a.option = option;
      p.resolve(a);
    };
    const invalid = (why: string): void =>
      this.#fail(
        p,
        new OpenObdError('INVALID_RESPONSE', `The answer to "${shorten(p.control.label)}" ${why}`, { operation: OPERATION }),
        false,
      );
    const c = p.control;
    if (c.type === 'label' || c.type === 'continue') return answer(null);
    // A question echoed without an answer (shown, not answered yet): keep waiting.
    if (got.answer === undefined || got.answer === null) return;
    switch (c.type) {
      case 'yesno':
        return typeof got.answer === 'boolean' ? answer(got.answer) : invalid(`is not yes or no (${String(got.answer)})`);
      case 'freetext':
        return typeof got.answer === 'string' ? answer(got.answer) : invalid('is not text');
      case 'options': {
        const i = got.answer;
        return typeof i === 'number' && Number.isInteger(i) && i >= 0 && i < c.options.length
          ? answer(i, c.options[i])
          : invalid(`chooses option ${String(i)}, but there are only ${c.options.length} (0 to ${c.options.length - 1})`);
      }
      case 'number': {
        const n = got.answer;
        return typeof n === 'number' && Number.isInteger(n) && n >= c.minimum && n <= c.maximum
          ? answer(n)
          : invalid(`is ${String(n)}, outside ${c.minimum} to ${c.maximum}`);
      }
    }
  }

  async #onEnd(status: grpc.StatusObject): Promise<void> {
    const p = this.#pending;
    if (!p) {
      this.#clearIdle();
      return;
    }
    // A stream that just closes while a question waits has no reason of its own: treat it as dropped.
    const code = status.code === GrpcStatus.OK ? GrpcStatus.UNAVAILABLE : status.code;
    const raw = new OpenObdError(
      grpcStatusName(code),
      `The control stream ended before "${shorten(p.control.label)}" was answered (${grpcStatusName(status.code)}${status.details ? `: ${status.details}` : ''})`,
      { operation: OPERATION, grpcCode: status.code, details: status.details, retryable: true },
    );
    const error = await this.#hooks.explain(raw, OPERATION).catch(() => raw);
    if (this.#pending !== p) return;
    const dropped = error.code === 'UNAVAILABLE' || error.code === 'INTERNAL';
    if (dropped && p.reopens < REOPEN.attempts && !this.#closed) {
      const delay = backoffDelay(REOPEN.policy, p.reopens);
      p.reopens += 1;
      this.#hooks.log.warn(`openOBD control stream dropped (${grpcStatusName(status.code)}); showing the control again in ${delay} ms`);
      const retry = setTimeout(() => {
        if (this.#pending === p && !this.#closed) this.#send(p.message);
      }, delay);
      retry.unref();
      return;
    }
    this.#fail(p, error, false);
  }

  /** Ends an ask with an error; `takeDown` also closes the stream, which takes the control off the screen. */
  #fail(p: Pending, error: OpenObdError, takeDown: boolean): void {
    if (this.#pending !== p) return;
    this.#settle(p);
    if (takeDown) this.#closeStream();
    p.reject(error);
  }

  /** Clears an ask's timers; when it was the current one, the stream starts counting as unused. */
  #settle(p: Pending): void {
    if (p.timer) clearTimeout(p.timer);
    if (p.refresh) clearInterval(p.refresh);
    if (p.onAbort) p.signal?.removeEventListener('abort', p.onAbort);
    if (this.#pending === p) {
      this.#pending = undefined;
      this.#armIdle();
    }
  }

  #armIdle(): void {
    this.#clearIdle();
    if (!this.#stream || this.#closed) return;
    this.#idle = setTimeout(() => {
      this.#idle = undefined;
      if (!this.#pending) this.#closeStream();
    }, this.#options.idleCloseMs);
    this.#idle.unref();
  }

  #clearIdle(): void {
    if (this.#idle) clearTimeout(this.#idle);
    this.#idle = undefined;
  }

  #closeStream(): void {
    const stream = this.#stream;
    this.#stream = undefined;
    this.#clearIdle();
    if (!stream) return;
    stream.removeAllListeners('data');
    try {
      stream.end();
    } catch {
      // already gone with its connection
    }
    stream.cancel();
  }

  /** Ends a waiting ask with `error` and closes the stream, which opens again with the next ask. */
  interrupt(error: OpenObdError): void {
    const p = this.#pending;
    if (p) this.#fail(p, error, true);
    this.#closeStream();
  }

  /**
   * Closes the control stream; an ask still waiting ends with `error` (the session passes SESSION_ENDED,
   * SESSION_LOST or CLOSED, whichever says why it closes).
   */
  close(error?: OpenObdError): void {
    if (this.#closed) return;
    this.#closed = true;
    const p = this.#pending;
    if (p)
      this.#fail(
        p,
        error ?? new OpenObdError('CLOSED', 'The session was closed while waiting for an answer', { operation: OPERATION }),
        true,
      );
    this.#closeStream();
  }
}

function shorten(label: string, max = 60): string {
  const one = label.replace(/\s+/g, ' ').trim();
  return one.length <= max ? one : `${one.slice(0, max - 1)}…`;
}
