import type * as grpc from '@grpc/grpc-js';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { BusConfigurationMessage, CanBitRateName, ConnectorInformationMessage, IsotpChannelMessage } from '../../protocol';
import type { OpenObdSimulator } from '../simulator';
import { SimStatus } from '../status';
import type { ConnectorRecord, OpenStream, SessionRecord } from '../state';
import { clientStream, serverStream, unary } from './handlers';

const KBPS_TO_RATE: Record<number, CanBitRateName> = {
  1000: 'CAN_BIT_RATE_1000',
  500: 'CAN_BIT_RATE_500',
  250: 'CAN_BIT_RATE_250',
  125: 'CAN_BIT_RATE_125',
  100: 'CAN_BIT_RATE_100',
  94: 'CAN_BIT_RATE_94',
  83.3: 'CAN_BIT_RATE_83_3',
  50: 'CAN_BIT_RATE_50',
  33.3: 'CAN_BIT_RATE_33_3',
  20: 'CAN_BIT_RATE_20',
  10: 'CAN_BIT_RATE_10',
  5: 'CAN_BIT_RATE_5',
};

/** The CAN bus of the car as a CanBus message (used by the ECU list and to check bus configurations). */
export function vehicleCanBus(connector: ConnectorRecord) {
  const can = connector.vehicle.definition.can;
  return {
    pin_plus: can.pinPlus,
    pin_min: can.pinMinus,
    can_protocol: 'CAN_PROTOCOL_ISOTP',
    can_bit_rate: KBPS_TO_RATE[can.bitRateKbps] ?? 'CAN_BIT_RATE_UNDEFINED',
  };
}

function pinsOf(bus: BusConfigurationMessage): number[] {
  if (bus.can_bus) return [bus.can_bus.pin_plus, bus.can_bus.pin_min];
  if (bus.kline_bus) return [bus.kline_bus.pin];
  if (bus.terminal15_bus) return [bus.terminal15_bus.pin];
  return [];
}

/**
 * Checks a complete bus set the way openOBD describes it: every bus named and defined, names unique,
 * no pin used twice (openOBD documentation, "Vehicle communication").
 */
export function validateBuses(buses: BusConfigurationMessage[]): void {
  const names = new Set<string>();
  const pins = new Map<number, string>();
  for (const bus of buses) {
    if (!bus.bus_name) throw new SimStatus(GrpcStatus.INVALID_ARGUMENT, 'Every bus configuration needs a bus_name');
    if (!bus.BusDefinition) throw new SimStatus(GrpcStatus.INVALID_ARGUMENT, `Bus '${bus.bus_name}' has no bus definition`);
    if (names.has(bus.bus_name)) throw new SimStatus(GrpcStatus.INVALID_ARGUMENT, `Bus name '${bus.bus_name}' is configured twice`);
    names.add(bus.bus_name);
    if (bus.can_bus && bus.can_bus.pin_plus === bus.can_bus.pin_min)
      throw new SimStatus(GrpcStatus.INVALID_ARGUMENT, `Bus '${bus.bus_name}' uses pin ${bus.can_bus.pin_plus} twice`);
    for (const pin of pinsOf(bus)) {
      if (!(pin >= 1 && pin <= 16))
        throw new SimStatus(GrpcStatus.INVALID_ARGUMENT, `Bus '${bus.bus_name}': pin ${pin} is not an OBD connector pin`);
      const other = pins.get(pin);
      if (other)
        throw new SimStatus(
          GrpcStatus.INVALID_ARGUMENT,
          `Pin ${pin} is used by both '${other}' and '${bus.bus_name}'; two buses may not share pins`,
        );
      pins.set(pin, bus.bus_name);
    }
  }
}

function connectorOf(sim: OpenObdSimulator, session: SessionRecord): ConnectorRecord {
  const c = sim.connectors.get(session.connectorId);
  if (!c) throw new SimStatus(GrpcStatus.INTERNAL, 'Connector vanished');
  return c;
}

/** `openOBD.v1.config`: bus configuration (each call replaces the set) and the current configuration. */
export function configService(sim: OpenObdSimulator): grpc.UntypedServiceImplementation {
  const S = 'config';
  return {
    configureBus: clientStream(sim, S, 'configureBus', (messages, call) => {
      const session = sim.activeSession(call.metadata);
      const buses = messages as BusConfigurationMessage[];
      validateBuses(buses);
      session.buses = new Map(buses.map((b) => [b.bus_name, b]));
      return {};
    }),
    getConfiguration: unary(sim, S, 'getConfiguration', (call) => {
      const session = sim.activeSession(call.metadata);
      const channels = new Map<string, IsotpChannelMessage>();
      for (const s of session.streams) for (const [k, c] of s.channels ?? []) channels.set(k, c);
      return { buses: [...session.buses.values()], channels: [...channels.values()].map((c) => ({ isotp_channel: c })) };
    }),
  };
}

/** `openOBD.v1.connectionMonitor`: the J-Rex link, once or once per interval. */
export function connectionMonitorService(sim: OpenObdSimulator): grpc.UntypedServiceImplementation {
  const S = 'connectionMonitor';
  const info = (c: ConnectorRecord): ConnectorInformationMessage => ({
    connected: true,
    connected_since: String(c.connectedSince),
    latency: c.latencyMs,
    healthy: c.latencyMs < 500,
  });
  return {
    getConnectorInformation: unary(sim, S, 'getConnectorInformation', (call) => info(connectorOf(sim, sim.activeSession(call.metadata)))),
    openConnectorInformationStream: serverStream(sim, S, 'openConnectorInformationStream', (call) => {
      const session = sim.activeSession(call.metadata);
      const connector = connectorOf(sim, session);
      call.write(info(connector));
      const timer = setInterval(() => call.write(info(connector)), sim.options.connectorInfoIntervalMs);
      const stream: OpenStream = {
        kind: 'connector',
        call,
        dispose: () => clearInterval(timer),
        finalMessage: () => call.write({ connected: false, connected_since: '0', latency: 0, healthy: false }),
      };
      sim.trackStream(session, stream);
    }),
  };
}

/** `openOBD.v1.vehicleInfo`: the ECUs detected in the car. */
export function vehicleInfoService(sim: OpenObdSimulator): grpc.UntypedServiceImplementation {
  return {
    getEcuList: unary(sim, 'vehicleInfo', 'getEcuList', (call) => {
      const connector = connectorOf(sim, sim.activeSession(call.metadata));
      const canBus = vehicleCanBus(connector);
      return {
        ecus: connector.vehicle.ecus().map((e) => ({ isotp_ecu: { can_bus: canBus, request_id: e.requestId, response_id: e.responseId } })),
      };
    }),
  };
}

/** `openOBD.v1.terminal15`: ignition state, which needs a configured Terminal15Bus (inferred). */
export function terminal15Service(sim: OpenObdSimulator): grpc.UntypedServiceImplementation {
  return {
    openTerminal15Stream: serverStream(sim, 'terminal15', 'openTerminal15Stream', (call) => {
      const session = sim.activeSession(call.metadata);
      if (![...session.buses.values()].some((b) => b.terminal15_bus)) {
        throw new SimStatus(GrpcStatus.FAILED_PRECONDITION, 'No terminal 15 bus is configured; configure a Terminal15Bus first');
      }
      const connector = connectorOf(sim, session);
      let last: boolean | undefined;
      const report = () => {
        const on = connector.vehicle.ignitionOn;
        if (on === last) return;
        last = on;
        call.write({ state: on ? 'STATE_ON' : 'STATE_OFF' });
      };
      report();
      const timer = setInterval(report, 250);
      const stream: OpenStream = { kind: 'terminal15', call, dispose: () => clearInterval(timer), finalMessage: () => call.write({}) };
      sim.trackStream(session, stream);
    }),
  };
}
