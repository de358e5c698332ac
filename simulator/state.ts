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
}

export type TokenRecord =
  | { kind: 'controller'; clientId: string; expiresAtMs: number }
  | { kind: 'auth'; sessionId: string; expiresAtMs: number }
  | { kind: 'session'; sessionId: string; expiresAtMs: number };

export function isFinal(state: SessionRecord['state']): boolean {
  return state === 'interrupted' || state === 'finished' || state === 'failed';
}
