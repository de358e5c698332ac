import {
  OpenObdError,
  SessionController,
  type FunctionBroker,
  type FunctionBrokerOptions,
  type Session,
  isFinalState,
  parseAddress,
  type ControllerState,
  type EndCause,
  type EndpointOptions,
  type Logger,
  type SessionInfo,
  type SessionOptions,
  type StartTarget,
} from '../../client';
import type { SimulatorOptions } from '../../simulator';
import { acquireBuiltinSimulator, type BuiltinSimulatorLease } from './builtin-simulator';
import { registry, type LiveSession, type SessionTarget } from './registry';

export type EndpointMode = 'simulator' | 'cloud' | 'custom';

/** What happens to the account's open sessions when the account node stops (redeploy, delete, shutdown). */
export type ClosePolicy = 'interrupt' | 'finish';

/** What *start session* does when this Node-RED already holds a session on the ticket or connector. */
export type IfHeld = 'reuse' | 'restart' | 'fail';

export interface StartedSession {
  live: LiveSession;
  /** The session was already held here and is used again. */
  reused: boolean;
}

/** Default idle limit: a session nothing used for this long is ended (0 switches the limit off). */
export const DEFAULT_IDLE_LIMIT_MS = 5 * 60_000;

function targetKey(t: StartTarget | SessionTarget): string {
  return 'ticketId' in t && t.ticketId !== undefined ? `ticket:${t.ticketId}` : `connector:${(t as { connectorId?: string }).connectorId}`;
}

/** Sessions count as the same vehicle's only for the same partner on the same endpoint. */
function originOf(c: SessionController): string {
  return `${c.endpoint.key}|${c.clusterId}|${c.clientId}`;
}

function formatMinutes(ms: number): string {
  const min = ms / 60_000;
  if (min >= 1 && Number.isInteger(min)) return min === 1 ? '1 min' : `${min} min`;
  return `${Math.round(ms / 1000)} s`;
}

export interface AccountSettings {
  mode: EndpointMode;
  /** For 'custom'. */
  host?: string;
  port?: number;
  tls?: boolean;
  allowInsecure?: boolean;
  ca?: string;
  clientId?: string;
  clientSecret?: string;
  clusterId?: string;
  closePolicy: ClosePolicy;
  /** A session nothing used for this long is ended by the close policy (default 5 min; 0: never). */
  idleLimitMs?: number;
  session?: SessionOptions;
  /** Options of the built-in simulator (from settings.js `openobdAccountSimulator`). */
  simulator?: SimulatorOptions;
  env?: NodeJS.ProcessEnv;
  logger?: Partial<Logger>;
  /** Options of the function broker client (from settings.js `openobdAccountFunctionBroker`). */
  functionBroker?: Partial<Pick<FunctionBrokerOptions, 'reconnect' | 'closeGraceMs' | 'tokenLifetimeMs'>>;
  /** While openOBD is unreachable, how often to check again (default RECHECK_INTERVAL_MS). */
  recheckIntervalMs?: number;
}

/** The account's link to openOBD, for the status of every flow node that uses it. */
export interface AccountStatus {
  state: 'starting' | ControllerState | 'error';
  /** The error code behind 'error', 'rejected' or 'unavailable'. */
  code?: string;
  situation?: string;
  message?: string;
}

/** How long closing may take in total: well under Node-RED's 15-second close timeout. */
export const CLOSE_BUDGET_MS = 4000;
/** While openOBD is unreachable, check again this often so the status recovers by itself. */
export const RECHECK_INTERVAL_MS = 15000;

/**
 * The runtime half of the "openOBD account" config node, free of Node-RED: the partner credentials,
 * the one session controller, the built-in simulator lease if used, and the sessions this account
 * started. Flow nodes that use the account watch its status (the core MQTT broker's users pattern:
 * every watcher is removed again by the function `watchStatus` returns).
 */
export class AccountRuntime {
  readonly id: string;
  readonly #watchers = new Set<(status: AccountStatus) => void>();
  readonly settings: AccountSettings;
  #controller?: Promise<SessionController>;
  #simulator?: Promise<BuiltinSimulatorLease>;
  #status: AccountStatus = { state: 'starting' };
  #recheck?: NodeJS.Timeout;
  #broker?: FunctionBroker;
  #brokerOrigin?: string;
  #closed = false;
  /** Starts under way, by target: a second start for the same vehicle waits for the first. */
  readonly #starting = new Map<string, Promise<LiveSession>>();

  constructor(id: string, settings: AccountSettings) {
    this.id = id;
    this.settings = settings;
  }

  get status(): AccountStatus {
    return this.#status;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Calls `fn` with the current status and on every change; returns the unsubscribe function. */
  watchStatus(fn: (status: AccountStatus) => void): () => void {
    this.#watchers.add(fn);
    fn(this.#status);
    return () => this.#watchers.delete(fn);
  }

  get watcherCount(): number {
    return this.#watchers.size;
  }

  #setStatus(status: AccountStatus): void {
    if (this.#closed) return;
    if (this.#status.state === status.state && this.#status.message === status.message) return;
    this.#status = status;
    for (const fn of [...this.#watchers]) fn(status);
    if (status.state === 'unavailable') this.#scheduleRecheck();
  }

  /** Checks the credentials right away, so a wrong secret shows on deploy rather than at the first message. */
  start(): void {
    this.controller()
      .then((c) => c.token())
      .catch(() => undefined); // the status already says what went wrong
  }

  /** The session controller, created on first use (after the built-in simulator is up, if chosen). */
  controller(): Promise<SessionController> {
    if (this.#closed) return Promise.reject(new OpenObdError('CLOSED', 'The openOBD account node is stopping'));
    if (!this.#controller) {
      this.#controller = this.#createController();
      this.#controller.catch((err: unknown) => {
        this.#controller = undefined; // a bad configuration can be retried after it is fixed
        this.#setStatus({
          state: 'error',
          code: (err as { code?: string }).code ?? 'UNKNOWN',
          situation: (err as { situation?: string }).situation,
          message: err instanceof Error ? err.message : String(err),
        });
      });
    }
    return this.#controller;
  }

  async #createController(): Promise<SessionController> {
    const s = this.settings;
    let endpoint: EndpointOptions | undefined;
    let credentials = { clientId: s.clientId, clientSecret: s.clientSecret, clusterId: s.clusterId };
    if (s.mode === 'simulator') {
      if (!this.#simulator) this.#simulator = acquireBuiltinSimulator(s.simulator);
      const lease = await this.#simulator;
      if (this.#closed) throw new OpenObdError('CLOSED', 'The openOBD account node is stopping');
      endpoint = { host: '127.0.0.1', port: lease.port, tls: false };
      credentials = { ...lease.credentials };
    } else if (s.mode === 'custom') {
      if (!s.host?.trim()) throw new OpenObdError('BAD_CONFIG', 'The account uses a custom endpoint but has no host');
      // "host", "host:port", "[v6]:port" or "grpcs://host:port": what is in the address wins over the separate fields.
      const address = parseAddress(s.host);
      endpoint = {
        host: address.host,
        port: address.port ?? (s.port || 443),
        tls: address.tls ?? s.tls ?? true,
        allowInsecure: s.allowInsecure,
        ca: s.ca?.trim() ? s.ca : undefined,
      };
    }
    // 'cloud' leaves the endpoint to the controller: OPENOBD_GRPC_HOST, or grpc.openobd.com:443 with TLS.
    const session = { ...s.session, idleLimitMs: s.idleLimitMs ?? DEFAULT_IDLE_LIMIT_MS };
    const controller = new SessionController({ endpoint, credentials, session, logger: s.logger, env: s.env });
    controller.on('state', (state: ControllerState, error?: OpenObdError) =>
      this.#setStatus({ state, code: error?.code, situation: error?.situation, message: error?.message }),
    );
    this.#setStatus({ state: 'idle' });
    return controller;
  }

  #scheduleRecheck(): void {
    if (this.#recheck || this.#closed) return;
    this.#recheck = setTimeout(() => {
      this.#recheck = undefined;
      if (this.#closed || this.#status.state !== 'unavailable') return;
      this.controller()
        .then((c) => c.listSessions())
        .catch(() => {
          // Still unreachable: the status does not change, so nothing else would schedule the next check.
          if (this.#status.state === 'unavailable') this.#scheduleRecheck();
        });
    }, this.settings.recheckIntervalMs ?? RECHECK_INTERVAL_MS);
    this.#recheck.unref();
  }

  /** The account's function broker client (one function stream for every dashboard procedure of the account). */
  async functionBroker(): Promise<FunctionBroker> {
    const controller = await this.controller();
    this.#broker ??= controller.functionBroker({ logger: this.settings.logger, ...this.settings.functionBroker });
    this.#brokerOrigin = originOf(controller);
    return this.#broker;
  }

  /** Registers a session this account was handed (a dashboard procedure's call) for every flow node. */
  adoptSession(session: Session, target: LiveSession['target']): LiveSession {
    const live: LiveSession = { id: session.id, session, accountId: this.id, target, origin: this.#brokerOrigin ?? '' };
    registry.add(live);
    return live;
  }

  /**
   * Starts and claims a session; it is registered for every flow node and kept alive until it ends. When
   * this Node-RED already holds a session on the same ticket or connector (of this partner, on this
   * endpoint), `ifHeld` says what to do: reuse it (so a second click, or a flow that lost its message,
   * does not end up with a busy ticket), end it and start anew, or fail as openOBD would.
   */
  async startSession(target: StartTarget, ifHeld: IfHeld = 'reuse'): Promise<StartedSession> {
    const controller = await this.controller();
    const origin = originOf(controller);
    const key = targetKey(target);
    // A start for the same target still on its way counts as held: a double click must not start twice.
    const starting = this.#starting.get(key);
    if (starting && ifHeld !== 'fail') await starting.catch(() => undefined);
    const held = registry.list().find((l) => l.origin === origin && targetKey(l.target) === key && l.session.active);
    if (held && ifHeld === 'reuse') {
      held.session.touch();
      return { live: held, reused: true };
    }
    if (held && ifHeld === 'restart')
      await this.#end(held, controller, 'ended by Node-RED to start a new session on the same vehicle', 'replaced');
    const start = this.#start(controller, target, origin);
    this.#starting.set(key, start);
    try {
      return { live: await start, reused: false };
    } finally {
      if (this.#starting.get(key) === start) this.#starting.delete(key);
    }
  }

  async #start(controller: SessionController, target: StartTarget, origin: string): Promise<LiveSession> {
    const session = await controller.startSession(target);
    const live: LiveSession = {
      id: session.id,
      session,
      accountId: this.id,
      origin,
      target: 'ticketId' in target ? { ticketId: target.ticketId } : { connectorId: target.connectorId },
    };
    registry.add(live);
    const idleMs = this.settings.idleLimitMs ?? DEFAULT_IDLE_LIMIT_MS;
    // The session emits 'idle' after idleMs without use (the controller gives every session the limit).
    if (idleMs > 0) {
      session.on('idle', () => {
        const reason = `ended after ${formatMinutes(idleMs)} without use (the account's idle limit)`;
        void this.#end(live, controller, reason, 'idle').catch((err: unknown) =>
          this.settings.logger?.warn?.(`Could not end idle session ${live.id}: ${(err as Error).message}`),
        );
      });
    }
    return live;
  }

  /** Ends one of this account's sessions by the close policy, with `reason` as what it reports afterwards. */
  #end(live: LiveSession, controller: SessionController, reason: string, cause: EndCause): Promise<unknown> {
    if (this.settings.closePolicy === 'finish') {
      return live.session.finish({ result: 'RESULT_FAILURE_RUNTIME_ERROR', description: `Node-RED: ${reason}`, reason, cause });
    }
    return controller.interruptSession(live.id, reason, cause);
  }

  async getSession(sessionId: string): Promise<SessionInfo> {
    return (await this.controller()).getSession(sessionId);
  }

  async listSessions(): Promise<SessionInfo[]> {
    return (await this.controller()).listSessions();
  }

  async interruptSession(sessionId: string): Promise<SessionInfo> {
    const info = await (await this.controller()).interruptSession(sessionId);
    // A session claimed through another account of this process ends there too.
    const live = registry.get(sessionId);
    if (live && isFinalState(info.state)) live.session.markEnded(info.state, 'interrupted through the session controller');
    return info;
  }

  /**
   * Stops the account: ends its sessions by the close policy (bounded in time), then releases the
   * controller, its channel and the simulator lease. Never rejects.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#recheck) clearTimeout(this.#recheck);
    const controller = await this.#controller?.catch(() => undefined);
    const mine = registry.list(this.id);
    if (controller && mine.length > 0) {
      const ending = Promise.allSettled(
        mine.map((live) =>
          // A session handed to a procedure is a function context: finishing it ends only that context.
          this.settings.closePolicy === 'finish' || live.target.functionId
            ? live.session.finish({
                result: 'RESULT_FAILURE_RUNTIME_ERROR',
                description: 'Node-RED stopped or redeployed the flow before the session was finished',
              })
            : controller.interruptSession(live.id),
        ),
      );
      let budget: NodeJS.Timeout | undefined;
      await Promise.race([ending, new Promise((r) => (budget = setTimeout(r, CLOSE_BUDGET_MS - 500)))]);
      clearTimeout(budget);
    }
    for (const live of mine) live.session.close();
    if (this.#broker) {
      let budget: NodeJS.Timeout | undefined;
      await Promise.race([this.#broker.close(), new Promise((r) => (budget = setTimeout(r, 1500)))]);
      clearTimeout(budget);
    }
    controller?.close();
    const lease = await this.#simulator?.catch(() => undefined);
    await lease?.release();
    this.#watchers.clear();
  }
}
