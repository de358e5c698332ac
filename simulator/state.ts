import type * as grpc from '@grpc/grpc-js';
import type { BusConfigurationMessage, IsotpChannelMessage } from '../protocol';
import type { SimulatedVehicle } from './vehicle/vehicle';

/** A partner's API credentials as the simulator accepts them. */
export interface PartnerCredentialsRecord {
  clientId: string;
  clientSecret: string;
  clusterId: string;
}

/** A J-Rex on a car's OBD port. */
export interface ConnectorRecord {
  id: string;
  vehicle: SimulatedVehicle;
  connectedSince: number;
  /** Round trip to the J-Rex reported by the connection monitor. */
  latencyMs: number;
  /** The session currently holding the connector, if any. */
  sessionId?: string;
}

export interface TicketRecord {
  id: string;
  connectorId: string;
}

export type StreamKind =
  'token' | 'isotp' | 'connector' | 'terminal15' | 'control' | 'configure' | 'function' | 'monitor' | 'kline' | 'tp20' | 'doip' | 'raw';

export const STREAM_KINDS: readonly StreamKind[] = [
  'token',
  'isotp',
  'connector',
  'terminal15',
  'control',
  'configure',
  'function',
  'monitor',
  'kline',
  'tp20',
  'doip',
  'raw',
];

/** An open server-side stream of a session, so it can be ended with the session. */
export interface OpenStream {
  kind: StreamKind;
  call:
    grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown> | grpc.ServerReadableStream<unknown, unknown>;
  /** Releases the stream's timers; called exactly once. */
  dispose(): void;
  /** Writes one last, empty message of the stream's type (see SimulatorOptions.sessionEndFinalMessage). */
  finalMessage?(): void;
  /** The session it belongs to (set when it is tracked). */
  session?: SessionRecord;
  /** When a message last went either way on it (for the stream idle time). */
  lastActivityMs?: number;
  /** Channels announced on this stream (receive filters, as on the J-Rex): ISO-TP, K-Line, TP 2.0, DoIP or raw. */
  channels?: Map<string, IsotpChannelMessage | object>;
}

export interface SessionRecord {
  id: string;
  partnerClientId: string;
  connectorId: string;
  ticketId?: string;
  state: 'available' | 'active' | 'interrupted' | 'finished' | 'failed';
  createdAt: string;
  createdAtMs: number;
  authToken: string;
  endedAtMs?: number;
  /** Why it ended, for the status details of later calls. */
  endReason?: string;
  buses: Map<string, BusConfigurationMessage>;
  streams: Set<OpenStream>;
  authTimer?: NodeJS.Timeout;
  /** Newest session token's expiry; the session fails once every token has expired. */
  tokenExpiresAtMs: number;
  /** Timers of the ignition script (SimulatorOptions.ignitionScript), cleared when the session ends. */
  scriptTimers?: NodeJS.Timeout[];
  /** Channels in the order they were announced, over all the session's streams (see admitChannel). */
  channelOrder?: Array<{ stream: OpenStream; key: string }>;
}

/** The J-Rex serves this many channels at a time, whatever their bus (openOBD documentation, "Limitations"). */
export const J_REX_CHANNELS = 32;

/**
 * Announces a channel on one of the session's streams. The J-Rex counts channels over all of a session's
 * streams: beyond 32, the oldest one (on whichever stream) is no longer served. Returns true when the
 * channel is new.
 */
export function admitChannel(session: SessionRecord, stream: OpenStream, key: string, channel: object): boolean {
  const channels = (stream.channels ??= new Map());
  if (channels.has(key)) return false;
  channels.set(key, channel);
  let order = (session.channelOrder ??= []);
  if (order.length > 4 * J_REX_CHANNELS) {
    // Entries of closed streams and dropped channels: cleared out now and then, so the list stays short.
    order = session.channelOrder = order.filter((e) => session.streams.has(e.stream) && e.stream.channels?.has(e.key));
  }
  order.push({ stream, key });
  let total = 0;
  for (const s of session.streams) total += s.channels?.size ?? 0;
  while (total > J_REX_CHANNELS && order.length > 0) {
    const oldest = order.shift()!;
    if (session.streams.has(oldest.stream) && oldest.stream.channels?.delete(oldest.key)) total--;
  }
  return true;
}

export type TokenRecord =
  | { kind: 'controller'; clientId: string; expiresAtMs: number }
  | { kind: 'auth'; sessionId: string; expiresAtMs: number }
  | { kind: 'session'; sessionId: string; expiresAtMs: number };

export function isFinal(state: SessionRecord['state']): boolean {
  return state === 'interrupted' || state === 'finished' || state === 'failed';
}
