import { OpenObdError } from './errors';
import { CAN_BIT_RATES_KBPS } from './input-rules';
import type { UdsTarget } from './uds-request';
import {
  DOIP_OPTION_PINS,
  type BusConfigurationMessage,
  type CanBitRateName,
  type IsotpChannelMessage,
  type KlineBitRateName,
  type PaddingName,
} from '../protocol';

/** A CAN bus on the vehicle's connector, in the terms a flow author knows. */
export interface CanBusSpec {
  /** Absent or 'can'. */
  kind?: 'can';
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

/** A K-Line on the connector (ISO 14230, KWP2000). */
export interface KlineBusSpec {
  kind: 'kline';
  name: string;
  /** The K-Line pin (default 7, ISO 15031-3). */
  pin?: number;
  /** ISO 14230-2 initialisation: 'fast' (wake-up pattern, the default) or 'slow' (5-baud address). */
  init?: 'fast' | 'slow';
  /** 9600, 10400 (default) or 15625 baud. */
  baud?: number;
}

/** Diagnostics over IP on the connector's Ethernet pins (ISO 13400). */
export interface DoipBusSpec {
  kind: 'doip';
  name: string;
  /** Ethernet pin assignment option of ISO 13400-4: 1 (pins 3, 11, 12, 13; default) or 2 (pins 1, 9, 12, 13); pin 8 activates. */
  option?: 1 | 2;
  /** openOBD's DoIP network configuration 1 to 9 (default 1). */
  networkConfiguration?: number;
}

/** Terminal 15 (ignition) sensed on a connector pin. */
export interface Terminal15BusSpec {
  kind: 'terminal15';
  name: string;
  /** Default 1 (many manufacturers put terminal 15 on pin 1). */
  pin?: number;
}

export type BusSpec = CanBusSpec | KlineBusSpec | DoipBusSpec | Terminal15BusSpec;

export type PaddingMode = 'enabled' | 'disabled' | 'detection' | 'from-ecu' | 'towards-ecu';

/** The diagnostic protocol an ECU speaks: UDS (ISO 14229-1) or KWP2000 (ISO 14230-3). */
export type DiagnosticProtocol = 'uds' | 'kwp2000';

/** The transports openOBD offers for diagnostic requests. */
export type Transport = 'isotp' | 'tp20' | 'kline' | 'doip';

/** How to reach one ECU over ISO-TP on CAN (or, with `functional`, every ECU that listens to a functional id). */
export interface IsotpEcuSpec {
  /** Absent or 'isotp'. */
  transport?: 'isotp';
  /** Default 'uds'. */
  protocol?: DiagnosticProtocol;
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

/** An ECU on the K-Line, by its address. */
export interface KlineEcuSpec {
  transport: 'kline';
  /** Default 'kwp2000'. */
  protocol?: DiagnosticProtocol;
  bus: KlineBusSpec;
  /** The ECU's K-Line address (0 to FF). */
  ecuId: number;
  /** Key bytes the ECU answers the initialisation with (ISO 14230-2), when openOBD should check them. */
  keyBytes?: readonly [number, number];
}

/** An ECU behind VW's TP 2.0 on CAN, by its logical address. */
export interface Tp20EcuSpec {
  transport: 'tp20';
  /** Default 'kwp2000'. */
  protocol?: DiagnosticProtocol;
  /** A CAN bus; its protocol is TP 2.0 whatever `protocol` says (leave it out). */
  bus: CanBusSpec;
  /** The ECU's logical address (0 to FF, e.g. 01 engine). */
  logicalAddress: number;
}

/** An ECU reached over DoIP: the gateway (DoIP entity), the tester's and the ECU's logical addresses. */
export interface DoipEcuSpec {
  transport: 'doip';
  /** Default 'uds'. */
  protocol?: DiagnosticProtocol;
  bus: DoipBusSpec;
  gatewayId: number;
  testerId: number;
  ecuId: number;
}

/** How to reach one ECU, over any transport openOBD offers. */
export type EcuSpec = IsotpEcuSpec | KlineEcuSpec | Tp20EcuSpec | DoipEcuSpec;

export const OBD_RESPONDER_IDS: readonly number[] = [0x7e8, 0x7e9, 0x7ea, 0x7eb, 0x7ec, 0x7ed, 0x7ee, 0x7ef];

// '83.3' -> CAN_BIT_RATE_83_3: openOBD names each rate after its kbit/s.
const BIT_RATES: Record<string, CanBitRateName> = Object.fromEntries(
  CAN_BIT_RATES_KBPS.map((kbps) => [kbps, `CAN_BIT_RATE_${kbps.replace('.', '_')}` as CanBitRateName]),
);

export const SUPPORTED_BIT_RATES_KBPS: readonly number[] = Object.keys(BIT_RATES).map(Number);

const PADDING: Record<PaddingMode, PaddingName> = {
  enabled: 'PADDING_ENABLED',
  disabled: 'PADDING_DISABLED',
  detection: 'PADDING_DETECTION',
  'from-ecu': 'PADDING_SET_FROM_ECU',
  'towards-ecu': 'PADDING_SET_TOWARDS_ECU',
};

export function checkPin(pin: number, what: string): number {
  if (!Number.isInteger(pin) || pin < 1 || pin > 16)
    throw new OpenObdError('BAD_CONFIG', `${what} must be an OBD connector pin from 1 to 16, got ${String(pin)}`);
  return pin;
}

export function checkCanIdNumber(id: number, what: string): number {
  if (!Number.isInteger(id) || id < 0 || id > 0x1fffffff)
    throw new OpenObdError('BAD_CONFIG', `${what} must be a CAN id (0 to 1FFFFFFF hex), got ${String(id)}`);
  return id;
}

const KLINE_BIT_RATES: Record<string, KlineBitRateName> = {
  '9600': 'KLINE_BIT_RATE_9600',
  '10400': 'KLINE_BIT_RATE_10400',
  '15625': 'KLINE_BIT_RATE_15625',
};

export const SUPPORTED_KLINE_BAUD: readonly number[] = Object.keys(KLINE_BIT_RATES).map(Number);

function busName(bus: { name?: unknown }, what: string): string {
  if (!bus || typeof bus.name !== 'string' || !bus.name.trim()) throw new OpenObdError('BAD_CONFIG', `A ${what} needs a name`);
  return bus.name.trim();
}

/** The BusConfiguration message of any bus spec; a mistake is a BAD_CONFIG naming the field. */
export function busConfiguration(bus: BusSpec): BusConfigurationMessage {
  const kind = (bus as { kind?: unknown } | undefined)?.kind;
  if (kind === undefined || kind === 'can') return canBusConfiguration(bus as CanBusSpec);
  if (kind === 'kline') {
    const b = bus as KlineBusSpec;
    const name = busName(b, 'K-Line bus');
    const rate = KLINE_BIT_RATES[String(b.baud ?? 10400)];
    if (!rate)
      throw new OpenObdError(
        'BAD_CONFIG',
        `Unsupported K-Line baud rate ${String(b.baud)}; openOBD supports ${SUPPORTED_KLINE_BAUD.join(', ')} (ISO 14230)`,
      );
    const init = b.init ?? 'fast';
    if (init !== 'fast' && init !== 'slow')
      throw new OpenObdError('BAD_CONFIG', `Unknown K-Line initialisation '${String(init)}'; use 'fast' or 'slow' (ISO 14230-2)`);
    return {
      bus_name: name,
      kline_bus: {
        pin: checkPin(b.pin ?? 7, 'K-Line pin'),
        kline_protocol: init === 'slow' ? 'KLINE_PROTOCOL_ISO14230_SLOW' : 'KLINE_PROTOCOL_ISO14230_FAST',
        kline_bit_rate: rate,
      },
    };
  }
  if (kind === 'doip') {
    const b = bus as DoipBusSpec;
    const name = busName(b, 'DoIP bus');
    const option = b.option ?? 1;
    if (!(option in DOIP_OPTION_PINS))
      throw new OpenObdError(
        'BAD_CONFIG',
        `DoIP option must be 1 or 2 (the Ethernet pin assignments of ISO 13400-4), got ${String(option)}`,
      );
    const config = b.networkConfiguration ?? 1;
    if (!Number.isInteger(config) || config < 1 || config > 9)
      throw new OpenObdError('BAD_CONFIG', `DoIP network configuration must be 1 to 9, got ${String(config)}`);
    return {
      bus_name: name,
      doip_bus: {
        doip_option: option === 2 ? 'DOIP_OPTION_2' : 'DOIP_OPTION_1',
        doip_network_configuration: `DOIP_NETWORK_CONFIGURATION_${config}`,
      },
    };
  }
  if (kind === 'terminal15') {
    const b = bus as Terminal15BusSpec;
    return { bus_name: busName(b, 'terminal 15 bus'), terminal15_bus: { pin: checkPin(b.pin ?? 1, 'Terminal 15 pin') } };
  }
  throw new OpenObdError('BAD_CONFIG', `Unknown bus kind '${String(kind)}'; use can, kline, doip or terminal15`);
}

function canBusConfiguration(bus: CanBusSpec): BusConfigurationMessage {
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

function channel(spec: IsotpEcuSpec, busName: string, requestId: number, responseId: number): IsotpChannelMessage {
  const c: IsotpChannelMessage = { bus_name: busName, request_id: requestId, response_id: responseId };
  if (spec.extendedRequestAddress !== undefined) c.extended_request_address = spec.extendedRequestAddress;
  if (spec.extendedResponseAddress !== undefined) c.extended_response_address = spec.extendedResponseAddress;
  if (spec.padding) c.padding = PADDING[spec.padding];
  if (spec.keepAlive !== undefined) c.keep_alive = spec.keepAlive ? 'KEEP_ALIVE_ENABLED' : 'KEEP_ALIVE_DISABLED';
  return c;
}

/** The channels a request to `spec` (ISO-TP) is sent on and answered on. */
export function udsTarget(spec: IsotpEcuSpec): UdsTarget {
  const bus = busConfiguration(spec.bus).bus_name;
  const requestId = checkCanIdNumber(spec.requestId, 'Request id');
  const responseId = checkCanIdNumber(spec.responseId, 'Response id');
  if (spec.padding && !PADDING[spec.padding]) throw new OpenObdError('BAD_CONFIG', `Unknown padding mode '${String(spec.padding)}'`);
  if (!spec.functional) {
    const c = channel(spec, bus, requestId, responseId);
    return { send: c, listen: [c], functional: false, requestId, protocol: spec.protocol === 'kwp2000' ? 'kwp2000' : undefined };
  }
  const responders = spec.responderIds?.length ? spec.responderIds : OBD_RESPONDER_IDS;
  const ids = [responseId, ...responders.filter((id) => id !== responseId)].map((id) => checkCanIdNumber(id, 'Responder id'));
  const listen = ids.map((id) => channel(spec, bus, requestId, id));
  return { send: listen[0], listen, functional: true, requestId: 0, protocol: spec.protocol === 'kwp2000' ? 'kwp2000' : undefined };
}

/** What an ECU spec speaks: its `protocol`, else UDS on ISO-TP and DoIP and KWP2000 on K-Line and TP 2.0. */
export function diagnosticProtocolOf(spec: EcuSpec): DiagnosticProtocol {
  if (spec.protocol) return spec.protocol;
  return spec.transport === 'kline' || spec.transport === 'tp20' ? 'kwp2000' : 'uds';
}
