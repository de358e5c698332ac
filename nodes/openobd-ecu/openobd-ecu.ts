import type { Node, NodeAPI, NodeDef } from 'node-red';
import { OBD_RESPONDER_IDS, type EcuSpec, type PaddingMode } from '../../client';
import { FlowError } from '../lib/flow';

interface EcuDef extends NodeDef {
  busName: string;
  pinPlus: string | number;
  pinMinus: string | number;
  bitRate: string | number;
  requestId: string;
  responseId: string;
  functional: boolean;
  responderIds: string;
  padding: string;
  keepAlive: boolean;
}

export interface EcuNode extends Node {
  /** The addressing, or the configuration mistake that prevents it. */
  spec?: EcuSpec;
  problem?: string;
  label: string;
}

/** Parses a CAN id written in hex ("7E0", "0x7e0", "18DA10F1"). */
export function parseCanId(text: unknown, what: string): number {
  const s = String(text ?? '')
    .trim()
    .replace(/^0x/i, '');
  if (!/^[0-9a-f]{1,8}$/i.test(s)) throw new FlowError('BAD_CONFIG', `${what} '${String(text ?? '')}' is not a hexadecimal CAN id`);
  const id = parseInt(s, 16);
  if (id > 0x1fffffff) throw new FlowError('BAD_CONFIG', `${what} ${s} is larger than a 29-bit CAN id`);
  return id;
}

/** "7E8-7EF", "7E8,7EA" or blank (the OBD-II range). */
export function parseResponderIds(text: string | undefined): number[] {
  const s = (text ?? '').trim();
  if (!s) return [...OBD_RESPONDER_IDS];
  const ids: number[] = [];
  for (const part of s.split(/[\s,;]+/).filter(Boolean)) {
    const range = /^([0-9a-fx]+)-([0-9a-fx]+)$/i.exec(part);
    if (range) {
      const from = parseCanId(range[1], 'Responder id');
      const to = parseCanId(range[2], 'Responder id');
      if (to < from || to - from > 31) throw new FlowError('BAD_CONFIG', `Responder range ${part} must go upwards and span at most 32 ids`);
      for (let id = from; id <= to; id++) ids.push(id);
    } else ids.push(parseCanId(part, 'Responder id'));
  }
  return ids;
}

const PADDING_MODES: readonly string[] = ['enabled', 'disabled', 'detection', 'from-ecu', 'towards-ecu'];

export function ecuSpecFromDef(def: Omit<EcuDef, keyof NodeDef> & { name?: string }): EcuSpec {
  const spec: EcuSpec = {
    bus: {
      name: (def.busName || 'OBD-CAN').trim(),
      pinPlus: Number(def.pinPlus ?? 6) || 6,
      pinMinus: Number(def.pinMinus ?? 14) || 14,
      bitRateKbps: Number(def.bitRate ?? 500) || 500,
    },
    requestId: parseCanId(def.requestId, 'Request id'),
    responseId: parseCanId(def.responseId, 'Response id'),
    functional: def.functional === true,
  };
  if (spec.functional) spec.responderIds = parseResponderIds(def.responderIds);
  if (def.padding && def.padding !== 'default') {
    if (!PADDING_MODES.includes(def.padding)) throw new FlowError('BAD_CONFIG', `Unknown padding mode '${def.padding}'`);
    spec.padding = def.padding as PaddingMode;
  }
  if (def.keepAlive) spec.keepAlive = true;
  return spec;
}

/**
 * "ECU" config node: how to reach one ECU (bus pins and bit rate, request and response CAN ids,
 * physical or functional), so a flow names "Engine" once and every request node reuses it.
 */
export function registerEcu(RED: NodeAPI): void {
  function OpenObdEcuNode(this: EcuNode, def: EcuDef) {
    RED.nodes.createNode(this, def);
    this.label = def.name || `${def.requestId}/${def.responseId}`;
    try {
      this.spec = ecuSpecFromDef(def);
    } catch (err) {
      this.problem = err instanceof Error ? err.message : String(err);
      this.error(`ECU "${this.label}": ${this.problem}`);
    }
  }
  RED.nodes.registerType('openobd-ecu', OpenObdEcuNode);
}
