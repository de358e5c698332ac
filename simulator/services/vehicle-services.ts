import type * as grpc from '@grpc/grpc-js';
import { status as GrpcStatus } from '@grpc/grpc-js';
import {
  busPins,
  doipOptionNumber,
  pinClash,
  type BusConfigurationMessage,
  type CanBitRateName,
  type CanBusMessage,
  type ConfiguredChannelMessage,
  type ConnectorInformationMessage,
  type EcuMessage,
  type KlineBitRateName,
} from '../../protocol';
import type { CompiledCanBus } from '../vehicle/definition';
import type { OpenObdSimulator } from '../simulator';
import { SimStatus } from '../status';
import { isFinal, type ConnectorRecord, type OpenStream, type SessionRecord } from '../state';
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

const RATE_TO_KBPS = new Map<string, number>(Object.entries(KBPS_TO_RATE).map(([k, v]) => [v, Number(k)]));

export const KLINE_BAUD: Record<KlineBitRateName, number> = {
  KLINE_BIT_RATE_UNDEFINED: 0,
  KLINE_BIT_RATE_9600: 9600,
  KLINE_BIT_RATE_10400: 10400,
  KLINE_BIT_RATE_15625: 15625,
};

/** A CAN bus of the car as a CanBus message (the ECU list). */
export function canBusMessage(
  bus: CompiledCanBus,
  protocol: 'CAN_PROTOCOL_ISOTP' | 'CAN_PROTOCOL_TP20' = 'CAN_PROTOCOL_ISOTP',
): CanBusMessage {
  return {
    pin_plus: bus.pinPlus,
    pin_min: bus.pinMinus,
    can_protocol: protocol,
    can_bit_rate: KBPS_TO_RATE[bus.bitRateKbps] ?? 'CAN_BIT_RATE_UNDEFINED',
  };
}

/** The main CAN bus of the car as a CanBus message. */
export function vehicleCanBus(connector: ConnectorRecord): CanBusMessage {
  return canBusMessage(connector.vehicle.canBuses[0]!);
}

/**
 * The car's CAN bus that a configured bus reaches: same pins and bit rate. Anything else (wrong pins,
 * wrong bit rate, not a CAN bus) reaches nothing, as on a real connector.
 */
export function vehicleBusOf(bus: BusConfigurationMessage, connector: ConnectorRecord): string | undefined {
  const can = bus.can_bus;
  if (!can) return undefined;
  const kbps = RATE_TO_KBPS.get(String(can.can_bit_rate));
  if (kbps === undefined) return undefined;
  return connector.vehicle.canBusAt(can.pin_plus, can.pin_min, kbps);
}

/**
 * Checks a complete bus set the way openOBD describes it: every bus named and defined, names unique,
 * no pin used twice (openOBD documentation, "Vehicle communication").
 */
export function validateBuses(buses: BusConfigurationMessage[]): void {
  const names = new Set<string>();
  for (const bus of buses) {
    if (!bus.bus_name) throw new SimStatus(GrpcStatus.INVALID_ARGUMENT, 'Every bus configuration needs a bus_name');
    if (!bus.BusDefinition) throw new SimStatus(GrpcStatus.INVALID_ARGUMENT, `Bus '${bus.bus_name}' has no bus definition`);
    if (names.has(bus.bus_name)) throw new SimStatus(GrpcStatus.INVALID_ARGUMENT, `Bus name '${bus.bus_name}' is configured twice`);
    names.add(bus.bus_name);
    if (bus.can_bus && bus.can_bus.pin_plus === bus.can_bus.pin_min)
      throw new SimStatus(GrpcStatus.INVALID_ARGUMENT, `Bus '${bus.bus_name}' uses pin ${bus.can_bus.pin_plus} twice`);
    if (bus.kline_bus) {
      if (
        bus.kline_bus.kline_protocol !== 'KLINE_PROTOCOL_ISO14230_SLOW' &&
        bus.kline_bus.kline_protocol !== 'KLINE_PROTOCOL_ISO14230_FAST'
      )
        throw new SimStatus(GrpcStatus.INVALID_ARGUMENT, `K-Line bus '${bus.bus_name}' needs a K-Line protocol (ISO 14230 slow or fast)`);
      if (!KLINE_BAUD[bus.kline_bus.kline_bit_rate as KlineBitRateName])
        throw new SimStatus(GrpcStatus.INVALID_ARGUMENT, `K-Line bus '${bus.bus_name}' needs a bit rate (9600, 10400 or 15625)`);
    }
    if (bus.doip_bus) {
      if (!doipOptionNumber(bus.doip_bus.doip_option))
        throw new SimStatus(GrpcStatus.INVALID_ARGUMENT, `DoIP bus '${bus.bus_name}' needs a DoIP option (1 or 2)`);
      if (!/^DOIP_NETWORK_CONFIGURATION_[1-9]$/.test(String(bus.doip_bus.doip_network_configuration)))
        throw new SimStatus(GrpcStatus.INVALID_ARGUMENT, `DoIP bus '${bus.bus_name}' needs a network configuration (1 to 9)`);
    }
    for (const pin of busPins(bus)) {
      if (!(pin >= 1 && pin <= 16))
        throw new SimStatus(GrpcStatus.INVALID_ARGUMENT, `Bus '${bus.bus_name}': pin ${pin} is not an OBD connector pin`);
    }
  }
  const clash = pinClash(buses);
  if (clash)
    throw new SimStatus(
      GrpcStatus.INVALID_ARGUMENT,
      `Pin ${clash.pin} is used by both '${clash.first}' and '${clash.second}'; two buses may not share pins`,
    );
}

function connectorOf(sim: OpenObdSimulator, session: SessionRecord): ConnectorRecord {
  const c = sim.connectors.get(session.connectorId);
  if (!c) throw new SimStatus(GrpcStatus.INTERNAL, 'Connector vanished');
  return c;
}

const CHANNEL_FIELD: Partial<Record<OpenStream['kind'], keyof ConfiguredChannelMessage>> = {
  isotp: 'isotp_channel',
  kline: 'kline_channel',
  tp20: 'tp20_channel',
  doip: 'doip_channel',
  raw: 'raw_channel',
};

/** `openOBD.v1.config`: bus configuration (each call replaces the set) and the current configuration. */
export function configService(sim: OpenObdSimulator): grpc.UntypedServiceImplementation {
  const S = 'config';
  return {
    configureBus: clientStream(sim, S, 'configureBus', (messages, call) => {
      const session = sim.activeSession(call.metadata);
      const buses = messages as BusConfigurationMessage[];
      validateBuses(buses);
      session.buses = new Map(buses.map((b) => [b.bus_name, b]));
      // The J-Rex applies the configuration: one round trip under a network profile.
      const rtt = sim.roundTripMs();
      return rtt > 0 ? new Promise((resolve) => setTimeout(() => resolve({}), rtt)) : {};
    }),
    getConfiguration: unary(sim, S, 'getConfiguration', (call) => {
      const session = sim.activeSession(call.metadata);
      const channels: ConfiguredChannelMessage[] = [];
      for (const s of session.streams) {
        const field = CHANNEL_FIELD[s.kind];
        if (field) for (const c of s.channels?.values() ?? []) channels.push({ [field]: c } as ConfiguredChannelMessage);
      }
      return { buses: [...session.buses.values()], channels };
    }),
  };
}

/** `openOBD.v1.connectionMonitor`: the J-Rex link, once or once per interval. */
export function connectionMonitorService(sim: OpenObdSimulator): grpc.UntypedServiceImplementation {
  const S = 'connectionMonitor';
  const info = (c: ConnectorRecord): ConnectorInformationMessage => {
    // With a network profile, the latency openOBD measures is the profile's round trip (a new sample each time).
    const latency = sim.options.network ? Math.round(sim.roundTripMs()) : c.latencyMs;
    return { connected: true, connected_since: String(c.connectedSince), latency, healthy: latency < 500 };
  };
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
      return { ecus: ecuList(connector) };
    }),
  };
}

/** The ECUs detected in the car, each with the bus it is on (openOBD's vehicle info). */
function ecuList(connector: ConnectorRecord): EcuMessage[] {
  const v = connector.vehicle;
  const busNamed = (name: string) => v.canBuses.find((b) => b.name === name) ?? v.canBuses[0]!;
  return v.ecuLinks().map(({ link }): EcuMessage => {
    switch (link.transport) {
      case 'isotp':
        return { isotp_ecu: { can_bus: canBusMessage(busNamed(link.bus)), request_id: link.requestId, response_id: link.responseId } };
      case 'tp20':
        return { tp20_ecu: { can_bus: canBusMessage(busNamed(link.bus), 'CAN_PROTOCOL_TP20'), logical_address: link.logicalAddress } };
      case 'kline':
        return {
          kline_ecu: {
            kline_bus: {
              pin: v.klinePin,
              kline_protocol: link.init === 'slow' ? 'KLINE_PROTOCOL_ISO14230_SLOW' : 'KLINE_PROTOCOL_ISO14230_FAST',
              kline_bit_rate:
                link.baud === 9600 ? 'KLINE_BIT_RATE_9600' : link.baud === 15625 ? 'KLINE_BIT_RATE_15625' : 'KLINE_BIT_RATE_10400',
            },
            ecu_id: link.address,
          },
        };
      case 'doip': {
        const d = v.doip!;
        return {
          doip_ecu: {
            doip_bus: {
              doip_option: d.option === 2 ? 'DOIP_OPTION_2' : 'DOIP_OPTION_1',
              doip_network_configuration: `DOIP_NETWORK_CONFIGURATION_${d.networkConfiguration}`,
            },
            gateway_id: d.gatewayId,
            tester_id: DOIP_TESTER_ID,
            ecu_id: link.address,
          },
        };
      }
    }
  });
}

/** The tester address the simulated J-Rex reports for DoIP ECUs (ISO 13400-2 reserves 0E00–0FFF for external test equipment). */
export const DOIP_TESTER_ID = 0x0e80;

/**
 * `openOBD.v1.terminal15`: the ignition state, which needs a configured Terminal15Bus (inferred). The
 * state comes at once and on every change of the car's ignition; a bus on a pin where the car has no
 * terminal 15 reports STATE_UNDEFINED.
 */
export function terminal15Service(sim: OpenObdSimulator): grpc.UntypedServiceImplementation {
  return {
    openTerminal15Stream: serverStream(sim, 'terminal15', 'openTerminal15Stream', (call) => {
      const session = sim.activeSession(call.metadata);
      const bus = [...session.buses.values()].find((b) => b.terminal15_bus);
      if (!bus) throw new SimStatus(GrpcStatus.FAILED_PRECONDITION, 'No terminal 15 bus is configured; configure a Terminal15Bus first');
      const connector = connectorOf(sim, session);
      const vehicle = connector.vehicle;
      if (bus.terminal15_bus!.pin !== vehicle.terminal15Pin) {
        call.write({ state: 'STATE_UNDEFINED' });
      } else {
        call.write({ state: vehicle.ignitionOn ? 'STATE_ON' : 'STATE_OFF' });
      }
      const stop =
        bus.terminal15_bus!.pin === vehicle.terminal15Pin
          ? vehicle.onIgnitionChange((on) => {
              if (!isFinal(session.state)) call.write({ state: on ? 'STATE_ON' : 'STATE_OFF' });
            })
          : () => undefined;
      const stream: OpenStream = { kind: 'terminal15', call, dispose: () => stop(), finalMessage: () => call.write({}) };
      sim.trackStream(session, stream);
    }),
  };
}
