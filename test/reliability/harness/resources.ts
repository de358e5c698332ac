/**
 * Resource and memory accounting: the process handles that must come back to their baseline after a
 * scenario, a full garbage collection on demand, and a resident-set-size sampler.
 */
import * as v8 from 'node:v8';
import * as vm from 'node:vm';

/** Resource kinds that must come back to their baseline (timers that keep the process alive, sockets, servers). */
const WATCHED = ['Timeout', 'TCPSocketWrap', 'TCPServerWrap'];

export function resources(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) if (WATCHED.includes(kind)) out[kind] = (out[kind] ?? 0) + 1;
  return out;
}

/** The watched resource kinds above their count in `base`. */
export function excess(base: Record<string, number>, now: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const kind of WATCHED) {
    const d = (now[kind] ?? 0) - (base[kind] ?? 0);
    if (d > 0) out[kind] = d;
  }
  return out;
}

let gcFn: (() => void) | undefined;
/** A full garbage collection (without --expose-gc on the command line). */
export function collectGarbage(): void {
  if (!gcFn) {
    v8.setFlagsFromString('--expose-gc');
    gcFn = vm.runInNewContext('gc') as () => void;
  }
  gcFn();
  gcFn();
}

/** Samples the resident set size while running. */
export class RssSampler {
  peak = process.memoryUsage().rss;
  readonly #timer: NodeJS.Timeout;
  constructor(intervalMs = 200) {
    this.#timer = setInterval(() => this.sample(), intervalMs);
    this.#timer.unref();
  }
  sample(): void {
    const rss = process.memoryUsage().rss;
    if (rss > this.peak) this.peak = rss;
  }
  stop(): number {
    clearInterval(this.#timer);
    this.sample();
    return this.peak;
  }
}
