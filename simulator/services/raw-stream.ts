import type * as grpc from '@grpc/grpc-js';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { RawChannelMessage, RawFrameMessage } from '../../protocol';
import type { OpenObdSimulator } from '../simulator';
import { SimStatus, toServerError } from '../status';
import { admitChannel, isFinal, type OpenStream } from '../state';
import { bidi } from './handlers';
import { vehicleBusOf } from './vehicle-services';
import { busOrFail } from './vehicle-streams';

/** Classic CAN: at most 8 data bytes (ISO 11898-1). */
export const MAX_FRAME_BYTES = 8;
const MAX_CAN_ID = 0x1fffffff;

/** ISO-TP frames of a payload (ISO 15765-2, normal addressing, classic CAN, padded to 8 bytes with 0xAA as many ECUs do). */
export function isotpFrames(payload: Buffer): Buffer[] {
  const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc(8 - b.length, 0xaa)]);
  if (payload.length <= 7) return [pad(Buffer.concat([Buffer.of(payload.length), payload]))];
  const frames = [Buffer.concat([Buffer.of(0x10 | (payload.length >> 8), payload.length & 0xff), payload.subarray(0, 6)])];
  let sn = 1;
  for (let at = 6; at < payload.length; at += 7, sn = (sn + 1) & 0x0f)
    frames.push(pad(Buffer.concat([Buffer.of(0x20 | sn), payload.subarray(at, at + 7)])));
  return frames;
}

/**
 * `openOBD.v1.can/openRawStream`: raw CAN frames on a bus configured with CAN_PROTOCOL_FRAMES. A channel
 * with a response_id receives frames with that CAN id; one without receives every frame of the bus
 * (the simulator's reading of the optional field). Each frame reaches the stream once, with its CAN id
 * in channel.response_id. The car's broadcast frames run while a channel listens on their bus.
 *
 * A frame sent to an ECU's request id is read as ISO-TP (ISO 15765-2): a single-frame request gets the
 * ECU's answer as frames, its first frame at once and the consecutive frames after the tester's flow
 * control frame. Multi-frame requests from the tester are not simulated.
 */
export function rawStream(sim: OpenObdSimulator): grpc.handleBidiStreamingCall<unknown, unknown> {
  return bidi(sim, 'can', 'openRawStream', (call) => {
    const session = sim.activeSession(call.metadata);
    const connector = sim.connectors.get(session.connectorId);
    if (!connector) throw new SimStatus(GrpcStatus.INTERNAL, 'Connector vanished');
    const vehicle = connector.vehicle;
    const channels = new Map<string, RawChannelMessage>();
    const timers = new Set<NodeJS.Timeout>();
    const broadcasts = new Map<string, NodeJS.Timeout[]>();
    /** Consecutive frames an ECU holds back until the tester's flow control, by the ECU's request id. */
    const waitingForFlowControl = new Map<number, { responseId: number; bus: string; busName: string; frames: Buffer[] }>();
    const stream: OpenStream = {
      kind: 'raw',
      call,
      channels,
      dispose: () => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        for (const list of broadcasts.values()) for (const t of list) clearInterval(t);
        broadcasts.clear();
      },
      finalMessage: () => {
        for (const c of channels.values()) call.write({ channel: c } satisfies RawFrameMessage);
      },
    };
    sim.trackStream(session, stream);

    const deliver = (busName: string, id: number, data: Buffer) => {
      if (isFinal(session.state)) return;
      for (const c of channels.values()) {
        if (c.bus_name === busName && (c.response_id === undefined || c.response_id === id)) {
          call.write({
            channel: { bus_name: busName, response_id: id },
            payload: data.toString('hex').toUpperCase(),
          } satisfies RawFrameMessage);
          return;
        }
      }
    };
    const later = (ms: number, fn: () => void) => {
      const t = setTimeout(() => {
        timers.delete(t);
        fn();
      }, ms);
      timers.add(t);
    };

    const startBroadcasts = (busName: string, carBus: string) => {
      if (broadcasts.has(busName)) return;
      const list: NodeJS.Timeout[] = [];
      for (const f of vehicle.broadcastFrames) {
        if (f.bus !== carBus) continue;
        const data = Buffer.from(f.data);
        let counter = 0;
        const t = setInterval(() => {
          if (!vehicle.ignitionOn) return;
          if (f.counterByte !== null) {
            data[f.counterByte] = (data[f.counterByte]! & 0xf0) | counter;
            counter = (counter + 1) & 0x0f;
          }
          deliver(busName, f.id, data);
        }, f.intervalMs);
        t.unref();
        list.push(t);
      }
      broadcasts.set(busName, list);
    };

    const handle = (m: RawFrameMessage) => {
      if (isFinal(session.state)) throw new SimStatus(GrpcStatus.FAILED_PRECONDITION, `Session ${session.id} has ended (${session.state})`);
      const c = m.channel;
      if (!c || !c.bus_name) throw new SimStatus(GrpcStatus.INVALID_ARGUMENT, 'Every raw frame needs a channel with a bus_name');
      const bus = busOrFail(session, c.bus_name);
      if (!bus.can_bus || bus.can_bus.can_protocol !== 'CAN_PROTOCOL_FRAMES')
        throw new SimStatus(GrpcStatus.FAILED_PRECONDITION, `Bus '${c.bus_name}' is not a CAN bus with the frames protocol`);
      for (const id of [c.request_id, c.response_id])
        if (id !== undefined && !(Number.isInteger(id) && id >= 0 && id <= MAX_CAN_ID))
          throw new SimStatus(GrpcStatus.INVALID_ARGUMENT, `CAN id ${String(id)} is out of range`);
      const key = `${c.bus_name}|${c.request_id ?? ''}|${c.response_id ?? ''}`;
      admitChannel(session, stream, key, c);
      const carBus = vehicleBusOf(bus, connector);
      if (carBus !== undefined) startBroadcasts(c.bus_name, carBus);
      const text = m.payload;
      if (text === undefined || text === '') return;
      if (!/^(?:[0-9a-fA-F]{2})+$/.test(text))
        throw new SimStatus(GrpcStatus.INVALID_ARGUMENT, `Payload '${text.slice(0, 40)}' is not an even number of hexadecimal digits`);
      if (text.length / 2 > MAX_FRAME_BYTES)
        throw new SimStatus(
          GrpcStatus.INVALID_ARGUMENT,
          `A CAN frame carries at most ${MAX_FRAME_BYTES} data bytes, got ${text.length / 2}`,
        );
      if (c.request_id === undefined)
        throw new SimStatus(GrpcStatus.INVALID_ARGUMENT, 'A frame to send needs channel.request_id (its CAN id)');
      if (carBus === undefined) return; // the wrong pins or bit rate: nobody hears it
      const data = Buffer.from(text, 'hex');
      const pci = data[0]! >> 4;
      const held = waitingForFlowControl.get(c.request_id);
      if (pci === 3 && held) {
        // Flow control from the tester: the ECU sends the rest (block size and STmin taken as 0).
        waitingForFlowControl.delete(c.request_id);
        held.frames.forEach((f, i) => later(1 + i, () => deliver(held.busName, held.responseId, f)));
        return;
      }
      if (pci !== 0) return; // only single-frame requests are answered
      const length = data[0]! & 0x0f;
      if (length === 0 || length > data.length - 1) return;
      const rtt = sim.roundTripMs();
      for (const reply of vehicle.handleRequest(c.request_id, data.subarray(1, 1 + length), carBus)) {
        if (sim.faults.isWithheld(reply.ecu, reply.responseId)) continue;
        let at = rtt + sim.faults.extraDelay(reply.ecu, reply.responseId);
        for (const frame of reply.frames) {
          at += frame.delayMs;
          const [first, ...rest] = isotpFrames(frame.payload);
          const busName = c.bus_name;
          later(at, () => {
            deliver(busName, reply.responseId, first!);
            if (rest.length > 0)
              waitingForFlowControl.set(c.request_id!, { responseId: reply.responseId, bus: carBus, busName, frames: rest });
          });
        }
      }
    };

    call.on('data', (m: RawFrameMessage) => {
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
