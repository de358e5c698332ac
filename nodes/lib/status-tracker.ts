import type { Node, NodeStatus } from 'node-red';
import type { AccountRuntime } from './account-runtime';
import { registry, type SessionEvent } from './registry';
import { accountStatus, sessionStatus, type Translate } from './status';

/**
 * Keeps one flow node's status truthful: the account's link state until the node has worked with a
 * session, then that session's state and keepalive health as they change (a lost keepalive turns the
 * node red even when no message passes). Every subscription is released by `close()`.
 */
export class StatusTracker {
  #sessionId?: string;
  #unwatchAccount?: () => void;
  readonly #unsubscribe: () => void;
  #closed = false;

  constructor(
    private readonly node: Node,
    private readonly t: Translate,
  ) {
    this.#unsubscribe = registry.subscribe((e) => this.#onSession(e));
  }

  followAccount(account: AccountRuntime | undefined): void {
    this.#unwatchAccount?.();
    this.#unwatchAccount = account?.watchStatus((s) => {
      if (!this.#sessionId) this.show(accountStatus(s, this.t));
    });
  }

  /**
   * From now on the node shows this session's changes. `showNow` false leaves the current status alone:
   * for a node that sets its own status right after (send request does, on every message), translating
   * and sending a session status that is replaced at once is wasted work on the hot path.
   */
  followSession(id: string, showNow = true): void {
    this.#sessionId = id;
    if (!showNow) return;
    const live = registry.get(id);
    if (live) this.show(sessionStatus({ id, state: live.session.state, health: live.session.keepaliveHealth === 'recovering' ? 'recovering' : 'active' }, this.t));
  }

  #onSession(e: SessionEvent): void {
    if (e.id === this.#sessionId) this.show(sessionStatus(e, this.t));
  }

  show(status: NodeStatus): void {
    if (!this.#closed) this.node.status(status);
  }

  close(): void {
    this.#closed = true;
    this.#unsubscribe();
    this.#unwatchAccount?.();
    this.node.status({});
  }
}
