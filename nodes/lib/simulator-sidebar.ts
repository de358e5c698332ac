import type { NodeAPI } from 'node-red';
import { TechnicianAnswerError, type OpenObdSimulator, type TechnicianCar } from '../../simulator';
import { currentBuiltinSimulator, watchBuiltinSimulator } from './builtin-simulator';

/*
 * The runtime half of the editor's "openOBD simulator" sidebar tab (nodes/lib/simulator-sidebar.html):
 * what the built-in simulator's cars show, pushed to every open editor over Node-RED's comms (as the
 * debug node feeds its sidebar), and the admin routes through which the editor acts on it. Reading needs
 * `openobd-account.read`, acting (answering, switching the ignition) `openobd-account.write`.
 *
 * The tab is made of parts: the technician view (this file) and any part registered with
 * `addSidebarPart` (the ticket dashboard), each adding its data to the view.
 */

export const SIDEBAR_TOPIC = 'openobd/simulator';

/** What every open editor receives (retained, so an editor opened later gets the current view). */
export interface SidebarView {
  running: boolean;
  /** How the simulated technician answers: 'interactive' (in this view) or 'script'. */
  mode?: 'script' | 'interactive';
  cars: Array<TechnicianCar & Record<string, unknown>>;
  [part: string]: unknown;
}

/** A part of the sidebar: adds its data to the view and says when that data changes. */
export interface SidebarPart {
  name: string;
  extend(sim: OpenObdSimulator, view: SidebarView): void;
  /** Calls `changed` whenever this part's data changes; returns the function that stops watching. */
  watch(sim: OpenObdSimulator, changed: () => void): () => void;
}

const parts: SidebarPart[] = [];
let publish: ((view: SidebarView) => void) | undefined;
let simulator: OpenObdSimulator | undefined;
let unwatchParts: Array<() => void> = [];
let pending: NodeJS.Timeout | undefined;
let watching = false;

/** Adds a part to the sidebar (once per part name). */
export function addSidebarPart(part: SidebarPart): void {
  if (parts.some((p) => p.name === part.name)) return;
  parts.push(part);
  if (simulator) {
    unwatchParts.push(part.watch(simulator, schedule));
    schedule();
  }
}

/** The view as it stands: every car of the running built-in simulator with what each part adds. */
export function sidebarView(sim: OpenObdSimulator | undefined = simulator): SidebarView {
  if (!sim || !sim.running) return { running: false, cars: [] };
  const technician = sim.technician.view();
  const view: SidebarView = { running: true, mode: technician.mode, cars: technician.cars as SidebarView['cars'] };
  for (const part of parts) part.extend(sim, view);
  return view;
}

/** Changes come in bursts (a control shown and answered, a session starting): one push per 50 ms at most. */
function schedule(): void {
  if (pending) return;
  pending = setTimeout(() => {
    pending = undefined;
    publish?.(sidebarView());
  }, 50);
  pending.unref();
}

const technicianPart: SidebarPart = {
  name: 'technician',
  extend: () => undefined, // the cars themselves are the technician view
  watch: (sim, changed) => {
    const onSession = () => changed();
    sim.technician.on('change', changed);
    sim.on('session', onSession);
    return () => {
      sim.technician.off('change', changed);
      sim.off('session', onSession);
    };
  },
};

function attach(sim: OpenObdSimulator | undefined): void {
  for (const stop of unwatchParts) stop();
  unwatchParts = [];
  simulator = sim;
  if (sim) unwatchParts = parts.map((p) => p.watch(sim, schedule));
  schedule();
}

type Req = { body?: Record<string, unknown> };
type Res = { status(code: number): Res; json(body: unknown): void };

/** The simulator for an acting route, or a 409 saying it does not run. */
async function runningSimulator(res: Res): Promise<OpenObdSimulator | undefined> {
  const sim = await currentBuiltinSimulator();
  if (!sim || !sim.running) {
    res.status(409).json({ error: 'The built-in simulator is not running: deploy a flow with an account on the built-in simulator' });
    return undefined;
  }
  return sim;
}

function refuse(res: Res, err: unknown): void {
  if (err instanceof TechnicianAnswerError) {
    const status = err.reason === 'invalid' ? 400 : err.reason === 'no-car' ? 404 : 409;
    res.status(status).json({ error: err.message, reason: err.reason });
    return;
  }
  res.status(500).json({ error: err instanceof Error ? err.message : String(err) });
}

/** Registers the sidebar's comms and admin routes (once per Node-RED start; a later call replaces the earlier one). */
export function registerSimulatorSidebar(RED: NodeAPI): void {
  const canRead = RED.auth.needsPermission('openobd-account.read');
  const canWrite = RED.auth.needsPermission('openobd-account.write');
  const comms = (RED as unknown as { comms?: { publish(topic: string, data: unknown, retain?: boolean): void } }).comms;
  publish = comms ? (view) => comms.publish(SIDEBAR_TOPIC, view, true) : undefined;
  if (!parts.includes(technicianPart)) parts.unshift(technicianPart);
  if (!watching) {
    watching = true;
    watchBuiltinSimulator(attach);
  }
  schedule();

  RED.httpAdmin.get('/openobd/simulator/view', canRead, (_req, res) => {
    void currentBuiltinSimulator().then((sim) => res.json(sidebarView(sim)));
  });

  // Answers the control on a car's screen, as the technician at that car: { ticketId, seq, value }.
  RED.httpAdmin.post('/openobd/simulator/answer', canWrite, (req: Req, res: Res) => {
    void runningSimulator(res).then((sim) => {
      if (!sim) return;
      const body = req.body ?? {};
      const car = typeof body.ticketId === 'string' ? body.ticketId : '';
      const seq = typeof body.seq === 'number' ? body.seq : undefined;
      try {
        const control = sim.technician.answer(car, body.value, seq);
        res.json({ answered: control.seq, answer: control.answer });
      } catch (err) {
        refuse(res, err);
      }
    });
  });

  // Switches a car's ignition (terminal 15): { ticketId, on }.
  RED.httpAdmin.post('/openobd/simulator/ignition', canWrite, (req: Req, res: Res) => {
    void runningSimulator(res).then((sim) => {
      if (!sim) return;
      const body = req.body ?? {};
      if (typeof body.on !== 'boolean') {
        res.status(400).json({ error: 'Say { "on": true } or { "on": false }' });
        return;
      }
      try {
        sim.technician.setIgnition(typeof body.ticketId === 'string' ? body.ticketId : '', body.on);
        res.json({ ignitionOn: body.on });
      } catch (err) {
        refuse(res, err);
      }
    });
  });
}
