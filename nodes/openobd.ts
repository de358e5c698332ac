import * as path from 'node:path';
import type { NodeAPI } from 'node-red';
import { registerAdminRoutes } from './lib/admin-routes';
import { nodeFolders } from './lib/node-folders';
import { registerSimulatorSidebar } from './lib/simulator-sidebar';
import { registerTicketDashboard } from './lib/ticket-dashboard';

/** What every node folder's runtime module exports. */
interface NodeModule {
  register(RED: NodeAPI): void;
}

/**
 * The openOBD node set. Node-RED calls this once per process; every folder under nodes/ is one node type
 * and registers itself (see lib/node-folders.ts). The proto files load once, on the first session.
 */
export = function openobd(RED: NodeAPI): void {
  for (const folder of nodeFolders(__dirname)) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(path.join(__dirname, folder.dir, folder.type)) as Partial<NodeModule>;
    if (typeof mod.register !== 'function') throw new Error(`openOBD node ${folder.dir}/${folder.type} exports no register(RED)`);
    mod.register(RED);
  }
  registerAdminRoutes(RED);
  registerSimulatorSidebar(RED);
  registerTicketDashboard(RED);
};
