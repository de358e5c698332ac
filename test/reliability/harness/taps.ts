/**
 * Taps on everything Node-RED shows or logs, and recorders built on them: installed once below the
 * test-helper's own spies, so they survive helper.load/unload. Each costs nothing while no listener is
 * registered.
 */
import { registry, type SessionEvent } from '../../../nodes/lib/registry';
import { helper } from '../../support/nodered';

export type NodeStatusRecord = { fill?: string; shape?: string; text?: string };

type StatusTap = (nodeId: string, status: NodeStatusRecord) => void;
type SendTap = (nodeId: string, msg: unknown) => void;
type LogTap = (entry: unknown) => void;
const statusTaps = new Set<StatusTap>();
const sendTaps = new Set<SendTap>();
const logTaps = new Set<LogTap>();
let tapsInstalled = false;

function installTaps(): void {
  if (tapsInstalled) return;
  tapsInstalled = true;
  const h = helper as unknown as {
    _NodePrototype: Record<string, (...a: unknown[]) => unknown>;
    _log: Record<string, (...a: unknown[]) => unknown>;
  };
  const proto = h._NodePrototype;
  const status0 = proto.status;
  proto.status = function (this: { id: string }, ...args: unknown[]) {
    for (const fn of statusTaps) fn(this.id, (args[0] ?? {}) as NodeStatusRecord);
    return status0.apply(this, args);
  };
  const send0 = proto.send;
  proto.send = function (this: { id: string }, ...args: unknown[]) {
    for (const fn of sendTaps) fn(this.id, args[0]);
    return send0.apply(this, args);
  };
  const log = h._log;
  const log0 = log.log;
  log.log = function (this: unknown, ...args: unknown[]) {
    for (const fn of logTaps) fn(args[0]);
    return log0.apply(this, args);
  };
}
installTaps();

export function onStatus(fn: StatusTap): () => void {
  statusTaps.add(fn);
  return () => statusTaps.delete(fn);
}
export function onSend(fn: SendTap): () => void {
  sendTaps.add(fn);
  return () => sendTaps.delete(fn);
}
export function onLog(fn: LogTap): () => void {
  logTaps.add(fn);
  return () => logTaps.delete(fn);
}

/**
 * The test-helper keeps every call of its spies (every send, status and log line, with the messages);
 * over thousands of messages that is a leak of the harness, not of the nodes. Dropped regularly.
 */
export function dropSpyHistory(): void {
  const h = helper as unknown as { _sandbox?: { resetHistory(): void } };
  h._sandbox?.resetHistory();
}

/** Node-RED log levels (numbers in log entries). */
export const LOG_LEVEL = { fatal: 10, error: 20, warn: 30, info: 40, debug: 50, trace: 60 } as const;

/** Records the statuses of chosen nodes (by id; every node when `ids` is empty), with times. */
export class StatusLog {
  readonly entries: Array<{ id: string; t: number } & NodeStatusRecord> = [];
  readonly #off: () => void;
  constructor(ids: string[] = []) {
    this.#off = onStatus((id, s) => {
      if (ids.length === 0 || ids.includes(id)) this.entries.push({ id, t: Date.now(), fill: s.fill, shape: s.shape, text: s.text });
    });
  }
  of(id: string) {
    return this.entries.filter((e) => e.id === id);
  }
  last(id: string) {
    const all = this.of(id).filter((e) => e.fill !== undefined || e.text !== undefined);
    return all[all.length - 1];
  }
  red(since = 0) {
    return this.entries.filter((e) => e.fill === 'red' && e.t >= since);
  }
  stop(): void {
    this.#off();
  }
}

/** Keepalive health changes of sessions, as the registry announces them to flow nodes. */
export class HealthLog {
  readonly events: Array<SessionEvent & { t: number }> = [];
  readonly #off: () => void;
  constructor() {
    this.#off = registry.subscribe((e) => this.events.push({ ...e, t: Date.now() }));
  }
  of(id: string) {
    return this.events.filter((e) => e.id === id);
  }
  /** Recovering → active transitions of one session. */
  recoveries(id: string): number {
    let n = 0;
    let recovering = false;
    for (const e of this.of(id)) {
      if (e.health === 'recovering') recovering = true;
      else if (e.health === 'active' && recovering) {
        n += 1;
        recovering = false;
      }
    }
    return n;
  }
  stop(): void {
    this.#off();
  }
}
