import type { Node, NodeAPI, NodeDef } from 'node-red';
import { checkCanId, scanVehicle, type ScanReport } from '../../client';
import { canBusFrom } from '../lib/ecu-spec';
import { FlowError, ensureContext, liveSessionOf, type OpenObdMsg } from '../lib/flow';
import { flowNodeKit, onInput } from '../lib/flow-node';
import { busyStatus } from '../lib/status';

interface ScanDef extends NodeDef {
  discover: 'ecu-list' | 'probe';
  busName: string;
  pinPlus: string | number;
  pinMinus: string | number;
  bitRate: string | number;
  probeFrom: string;
  probeTo: string;
  responseOffset: string;
  identification: boolean;
  dtcs: boolean;
  concurrency: string | number;
  timeout: string | number;
}

function canId(text: string, what: string): number {
  const r = checkCanId(text);
  if (!r.ok) throw new FlowError('BAD_CONFIG', `${what} '${text}' is not a CAN id in hex`);
  return r.value;
}

/**
 * "scan": a full-system scan of the message's session: the ECUs the connector detected (or those that
 * answer a probe of a CAN id range), each one's identification and DTCs read concurrently within the
 * J-Rex's 32 channels, one report in msg.payload, the progress on the status ("12 / 30 ECUs").
 */
export function register(RED: NodeAPI): void {
  function OpenObdScanNode(this: Node, def: ScanDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const kit = flowNodeKit(RED, node);
    const { status, t } = kit;
    const probe = def.discover === 'probe';
    const timeout = Number(def.timeout) || 0;
    const closing = new AbortController();
    node.on('close', () => closing.abort());

    onInput(node, kit, async (msg: OpenObdMsg, send) => {
      const live = liveSessionOf(msg);
      status.show(busyStatus(t(probe ? 'openobd.status.scanProbing' : 'openobd.status.scanListing')));
      const report: ScanReport = await scanVehicle(live.session, {
        discover: probe ? 'probe' : 'ecu-list',
        probe: probe
          ? {
              bus: canBusFrom(def, 'OBD-CAN'),
              from: canId(def.probeFrom || '700', 'First id'),
              to: canId(def.probeTo || '7F7', 'Last id'),
              responseOffset: def.responseOffset ? parseInt(String(def.responseOffset), 16) || 8 : 8,
              timeoutMs: timeout > 0 ? Math.min(timeout, 1000) : undefined,
            }
          : undefined,
        identification: def.identification !== false,
        dtcs: def.dtcs !== false,
        concurrency: Number(def.concurrency) || undefined,
        timing: timeout > 0 ? { timeoutMs: timeout } : undefined,
        signal: closing.signal,
        onProgress: (done, total) => status.showFrequent(() => busyStatus(t('openobd.status.scanProgress', { done, total }))),
        onProbe: (probed, total, found) =>
          status.showFrequent(() => busyStatus(t('openobd.status.scanProbingCount', { probed, total, count: found }))),
      });
      msg.payload = report;
      ensureContext(msg).scan = report.summary;
      const s = report.summary;
      status.show({
        fill: s.reachable < s.ecus ? 'yellow' : 'green',
        shape: 'dot',
        text: t('openobd.status.scanDone', { ecus: s.reachable, total: s.ecus, dtcs: s.dtcs }),
      });
      send(msg);
    });
  }
  RED.nodes.registerType('openobd-scan', OpenObdScanNode);
}
