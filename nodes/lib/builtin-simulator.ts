import { DEFAULT_SIMULATOR_CREDENTIALS, OpenObdSimulator, type SimulatorOptions } from '../../simulator';

/** What an account gets from the built-in simulator: where it listens and what it accepts. */
export interface BuiltinSimulatorLease {
  readonly simulator: OpenObdSimulator;
  readonly port: number;
  readonly credentials: typeof DEFAULT_SIMULATOR_CREDENTIALS;
  /** Gives the lease back; the last one stops the simulator. Safe to call twice. */
  release(): Promise<void>;
}

let users = 0;
/** Told when the built-in simulator starts (with it) and stops (with undefined). */
const watchers = new Set<(sim: OpenObdSimulator | undefined) => void>();

function tell(sim: OpenObdSimulator | undefined): void {
  for (const fn of [...watchers]) {
    try {
      fn(sim);
    } catch {
      // a watcher's mistake must not stop the simulator
    }
  }
}

/** Calls `fn` with the running built-in simulator (if any) and whenever it starts or stops; returns the unsubscribe function. */
export function watchBuiltinSimulator(fn: (sim: OpenObdSimulator | undefined) => void): () => void {
  watchers.add(fn);
  void currentBuiltinSimulator().then((sim) => {
    if (sim && watchers.has(fn)) fn(sim);
  });
  return () => watchers.delete(fn);
}
let running: Promise<OpenObdSimulator> | undefined;
/** Serializes start and stop, so a redeploy (stop, then start at once) never races itself. */
let chain: Promise<unknown> = Promise.resolve();

/**
 * One simulator per Node-RED process, on a free loopback port, shared by every account that picks
 * "built-in simulator", started by the first and stopped when the last one goes.
 */
export function acquireBuiltinSimulator(options: SimulatorOptions = {}): Promise<BuiltinSimulatorLease> {
  users += 1;
  const start = async (): Promise<OpenObdSimulator> => {
    if (!running) {
      // A person answers the user interface in the editor's technician view unless settings.js gives a script.
      const sim = new OpenObdSimulator({ host: '127.0.0.1', port: 0, ...options, ui: options.ui ?? { mode: 'interactive' } });
      running = sim.start().then(() => {
        tell(sim);
        return sim;
      });
      running.catch(() => {
        running = undefined;
      });
    }
    return running;
  };
  const acquired = chain.then(start, start);
  chain = acquired.catch(() => undefined);
  return acquired.then(
    (sim) => {
      let released = false;
      return {
        simulator: sim,
        port: sim.port as number,
        credentials: DEFAULT_SIMULATOR_CREDENTIALS,
        release: () => {
          if (released) return Promise.resolve();
          released = true;
          return releaseOne();
        },
      };
    },
    (err: unknown) => {
      users -= 1;
      throw err;
    },
  );
}

function releaseOne(): Promise<void> {
  users -= 1;
  const stop = async () => {
    if (users > 0 || !running) return;
    const sim = await running.catch(() => undefined);
    running = undefined;
    await sim?.stop();
    if (sim) tell(undefined);
  };
  const stopped = chain.then(stop, stop);
  chain = stopped.catch(() => undefined);
  return stopped;
}

/** The running built-in simulator, if any (for admin endpoints and tests). */
export async function currentBuiltinSimulator(): Promise<OpenObdSimulator | undefined> {
  return running?.catch(() => undefined);
}

/** How many accounts hold the built-in simulator (for leak checks). */
export function builtinSimulatorUsers(): number {
  return users;
}
