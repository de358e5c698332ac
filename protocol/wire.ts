/**
 * TypeScript shapes of the openOBD messages this package sends and receives, as @grpc/proto-loader
 * decodes them with `LOADER_OPTIONS` (snake_case names, enums as names, defaults filled in, the name of
 * the set member of each oneof in a property named after the oneof), and the names of the two enums a
 * flow chooses from (service results, user feedback). Only what the code touches is typed; proto/ stays
 * the source of truth.
 */

export type EmptyMessage = Record<string, never>;

export interface Authenticate {
  client_id: string;
  client_secret: string;
  cluster_id: string;
}

export interface TokenMessage {
  value: string;
}

export interface SessionInfoMessage {
  id: string;
  state: string;
  created_at: string;
  grpc_endpoint: string;
  authentication_token: string;
}

export interface SessionInfoListMessage {
  sessions: SessionInfoMessage[];
}

/** The service results of openOBD's Result enum (a session or function context ends with one or more). */
export const RESULT_NAMES = [
  'RESULT_UNDEFINED',
  'RESULT_SUCCESS',
  'RESULT_INVALID_PRECONDITIONS',
  'RESULT_NEEDS_VALIDATION',
  'RESULT_NEEDS_COMPLETION',
  'RESULT_FAILURE_AUTHENTICATION_ERROR',
  'RESULT_FAILURE_MISSING_CODING_INFORMATION',
  'RESULT_FAILURE_NOT_COMPATIBLE',
  'RESULT_FAILURE_COMMUNICATION_ERROR',
  'RESULT_FAILURE_RUNTIME_ERROR',
  'RESULT_FAILURE_EXTERNAL_SERVICE_ERROR',
  'RESULT_FAILURE',
] as const;

export type ResultName = (typeof RESULT_NAMES)[number];

/** The technician's feedback of openOBD's UserFeedback enum, sent with a service result. */
export const USER_FEEDBACK_NAMES = [
  'USER_FEEDBACK_NOTHING',
  'USER_FEEDBACK_SUCCESS',
  'USER_FEEDBACK_FAILURE',
  'USER_FEEDBACK_ASSISTANCE_REQUESTED',
] as const;

export type UserFeedbackName = (typeof USER_FEEDBACK_NAMES)[number];

export interface ServiceResultMessage {
  result: Array<ResultName | number>;
  user_feedback?: UserFeedbackName | number;
  description?: string;
}

export type PaddingName =
  'PADDING_UNDEFINED' | 'PADDING_ENABLED' | 'PADDING_DETECTION' | 'PADDING_DISABLED' | 'PADDING_SET_FROM_ECU' | 'PADDING_SET_TOWARDS_ECU';

export type KeepAliveName = 'KEEP_ALIVE_UNDEFINED' | 'KEEP_ALIVE_ENABLED' | 'KEEP_ALIVE_DISABLED';

export interface IsotpChannelMessage {
  bus_name: string;
  request_id: number;
  response_id: number;
  extended_request_address?: number;
  extended_response_address?: number;
  padding?: PaddingName | number;
  keep_alive?: KeepAliveName | number;
}

export interface IsotpMessageMessage {
  channel: IsotpChannelMessage | null;
  /** Hexadecimal digits, not bytes (openOBD documentation, "Vehicle communication"). */
  payload: string;
}

export interface KeywordMessage {
  key_byte_1: number;
  key_byte_2: number;
}

export interface KlineChannelMessage {
  bus_name: string;
  /** The ECU's K-Line address. */
  ecu_id: number;
  /** Key bytes of the ECU (ISO 14230-2); optional. */
  keyword?: KeywordMessage | null;
}

export interface KlineMessageMessage {
  channel: KlineChannelMessage | null;
  payload: string;
}

export interface Tp20ChannelMessage {
  bus_name: string;
  /** The ECU's logical address (VW TP 2.0). */
  logical_address: number;
}

export interface Tp20MessageMessage {
  channel: Tp20ChannelMessage | null;
  payload: string;
}

export interface DoipChannelMessage {
  bus_name: string;
  /** DoIP logical addresses (ISO 13400-2), 16 bits each. */
  gateway_id: number;
  tester_id: number;
  ecu_id: number;
}

export interface DoipMessageMessage {
  channel: DoipChannelMessage | null;
  payload: string;
}

export interface RawChannelMessage {
  bus_name: string;
  /** CAN id frames are sent with (optional: a channel that only listens has none). */
  request_id?: number;
  /** CAN id frames are received from (optional). */
  response_id?: number;
}

export interface RawFrameMessage {
  channel: RawChannelMessage | null;
  /** The frame's data bytes as hex (optional: a message without payload announces the channel). */
  payload?: string;
}

export type KlineProtocolName = 'KLINE_PROTOCOL_UNDEFINED' | 'KLINE_PROTOCOL_ISO14230_SLOW' | 'KLINE_PROTOCOL_ISO14230_FAST';
export type KlineBitRateName = 'KLINE_BIT_RATE_UNDEFINED' | 'KLINE_BIT_RATE_9600' | 'KLINE_BIT_RATE_10400' | 'KLINE_BIT_RATE_15625';
export type DoipOptionName = 'DOIP_OPTION_UNDEFINED' | 'DOIP_OPTION_1' | 'DOIP_OPTION_2';

export type CanProtocolName = 'CAN_PROTOCOL_UNDEFINED' | 'CAN_PROTOCOL_ISOTP' | 'CAN_PROTOCOL_TP20' | 'CAN_PROTOCOL_FRAMES';

export type CanBitRateName =
  | 'CAN_BIT_RATE_UNDEFINED'
  | 'CAN_BIT_RATE_1000'
  | 'CAN_BIT_RATE_500'
  | 'CAN_BIT_RATE_250'
  | 'CAN_BIT_RATE_125'
  | 'CAN_BIT_RATE_100'
  | 'CAN_BIT_RATE_94'
  | 'CAN_BIT_RATE_83_3'
  | 'CAN_BIT_RATE_50'
  | 'CAN_BIT_RATE_33_3'
  | 'CAN_BIT_RATE_20'
  | 'CAN_BIT_RATE_10'
  | 'CAN_BIT_RATE_5';

export interface CanBusMessage {
  pin_plus: number;
  pin_min: number;
  can_protocol: CanProtocolName | number;
  can_bit_rate: CanBitRateName | number;
  transceiver?: 'TRANSCEIVER_SPEED_LOW' | 'TRANSCEIVER_SPEED_HIGH' | number;
}

export interface KlineBusMessage {
  pin: number;
  kline_protocol: KlineProtocolName | number;
  kline_bit_rate: KlineBitRateName | number;
}

export interface Terminal15BusMessage {
  pin: number;
}

export interface DoipBusMessage {
  doip_option: DoipOptionName | number;
  /** DOIP_NETWORK_CONFIGURATION_1 … _9 (numbers 3001 … 3009 on the wire). */
  doip_network_configuration: string | number;
}

export interface BusConfigurationMessage {
  bus_name: string;
  can_bus?: CanBusMessage | null;
  kline_bus?: KlineBusMessage | null;
  terminal15_bus?: Terminal15BusMessage | null;
  doip_bus?: DoipBusMessage | null;
  /** Set by the decoder: which member of the oneof is present. */
  BusDefinition?: 'can_bus' | 'kline_bus' | 'terminal15_bus' | 'doip_bus';
}

export interface ConfiguredChannelMessage {
  raw_channel?: RawChannelMessage | null;
  isotp_channel?: IsotpChannelMessage | null;
  kline_channel?: KlineChannelMessage | null;
  tp20_channel?: Tp20ChannelMessage | null;
  doip_channel?: DoipChannelMessage | null;
  ChannelDefinition?: 'raw_channel' | 'isotp_channel' | 'kline_channel' | 'tp20_channel' | 'doip_channel';
}

export interface ConfigurationMessage {
  buses: BusConfigurationMessage[];
  channels: ConfiguredChannelMessage[];
}

export interface ConnectorInformationMessage {
  connected: boolean;
  /** Unix milliseconds; uint64 on the wire, a decimal string here. */
  connected_since: string;
  latency: number;
  healthy: boolean;
}

export interface Terminal15MessageMessage {
  state?: 'STATE_UNDEFINED' | 'STATE_ON' | 'STATE_OFF' | number;
}

export interface IsotpEcuMessage {
  can_bus: CanBusMessage | null;
  request_id: number;
  response_id: number;
  extended_request_address?: number;
  extended_response_address?: number;
}

export interface KlineEcuMessage {
  kline_bus: KlineBusMessage | null;
  ecu_id: number;
}

export interface DoipEcuMessage {
  doip_bus: DoipBusMessage | null;
  gateway_id: number;
  tester_id: number;
  ecu_id: number;
}

export interface Tp20EcuMessage {
  can_bus: CanBusMessage | null;
  logical_address: number;
}

export interface EcuMessage {
  isotp_ecu?: IsotpEcuMessage | null;
  kline_ecu?: KlineEcuMessage | null;
  doip_ecu?: DoipEcuMessage | null;
  tp20_ecu?: Tp20EcuMessage | null;
  EcuType?: 'isotp_ecu' | 'kline_ecu' | 'doip_ecu' | 'tp20_ecu';
}

export interface EcuListMessage {
  ecus: EcuMessage[];
}

export interface ControlMessage {
  target?: 'INTERFACE_UNDEFINED' | 'INTERFACE_USER' | 'INTERFACE_OPERATOR' | number;
  control_label?: { label: string; minimal_display_time?: number } | null;
  control_options?: { label: string; options: string[]; answer?: number } | null;
  control_continue?: { label: string } | null;
  control_yesno?: { label: string; answer?: boolean } | null;
  control_freetext?: { label: string; answer?: string } | null;
  control_number?: { label: string; minimum: number; maximum: number; answer?: number } | null;
  translations?: Array<{ label: string; translations: Array<{ language: string; label: string }> }>;
  image?: { url: string } | null;
  ControlType?: 'control_label' | 'control_options' | 'control_continue' | 'control_yesno' | 'control_freetext' | 'control_number';
}

export type ContextTypeName = 'UNDEFINED_CONTEXT' | 'GLOBAL_CONTEXT' | 'FUNCTION_CONTEXT' | 'CONNECTION_CONTEXT';

/** google.protobuf.Any as proto-loader decodes it. */
export interface AnyMessage {
  type_url: string;
  value: Buffer | Uint8Array;
}

export interface VariableMessage {
  type?: ContextTypeName | number;
  key: string;
  value?: string;
  object?: AnyMessage | null;
  /** Set by the decoder: which member of the oneof is present. */
  Val?: 'value' | 'object';
}

export interface VariableListMessage {
  variables: VariableMessage[];
}

export interface VariableSelectionMessage {
  type?: ContextTypeName | number;
  prefix?: string;
}

export interface FunctionContextMessage {
  id: string;
  finished?: boolean;
  monitor_token?: string;
  authentication_token?: string;
  service_result?: ServiceResultMessage | null;
}

export interface FunctionDetailsMessage {
  id: string;
  version: string;
  name: string;
  description?: string;
  products?: Array<{ id: string }>;
  vehicles?: Array<{ id: string }>;
}

export type FunctionRegistrationStateName =
  | 'FUNCTION_REGISTRATION_STATE_UNDEFINED'
  | 'FUNCTION_REGISTRATION_STATE_ONLINE'
  | 'FUNCTION_REGISTRATION_STATE_OFFLINE'
  | 'FUNCTION_REGISTRATION_STATE_UNAVAILABLE';

export type FunctionVisibilityName = 'FUNCTION_VISIBILITY_UNDEFINED' | 'FUNCTION_VISIBILITY_DASHBOARD' | 'FUNCTION_VISIBILITY_INTERNAL';

export type FunctionUpdateResponseName =
  | 'FUNCTION_UPDATE_UNDEFINED'
  | 'FUNCTION_UPDATE_SUCCESS'
  | 'FUNCTION_UPDATE_FAILED'
  | 'FUNCTION_UPDATE_UNAVAILABLE'
  | 'FUNCTION_UPDATE_UNAUTHORIZED';

export interface FunctionRegistrationMessage {
  details: FunctionDetailsMessage | null;
  state: FunctionRegistrationStateName | number;
  signature?: string;
  visibility?: FunctionVisibilityName | number;
}

export interface FunctionCallMessage {
  id: string;
  caller_id?: string;
  session_info: SessionInfoMessage | null;
}

export interface FunctionUpdateMessage {
  type: 'FUNCTION_UPDATE_TYPE_UNDEFINED' | 'FUNCTION_UPDATE_TYPE_REQUEST' | 'FUNCTION_UPDATE_TYPE_RESPONSE' | number;
  function_registration?: FunctionRegistrationMessage | null;
  function_call?: FunctionCallMessage | null;
  function_broker_token?: TokenMessage | null;
  function_broker_reconnect?: { seconds_until_disconnect: number } | null;
  response?: FunctionUpdateResponseName | number;
  response_description?: string;
  /** Set by the decoder: which member of the oneof is present. */
  FunctionData?: 'function_registration' | 'function_call' | 'function_broker_token' | 'function_broker_reconnect';
}

export interface FunctionSignatureMessage {
  id: string;
  signature: string;
}
