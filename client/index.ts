/**
 * The openOBD client library: no Node-RED in here. A SessionController (partner credentials, controller
 * token, session management) opens Sessions (claim, keepalive, bus configuration, diagnostic requests).
 */
export {
  SessionController,
  ENV,
  type SessionControllerOptions,
  type PartnerCredentials,
  type ControllerState,
  type StartTarget,
} from './controller';
export {
  Session,
  RESULT_NAMES,
  USER_FEEDBACK_NAMES,
  type EndCause,
  type SessionOptions,
  type SessionState,
  type SessionEnd,
  type FinishOptions,
} from './session';
export {
  FunctionBroker,
  HostedFunction,
  type FunctionDefinition,
  type FunctionVisibility,
  type FunctionCall,
  type HostedState,
  type RunAnswer,
  type FunctionBrokerOptions,
} from './function-broker';
export {
  SessionFunctions,
  VARIABLE_CONTEXTS,
  toVariable,
  fromVariable,
  variablesToRecord,
  summarizeResult,
  type VariableContext,
  type VariableValue,
  type ServiceResultSummary,
  type FunctionCallResult,
  type CallFunctionOptions,
} from './functions';
export {
  SessionUi,
  controlMessage,
  controlTypeOf,
  UI_CONTROL_TYPES,
  DEFAULT_UI_OPTIONS,
  type UiControl,
  type UiControlType,
  type UiTarget,
  type UiTranslation,
  type UiAnswer,
  type AskOptions,
  type UiOptions,
} from './ui';
export { isFinalState, summarize, FINAL_STATES, type SessionInfo, type SessionSummary, type ServerSessionState } from './session-info';
export { OpenObdError, isOpenObdError, fromGrpcError, grpcStatusName, type ErrorCode, type LocalErrorCode, type Situation } from './errors';
export { Secret, redact } from './secret';
export {
  resolveEndpoint,
  parseAddress,
  isLoopbackHost,
  ConnectionPool,
  defaultConnectionPool,
  OPENOBD_DEFAULT_HOST,
  OPENOBD_DEFAULT_PORT,
  type EndpointOptions,
  type ResolvedEndpoint,
} from './endpoint';
export { DEFAULT_UDS_TIMING, type UdsTiming, type UdsExchange, type UdsResponse } from './uds-request';
export {
  OBD_RESPONDER_IDS,
  SUPPORTED_BIT_RATES_KBPS,
  SUPPORTED_KLINE_BAUD,
  busConfiguration,
  diagnosticProtocolOf,
  udsTarget,
  type BusSpec,
  type CanBusSpec,
  type KlineBusSpec,
  type DoipBusSpec,
  type Terminal15BusSpec,
  type EcuSpec,
  type IsotpEcuSpec,
  type KlineEcuSpec,
  type Tp20EcuSpec,
  type DoipEcuSpec,
  type DiagnosticProtocol,
  type Transport,
  type PaddingMode,
} from './vehicle-spec';
export {
  MAX_FRAME_BYTES,
  KLINE_MAX_PAYLOAD,
  DOIP_MAX_PAYLOAD,
  maxPayloadOf,
  TRANSPORT_TABLE,
  transportOf,
  canBus,
  type EcuSettings,
  detectedEcu,
  detectedEcus,
  ecuAddressText,
  frameMatches,
  type CanFrame,
  type FrameFilter,
  type DetectedEcu,
  type Terminal15State,
} from './transports';
export { safeLogger, silentLogger, type Logger } from './logger';
export { openObdDefinition, method, serviceDefinition, PROTO_ROOT, PROTO_PACKAGE, type ServiceName } from '../protocol';
export * as codec from './codec';
export {
  ISOTP_MAX_PAYLOAD,
  MAX_CAN_ID,
  checkAddress,
  checkCanId,
  checkFrameFilters,
  checkHexText,
  checkKeyBytes,
  checkResponderIds,
  TRANSPORT_FIELDS,
  transportsWith,
  type TransportFields,
  type Checked,
  type Problem,
  type RuleName,
} from './input-rules';
export { canIdText, hexByte, hexNumber } from '../protocol';
export type * as wire from '../protocol/wire';
export type { ResultName, UserFeedbackName } from '../protocol';
export { download, type DownloadOptions, type DownloadProgress, type DownloadResult, type RequestSender } from './download';
export { unlockSecurity, type SeedToKey, type UnlockOptions, type UnlockResult } from './security';
export { scanReportText } from './scan-report';
export { dtcLine, dtcMeaning, type DtcMeaning } from './codec';
export {
  MAX_CONCURRENT_CHANNELS,
  scanPlan,
  scanVehicle,
  type ProbeRange,
  type ScanDtc,
  type ScanEcu,
  type ScanOptions,
  type ScanReport,
  type ScanTarget,
} from './scan';
