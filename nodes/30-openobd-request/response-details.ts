import { TRANSPORT_TABLE, canIdText, codec, hexByte, type Transport, type UdsResponse } from '../../client';
import type { EcuReach } from '../lib/ecu-spec';

/** Plain-data description of one ECU answer, for msg.openobd.response. */
export interface ResponseDetails {
  hex: string;
  positive: boolean;
  sid: string;
  service?: string;
  nrc?: string;
  nrcName?: string;
  nrcDescription?: string;
  /** The answering ECU: CAN ids on ISO-TP; the K-Line or TP 2.0 address (both ids), the DoIP tester and ECU address. */
  ecu: { name?: string; requestId: string; responseId: string; transport?: Transport };
  pendingCount: number;
  elapsedMs: number;
  decoded?: Record<string, unknown>;
}

/** CAN ids as text, formatted once: a node talks to the same few ECUs message after message. */
const canIdTexts = new Map<number, string>();

export function canIdOnce(id: number): string {
  let text = canIdTexts.get(id);
  if (text === undefined) {
    text = canIdText(id);
    if (canIdTexts.size < 4096) canIdTexts.set(id, text);
  }
  return text;
}

function idText(id: number, transport: Transport | undefined): string {
  return transport === undefined || transport === 'isotp' ? canIdOnce(id) : TRANSPORT_TABLE[transport].idText(id);
}

export function responseDetails(
  r: UdsResponse,
  ecuName: string | undefined,
  request: Buffer,
  decode: boolean,
  reach: EcuReach = {},
): ResponseDetails {
  const transport = reach.transport;
  const out: ResponseDetails = {
    hex: r.hex,
    positive: r.positive,
    sid: hexByte(r.sid),
    service: reach.protocol === 'kwp2000' ? codec.kwpServiceName(r.sid) : codec.serviceName(r.sid),
    ecu:
      transport === undefined || transport === 'isotp'
        ? { name: ecuName, requestId: canIdOnce(r.ecu.requestId), responseId: canIdOnce(r.ecu.responseId) }
        : { name: ecuName, requestId: idText(r.ecu.requestId, transport), responseId: idText(r.ecu.responseId, transport), transport },
    pendingCount: r.pendingCount,
    elapsedMs: r.elapsedMs,
  };
  if (!r.positive && r.nrc !== undefined) {
    out.nrc = hexByte(r.nrc);
    out.nrcName = r.nrcName;
    out.nrcDescription = codec.nrcDescription(r.nrc);
  }
  if (decode && r.positive) {
    const decoded = codec.decodeResponse(request, r.payload, reach.protocol ? { protocol: reach.protocol } : undefined);
    if (decoded) out.decoded = decoded;
  }
  return out;
}
