import { ISOTP_MAX_PAYLOAD } from '../input-rules';

/** An ISO 14230-2 message carries at most 255 data bytes (with the separate length byte). */
export const KLINE_MAX_PAYLOAD = 255;
/** DoIP diagnostic messages (ISO 13400-2) are not bound by ISO-TP; this client caps them at 64 KiB. */
export const DOIP_MAX_PAYLOAD = 65535;

/** The longest request a transport carries. TP 2.0 is taken to carry what ISO-TP does. */
export function maxPayloadOf(transport: 'isotp' | 'kline' | 'tp20' | 'doip'): number {
  if (transport === 'kline') return KLINE_MAX_PAYLOAD;
  if (transport === 'doip') return DOIP_MAX_PAYLOAD;
  return ISOTP_MAX_PAYLOAD;
}
