import type { NodeAPI, NodeDef } from 'node-red';
import { ecuSpecFrom, reachOf, type EcuNode, type EcuSettings } from '../lib/ecu-spec';

type EcuDef = NodeDef & EcuSettings;

/**
 * "ECU" config node: how to reach one ECU (bus pins and bit rate, request and response CAN ids,
 * physical or functional), so a flow names "Engine" once and every request node reuses it.
 */
export function register(RED: NodeAPI): void {
  function OpenObdEcuNode(this: EcuNode, def: EcuDef) {
    RED.nodes.createNode(this, def);
    this.label = def.name || `${def.requestId}/${def.responseId}`;
    try {
      this.spec = ecuSpecFrom(def);
      this.reach = reachOf(this.spec);
    } catch (err) {
      this.problem = err instanceof Error ? err.message : String(err);
      this.error(`ECU "${this.label}": ${this.problem}`);
    }
  }
  RED.nodes.registerType('openobd-ecu', OpenObdEcuNode);
}
