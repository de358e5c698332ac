import type * as grpc from '@grpc/grpc-js';
import { OpenObdError, fromGrpcError, isStreamRefusal } from '../errors';
import { ChannelBudget, busyChannels, retireIdle, type ChannelHolder } from '../channel-budget';
import type { Logger } from '../logger';
import type { FailureListener, PayloadListener, RequestLink } from '../uds-request';

export type { FailureListener, PayloadListener } from '../uds-request';

/** A message of openOBD's vehicle streams: a channel and a hex payload (Isotp, Kline, Tp20, Doip, Raw). */
export interface ChannelMessage<C> {
  channel: C | null;
  payload?: string;
}

export type ChannelStream<C> = grpc.ClientDuplexStream<ChannelMessage<C>, ChannelMessage<C>>;

/** A refused stream is opened again on another connection this many times in a row at most. */
const MAX_RESENDS = 3;

/** How one kind of channel is told apart on its stream. */
export interface ChannelKind<C> {
  /** The stream's name in errors and logs, e.g. 'kline.openKlineStream'. */
  operation: string;
  /** The channel as people write it, for errors ("K-Line 15 on K-LINE"). */
  describe?(channel: C): string;
  /** Identity of a channel (the fields that route answers), as text. */
  key(channel: C): string;
  /** The id an answer is reported from (ISO-TP and raw: the CAN id, K-Line and DoIP: the ECU address, TP 2.0: the logical address). */
  responseId(channel: C): number;
  /** How logs and errors name the stream ("The ISO-TP stream"); default "The stream <operation>". */
  streamName?: string;
  /**
   * A key function for incoming messages, made once per link: a busy transport (ISO-TP) remembers the
   * last channel it saw, since answers keep coming on the same channel. Default: `key`.
   */
  incomingKeys?(): (channel: C) => string;
}

/**
 * One bidirectional stream per session and transport, shared by every channel of that transport:
 * each message names its channel, so one HTTP/2 stream carries them all (openOBD documentation,
 * "Vehicle communication"; the official client opens a stream and a thread per channel). Channels are
 * announced with an empty payload when they are first used and again on every new stream, as openOBD's
 * own client does. Incoming payloads are handed to the listeners of their channel. It serves every
 * transport (ISO-TP, K-Line, TP 2.0, DoIP) and raw CAN frames; what differs is the ChannelKind.
 */
export class StreamLink<C extends object> implements RequestLink<C>, ChannelHolder {
  #stream?: ChannelStream<C>;
  readonly #channels = new Map<string, C>();
  readonly #listeners = new Map<string, PayloadListener[]>();
  /** An array: it holds the requests in flight, usually zero or one, and changes on every request. */
  readonly #failureListeners: FailureListener[] = [];
  /*
   * Keys of frozen channel objects (an ECU's channels are prepared once and frozen), so the request path
   * does not build the same text twice per request.
   */
  readonly #keys = new WeakMap<C, string>();
  #lastChannel?: C;
  #lastKey = '';
  readonly #incomingKey: (channel: C) => string;
  #idleTimer?: NodeJS.Timeout;
  /** When the last request was written; the idle timer checks it instead of being re-armed on every send. */
  #lastSendAt = 0;
  #closed = false;
  /** The current stream has answered (headers or a message): what was written on it reached openOBD. */
  #accepted = false;
  /** Messages written on the current stream before it was accepted: sent again if it is refused. */
  #unconfirmed: Array<ChannelMessage<C>> = [];
  /** Refusals in a row: after MAX_RESENDS the requests hear of it (every connection may be full). */
  #refusals = 0;
  /** Listeners that want every message of the stream (raw frames), with the channel it came on, if it names one. */
  readonly #taps: Array<(payload: Buffer, hex: string, channel: C | null) => void> = [];
  /** Streams opened over the life of the link (for statistics and tests). */
  opens = 0;

  /**
   * `explainEnd` turns the error a stream ended with into what the requests it cut off report (e.g.
   * "the session was interrupted" rather than the stream's status); asked once per stream end.
   */
  constructor(
    private readonly kind: ChannelKind<C>,
    private readonly openStream: () => ChannelStream<C>,
    private readonly log: Logger,
    private readonly idleCloseMs: number,
    private readonly explainEnd: (error: OpenObdError) => Promise<OpenObdError> = (e) => Promise.resolve(e),
    /** A stream was refused before it was accepted: true when the session moved to another connection. */
    private readonly refused: (error: OpenObdError) => boolean = () => false,
    /** The session's 32 channels, shared with its other streams. */
    private readonly budget: ChannelBudget = new ChannelBudget(),
  ) {
    budget.join(this);
    this.#incomingKey = kind.incomingKeys?.() ?? ((c) => kind.key(c));
  }

  get #name(): string {
    return this.kind.streamName ?? `The stream ${this.kind.operation}`;
  }

  get isOpen(): boolean {
    return this.#stream !== undefined;
  }

  get channelCount(): number {
    return this.#channels.size;
  }

  get busyChannelCount(): number {
    return busyChannels(this.#channels, this.#listeners);
  }

  #keyOf(channel: C): string {
    // A request looks its channel up twice (to listen, then to send): the last frozen one is at hand.
    if (channel === this.#lastChannel) return this.#lastKey;
    if (!Object.isFrozen(channel)) return this.kind.key(channel);
    let key = this.#keys.get(channel);
    if (key === undefined) {
      key = this.kind.key(channel);
      this.#keys.set(channel, key);
    }
    this.#lastChannel = channel;
    this.#lastKey = key;
    return key;
  }

  ensureChannel(channel: C): string {
    if (this.#closed) throw new OpenObdError('CLOSED', 'The session is closed');
    const key = this.#keyOf(channel);
    if (!this.#channels.has(key)) {
      this.budget.makeRoom(this, this.kind.describe?.(channel) ?? this.kind.key(channel), this.kind.operation);
      this.#channels.set(key, channel);
      if (this.#stream) this.#write({ channel, payload: '' });
    }
    this.#ensureStream();
    return key;
  }

  /*
   * The J-ReX serves 32 channels at a time and drops the oldest beyond that (openOBD documentation,
   * "Limitations"): to make room, the oldest channel no request or listener is using is forgotten here
   * (announced again if it is used later).
   */
  retireIdleChannel(): boolean {
    return retireIdle(this.#channels, this.#listeners);
  }

  /** Forgets a channel (it is announced again if used later); for channels made for one purpose, such as a probe. */
  forgetChannel(channel: C): void {
    this.#channels.delete(this.#keyOf(channel));
  }

  /*
   * Listener lists are arrays that stay once created (a session has a handful of channels, a channel one
   * request at a time): a Set or map entry emptied and refilled on every request shows in profiles of
   * request loops.
   */
  addListener(key: string, listener: PayloadListener): void {
    let list = this.#listeners.get(key);
    if (!list) {
      list = [];
      this.#listeners.set(key, list);
    }
    list.push(listener);
  }

  removeListener(key: string, listener: PayloadListener): void {
    const list = this.#listeners.get(key);
    const i = list ? list.indexOf(listener) : -1;
    if (i >= 0) list!.splice(i, 1);
  }

  addTap(tap: (payload: Buffer, hex: string, channel: C | null) => void): void {
    this.#taps.push(tap);
  }

  removeTap(tap: (payload: Buffer, hex: string, channel: C | null) => void): void {
    const i = this.#taps.indexOf(tap);
    if (i >= 0) this.#taps.splice(i, 1);
  }

  /** Called when the stream fails, so pending requests stop waiting for answers that cannot come. */
  addFailureListener(listener: FailureListener): void {
    this.#failureListeners.push(listener);
  }

  removeFailureListener(listener: FailureListener): void {
    const i = this.#failureListeners.indexOf(listener);
    if (i >= 0) this.#failureListeners.splice(i, 1);
  }

  send(channel: C, payloadHex: string): void {
    if (this.#closed) throw new OpenObdError('CLOSED', 'The session is closed');
    this.ensureChannel(channel);
    this.#write({ channel, payload: payloadHex });
    this.#lastSendAt = Date.now();
  }

  #write(message: ChannelMessage<C>): void {
    if (!this.#stream) return;
    if (!this.#accepted && message.payload && this.#unconfirmed.length < 256) this.#unconfirmed.push(message);
    this.#stream.write(message);
  }

  #ensureStream(): void {
    if (this.#stream || this.#closed) return;
    const stream = this.openStream();
    this.opens += 1;
    this.#stream = stream;
    this.#accepted = false;
    this.#unconfirmed = [];
    const accept = () => {
      if (this.#stream !== stream || this.#accepted) return;
      this.#accepted = true;
      this.#unconfirmed = [];
      this.#refusals = 0;
    };
    stream.on('metadata', accept);
    stream.on('data', (m: ChannelMessage<C>) => {
      accept();
      this.#deliver(m);
    });
    // 'error' must always be handled: an unhandled stream error would take Node-RED down.
    stream.on('error', (err: Error) => {
      const error = fromGrpcError(err, this.kind.operation);
      const refusal = this.#stream === stream && !this.#accepted && isStreamRefusal(error.grpcCode, error.details);
      if (refusal && this.#refusals < MAX_RESENDS && this.refused(error)) {
        this.#refusals += 1;
        this.#resend(stream);
        return;
      }
      this.#lost(stream, error);
    });
    stream.on('end', () =>
      this.#lost(
        stream,
        new OpenObdError('UNAVAILABLE', `${this.#name} was closed by openOBD`, { operation: this.kind.operation, retryable: true }),
      ),
    );
    for (const channel of this.#channels.values()) this.#write({ channel, payload: '' });
    this.#armIdleTimer();
  }

  /*
   * The stream was refused before openOBD took it (its connection is at its stream cap) and the session
   * moved to another connection: nothing written on it arrived, so it is opened again there and the
   * requests written meanwhile go out again. The requests never see the refusal.
   */
  #resend(refused: ChannelStream<C>): void {
    const pending = this.#unconfirmed;
    this.#stream = undefined;
    this.#clearIdleTimer();
    refused.removeAllListeners('data');
    this.log.debug(`${this.#name} was refused by a full connection; opening it on another one`);
    this.#ensureStream();
    for (const m of pending) this.#write(m);
  }

  #deliver(m: ChannelMessage<C>): void {
    if (!m.payload) return; // an empty payload is a channel announcement, not data
    if (this.#taps.length > 0) {
      // A tap is told of data without a channel too: it counts what it cannot attribute (raw frames).
      const payload = Buffer.from(m.payload, 'hex');
      const hex = m.payload.toUpperCase();
      for (const tap of [...this.#taps]) tap(payload, hex, m.channel ?? null);
    }
    if (!m.channel) return;
    const listeners = this.#listeners.get(this.#incomingKey(m.channel));
    if (!listeners || listeners.length === 0) return;
    const payload = Buffer.from(m.payload, 'hex');
    const hex = m.payload.toUpperCase();
    const responseId = this.kind.responseId(m.channel);
    if (listeners.length === 1) {
      listeners[0]!(payload, hex, responseId);
      return;
    }
    for (const l of [...listeners]) l(payload, hex, responseId);
  }

  #lost(stream: ChannelStream<C>, error: OpenObdError): void {
    if (this.#stream !== stream) return;
    this.#stream = undefined;
    this.#clearIdleTimer();
    if (this.#closed) return;
    this.log.debug(`${this.#name} ended: ${error.message}`);
    // The requests in flight on this stream now; later ones go out on a new stream.
    const cutOff = [...this.#failureListeners];
    if (cutOff.length === 0) return;
    void this.explainEnd(error).then(
      (explained) => {
        for (const l of cutOff) l(explained);
      },
      () => {
        for (const l of cutOff) l(error);
      },
    );
  }

  /*
   * openOBD closes a stream that stays idle for an hour and that currently ends the whole session
   * (openOBD documentation, "Limitations"), so an unused stream is closed well before and reopened on demand.
   */
  #armIdleTimer(): void {
    this.#clearIdleTimer();
    if (!(this.idleCloseMs > 0)) return;
    this.#lastSendAt = Date.now();
    const check = () => {
      this.#idleTimer = undefined;
      const stream = this.#stream;
      if (!stream) return;
      const idleFor = Date.now() - this.#lastSendAt;
      // A request was sent since the timer was armed: wait for the rest of the idle time. A stream
      // somebody listens on (raw frames) is not idle even when nothing is sent.
      if (idleFor < this.idleCloseMs || this.#taps.length > 0) {
        const rest = this.idleCloseMs - idleFor;
        this.#idleTimer = setTimeout(check, this.#taps.length > 0 ? Math.max(1000, rest) : rest);
        this.#idleTimer.unref();
        return;
      }
      this.log.debug(`Closing the idle stream ${this.kind.operation}`);
      this.#stream = undefined;
      stream.removeAllListeners('data');
      stream.on('error', () => undefined);
      stream.end();
      stream.cancel();
    };
    this.#idleTimer = setTimeout(check, this.idleCloseMs);
    this.#idleTimer.unref();
  }

  #clearIdleTimer(): void {
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#clearIdleTimer();
    const stream = this.#stream;
    this.#stream = undefined;
    if (stream) {
      stream.removeAllListeners('data');
      stream.on('error', () => undefined); // the cancellation itself surfaces as an error
      stream.cancel();
    }
    const error = new OpenObdError('CLOSED', 'The session was closed');
    for (const l of [...this.#failureListeners]) l(error);
    this.#failureListeners.length = 0;
    this.#listeners.clear();
    this.#taps.length = 0;
  }
}
