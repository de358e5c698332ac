import type { NodeAPI } from 'node-red';
import { DEFAULT_SIMULATOR_CREDENTIALS, plannedVehicles, type SimulatorOptions } from '../../simulator';
import { currentBuiltinSimulator } from './builtin-simulator';
import { registry } from './registry';

/**
 * Admin endpoints that feed the edit dialogs (ticket and session dropdowns). Each one requires the
 * Node-RED permission `openobd-account.read`, so with adminAuth enabled only signed-in users with read
 * access see them. Nothing secret is served: ids and states only.
 */
export function registerAdminRoutes(RED: NodeAPI): void {
  const canRead = RED.auth.needsPermission('openobd-account.read');

  // What the built-in simulator offers, even before it runs: what settings.js configures for it.
  RED.httpAdmin.get('/openobd/simulator', canRead, (_req, res) => {
    void currentBuiltinSimulator().then((sim) => {
      const planned = plannedVehicles((RED.settings as unknown as { openobdAccountSimulator?: SimulatorOptions }).openobdAccountSimulator);
      const tickets = sim ? sim.ticketIds() : planned.map((v) => v.ticketId);
      const connectors = sim ? sim.connectorIds() : planned.map((v) => v.connectorId);
      res.json({
        running: !!sim,
        tickets,
        connectors,
        clientId: DEFAULT_SIMULATOR_CREDENTIALS.clientId,
        clusterId: DEFAULT_SIMULATOR_CREDENTIALS.clusterId,
      });
    });
  });

  // Sessions this Node-RED holds right now, optionally of one account.
  RED.httpAdmin.get('/openobd/sessions', canRead, (req, res) => {
    const account = typeof req.query.account === 'string' ? req.query.account : undefined;
    res.json(
      registry.list(account).map((l) => ({
        id: l.id,
        state: l.session.state,
        keepalive: l.session.keepaliveHealth,
        createdAt: l.session.createdAt,
        ...l.target,
      })),
    );
  });
}
