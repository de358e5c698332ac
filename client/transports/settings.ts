import { OpenObdError } from '../errors';
import { checkAddress, checkCanId, type Problem } from '../input-rules';
import type { CanBusSpec, DiagnosticProtocol, EcuSpec } from '../vehicle-spec';

/*
 * Node settings (what the ECU dialog and msg.openobd.ecu give: text fields) and ECU specs, shared by the
 * transport modules, each of which turns its own settings into its spec and back.
 */

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

/** The runtime's sentence for a broken input rule (the dialogs show their own, translated). */
export function explain(what: string, problem: Problem): string {
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

export function canId(text: unknown, what: string): number {
  const r = checkCanId(text);
  if (!r.ok) throw new OpenObdError('BAD_CONFIG', explain(what, r.problem));
  return r.value;
}

export function address(text: unknown, bytes: 1 | 2, what: string): number {
  const r = checkAddress(text, bytes);
  if (!r.ok) throw new OpenObdError('BAD_CONFIG', explain(what, r.problem));
  return r.value;
}

export function canBus(settings: EcuSettings, name: string): CanBusSpec {
  return {
    name,
    pinPlus: Number(settings.pinPlus ?? 6) || 6,
    pinMinus: Number(settings.pinMinus ?? 14) || 14,
    bitRateKbps: Number(settings.bitRate ?? 500) || 500,
  };
}

/** How node settings become a spec of one transport and back (the dialog's fields: TRANSPORT_FIELDS, client/input-rules.ts). */
export interface SettingsOfTransport<S extends EcuSpec> {
  /** The spec the settings describe; `name` is the bus name (given, or the transport's default). */
  toSpec(settings: EcuSettings, name: string, protocol: DiagnosticProtocol | undefined): S;
  toSettings(spec: S): EcuSettings;
}

export const hex = (value: number, digits: number) => value.toString(16).toUpperCase().padStart(digits, '0');

/** The node settings of a CAN bus (ISO-TP and TP 2.0). */
export const canBusSettings = (bus: CanBusSpec): EcuSettings => ({
  busName: bus.name,
  pinPlus: bus.pinPlus ?? 6,
  pinMinus: bus.pinMinus ?? 14,
  bitRate: bus.bitRateKbps ?? 500,
});
