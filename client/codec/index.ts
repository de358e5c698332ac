/** Pure diagnostic codecs: no I/O, no dependencies beyond Node built-ins. */
export { ISOTP_MAX_PAYLOAD, parseHex, toHex, toPayloadBytes, type PayloadOptions } from './hex';
export { NRC_BUSY_REPEAT_REQUEST, NRC_NAMES, NRC_RESPONSE_PENDING, kwpServiceName, nrcDescription, nrcName, serviceName } from './nrc';
export {
  NEGATIVE_RESPONSE_SID,
  POSITIVE_RESPONSE_OFFSET,
  classifyResponse,
  describeResponse,
  hasSubFunction,
  kwpSuppressesResponse,
  positiveResponseSid,
  suppressesPositiveResponse,
  type ResponseDescription,
  type ResponseKind,
} from './uds';
export { decodeDtcStatus, obdDtcToString, udsDtcToString, type DtcStatus } from './dtc';
export { dtcLine, dtcMeaning, failureTypeMeaning, type DtcMeaning, type DtcSystem } from './dtc-meaning';
export { WMI_MANUFACTURERS, decodeVin, modelYearFromCode, vinCheckDigit, vinWeightedSum, type VinCheckDigit, type VinInfo } from './vin';
export {
  OBD_MODE01_PIDS,
  decodeMode01,
  decodeObdDtcs,
  decodeObdVin,
  decodeSupportedPids,
  type Mode01Result,
  type ObdPid,
  type ObdPidValue,
  type ObdValue,
} from './obd';
export { DID_NAMES, decodeResponse, type DecodedResponse, type DecodeOptions } from './decode';
export { decodeKwpDtcs, decodeKwpPositive, kwpIdentificationName, type KwpDtc } from './kwp';
