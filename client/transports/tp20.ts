import { OpenObdError } from '../errors';
import type { UdsTarget } from '../uds-request';
import { busConfiguration, type CanBusSpec, type Tp20EcuSpec } from '../vehicle-spec';
import { hexByte, type BusConfigurationMessage, type Tp20ChannelMessage } from '../../protocol';
import { ISOTP_MAX_PAYLOAD, TRANSPORT_FIELDS } from '../input-rules';
import { transportModule } from './module';
import { address, canBus, canBusSettings, hex, type SettingsOfTransport } from './settings';
import type { ChannelKind } from './stream-link';

export const TP20_CHANNEL: ChannelKind<Tp20ChannelMessage> = {
  operation: 'can.openTp20Stream',
  describe: (c) => `TP 2.0 ${hexByte(c.logical_address)} on ${c.bus_name}`,
  key: (c) => `${c.bus_name}|${c.logical_address}`,
  responseId: (c) => c.logical_address,
};

/** The CAN bus of a TP 2.0 ECU: the spec's pins and bit rate, with the TP 2.0 protocol. */
export function tp20Bus(bus: CanBusSpec): BusConfigurationMessage {
  if (bus && bus.protocol !== undefined && bus.protocol !== 'tp20')
    throw new OpenObdError(
      'BAD_CONFIG',
      `A TP 2.0 ECU needs a CAN bus with the TP 2.0 protocol; bus '${String(bus.name)}' says '${String(bus.protocol)}'`,
    );
  return busConfiguration({ ...bus, protocol: 'tp20' });
}

/**
 * The channel of an ECU behind VW's TP 2.0: openOBD sets up the TP 2.0 channel, acknowledges and
 * segments on its side, so the client names only the bus and the ECU's logical address.
 */
export function tp20Target(spec: Tp20EcuSpec): UdsTarget<Tp20ChannelMessage> {
  const bus = tp20Bus(spec.bus).bus_name;
  const address = spec.logicalAddress;
  if (typeof address !== 'number' || !Number.isInteger(address) || address < 0 || address > 0xff)
    throw new OpenObdError('BAD_CONFIG', `The TP 2.0 logical address must be one byte (0 to FF hex), got ${String(address)}`);
  const channel: Tp20ChannelMessage = Object.freeze({ bus_name: bus, logical_address: address });
  return {
    send: channel,
    listen: [channel],
    functional: false,
    requestId: address,
    label: `TP 2.0 ECU ${hexByte(address)} on ${bus}`,
    addressing: 'logical address',
    protocol: spec.protocol === 'uds' ? 'uds' : 'kwp2000',
  };
}

/** The ECU node's settings of this transport <-> its spec. */
const TP20_SETTINGS: SettingsOfTransport<Tp20EcuSpec> = {
  toSpec: (settings, name, protocol) => ({
    transport: 'tp20',
    ...(protocol ? { protocol } : {}),
    bus: canBus(settings, name),
    logicalAddress: address(settings.logicalAddress, 1, 'TP 2.0 logical address'),
  }),
  toSettings: (spec) => ({
    transport: 'tp20',
    ...canBusSettings(spec.bus),
    logicalAddress: hex(spec.logicalAddress, 2),
  }),
};

/** VW's TP 2.0 on CAN; taken to carry what ISO-TP does. */
export const TP20 = transportModule<Tp20EcuSpec, Tp20ChannelMessage>({
  id: 'tp20',
  name: 'TP 2.0',
  idText: hexByte,
  channel: TP20_CHANNEL,
  service: 'can',
  method: 'openTp20Stream',
  maxPayload: ISOTP_MAX_PAYLOAD,
  ecuFields: ['protocol', 'logicalAddress'] satisfies ReadonlyArray<keyof Tp20EcuSpec>,
  busFields: ['kind', 'name', 'pinPlus', 'pinMinus', 'bitRateKbps', 'protocol', 'transceiver'] satisfies ReadonlyArray<
    keyof Tp20EcuSpec['bus']
  >,
  prepare: (spec) => ({ target: tp20Target(spec), bus: tp20Bus(spec.bus) }),
  settings: TP20_SETTINGS,
  fields: TRANSPORT_FIELDS.tp20!,
  queueKey: (t) => `tp20|${t.send.bus_name}|${t.send.logical_address}`,
});
