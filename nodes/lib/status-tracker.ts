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

  /** From now on the node shows this session. */
  followSession(id: string): void {
    this.#sessionId = id;
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
