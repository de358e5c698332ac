import { OpenObdError } from '../errors';
import { TRANSPORT_FIELDS, checkKeyBytes } from '../input-rules';
import type { UdsTarget } from '../uds-request';
import { busConfiguration, type KlineEcuSpec } from '../vehicle-spec';
import { hexByte, type KlineChannelMessage } from '../../protocol';
import { transportModule } from './module';
import { address, explain, hex, type SettingsOfTransport } from './settings';
import type { ChannelKind } from './stream-link';

/** An ISO 14230-2 message carries at most 255 data bytes (with the separate length byte). */
export const KLINE_MAX_PAYLOAD = 255;

/** K-Line channels are told apart by bus and ECU address (the key bytes are a check, not an address). */
export const KLINE_CHANNEL: ChannelKind<KlineChannelMessage> = {
  operation: 'kline.openKlineStream',
  describe: (c) => `K-Line ${hexByte(c.ecu_id)} on ${c.bus_name}`,
  key: (c) => `${c.bus_name}|${c.ecu_id}`,
  responseId: (c) => c.ecu_id,
};

function byte(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xff)
    throw new OpenObdError('BAD_CONFIG', `${what} must be one byte (0 to FF hex), got ${String(value)}`);
  return value;
}

/** The channel of a K-Line ECU (ISO 14230): the bus, the ECU's address and, optionally, its key bytes. */
export function klineTarget(spec: KlineEcuSpec): UdsTarget<KlineChannelMessage> {
  const bus = busConfiguration(spec.bus).bus_name;
  const ecuId = byte(spec.ecuId, 'The K-Line ECU address');
  const channel: KlineChannelMessage = { bus_name: bus, ecu_id: ecuId };
  if (spec.keyBytes !== undefined) {
    if (!Array.isArray(spec.keyBytes) || spec.keyBytes.length !== 2)
      throw new OpenObdError('BAD_CONFIG', 'K-Line key bytes are two bytes (KB1 KB2, ISO 14230-2), e.g. EF 8F');
    channel.keyword = { key_byte_1: byte(spec.keyBytes[0], 'Key byte 1'), key_byte_2: byte(spec.keyBytes[1], 'Key byte 2') };
  }
  Object.freeze(channel);
  return {
    send: channel,
    listen: [channel],
    functional: false,
    requestId: ecuId,
    label: `K-Line ECU ${hexByte(ecuId)} on ${bus}`,
    addressing: 'address, initialisation and baud rate',
    protocol: spec.protocol === 'uds' ? 'uds' : 'kwp2000',
  };
}

/** The ECU node's settings of this transport <-> its spec. */
const KLINE_SETTINGS: SettingsOfTransport<KlineEcuSpec> = {
  toSpec(settings, name, protocol) {
    const keys = checkKeyBytes(settings.keyBytes);
    if (!keys.ok) throw new OpenObdError('BAD_CONFIG', explain('Key bytes', keys.problem));
    return {
      transport: 'kline',
      ...(protocol ? { protocol } : {}),
      bus: {
        kind: 'kline',
        name,
        pin: Number(settings.klinePin ?? 7) || 7,
        init: settings.klineInit === 'slow' ? 'slow' : 'fast',
        baud: Number(settings.klineBaud ?? 10400) || 10400,
      },
      ecuId: address(settings.klineAddress, 1, 'K-Line address'),
      ...(keys.value ? { keyBytes: keys.value } : {}),
    };
  },
  toSettings: (spec) => ({
    transport: 'kline',
    busName: spec.bus.name,
    klinePin: spec.bus.pin ?? 7,
    klineInit: spec.bus.init ?? 'fast',
    klineBaud: spec.bus.baud ?? 10400,
    klineAddress: hex(spec.ecuId, 2),
  }),
};

/** KWP2000 (or UDS) over the K-Line (ISO 14230). */
export const KLINE = transportModule<KlineEcuSpec, KlineChannelMessage>({
  id: 'kline',
  name: 'K-Line',
  idText: hexByte,
  channel: KLINE_CHANNEL,
  service: 'kline',
  method: 'openKlineStream',
  maxPayload: KLINE_MAX_PAYLOAD,
  ecuFields: ['protocol', 'ecuId', 'keyBytes'] satisfies ReadonlyArray<keyof KlineEcuSpec>,
  busFields: ['kind', 'name', 'pin', 'init', 'baud'] satisfies ReadonlyArray<keyof KlineEcuSpec['bus']>,
  prepare: (spec) => ({ target: klineTarget(spec), bus: busConfiguration(spec.bus) }),
  settings: KLINE_SETTINGS,
  fields: TRANSPORT_FIELDS.kline!,
  queueKey: (t) => `kline|${t.send.bus_name}|${t.send.ecu_id}`,
});
