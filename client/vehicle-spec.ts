import { OpenObdError } from './errors';
import type { UdsTarget } from './uds-request';
import type { BusConfigurationMessage, CanBitRateName, IsotpChannelMessage, PaddingName } from '../protocol';

/** A CAN bus on the vehicle's connector, in the terms a flow author knows. */
export interface CanBusSpec {
  /** The name channels refer to; also how buses are told apart when the session keeps several. */
  name: string;
  /** CAN high pin of the OBD connector (default 6). */
  pinPlus?: number;
  /** CAN low pin (default 14). */
  pinMinus?: number;
  /** Bit rate in kbit/s (default 500). */
  bitRateKbps?: number;
  /** Default 'isotp': the openOBD side does segmentation and flow control. */
  protocol?: 'isotp' | 'tp20' | 'frames';
  /** Unset lets openOBD pick (high speed above 50 kbit/s). */
  transceiver?: 'high' | 'low';
}

export type PaddingMode = 'enabled' | 'disabled' | 'detection' | 'from-ecu' | 'towards-ecu';

/** How to reach one ECU (or, with `functional`, every ECU that listens to a functional id). */
export interface EcuSpec {
  bus: CanBusSpec;
  /** CAN id requests are sent to (e.g. 0x7E0, or 0x7DF for functional OBD requests). */
  requestId: number;
  /** CAN id the ECU answers on (e.g. 0x7E8). For a functional target: the first responder. */
  responseId: number;
  extendedRequestAddress?: number;
  extendedResponseAddress?: number;
  padding?: PaddingMode;
  /** Ask openOBD to keep the ECU's diagnostic session alive with tester-present (channel flag). */
  keepAlive?: boolean;
  /** The request id is functional: collect the answers of every responder. */
  functional?: boolean;
  /** Response ids to listen on for a functional request (default 0x7E8-0x7EF, the OBD-II range). */
  responderIds?: number[];
}

export const OBD_RESPONDER_IDS: readonly number[] = [0x7e8, 0x7e9, 0x7ea, 0x7eb, 0x7ec, 0x7ed, 0x7ee, 0x7ef];

const BIT_RATES: Record<string, CanBitRateName> = {
  '1000': 'CAN_BIT_RATE_1000',
  '500': 'CAN_BIT_RATE_500',
  '250': 'CAN_BIT_RATE_250',
  '125': 'CAN_BIT_RATE_125',
  '100': 'CAN_BIT_RATE_100',
  '94': 'CAN_BIT_RATE_94',
  '83.3': 'CAN_BIT_RATE_83_3',
  '50': 'CAN_BIT_RATE_50',
  '33.3': 'CAN_BIT_RATE_33_3',
  '20': 'CAN_BIT_RATE_20',
  '10': 'CAN_BIT_RATE_10',
  '5': 'CAN_BIT_RATE_5',
};

export const SUPPORTED_BIT_RATES_KBPS: readonly number[] = Object.keys(BIT_RATES).map(Number);

const PADDING: Record<PaddingMode, PaddingName> = {
  enabled: 'PADDING_ENABLED',
  disabled: 'PADDING_DISABLED',
  detection: 'PADDING_DETECTION',
  'from-ecu': 'PADDING_SET_FROM_ECU',
  'towards-ecu': 'PADDING_SET_TOWARDS_ECU',
};

function checkPin(pin: number, what: string): number {
  if (!Number.isInteger(pin) || pin < 1 || pin > 16)
    throw new OpenObdError('BAD_CONFIG', `${what} must be an OBD connector pin from 1 to 16, got ${String(pin)}`);
  return pin;
}

function checkCanId(id: number, what: string): number {
  if (!Number.isInteger(id) || id < 0 || id > 0x1fffffff)
    throw new OpenObdError('BAD_CONFIG', `${what} must be a CAN id (0 to 1FFFFFFF hex), got ${String(id)}`);
  return id;
}

export function busConfiguration(bus: CanBusSpec): BusConfigurationMessage {
  if (!bus || typeof bus.name !== 'string' || !bus.name.trim()) throw new OpenObdError('BAD_CONFIG', 'A CAN bus needs a name');
  const pinPlus = checkPin(bus.pinPlus ?? 6, 'CAN high pin');
  const pinMinus = checkPin(bus.pinMinus ?? 14, 'CAN low pin');
  if (pinPlus === pinMinus) throw new OpenObdError('BAD_CONFIG', `CAN high and low cannot both be pin ${pinPlus}`);
  const rate = BIT_RATES[String(bus.bitRateKbps ?? 500)];
  if (!rate)
    throw new OpenObdError(
      'BAD_CONFIG',
      `Unsupported CAN bit rate ${String(bus.bitRateKbps)} kbit/s; openOBD supports ${SUPPORTED_BIT_RATES_KBPS.join(', ')}`,
    );
  const protocol = bus.protocol ?? 'isotp';
  const message: BusConfigurationMessage = {
    bus_name: bus.name.trim(),
    can_bus: {
      pin_plus: pinPlus,
      pin_min: pinMinus,
      can_protocol: protocol === 'isotp' ? 'CAN_PROTOCOL_ISOTP' : protocol === 'tp20' ? 'CAN_PROTOCOL_TP20' : 'CAN_PROTOCOL_FRAMES',
      can_bit_rate: rate,
    },
  };
  if (bus.transceiver && message.can_bus)
    message.can_bus.transceiver = bus.transceiver === 'low' ? 'TRANSCEIVER_SPEED_LOW' : 'TRANSCEIVER_SPEED_HIGH';
  return message;
}

/** Equality of two bus definitions as openOBD sees them. */
export function sameBus(a: BusConfigurationMessage, b: BusConfigurationMessage): boolean {
  // Checked on every request: field by field for CAN buses (what busConfiguration makes), JSON otherwise.
  const x = a.can_bus;
  const y = b.can_bus;
  const onlyCan = (m: BusConfigurationMessage) => m.kline_bus == null && m.terminal15_bus == null && m.doip_bus == null;
  if (x && y && onlyCan(a) && onlyCan(b)) {
    return (
      a.bus_name === b.bus_name &&
      x.pin_plus === y.pin_plus &&
      x.pin_min === y.pin_min &&
      x.can_protocol === y.can_protocol &&
      x.can_bit_rate === y.can_bit_rate &&
      x.transceiver === y.transceiver
    );
  }
  return JSON.stringify(a) === JSON.stringify(b);
}

function channel(spec: EcuSpec, busName: string, requestId: number, responseId: number): IsotpChannelMessage {
  const c: IsotpChannelMessage = { bus_name: busName, request_id: requestId, response_id: responseId };
  if (spec.extendedRequestAddress !== undefined) c.extended_request_address = spec.extendedRequestAddress;
  if (spec.extendedResponseAddress !== undefined) c.extended_response_address = spec.extendedResponseAddress;
  if (spec.padding) c.padding = PADDING[spec.padding];
  if (spec.keepAlive !== undefined) c.keep_alive = spec.keepAlive ? 'KEEP_ALIVE_ENABLED' : 'KEEP_ALIVE_DISABLED';
  return c;
}

/** The channels a request to `spec` is sent on and answered on. */
export function udsTarget(spec: EcuSpec): UdsTarget {
  const bus = busConfiguration(spec.bus).bus_name;
  const requestId = checkCanId(spec.requestId, 'Request id');
  const responseId = checkCanId(spec.responseId, 'Response id');
  if (spec.padding && !PADDING[spec.padding]) throw new OpenObdError('BAD_CONFIG', `Unknown padding mode '${String(spec.padding)}'`);
  if (!spec.functional) {
    const c = channel(spec, bus, requestId, responseId);
    return { send: c, listen: [c], functional: false };
  }
  const responders = spec.responderIds?.length ? spec.responderIds : OBD_RESPONDER_IDS;
  const ids = [responseId, ...responders.filter((id) => id !== responseId)].map((id) => checkCanId(id, 'Responder id'));
  const listen = ids.map((id) => channel(spec, bus, requestId, id));
  return { send: listen[0], listen, functional: true };
}
