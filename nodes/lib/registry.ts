import type { EndCause, Session, SessionEnd } from '../../client';

/** Where a live session came from, as plain data for msg.openobd. */
export interface SessionTarget {
  ticketId?: string;
  connectorId?: string;
  /** A session handed to a dashboard procedure: the function it runs. */
  functionId?: string;
}

/**
 * The run a session belongs to: the *start session* node whose message started it, and whether that node
 * shares it with other sharing nodes (a polling flow) or keeps it until its run finishes or interrupts it.
 */
export interface RunOwner {
  /** The id of the start session node. */
  nodeId: string;
  /** The id and name of its flow (tab): "in use by flow ...", and which statuses a new run clears. */
  flowId?: string;
  flowName?: string;
  share: boolean;
}

/** A session held by an account node, with what a flow node needs to show and use it. */
export interface LiveSession {
  readonly id: string;
  readonly session: Session;
  readonly target: SessionTarget;
  /** The id of the account config node that owns it. */
  readonly accountId: string;
  /** Endpoint, cluster and partner it belongs to: sessions on the same vehicle match only within one. */
  readonly origin: string;
  /** The run that holds it (sessions started by a start session node). */
  readonly owner?: RunOwner;
  /** When it was started here (ms since the epoch). */
  readonly startedAt?: number;
}

/** Health of a session as flow nodes show it. */
export type SessionHealth = 'active' | 'recovering' | 'ended';

export interface SessionEvent {
  id: string;
  state: string;
  health: SessionHealth;
  reason?: string;
  /** A short cause of the end, where there is one (the idle limit, the maximum duration...). */
  cause?: EndCause;
  /** A run's new session, and the flow that started it: the statuses of that flow's ended runs go. */
  started?: { flowId?: string };
}

type Subscriber = (event: SessionEvent) => void;

/**
 * Every live session of this Node-RED process by id. Flow messages carry only the id (plain data), so
 * any node (send request, finish) finds the session here, whichever account started it. Subscribers
 * hear of every change of a session's state or keepalive health; each subscription is undone by the
 * function `subscribe` returns, which flow nodes call on close (counted, so tests can see leaks).
 */
class SessionRegistry {
  readonly #live = new Map<string, LiveSession>();
  /**
   * A function call hands a session to another function (openOBD documentation, "Function calls"): when
   * the callee runs in this Node-RED too, both hold the same session id. The callee's entry is on top
   * while it runs; the caller's comes back when the callee's ends.
   */
  readonly #shadowed = new Map<string, LiveSession[]>();
  readonly #subscribers = new Set<Subscriber>();

  subscribe(fn: Subscriber): () => void {
    this.#subscribers.add(fn);
    return () => this.#subscribers.delete(fn);
  }

  get subscriberCount(): number {
    return this.#subscribers.size;
  }

  emit(event: SessionEvent): void {
    for (const fn of [...this.#subscribers]) {
      try {
        fn(event);
      } catch {
        // a subscriber's mistake must not stop the others or the session
      }
    }
  }

  add(live: LiveSession): void {
    const earlier = this.#live.get(live.id);
    if (earlier && earlier !== live) this.#shadowed.set(live.id, [...(this.#shadowed.get(live.id) ?? []), earlier]);
    this.#live.set(live.id, live);
    const s = live.session;
    s.on('keepalive', (health: 'healthy' | 'recovering') => {
      this.emit({ id: live.id, state: s.state, health: health === 'healthy' ? 'active' : 'recovering' });
    });
    s.once('ended', (end: SessionEnd) => {
      const below = this.#shadowed.get(live.id);
      if (this.#live.get(live.id) !== live) {
        // A caller that ended under its callee: just forget it.
        if (below)
          this.#forgetShadowed(
            live.id,
            below.filter((l) => l !== live),
          );
        return;
      }
      const restored = below?.pop();
      if (below) this.#forgetShadowed(live.id, below);
      if (restored && !restored.session.closed) {
        this.#live.set(live.id, restored);
        this.emit({ id: live.id, state: restored.session.state, health: 'active' });
        return;
      }
      this.#live.delete(live.id);
      this.emit({ id: live.id, state: end.state, health: 'ended', reason: end.reason, cause: end.cause });
    });
    this.emit({ id: live.id, state: s.state, health: 'active', started: { flowId: live.owner?.flowId } });
  }

  #forgetShadowed(id: string, rest: LiveSession[]): void {
    if (rest.length) this.#shadowed.set(id, rest);
    else this.#shadowed.delete(id);
  }

  get(id: string): LiveSession | undefined {
    return this.#live.get(id);
  }

  /** Live sessions (a caller under its callee too), optionally only those of one account. */
  list(accountId?: string): LiveSession[] {
    const all = [...this.#live.values(), ...[...this.#shadowed.values()].flat()];
    return all.filter((l) => accountId === undefined || l.accountId === accountId);
  }

  get size(): number {
    return this.#live.size;
  }
}

export const registry = new SessionRegistry();

/*
 * Sessions that ended are remembered for a while (bounded), so a message that arrives for one gets
 * "session finished" instead of the less helpful "unknown session".
 */
const ENDED_MEMORY = 1000;
const ended = new Map<string, { state: string; reason?: string }>();
registry.subscribe((e: SessionEvent) => {
  if (e.health !== 'ended') return;
  ended.set(e.id, { state: e.state, reason: e.reason });
  if (ended.size > ENDED_MEMORY) ended.delete(ended.keys().next().value as string);
});

export function endedSession(id: string): { state: string; reason?: string } | undefined {
  return ended.get(id);
}
