/**
 * The request engine of a session, one for every transport: prepare the ECU spec (once per spec),
 * configure its bus if openOBD does not have it yet, wait in the ECU's queue, then run the request on
 * the transport's stream (uds-request.ts), so response-pending, busy-repeat and the timeouts behave alike
 * on ISO-TP, K-Line, TP 2.0 and DoIP. It also keeps the session's buses (openOBD's configureBus replaces
 * the whole set, so the union of every bus asked for is sent) and the streams, opened on first use.
 */
import { ChannelBudget } from '../channel-budget';
import { ChannelQueues } from '../channel-queue';
import { toPayloadBytes } from '../codec';
import { OpenObdError } from '../errors';
import type { Logger } from '../logger';
import { udsRequest, type UdsExchange, type UdsTiming } from '../uds-request';
import { busConfiguration, sameBus, type BusSpec, type EcuSpec } from '../vehicle-spec';
import { pinClash, type BusConfigurationMessage, type RawChannelMessage, type ServiceName } from '../../protocol';
import type { TransportModule } from './module';
import { FrameRouter, RAW_CHANNEL } from './raw-frames';
import { StreamLink, type ChannelKind, type ChannelStream } from './stream-link';
import { TRANSPORT_TABLE, prepareEcu } from './table';

/** Opens a session's bidirectional stream of one of these services with the newest token. */
export type StreamOpener = (service: ServiceName, method: string) => ChannelStream<object>;

/** What the engine needs from its session. */
export interface EngineHost {
  open: StreamOpener;
  /** Sends the whole set of buses with configureBus (on another connection if its own refuses). */
  sendBuses(buses: BusConfigurationMessage[]): Promise<void>;
  /** Throws when the session cannot take a request now (ended, handed over). */
  assertActive(operation: string): void;
  /** Explains why a stream ended (the session's fate), for the requests and listeners it cut off. */
  explainEnd(error: OpenObdError, operation: string): Promise<OpenObdError>;
  /** Turns a request's failure into what it reports (e.g. how the session ended). */
  explainFailure(error: OpenObdError): Promise<OpenObdError>;
  /** A stream was refused by a full connection: true when the session moved to another one. */
  refused(): boolean;
  log: Logger;
  /** Close an unused stream after this long. */
  idleCloseMs: number;
  /** The session's default timing of requests. */
  uds: UdsTiming;
}

function hasOwnKeys(o: object): boolean {
  for (const k in o) if (Object.prototype.hasOwnProperty.call(o, k)) return true;
  return false;
}

export class TransportEngine {
  /** The J-ReX's 32 channels, shared by all the session's streams. */
  readonly budget = new ChannelBudget();
  readonly #links = new Map<TransportModule, StreamLink<object>>();
  #raw?: StreamLink<RawChannelMessage>;
  #frames?: FrameRouter;
  readonly #buses = new Map<string, BusConfigurationMessage>();
  #busChain: Promise<unknown> = Promise.resolve();
  readonly #queues = new ChannelQueues();
  #closed = false;

  constructor(private readonly host: EngineHost) {}

  #make<C extends object>(kind: ChannelKind<C>, service: ServiceName, method: string): StreamLink<C> {
    const h = this.host;
    return new StreamLink<C>(
      kind,
      () => h.open(service, method) as unknown as ChannelStream<C>,
      h.log,
      h.idleCloseMs,
      (error) => h.explainEnd(error, kind.operation),
      () => h.refused(),
      this.budget,
    );
  }

  /** The stream of a transport, made on first use. */
  link(module: TransportModule): StreamLink<object> {
    let link = this.#links.get(module);
    if (!link) {
      link = this.#make(module.channel, module.service, module.method);
      this.#links.set(module, link);
    }
    return link;
  }

  /**
   * Sends one diagnostic request to an ECU over its transport and waits for the answer(s). The bus is
   * configured on first use. Requests to the same channel run one after another, because answers can
   * only be told apart by their content.
   *
   * This is the hot path of a tester looping live data, so it stays synchronous up to the write when it
   * can: a bus that is already configured skips the configureBus chain, and a channel with nothing in
   * flight starts the request at once.
   */
  request(ecu: EcuSpec, payload: unknown, timing: Partial<UdsTiming>, signal: AbortSignal | undefined): Promise<UdsExchange> {
    let bytes: Buffer;
    let ready: ReturnType<typeof prepareEcu>;
    try {
      ready = prepareEcu(ecu);
      const module = ready.module;
      bytes = toPayloadBytes(payload, { maxLength: module.maxPayload });
      module.checkRequest?.(ready.target, bytes);
      this.host.assertActive('uds.request');
    } catch (err) {
      return Promise.reject(err);
    }
    const effective = hasOwnKeys(timing) ? { ...this.host.uds, ...timing } : this.host.uds;
    // Closing the session closes the links, which cancels the requests in flight (no signal needed here).
    const go = () =>
      this.#queues.enqueue(ready.queueKey, (settled) => {
        try {
          this.host.assertActive('uds.request');
        } catch (err) {
          settled();
          throw err;
        }
        return udsRequest(this.link(ready.module), ready.target, bytes, effective, {
          signal,
          explainFailure: this.host.explainFailure,
          onSettled: settled,
        });
      });
    return this.busReady(ready.bus) ? go() : this.configureBusMessages([ready.bus]).then(go);
  }

  /** Whether openOBD already has this bus exactly so (no configureBus needed). */
  busReady(wanted: BusConfigurationMessage): boolean {
    const have = this.#buses.get(wanted.bus_name);
    return have !== undefined && sameBus(have, wanted);
  }

  /** Bus specs as configureBusMessages takes them. */
  configureBuses(buses: BusSpec[]): Promise<void> {
    let wanted: BusConfigurationMessage[];
    try {
      wanted = buses.map(busConfiguration);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.configureBusMessages(wanted);
  }

  /**
   * Adds bus messages to the session's set (a TP 2.0 or raw-frames bus is a CAN bus with its protocol
   * set). Two different definitions under one name in one call, or two buses of the union on the same
   * connector pins, are refused before anything is sent: openOBD does not allow two buses on the same
   * pins (openOBD documentation, "Vehicle communication"), and a session that configured one anyway
   * would silently lose the other.
   */
  configureBusMessages(wanted: BusConfigurationMessage[]): Promise<void> {
    for (let i = 0; i < wanted.length; i++) {
      for (let j = i + 1; j < wanted.length; j++) {
        if (wanted[i]!.bus_name === wanted[j]!.bus_name && !sameBus(wanted[i]!, wanted[j]!))
          return Promise.reject(
            new OpenObdError(
              'BAD_CONFIG',
              `Bus '${wanted[i]!.bus_name}' is given twice with different settings; give each bus its own name`,
            ),
          );
      }
    }
    const run = async () => {
      const changed = wanted.filter((b) => !this.busReady(b));
      if (changed.length === 0) return;
      const next = new Map(this.#buses);
      for (const b of changed) next.set(b.bus_name, b);
      const clash = pinClash([...next.values()]);
      if (clash) {
        throw new OpenObdError(
          'PIN_CONFLICT',
          `Use one bus (one name and definition) for these pins in this session, or a session of its own: buses '${clash.first}' and ` +
            `'${clash.second}' would both use connector pin ${clash.pin}, and openOBD allows no two buses on the same pins`,
          { operation: 'config.configureBus' },
        );
      }
      this.host.assertActive('config.configureBus');
      await this.host.sendBuses([...next.values()]);
      this.#buses.clear();
      for (const [k, v] of next) this.#buses.set(k, v);
    };
    // One configureBus at a time: two concurrent ones would each replace the other's set.
    const result = this.#busChain.then(run, run);
    this.#busChain = result.catch(() => undefined);
    return result;
  }

  /** The buses configured on openOBD (the union), as bus messages. */
  get configuredBuses(): BusConfigurationMessage[] {
    return [...this.#buses.values()];
  }

  /** Someone else (a called function) may have configured the buses its own way: configure them again on the next use. */
  forgetBuses(): void {
    this.#buses.clear();
  }

  get raw(): StreamLink<RawChannelMessage> {
    return (this.#raw ??= this.#make<RawChannelMessage>(RAW_CHANNEL, 'can', 'openRawStream'));
  }

  /** The listeners of the raw stream's frames. */
  get frames(): FrameRouter {
    return (this.#frames ??= new FrameRouter(this.raw));
  }

  /** Frames received on the raw stream and those no listener could take (0 before it was used). */
  get frameCounts(): { received: number; unattributed: number } {
    return { ...(this.#frames?.counts ?? { received: 0, unattributed: 0 }) };
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Streams and channels per transport (and raw frames), for statistics and leak checks. */
  stats(): Record<string, { open: boolean; opens: number; channels: number }> {
    const one = (l?: StreamLink<object>) => ({ open: l?.isOpen ?? false, opens: l?.opens ?? 0, channels: l?.channelCount ?? 0 });
    const out: Record<string, { open: boolean; opens: number; channels: number }> = {};
    for (const m of Object.values(TRANSPORT_TABLE)) out[m.id] = one(this.#links.get(m));
    out.raw = one(this.#raw as StreamLink<object> | undefined);
    return out;
  }

  close(): void {
    this.#closed = true;
    for (const l of this.#links.values()) l.close();
    this.#raw?.close();
  }
}
