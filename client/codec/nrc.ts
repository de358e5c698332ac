/**
 * Negative response codes (ISO 14229-1:2020 Annex A, via public secondary sources) and service names.
 * Names follow the standard's camelCase spelling so they can be matched in flows and looked up in docs.
 */

import { hexByte } from '../../protocol';

interface NrcEntry {
  readonly name: string;
  readonly description: string;
}

const NRC_TABLE: ReadonlyArray<readonly [number, string, string]> = [
  [0x10, 'generalReject', 'The ECU rejected the request without giving a more specific reason'],
  [0x11, 'serviceNotSupported', 'The ECU does not support this service'],
  [0x12, 'subFunctionNotSupported', 'The ECU does not support the requested sub-function of this service'],
  [0x13, 'incorrectMessageLengthOrInvalidFormat', 'The request has the wrong length or format for this service'],
  [0x14, 'responseTooLong', 'The answer would be longer than the transport can carry'],
  [0x21, 'busyRepeatRequest', 'The ECU is busy; send the request again a little later'],
  [0x22, 'conditionsNotCorrect', 'The vehicle or ECU is not in a state that allows this request (for example the engine is running)'],
  [0x24, 'requestSequenceError', 'The request came out of order (for example a key sent before asking for a seed)'],
  [0x25, 'noResponseFromSubnetComponent', 'A component behind this ECU, which is needed to answer, did not respond'],
  [0x26, 'failurePreventsExecutionOfRequestedAction', 'A stored fault prevents the ECU from carrying out this request'],
  [0x31, 'requestOutOfRange', 'The ECU does not support the requested identifier or parameter value'],
  [0x33, 'securityAccessDenied', 'The ECU is locked: security access must be unlocked first'],
  [0x34, 'authenticationRequired', 'The ECU requires the tester to authenticate first'],
  [0x35, 'invalidKey', 'The security key was wrong; this counts as a failed unlock attempt'],
  [0x36, 'exceedNumberOfAttempts', 'Too many wrong security keys were sent; the ECU blocks further attempts for a while'],
  [0x37, 'requiredTimeDelayNotExpired', 'The ECU requires a waiting time before the next unlock attempt'],
  [0x38, 'secureDataTransmissionRequired', 'The request must be sent over a secured connection'],
  [0x39, 'secureDataTransmissionNotAllowed', 'The request is not allowed over a secured connection'],
  [0x3a, 'secureDataVerificationFailed', 'The secured message could not be verified'],
  [0x50, 'certificateVerificationFailedInvalidTimePeriod', "The certificate is not valid at the ECU's current date and time"],
  [0x51, 'certificateVerificationFailedInvalidSignature', 'The certificate signature could not be verified'],
  [0x52, 'certificateVerificationFailedInvalidChainOfTrust', 'The certificate could not be traced to a trusted issuer'],
  [0x53, 'certificateVerificationFailedInvalidType', 'The certificate is of the wrong type for this use'],
  [0x54, 'certificateVerificationFailedInvalidFormat', 'The certificate is not in the expected format'],
  [0x55, 'certificateVerificationFailedInvalidContent', 'The certificate content does not match what the ECU expects'],
  [0x56, 'certificateVerificationFailedInvalidScope', 'The certificate scope does not cover this ECU'],
  [0x57, 'certificateVerificationFailedInvalidCertificate', 'The certificate was revoked or is otherwise invalid'],
  [0x58, 'ownershipVerificationFailed', 'The proof of ownership did not match the challenge'],
  [0x59, 'challengeCalculationFailed', 'The ECU could not calculate an authentication challenge'],
  [0x5a, 'settingAccessRightsFailed', 'The ECU could not set the access rights'],
  [0x5b, 'sessionKeyCreationOrDerivationFailed', 'The ECU could not create or derive a session key'],
  [0x5c, 'configurationDataUsageFailed', 'The ECU could not use the provided configuration data'],
  [0x5d, 'deAuthenticationFailed', 'De-authentication failed; the ECU may still be unlocked'],
  [0x70, 'uploadDownloadNotAccepted', 'The ECU did not accept the upload or download'],
  [0x71, 'transferDataSuspended', 'The data transfer was stopped because of a fault'],
  [0x72, 'generalProgrammingFailure', 'The ECU failed to erase or program its memory'],
  [0x73, 'wrongBlockSequenceCounter', 'A data block arrived with the wrong sequence number'],
  [0x78, 'requestCorrectlyReceivedResponsePending', 'The ECU received the request and is still working on the answer'],
  [
    0x7e,
    'subFunctionNotSupportedInActiveSession',
    'This sub-function is not available in the current diagnostic session; another session is needed',
  ],
  [
    0x7f,
    'serviceNotSupportedInActiveSession',
    'This service is not available in the current diagnostic session; another session is needed',
  ],
  [0x81, 'rpmTooHigh', 'The engine speed is too high for this request'],
  [0x82, 'rpmTooLow', 'The engine speed is too low for this request'],
  [0x83, 'engineIsRunning', 'The engine must be switched off for this request'],
  [0x84, 'engineIsNotRunning', 'The engine must be running for this request'],
  [0x85, 'engineRunTimeTooLow', 'The engine has not been running long enough for this request'],
  [0x86, 'temperatureTooHigh', 'A temperature is too high for this request'],
  [0x87, 'temperatureTooLow', 'A temperature is too low for this request'],
  [0x88, 'vehicleSpeedTooHigh', 'The vehicle is moving too fast for this request'],
  [0x89, 'vehicleSpeedTooLow', 'The vehicle is moving too slowly for this request'],
  [0x8a, 'throttlePedalTooHigh', 'The throttle or accelerator pedal is pressed too far for this request'],
  [0x8b, 'throttlePedalTooLow', 'The throttle or accelerator pedal is not pressed far enough for this request'],
  [0x8c, 'transmissionRangeNotInNeutral', 'The transmission must be in neutral for this request'],
  [0x8d, 'transmissionRangeNotInGear', 'The transmission must be in gear for this request'],
  [0x8f, 'brakeSwitchesNotClosed', 'The brake pedal must be pressed for this request'],
  [0x90, 'shifterLeverNotInPark', 'The gear lever must be in park for this request'],
  [0x91, 'torqueConverterClutchLocked', 'The torque converter clutch is locked, which prevents this request'],
  [0x92, 'voltageTooHigh', 'The ECU supply voltage is too high for this request'],
  [0x93, 'voltageTooLow', 'The ECU supply voltage is too low for this request'],
  [0x94, 'resourceTemporarilyNotAvailable', 'A resource the ECU needs for this request is temporarily unavailable'],
];

const NRC_ENTRIES: ReadonlyMap<number, NrcEntry> = new Map(NRC_TABLE.map(([code, name, description]) => [code, { name, description }]));

/** Negative response code → ISO 14229-1 name, for the assigned codes only. */
export const NRC_NAMES: Readonly<Record<number, string>> = Object.freeze(Object.fromEntries(NRC_TABLE.map(([code, name]) => [code, name])));

export const NRC_RESPONSE_PENDING = 0x78;
export const NRC_BUSY_REPEAT_REQUEST = 0x21;

function isByte(code: number): boolean {
  return Number.isInteger(code) && code >= 0 && code <= 0xff;
}

function isManufacturerSpecific(code: number): boolean {
  return code >= 0xf0 && code <= 0xfe;
}

/** The code's name; unassigned codes get the name of their reserved range so every byte has a label. */
export function nrcName(code: number): string {
  if (!isByte(code)) return 'invalidNrc';
  const entry = NRC_ENTRIES.get(code);
  if (entry) return entry.name;
  return isManufacturerSpecific(code) ? 'vehicleManufacturerSpecificConditionsNotCorrect' : 'ISOSAEReserved';
}

/** One sentence for a person reading a dashboard or an error message. */
export function nrcDescription(code: number): string {
  if (!isByte(code)) return `${String(code)} is not a negative response code (those are single bytes)`;
  const entry = NRC_ENTRIES.get(code);
  if (entry) return entry.description;
  if (isManufacturerSpecific(code)) {
    return `A condition defined by the vehicle manufacturer is not met (code 0x${hexByte(code)})`;
  }
  return `The ECU refused the request with a code the standard does not assign (0x${hexByte(code)})`;
}

const SERVICE_NAMES: ReadonlyMap<number, string> = new Map([
  // SAE J1979 / ISO 15031-5 emissions services ("modes")
  [0x01, 'OBD ShowCurrentData'],
  [0x02, 'OBD ShowFreezeFrameData'],
  [0x03, 'OBD ShowStoredDTCs'],
  [0x04, 'OBD ClearDTCs'],
  [0x05, 'OBD OxygenSensorTestResults'],
  [0x06, 'OBD OnBoardMonitoringTestResults'],
  [0x07, 'OBD ShowPendingDTCs'],
  [0x08, 'OBD ControlOnBoardSystem'],
  [0x09, 'OBD RequestVehicleInformation'],
  [0x0a, 'OBD ShowPermanentDTCs'],
  // ISO 14229-1 UDS
  [0x10, 'DiagnosticSessionControl'],
  [0x11, 'ECUReset'],
  [0x14, 'ClearDiagnosticInformation'],
  [0x19, 'ReadDTCInformation'],
  [0x22, 'ReadDataByIdentifier'],
  [0x23, 'ReadMemoryByAddress'],
  [0x24, 'ReadScalingDataByIdentifier'],
  [0x27, 'SecurityAccess'],
  [0x28, 'CommunicationControl'],
  [0x29, 'Authentication'],
  [0x2a, 'ReadDataByPeriodicIdentifier'],
  [0x2c, 'DynamicallyDefineDataIdentifier'],
  [0x2e, 'WriteDataByIdentifier'],
  [0x2f, 'InputOutputControlByIdentifier'],
  [0x31, 'RoutineControl'],
  [0x34, 'RequestDownload'],
  [0x35, 'RequestUpload'],
  [0x36, 'TransferData'],
  [0x37, 'RequestTransferExit'],
  [0x38, 'RequestFileTransfer'],
  [0x3d, 'WriteMemoryByAddress'],
  [0x3e, 'TesterPresent'],
  [0x83, 'AccessTimingParameter'],
  [0x84, 'SecuredDataTransmission'],
  [0x85, 'ControlDTCSetting'],
  [0x86, 'ResponseOnEvent'],
  [0x87, 'LinkControl'],
]);

/** Name of a request service id (UDS service or OBD mode), or undefined when it is not a known one. */
export function serviceName(sid: number): string | undefined {
  return SERVICE_NAMES.get(sid);
}

/** KWP2000 service names (ISO 14230-3), where they differ from UDS's or UDS has none. */
const KWP_SERVICE_NAMES: ReadonlyMap<number, string> = new Map([
  [0x10, 'StartDiagnosticSession'],
  [0x11, 'ECUReset'],
  [0x14, 'ClearDiagnosticInformation'],
  [0x17, 'ReadStatusOfDiagnosticTroubleCodes'],
  [0x18, 'ReadDiagnosticTroubleCodesByStatus'],
  [0x1a, 'ReadECUIdentification'],
  [0x21, 'ReadDataByLocalIdentifier'],
  [0x22, 'ReadDataByCommonIdentifier'],
  [0x23, 'ReadMemoryByAddress'],
  [0x27, 'SecurityAccess'],
  [0x2e, 'WriteDataByCommonIdentifier'],
  [0x30, 'InputOutputControlByLocalIdentifier'],
  [0x31, 'StartRoutineByLocalIdentifier'],
  [0x32, 'StopRoutineByLocalIdentifier'],
  [0x33, 'RequestRoutineResultsByLocalIdentifier'],
  [0x34, 'RequestDownload'],
  [0x36, 'TransferData'],
  [0x37, 'RequestTransferExit'],
  [0x3b, 'WriteDataByLocalIdentifier'],
  [0x3e, 'TesterPresent'],
  [0x81, 'StartCommunication'],
  [0x82, 'StopCommunication'],
  [0x83, 'AccessTimingParameters'],
]);

export function kwpServiceName(sid: number): string | undefined {
  return KWP_SERVICE_NAMES.get(sid);
}
