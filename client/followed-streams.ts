import type * as grpc from '@grpc/grpc-js';
import { toPayloadBytes } from './codec';
import { OpenObdError, fromGrpcError } from './errors';
import { busConfiguration, type CanBusSpec, type Terminal15BusSpec } from './vehicle-spec';
import {
  checkFilters,
  checkFrameData,
  checkFrameId,
  framesBus,
  listenChannels,
  type CanFrame,
  type FrameFilter,
  type TransportLinks,
} from './transports';
import { terminal15State, type Terminal15State } from './transports/terminal15';
import type { BusConfigurationMessage, ConnectorInformationMessage, Terminal15MessageMessage } from '../protocol';

/*
 * What a session follows while a flow listens: raw CAN frames on a frames bus, terminal 15 (ignition)
 * and the connector information (openOBD documentation, "Vehicle communication", "Connection monitor").
 * Each followed stream counts as use of the session until its stop function runs, and every one of them
 * stops when the session closes.
 */

export interface WatchFramesOptions {
  filters?: FrameFilter[];
  onFrame: (frame: CanFrame) => void;
  onError?: (error: OpenObdError) => void;
  onUnattributed?: (count: number) => void;
}

/** What the session lends its followed streams. */
export interface FollowedStreamHooks {
  /** Throws when the session cannot do `operation` now (ended, closed, handed over to a function). */
  assertActive(operation: string): void;
  /** Configures `bus` on openOBD unless the session already has it so (then undefined). */
  ensureBus(bus: BusConfigurationMessage): Promise<void> | undefined;
  /** The session's raw CAN stream and the listeners of its frames. */
  transports: TransportLinks;
  /** Opens a server stream of the session with its newest token. */
  open<T>(service: 'terminal15' | 'connectionMonitor', method: string): grpc.ClientReadableStream<T>;
  /** What to report when a followed stream ended with `error` (the session's fate, when it is over). */
  explain(error: OpenObdError, operation: string): Promise<OpenObdError>;
  /** A followed stream stopped: the session was used until now. */
  used(): void;
}

/** The frame, terminal 15 and connector streams one session follows. */
export class FollowedStreams {
  readonly #serverStreams = new Set<grpc.ClientReadableStream<unknown>>();
  /** Streams being followed: the session is in use while any runs. */
  #watching = 0;

  constructor(private readonly hooks: FollowedStreamHooks) {}

  /** How many followed streams run now. */
  get watching(): number {
    return this.#watching;
  }

  async #configured(bus: BusConfigurationMessage, operation: string): Promise<void> {
    this.hooks.assertActive(operation);
    const pending = this.hooks.ensureBus(bus);
    if (pending) await pending;
    this.hooks.assertActive(operation);
  }

  /**
   * Listens to raw CAN frames on `bus` (configured as a frames bus), passing those that match one of
   * `filters` (id and mask; none = every frame). A frame on the bus that no listener of the session can
   * take (no CAN id, or an id nobody listens to) is counted: `onUnattributed` gets this listener's count.
   * Returns a stop function; listening also stops when the stream fails (onError) or the session closes
   * (onError with CLOSED).
   */
  async watchFrames(bus: CanBusSpec, options: WatchFramesOptions): Promise<() => void> {
    const message = framesBus(bus);
    const filters = checkFilters(options.filters);
    await this.#configured(message, 'can.openRawStream');
    const channels = listenChannels(message.bus_name, filters);
    return this.#watched(
      this.hooks.transports.frames.watch({
        channels,
        filters,
        onFrame: options.onFrame,
        onError: (e) => options.onError?.(e),
        onUnattributed: options.onUnattributed,
      }),
    );
  }

  /** Sends raw CAN frames on `bus` (a frames bus), in order; each frame has at most 8 data bytes. */
  async sendFrames(bus: CanBusSpec, frames: ReadonlyArray<{ id: number; data: unknown }>): Promise<number> {
    const message = framesBus(bus);
    const prepared = frames.map((f) => {
      const id = checkFrameId(f?.id);
      const data = checkFrameData(toPayloadBytes(f.data, { maxLength: 64, allowEmpty: true }), id);
      return { id, hex: data.toString('hex').toUpperCase() };
    });
    await this.#configured(message, 'can.openRawStream');
    const link = this.hooks.transports.raw;
    for (const f of prepared) link.send(Object.freeze({ bus_name: message.bus_name, request_id: f.id }), f.hex);
    return prepared.length;
  }

  /**
   * Follows terminal 15 (ignition) on `bus` (default: pin 1, named KL15): `onState` gets the state at
   * once and on every change. Returns a stop function; it also stops when the session ends or closes.
   */
  async watchTerminal15(
    onState: (state: Terminal15State) => void,
    onError?: (error: OpenObdError) => void,
    bus: Terminal15BusSpec = { kind: 'terminal15', name: 'KL15' },
  ): Promise<() => void> {
    const operation = 'terminal15.openTerminal15Stream';
    await this.#configured(busConfiguration(bus), operation);
    const stream = this.hooks.open<Terminal15MessageMessage>('terminal15', 'openTerminal15Stream');
    return this.#watched(this.#track(stream, (m) => onState(terminal15State(m)), onError, operation));
  }

  /**
   * Follows the connector information stream (one message a second). Returns a stop function; the
   * stream also stops when the session ends or closes.
   */
  watchConnector(onInfo: (info: ConnectorInformationMessage) => void, onError?: (error: OpenObdError) => void): () => void {
    const operation = 'connectionMonitor.openConnectorInformationStream';
    this.hooks.assertActive(operation);
    const stream = this.hooks.open<ConnectorInformationMessage>('connectionMonitor', 'openConnectorInformationStream');
    return this.#watched(this.#track(stream, onInfo, onError, operation));
  }

  /** Counts a followed stream as use of the session until its stop function runs (once). */
  #watched(stop: () => void): () => void {
    this.#watching += 1;
    let stopped = false;
    return () => {
      if (stopped) return;
      stopped = true;
      this.#watching -= 1;
      this.hooks.used();
      stop();
    };
  }

  #track<T>(
    stream: grpc.ClientReadableStream<T>,
    onData: (m: T) => void,
    onError: ((e: OpenObdError) => void) | undefined,
    operation: string,
  ): () => void {
    const s = stream as grpc.ClientReadableStream<unknown>;
    this.#serverStreams.add(s);
    let stopped = false;
    stream.on('data', onData);
    // However the stream ends (an error status, or OK while nobody stopped it), the watcher hears what
    // happened to the session, not only the stream's status.
    const ended = (error: OpenObdError) => {
      if (!this.#serverStreams.delete(s) || stopped) return;
      void this.hooks.explain(error, operation).then((e) => onError?.(e));
    };
    stream.on('error', (err: Error) => ended(fromGrpcError(err, operation)));
    stream.on('end', () =>
      ended(new OpenObdError('UNAVAILABLE', `The stream ${operation} was closed by openOBD`, { operation, retryable: true })),
    );
    return () => {
      stopped = true;
      this.#serverStreams.delete(s);
      stream.removeAllListeners('data');
      stream.cancel();
    };
  }

  /** Cancels the terminal 15 and connector streams (the frames stop with the session's raw stream). */
  close(): void {
    for (const s of [...this.#serverStreams]) {
      s.removeAllListeners('data');
      s.on('error', () => undefined);
      s.cancel();
    }
    this.#serverStreams.clear();
  }
}
