import { OpenObdError } from '../errors';
import { TRANSPORT_FIELDS } from '../input-rules';
import type { UdsTarget } from '../uds-request';
import { busConfiguration, type DoipEcuSpec } from '../vehicle-spec';
import { hexNumber, type DoipChannelMessage } from '../../protocol';
import { transportModule } from './module';
import { address as addressFromText, hex, type SettingsOfTransport } from './settings';
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
    protocol: spec.protocol === 'kwp2000' ? 'kwp2000' : 'uds',
  };
}

/** The ECU node's settings of this transport <-> its spec. */
const DOIP_SETTINGS: SettingsOfTransport<DoipEcuSpec> = {
  toSpec(settings, name, protocol) {
    const option = Number(settings.doipOption ?? 1);
    return {
      transport: 'doip',
      ...(protocol ? { protocol } : {}),
      bus: { kind: 'doip', name, option: option === 2 ? 2 : (option as 1), networkConfiguration: Number(settings.doipNetwork ?? 1) },
      gatewayId: addressFromText(settings.gatewayId, 2, 'DoIP gateway id'),
      testerId: addressFromText(settings.testerId ?? '0E80', 2, 'DoIP tester id'),
      ecuId: addressFromText(settings.doipEcuId, 2, 'DoIP ECU id'),
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

/** Diagnostics over IP (ISO 13400) on the connector's Ethernet pins. */
export const DOIP = transportModule<DoipEcuSpec, DoipChannelMessage>({
  id: 'doip',
  name: 'DoIP',
  idText: (id) => hexNumber(id, 4),
  channel: DOIP_CHANNEL,
  service: 'doip',
  method: 'openDoipStream',
  maxPayload: DOIP_MAX_PAYLOAD,
  ecuFields: ['protocol', 'gatewayId', 'testerId', 'ecuId'] satisfies ReadonlyArray<keyof DoipEcuSpec>,
  busFields: ['kind', 'name', 'option', 'networkConfiguration'] satisfies ReadonlyArray<keyof DoipEcuSpec['bus']>,
  prepare: (spec) => ({ target: doipTarget(spec), bus: busConfiguration(spec.bus) }),
  settings: DOIP_SETTINGS,
  fields: TRANSPORT_FIELDS.doip!,
  queueKey: (t) => `doip|${t.send.bus_name}|${t.send.gateway_id}|${t.send.ecu_id}`,
});
