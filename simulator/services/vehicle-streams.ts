import type * as grpc from '@grpc/grpc-js';
import { status as GrpcStatus } from '@grpc/grpc-js';
import {
  doipOptionNumber,
  type BusConfigurationMessage,
  type DoipChannelMessage,
  type KlineChannelMessage,
  type Tp20ChannelMessage,
} from '../../protocol';
import type { OpenObdSimulator } from '../simulator';
import { SimStatus, toServerError } from '../status';
import { admitChannel, isFinal, type ConnectorRecord, type OpenStream, type SessionRecord, type StreamKind } from '../state';
import type { EcuReply } from '../vehicle/vehicle';
import { bidi } from './handlers';
import { KLINE_BAUD, vehicleBusOf } from './vehicle-services';

interface ChannelMessage<C> {
  channel: C | null;
  payload?: string;
}

/** What differs between the K-Line, TP 2.0 and DoIP streams. */
export interface VehicleStreamSpec<C> {
  service: string;
  method: string;
  kind: StreamKind;
  /** The transport in sentences ("K-Line"). */
  what: string;
  /** Largest payload in bytes. */
  maxBytes: number;
  key(c: C): string;
  /** Checks the channel's fields (INVALID_ARGUMENT) and the bus it names (FAILED_PRECONDITION). */
  check(c: C, session: SessionRecord): BusConfigurationMessage;
  /** The car's replies, or [] when nothing on that bus hears the request. */
  route(c: C, bus: BusConfigurationMessage, payload: Buffer, connector: ConnectorRecord, state: Map<string, unknown>): EcuReply[];
}

const HEX = /^(?:[0-9a-fA-F]{2})+$/;

export function busOrFail(session: SessionRecord, name: string): BusConfigurationMessage {
  const bus = session.buses.get(name);
  if (!bus) throw new SimStatus(GrpcStatus.FAILED_PRECONDITION, `Bus '${name}' is not configured; call configureBus first`);
  return bus;
}

/**
 * A bidirectional vehicle stream whose answers come back on the channel the request was sent on:
 * K-Line, TP 2.0 and DoIP. Payloads are hex both ways (upper case back). The network profile's round
 * trip and the fault injection's delays and silences apply as on ISO-TP.
 */
export function vehicleStream<C extends object>(
  sim: OpenObdSimulator,
  spec: VehicleStreamSpec<C>,
): grpc.handleBidiStreamingCall<unknown, unknown> {
  return bidi(sim, spec.service, spec.method, (call) => {
    const session = sim.activeSession(call.metadata);
    const connector = sim.connectors.get(session.connectorId);
    if (!connector) throw new SimStatus(GrpcStatus.INTERNAL, 'Connector vanished');
    const channels = new Map<string, C>();
    const timers = new Set<NodeJS.Timeout>();
    const state = new Map<string, unknown>();
    const stream: OpenStream = {
      kind: spec.kind,
      call,
      channels,
      dispose: () => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
      },
      finalMessage: () => {
        for (const c of channels.values()) call.write({ channel: c, payload: '' });
      },
    };
    sim.trackStream(session, stream);

    const handle = (m: ChannelMessage<C>) => {
      if (isFinal(session.state)) throw new SimStatus(GrpcStatus.FAILED_PRECONDITION, `Session ${session.id} has ended (${session.state})`);
      const channel = m.channel;
      if (!channel || !(channel as { bus_name?: string }).bus_name)
        throw new SimStatus(GrpcStatus.INVALID_ARGUMENT, `Every ${spec.what} message needs a channel with a bus_name`);
      const bus = spec.check(channel, session);
      const key = spec.key(channel);
      admitChannel(session, stream, key, channel);
      const text = m.payload ?? '';
      if (text === '') return;
      if (!HEX.test(text))
        throw new SimStatus(GrpcStatus.INVALID_ARGUMENT, `Payload '${text.slice(0, 40)}' is not an even number of hexadecimal digits`);
      if (text.length / 2 > spec.maxBytes)
        throw new SimStatus(
          GrpcStatus.INVALID_ARGUMENT,
          `Payload of ${text.length / 2} bytes exceeds the ${spec.what} maximum of ${spec.maxBytes}`,
        );
      const rtt = sim.roundTripMs();
      for (const reply of spec.route(channel, bus, Buffer.from(text, 'hex'), connector, state)) {
        if (sim.faults.isWithheld(reply.ecu, reply.responseId)) continue;
        let at = rtt + sim.faults.extraDelay(reply.ecu, reply.responseId);
        for (const frame of reply.frames) {
          at += frame.delayMs;
          const hex = frame.payload.toString('hex').toUpperCase();
          const timer = setTimeout(() => {
            timers.delete(timer);
            if (!isFinal(session.state) && channels.has(key)) call.write({ channel, payload: hex });
          }, at);
          timers.add(timer);
        }
      }
    };

    call.on('data', (m: ChannelMessage<C>) => {
      try {
        handle(m);
      } catch (err) {
        sim.closeStream(stream, toServerError(err) as { code: GrpcStatus; details: string });
      }
    });
    call.on('end', () => {
      sim.forgetStream(session, stream);
      call.end();
    });
  });
}

function byteField(value: unknown, what: string, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max)
    throw new SimStatus(
      GrpcStatus.INVALID_ARGUMENT,
      `${what} ${String(value)} is out of range (0 to ${max.toString(16).toUpperCase()} hex)`,
    );
  return value;
}

/** `openOBD.v1.kline/openKlineStream`: KWP2000 over ISO 14230 on the car's K-Line. */
export function klineService(sim: OpenObdSimulator): grpc.UntypedServiceImplementation {
  return {
    openKlineStream: vehicleStream<KlineChannelMessage>(sim, {
      service: 'kline',
      method: 'openKlineStream',
      kind: 'kline',
      what: 'K-Line',
      maxBytes: 255,
      key: (c) => `${c.bus_name}|${c.ecu_id}`,
      check: (c, session) => {
        byteField(c.ecu_id, 'K-Line ECU id', 0xff);
        const bus = busOrFail(session, c.bus_name);
        if (!bus.kline_bus) throw new SimStatus(GrpcStatus.FAILED_PRECONDITION, `Bus '${c.bus_name}' is not a K-Line bus`);
        return bus;
      },
      route: (c, bus, payload, connector) => {
        const k = bus.kline_bus!;
        if (k.pin !== connector.vehicle.klinePin) return [];
        return connector.vehicle.handleKline(c.ecu_id, payload, {
          init: k.kline_protocol === 'KLINE_PROTOCOL_ISO14230_SLOW' ? 'slow' : 'fast',
          baud: KLINE_BAUD[k.kline_bit_rate as keyof typeof KLINE_BAUD] ?? 0,
          keyBytes: c.keyword ? [c.keyword.key_byte_1, c.keyword.key_byte_2] : undefined,
        });
      },
    }),
  };
}

/** `openOBD.v1.doip/openDoipStream`: UDS over DoIP (ISO 13400) through the car's DoIP entity. */
export function doipService(sim: OpenObdSimulator): grpc.UntypedServiceImplementation {
  return {
    openDoipStream: vehicleStream<DoipChannelMessage>(sim, {
      service: 'doip',
      method: 'openDoipStream',
      kind: 'doip',
      what: 'DoIP',
      maxBytes: 65535,
      key: (c) => `${c.bus_name}|${c.gateway_id}|${c.tester_id}|${c.ecu_id}`,
      check: (c, session) => {
        byteField(c.gateway_id, 'DoIP gateway id', 0xffff);
        byteField(c.tester_id, 'DoIP tester id', 0xffff);
        byteField(c.ecu_id, 'DoIP ECU id', 0xffff);
        const bus = busOrFail(session, c.bus_name);
        if (!bus.doip_bus) throw new SimStatus(GrpcStatus.FAILED_PRECONDITION, `Bus '${c.bus_name}' is not a DoIP bus`);
        return bus;
      },
      route: (c, bus, payload, connector) => {
        const car = connector.vehicle.doip;
        const d = bus.doip_bus!;
        // The wrong Ethernet pins or network configuration reach no DoIP entity.
        if (
          !car ||
          doipOptionNumber(d.doip_option) !== car.option ||
          d.doip_network_configuration !== `DOIP_NETWORK_CONFIGURATION_${car.networkConfiguration}`
        )
          return [];
        return connector.vehicle.handleDoip(c.gateway_id, c.ecu_id, payload);
      },
    }),
  };
}

/** TP 2.0 channel setup (openOBD's side: the channel setup and parameter exchange on CAN) before the first request. */
const TP20_SETUP_MS = 10;

/** `openOBD.v1.can/openTp20Stream`: VW TP 2.0 on a CAN bus configured with CAN_PROTOCOL_TP20. */
export function tp20Stream(sim: OpenObdSimulator): grpc.handleBidiStreamingCall<unknown, unknown> {
  return vehicleStream<Tp20ChannelMessage>(sim, {
    service: 'can',
    method: 'openTp20Stream',
    kind: 'tp20',
    what: 'TP 2.0',
    maxBytes: 4095,
    key: (c) => `${c.bus_name}|${c.logical_address}`,
    check: (c, session) => {
      byteField(c.logical_address, 'TP 2.0 logical address', 0xff);
      const bus = busOrFail(session, c.bus_name);
      if (!bus.can_bus || bus.can_bus.can_protocol !== 'CAN_PROTOCOL_TP20')
        throw new SimStatus(GrpcStatus.FAILED_PRECONDITION, `Bus '${c.bus_name}' is not a CAN bus with the TP 2.0 protocol`);
      return bus;
    },
    route: (c, bus, payload, connector, state) => {
      const carBus = vehicleBusOf(bus, connector);
      if (!carBus) return [];
      const replies = connector.vehicle.handleTp20(c.logical_address, payload, carBus);
      const setupKey = `setup|${c.bus_name}|${c.logical_address}`;
      if (replies.length > 0 && !state.has(setupKey)) {
        state.set(setupKey, true);
        for (const r of replies) if (r.frames[0]) r.frames[0] = { ...r.frames[0], delayMs: r.frames[0].delayMs + TP20_SETUP_MS };
      }
      return replies;
    },
  });
}
