import type { NodeAPI } from 'node-red';
import { registerAccount } from './openobd-account/openobd-account';
import { registerEcu } from './openobd-ecu/openobd-ecu';
import { registerStartSession } from './openobd-start-session/openobd-start-session';
import { registerRequest } from './openobd-request/openobd-request';
import { registerFinish } from './openobd-finish/openobd-finish';
import { registerInterrupt } from './openobd-interrupt/openobd-interrupt';
import { registerSessionInfo } from './openobd-session-info/openobd-session-info';
import { registerAdminRoutes } from './lib/admin-routes';

/**
 * The openOBD node set: two config nodes (account, ECU) and the flow nodes. Node-RED calls this once per
 * process; the proto files load once, on the first session.
 */
export = function openobd(RED: NodeAPI): void {
  registerAccount(RED);
  registerEcu(RED);
  registerStartSession(RED);
  registerRequest(RED);
  registerFinish(RED);
  registerInterrupt(RED);
  registerSessionInfo(RED);
  registerAdminRoutes(RED);
};
