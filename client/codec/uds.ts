/**
 * Request/response envelope rules shared by UDS (ISO 14229-1) and OBD-II (SAE J1979): which answer belongs
 * to which request. The request engine listens on a stream that may also carry late answers to earlier
 * requests, so anything that cannot be the answer to *this* request is reported as 'unrelated' and skipped.
 */
import { OpenObdError } from '../errors';
import { toHex } from './hex';
import { NRC_BUSY_REPEAT_REQUEST, NRC_RESPONSE_PENDING, nrcName } from './nrc';

export const NEGATIVE_RESPONSE_SID = 0x7f;
export const POSITIVE_RESPONSE_OFFSET = 0x40;
const SPRMIB = 0x80;
const SUB_FUNCTION_MASK = 0x7f;

/** Services whose second byte is a sub-function (with the suppress-positive-response bit). */
const SERVICES_WITH_SUB_FUNCTION: ReadonlySet<number> = new Set([
  0x10, // DiagnosticSessionControl
  0x11, // ECUReset
  0x19, // ReadDTCInformation
  0x27, // SecurityAccess
  0x28, // CommunicationControl
  0x29, // Authentication
  0x2c, // DynamicallyDefineDataIdentifier
  0x31, // RoutineControl
  0x3e, // TesterPresent
  0x83, // AccessTimingParameter
  0x85, // ControlDTCSetting
  0x86, // ResponseOnEvent
  0x87, // LinkControl
]);

export type ResponseKind = 'positive' | 'negative' | 'pending' | 'busy' | 'unrelated';

export interface ResponseDescription {
  positive: boolean;
  /** The request's service id. */
  sid: number;
  /** First byte of the response: SID + 0x40, or 0x7F. */
  responseSid: number;
  nrc?: number;
  nrcName?: string;
  /** Bytes after the response SID; empty for a negative response. */
  data: Buffer;
}

export function hasSubFunction(sid: number): boolean {
  return SERVICES_WITH_SUB_FUNCTION.has(sid);
}

/** True when the ECU will send no positive answer, so the caller must not wait for one. */
export function suppressesPositiveResponse(request: Uint8Array): boolean {
  return request.length >= 2 && hasSubFunction(request[0]!) && (request[1]! & SPRMIB) !== 0;
}

export function positiveResponseSid(sid: number): number {
  return sid + POSITIVE_RESPONSE_OFFSET;
}

/**
 * ReadDTCInformation answers carry fixed fields after the echo. Without them a "positive" answer could
 * not be decoded, so it is as useless as a stray frame (udsoncan rejects these lengths too).
 */
function readDtcMinimumLength(reportType: number): number {
  switch (reportType) {
    case 0x04: // reportDTCSnapshotRecordByDTCNumber: DTC(3), status
    case 0x06: // reportDTCExtDataRecordByDTCNumber: DTC(3), status
    case 0x01: // reportNumberOfDTCByStatusMask: avail, format, count(2)
    case 0x07: // reportNumberOfDTCBySeverityMaskRecord
    case 0x11: // reportNumberOfMirrorMemoryDTCByStatusMask
    case 0x12: // reportNumberOfEmissionsOBDDTCByStatusMask
      return 6;
    case 0x02: // reportDTCByStatusMask: avail [records]
    case 0x0a: // reportSupportedDTC
    case 0x0b: // reportFirstTestFailedDTC
    case 0x0c: // reportFirstConfirmedDTC
    case 0x0d: // reportMostRecentTestFailedDTC
    case 0x0e: // reportMostRecentConfirmedDTC
    case 0x0f: // reportMirrorMemoryDTCByStatusMask
    case 0x13: // reportEmissionsOBDDTCByStatusMask
    case 0x15: // reportDTCWithPermanentStatus
      return 3;
    default:
      return 2;
  }
}

/** Whether `response` repeats the parts of `request` that the service echoes, and is long enough. */
function echoMatches(request: Uint8Array, response: Uint8Array): boolean {
  const sid = request[0]!;
  const requestSub = request[1];
  const sameSubFunction = (): boolean =>
    requestSub === undefined || (response.length >= 2 && (response[1]! & SUB_FUNCTION_MASK) === (requestSub & SUB_FUNCTION_MASK));

  switch (sid) {
    case 0x10:
    case 0x27:
    case 0x28:
    case 0x29:
    case 0x2c:
    case 0x3e:
    case 0x83:
    case 0x85:
    case 0x86:
    case 0x87:
      return sameSubFunction();
    case 0x11: {
      // enableRapidPowerShutDown (04) adds the power-down time.
      const carriesPowerDownTime = requestSub !== undefined && (requestSub & SUB_FUNCTION_MASK) === 0x04;
      return sameSubFunction() && (!carriesPowerDownTime || response.length >= 3);
    }
    case 0x19: {
      const minimum = requestSub === undefined ? 1 : readDtcMinimumLength(requestSub & SUB_FUNCTION_MASK);
      return sameSubFunction() && response.length >= minimum;
    }
    case 0x31:
      // controlType and routine id: 71 ct RIDhi RIDlo
      return sameSubFunction() && prefixMatches(request, response, 2, 2);
    case 0x22:
      // An ECU leaves out the DIDs it does not support, so the answer may start with any requested DID.
      return startsWithOneOf(request, response, 2, 2);
    case 0x2e:
    case 0x2f:
    case 0x24:
      return prefixMatches(request, response, 1, 2);
    case 0x36:
      return prefixMatches(request, response, 1, 1); // blockSequenceCounter
    case 0x01:
    case 0x09:
      // Multi-PID requests are answered with the supported PIDs only.
      return startsWithOneOf(request, response, 1, 1);
    case 0x02:
      // Requests are "PID frame" pairs; the PID identifies the answer (the frame is nearly always 00).
      return startsWithOneOf(request, response, 1, 2);
    default:
      return true;
  }
}

/** The `length` bytes at `offset` are equal in request and response (as far as the request has them). */
function prefixMatches(request: Uint8Array, response: Uint8Array, offset: number, length: number): boolean {
  const available = Math.max(0, Math.min(length, request.length - offset));
  if (response.length < offset + available) return false;
  for (let i = offset; i < offset + available; i++) if (request[i] !== response[i]) return false;
  return true;
}

/**
 * The response's identifier (1 or 2 bytes after the SID) is one of the request's identifiers, which
 * start at byte 1 and repeat every `stride` bytes.
 */
function startsWithOneOf(request: Uint8Array, response: Uint8Array, idLength: number, stride: number): boolean {
  if (request.length < 1 + idLength) return true; // nothing identified in the request: SID match is all there is
  if (response.length < 1 + idLength) return false;
  for (let at = 1; at + idLength <= request.length; at += stride) {
    let same = true;
    for (let i = 0; i < idLength; i++) if (request[at + i] !== response[1 + i]) same = false;
    if (same) return true;
  }
  return false;
}

/**
 * KWP2000 (ISO 14230-3) shares the envelope (SID + 0x40, `7F SID NRC`, 0x78 and 0x21) but not the
 * sub-function byte: its second byte is a parameter without a suppress bit (StartDiagnosticSession
 * 0x81 is the default session), and its echo rules are its own.
 */
function kwpEchoMatches(request: Uint8Array, response: Uint8Array): boolean {
  switch (request[0]) {
    case 0x10: // StartDiagnosticSession: 50 diagnosticMode
    case 0x1a: // ReadEcuIdentification: 5A identificationOption
    case 0x21: // ReadDataByLocalIdentifier: 61 recordLocalIdentifier
    case 0x27: // SecurityAccess: 67 accessMode
    case 0x30: // InputOutputControlByLocalIdentifier
    case 0x31: // StartRoutineByLocalIdentifier
    case 0x32: // StopRoutineByLocalIdentifier
    case 0x33: // RequestRoutineResultsByLocalIdentifier
    case 0x3b: // WriteDataByLocalIdentifier
      return prefixMatches(request, response, 1, 1);
    case 0x18: // ReadDiagnosticTroubleCodesByStatus: 58 numberOfDTC
      return response.length >= 2;
    default:
      return true;
  }
}

/** KWP2000 TesterPresent with responseRequired = 02 (ISO 14230-3) is the one request without an answer. */
export function kwpSuppressesResponse(request: Uint8Array): boolean {
  return request.length >= 2 && request[0] === 0x3e && request[1] === 0x02;
}

/** What a received payload means for the request that is waiting for an answer (by UDS rules unless `protocol` says KWP2000). */
export function classifyResponse(request: Uint8Array, response: Uint8Array, protocol?: 'uds' | 'kwp2000'): ResponseKind {
  if (request.length === 0 || response.length === 0) return 'unrelated';
  const sid = request[0]!;
  if (response[0] === NEGATIVE_RESPONSE_SID) {
    if (response.length !== 3 || response[1] !== sid) return 'unrelated';
    if (response[2] === NRC_RESPONSE_PENDING) return 'pending';
    if (response[2] === NRC_BUSY_REPEAT_REQUEST) return 'busy';
    return 'negative';
  }
  if (response[0] !== positiveResponseSid(sid)) return 'unrelated';
  if (protocol === 'kwp2000') return kwpEchoMatches(request, response) ? 'positive' : 'unrelated';
  return echoMatches(request, response) ? 'positive' : 'unrelated';
}

/**
 * The parts of an answer a flow needs. Only an answer to this request can be described: anything that
 * classifyResponse calls 'unrelated' throws INVALID_RESPONSE.
 */
export function describeResponse(request: Uint8Array, response: Uint8Array): ResponseDescription {
  if (request.length === 0) {
    throw new OpenObdError('BAD_PAYLOAD', 'Request is empty, so no response can be matched to it');
  }
  const sid = request[0]!;
  const kind = classifyResponse(request, response);
  if (kind === 'unrelated') {
    const got = response.length === 0 ? 'an empty response' : `response ${toHex(response)}`;
    throw new OpenObdError('INVALID_RESPONSE', `Got ${got}, which is not an answer to request ${toHex(request)}`);
  }
  if (kind === 'positive') {
    return { positive: true, sid, responseSid: response[0]!, data: Buffer.from(response.subarray(1)) };
  }
  const nrc = response[2]!;
  return { positive: false, sid, responseSid: response[0]!, nrc, nrcName: nrcName(nrc), data: Buffer.alloc(0) };
}
