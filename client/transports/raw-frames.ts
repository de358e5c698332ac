import { OpenObdError } from '../errors';
import { busConfiguration, type CanBusSpec } from '../vehicle-spec';
import { canIdText, type BusConfigurationMessage, type RawChannelMessage } from '../../protocol';
import type { ChannelKind, StreamLink } from './stream-link';

/** Classic CAN carries at most 8 data bytes per frame (ISO 11898-1); openOBD's raw frames are classic CAN. */
export const MAX_FRAME_BYTES = 8;
const MAX_CAN_ID = 0x1fffffff;

export const RAW_CHANNEL: ChannelKind<RawChannelMessage> = {
  operation: 'can.openRawStream',
  describe: (c) =>
    `frames ${c.request_id !== undefined ? canIdText(c.request_id) : c.response_id !== undefined ? canIdText(c.response_id) : '(all)'} on ${c.bus_name}`,
  key: (c) => `${c.bus_name}|${c.request_id ?? ''}|${c.response_id ?? ''}`,
  responseId: (c) => c.response_id ?? -1,
};

/** One CAN frame as seen on the bus. */
export interface CanFrame {
  /** CAN identifier (11 or 29 bits). */
  id: number;
  data: Buffer;
  /** The data bytes as upper-case hex. */
  hex: string;
  /** When the frame arrived here (ms since the epoch). */
  at: number;
}

/** Passes frames whose id matches `id` in every bit that `mask` sets (the usual acceptance filter of CAN controllers). */
export interface FrameFilter {
  id: number;
  mask: number;
}

/** The CAN bus of a raw-frames channel: the spec's pins and bit rate, with the frames protocol. */
export function framesBus(bus: CanBusSpec): BusConfigurationMessage {
  if (bus && bus.protocol !== undefined && bus.protocol !== 'frames')
    throw new OpenObdError(
      'BAD_CONFIG',
      `Raw CAN frames need a CAN bus with the frames protocol; bus '${String(bus.name)}' says '${String(bus.protocol)}'`,
    );
  return busConfiguration({ ...bus, protocol: 'frames' });
}

export function checkFrameId(id: unknown): number {
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > MAX_CAN_ID)
    throw new OpenObdError('BAD_PAYLOAD', `A CAN frame id must be 0 to 1FFFFFFF hex, got ${String(id)}`);
  return id;
}

export function checkFrameData(data: Buffer, id: number): Buffer {
  if (data.length > MAX_FRAME_BYTES)
    throw new OpenObdError(
      'BAD_PAYLOAD',
      `The frame for ${canIdText(id)} has ${data.length} data bytes; a classic CAN frame carries at most ${MAX_FRAME_BYTES}`,
    );
  return data;
}

function exactMask(id: number): number {
  return id > 0x7ff ? MAX_CAN_ID : 0x7ff;
}

export function checkFilters(filters: readonly FrameFilter[] | undefined): FrameFilter[] {
  const out: FrameFilter[] = [];
  for (const f of filters ?? []) {
    const id = checkFrameId(f?.id);
    const mask = f.mask ?? exactMask(id);
    if (typeof mask !== 'number' || !Number.isInteger(mask) || mask < 0 || mask > MAX_CAN_ID)
      throw new OpenObdError('BAD_CONFIG', `A CAN id mask must be 0 to 1FFFFFFF hex, got ${String(mask)}`);
    out.push({ id, mask });
  }
  return out;
}

export function frameMatches(filters: readonly FrameFilter[], id: number): boolean {
  if (filters.length === 0) return true;
  for (const f of filters) if ((id & f.mask) === (f.id & f.mask)) return true;
  return false;
}

/** openOBD keeps at most 32 channels per connector (openOBD documentation, "Limitations"). */
const MAX_FILTER_CHANNELS = 16;

/**
 * Receiving: exact ids become one channel each (openOBD filters on its side, so only those frames cross
 * the network); masks, or more ids than a handful, need the whole bus (a channel without ids) and are
 * filtered here. Returns the channels to announce.
 */
export function listenChannels(bus: string, filters: readonly FrameFilter[]): RawChannelMessage[] {
  const exact = filters.length > 0 && filters.every((f) => f.mask === exactMask(f.id) || f.mask === MAX_CAN_ID);
  if (!exact || filters.length > MAX_FILTER_CHANNELS) return [Object.freeze({ bus_name: bus })];
  return [...new Set(filters.map((f) => f.id))].map((id) => Object.freeze({ bus_name: bus, response_id: id }));
}

/** The CAN id of a received frame: openOBD does not document which of the two ids it sets, so either. */
function receivedFrameId(channel: RawChannelMessage | null | undefined): number | undefined {
  return channel?.response_id ?? channel?.request_id;
}

/** What a listener of raw frames is told. */
export interface FrameWatch {
  /** The channels announced for it (listenChannels): one per exact id, or one for the whole bus. */
  channels: readonly RawChannelMessage[];
  filters: readonly FrameFilter[];
  onFrame: (frame: CanFrame) => void;
  onError: (error: OpenObdError) => void;
  /** Frames that reached its stream, on its bus, and that no listener could take: the count since it started. */
  onUnattributed?: (count: number) => void;
}

interface Watcher extends FrameWatch {
  bus: string | undefined;
  unattributed: number;
}

/**
 * Hands the frames of a session's raw stream to its listeners. A frame goes to every listener on its bus
 * whose channels cover its id (a whole-bus channel covers every id) and whose filters pass it; one that
 * has no id, or an id no listener's channel covers, is counted as unattributed instead of dropped unseen.
 * A frame a listener's channel covers but its mask filters out was asked for and left: it is not counted.
 */
export class FrameRouter {
  readonly #watchers = new Set<Watcher>();
  /** Frames received and frames no listener could take, over the stream's life (for statistics). */
  readonly counts = { received: 0, unattributed: 0 };

  constructor(private readonly link: StreamLink<RawChannelMessage>) {}

  readonly #tap = (data: Buffer, hex: string, channel: RawChannelMessage | null) => {
    this.counts.received += 1;
    const bus = channel?.bus_name || undefined;
    const id = receivedFrameId(channel);
    const on = [...this.#watchers].filter((w) => bus === undefined || w.bus === bus);
    let covered = false;
    const at = Date.now();
    if (id !== undefined) {
      for (const w of on) {
        if (!w.channels.some((c) => c.response_id === undefined || c.response_id === id)) continue;
        covered = true;
        if (frameMatches(w.filters, id)) w.onFrame({ id, data, hex, at });
      }
    }
    if (covered) return;
    this.counts.unattributed += 1;
    for (const w of on) {
      w.unattributed += 1;
      w.onUnattributed?.(w.unattributed);
    }
  };

  /** Follows frames for `watch` until the returned function is called. */
  watch(watch: FrameWatch): () => void {
    const link = this.link;
    const w: Watcher = { ...watch, bus: watch.channels[0]?.bus_name, unattributed: 0 };
    const failure = (error: OpenObdError) => {
      stop();
      if (error.code !== 'CLOSED') watch.onError(error);
      else watch.onError(new OpenObdError('CLOSED', 'Listening to CAN frames stopped: the session was closed'));
    };
    let stopped = false;
    // A listener on each channel marks it as in use, so that the link never retires it to make room for
    // another channel while it is listened to.
    const inUse = () => undefined;
    const keys: string[] = [];
    const stop = () => {
      if (stopped) return;
      stopped = true;
      this.#watchers.delete(w);
      if (this.#watchers.size === 0) link.removeTap(this.#tap);
      link.removeFailureListener(failure);
      for (const k of keys) link.removeListener(k, inUse);
      for (const c of watch.channels) link.forgetChannel(c);
    };
    if (this.#watchers.size === 0) link.addTap(this.#tap);
    this.#watchers.add(w);
    link.addFailureListener(failure);
    try {
      for (const c of watch.channels) {
        const key = link.ensureChannel(c);
        link.addListener(key, inUse);
        keys.push(key);
      }
    } catch (err) {
      stop(); // e.g. CHANNEL_LIMIT: nothing stays announced or tapped
      throw err;
    }
    return stop;
  }
}
