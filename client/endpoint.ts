import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { OpenObdError } from './errors';
import { isLoopbackHost } from './input-rules';

export { isLoopbackHost };

/** Where an openOBD gRPC server listens, and how to talk to it. */
export interface EndpointOptions {
  host: string;
  /** Default 443. */
  port?: number;
  /**
   * TLS is on unless switched off explicitly. Unlike the official client, TLS does not depend on the
   * port number: TLS on a custom port and plaintext on 443 are both possible.
   */
  tls?: boolean;
  /** PEM CA certificate(s) to trust instead of the system roots. */
  ca?: string | Buffer;
  /**
   * Plaintext is refused for every host that is not loopback unless this is set: tokens would cross
   * the network in the clear.
   */
  allowInsecure?: boolean;
  /** Extra grpc-js channel options. */
  channelOptions?: grpc.ChannelOptions;
}

export interface ResolvedEndpoint {
  host: string;
  port: number;
  tls: boolean;
  ca?: Buffer;
  allowInsecure: boolean;
  channelOptions: grpc.ChannelOptions;
  /** `host:port`, bracketed for IPv6. */
  target: string;
  /** Identity for channel sharing: same key, same channel. */
  key: string;
}

export const OPENOBD_DEFAULT_HOST = 'grpc.openobd.com';
export const OPENOBD_DEFAULT_PORT = 443;

/**
 * Splits `host`, `host:port`, `[v6]:port` or a `grpc(s)://host:port` URL. A scheme sets TLS
 * (`grpcs`/`https` on, `grpc`/`http` off); no scheme leaves TLS to the caller.
 */
export function parseAddress(address: string): { host: string; port?: number; tls?: boolean } {
  let rest = address.trim();
  let tls: boolean | undefined;
  const scheme = /^([a-z]+):\/\//i.exec(rest);
  if (scheme) {
    const s = scheme[1].toLowerCase();
    if (s === 'grpcs' || s === 'https') tls = true;
    else if (s === 'grpc' || s === 'http') tls = false;
    else throw new OpenObdError('BAD_CONFIG', `Unsupported scheme '${s}' in endpoint '${address}'`);
    rest = rest.slice(scheme[0].length);
  }
  rest = rest.replace(/\/+$/, '');
  let host = rest;
  let port: number | undefined;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
  if (v6) {
    host = v6[1];
    if (v6[2]) port = Number(v6[2]);
  } else {
    const i = rest.lastIndexOf(':');
    if (i > 0 && rest.indexOf(':') === i) {
      host = rest.slice(0, i);
      port = Number(rest.slice(i + 1));
    }
  }
  if (!host) throw new OpenObdError('BAD_CONFIG', `Endpoint '${address}' has no host`);
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) {
    throw new OpenObdError('BAD_CONFIG', `Endpoint '${address}' has an invalid port`);
  }
  return { host, port, tls };
}

export function resolveEndpoint(options: EndpointOptions | string): ResolvedEndpoint {
  const opts: EndpointOptions = typeof options === 'string' ? parseAddress(options) : options;
  const host = (opts.host ?? '').trim();
  if (!host) throw new OpenObdError('BAD_CONFIG', 'The openOBD endpoint needs a host name');
  const port = opts.port ?? OPENOBD_DEFAULT_PORT;
  if (!(Number.isInteger(port) && port > 0 && port < 65536)) {
    throw new OpenObdError('BAD_CONFIG', `Port ${String(port)} is not a valid TCP port`);
  }
  const tls = opts.tls ?? true;
  const allowInsecure = opts.allowInsecure ?? false;
  if (!tls && !allowInsecure && !isLoopbackHost(host)) {
    throw new OpenObdError(
      'INSECURE_ENDPOINT',
      `Refusing plaintext gRPC to ${host}: tokens would travel unencrypted. Enable TLS, or set "allow insecure" for a trusted test network`,
    );
  }
  const ca = opts.ca === undefined ? undefined : Buffer.isBuffer(opts.ca) ? opts.ca : Buffer.from(opts.ca);
  const target = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const caId = ca ? createHash('sha256').update(ca).digest('hex').slice(0, 16) : '';
  const channelOptions = opts.channelOptions ?? {};
  const key = `${tls ? 'tls' : 'plain'}://${target}#${caId}#${JSON.stringify(channelOptions)}`;
  return { host, port, tls, ca, allowInsecure, channelOptions, target, key };
}

function credentialsFor(endpoint: ResolvedEndpoint): grpc.ChannelCredentials {
  return endpoint.tls ? grpc.credentials.createSsl(endpoint.ca ?? null) : grpc.credentials.createInsecure();
}

/** What a lease is for: the partner-level calls of controllers, or the streams and calls of sessions. */
export type ConnectionPurpose = 'calls' | 'sessions';

export interface ConnectionPoolOptions {
  /**
   * Sessions that share one HTTP/2 connection (default 30). Every session holds two or more long-lived
   * streams (token, ISO-TP, user interface...) on its connection, and gRPC front ends (load balancers,
   * proxies) commonly cap a connection at 100 concurrent streams; beyond the cap new streams wait, and a
   * fleet locks up. 30 sessions leave room for their other streams and their unary calls.
   */
  sessionsPerConnection?: number;
  /**
   * How long a sessions connection stays open after its last session ended, for the next session to the
   * same endpoint (default 30 s; 0: it closes with its last session). A new HTTP/2 connection costs round
   * trips before its first call can go out (TCP, TLS, and grpc-js waits for the server's SETTINGS frame,
   * RFC 9113 3.4), so a workshop running one procedure after another would pay them again for every
   * session. One such idle connection per endpoint at most, without HTTP/2 pings (servers punish pings they
   * did not allow), and kept shorter than the idle timeouts of common load balancers (60 s and longer), so
   * the server side does not close it under a new session. `closeIdle` closes it earlier.
   */
  idleLingerMs?: number;
}

interface Connection {
  readonly channel: grpc.Channel;
  readonly client: grpc.Client;
  readonly purpose: ConnectionPurpose;
  /** The endpoint's key. */
  readonly key: string;
  /** Leases on it. */
  users: number;
  /** The server refused a stream on it: no new sessions go here. */
  full: boolean;
  /** Set while it has no users and waits for a next session (idleLingerMs), closing when it fires. */
  idle?: NodeJS.Timeout;
}

/** An endpoint's connections by purpose; connections that refused a stream stay until their users leave. */
type EndpointConnections = Record<ConnectionPurpose, Connection[]>;

/**
 * The gRPC channels (HTTP/2 connections) of the process, shared and counted so the last user closes
 * each one: a channel per message or per node is the classic leak of Node-RED gRPC integrations.
 *
 * Per endpoint, controllers share one connection for their calls, which no session stream can starve,
 * and sessions are spread over as many connections as they need, `sessionsPerConnection` each; a
 * connection closes when its last session ends, but for one per endpoint that stays idle for
 * `idleLingerMs`, ready for the next session. Each connection has its own subchannel pool: grpc-js
 * otherwise shares one subchannel (one TCP connection) between channels with the same options.
 */
export class ConnectionPool {
  readonly #endpoints = new Map<string, EndpointConnections>();
  readonly #perConnection: number;
  readonly #lingerMs: number;

  constructor(options: ConnectionPoolOptions = {}) {
    this.#perConnection = Math.max(1, options.sessionsPerConnection ?? 30);
    this.#lingerMs = Math.max(0, options.idleLingerMs ?? 30_000);
  }

  /** A lease on a connection to `endpoint`: the controllers' one, or one with room for another session. */
  acquire(endpoint: ResolvedEndpoint, purpose: ConnectionPurpose = 'calls'): ConnectionLease {
    return new ConnectionLease(this, endpoint, this.#pick(endpoint, purpose));
  }

  #group(endpoint: ResolvedEndpoint): EndpointConnections {
    let group = this.#endpoints.get(endpoint.key);
    if (!group) {
      group = { calls: [], sessions: [] };
      this.#endpoints.set(endpoint.key, group);
    }
    return group;
  }

  #pick(endpoint: ResolvedEndpoint, purpose: ConnectionPurpose, avoid?: Connection): Connection {
    const list = this.#group(endpoint)[purpose];
    // Controllers all share one connection; sessions fill connections up to sessionsPerConnection.
    const room = purpose === 'calls' ? Infinity : this.#perConnection;
    const fits = (c: Connection) => c !== avoid && !c.full && c.users < room;
    // Fill the connections in use first; an idle one comes next, a new one last.
    let connection = list.find((c) => fits(c) && !c.idle) ?? list.find(fits);
    if (!connection) {
      connection = this.#open(endpoint, purpose);
      list.push(connection);
    }
    clearTimeout(connection.idle);
    connection.idle = undefined;
    connection.users += 1;
    return connection;
  }

  /**
   * A session to `endpoint` is on its way (its start call is out): a connection for it starts connecting
   * now, so the round trips of a new connection overlap with that call. Nothing happens when a connection
   * with room is there already (it only reconnects if it had gone idle), or when idle connections are not
   * kept (`idleLingerMs` 0). A connection opened here is idle until a session takes it.
   */
  warm(endpoint: ResolvedEndpoint): void {
    if (this.#lingerMs === 0) return;
    const list = this.#group(endpoint).sessions;
    let connection = list.find((c) => !c.full && c.users < this.#perConnection);
    if (!connection) {
      connection = this.#open(endpoint, 'sessions');
      list.push(connection);
      this.#park(connection);
    }
    try {
      connection.channel.getConnectivityState(true);
    } catch {
      // closed meanwhile: the session opens its own
    }
  }

  /** Closes the idle connections (no session on them) to `endpoint`, or to every endpoint. */
  closeIdle(endpoint?: ResolvedEndpoint): void {
    const groups = endpoint ? [this.#endpoints.get(endpoint.key)] : [...this.#endpoints.values()];
    for (const group of groups) for (const c of group ? [...group.calls, ...group.sessions] : []) if (c.idle) this.#close(c);
  }

  #park(connection: Connection): void {
    connection.idle = setTimeout(() => this.#close(connection), this.#lingerMs);
    connection.idle.unref();
  }

  #open(endpoint: ResolvedEndpoint, purpose: ConnectionPurpose): Connection {
    const credentials = credentialsFor(endpoint);
    const options: grpc.ChannelOptions = {
      // Our own keepalive watches the token stream; HTTP/2 pings are left to the caller's options
      // because servers punish pings they did not allow (GOAWAY too_many_pings).
      'grpc.max_receive_message_length': 16 * 1024 * 1024,
      // grpc-js backs off reconnecting up to 120 s: after a long outage the channel would keep failing
      // every call for up to two minutes after openOBD is back. Bounded here: one attempt per ≤ 3 s
      // (a single TCP connect per connection), matched by Rpc's CONNECT_WAIT_MS.
      'grpc.initial_reconnect_backoff_ms': 500,
      'grpc.max_reconnect_backoff_ms': 3000,
      // One TCP connection per channel: without this, channels with the same options share one.
      'grpc.use_local_subchannel_pool': 1,
      ...endpoint.channelOptions,
    };
    const channel = new grpc.Channel(endpoint.target, credentials, options);
    const client = new grpc.Client(endpoint.target, credentials, { channelOverride: channel });
    return { channel, client, purpose, key: endpoint.key, users: 0, full: false };
  }

  /**
   * @internal ConnectionLease.release. A sessions connection left without users stays idle for the next
   * session (`linger`), unless it is full or another idle one to the endpoint is there already.
   */
  release(endpoint: ResolvedEndpoint, connection: Connection, linger = true): void {
    connection.users -= 1;
    if (connection.users > 0) return;
    const others = this.#endpoints.get(endpoint.key)?.sessions ?? [];
    if (linger && this.#lingerMs > 0 && connection.purpose === 'sessions' && !connection.full && !others.some((c) => c.idle))
      this.#park(connection);
    else this.#close(connection);
  }

  #close(connection: Connection): void {
    clearTimeout(connection.idle);
    connection.idle = undefined;
    const group = this.#endpoints.get(connection.key);
    if (group) {
      group[connection.purpose] = group[connection.purpose].filter((c) => c !== connection);
      if (group.calls.length === 0 && group.sessions.length === 0) this.#endpoints.delete(connection.key);
    }
    connection.client.close();
    connection.channel.close();
  }

  /**
   * @internal ConnectionLease.moveOn: the server refused a stream on `connection` (it is full): no new
   * session goes there, and the lease moves to a connection with room.
   */
  moveOn(endpoint: ResolvedEndpoint, connection: Connection): Connection {
    connection.full = true;
    const next = this.#pick(endpoint, connection.purpose, connection);
    this.release(endpoint, connection);
    return next;
  }

  /** How many connections are open and in use (for leak checks and statistics); idle ones are `idle`. */
  get size(): number {
    let n = 0;
    for (const g of this.#endpoints.values()) n += g.calls.length + g.sessions.filter((c) => !c.idle).length;
    return n;
  }

  /** How many connections are open without a user, waiting for a next session (see `idleLingerMs`). */
  get idle(): number {
    let n = 0;
    for (const g of this.#endpoints.values()) n += g.sessions.filter((c) => c.idle).length;
    return n;
  }

  /** Connections in use and leases by purpose, and the idle connections (for statistics). */
  stats(): { connections: number; sessionConnections: number; sessions: number; idleConnections: number } {
    let sessionConnections = 0;
    let sessions = 0;
    for (const g of this.#endpoints.values()) {
      sessionConnections += g.sessions.filter((c) => !c.idle).length;
      for (const c of g.sessions) sessions += c.users;
    }
    return { connections: this.size, sessionConnections, sessions, idleConnections: this.idle };
  }
}

/** A counted reference to a pooled connection; release it exactly once. */
export class ConnectionLease {
  #released = false;
  #connection: Connection;

  constructor(
    private readonly pool: ConnectionPool,
    readonly endpoint: ResolvedEndpoint,
    connection: Connection,
  ) {
    this.#connection = connection;
  }

  /** The client of the connection the lease is on now (it changes when the lease moves on). */
  get client(): grpc.Client {
    return this.#connection.client;
  }

  get released(): boolean {
    return this.#released;
  }

  /** The server refused a stream here: go on on another connection to the same endpoint. */
  moveOn(): void {
    if (this.#released) return;
    this.#connection = this.pool.moveOn(this.endpoint, this.#connection);
  }

  /** `linger: false` closes a sessions connection left without users at once (see `idleLingerMs`). */
  release(options: { linger?: boolean } = {}): void {
    if (this.#released) return;
    this.#released = true;
    this.pool.release(this.endpoint, this.#connection, options.linger ?? true);
  }
}

/** The process-wide pool used unless a caller brings its own. */
export const defaultConnectionPool = new ConnectionPool();
