import type * as grpc from '@grpc/grpc-js';
import { OpenObdError, fromGrpcError, isStreamRefusal } from './errors';
import { ChannelBudget, busyChannels, retireIdle, type ChannelHolder } from './channel-budget';
import type { Logger } from './logger';
import { canIdText, type IsotpChannelMessage, type IsotpMessageMessage } from '../protocol';

/** A refused stream is opened again on another connection this many times in a row at most. */
const MAX_RESENDS = 3;

export type IsotpStream = grpc.ClientDuplexStream<IsotpMessageMessage, IsotpMessageMessage>;

/** Identity of an ISO-TP channel on the wire: bus, CAN ids and extended addresses (not padding or keep-alive). */
export function channelKey(
  c: Pick<IsotpChannelMessage, 'bus_name' | 'request_id' | 'response_id' | 'extended_request_address' | 'extended_response_address'>,
): string {
  return `${c.bus_name}|${c.request_id}|${c.response_id}|${c.extended_request_address ?? ''}|${c.extended_response_address ?? ''}`;
}

/*
 * Keys of frozen channel objects (the session prepares an ECU's channels once and freezes them), so the
 * request path does not build the same text twice per request.
 */
const frozenKeys = new WeakMap<IsotpChannelMessage, string>();

function keyOf(channel: IsotpChannelMessage): string {
  if (!Object.isFrozen(channel)) return channelKey(channel);
  let key = frozenKeys.get(channel);
  if (key === undefined) {
    key = channelKey(channel);
    frozenKeys.set(channel, key);
  }
  return key;
}

/** `hex` is the payload as it came off the wire, in upper case; `responseId` the CAN id it came from. */
export type PayloadListener = (payload: Buffer, hex: string, responseId: number) => void;
export type FailureListener = (error: OpenObdError) => void;

/**
 * One `can/openIsotpStream` per session, shared by every ISO-TP channel of the session: each message
 * names its channel, so a single HTTP/2 stream carries them all (the official client opens a stream and
 * a thread per channel). Channels are announced with an empty payload, as openOBD expects, and announced
 * again whenever the stream is reopened. Incoming payloads are handed to the listeners of their channel.
 */
export class IsotpLink implements ChannelHolder {
  #stream?: IsotpStream;
  readonly #channels = new Map<string, IsotpChannelMessage>();
  readonly #listeners = new Map<string, PayloadListener[]>();
  /** An array: it holds the requests in flight, usually zero or one, and changes on every request. */
  readonly #failureListeners: FailureListener[] = [];
  #idleTimer?: NodeJS.Timeout;
  /** When the last request was written; the idle timer checks it instead of being re-armed on every send. */
  #lastSendAt = 0;
  #lastIncoming?: Pick<
    IsotpChannelMessage,
    'bus_name' | 'request_id' | 'response_id' | 'extended_request_address' | 'extended_response_address'
  > & { key: string };
  #closed = false;
  /** The current stream has answered (headers or a message): what was written on it reached openOBD. */
  #accepted = false;
  /** Messages written on the current stream before it was accepted: sent again if it is refused. */
  #unconfirmed: IsotpMessageMessage[] = [];
  /** Refusals in a row: after MAX_RESENDS the requests hear of it (every connection may be full). */
  #refusals = 0;
  /** Streams opened over the life of the link (for statistics and tests). */
  opens = 0;

  /**
   * `explainEnd` turns the error a stream ended with into what the requests it cut off report (e.g.
   * "the session was interrupted" rather than the stream's status); asked once per stream end.
   */
  constructor(
    private readonly openStream: () => IsotpStream,
    private readonly log: Logger,
    private readonly idleCloseMs: number,
    private readonly explainEnd: (error: OpenObdError) => Promise<OpenObdError> = (e) => Promise.resolve(e),
    /** A stream was refused before it was accepted: true when the session moved to another connection. */
    private readonly refused: (error: OpenObdError) => boolean = () => false,
    /** The session's 32 channels, shared with its other streams. */
    private readonly budget: ChannelBudget = new ChannelBudget(),
  ) {
    budget.join(this);
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

  /** Makes sure the channel is announced on the current stream (opening it if needed). */
  ensureChannel(channel: IsotpChannelMessage): string {
    const key = keyOf(channel);
    if (!this.#channels.has(key)) {
      this.budget.makeRoom(
        this,
        `${canIdText(channel.request_id)}/${canIdText(channel.response_id)} on ${channel.bus_name}`,
        'can.openIsotpStream',
      );
      this.#channels.set(key, channel);
      if (this.#stream) this.#write({ channel, payload: '' });
    }
    this.#ensureStream();
    return key;
  }

  /*
   * The J-ReX serves 32 channels at a time and drops the oldest beyond that (openOBD documentation,
   * "Limitations"): to make room, the oldest channel no request is using is forgotten here (announced
   * again if it is used later).
   */
  retireIdleChannel(): boolean {
    return retireIdle(this.#channels, this.#listeners);
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

  /** Called when the stream fails, so pending requests stop waiting for answers that cannot come. */
  addFailureListener(listener: FailureListener): void {
    this.#failureListeners.push(listener);
  }

  removeFailureListener(listener: FailureListener): void {
    const i = this.#failureListeners.indexOf(listener);
    if (i >= 0) this.#failureListeners.splice(i, 1);
  }

  send(channel: IsotpChannelMessage, payloadHex: string): void {
    if (this.#closed) throw new OpenObdError('CLOSED', 'The session is closed');
    this.ensureChannel(channel);
    this.#write({ channel, payload: payloadHex });
    this.#lastSendAt = Date.now();
  }

  #write(message: IsotpMessageMessage): void {
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
    stream.on('data', (m: IsotpMessageMessage) => {
      accept();
      this.#deliver(m);
    });
    // 'error' must always be handled: an unhandled stream error would take Node-RED down.
    stream.on('error', (err: Error) => {
      const error = fromGrpcError(err, 'can.openIsotpStream');
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
        new OpenObdError('UNAVAILABLE', 'The ISO-TP stream was closed by openOBD', { operation: 'can.openIsotpStream', retryable: true }),
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
  #resend(refused: IsotpStream): void {
    const pending = this.#unconfirmed;
    this.#stream = undefined;
    this.#clearIdleTimer();
    refused.removeAllListeners('data');
    this.log.debug('ISO-TP stream refused by a full connection; opening it on another one');
    this.#ensureStream();
    for (const m of pending) this.#write(m);
  }

  #deliver(m: IsotpMessageMessage): void {
    if (!m.channel || !m.payload) return; // an empty payload is a channel announcement, not data
    const listeners = this.#listeners.get(this.#incomingKey(m.channel));
    if (!listeners || listeners.length === 0) return;
    const payload = Buffer.from(m.payload, 'hex');
    const hex = m.payload.toUpperCase();
    const responseId = m.channel.response_id;
    if (listeners.length === 1) {
      listeners[0](payload, hex, responseId);
      return;
    }
    for (const l of [...listeners]) l(payload, hex, responseId);
  }

  /** The key of an incoming message's channel; answers keep coming on the same channel, so the last key is reused. */
  #incomingKey(c: IsotpChannelMessage): string {
    const last = this.#lastIncoming;
    if (
      last &&
      last.bus_name === c.bus_name &&
      last.request_id === c.request_id &&
      last.response_id === c.response_id &&
      last.extended_request_address === c.extended_request_address &&
      last.extended_response_address === c.extended_response_address
    ) {
      return last.key;
    }
    const key = channelKey(c);
    this.#lastIncoming = {
      bus_name: c.bus_name,
      request_id: c.request_id,
      response_id: c.response_id,
      extended_request_address: c.extended_request_address,
      extended_response_address: c.extended_response_address,
      key,
    };
    return key;
  }

  #lost(stream: IsotpStream, error: OpenObdError): void {
    if (this.#stream !== stream) return;
    this.#stream = undefined;
    this.#clearIdleTimer();
    if (this.#closed) return;
    this.log.debug(`ISO-TP stream ended: ${error.message}`);
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
   * (openOBD documentation, "Limitations"), so an unused ISO-TP stream is closed well before and reopened on demand.
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
      if (idleFor < this.idleCloseMs) {
        // A request was sent since the timer was armed: wait for the rest of the idle time.
        this.#idleTimer = setTimeout(check, this.idleCloseMs - idleFor);
        this.#idleTimer.unref();
        return;
      }
      this.log.debug('Closing the idle ISO-TP stream');
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
  }
}
