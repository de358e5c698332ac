import { inspect } from 'node:util';

/**
 * A value that must never be printed: client secrets and every kind of token.
 *
 * The official Python client prints the session's authentication token from `__str__`; here every
 * accidental route to text (template strings, JSON.stringify, console.log/util.inspect) yields a fixed
 * placeholder, and the real value is only reachable through `reveal()`, which the code calls in exactly
 * the places that put it on the wire.
 */
export class Secret {
  static readonly PLACEHOLDER = '[redacted]';
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
    if (value) rememberForRedaction(value);
  }

  /** The real value, for building a request or a bearer header and nothing else. */
  reveal(): string {
    return this.#value;
  }

  get isEmpty(): boolean {
    return this.#value.length === 0;
  }

  equals(other: Secret | string | undefined): boolean {
    if (other === undefined) return false;
    return this.#value === (typeof other === 'string' ? other : other.#value);
  }

  toString(): string {
    return Secret.PLACEHOLDER;
  }

  toJSON(): string {
    return Secret.PLACEHOLDER;
  }

  [inspect.custom](): string {
    return Secret.PLACEHOLDER;
  }

  static from(value: Secret | string | undefined | null): Secret {
    if (value instanceof Secret) return value;
    return new Secret(value ?? '');
  }
}

/*
 * Text that comes from outside (a server's status details, an exception from a library) could echo a
 * secret back. Every secret this process has handled recently is remembered so such text can be scrubbed
 * before it reaches an error message or a log line. The memory is bounded: tokens rotate every two
 * minutes for hours, and only the recent ones can still be valid.
 */
const MAX_REMEMBERED = 4096;
const MIN_REDACT_LENGTH = 6; // shorter strings would scrub ordinary words
const remembered = new Set<string>();
/*
 * The remembered secrets by their first MIN_REDACT_LENGTH characters. Checking a text against 4,096
 * secrets one by one costs a fraction of a millisecond per error; when a connection carrying hundreds
 * of sessions drops, thousands of errors are made at once and that scan alone held the event loop for
 * about a second. Looking up each position of the text in this index answers "no secret here" (the
 * usual case) in time proportional to the text.
 */
const byPrefix = new Map<string, Set<string>>();

function index(value: string): void {
  const prefix = value.slice(0, MIN_REDACT_LENGTH);
  let set = byPrefix.get(prefix);
  if (!set) {
    set = new Set();
    byPrefix.set(prefix, set);
  }
  set.add(value);
}

function unindex(value: string): void {
  const prefix = value.slice(0, MIN_REDACT_LENGTH);
  const set = byPrefix.get(prefix);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) byPrefix.delete(prefix);
}

function rememberForRedaction(value: string): void {
  if (value.length < MIN_REDACT_LENGTH) return;
  if (remembered.has(value)) {
    remembered.delete(value); // refresh its position as most recent
  } else {
    if (remembered.size >= MAX_REMEMBERED) {
      const oldest = remembered.values().next().value;
      if (oldest !== undefined) {
        remembered.delete(oldest);
        unindex(oldest);
      }
    }
    index(value);
  }
  remembered.add(value);
}

/** Whether any remembered secret occurs in `text`. */
function mentionsSecret(text: string): boolean {
  for (let i = 0; i + MIN_REDACT_LENGTH <= text.length; i++) {
    const candidates = byPrefix.get(text.slice(i, i + MIN_REDACT_LENGTH));
    if (!candidates) continue;
    for (const value of candidates) if (text.startsWith(value, i)) return true;
  }
  return false;
}

/** Replaces every remembered secret in `text` with the placeholder. */
export function redact(text: string): string {
  if (!text || remembered.size === 0 || !mentionsSecret(text)) return text;
  let out = text;
  for (const value of remembered) {
    if (out.includes(value)) out = out.split(value).join(Secret.PLACEHOLDER);
  }
  return out;
}
