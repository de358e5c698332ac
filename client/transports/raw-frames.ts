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

/** Follows frames on a raw link until the returned function is called. */
export function watchFrames(
  link: StreamLink<RawChannelMessage>,
  channels: readonly RawChannelMessage[],
  filters: readonly FrameFilter[],
  onFrame: (frame: CanFrame) => void,
  onError: (error: OpenObdError) => void,
): () => void {
  const busName = channels[0]?.bus_name;
  const tap = (data: Buffer, hex: string, channel: RawChannelMessage) => {
    if (channel.bus_name !== busName) return;
    const id = channel.response_id;
    if (id === undefined || !frameMatches(filters, id)) return;
    onFrame({ id, data, hex, at: Date.now() });
  };
  const failure = (error: OpenObdError) => {
    stop();
    if (error.code !== 'CLOSED') onError(error);
    else onError(new OpenObdError('CLOSED', 'Listening to CAN frames stopped: the session was closed'));
  };
  let stopped = false;
  // Frames come through the tap; a listener on each channel marks it as in use, so that the link never
  // retires it to make room for another channel while it is listened to.
  const inUse = () => undefined;
  const keys: string[] = [];
  const stop = () => {
    if (stopped) return;
    stopped = true;
    link.removeTap(tap);
    link.removeFailureListener(failure);
    for (const k of keys) link.removeListener(k, inUse);
    for (const c of channels) link.forgetChannel(c);
  };
  link.addTap(tap);
  link.addFailureListener(failure);
  try {
    for (const c of channels) {
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
