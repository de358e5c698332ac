import * as grpc from '@grpc/grpc-js';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { BusConfigurationMessage, IsotpChannelMessage, IsotpMessageMessage } from '../../protocol';
import { rawStream } from './raw-stream';
import { tp20Stream } from './vehicle-streams';
import type { OpenObdSimulator } from '../simulator';
import { SimStatus, toServerError } from '../status';
import { admitChannel, isFinal, type OpenStream, type SessionRecord } from '../state';
import { bidi } from './handlers';
import { vehicleBusOf } from './vehicle-services';

/** Largest ISO-TP message (12-bit first-frame length on classic CAN). */
export const MAX_ISOTP_BYTES = 4095;
/** How often the J-Rex sends tester-present on channels with keep-alive enabled. */
export const TESTER_PRESENT_INTERVAL_MS = 2000;
const TESTER_PRESENT_NO_RESPONSE = Buffer.from([0x3e, 0x80]);

function keyOf(c: IsotpChannelMessage): string {
  return `${c.bus_name}|${c.request_id}|${c.response_id}|${c.extended_request_address ?? ''}|${c.extended_response_address ?? ''}`;
}

function isotpBus(session: SessionRecord, busName: string): BusConfigurationMessage {
  const bus = session.buses.get(busName);
  if (!bus) throw new SimStatus(GrpcStatus.FAILED_PRECONDITION, `Bus '${busName}' is not configured; call configureBus first`);
  if (!bus.can_bus || bus.can_bus.can_protocol !== 'CAN_PROTOCOL_ISOTP') {
    throw new SimStatus(GrpcStatus.FAILED_PRECONDITION, `Bus '${busName}' is not a CAN bus with the ISO-TP protocol`);
  }
  return bus;
}

/**
 * `openOBD.v1.can/openIsotpStream`: one bidirectional stream carrying any number of channels. A channel
 * acts like the J-Rex's receive filter: an ECU's answer (a CAN id) reaches every channel of the stream
 * that listens on that response id, on the same bus. Payloads are hex strings both ways; the simulator
 * answers in upper case, as the official client expects.
 */
export function canService(sim: OpenObdSimulator): grpc.UntypedServiceImplementation {
  return {
    openIsotpStream: bidi(sim, 'can', 'openIsotpStream', (call) => {
      const session = sim.activeSession(call.metadata);
      // Headers now: the client knows the stream is taken (and what it wrote arrived) before any answer.
      call.sendMetadata(new grpc.Metadata());
      const connector = sim.connectors.get(session.connectorId);
      if (!connector) throw new SimStatus(GrpcStatus.INTERNAL, 'Connector vanished');
      const channels = new Map<string, IsotpChannelMessage>();
      const timers = new Set<NodeJS.Timeout>();
      let testerPresent: NodeJS.Timeout | undefined;
      const stream: OpenStream = {
        kind: 'isotp',
        call,
        channels,
        dispose: () => {
          for (const t of timers) clearTimeout(t);
          timers.clear();
          if (testerPresent) clearInterval(testerPresent);
        },
        finalMessage: () => {
          for (const c of channels.values()) call.write({ channel: c, payload: '' } satisfies IsotpMessageMessage);
        },
      };
      sim.trackStream(session, stream);

      const deliver = (busName: string, responseId: number, payload: Buffer) => {
        if (isFinal(session.state)) return;
        const hex = payload.toString('hex').toUpperCase();
        for (const c of channels.values()) {
          if (c.bus_name === busName && c.response_id === responseId)
            call.write({ channel: c, payload: hex } satisfies IsotpMessageMessage);
        }
      };

      const startTesterPresent = () => {
        if (testerPresent) return;
        testerPresent = setInterval(() => {
          for (const c of channels.values()) {
            if (c.keep_alive === 'KEEP_ALIVE_ENABLED') connector.vehicle.handleRequest(c.request_id, TESTER_PRESENT_NO_RESPONSE);
          }
        }, TESTER_PRESENT_INTERVAL_MS);
        testerPresent.unref();
      };

      const handle = (m: IsotpMessageMessage) => {
        if (isFinal(session.state))
          throw new SimStatus(GrpcStatus.FAILED_PRECONDITION, `Session ${session.id} has ended (${session.state})`);
        const channel = m.channel;
        if (!channel || !channel.bus_name)
          throw new SimStatus(GrpcStatus.INVALID_ARGUMENT, 'Every ISO-TP message needs a channel with a bus_name');
        const bus = isotpBus(session, channel.bus_name);
        const key = keyOf(channel);
        if (admitChannel(session, stream, key, channel) && channel.keep_alive === 'KEEP_ALIVE_ENABLED') startTesterPresent();
        const text = m.payload ?? '';
        if (text === '') return; // announcing the channel (and listening on it)
        if (!/^(?:[0-9a-fA-F]{2})+$/.test(text))
          throw new SimStatus(GrpcStatus.INVALID_ARGUMENT, `Payload '${text.slice(0, 40)}' is not an even number of hexadecimal digits`);
        if (text.length / 2 > MAX_ISOTP_BYTES)
          throw new SimStatus(
            GrpcStatus.INVALID_ARGUMENT,
            `Payload of ${text.length / 2} bytes exceeds the ISO-TP maximum of ${MAX_ISOTP_BYTES}`,
          );
        const carBus = vehicleBusOf(bus, connector);
        if (carBus === undefined) return; // wrong pins or bit rate: the car hears nothing
        const rtt = sim.roundTripMs();
        for (const reply of connector.vehicle.handleRequest(channel.request_id, Buffer.from(text, 'hex'), carBus)) {
          if (sim.faults.isWithheld(reply.ecu, reply.responseId)) continue;
          let at = rtt + sim.faults.extraDelay(reply.ecu, reply.responseId);
          for (const frame of reply.frames) {
            at += frame.delayMs;
            if (at <= 0) {
              deliver(channel.bus_name, reply.responseId, frame.payload);
              continue;
            }
            const timer = setTimeout(() => {
              timers.delete(timer);
              deliver(channel.bus_name, reply.responseId, frame.payload);
            }, at);
            timers.add(timer);
          }
        }
      };

      call.on('data', (m: IsotpMessageMessage) => {
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
    }),
    openRawStream: rawStream(sim),
    openTp20Stream: tp20Stream(sim),
  };
}
