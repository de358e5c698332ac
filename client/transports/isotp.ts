import { OpenObdError } from '../errors';
import { ISOTP_MAX_PAYLOAD, TRANSPORT_FIELDS, checkResponderIds } from '../input-rules';
import { OBD_RESPONDER_IDS, busConfiguration, udsTarget, type IsotpEcuSpec, type PaddingMode } from '../vehicle-spec';
import { canIdText, type IsotpChannelMessage } from '../../protocol';
import { transportModule } from './module';
import { canBus, canBusSettings, canId, explain, hex, type SettingsOfTransport } from './settings';
import type { ChannelKind } from './stream-link';

/** A functional request is a single ISO-TP frame: 7 data bytes on classic CAN with normal addressing. */
export const MAX_FUNCTIONAL_BYTES = 7;

type ChannelIdentity = Pick<
  IsotpChannelMessage,
  'bus_name' | 'request_id' | 'response_id' | 'extended_request_address' | 'extended_response_address'
>;

/** Identity of an ISO-TP channel on the wire: bus, CAN ids and extended addresses (not padding or keep-alive). */
export function channelKey(c: ChannelIdentity): string {
  return `${c.bus_name}|${c.request_id}|${c.response_id}|${c.extended_request_address ?? ''}|${c.extended_response_address ?? ''}`;
}

/** The key of an incoming message's channel; answers keep coming on the same channel, so the last key is reused. */
function lastKeyMemo(): (c: IsotpChannelMessage) => string {
  let last: (ChannelIdentity & { key: string }) | undefined;
  return (c) => {
    if (
      last &&
      last.bus_name === c.bus_name &&
      last.request_id === c.request_id &&
      last.response_id === c.response_id &&
      last.extended_request_address === c.extended_request_address &&
      last.extended_response_address === c.extended_response_address
    ) {
      return last.key;
    }
    const key = channelKey(c);
    last = {
      bus_name: c.bus_name,
      request_id: c.request_id,
      response_id: c.response_id,
      extended_request_address: c.extended_request_address,
      extended_response_address: c.extended_response_address,
      key,
    };
    return key;
  };
}

export const ISOTP_CHANNEL: ChannelKind<IsotpChannelMessage> = {
  operation: 'can.openIsotpStream',
  streamName: 'The ISO-TP stream',
  describe: (c) => `${canIdText(c.request_id)}/${canIdText(c.response_id)} on ${c.bus_name}`,
  key: channelKey,
  responseId: (c) => c.response_id,
  incomingKeys: lastKeyMemo,
};

const PADDING_MODES: readonly string[] = ['enabled', 'disabled', 'detection', 'from-ecu', 'towards-ecu'];

/** The ECU node's settings of this transport <-> its spec. */
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
      if (!r.ok) throw new OpenObdError('BAD_CONFIG', explain('Responder id', r.problem));
      spec.responderIds = r.value.length ? r.value : [...OBD_RESPONDER_IDS];
    }
    if (settings.padding && settings.padding !== 'default') {
      if (!PADDING_MODES.includes(settings.padding)) throw new OpenObdError('BAD_CONFIG', `Unknown padding mode '${settings.padding}'`);
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

/** UDS and OBD-II over ISO-TP on CAN (ISO 15765-2): openOBD segments and does flow control on its side. */
export const ISOTP = transportModule<IsotpEcuSpec, IsotpChannelMessage>({
  id: 'isotp',
  name: 'ISO-TP',
  idText: canIdText,
  channel: ISOTP_CHANNEL,
  service: 'can',
  method: 'openIsotpStream',
  maxPayload: ISOTP_MAX_PAYLOAD,
  ecuFields: [
    'requestId',
    'responseId',
    'extendedRequestAddress',
    'extendedResponseAddress',
    'padding',
    'keepAlive',
    'functional',
    'protocol',
    'responderIds',
  ] satisfies ReadonlyArray<keyof IsotpEcuSpec>,
  busFields: ['kind', 'name', 'pinPlus', 'pinMinus', 'bitRateKbps', 'protocol', 'transceiver'] satisfies ReadonlyArray<
    keyof IsotpEcuSpec['bus']
  >,
  prepare: (spec) => ({ target: udsTarget(spec), bus: busConfiguration(spec.bus) }),
  settings: ISOTP_SETTINGS,
  fields: TRANSPORT_FIELDS.isotp!,
  queueKey: (t) => `${t.send.bus_name}|${t.send.request_id}`,
  checkRequest(target, bytes) {
    if (target.functional && bytes.length > MAX_FUNCTIONAL_BYTES) {
      // ECUs ignore a functional first frame (ISO 15765-4: functional requests are single frames): it would only ever time out.
      throw new OpenObdError(
        'BAD_PAYLOAD',
        `A functional request must fit in one CAN frame (at most ${MAX_FUNCTIONAL_BYTES} bytes); this one has ${bytes.length}`,
      );
    }
  },
});
