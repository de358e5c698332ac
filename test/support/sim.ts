import * as grpc from '@grpc/grpc-js';
import { method } from '../../protocol';
import { SessionController, type SessionControllerOptions } from '../../client';
import { DEFAULT_SIMULATOR_CREDENTIALS, OpenObdSimulator, type SimulatorOptions } from '../../simulator';

/** A simulator on a free loopback port, started; stop it in `after`/`afterEach`. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<OpenObdSimulator> {
  const sim = new OpenObdSimulator(options);
  await sim.start();
  return sim;
}

/** A controller pointed at `sim` with the simulator's credentials, unless the test overrides them. */
export function controllerFor(sim: OpenObdSimulator, options: SessionControllerOptions = {}): SessionController {
  return new SessionController({
    endpoint: { host: '127.0.0.1', port: sim.port, tls: false },
    credentials: { ...DEFAULT_SIMULATOR_CREDENTIALS },
    env: {},
    ...options,
  });
}

/** The default car's engine ECU (7E0/7E8) on the OBD-II CAN bus. */
export const ENGINE = { bus: { name: 'obd-can' }, requestId: 0x7e0, responseId: 0x7e8 } as const;
export const TRANSMISSION = { bus: { name: 'obd-can' }, requestId: 0x7e1, responseId: 0x7e9 } as const;
export const FUNCTIONAL = { bus: { name: 'obd-can' }, requestId: 0x7df, responseId: 0x7e8, functional: true } as const;

/** Resolves when `predicate` holds, polling every 10 ms; rejects after `timeoutMs`. */
export async function waitFor(predicate: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Finishes a session from another client, as a second program holding the session's token would: a
 * raw session/finish call with a valid session token the simulator issued for it.
 */
export async function finishElsewhere(sim: OpenObdSimulator, sessionId: string): Promise<void> {
  const now = Date.now();
  const token = [...sim.tokens.entries()].find(([, t]) => t.kind === 'session' && t.sessionId === sessionId && t.expiresAtMs > now)?.[0];
  if (!token) throw new Error(`no valid session token for ${sessionId}`);
  const def = method('session', 'finish');
  const client = new grpc.Client(`127.0.0.1:${sim.port}`, grpc.credentials.createInsecure());
  try {
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${token}`);
    await new Promise<void>((resolve, reject) =>
      client.makeUnaryRequest(def.path, def.requestSerialize, def.responseDeserialize, { result: ['RESULT_SUCCESS'] }, md, {}, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  } finally {
    client.close();
  }
}
