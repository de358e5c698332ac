import { canIdText, codec, hexByte, type UdsResponse } from '../../client';

/** Plain-data description of one ECU answer, for msg.openobd.response. */
export interface ResponseDetails {
  hex: string;
  positive: boolean;
  sid: string;
  service?: string;
  nrc?: string;
  nrcName?: string;
  nrcDescription?: string;
  ecu: { name?: string; requestId: string; responseId: string };
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

export function responseDetails(r: UdsResponse, ecuName: string | undefined, request: Buffer, decode: boolean): ResponseDetails {
  const out: ResponseDetails = {
    hex: r.hex,
    positive: r.positive,
    sid: hexByte(r.sid),
    service: codec.serviceName(r.sid),
    ecu: { name: ecuName, requestId: canIdOnce(r.ecu.requestId), responseId: canIdOnce(r.ecu.responseId) },
    pendingCount: r.pendingCount,
    elapsedMs: r.elapsedMs,
  };
  if (!r.positive && r.nrc !== undefined) {
    out.nrc = hexByte(r.nrc);
    out.nrcName = r.nrcName;
    out.nrcDescription = codec.nrcDescription(r.nrc);
  }
  if (decode && r.positive) {
    const decoded = codec.decodeResponse(request, r.payload);
    if (decoded) out.decoded = decoded;
  }
  return out;
}
