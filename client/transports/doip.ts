import { OpenObdError } from '../errors';
import type { UdsTarget } from '../uds-request';
import { busConfiguration, type DoipEcuSpec } from '../vehicle-spec';
import { hexNumber, type DoipChannelMessage } from '../../protocol';
import { transportModule } from './module';
import type { ChannelKind } from './stream-link';

/** DoIP diagnostic messages (ISO 13400-2) are not bound by ISO-TP; this client caps them at 64 KiB. */
export const DOIP_MAX_PAYLOAD = 65535;

export const DOIP_CHANNEL: ChannelKind<DoipChannelMessage> = {
  operation: 'doip.openDoipStream',
  describe: (c) => `DoIP ${hexNumber(c.ecu_id, 4)} via ${hexNumber(c.gateway_id, 4)} on ${c.bus_name}`,
  key: (c) => `${c.bus_name}|${c.gateway_id}|${c.tester_id}|${c.ecu_id}`,
  responseId: (c) => c.ecu_id,
};

/** A DoIP logical address: 16 bits, and not 0000, which ISO 13400-2 reserves. */
function address(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 0xffff)
    throw new OpenObdError(
      'BAD_CONFIG',
      `The DoIP ${what} must be a logical address from 0001 to FFFF hex (ISO 13400-2), got ${
        typeof value === 'number' && Number.isInteger(value) && value >= 0 ? hexNumber(value, 4) : String(value)
      }`,
    );
  return value;
}

/** The channel of an ECU over DoIP (ISO 13400): bus, DoIP entity (gateway), tester and target addresses. */
export function doipTarget(spec: DoipEcuSpec): UdsTarget<DoipChannelMessage> {
  const bus = busConfiguration(spec.bus).bus_name;
  const gateway = address(spec.gatewayId, 'gateway id');
  const tester = address(spec.testerId, 'tester id');
  const ecu = address(spec.ecuId, 'ECU id');
  if (tester === ecu || tester === gateway)
    throw new OpenObdError('BAD_CONFIG', `The DoIP tester id ${hexNumber(tester, 4)} must differ from the gateway and ECU ids`);
  const channel: DoipChannelMessage = Object.freeze({ bus_name: bus, gateway_id: gateway, tester_id: tester, ecu_id: ecu });
  return {
    send: channel,
    listen: [channel],
    functional: false,
    requestId: tester,
    label: `DoIP ECU ${hexNumber(ecu, 4)} via gateway ${hexNumber(gateway, 4)} on ${bus}`,
    addressing: 'DoIP gateway and ECU addresses',
    dialect: spec.protocol === 'kwp2000' ? 'kwp2000' : 'uds',
  };
}

/** Diagnostics over IP (ISO 13400) on the connector's Ethernet pins. */
export const DOIP = transportModule<DoipEcuSpec, DoipChannelMessage>({
  id: 'doip',
  channel: DOIP_CHANNEL,
  service: 'doip',
  method: 'openDoipStream',
  maxPayload: DOIP_MAX_PAYLOAD,
  ecuFields: ['protocol', 'gatewayId', 'testerId', 'ecuId'] satisfies ReadonlyArray<keyof DoipEcuSpec>,
  busFields: ['kind', 'name', 'option', 'networkConfiguration'] satisfies ReadonlyArray<keyof DoipEcuSpec['bus']>,
  prepare: (spec) => ({ target: doipTarget(spec), bus: busConfiguration(spec.bus) }),
  queueKey: (t) => `doip|${t.send.bus_name}|${t.send.gateway_id}|${t.send.ecu_id}`,
});
