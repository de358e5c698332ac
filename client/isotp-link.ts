import type * as grpc from '@grpc/grpc-js';
import { OpenObdError, fromGrpcError } from './errors';
import type { Logger } from './logger';
import type { IsotpChannelMessage, IsotpMessageMessage } from './wire';

export type IsotpStream = grpc.ClientDuplexStream<IsotpMessageMessage, IsotpMessageMessage>;

/** Identity of an ISO-TP channel on the wire: bus, CAN ids and extended addresses (not padding or keep-alive). */
export function channelKey(c: Pick<IsotpChannelMessage, 'bus_name' | 'request_id' | 'response_id' | 'extended_request_address' | 'extended_response_address'>): string {
  return `${c.bus_name}|${c.request_id}|${c.response_id}|${c.extended_request_address ?? ''}|${c.extended_response_address ?? ''}`;
}

export type PayloadListener = (payload: Buffer) => void;
export type FailureListener = (error: OpenObdError) => void;

/**
 * One `can/openIsotpStream` per session, shared by every ISO-TP channel of the session: each message
 * names its channel, so a single HTTP/2 stream carries them all (the official client opens a stream and
 * a thread per channel). Channels are announced with an empty payload, as openOBD expects, and announced
 * again whenever the stream is reopened. Incoming payloads are handed to the listeners of their channel.
 */
export class IsotpLink {
  #stream?: IsotpStream;
  readonly #channels = new Map<string, IsotpChannelMessage>();
  readonly #listeners = new Map<string, Set<PayloadListener>>();
  readonly #failureListeners = new Set<FailureListener>();
  #idleTimer?: NodeJS.Timeout;
  #closed = false;
  /** Streams opened over the life of the link (for statistics and tests). */
  opens = 0;

  constructor(
    private readonly openStream: () => IsotpStream,
    private readonly log: Logger,
    private readonly idleCloseMs: number,
  ) {}

  get isOpen(): boolean {
    return this.#stream !== undefined;
  }

  get channelCount(): number {
    return this.#channels.size;
  }

  /** Makes sure the channel is announced on the current stream (opening it if needed). */
  ensureChannel(channel: IsotpChannelMessage): string {
    const key = channelKey(channel);
    if (!this.#channels.has(key)) {
      this.#channels.set(key, channel);
      if (this.#stream) this.#write({ channel, payload: '' });
    }
    this.#ensureStream();
    return key;
  }

  subscribe(key: string, listener: PayloadListener): () => void {
    let set = this.#listeners.get(key);
    if (!set) {
      set = new Set();
      this.#listeners.set(key, set);
    }
    set.add(listener);
    return () => {
      const s = this.#listeners.get(key);
      if (!s) return;
      s.delete(listener);
      if (s.size === 0) this.#listeners.delete(key);
    };
  }

  /** Called when the stream fails, so pending requests stop waiting for answers that cannot come. */
  onFailure(listener: FailureListener): () => void {
    this.#failureListeners.add(listener);
    return () => this.#failureListeners.delete(listener);
  }

  send(channel: IsotpChannelMessage, payloadHex: string): void {
    if (this.#closed) throw new OpenObdError('CLOSED', 'The session is closed');
    this.ensureChannel(channel);
    this.#write({ channel, payload: payloadHex });
    this.#armIdleTimer();
  }

  #write(message: IsotpMessageMessage): void {
    this.#stream?.write(message);
  }

  #ensureStream(): void {
    if (this.#stream || this.#closed) return;
    const stream = this.openStream();
    this.opens += 1;
    this.#stream = stream;
    stream.on('data', (m: IsotpMessageMessage) => this.#deliver(m));
    // 'error' must always be handled: an unhandled stream error would take Node-RED down.
    stream.on('error', (err: Error) => this.#lost(stream, fromGrpcError(err, 'can.openIsotpStream')));
    stream.on('end', () => this.#lost(stream, new OpenObdError('UNAVAILABLE', 'The ISO-TP stream was closed by openOBD', { operation: 'can.openIsotpStream', retryable: true })));
    for (const channel of this.#channels.values()) this.#write({ channel, payload: '' });
    this.#armIdleTimer();
  }

  #deliver(m: IsotpMessageMessage): void {
    if (!m.channel || !m.payload) return; // an empty payload is a channel announcement, not data
    const listeners = this.#listeners.get(channelKey(m.channel));
    if (!listeners || listeners.size === 0) return;
    const payload = Buffer.from(m.payload, 'hex');
    for (const l of [...listeners]) l(payload);
  }

  #lost(stream: IsotpStream, error: OpenObdError): void {
    if (this.#stream !== stream) return;
    this.#stream = undefined;
    this.#clearIdleTimer();
    if (this.#closed) return;
    this.log.debug(`ISO-TP stream ended: ${error.message}`);
    for (const l of [...this.#failureListeners]) l(error);
  }

  /*
   * openOBD closes a stream that stays idle for an hour and that currently ends the whole session
   * (wire reference §5.6), so an unused ISO-TP stream is closed well before and reopened on demand.
   */
  #armIdleTimer(): void {
    this.#clearIdleTimer();
    if (!(this.idleCloseMs > 0)) return;
    this.#idleTimer = setTimeout(() => {
      const stream = this.#stream;
      if (!stream) return;
      this.log.debug('Closing the idle ISO-TP stream');
      this.#stream = undefined;
      stream.removeAllListeners('data');
      stream.on('error', () => undefined);
      stream.end();
      stream.cancel();
    }, this.idleCloseMs);
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
    this.#failureListeners.clear();
    this.#listeners.clear();
  }
}
