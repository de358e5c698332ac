import type { Node, NodeAPI } from 'node-red';
import {
  OBD_RESPONDER_IDS,
  diagnosticProtocolOf,
  checkAddress,
  checkCanId,
  checkKeyBytes,
  checkResponderIds,
  TRANSPORT_FIELDS,
  type CanBusSpec,
  type DiagnosticProtocol,
  type DoipEcuSpec,
  type EcuSpec,
  type IsotpEcuSpec,
  type KlineEcuSpec,
  type Tp20EcuSpec,
  type PaddingMode,
  type Problem,
  type Transport,
} from '../../client';
import { FlowError } from './flow';

/** The settings of an "ECU" config node, also accepted in msg.openobd.ecu. */
export interface EcuSettings {
  name?: string;
  /** 'isotp' (default), 'tp20', 'kline' or 'doip'. */
  transport?: string;
  /** 'auto' (default: UDS on ISO-TP and DoIP, KWP2000 on K-Line and TP 2.0), 'uds' or 'kwp2000'. */
  protocol?: string;
  busName?: string;
  pinPlus?: string | number;
  pinMinus?: string | number;
  bitRate?: string | number;
  requestId?: string;
  responseId?: string;
  functional?: boolean;
  responderIds?: string;
  padding?: string;
  keepAlive?: boolean;
  /** TP 2.0 */
  logicalAddress?: string;
  /** K-Line */
  klineAddress?: string;
  klinePin?: string | number;
  klineInit?: string;
  klineBaud?: string | number;
  keyBytes?: string;
  /** DoIP */
  doipOption?: string | number;
  doipNetwork?: string | number;
  gatewayId?: string;
  testerId?: string;
  doipEcuId?: string;
}

/** The "ECU" config node as request nodes see it. */
export interface EcuNode extends Node {
  /** The addressing, or the configuration mistake that prevents it. */
  spec?: EcuSpec;
  problem?: string;
  label: string;
  /** How the ECU is reached and what it speaks (for its answers), worked out with the spec. */
  reach?: EcuReach;
}

/** How an ECU is reached and what it speaks; empty for UDS over ISO-TP (answers named by CAN ids, decoded as UDS). */
export interface EcuReach {
  transport?: Transport;
  protocol?: DiagnosticProtocol;
}

const ISOTP_UDS: EcuReach = Object.freeze({});

export function reachOf(spec: EcuSpec): EcuReach {
  const protocol = diagnosticProtocolOf(spec);
  if ((spec.transport === undefined || spec.transport === 'isotp') && protocol === 'uds') return ISOTP_UDS;
  return { transport: spec.transport ?? 'isotp', protocol };
}

const PADDING_MODES: readonly string[] = ['enabled', 'disabled', 'detection', 'from-ecu', 'towards-ecu'];
export const TRANSPORTS: readonly string[] = Object.keys(TRANSPORT_FIELDS);
/** The bus name an ECU node uses when none is given: one per transport, so they never clash by name. */
export const DEFAULT_BUS_NAMES: Readonly<Record<string, string>> = Object.fromEntries(
  TRANSPORTS.map((t) => [t, TRANSPORT_FIELDS[t]!.busName]),
);

/** The runtime's sentence for a broken input rule (the dialogs show their own, translated). */
function explain(what: string, problem: Problem): string {
  const v = problem.values;
  switch (problem.rule) {
    case 'canIdRequired':
      return `${what} is missing: enter a CAN id in hex, e.g. 7E0`;
    case 'canIdRange':
      return `${what} ${v.value} is larger than a 29-bit CAN id`;
    case 'responderRange':
      return `Responder range ${v.range} must go upwards and span at most 32 ids`;
    case 'addressRequired':
      return `${what} is missing: enter it in hex, ${v.min} to ${v.max}`;
    case 'addressRange':
      return `${what} ${v.value} is outside ${v.min} to ${v.max}`;
    case 'address':
      return `${what} '${v.value ?? ''}' is not a hexadecimal address (${v.min} to ${v.max})`;
    case 'keyBytes':
      return `${what} '${v.value ?? ''}' are not two hex bytes such as EF 8F`;
    default:
      return `${what} '${v.value ?? ''}' is not a hexadecimal CAN id`;
  }
}

function canId(text: unknown, what: string): number {
  const r = checkCanId(text);
  if (!r.ok) throw new FlowError('BAD_CONFIG', explain(what, r.problem));
  return r.value;
}

function address(text: unknown, bytes: 1 | 2, what: string): number {
  const r = checkAddress(text, bytes);
  if (!r.ok) throw new FlowError('BAD_CONFIG', explain(what, r.problem));
  return r.value;
}

function protocolOf(settings: EcuSettings): DiagnosticProtocol | undefined {
  const p = settings.protocol;
  if (p === undefined || p === '' || p === 'auto') return undefined;
  if (p === 'uds' || p === 'kwp2000') return p;
  throw new FlowError('BAD_CONFIG', `Unknown diagnostic protocol '${String(p)}'; use auto, uds or kwp2000`);
}

function canBus(settings: EcuSettings, name: string): CanBusSpec {
  return {
    name,
    pinPlus: Number(settings.pinPlus ?? 6) || 6,
    pinMinus: Number(settings.pinMinus ?? 14) || 14,
    bitRateKbps: Number(settings.bitRate ?? 500) || 500,
  };
}

/** How node settings become a spec of one transport and back (the dialog's fields: TRANSPORT_FIELDS, client/input-rules.ts). */
interface SettingsOfTransport<S extends EcuSpec> {
  /** The spec the settings describe; `name` is the bus name (given, or the transport's default). */
  toSpec(settings: EcuSettings, name: string, protocol: DiagnosticProtocol | undefined): S;
  toSettings(spec: S): EcuSettings;
}

const hex = (value: number, digits: number) => value.toString(16).toUpperCase().padStart(digits, '0');

/** The node settings of a CAN bus (ISO-TP and TP 2.0). */
const canBusSettings = (bus: CanBusSpec): EcuSettings => ({
  busName: bus.name,
  pinPlus: bus.pinPlus ?? 6,
  pinMinus: bus.pinMinus ?? 14,
  bitRate: bus.bitRateKbps ?? 500,
});

const ISOTP_SETTINGS: SettingsOfTransport<IsotpEcuSpec> = {
  toSpec(settings, name, protocol) {
    const spec: IsotpEcuSpec = {
      bus: canBus(settings, name),
      requestId: canId(settings.requestId, 'Request id'),
      responseId: canId(settings.responseId, 'Response id'),
      functional: settings.functional === true,
    };
    if (protocol) spec.protocol = protocol;
    if (spec.functional) {
      const r = checkResponderIds(settings.responderIds);
      if (!r.ok) throw new FlowError('BAD_CONFIG', explain('Responder id', r.problem));
      spec.responderIds = r.value.length ? r.value : [...OBD_RESPONDER_IDS];
    }
    if (settings.padding && settings.padding !== 'default') {
      if (!PADDING_MODES.includes(settings.padding)) throw new FlowError('BAD_CONFIG', `Unknown padding mode '${settings.padding}'`);
      spec.padding = settings.padding as PaddingMode;
    }
    if (settings.keepAlive) spec.keepAlive = true;
    return spec;
  },
  toSettings(spec) {
    const id = (v: number) => hex(v, v > 0x7ff ? 8 : 3);
    return {
      transport: 'isotp',
      ...canBusSettings(spec.bus),
      requestId: id(spec.requestId),
      responseId: id(spec.responseId),
    };
  },
};

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

const KLINE_SETTINGS: SettingsOfTransport<KlineEcuSpec> = {
  toSpec(settings, name, protocol) {
    const keys = checkKeyBytes(settings.keyBytes);
    if (!keys.ok) throw new FlowError('BAD_CONFIG', explain('Key bytes', keys.problem));
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

const DOIP_SETTINGS: SettingsOfTransport<DoipEcuSpec> = {
  toSpec(settings, name, protocol) {
    const option = Number(settings.doipOption ?? 1);
    return {
      transport: 'doip',
      ...(protocol ? { protocol } : {}),
      bus: { kind: 'doip', name, option: option === 2 ? 2 : (option as 1), networkConfiguration: Number(settings.doipNetwork ?? 1) },
      gatewayId: address(settings.gatewayId, 2, 'DoIP gateway id'),
      testerId: address(settings.testerId ?? '0E80', 2, 'DoIP tester id'),
      ecuId: address(settings.doipEcuId, 2, 'DoIP ECU id'),
    };
  },
  toSettings: (spec) => ({
    transport: 'doip',
    busName: spec.bus.name,
    doipOption: spec.bus.option ?? 1,
    doipNetwork: spec.bus.networkConfiguration ?? 1,
    gatewayId: hex(spec.gatewayId, 4),
    testerId: hex(spec.testerId, 4),
    doipEcuId: hex(spec.ecuId, 4),
  }),
};

/** Node settings <-> spec, one entry per transport (the transports of client/transports/table.ts). */
const SETTINGS: { readonly [T in Transport]: SettingsOfTransport<T extends 'isotp' ? IsotpEcuSpec : Extract<EcuSpec, { transport: T }>> } =
  {
    isotp: ISOTP_SETTINGS,
    tp20: TP20_SETTINGS,
    kline: KLINE_SETTINGS,
    doip: DOIP_SETTINGS,
  };

function settingsOf(spec: EcuSpec | { transport: string }): SettingsOfTransport<EcuSpec> {
  const t = spec.transport ?? 'isotp';
  return (Object.prototype.hasOwnProperty.call(SETTINGS, t) ? SETTINGS[t as Transport] : ISOTP_SETTINGS) as SettingsOfTransport<EcuSpec>;
}

/** The addressing an ECU node (or msg.openobd.ecu) describes; a mistake is a BAD_CONFIG error naming the field. */
export function ecuSpecFrom(settings: EcuSettings): EcuSpec {
  const transport = settings.transport || 'isotp';
  if (!TRANSPORTS.includes(transport))
    throw new FlowError('BAD_CONFIG', `Unknown transport '${String(transport)}'; use isotp, tp20, kline or doip`);
  const name = (settings.busName || DEFAULT_BUS_NAMES[transport]!).trim();
  return settingsOf({ transport }).toSpec(settings, name, protocolOf(settings));
}

/** The ECU config node behind a request node's `ecu` property, if it is deployed. */
export function ecuNodeOf(RED: NodeAPI, id: string | undefined): EcuNode | undefined {
  if (!id) return undefined;
  return (RED.nodes.getNode(id) as EcuNode | null) ?? undefined;
}

/** A CAN bus from node settings (the frames node's): name, pins and bit rate. */
export function canBusFrom(settings: Pick<EcuSettings, 'busName' | 'pinPlus' | 'pinMinus' | 'bitRate'>, fallbackName: string): CanBusSpec {
  return canBus(settings, (settings.busName || fallbackName).trim());
}

/** The ECU-node settings of a spec (what msg.openobd.ecu takes), e.g. for an ECU the connector detected. */
export function settingsOfSpec(spec: EcuSpec): EcuSettings {
  return settingsOf(spec).toSettings(spec);
}
