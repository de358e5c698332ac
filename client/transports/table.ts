import type { EcuSpec, Transport } from '../vehicle-spec';
import { DOIP } from './doip';
import { ISOTP } from './isotp';
import { KLINE } from './kline';
import type { PreparedEcu, TransportModule } from './module';
import { TP20 } from './tp20';

/** Every transport of diagnostic requests, by the `transport` of an ECU spec. */
export const TRANSPORT_TABLE: Readonly<Record<Transport, TransportModule>> = { isotp: ISOTP, tp20: TP20, kline: KLINE, doip: DOIP };

/** The module of a spec's transport; a spec without one (or with one this client does not know) is ISO-TP. */
export function transportOf(ecu: EcuSpec): TransportModule {
  const t = (ecu as { transport?: unknown } | null | undefined)?.transport;
  if (t === undefined || t === 'isotp') return ISOTP;
  return (typeof t === 'string' && Object.prototype.hasOwnProperty.call(TRANSPORT_TABLE, t) && TRANSPORT_TABLE[t as Transport]) || ISOTP;
}

/** The longest request a transport carries. */
export function maxPayloadOf(transport: Transport): number {
  return (TRANSPORT_TABLE[transport] ?? ISOTP).maxPayload;
}

/*
 * The channels and bus message of an ECU spec, worked out once per spec object: flows and testers pass
 * the same spec with every request, and building channels and texts per request shows in profiles of
 * request loops. An entry is reused only while the fields its transport names keep their values (a
 * spec is a plain object a flow may change); its channel objects are frozen, so a link can remember
 * their keys.
 */
interface Entry extends PreparedEcu {
  readonly ecuValues: readonly unknown[];
  readonly busValues: readonly unknown[];
}

const cache = new WeakMap<object, Entry>();

/** Equal values; arrays (responder ids, key bytes) element by element. */
function same(was: unknown, now: unknown): boolean {
  if (was === now) return true;
  if (!Array.isArray(was) || !Array.isArray(now) || was.length !== now.length) return false;
  for (let i = 0; i < now.length; i++) if (was[i] !== now[i]) return false;
  return true;
}

function unchanged(e: Entry, ecu: Record<string, unknown>, bus: Record<string, unknown>): boolean {
  const m = e.module;
  for (let i = 0; i < m.ecuFields.length; i++) if (!same(e.ecuValues[i], ecu[m.ecuFields[i]!])) return false;
  for (let i = 0; i < m.busFields.length; i++) if (!same(e.busValues[i], bus[m.busFields[i]!])) return false;
  return true;
}

const snapshot = (o: Record<string, unknown>, fields: readonly string[]) =>
  fields.map((f) => (Array.isArray(o[f]) ? [...(o[f] as unknown[])] : o[f]));

/** The prepared channels of an ECU spec, over any transport; a malformed spec throws BAD_CONFIG (and is not cached). */
export function prepareEcu(ecu: EcuSpec): PreparedEcu {
  const module = transportOf(ecu);
  const cacheable = ecu !== null && typeof ecu === 'object' && ecu.bus !== null && typeof ecu.bus === 'object';
  const fields = ecu as unknown as Record<string, unknown>;
  const busFields = cacheable ? (ecu.bus as unknown as Record<string, unknown>) : {};
  if (cacheable) {
    const hit = cache.get(ecu);
    if (hit && hit.module === module && unchanged(hit, fields, busFields)) return hit;
  }
  const { target, bus } = module.prepare(ecu);
  for (const c of target.listen) Object.freeze(c);
  Object.freeze(target.send);
  const entry: Entry = {
    module,
    target,
    bus,
    queueKey: module.queueKey(target),
    ecuValues: cacheable ? snapshot(fields, module.ecuFields) : [],
    busValues: cacheable ? snapshot(busFields, module.busFields) : [],
  };
  if (cacheable) cache.set(ecu, entry);
  return entry;
}
