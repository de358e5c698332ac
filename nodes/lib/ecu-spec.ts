import type { Node, NodeAPI } from 'node-red';
import {
  TRANSPORT_FIELDS,
  TRANSPORT_TABLE,
  canBus,
  diagnosticProtocolOf,
  transportOf,
  type CanBusSpec,
  type DiagnosticProtocol,
  type EcuSettings,
  type EcuSpec,
  type Transport,
} from '../../client';
import { FlowError, toFlowError } from './flow';

export type { EcuSettings } from '../../client';

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

export const TRANSPORTS: readonly string[] = Object.keys(TRANSPORT_FIELDS);
/** The bus name an ECU node uses when none is given: one per transport, so they never clash by name. */
export const DEFAULT_BUS_NAMES: Readonly<Record<string, string>> = Object.fromEntries(
  TRANSPORTS.map((t) => [t, TRANSPORT_FIELDS[t]!.busName]),
);

function protocolOf(settings: EcuSettings): DiagnosticProtocol | undefined {
  const p = settings.protocol;
  if (p === undefined || p === '' || p === 'auto') return undefined;
  if (p === 'uds' || p === 'kwp2000') return p;
  throw new FlowError('BAD_CONFIG', `Unknown diagnostic protocol '${String(p)}'; use auto, uds or kwp2000`);
}

/** The addressing an ECU node (or msg.openobd.ecu) describes; a mistake is a BAD_CONFIG error naming the field. */
export function ecuSpecFrom(settings: EcuSettings): EcuSpec {
  const transport = settings.transport || 'isotp';
  if (!TRANSPORTS.includes(transport))
    throw new FlowError(
      'BAD_CONFIG',
      `Unknown transport '${String(transport)}'; use ${TRANSPORTS.slice(0, -1).join(', ')} or ${TRANSPORTS.at(-1)}`,
    );
  const name = (settings.busName || DEFAULT_BUS_NAMES[transport]!).trim();
  const protocol = protocolOf(settings);
  try {
    return TRANSPORT_TABLE[transport as Transport].settings.toSpec(settings, name, protocol);
  } catch (err) {
    throw toFlowError(err);
  }
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
  return transportOf(spec).settings.toSettings(spec);
}
