import type { Node, NodeAPI } from 'node-red';
import { OBD_RESPONDER_IDS, checkCanId, checkResponderIds, type EcuSpec, type PaddingMode, type Problem } from '../../client';
import { FlowError } from './flow';

/** The settings of an "ECU" config node, also accepted in msg.openobd.ecu. */
export interface EcuSettings {
  name?: string;
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
}

/** The "ECU" config node as request nodes see it. */
export interface EcuNode extends Node {
  /** The addressing, or the configuration mistake that prevents it. */
  spec?: EcuSpec;
  problem?: string;
  label: string;
}

const PADDING_MODES: readonly string[] = ['enabled', 'disabled', 'detection', 'from-ecu', 'towards-ecu'];

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
    default:
      return `${what} '${v.value ?? ''}' is not a hexadecimal CAN id`;
  }
}

function canId(text: unknown, what: string): number {
  const r = checkCanId(text);
  if (!r.ok) throw new FlowError('BAD_CONFIG', explain(what, r.problem));
  return r.value;
}

/** The addressing an ECU node (or msg.openobd.ecu) describes; a mistake is a BAD_CONFIG error naming the field. */
export function ecuSpecFrom(settings: EcuSettings): EcuSpec {
  const spec: EcuSpec = {
    bus: {
      name: (settings.busName || 'OBD-CAN').trim(),
      pinPlus: Number(settings.pinPlus ?? 6) || 6,
      pinMinus: Number(settings.pinMinus ?? 14) || 14,
      bitRateKbps: Number(settings.bitRate ?? 500) || 500,
    },
    requestId: canId(settings.requestId, 'Request id'),
    responseId: canId(settings.responseId, 'Response id'),
    functional: settings.functional === true,
  };
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
}

/** The ECU config node behind a request node's `ecu` property, if it is deployed. */
export function ecuNodeOf(RED: NodeAPI, id: string | undefined): EcuNode | undefined {
  if (!id) return undefined;
  return (RED.nodes.getNode(id) as EcuNode | null) ?? undefined;
}
