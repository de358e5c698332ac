import type { Node, NodeAPI, NodeDef } from 'node-red';
import { detectedEcus, type OpenObdError, type wire } from '../../client';
import { settingsOfSpec } from '../lib/ecu-spec';
import { ensureContext, liveSessionOf, toFlowError, type OpenObdMsg } from '../lib/flow';
import { flowNodeKit, onInput } from '../lib/flow-node';
import { Watchers, isStopMessage } from '../lib/watchers';

interface VehicleInfoDef extends NodeDef {
  action: 'ecus' | 'connector' | 'connectorStream' | 'configuration';
}

/** Connector information as plain data (openOBD documentation, "Connection monitor"). */
function connectorData(m: wire.ConnectorInformationMessage) {
  const since = Number(m.connected_since) || 0;
  return {
    connected: m.connected,
    connectedSince: since ? new Date(since).toISOString() : null,
    connectedSinceMs: since,
    latencyMs: m.latency,
    healthy: m.healthy,
  };
}

/**
 * "vehicle info": what the connector knows about the car: the ECUs it detected (each with the settings
 * a request can use), the connector's link (once, or as a stream of one message a second), or the
 * session's current bus configuration.
 */
export function register(RED: NodeAPI): void {
  function OpenObdVehicleInfoNode(this: Node, def: VehicleInfoDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const kit = flowNodeKit(RED, node);
    const { status, t } = kit;
    const action = ['ecus', 'connector', 'connectorStream', 'configuration'].includes(def.action) ? def.action : 'ecus';
    const watchers = new Watchers(node, (count) => {
      if (count === 0 && action === 'connectorStream')
        status.show({ fill: 'grey', shape: 'ring', text: 'openobd.status.connectorStopped' });
    });

    onInput(node, kit, async (msg: OpenObdMsg, send) => {
      const live = liveSessionOf(msg);
      const session = live.session;
      if (action === 'ecus') {
        const ecus = detectedEcus(await session.getEcuList()).map((e) => ({
          transport: e.transport,
          address: e.address,
          ecu: settingsOfSpec(e.spec),
        }));
        msg.payload = ecus;
        ensureContext(msg).ecuCount = ecus.length;
        status.show({ fill: 'green', shape: 'dot', text: t('openobd.status.ecusFound', { count: ecus.length }) });
        send(msg);
        return;
      }
      if (action === 'configuration') {
        const config = await session.getConfiguration();
        msg.payload = {
          buses: config.buses.map(({ BusDefinition: _kind, ...bus }) => bus),
          channels: config.channels.map(({ ChannelDefinition: kind, ...c }) => ({ kind: kind?.replace(/_channel$/, ''), ...c })),
        };
        status.show({ fill: 'green', shape: 'dot', text: t('openobd.status.busesConfigured', { count: config.buses.length }) });
        send(msg);
        return;
      }
      if (action === 'connector') {
        const info = connectorData(await session.getConnectorInformation());
        msg.payload = info;
        status.show(connectorStatus(info));
        send(msg);
        return;
      }
      if (isStopMessage(msg)) {
        watchers.stop(live.id);
        return;
      }
      const onError = (e: OpenObdError) => {
        watchers.stop(live.id);
        // The node or the session closed, or the session ended: the stream ends with it, nothing to report.
        if (e.code === 'CLOSED' || e.code === 'SESSION_ENDED') return;
        node.error(toFlowError(e), { ...msg, openobd: { ...msg.openobd, sessionId: live.id } });
      };
      await watchers.start(live.id, async () =>
        session.watchConnector((info) => {
          const payload = connectorData(info);
          status.showFrequent(() => connectorStatus(payload));
          send({ payload, topic: 'connector', openobd: { sessionId: live.id } });
        }, onError),
      );
    });

    function connectorStatus(p: ReturnType<typeof connectorData>) {
      if (!p.connected) return { fill: 'red' as const, shape: 'ring' as const, text: 'openobd.status.connectorDisconnected' };
      return {
        fill: p.healthy ? ('green' as const) : ('yellow' as const),
        shape: 'dot' as const,
        text: t(p.healthy ? 'openobd.status.connectorHealthy' : 'openobd.status.connectorSlow', { latency: p.latencyMs }),
      };
    }
  }
  RED.nodes.registerType('openobd-vehicle-info', OpenObdVehicleInfoNode);
}
