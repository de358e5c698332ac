import type { Node } from 'node-red';
import { registry } from './registry';

/**
 * What a streaming node (CAN frames, terminal 15, the connector stream) follows, one per session: a
 * message with a session starts following it, a stop message or the session's end stops it, and
 * closing the node stops everything. Each follow is a stop function handed back by the client.
 */
export class Watchers {
  readonly #stops = new Map<string, () => void>();
  readonly #unsubscribe: () => void;

  constructor(
    node: Node,
    private readonly onChange: (count: number) => void = () => undefined,
  ) {
    this.#unsubscribe = registry.subscribe((e) => {
      if (e.health === 'ended') this.stop(e.id);
    });
    node.on('close', () => this.close());
  }

  get count(): number {
    return this.#stops.size;
  }

  has(sessionId: string): boolean {
    return this.#stops.has(sessionId);
  }

  /** Follows `sessionId` with what `begin` starts (whatever followed it before is stopped first). */
  async start(sessionId: string, begin: () => Promise<() => void>): Promise<void> {
    this.stop(sessionId);
    const stop = await begin();
    this.#stops.set(sessionId, stop);
    this.onChange(this.#stops.size);
  }

  stop(sessionId: string): boolean {
    const stop = this.#stops.get(sessionId);
    if (!stop) return false;
    this.#stops.delete(sessionId);
    try {
      stop();
    } catch {
      // a stop that throws must not keep the others running
    }
    this.onChange(this.#stops.size);
    return true;
  }

  close(): void {
    this.#unsubscribe();
    for (const id of [...this.#stops.keys()]) this.stop(id);
  }
}

/** A stop message: `msg.payload === "stop"` or `msg.stop === true`. */
export function isStopMessage(msg: { payload?: unknown; stop?: unknown }): boolean {
  return msg.stop === true || (typeof msg.payload === 'string' && msg.payload.trim().toLowerCase() === 'stop');
}
