import type { NodeAPI } from 'node-red';
import type { OpenObdSimulator } from '../../simulator';
import { currentBuiltinSimulator } from './builtin-simulator';
import { addSidebarPart } from './simulator-sidebar';

/*
 * The ticket dashboard of the built-in simulator, a second part of the "openOBD simulator" sidebar tab
 * (nodes/lib/ticket-dashboard.html): the functions registered on its function broker with a Run button
 * per ticket, as openOBD's ticket dashboard shows the partner's procedures, and the last result of each
 * run. Running one needs `openobd-account.write`.
 */

/** Registers the dashboard's part of the sidebar view and its admin route (once per Node-RED start). */
export function registerTicketDashboard(RED: NodeAPI): void {
  const canWrite = RED.auth.needsPermission('openobd-account.write');
  addSidebarPart({
    name: 'dashboard',
    extend: (sim: OpenObdSimulator, view) => {
      view.functions = sim.functions.dashboardFunctions();
      const runs = [...sim.functions.runs.values()];
      for (const car of view.cars)
        car.runs = runs.filter((r) => r.ticketId === car.ticketId).sort((a, b) => b.startedAt.localeCompare(a.startedAt));
    },
    watch: (sim, changed) => {
      sim.functions.on('change', changed);
      return () => sim.functions.off('change', changed);
    },
  });

  // Presses Run for a function on a ticket: { ticketId, functionId }.
  RED.httpAdmin.post('/openobd/simulator/run', canWrite, (req, res) => {
    void currentBuiltinSimulator().then(async (sim) => {
      if (!sim || !sim.running) {
        res.status(409).json({ error: 'The built-in simulator is not running: deploy a flow with an account on the built-in simulator' });
        return;
      }
      const body = (req.body ?? {}) as Record<string, unknown>;
      const ticketId = typeof body.ticketId === 'string' ? body.ticketId : '';
      const functionId = typeof body.functionId === 'string' ? body.functionId : '';
      try {
        const run = await sim.functions.runFromDashboard(ticketId, functionId);
        res.status(run.state === 'failed' ? 409 : 200).json(run.state === 'failed' ? { error: run.error, run } : { run });
      } catch (err) {
        const status = /no function|no ticket/i.test((err as Error).message) ? 404 : 500;
        res.status(status).json({ error: (err as Error).message });
      }
    });
  });
}
