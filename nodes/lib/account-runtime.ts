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
import { FlowError } from './flow';
import { registry, type LiveSession, type RunOwner, type SessionTarget } from './registry';
import { SessionJournal, type JournalEntry } from './session-journal';
import { tellTechnician } from './tell-technician';

export type EndpointMode = 'simulator' | 'cloud' | 'custom';

/** What happens to the account's open sessions when the account node stops (redeploy, delete, shutdown). */
export type ClosePolicy = 'interrupt' | 'finish';

/**
 * What *start session* does when a run already holds a session on the ticket or connector: wait until
 * that run ends its session (the default), fail at once, share it (both nodes set to share: a polling
 * flow), or end this node's own earlier run's session and start anew. 'reuse' is what flows saved
 * before 0.2 call 'share'.
 */
export type IfHeld = 'wait' | 'fail' | 'share' | 'restart';

/** How *start session* asks for a session. */
export interface StartRequest {
  ifHeld: IfHeld;
  /** The run that asks (its start session node and flow). */
  owner?: RunOwner;
  /** With 'wait' (and 'share' or 'restart' when they cannot apply): how long to wait for the holder at most. */
  waitMs?: number;
  /** Called once when the start has to wait, with who holds the vehicle. */
  onWait?: (holder: Holder) => void;
  /** Aborting ends a wait with CLOSED (the node stopped). */
  signal?: AbortSignal;
}

/** Who holds a ticket or connector, in words for a status or an error. */
export interface Holder {
  /** "ticket 1001" or "connector …" */
  what: string;
  /** The flow whose run holds it, when known. */
  flowName?: string;
  /** The same start session node's earlier run. */
  sameNode: boolean;
}

/** A session this account ended for a reason of its own (a deploy, a stop, a crash before this start). */
export interface EndedNotice {
  id: string;
  /** "ticket 1001" or "connector …" */
  what: string;
  flowName?: string;
}

/** Default wait for a run that holds the vehicle (the dialog shows it): long enough for a guided check. */
export const DEFAULT_WAIT_MS = 120_000;

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

function targetWords(t: SessionTarget): string {
  if (t.ticketId !== undefined) return `ticket ${t.ticketId}`;
  if (t.connectorId !== undefined) return `connector ${t.connectorId}`;
  return `procedure ${t.functionId ?? ''}`.trim();
}

function holderOf(live: LiveSession, asker?: RunOwner): Holder {
  return { what: targetWords(live.target), flowName: live.owner?.flowName, sameNode: !!asker && live.owner?.nodeId === asker.nodeId };
}

/** "ticket busy: ticket 1001 is in use by flow "Guided check"" and what to do, as an error a Catch node can route on. */
function inUse(holder: Holder, waitedMs?: number): FlowError {
  const by = holder.sameNode
    ? 'by an earlier run of this start session node'
    : holder.flowName
      ? `by flow "${holder.flowName}"`
      : 'by another run in this Node-RED';
  const waited = waitedMs ? `; waited ${Math.round(waitedMs / 1000)} s for it` : '';
  return new FlowError(
    'IN_USE',
    `Ticket busy: ${holder.what} is in use ${by} until that run finishes or interrupts its session${waited}. Wait longer, or end that run first`,
    { situation: 'ticketBusy', holder: holder.flowName ?? null },
  );
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
  /**
   * Where the account records the sessions it holds, so that the next start ends those a crash left open
   * (a file in the Node-RED user directory; none for the built-in simulator, which dies with the process).
   */
  journalFile?: string;
  /** Hears of sessions the account ended by itself: a stop or deploy (`close`), or a crash before this start. */
  onEnded?: (why: 'stopped' | 'crash', sessions: EndedNotice[], policy: ClosePolicy | 'interrupt') => void;
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
/** How long a closing account waits for the technician's screen to show why the procedure stopped. */
const TELL_TECHNICIAN_MS = 1500;
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
  readonly #journal?: SessionJournal;
  /** Sessions an earlier run of Node-RED left open (from the journal), until they are ended. */
  readonly #stale: JournalEntry[];
  #recovering?: Promise<void>;

  constructor(id: string, settings: AccountSettings) {
    this.id = id;
    this.settings = settings;
    if (settings.journalFile) this.#journal = new SessionJournal(settings.journalFile, (m) => settings.logger?.warn?.(m));
    this.#stale = this.#journal?.entries() ?? [];
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
      .then(async (c) => {
        await c.token();
        await this.#recoverStale(c);
      })
      .catch(() => undefined); // the status already says what went wrong
  }

  /**
   * Ends the sessions an earlier run of Node-RED recorded and could not end (it was killed): only those
   * openOBD still reports available or active, and only on the endpoint and partner that started them.
   * Their one-time token is gone with the crash, so they can only be interrupted. While openOBD cannot be
   * reached they stay on record and are tried again (at the next start on that vehicle, or recheck).
   */
  #recoverStale(controller: SessionController): Promise<void> {
    if (this.#stale.length === 0) return Promise.resolve();
    this.#recovering ??= this.#endStale(controller).finally(() => (this.#recovering = undefined));
    return this.#recovering;
  }

  async #endStale(controller: SessionController): Promise<void> {
    const origin = originOf(controller);
    const ended: EndedNotice[] = [];
    for (const entry of [...this.#stale]) {
      const done = () => {
        this.#stale.splice(this.#stale.indexOf(entry), 1);
        this.#journal?.remove(entry.id);
      };
      if (entry.origin !== origin) {
        this.settings.logger?.warn?.(
          `Session ${entry.id} on ${targetWords(entry.target)}, left open by an earlier run of Node-RED, belongs to another endpoint or partner than this account now uses: it is not ended here`,
        );
        done();
        continue;
      }
      try {
        const info = await controller.getSession(entry.id);
        if (!isFinalState(info.state)) {
          await controller.interruptSession(entry.id, 'left open by a crash of Node-RED');
          ended.push({ id: entry.id, what: targetWords(entry.target) });
          this.settings.logger?.warn?.(
            `Interrupted session ${entry.id} on ${targetWords(entry.target)} (started ${entry.startedAt}): Node-RED stopped without ending it (killed or crashed), so it still held the vehicle`,
          );
        }
        done();
      } catch (err) {
        // openOBD forgot it (it ended long ago): nothing left to end. Unreachable: keep it and try again.
        if ((err as { code?: string }).code === 'NOT_FOUND') done();
      }
    }
    if (ended.length) this.settings.onEnded?.('crash', ended, 'interrupt');
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
        .then(async (c) => {
          await c.listSessions();
          await this.#recoverStale(c);
        })
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
   * Starts and claims a session for a run; it is registered for every flow node and kept alive until it
   * ends. When a run already holds a session on the same ticket or connector (of this partner, on this
   * endpoint), `request.ifHeld` says what to do: wait until that run ends it, fail at once, share it (only
   * with a run that shares too), or end this node's own earlier run's session and start anew.
   */
  async startSession(target: StartTarget, request: StartRequest = { ifHeld: 'wait' }): Promise<StartedSession> {
    const controller = await this.controller();
    const origin = originOf(controller);
    const key = targetKey(target);
    // A session a crash left open on this vehicle is ended first, so it does not make the ticket busy.
    if (this.#stale.some((e) => targetKey(e.target) === key)) await this.#recoverStale(controller);
    const waitMs = request.waitMs ?? DEFAULT_WAIT_MS;
    const since = Date.now();
    let announced = false;
    for (;;) {
      if (this.#closed) throw new OpenObdError('CLOSED', 'The openOBD account node is stopping');
      // A start for the same target still on its way counts as held: a double click must not start twice.
      const starting = this.#starting.get(key);
      if (starting) {
        await starting.catch(() => undefined);
        continue;
      }
      const held = registry.list().find((l) => l.origin === origin && targetKey(l.target) === key && l.session.active);
      if (!held) break;
      const owner = request.owner;
      if (request.ifHeld === 'share' && owner?.share && held.owner?.share) {
        held.session.touch();
        return { live: held, reused: true };
      }
      const holder = holderOf(held, owner);
      if (request.ifHeld === 'restart' && holder.sameNode) {
        await this.#end(held, controller, 'ended by Node-RED to start a new session on the same vehicle', 'replaced');
        continue;
      }
      if (request.ifHeld === 'fail') throw inUse(holder);
      const left = since + waitMs - Date.now();
      if (left <= 0) throw inUse(holder, Date.now() - since);
      if (!announced) request.onWait?.(holder);
      announced = true;
      await this.#untilEnded(held, left, request.signal);
    }
    const start = this.#start(controller, target, origin, request.owner);
    this.#starting.set(key, start);
    try {
      return { live: await start, reused: false };
    } finally {
      if (this.#starting.get(key) === start) this.#starting.delete(key);
    }
  }

  /** Resolves when the session ends or after `ms`; rejects with CLOSED when the signal aborts or the account stops. */
  #untilEnded(live: LiveSession, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const finish = (err?: Error) => {
        clearTimeout(timer);
        live.session.off('ended', onEnded);
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve();
      };
      const onEnded = () => finish();
      const onAbort = () => finish(new OpenObdError('CLOSED', 'Stopped while waiting for the run that holds the vehicle'));
      const timer = setTimeout(() => finish(), ms);
      live.session.once('ended', onEnded);
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  async #start(controller: SessionController, target: StartTarget, origin: string, owner?: RunOwner): Promise<LiveSession> {
    const session = await controller.startSession(target);
    const live: LiveSession = {
      id: session.id,
      session,
      accountId: this.id,
      origin,
      target: 'ticketId' in target ? { ticketId: target.ticketId } : { connectorId: target.connectorId },
      owner,
      startedAt: Date.now(),
    };
    const journal = this.#journal;
    if (journal) {
      journal.add({ id: live.id, target: live.target, startedAt: new Date(live.startedAt!).toISOString(), origin });
      session.once('ended', () => journal.remove(live.id));
    }
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
  #end(live: LiveSession, controller: SessionController, reason: string, cause?: EndCause): Promise<unknown> {
    if (this.settings.closePolicy === 'finish') {
      return live.session.finish({ result: 'RESULT_FAILURE_RUNTIME_ERROR', description: `Node-RED: ${reason}`, reason, cause });
    }
    return controller.interruptSession(live.id, reason, cause);
  }

  /**
   * Ends the sessions the runs of one start session node hold (not shared ones), by the close policy, after
   * telling a technician who was shown something why: the node was deleted, so no run of it can finish.
   */
  async endRunsOf(nodeId: string, why: string): Promise<void> {
    const controller = await this.#controller?.catch(() => undefined);
    if (!controller || this.#closed) return;
    const runs = registry.list(this.id).filter((l) => l.owner?.nodeId === nodeId && !l.owner.share && l.session.active);
    if (runs.length === 0) return;
    const said = `The procedure was stopped in Node-RED (${why}) before it finished`;
    await Promise.allSettled(
      runs.map(async (live) => {
        await tellTechnician(live.session, said, TELL_TECHNICIAN_MS);
        await this.#end(live, controller, said);
      }),
    );
    this.settings.onEnded?.(
      'stopped',
      runs.map((l) => ({ id: l.id, what: targetWords(l.target), flowName: l.owner?.flowName })),
      this.settings.closePolicy,
    );
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
   * controller, its connection and the simulator lease. A technician waiting on a question is told first
   * that the procedure was stopped in Node-RED; `onEnded` hears which sessions ended. Never rejects.
   */
  async close(why = 'Node-RED stopped or redeployed the flow'): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#recheck) clearTimeout(this.#recheck);
    const controller = await this.#controller?.catch(() => undefined);
    const mine = registry.list(this.id);
    const said = `The procedure was stopped in Node-RED (${why.charAt(0).toLowerCase()}${why.slice(1)}) before it finished`;
    if (controller && mine.length > 0) {
      const ending = Promise.allSettled(
        mine.map(async (live) => {
          await tellTechnician(live.session, said, TELL_TECHNICIAN_MS);
          // A session handed to a procedure is a function context: finishing it ends only that context.
          return this.settings.closePolicy === 'finish' || live.target.functionId
            ? live.session.finish({ result: 'RESULT_FAILURE_RUNTIME_ERROR', description: said })
            : controller.interruptSession(live.id, said);
        }),
      );
      let budget: NodeJS.Timeout | undefined;
      await Promise.race([ending, new Promise((r) => (budget = setTimeout(r, CLOSE_BUDGET_MS - 500)))]);
      clearTimeout(budget);
      const runs = mine.filter((l) => !l.target.functionId);
      if (runs.length)
        this.settings.onEnded?.(
          'stopped',
          runs.map((l) => ({ id: l.id, what: targetWords(l.target), flowName: l.owner?.flowName })),
          this.settings.closePolicy,
        );
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
