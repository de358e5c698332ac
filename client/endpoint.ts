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

interface PooledChannel {
  channel: grpc.Channel;
  client: grpc.Client;
  users: number;
}

/**
 * One gRPC channel (one HTTP/2 connection) per endpoint, shared by every controller and session that
 * talks to it, counted so the last user closes it. A channel per message or per node is the classic
 * leak of Node-RED gRPC integrations.
 */
export class ChannelPool {
  readonly #channels = new Map<string, PooledChannel>();

  acquire(endpoint: ResolvedEndpoint): ChannelLease {
    let pooled = this.#channels.get(endpoint.key);
    if (!pooled) {
      const credentials = credentialsFor(endpoint);
      const options: grpc.ChannelOptions = {
        // Our own keepalive watches the token stream; HTTP/2 pings are left to the caller's options
        // because servers punish pings they did not allow (GOAWAY too_many_pings).
        'grpc.max_receive_message_length': 16 * 1024 * 1024,
        // grpc-js backs off reconnecting up to 120 s: after a long outage the channel would keep failing
        // every call for up to two minutes after openOBD is back. Bounded here: one attempt per ≤ 3 s
        // (a single TCP connect per endpoint and process), matched by Rpc's CONNECT_WAIT_MS.
        'grpc.initial_reconnect_backoff_ms': 500,
        'grpc.max_reconnect_backoff_ms': 3000,
        ...endpoint.channelOptions,
      };
      const channel = new grpc.Channel(endpoint.target, credentials, options);
      const client = new grpc.Client(endpoint.target, credentials, { channelOverride: channel });
      pooled = { channel, client, users: 0 };
      this.#channels.set(endpoint.key, pooled);
    }
    pooled.users += 1;
    return new ChannelLease(this, endpoint, pooled.client);
  }

  /** @internal called by ChannelLease.release */
  releaseKey(key: string): void {
    const pooled = this.#channels.get(key);
    if (!pooled) return;
    pooled.users -= 1;
    if (pooled.users <= 0) {
      this.#channels.delete(key);
      pooled.client.close();
      pooled.channel.close();
    }
  }

  /** How many channels are open (for leak checks and statistics). */
  get size(): number {
    return this.#channels.size;
  }
}

/** A counted reference to a pooled channel; release it exactly once. */
export class ChannelLease {
  #released = false;

  constructor(
    private readonly pool: ChannelPool,
    readonly endpoint: ResolvedEndpoint,
    readonly client: grpc.Client,
  ) {}

  get released(): boolean {
    return this.#released;
  }

  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.pool.releaseKey(this.endpoint.key);
  }
}

/** The process-wide pool used unless a caller brings its own. */
export const defaultChannelPool = new ChannelPool();
