import type { BusConfigurationMessage } from '../protocol';
import type { UdsTarget } from './uds-request';
import { busConfiguration, udsTarget, type CanBusSpec, type IsotpEcuSpec } from './vehicle-spec';

/**
 * The channels and bus message of an ECU spec, worked out once per spec object: flows and testers pass
 * the same spec with every request, and building channels and texts per request shows in profiles of
 * request loops. An entry is reused only while every field of the spec is what it was (a spec is a plain
 * object a flow may change); its channel objects are frozen, so the ISO-TP link can remember their keys.
 */
export interface PreparedEcu {
  /** Requests to one channel (bus and request id) run one after another: this names the queue. */
  readonly queueKey: string;
  readonly target: UdsTarget;
  readonly bus: BusConfigurationMessage;
}

/** The fields that decide the channels and the bus. Adding a field to the specs means adding it here. */
const BUS_FIELDS = ['name', 'pinPlus', 'pinMinus', 'bitRateKbps', 'protocol', 'transceiver'] as const satisfies ReadonlyArray<
  keyof CanBusSpec
>;
const ECU_FIELDS = [
  'requestId',
  'responseId',
  'extendedRequestAddress',
  'extendedResponseAddress',
  'padding',
  'keepAlive',
  'functional',
  'protocol',
] as const satisfies ReadonlyArray<keyof IsotpEcuSpec>;

interface Entry extends PreparedEcu {
  readonly busObject: CanBusSpec;
  readonly busValues: readonly unknown[];
  readonly ecuValues: readonly unknown[];
  readonly responders?: readonly number[];
}

const cache = new WeakMap<IsotpEcuSpec, Entry>();

function unchanged(e: Entry, ecu: IsotpEcuSpec): boolean {
  const bus = ecu.bus;
  if (e.busObject !== bus) return false;
  for (let i = 0; i < BUS_FIELDS.length; i++) if (e.busValues[i] !== bus[BUS_FIELDS[i]!]) return false;
  for (let i = 0; i < ECU_FIELDS.length; i++) if (e.ecuValues[i] !== ecu[ECU_FIELDS[i]!]) return false;
  const now = ecu.responderIds;
  const was = e.responders;
  if (!now || !was) return now === was;
  if (now.length !== was.length) return false;
  for (let i = 0; i < now.length; i++) if (now[i] !== was[i]) return false;
  return true;
}

/** The prepared channels of an ISO-TP `ecu`; a malformed spec throws BAD_CONFIG (and is not cached). Other transports: client/transports. */
export function prepareEcu(ecu: IsotpEcuSpec): PreparedEcu {
  const cacheable = ecu !== null && typeof ecu === 'object' && ecu.bus !== null && typeof ecu.bus === 'object';
  if (cacheable) {
    const hit = cache.get(ecu);
    if (hit && unchanged(hit, ecu)) return hit;
  }
  const target = udsTarget(ecu);
  for (const c of target.listen) Object.freeze(c);
  Object.freeze(target.send);
  const entry: Entry = {
    queueKey: `${target.send.bus_name}|${target.send.request_id}`,
    target,
    bus: busConfiguration(ecu.bus),
    busObject: ecu.bus,
    busValues: BUS_FIELDS.map((f) => ecu.bus[f]),
    ecuValues: ECU_FIELDS.map((f) => ecu[f]),
    responders: ecu.responderIds ? [...ecu.responderIds] : undefined,
  };
  if (cacheable) cache.set(ecu, entry);
  return entry;
}
