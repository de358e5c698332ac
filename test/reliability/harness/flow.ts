/**
 * The reliability flow and its driver: the standard tab every scenario deploys (an account in 'custom'
 * mode on an external simulator, one node of each kind, output helpers and a Catch), and a driver that
 * sends messages into it and resolves with what came of each.
 */
import {
  account,
  catchAll,
  custom,
  ecu,
  finish,
  interrupt,
  obdEcus,
  onTab,
  request,
  sessionInfo,
  sink,
  startSession,
  tab,
  type FlowNode,
} from '../../support/flow-builder';
import { helper, type AnyMsg } from '../../support/nodered';

export type { FlowNode };

export const PARTNER = { clientId: 'simulator-partner', clientSecret: 'simulator-secret' };

/** The helper nodes whose input is an outcome of a message sent by FlowDriver. */
export const OUTPUTS = ['started', 'answered', 'finished', 'interrupted', 'info', 'slowOut'];

/**
 * The standard reliability tab: an account on the external simulator, start (ticket from msg.payload),
 * send request (payload from msg), finish, interrupt, session info (get, list), and a Catch for all.
 * `extra` nodes join it (config nodes stay off the tab); `changes` overrides properties by node id.
 */
export function reliabilityFlow(
  port: number,
  accountProps: Record<string, unknown> = {},
  extra: FlowNode[] = [],
  changes: Record<string, Record<string, unknown>> = {},
): FlowNode[] {
  const nodes: FlowNode[] = [
    tab(),
    account(custom(port, { closePolicy: 'interrupt', ...accountProps })),
    ecu(),
    obdEcus(),
    catchAll('catcher', 'caught'),
    sink('caught'),
    // The scenarios start on a ticket they may already hold and end sessions by faults, not by finish.
    startSession({ ifHeld: 'share', to: ['started'] }),
    request({ to: ['answered'] }),
    finish({ to: ['finished'] }),
    interrupt({ to: ['interrupted'] }),
    sessionInfo({ id: 'get', to: ['info'] }),
    sessionInfo({ id: 'list', action: 'list', to: ['info'] }),
    ...['started', 'answered', 'finished', 'interrupted', 'info'].map((id) => sink(id)),
    ...extra.map((n) => (CONFIG_TYPES.has(n.type) ? n : onTab(n))),
  ];
  return nodes.map((n) => (changes[n.id] ? { ...n, ...changes[n.id] } : n));
}

const CONFIG_TYPES = new Set(['openobd-account', 'openobd-ecu']);

export interface Outcome {
  ok: boolean;
  /** msg.error.code for errors; 'NO_OUTCOME' when nothing came back in time. */
  code?: string;
  message?: string;
  /** The node whose error was caught. */
  source?: string;
  msg?: AnyMsg;
  ms: number;
}

/**
 * Sends messages into flow nodes and resolves with what came of each: the message at an output helper,
 * or the error a Catch node received. Messages are told apart by a sequence number in `msg._rel`.
 */
export class FlowDriver {
  #seq = 0;
  readonly #pending = new Map<number, { resolve: (o: Outcome) => void; t0: number; timer: NodeJS.Timeout }>();
  readonly #attached = new WeakSet<object>();
  /** Outcomes for messages that had already settled (a node answering twice). */
  duplicates = 0;

  /** Listens on the output helpers and the Catch helper of the deployed flow (again after each deploy). */
  attach(): void {
    for (const id of [...OUTPUTS, 'caught']) {
      const node = helper.getNode(id) as unknown as (NodeJS.EventEmitter & object) | null;
      if (!node || this.#attached.has(node)) continue;
      this.#attached.add(node);
      node.on('input', (m: AnyMsg) => this.#settle(m, id === 'caught'));
    }
  }

  #settle(m: AnyMsg, isError: boolean): void {
    const seq = m?._rel as number | undefined;
    if (typeof seq !== 'number') return;
    const p = this.#pending.get(seq);
    if (!p) {
      this.duplicates += 1;
      return;
    }
    this.#pending.delete(seq);
    clearTimeout(p.timer);
    const ms = Date.now() - p.t0;
    if (isError)
      p.resolve({ ok: false, code: m.error?.code ?? 'NO_CODE', message: m.error?.message, source: m.error?.source?.id, msg: m, ms });
    else p.resolve({ ok: true, msg: m, ms });
  }

  send(nodeId: string, msg: AnyMsg, timeoutMs = 30000): Promise<Outcome> {
    const node = helper.getNode(nodeId);
    const seq = ++this.#seq;
    msg._rel = seq;
    return new Promise<Outcome>((resolve) => {
      const t0 = Date.now();
      const timer = setTimeout(() => {
        this.#pending.delete(seq);
        resolve({ ok: false, code: 'NO_OUTCOME', message: `nothing from ${nodeId} within ${timeoutMs} ms`, ms: Date.now() - t0 });
      }, timeoutMs);
      this.#pending.set(seq, { resolve, t0, timer });
      if (!node) {
        clearTimeout(timer);
        this.#pending.delete(seq);
        resolve({ ok: false, code: 'NO_NODE', message: `no node ${nodeId}`, ms: 0 });
        return;
      }
      node.receive(msg);
    });
  }

  get pending(): number {
    return this.#pending.size;
  }
}

/** One line on an outcome, for assertion messages. */
export function describeOutcome(o: Outcome): string {
  return o.ok ? `ok in ${o.ms} ms` : `${o.code} from ${o.source ?? '?'} after ${o.ms} ms: ${o.message}`;
}
