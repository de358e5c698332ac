import {
  hexByte,
  hexNumber,
  type CanBusMessage,
  type EcuListMessage,
  type EcuMessage,
  type KlineBusMessage,
  type DoipBusMessage,
} from '../../protocol';
import { canIdText } from '../../protocol';
import type { CanBusSpec, DoipBusSpec, EcuSpec, KlineBusSpec } from '../vehicle-spec';

const RATE_KBPS: Record<string, number> = {
  CAN_BIT_RATE_1000: 1000,
  CAN_BIT_RATE_500: 500,
  CAN_BIT_RATE_250: 250,
  CAN_BIT_RATE_125: 125,
  CAN_BIT_RATE_100: 100,
  CAN_BIT_RATE_94: 94,
  CAN_BIT_RATE_83_3: 83.3,
  CAN_BIT_RATE_50: 50,
  CAN_BIT_RATE_33_3: 33.3,
  CAN_BIT_RATE_20: 20,
  CAN_BIT_RATE_10: 10,
  CAN_BIT_RATE_5: 5,
};

const KLINE_BAUD: Record<string, number> = { KLINE_BIT_RATE_9600: 9600, KLINE_BIT_RATE_10400: 10400, KLINE_BIT_RATE_15625: 15625 };

/** One ECU the connector detected, as plain data and as a spec a request can be sent with. */
export interface DetectedEcu {
  transport: 'isotp' | 'kline' | 'tp20' | 'doip';
  /** How people write its address: "7E0/7E8", "K-Line 01", "TP 2.0 01", "DoIP 1001". */
  address: string;
  spec: EcuSpec;
}

/**
 * Bus names for detected ECUs: the names the ECU node uses by default on the usual pins (OBD-CAN and
 * TP20 on 6/14, K-LINE on 7, DOIP), so a flow that mixes detected ECUs and ECU nodes uses one bus per set
 * of pins; on other pins the pins are in the name (CAN-3-11), so different buses never share a name.
 */
function canSpec(bus: CanBusMessage | null | undefined, protocol: 'isotp' | 'tp20'): CanBusSpec {
  const pinPlus = bus?.pin_plus || 6;
  const pinMinus = bus?.pin_min || 14;
  const usual = pinPlus === 6 && pinMinus === 14;
  const spec: CanBusSpec = {
    name: protocol === 'tp20' ? (usual ? 'TP20' : `TP20-${pinPlus}-${pinMinus}`) : usual ? 'OBD-CAN' : `CAN-${pinPlus}-${pinMinus}`,
    pinPlus,
    pinMinus,
    bitRateKbps: RATE_KBPS[String(bus?.can_bit_rate)] ?? 500,
    protocol,
  };
  if (bus?.transceiver === 'TRANSCEIVER_SPEED_LOW') spec.transceiver = 'low';
  return spec;
}

function klineSpec(bus: KlineBusMessage | null | undefined): KlineBusSpec {
  const pin = bus?.pin || 7;
  return {
    kind: 'kline',
    name: pin === 7 ? 'K-LINE' : `K-LINE-${pin}`,
    pin,
    init: bus?.kline_protocol === 'KLINE_PROTOCOL_ISO14230_SLOW' ? 'slow' : 'fast',
    baud: KLINE_BAUD[String(bus?.kline_bit_rate)] ?? 10400,
  };
}

function doipSpec(bus: DoipBusMessage | null | undefined): DoipBusSpec {
  const option = bus?.doip_option === 'DOIP_OPTION_2' ? 2 : 1;
  const config = /_(\d)$/.exec(String(bus?.doip_network_configuration ?? ''));
  return { kind: 'doip', name: 'DOIP', option, networkConfiguration: config ? Number(config[1]) : 1 };
}

export function detectedEcu(e: EcuMessage): DetectedEcu | undefined {
  if (e.isotp_ecu) {
    const x = e.isotp_ecu;
    const spec: EcuSpec = { bus: canSpec(x.can_bus, 'isotp'), requestId: x.request_id, responseId: x.response_id };
    if (x.extended_request_address !== undefined) spec.extendedRequestAddress = x.extended_request_address;
    if (x.extended_response_address !== undefined) spec.extendedResponseAddress = x.extended_response_address;
    return { transport: 'isotp', address: `${canIdText(x.request_id)}/${canIdText(x.response_id)}`, spec };
  }
  if (e.kline_ecu) {
    const x = e.kline_ecu;
    return {
      transport: 'kline',
      address: `K-Line ${hexByte(x.ecu_id)}`,
      spec: { transport: 'kline', bus: klineSpec(x.kline_bus), ecuId: x.ecu_id },
    };
  }
  if (e.tp20_ecu) {
    const x = e.tp20_ecu;
    return {
      transport: 'tp20',
      address: `TP 2.0 ${hexByte(x.logical_address)}`,
      spec: { transport: 'tp20', bus: { ...canSpec(x.can_bus, 'tp20'), protocol: undefined }, logicalAddress: x.logical_address },
    };
  }
  if (e.doip_ecu) {
    const x = e.doip_ecu;
    return {
      transport: 'doip',
      address: `DoIP ${hexNumber(x.ecu_id, 4)}`,
      spec: { transport: 'doip', bus: doipSpec(x.doip_bus), gatewayId: x.gateway_id, testerId: x.tester_id, ecuId: x.ecu_id },
    };
  }
  return undefined;
}

/** The ECUs of a vehicleInfo.getEcuList answer, in its order; entries of an unknown kind are left out. */
export function detectedEcus(list: EcuListMessage): DetectedEcu[] {
  const out: DetectedEcu[] = [];
  for (const e of list.ecus ?? []) {
    const d = detectedEcu(e);
    if (d) out.push(d);
  }
  return out;
}

/** A short name for an ECU spec, for statuses and errors when it has no name of its own. */
export function ecuAddressText(spec: EcuSpec): string {
  switch (spec.transport) {
    case 'kline':
      return `K-Line ${hexByte(spec.ecuId)}`;
    case 'tp20':
      return `TP 2.0 ${hexByte(spec.logicalAddress)}`;
    case 'doip':
      return `DoIP ${hexNumber(spec.ecuId, 4)}`;
    default:
      return canIdText(spec.requestId);
  }
}
