/**
 * The transports of diagnostic requests (ISO-TP, K-Line, TP 2.0, DoIP), each a module in one table
 * (table.ts), and raw CAN frames. Every one runs on the same stream link (stream-link.ts) and through
 * the same request engine (engine.ts).
 */
export {
  StreamLink,
  type ChannelKind,
  type ChannelMessage,
  type ChannelStream,
  type PayloadListener,
  type FailureListener,
} from './stream-link';
export { TransportEngine, type EngineHost, type StreamOpener } from './engine';
export { TRANSPORT_TABLE, transportOf, prepareEcu, maxPayloadOf } from './table';
export type { TransportModule, PreparedEcu } from './module';
export { canBus, type EcuSettings, type SettingsOfTransport } from './settings';
export { ISOTP, ISOTP_CHANNEL, MAX_FUNCTIONAL_BYTES, channelKey } from './isotp';
export { KLINE, klineTarget, KLINE_CHANNEL, KLINE_MAX_PAYLOAD } from './kline';
export { TP20, tp20Target, tp20Bus, TP20_CHANNEL } from './tp20';
export { DOIP, doipTarget, DOIP_CHANNEL, DOIP_MAX_PAYLOAD } from './doip';
export {
  MAX_FRAME_BYTES,
  RAW_CHANNEL,
  checkFilters,
  checkFrameData,
  checkFrameId,
  frameMatches,
  framesBus,
  listenChannels,
  FrameRouter,
  type CanFrame,
  type FrameFilter,
} from './raw-frames';
export { detectedEcu, detectedEcus, ecuAddressText, type DetectedEcu } from './ecu-list';
export { terminal15State, type Terminal15State } from './terminal15';
