/**
 * The transports besides ISO-TP: K-Line (ISO 14230), VW TP 2.0, DoIP (ISO 13400) and raw CAN frames.
 * Each has a stream of its own per session (a StreamLink); a diagnostic request on any of them runs
 * through the same request engine as ISO-TP (uds-request.ts), so response-pending, busy-repeat and the
 * timeouts behave alike, with KWP2000's matching rules where the ECU speaks KWP2000.
 */
import { ChannelBudget } from '../channel-budget';
import type { OpenObdError } from '../errors';
import type { Logger } from '../logger';
import type { UdsTarget } from '../uds-request';
import type { DoipEcuSpec, EcuSpec, KlineEcuSpec, Tp20EcuSpec } from '../vehicle-spec';
import { busConfiguration } from '../vehicle-spec';
import type {
  BusConfigurationMessage,
  DoipChannelMessage,
  KlineChannelMessage,
  RawChannelMessage,
  Tp20ChannelMessage,
} from '../../protocol';
import { DOIP_CHANNEL, doipTarget } from './doip';
import { KLINE_CHANNEL, klineTarget } from './kline';
import { FrameRouter, RAW_CHANNEL } from './raw-frames';
import { StreamLink, type ChannelStream } from './stream-link';
import { TP20_CHANNEL, tp20Bus, tp20Target } from './tp20';

export { StreamLink, type ChannelKind, type ChannelMessage, type ChannelStream } from './stream-link';
export { klineTarget, KLINE_CHANNEL } from './kline';
export { tp20Target, tp20Bus, TP20_CHANNEL } from './tp20';
export { doipTarget, DOIP_CHANNEL } from './doip';
export {
  MAX_FRAME_BYTES,
  RAW_CHANNEL,
  checkFilters,
  checkFrameData,
  checkFrameId,
  frameMatches,
  framesBus,
  listenChannels,
  FrameRouter,
  type CanFrame,
  type FrameFilter,
} from './raw-frames';

export type OtherEcuSpec = KlineEcuSpec | Tp20EcuSpec | DoipEcuSpec;
export type StreamTransport = 'kline' | 'tp20' | 'doip';

/** A non-ISO-TP ECU spec worked out once: its channel, its bus message and the queue it waits in. */
export interface PreparedTransportEcu {
  readonly transport: StreamTransport;
  readonly target: UdsTarget<object>;
  readonly bus: BusConfigurationMessage;
  readonly queueKey: string;
}

/** The spec's fields that decide its channel and bus (a spec is a plain object a flow may change). */
function signature(ecu: OtherEcuSpec): string {
  const b = ecu.bus as unknown as Record<string, unknown>;
  const e = ecu as unknown as Record<string, unknown>;
  return JSON.stringify([
    ecu.transport,
    e.protocol,
    b.kind,
    b.name,
    b.pin,
    b.init,
    b.baud,
    b.option,
    b.networkConfiguration,
    b.pinPlus,
    b.pinMinus,
    b.bitRateKbps,
    b.protocol,
    b.transceiver,
    e.ecuId,
    e.keyBytes,
    e.logicalAddress,
    e.gatewayId,
    e.testerId,
  ]);
}

const cache = new WeakMap<object, { signature: string; prepared: PreparedTransportEcu }>();

/** The prepared channel of a K-Line, TP 2.0 or DoIP ECU spec; a malformed spec throws BAD_CONFIG. */
export function prepareTransportEcu(ecu: OtherEcuSpec): PreparedTransportEcu {
  const sig = signature(ecu);
  const hit = cache.get(ecu);
  if (hit && hit.signature === sig) return hit.prepared;
  let prepared: PreparedTransportEcu;
  if (ecu.transport === 'kline') {
    const target = klineTarget(ecu);
    prepared = {
      transport: 'kline',
      target,
      bus: busConfiguration(ecu.bus),
      queueKey: `kline|${target.send.bus_name}|${target.send.ecu_id}`,
    };
  } else if (ecu.transport === 'tp20') {
    const target = tp20Target(ecu);
    prepared = {
      transport: 'tp20',
      target,
      bus: tp20Bus(ecu.bus),
      queueKey: `tp20|${target.send.bus_name}|${target.send.logical_address}`,
    };
  } else {
    const target = doipTarget(ecu);
    const c = target.send;
    prepared = { transport: 'doip', target, bus: busConfiguration(ecu.bus), queueKey: `doip|${c.bus_name}|${c.gateway_id}|${c.ecu_id}` };
  }
  cache.set(ecu, { signature: sig, prepared });
  return prepared;
}

export function isOtherTransport(ecu: EcuSpec): ecu is OtherEcuSpec {
  const t = (ecu as { transport?: unknown } | null | undefined)?.transport;
  return t === 'kline' || t === 'tp20' || t === 'doip';
}

/** Opens a session's bidirectional stream of one of these services with the newest token. */
export type StreamOpener = (service: 'kline' | 'doip' | 'can', method: string) => ChannelStream<object>;

/** The session's streams of the other transports, opened on first use and closed with the session. */
export class TransportLinks {
  #kline?: StreamLink<KlineChannelMessage>;
  #tp20?: StreamLink<Tp20ChannelMessage>;
  #doip?: StreamLink<DoipChannelMessage>;
  #raw?: StreamLink<RawChannelMessage>;
  #frames?: FrameRouter;
  #closed = false;

  constructor(
    private readonly open: StreamOpener,
    private readonly log: Logger,
    private readonly idleCloseMs: number,
    /** Explains why a stream ended (the session's fate), for the requests and listeners it cut off. */
    private readonly explainEnd: (error: OpenObdError, operation: string) => Promise<OpenObdError> = (e) => Promise.resolve(e),
    /** A stream was refused by a full connection: true when the session moved to another one. */
    private readonly refused: () => boolean = () => false,
    /** The session's 32 channels, shared with its ISO-TP stream. */
    private readonly budget: ChannelBudget = new ChannelBudget(),
  ) {}

  #make<C extends object>(
    kind: typeof KLINE_CHANNEL | typeof TP20_CHANNEL | typeof DOIP_CHANNEL | typeof RAW_CHANNEL,
    service: 'kline' | 'doip' | 'can',
    method: string,
  ) {
    return new StreamLink<C>(
      kind as never,
      () => this.open(service, method) as unknown as ChannelStream<C>,
      this.log,
      this.idleCloseMs,
      (error) => this.explainEnd(error, kind.operation),
      () => this.refused(),
      this.budget,
    );
  }

  link(transport: StreamTransport): StreamLink<object> {
    if (transport === 'kline')
      return (this.#kline ??= this.#make<KlineChannelMessage>(KLINE_CHANNEL, 'kline', 'openKlineStream')) as StreamLink<object>;
    if (transport === 'tp20')
      return (this.#tp20 ??= this.#make<Tp20ChannelMessage>(TP20_CHANNEL, 'can', 'openTp20Stream')) as StreamLink<object>;
    return (this.#doip ??= this.#make<DoipChannelMessage>(DOIP_CHANNEL, 'doip', 'openDoipStream')) as StreamLink<object>;
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

  /** Streams and channels per transport, for statistics and leak checks. */
  stats(): Record<'kline' | 'tp20' | 'doip' | 'raw', { open: boolean; opens: number; channels: number }> {
    const one = (l?: StreamLink<object>) => ({ open: l?.isOpen ?? false, opens: l?.opens ?? 0, channels: l?.channelCount ?? 0 });
    return {
      kline: one(this.#kline as StreamLink<object> | undefined),
      tp20: one(this.#tp20 as StreamLink<object> | undefined),
      doip: one(this.#doip as StreamLink<object> | undefined),
      raw: one(this.#raw as StreamLink<object> | undefined),
    };
  }

  close(): void {
    this.#closed = true;
    for (const l of [this.#kline, this.#tp20, this.#doip, this.#raw]) l?.close();
  }
}
export { detectedEcu, detectedEcus, ecuAddressText, type DetectedEcu } from './ecu-list';
export { maxPayloadOf, KLINE_MAX_PAYLOAD, DOIP_MAX_PAYLOAD } from './limits';
export { terminal15State, type Terminal15State } from './terminal15';
