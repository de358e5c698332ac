import { randomBytes, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { RawFrameMessage, ServiceName } from '../protocol';
import { serviceDefinition } from '../protocol';
import { Faults } from './faults';
import { controllerService } from './services/controller-service';
import { sessionService } from './services/session-service';
import { configService, connectionMonitorService, terminal15Service, vehicleInfoService } from './services/vehicle-services';
import { canService } from './services/can-service';
import { userInterfaceService } from './services/ui-service';
import { SimulatedTechnician, type UiScript } from './technician';
import { SimulatedFunctions, type FunctionBrokerOptions } from './functions';
import { functionService } from './services/function-service';
import { functionBrokerService } from './services/function-broker-service';
import { doipService, klineService } from './services/vehicle-streams';
import { Details, SimStatus } from './status';
import {
  STREAM_KINDS,
  isFinal,
  type ConnectorRecord,
  type OpenStream,
  type PartnerCredentialsRecord,
  type SessionRecord,
  type StreamKind,
  type TicketRecord,
  type TokenRecord,
} from './state';
import { loadVehicle, type SimulatedVehicle } from './vehicle/vehicle';
import type { VehicleDefinition } from './vehicle/types';

export interface SimulatorOptions {
  /** Interface to listen on (default 127.0.0.1: the simulator stays on loopback unless told otherwise). */
  host?: string;
  /** TCP port (default 0: any free port). */
  port?: number;
  /** Partner credentials it accepts (default one set: DEFAULT_SIMULATOR_CREDENTIALS). */
  partners?: PartnerCredentialsRecord[];
  /** How many cars (connectors, each with a ticket) it simulates (default 3). */
  vehicles?: number;
  /** The car definition every connector uses (default: the bundled default vehicle). */
  vehicle?: VehicleDefinition;
  /** Cadence of new session tokens on the token stream (default 120 s). */
  tokenIntervalMs?: number;
  /** Validity of each session token (default 300 s). */
  tokenValidityMs?: number;
  /** Send a token as soon as a token stream opens (default false: the first one comes after the interval). */
  tokenOnOpen?: boolean;
  /** Lifetime of a controller token (default 5400 s). */
  controllerTokenLifetimeMs?: number;
  /** An unclaimed session fails after this long (default 60 s). */
  authenticationTimeoutMs?: number;
  /** A session in a final state stays readable this long (default 120 s). */
  finalStateRetentionMs?: number;
  /**
   * Concurrent streams the server allows per HTTP/2 connection (default: no limit). Real gRPC front ends
   * cap it, often at 100: a client that puts every session on one connection locks up beyond that.
   */
  maxConcurrentStreams?: number;
  /**
   * A session's stream with no message in either direction for this long is closed, and that ends the
   * session (default 3600 s, openOBD's documented stream idle time).
   */
  streamIdleTimeoutMs?: number;
  /** How often expiries and limits are checked (default 1000 ms; tests use less). */
  sweepIntervalMs?: number;
  /** A session is ended (failed) when it gets this old (default 14400 s, openOBD's documented maximum). */
  maxSessionDurationMs?: number;
  /**
   * How a session's open streams end when the session ends: openOBD does not document it, so a test can
   * run the same scenario under each (default FAILED_PRECONDITION; OK ends them normally).
   */
  sessionEndStatus?: GrpcStatus;
  /** Before ending them, send one last, empty message on each of the session's streams (default false). */
  sessionEndFinalMessage?: boolean;
  /** Interval of the connector information stream (default 1000 ms). */
  connectorInfoIntervalMs?: number;
  /** Latency the connection monitor reports (default 35 ms). */
  latencyMs?: number;
  /** Host name put in SessionInfo.grpc_endpoint (default: the listening host). */
  advertisedHost?: string;
  /** How the user interface is answered: by a script (default: accept everything) or interactively through `technician`. */
  ui?: UiScript;
  /** The function broker: token lifetime and pushes, idle stream close, call timeout, signing key. */
  functionBroker?: FunctionBrokerOptions;
  /** Server TLS (default plaintext, which the client allows on loopback only). */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /**
   * The link between openOBD and the J-Rex: every exchange with the car (a request and its answer, a
   * bus configuration) takes one round trip of `roundTripMs` ± `jitterMs` (uniform) on top of the ECU's
   * own response time. Default none (answers as fast as the ECUs give them).
   */
  network?: NetworkProfile;
  /**
   * Cars besides the default ones, each on a ticket and connector of its own: the bundled "classic"
   * (K-Line and TP 2.0) on ticket 2001 and "fleet" (30 ECUs on five buses) on 2002 unless given.
   * `[]` for none.
   */
  garage?: GarageEntry[];
  /** Ignition changes in every session: at `afterMs` from the session's start, terminal 15 goes `on` or off. */
  ignitionScript?: IgnitionStep[];
}

export interface NetworkProfile {
  roundTripMs: number;
  jitterMs?: number;
}

export interface GarageEntry {
  ticketId: string;
  /** A bundled vehicle name ("classic", "fleet") or a definition. */
  vehicle: string | VehicleDefinition;
}

export interface IgnitionStep {
  afterMs: number;
  on: boolean;
}

/** The cars of the garage by default: tickets 2001 and 2002 (connectors …000000002001 and …000000002002). */
export const DEFAULT_GARAGE: readonly GarageEntry[] = [
  { ticketId: '2001', vehicle: 'classic' },
  { ticketId: '2002', vehicle: 'fleet' },
];

export const DEFAULT_SIMULATOR_CREDENTIALS: PartnerCredentialsRecord = {
  clientId: 'simulator-partner',
  clientSecret: 'simulator-secret',
  clusterId: '001',
};

export const FIRST_TICKET = 1001;

/** How many issued token values `issuedTokenHistory()` keeps (security tests; about 40 bytes each). */
export const ISSUED_TOKEN_HISTORY = 10_000;

/** Fixed connector ids, so example flows can name them: connector n ends in n, zero padded. */
export function connectorIdFor(n: number): string {
  return `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
}

/** The tickets and connectors a simulator with these options will have, before it runs. */
export function plannedVehicles(
  options: Pick<SimulatorOptions, 'vehicles' | 'garage'> = {},
): Array<{ ticketId: string; connectorId: string }> {
  const count = options.vehicles ?? DEFAULT_VEHICLES;
  const planned = Array.from({ length: count }, (_, i) => ({ ticketId: String(FIRST_TICKET + i), connectorId: connectorIdFor(i + 1) }));
  const taken = new Set(planned.map((v) => v.ticketId));
  for (const g of options.garage ?? DEFAULT_GARAGE) {
    if (taken.has(g.ticketId)) continue;
    if (/^\d{1,12}$/.test(g.ticketId)) planned.push({ ticketId: g.ticketId, connectorId: connectorIdFor(Number(g.ticketId)) });
  }
  return planned;
}

const DEFAULT_VEHICLES = 3;

const SERVICES: ServiceName[] = [
  'sessionController',
  'session',
  'config',
  'can',
  'kline',
  'doip',
  'terminal15',
  'connectionMonitor',
  'vehicleInfo',
  'userInterface',
  'function',
  'functionBroker',
];

/**
 * An openOBD service in a box: a real gRPC server speaking the openOBD 1.25.3 wire protocol with the
 * documented semantics, in front of simulated cars. State (sessions, tokens, cars) belongs to this
 * object, not to the listening socket, so `stop()` and `start()` again on the same port look to a
 * client exactly like a server restart.
 */
export class OpenObdSimulator extends EventEmitter {
  readonly options: Required<Omit<SimulatorOptions, 'vehicle' | 'ui' | 'tls' | 'advertisedHost' | 'functionBroker' | 'network'>> &
    Pick<SimulatorOptions, 'vehicle' | 'ui' | 'tls' | 'advertisedHost' | 'functionBroker' | 'network'>;
  readonly faults = new Faults();
  readonly partners: PartnerCredentialsRecord[];
  readonly connectors = new Map<string, ConnectorRecord>();
  readonly tickets = new Map<string, TicketRecord>();
  readonly sessions = new Map<string, SessionRecord>();
  readonly tokens = new Map<string, TokenRecord>();
  /** The person at each simulated car: what the user interface shows and how it is answered. */
  readonly technician: SimulatedTechnician;
  /** Function contexts, variables and the function broker. */
  readonly functions: SimulatedFunctions;
  /** Calls handled per `service.method` (statistics). */
  readonly callCounts = new Map<string, number>();
  /** For security tests only: every token value issued, newest last, bounded (see `issuedTokenHistory`). */
  readonly #issuedTokens: string[] = [];
  #server?: grpc.Server;
  #port?: number;
  #sweep?: NodeJS.Timeout;
  readonly #allStreams = new Set<OpenStream>();

  constructor(options: SimulatorOptions = {}) {
    super();
    this.options = {
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      partners: options.partners ?? [DEFAULT_SIMULATOR_CREDENTIALS],
      vehicles: options.vehicles ?? DEFAULT_VEHICLES,
      tokenIntervalMs: options.tokenIntervalMs ?? 120_000,
      tokenValidityMs: options.tokenValidityMs ?? 300_000,
      tokenOnOpen: options.tokenOnOpen ?? false,
      controllerTokenLifetimeMs: options.controllerTokenLifetimeMs ?? 5_400_000,
      authenticationTimeoutMs: options.authenticationTimeoutMs ?? 60_000,
      finalStateRetentionMs: options.finalStateRetentionMs ?? 120_000,
      sweepIntervalMs: options.sweepIntervalMs ?? 1000,
      maxConcurrentStreams: options.maxConcurrentStreams ?? 0,
      streamIdleTimeoutMs: options.streamIdleTimeoutMs ?? 3_600_000,
      maxSessionDurationMs: options.maxSessionDurationMs ?? 14_400_000,
      sessionEndStatus: options.sessionEndStatus ?? GrpcStatus.FAILED_PRECONDITION,
      sessionEndFinalMessage: options.sessionEndFinalMessage ?? false,
      connectorInfoIntervalMs: options.connectorInfoIntervalMs ?? 1000,
      latencyMs: options.latencyMs ?? 35,
      vehicle: options.vehicle,
      ui: options.ui,
      functionBroker: options.functionBroker,
      tls: options.tls,
      advertisedHost: options.advertisedHost,
      network: options.network,
      garage: options.garage ?? [...DEFAULT_GARAGE],
      ignitionScript: options.ignitionScript ?? [],
    };
    this.partners = this.options.partners;
    this.technician = new SimulatedTechnician(this, this.options.ui);
    this.functions = new SimulatedFunctions(this, this.options.functionBroker);
    for (let n = 1; n <= this.options.vehicles; n++) this.addVehicle();
    // A garage ticket already taken by the default cars (more than a thousand of them) is left out.
    for (const entry of this.options.garage) if (!this.tickets.has(entry.ticketId)) this.addVehicleOn(entry.ticketId, entry.vehicle);
  }

  /**
   * Adds a car on a ticket of its choosing (the connector id ends in the ticket number when it is one,
   * as the default cars' do). Returns both ids.
   */
  addVehicleOn(ticketId: string, vehicle: string | VehicleDefinition): { ticketId: string; connectorId: string } {
    if (this.tickets.has(ticketId)) throw new Error(`ticket ${ticketId} exists already`);
    const connectorId = /^\d{1,12}$/.test(ticketId) ? connectorIdFor(Number(ticketId)) : randomUUID();
    this.connectors.set(connectorId, {
      id: connectorId,
      vehicle: loadVehicle(vehicle),
      connectedSince: Date.now(),
      latencyMs: this.options.latencyMs,
    });
    this.tickets.set(ticketId, { id: ticketId, connectorId });
    return { ticketId, connectorId };
  }

  /** One round trip to the J-Rex under the network profile, in ms (0 without one). */
  roundTripMs(): number {
    const n = this.options.network;
    if (!n) return 0;
    const jitter = n.jitterMs ? (Math.random() * 2 - 1) * n.jitterMs : 0;
    return Math.max(0, n.roundTripMs + jitter);
  }

  /** The car behind a ticket or connector id (for tests, scripts and a technician view). */
  vehicleOf(ticketOrConnector: string): SimulatedVehicle | undefined {
    const connectorId = this.tickets.get(ticketOrConnector)?.connectorId ?? ticketOrConnector;
    return this.connectors.get(connectorId)?.vehicle;
  }

  /**
   * Switches terminal 15 of the car behind a ticket or connector (through the technician view, which shows
   * the change); returns false if there is no such car.
   */
  setIgnition(ticketOrConnector: string, on: boolean): boolean {
    if (!this.vehicleOf(ticketOrConnector)) return false;
    this.technician.setIgnition(ticketOrConnector, on);
    return true;
  }

  /** Adds one car: a connector with a fresh vehicle and a ticket pointing at it. Returns both ids. */
  addVehicle(definition?: VehicleDefinition): { ticketId: string; connectorId: string } {
    let n = 1;
    while (this.tickets.has(String(FIRST_TICKET + n - 1))) n++;
    const connectorId = connectorIdFor(n);
    const ticketId = String(FIRST_TICKET + n - 1);
    this.connectors.set(connectorId, {
      id: connectorId,
      vehicle: loadVehicle(definition ?? this.options.vehicle),
      connectedSince: Date.now(),
      latencyMs: this.options.latencyMs,
    });
    this.tickets.set(ticketId, { id: ticketId, connectorId });
    return { ticketId, connectorId };
  }

  get port(): number | undefined {
    return this.#port;
  }

  get running(): boolean {
    return this.#server !== undefined;
  }

  /** `host:port` as a client dials it. */
  get endpoint(): string {
    if (this.#port === undefined) throw new Error('The simulator is not running');
    const host = this.options.advertisedHost ?? (this.options.host === '0.0.0.0' ? '127.0.0.1' : this.options.host);
    return `${host.includes(':') ? `[${host}]` : host}:${this.#port}`;
  }

  /** Starts listening (again, on the same port after a stop). Resolves with the endpoint. */
  async start(): Promise<string> {
    if (this.#server) return this.endpoint;
    const serverOptions: grpc.ServerOptions = { 'grpc.max_receive_message_length': 16 * 1024 * 1024 };
    if (this.options.maxConcurrentStreams > 0) serverOptions['grpc.max_concurrent_streams'] = this.options.maxConcurrentStreams;
    const server = new grpc.Server(serverOptions);
    const implementations: Record<ServiceName, grpc.UntypedServiceImplementation> = {
      sessionController: controllerService(this),
      session: sessionService(this),
      config: configService(this),
      can: canService(this),
      connectionMonitor: connectionMonitorService(this),
      vehicleInfo: vehicleInfoService(this),
      terminal15: terminal15Service(this),
      userInterface: userInterfaceService(this),
      kline: klineService(this),
      doip: doipService(this),
      function: functionService(this),
      functionBroker: functionBrokerService(this),
    };
    for (const name of SERVICES) server.addService(serviceDefinition(name), implementations[name]);
    const credentials = this.options.tls
      ? grpc.ServerCredentials.createSsl(
          null,
          [{ cert_chain: Buffer.from(this.options.tls.cert), private_key: Buffer.from(this.options.tls.key) }],
          false,
        )
      : grpc.ServerCredentials.createInsecure();
    const host = this.options.host.includes(':') ? `[${this.options.host}]` : this.options.host;
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`${host}:${this.#port ?? this.options.port}`, credentials, (err, p) => (err ? reject(err) : resolve(p))),
    );
    this.#server = server;
    this.#port = port;
    this.#sweep = setInterval(() => this.sweep(), this.options.sweepIntervalMs);
    this.#sweep.unref();
    this.emit('started', this.endpoint);
    return this.endpoint;
  }

  /**
   * Stops listening and cuts every connection, as a crash or restart would. Sessions and tokens are
   * kept: a client that comes back in time continues.
   */
  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    if (this.#sweep) clearInterval(this.#sweep);
    this.#sweep = undefined;
    for (const s of [...this.#allStreams]) this.closeStream(s);
    server.forceShutdown();
    this.emit('stopped');
  }

  /** Stops, waits `downtimeMs`, and starts again on the same port. */
  async restart(downtimeMs = 0): Promise<string> {
    await this.stop();
    if (downtimeMs > 0) await new Promise((r) => setTimeout(r, downtimeMs));
    return this.start();
  }

  /** Ends every session and forgets all tokens and sessions; cars get a new operation cycle. */
  reset(): void {
    for (const s of this.sessions.values()) this.endSession(s, 'interrupted', 'simulator reset');
    this.sessions.clear();
    this.tokens.clear();
    for (const c of this.connectors.values()) c.sessionId = undefined;
    this.faults.clear();
    this.technician.clear();
    this.functions.clear();
  }

  /** Counts for leak checks: open streams by kind, sessions by state, tokens held. */
  stats(): { streams: Record<StreamKind, number>; openStreams: number; sessions: Record<string, number>; tokens: number; calls: number } {
    const streams = Object.fromEntries(STREAM_KINDS.map((k) => [k, 0])) as Record<StreamKind, number>;
    for (const s of this.#allStreams) streams[s.kind] += 1;
    const sessions: Record<string, number> = {};
    for (const s of this.sessions.values()) sessions[s.state] = (sessions[s.state] ?? 0) + 1;
    let calls = 0;
    for (const n of this.callCounts.values()) calls += n;
    return { streams, openStreams: this.#allStreams.size, sessions, tokens: this.tokens.size, calls };
  }

  // ---- internals used by the service implementations ----

  /** @internal */
  countCall(service: string, method: string): void {
    const key = `${service}.${method}`;
    this.callCounts.set(key, (this.callCounts.get(key) ?? 0) + 1);
  }

  /** @internal An opaque random token, registered with its purpose and expiry. */
  issueToken(record: TokenRecord): string {
    const value = randomBytes(24).toString('base64url');
    this.tokens.set(value, record);
    this.#issuedTokens.push(value);
    if (this.#issuedTokens.length > ISSUED_TOKEN_HISTORY) this.#issuedTokens.shift();
    return value;
  }

  /** @internal A token kept by a service itself (broker, monitor tokens), remembered for the security scans. */
  issueLooseToken(): string {
    const value = randomBytes(24).toString('base64url');
    this.#issuedTokens.push(value);
    if (this.#issuedTokens.length > ISSUED_TOKEN_HISTORY) this.#issuedTokens.shift();
    return value;
  }

  /**
   * For security tests only (not part of openOBD): the values of the last ISSUED_TOKEN_HISTORY tokens
   * this simulator issued, of every kind (controller, one-time authentication, session), including
   * expired ones that `tokens` no longer holds, so a test can assert that none of them appears in any
   * message, status, log line or error.
   */
  issuedTokenHistory(): readonly string[] {
    return [...this.#issuedTokens];
  }

  /** @internal The bearer token of a call, or UNAUTHENTICATED. */
  bearer(metadata: grpc.Metadata): { value: string; record: TokenRecord } {
    const header = metadata.get('authorization')[0];
    const text = typeof header === 'string' ? header : (header?.toString() ?? '');
    const m = /^Bearer\s+(\S+)$/i.exec(text.trim());
    if (!m) throw new SimStatus(GrpcStatus.UNAUTHENTICATED, 'Missing bearer token');
    const record = this.tokens.get(m[1]);
    if (!record) throw new SimStatus(GrpcStatus.UNAUTHENTICATED, 'Invalid or expired token');
    if (record.expiresAtMs <= Date.now()) {
      this.tokens.delete(m[1]);
      throw new SimStatus(GrpcStatus.UNAUTHENTICATED, 'Token has expired');
    }
    return { value: m[1], record };
  }

  /** @internal The partner behind a controller token. */
  partnerOf(metadata: grpc.Metadata): string {
    const { record } = this.bearer(metadata);
    if (record.kind !== 'controller') throw new SimStatus(GrpcStatus.UNAUTHENTICATED, 'A session controller token is required');
    return record.clientId;
  }

  /**
   * @internal The active session behind a session token; the errors openOBD documents for the
   * authentication token and for sessions that ended.
   */
  activeSession(metadata: grpc.Metadata): SessionRecord {
    const { record } = this.bearer(metadata);
    if (record.kind === 'controller') throw new SimStatus(GrpcStatus.UNAUTHENTICATED, 'A session token is required');
    const session = this.sessions.get(record.sessionId);
    if (!session) throw new SimStatus(GrpcStatus.UNAUTHENTICATED, 'Unknown session');
    if (isFinal(session.state)) throw new SimStatus(GrpcStatus.FAILED_PRECONDITION, `Session ${session.id} has ended (${session.state})`);
    if (record.kind === 'auth') throw new SimStatus(GrpcStatus.PERMISSION_DENIED, Details.authenticateFirst);
    return session;
  }

  /** @internal */
  createSession(partnerClientId: string, connector: ConnectorRecord, ticketId?: string): SessionRecord {
    const current = connector.sessionId ? this.sessions.get(connector.sessionId) : undefined;
    if (current && !isFinal(current.state)) throw new SimStatus(GrpcStatus.UNAVAILABLE, Details.resourceInUse);
    const now = Date.now();
    const id = randomUUID();
    const session: SessionRecord = {
      id,
      partnerClientId,
      connectorId: connector.id,
      ticketId,
      state: 'available',
      createdAt: new Date(now).toISOString(),
      createdAtMs: now,
      authToken: '',
      buses: new Map(),
      streams: new Set(),
      tokenExpiresAtMs: 0,
    };
    session.authToken = this.issueToken({ kind: 'auth', sessionId: id, expiresAtMs: now + this.options.authenticationTimeoutMs });
    session.authTimer = setTimeout(() => {
      if (session.state === 'available') this.endSession(session, 'failed', 'not authenticated within the authentication timeout');
    }, this.options.authenticationTimeoutMs);
    session.authTimer.unref();
    this.sessions.set(id, session);
    connector.sessionId = id;
    connector.vehicle.startOperationCycle();
    // A scripted session starts with the ignition on, whatever the last script left behind.
    if (this.options.ignitionScript.length > 0) this.technician.setIgnition(connector.id, true);
    session.scriptTimers = this.options.ignitionScript.map((step) => {
      const t = setTimeout(() => {
        if (!isFinal(session.state)) this.technician.setIgnition(connector.id, step.on);
      }, step.afterMs);
      t.unref();
      return t;
    });
    this.emit('session', session.id, 'available');
    return session;
  }

  /** @internal Moves a session to a final state, ends its streams and frees its connector. */
  endSession(session: SessionRecord, state: 'interrupted' | 'finished' | 'failed', reason: string): void {
    if (isFinal(session.state)) return;
    session.state = state;
    session.endedAtMs = Date.now();
    session.endReason = reason;
    if (session.authTimer) clearTimeout(session.authTimer);
    for (const t of session.scriptTimers ?? []) clearTimeout(t);
    for (const [value, t] of this.tokens) if (t.kind !== 'controller' && t.sessionId === session.id) this.tokens.delete(value);
    const code = this.options.sessionEndStatus;
    for (const s of [...session.streams]) {
      if (this.options.sessionEndFinalMessage) this.#writeFinal(s);
      this.closeStream(s, code === GrpcStatus.OK ? undefined : { code, details: `Session ${session.id} has ended (${state})` });
    }
    const connector = this.connectors.get(session.connectorId);
    if (connector?.sessionId === session.id) connector.sessionId = undefined;
    this.functions.sessionEnded(session);
    this.emit('session', session.id, state);
  }

  #writeFinal(stream: OpenStream): void {
    try {
      stream.finalMessage?.();
    } catch {
      // the call may already be gone with its connection
    }
  }

  /** Ends a session from the server's side, as a failure on openOBD's end would (state `failed`). */
  fail(sessionId: string, reason = 'a server-side failure'): boolean {
    const s = this.sessions.get(sessionId);
    if (!s || isFinal(s.state)) return false;
    this.endSession(s, 'failed', reason);
    return true;
  }

  /** @internal Tracks a server stream of a session until it closes. */
  trackStream(session: SessionRecord | undefined, stream: OpenStream): void {
    this.#allStreams.add(stream);
    session?.streams.add(stream);
    stream.session = session;
    // Activity either way keeps the stream from idling into openOBD's stream idle time.
    stream.lastActivityMs = Date.now();
    const call = stream.call as unknown as { write?: (...a: unknown[]) => boolean; on(e: string, f: () => void): void };
    if (typeof call.write === 'function') {
      const write = call.write.bind(call);
      call.write = (...a: unknown[]) => {
        stream.lastActivityMs = Date.now();
        return write(...a);
      };
    }
    call.on('data', () => (stream.lastActivityMs = Date.now()));
    const done = () => this.forgetStream(session, stream);
    stream.call.on('cancelled', done);
    stream.call.on('close', done);
    stream.call.on('finish', done);
    stream.call.on('error', done);
  }

  /** @internal */
  forgetStream(session: SessionRecord | undefined, stream: OpenStream): void {
    if (!this.#allStreams.delete(stream)) return;
    session?.streams.delete(stream);
    stream.dispose();
  }

  /** @internal Ends a stream, with an error status if given. */
  closeStream(stream: OpenStream, status?: { code: GrpcStatus; details: string }): void {
    this.forgetStream(stream.session, stream);
    const call = stream.call as unknown as NodeJS.EventEmitter & { end?: () => void };
    try {
      if (status) call.emit('error', status);
      else call.end?.();
    } catch {
      // the call may already be gone with its connection
    }
  }

  /** Ends every open token stream with `code`, as a network blip or a server-side reset would. */
  dropTokenStreams(code: GrpcStatus = GrpcStatus.UNAVAILABLE, details = 'Simulated token stream drop'): number {
    let n = 0;
    for (const s of [...this.#allStreams]) {
      if (s.kind !== 'token') continue;
      this.closeStream(s, { code, details });
      n += 1;
    }
    return n;
  }

  /** Ends every open stream of the given kind. */
  dropStreams(kind: StreamKind, code: GrpcStatus = GrpcStatus.UNAVAILABLE, details = 'Simulated stream drop'): number {
    let n = 0;
    for (const s of [...this.#allStreams]) {
      if (s.kind !== kind) continue;
      this.closeStream(s, { code, details });
      n += 1;
    }
    return n;
  }

  /**
   * Writes one received raw CAN frame with exactly these fields on the session's raw-frames streams.
   * openOBD does not document which of request_id and response_id it sets on a received frame, so tests
   * send each labelling it might use. Returns how many streams it went to.
   */
  sendRawFrame(sessionId: string, frame: RawFrameMessage): number {
    let n = 0;
    for (const stream of this.sessions.get(sessionId)?.streams ?? []) {
      if (stream.kind !== 'raw') continue;
      (stream.call as grpc.ServerDuplexStream<unknown, RawFrameMessage>).write(frame);
      n += 1;
    }
    return n;
  }

  /** Interrupts a session from the operator's side (as the openOBD dashboard would). */
  interrupt(sessionId: string): boolean {
    const s = this.sessions.get(sessionId);
    if (!s || isFinal(s.state)) return false;
    this.endSession(s, 'interrupted', 'interrupted by the operator');
    return true;
  }

  /** @internal Expires tokens, fails sessions nobody keeps alive, forgets old final sessions. */
  sweep(now = Date.now()): void {
    for (const [value, t] of this.tokens) if (t.expiresAtMs <= now) this.tokens.delete(value);
    // A stream idle for the stream idle time is closed, and that ends its session (openOBD documentation,
    // "Limitations").
    for (const stream of [...this.#allStreams]) {
      const s = stream.session;
      if (!s || isFinal(s.state) || now - (stream.lastActivityMs ?? now) < this.options.streamIdleTimeoutMs) continue;
      this.endSession(s, 'failed', `its ${stream.kind} stream was idle for ${Math.round(this.options.streamIdleTimeoutMs / 1000)} s`);
    }
    this.functions.sweep(now);
    for (const s of [...this.sessions.values()]) {
      if (s.state === 'active' && s.tokenExpiresAtMs <= now) {
        this.endSession(s, 'failed', 'every session token expired');
      }
      if (!isFinal(s.state) && now - s.createdAtMs >= this.options.maxSessionDurationMs) {
        this.endSession(s, 'failed', 'the maximum session duration was reached');
      }
      if (isFinal(s.state) && s.endedAtMs !== undefined && now - s.endedAtMs > this.options.finalStateRetentionMs) {
        this.sessions.delete(s.id);
      }
    }
  }

  /** @internal */
  sessionInfoMessage(s: SessionRecord) {
    return {
      id: s.id,
      state: s.state,
      created_at: s.createdAt,
      grpc_endpoint: this.endpoint,
      // The one-time token is only useful, and only given out, while the session is unclaimed.
      authentication_token: s.state === 'available' ? s.authToken : '',
    };
  }

  /** The ticket ids it knows, in order. */
  ticketIds(): string[] {
    return [...this.tickets.keys()];
  }

  connectorIds(): string[] {
    return [...this.connectors.keys()];
  }
}
