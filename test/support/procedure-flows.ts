import { currentBuiltinSimulator } from '../../nodes/lib/builtin-simulator';
import type { OpenObdSimulator } from '../../simulator';
import { FAST_SETTINGS, baseFlow, coreNode, nodeSuite } from './nodered';

/*
 * Flows of dashboard procedures, call procedure and variables on the built-in simulator, and the hooks
 * of a suite that deploys them.
 */

export const VIN = 'WVWZZZAU6KW204711';
export const delayNode = coreNode('function/89-delay.js');
export const SETTINGS = {
  ...FAST_SETTINGS,
  openobdAccountFunctionBroker: { reconnect: { initialDelayMs: 20, maxDelayMs: 200 }, closeGraceMs: 200 },
};

export type Def = Record<string, unknown>;

export function procedure(id: string, functionName: string, wires: string[][], over: Def = {}): Def {
  return {
    id,
    type: 'openobd-dashboard-procedure',
    account: 'account',
    functionName,
    description: '',
    version: '1.0',
    visibility: 'dashboard',
    wires,
    ...over,
  };
}

export function variables(id: string, operation: string, key: string, wires: string[][], over: Def = {}): Def {
  return {
    id,
    type: 'openobd-variables',
    operation,
    context: 'function',
    key,
    keySource: 'str',
    value: 'payload',
    valueSource: 'msg',
    prefix: '',
    wires,
    ...over,
  };
}

export const finish = (id: string, wires: string[][], description = 'done'): Def => ({
  id,
  type: 'openobd-finish',
  result: 'RESULT_SUCCESS',
  userFeedback: '',
  description,
  descriptionSource: 'str',
  wires,
});

export async function simulator(): Promise<OpenObdSimulator> {
  for (let i = 0; i < 200; i++) {
    const sim = await currentBuiltinSimulator();
    if (sim) return sim;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('the built-in simulator did not start');
}

/*
 * Waits until the procedure is online on the built-in simulator. The simulator is looked up on every try:
 * after an unload the last account stops it and the next load starts a new one, so one taken too early
 * may be the one about to stop.
 */
export async function online(name: string): Promise<{ sim: OpenObdSimulator; id: string }> {
  const deadline = Date.now() + 10000;
  for (;;) {
    const sim = await currentBuiltinSimulator();
    const registration = sim
      ? [...sim.functions.registrations.values()].find((r) => r.details.name === name && r.state === 'FUNCTION_REGISTRATION_STATE_ONLINE')
      : undefined;
    if (sim && registration) return { sim, id: registration.details.id };
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${name} online`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The hooks of a procedure suite (see nodeSuite); `load` adds the standard tab. */
export function procedureSuite() {
  const suite = nodeSuite(SETTINGS, [delayNode]);
  return { load: (flow: Def[], credentials: Record<string, unknown> = {}) => suite.load(baseFlow(flow), credentials) };
}
