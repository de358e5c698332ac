import type { Node, NodeStatus } from 'node-red';
import type { AccountRuntime } from './account-runtime';
import { registry, type SessionEvent } from './registry';
import { accountStatus, sessionStatus, type Translate } from './status';

/** Per-message statuses reach Node-RED at most this often; the latest one is shown when the interval ends. */
export const FREQUENT_STATUS_MS = 100;

/**
 * Keeps one flow node's status truthful: the account's link state until the node has worked with a
 * session, then that session's state and keepalive health as they change (a lost keepalive turns the
 * node red even when no message passes). Every subscription is released by `close()`.
 */
export class StatusTracker {
  #sessionId?: string;
  #unwatchAccount?: () => void;
  #busy = 0;
  #accountPending?: NodeStatus;
  readonly #unsubscribe: () => void;
  #closed = false;
  #frequentAt = 0;
  #frequentPending?: NodeStatus | (() => NodeStatus);
  #frequentTimer?: NodeJS.Timeout;
  /** The node shows its own outcome, not the session's state (all but start session and finish). */
  #ownOutcome = false;
  /** The node's own last status, shown again when a keepalive hiccup is over. */
  #own?: NodeStatus | (() => NodeStatus);
  #recovering = false;

  constructor(
    private readonly node: Node,
    private readonly t: Translate,
  ) {
    this.#unsubscribe = registry.subscribe((e) => this.#onSession(e));
  }

  followAccount(account: AccountRuntime | undefined): void {
    this.#unwatchAccount?.();
    this.#unwatchAccount = account?.watchStatus((s) => {
      if (this.#sessionId) return;
      const status = accountStatus(s, this.t);
      // While the node works on a message its own status ("starting session") stays, unless the account fails.
      if (this.#busy > 0 && status.fill !== 'red') {
        this.#accountPending = status;
        return;
      }
      this.show(status);
    });
  }

  /** The node started working on a message. */
  begin(): void {
    this.#busy += 1;
  }

  /** The node finished a message; an account change it held back shows now (if no session took over). */
  end(): void {
    this.#busy = Math.max(0, this.#busy - 1);
    const pending = this.#accountPending;
    if (this.#busy > 0 || !pending) return;
    this.#accountPending = undefined;
    if (!this.#sessionId) this.show(pending);
  }

  /**
   * From now on the node shows this session's changes. `showNow` false leaves the current status alone:
   * for a node that sets its own status right after (send request does, on every message), translating
   * and sending a session status that is replaced at once is wasted work on the hot path. With
   * `ownOutcome` the node keeps showing its own outcome ("3 DTCs: …") when the session ends, and only a
   * keepalive that is recovering shows over it for a while: the session's end shows on start and finish.
   */
  followSession(id: string, showNow = true, ownOutcome = false): void {
    this.#sessionId = id;
    this.#ownOutcome = ownOutcome;
    if (!showNow) return;
    const live = registry.get(id);
    if (live)
      this.show(
        sessionStatus(
          { id, state: live.session.state, health: live.session.keepaliveHealth === 'recovering' ? 'recovering' : 'active' },
          this.t,
        ),
      );
  }

  #onSession(e: SessionEvent): void {
    if (e.id !== this.#sessionId) {
      // A new run of this flow: the outcome of an earlier run, whose session has ended, goes.
      if (e.started && this.#sessionId && e.started.flowId === this.node.z && !registry.get(this.#sessionId)) this.#clear();
      return;
    }
    if (!this.#ownOutcome) return this.show(sessionStatus(e, this.t));
    if (e.health === 'recovering') {
      this.#recovering = true;
      this.#dropFrequent();
      if (!this.#closed) this.node.status(sessionStatus(e, this.t));
    } else if (this.#recovering) {
      this.#recovering = false;
      const own = this.#own;
      if (own && !this.#closed) this.node.status(typeof own === 'function' ? own() : own);
    }
  }

  #clear(): void {
    this.#sessionId = undefined;
    this.#own = undefined;
    this.#recovering = false;
    this.#dropFrequent();
    if (!this.#closed) this.node.status({});
  }

  /** Shows a status now (and drops a per-message one still waiting, which is older). */
  show(status: NodeStatus): void {
    this.#own = status;
    this.#dropFrequent();
    this.#accountPending = undefined; // newer than any account change held back
    if (!this.#closed) this.node.status(status);
  }

  /**
   * A status that changes with every message (a request in flight, its answer). Each one is an event
   * in the runtime and, with an editor open, a websocket message to every editor: a tester looping live
   * data would send thousands a second that nobody can read. The first one in an interval is shown at
   * once, later ones are coalesced and the newest is shown when the interval ends, so the node always
   * ends up showing the last message's status.
   */
  showFrequent(status: NodeStatus | (() => NodeStatus)): void {
    if (this.#closed) return;
    this.#own = status;
    const now = Date.now();
    const wait = this.#frequentAt + FREQUENT_STATUS_MS - now;
    if (wait <= 0 && !this.#frequentTimer) {
      this.#frequentAt = now;
      this.node.status(typeof status === 'function' ? status() : status);
      return;
    }
    // Built only if it is still the newest when the timer fires: most per-message statuses never are.
    this.#frequentPending = status;
    if (this.#frequentTimer) return;
    this.#frequentTimer = setTimeout(
      () => {
        this.#frequentTimer = undefined;
        const pending = this.#frequentPending;
        this.#frequentPending = undefined;
        if (!pending || this.#closed) return;
        this.#frequentAt = Date.now();
        this.node.status(typeof pending === 'function' ? pending() : pending);
      },
      Math.max(0, wait),
    );
    this.#frequentTimer.unref();
  }

  #dropFrequent(): void {
    if (this.#frequentTimer) clearTimeout(this.#frequentTimer);
    this.#frequentTimer = undefined;
    this.#frequentPending = undefined;
  }

  close(): void {
    this.#dropFrequent();
    this.#closed = true;
    this.#unsubscribe();
    this.#unwatchAccount?.();
    this.node.status({});
  }
}
