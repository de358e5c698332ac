/**
 * Requests to one ISO-TP channel run one after another: answers can only be told apart by their content,
 * so two requests in flight on one channel could take each other's answers. Each channel has a queue; a
 * request starts at once when its channel is idle (no promise added on the hot path of a request loop)
 * and reports its own settling, so the bookkeeping costs no extra promise per request either.
 */
interface Queue {
  tail: Promise<unknown> | undefined;
  pending: number;
  readonly settled: () => void;
}

export class ChannelQueues {
  // A handful of entries per session (one per channel used); `tail` is the last request queued on it.
  readonly #queues = new Map<string, Queue>();

  /**
   * Runs `run(settled)` after the requests queued before it on `key`. `run` must call `settled` exactly
   * once, synchronously, when its request settles (before the returned promise does).
   */
  enqueue<T>(key: string, run: (settled: () => void) => Promise<T>): Promise<T> {
    let q = this.#queues.get(key);
    if (!q) {
      const queue: Queue = {
        tail: undefined,
        pending: 0,
        settled: () => {
          queue.pending -= 1;
          if (queue.pending === 0) queue.tail = undefined;
        },
      };
      q = queue;
      this.#queues.set(key, q);
    }
    const queue = q;
    queue.pending += 1;
    let result: Promise<T>;
    if (queue.tail) {
      const start = () => run(queue.settled);
      result = queue.tail.then(start, start);
    } else {
      try {
        result = run(queue.settled);
      } catch (err) {
        result = Promise.reject(err);
      }
    }
    if (queue.pending > 0) queue.tail = result;
    return result;
  }
}
