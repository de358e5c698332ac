import assert from 'node:assert/strict';
import { OpenObdError } from '../../client/errors';
import {
  NRC_NAMES,
  classifyResponse,
  decodeResponse,
  describeResponse,
  hasSubFunction,
  nrcDescription,
  nrcName,
  parseHex,
  serviceName,
  suppressesPositiveResponse,
  type ResponseKind,
} from '../../client/codec';

const h = parseHex;

function kind(request: string, response: string): ResponseKind {
  return classifyResponse(h(request), h(response));
}

describe('codec/uds hasSubFunction and suppressesPositiveResponse', () => {
  it('knows which services carry a sub-function', () => {
    for (const sid of [0x10, 0x11, 0x19, 0x27, 0x28, 0x31, 0x3e, 0x85]) assert.equal(hasSubFunction(sid), true, `0x${sid.toString(16)}`);
    for (const sid of [0x14, 0x22, 0x2e, 0x2f, 0x01, 0x09]) assert.equal(hasSubFunction(sid), false, `0x${sid.toString(16)}`);
  });

  it('U6: 11 D5 suppresses the positive response', () => {
    assert.equal(suppressesPositiveResponse(h('11 D5')), true);
    assert.equal(suppressesPositiveResponse(h('11 55')), false);
  });

  it('U29: 3E 80 suppresses the positive response, 3E 00 does not', () => {
    assert.equal(suppressesPositiveResponse(h('3E 80')), true);
    assert.equal(suppressesPositiveResponse(h('3E 00')), false);
  });

  it('ignores bit 7 for services without a sub-function and for short requests', () => {
    assert.equal(suppressesPositiveResponse(h('14 FF FF FF')), false);
    assert.equal(suppressesPositiveResponse(h('22 80 00')), false);
    assert.equal(suppressesPositiveResponse(h('3E')), false);
    assert.equal(suppressesPositiveResponse(h('')), false);
    assert.equal(suppressesPositiveResponse(h('10 83')), true);
    assert.equal(suppressesPositiveResponse(h('31 81 FF 00')), true);
  });
});

describe('codec/uds classifyResponse on the UDS vectors (public python-udsoncan vectors)', () => {
  it('U1: 50 01 with a 2- or 4-byte session parameter record is positive', () => {
    assert.equal(kind('10 01', '50 01 99 88'), 'positive');
    assert.equal(kind('10 01', '50 01 99 88 12 34'), 'positive');
  });

  it('U2/U3: session responses with timings are positive', () => {
    assert.equal(kind('10 01', '50 01 03 E8 00 C8'), 'positive');
    assert.equal(kind('10 01', '50 01 00 32 01 F4'), 'positive');
  });

  it('U4: 7F 10 12 is a negative response subFunctionNotSupported', () => {
    assert.equal(kind('10 08', '7F 10 12'), 'negative');
    const description = describeResponse(h('10 08'), h('7F 10 12'));
    assert.deepEqual(description, {
      positive: false,
      sid: 0x10,
      responseSid: 0x7f,
      nrc: 0x12,
      nrcName: 'subFunctionNotSupported',
      data: Buffer.alloc(0),
    });
  });

  it('U5: ECUReset echoes the reset type; 04 carries the power-down time', () => {
    assert.equal(kind('11 55', '51 55'), 'positive');
    assert.equal(kind('11 04', '51 04 23'), 'positive');
    assert.equal(kind('11 04', '51 04'), 'unrelated'); // powerDownTime missing
    assert.equal(kind('11 55', '51 01'), 'unrelated');
  });

  it('U7: 7F 11 33 is securityAccessDenied', () => {
    assert.equal(kind('11 55', '7F 11 33'), 'negative');
    assert.equal(describeResponse(h('11 55'), h('7F 11 33')).nrcName, 'securityAccessDenied');
  });

  it('U8: 54 answers ClearDiagnosticInformation for all DTCs or a group', () => {
    assert.equal(kind('14 FF FF FF', '54'), 'positive');
    assert.equal(kind('14 12 34 56', '54'), 'positive');
  });

  it('U9: 7F 14 31 is requestOutOfRange', () => {
    assert.equal(kind('14 12 34 56', '7F 14 31'), 'negative');
    assert.equal(describeResponse(h('14 12 34 56'), h('7F 14 31')).nrcName, 'requestOutOfRange');
  });

  it('U10-U14: ReadDTCInformation answers of full length are positive', () => {
    assert.equal(kind('19 01 5A', '59 01 FB 01 12 34'), 'positive'); // U10
    assert.equal(kind('19 02 5A', '59 02 FB 12 34 56 20 12 34 57 60'), 'positive'); // U11
    assert.equal(kind('19 02 5A', '59 02 FB'), 'positive'); // U12
    assert.equal(kind('19 02 FF', '59 02 FF 01 23 45 0F'), 'positive'); // U13
    assert.equal(kind('19 0A', '59 0A FF'), 'positive'); // U14
  });

  it('U15-U17: ReadDataByIdentifier answers echo the DID', () => {
    assert.equal(kind('22 00 01', '62 00 01 12 34'), 'positive');
    assert.equal(kind('22 00 01 00 02 00 04 00 03', '62 00 01 12 34 00 02 56 78 00 04 61 62 63 64 65 00 03 11'), 'positive');
    assert.equal(kind('22 F1 90', '62 F1 90 31 4D 38 47 44 4D 39 41 58 4B 50 30 34 32 37 38 38'), 'positive');
  });

  it('U16: describeResponse returns every byte after the response SID', () => {
    const description = describeResponse(h('22 00 01 00 02 00 04 00 03'), h('62 00 01 12 34 00 02 56 78 00 04 61 62 63 64 65 00 03 11'));
    assert.equal(description.positive, true);
    assert.equal(description.sid, 0x22);
    assert.equal(description.responseSid, 0x62);
    assert.deepEqual(description.data, h('00 01 12 34 00 02 56 78 00 04 61 62 63 64 65 00 03 11'));
    assert.equal(description.nrc, undefined);
    assert.equal(description.nrcName, undefined);
  });

  it('U18/U19/U22: SecurityAccess answers echo the access type', () => {
    assert.equal(kind('27 05', '67 05 99 88 77 66'), 'positive');
    assert.equal(kind('27 06 11 22 33 44', '67 06'), 'positive');
    assert.equal(kind('27 01', '67 01 00 00 00 00'), 'positive');
  });

  it('U20: 7F 27 35 is invalidKey', () => {
    assert.equal(kind('27 06 11 22 33 44', '7F 27 35'), 'negative');
    assert.equal(describeResponse(h('27 06 11 22 33 44'), h('7F 27 35')).nrcName, 'invalidKey');
  });

  it('U21: 7F 27 22 is conditionsNotCorrect', () => {
    assert.equal(kind('27 05', '7F 27 22'), 'negative');
    assert.equal(describeResponse(h('27 05'), h('7F 27 22')).nrcName, 'conditionsNotCorrect');
  });

  it('U23/U24: WriteDataByIdentifier answers echo the DID', () => {
    assert.equal(kind('2E 00 01 12 34', '6E 00 01'), 'positive');
    assert.equal(kind('2E F1 90 31 4D 38 47 44 4D 39 41 58 4B 50 30 34 32 37 38 38', '6E F1 90'), 'positive');
    assert.equal(kind('2E F1 90 31', '6E F1 91'), 'unrelated');
    assert.equal(kind('2E F1 90 31', '6E F1'), 'unrelated');
  });

  it('U25/U26: RoutineControl answers echo control type and routine id', () => {
    assert.equal(kind('31 01 00 12 45 67 89 AA', '71 01 00 12 99 88'), 'positive');
    assert.equal(kind('31 03 12 34 45 67 89 AA', '71 03 12 34 99 88'), 'positive');
    assert.equal(kind('31 01 00 12', '71 01 00 13'), 'unrelated');
    assert.equal(kind('31 01 00 12', '71 02 00 12'), 'unrelated');
    assert.equal(kind('31 01 00 12', '71 01 00'), 'unrelated');
  });

  it('U27: 7F 31 72 is generalProgrammingFailure', () => {
    assert.equal(kind('31 01 00 12', '7F 31 72'), 'negative');
    assert.equal(describeResponse(h('31 01 00 12'), h('7F 31 72')).nrcName, 'generalProgrammingFailure');
  });

  it('U28: 7F 31 78 is pending, and the final answer afterwards is positive', () => {
    const request = '31 01 FF 00 44 08 01 00 00 00 00 4A 8C';
    assert.equal(kind(request, '7F 31 78'), 'pending');
    assert.equal(kind(request, '7F 31 78'), 'pending');
    assert.equal(kind(request, '71 01 FF 00 00'), 'positive');
    const description = describeResponse(h(request), h('7F 31 78'));
    assert.equal(description.positive, false);
    assert.equal(description.nrc, 0x78);
    assert.equal(description.nrcName, 'requestCorrectlyReceivedResponsePending');
  });

  it('U29: 7E 00 answers 3E 00', () => {
    assert.equal(kind('3E 00', '7E 00'), 'positive');
    assert.equal(kind('3E 80', '7E 00'), 'positive'); // some ECUs answer anyway
  });

  it('U30: 7F 3E 13 is incorrectMessageLengthOrInvalidFormat', () => {
    assert.equal(kind('3E 00', '7F 3E 13'), 'negative');
    assert.equal(describeResponse(h('3E 00'), h('7F 3E 13')).nrcName, 'incorrectMessageLengthOrInvalidFormat');
  });

  it('U31: 7F 22 78 is pending for a 22 request and unrelated to any other', () => {
    assert.equal(kind('22 F1 90', '7F 22 78'), 'pending');
    assert.equal(kind('10 01', '7F 22 78'), 'unrelated');
  });

  it('7F xx 21 is busy (the caller repeats the request)', () => {
    assert.equal(kind('22 F1 90', '7F 22 21'), 'busy');
    assert.equal(describeResponse(h('22 F1 90'), h('7F 22 21')).nrcName, 'busyRepeatRequest');
  });

  it('U6/U19 etc.: sub-function echoes compare the low 7 bits only', () => {
    assert.equal(kind('10 83', '50 03 00 32 01 F4'), 'positive');
    assert.equal(kind('10 03', '50 83 00 32 01 F4'), 'positive');
  });
});

describe('codec/uds response-validation negatives (python-udsoncan) are unrelated', () => {
  it('wrong service: 6F… answering 19…', () => {
    assert.equal(kind('19 02 5A', '6F 02 FB'), 'unrelated');
  });

  it('wrong service: 7E 00 answering 10 01', () => {
    assert.equal(kind('10 01', '7E 00'), 'unrelated');
  });

  it('wrong sub-function echo: 67 06… answering 27 05', () => {
    assert.equal(kind('27 05', '67 06 99 88 77 66'), 'unrelated');
  });

  it('too short: 59, 59 02 (no availability mask), 59 01 FB 01 12 (count cut short)', () => {
    assert.equal(kind('19 02 5A', '59'), 'unrelated');
    assert.equal(kind('19 02 5A', '59 02'), 'unrelated');
    assert.equal(kind('19 01 5A', '59 01 FB 01 12'), 'unrelated');
  });

  it('unknown SID: 00 …', () => {
    assert.equal(kind('22 F1 90', '00 01 02'), 'unrelated');
    assert.equal(kind('10 01', '00'), 'unrelated');
  });

  it('a 7F frame of another length or for another service', () => {
    assert.equal(kind('22 F1 90', '7F 22'), 'unrelated');
    assert.equal(kind('22 F1 90', '7F 22 31 00'), 'unrelated');
    assert.equal(kind('22 F1 90', '7F 2E 31'), 'unrelated');
    assert.equal(kind('22 F1 90', '7F'), 'unrelated');
  });

  it('an empty response, or no request', () => {
    assert.equal(kind('22 F1 90', ''), 'unrelated');
    assert.equal(kind('', '62 F1 90 00'), 'unrelated');
  });

  it('a DID answer for a DID that was not requested', () => {
    assert.equal(kind('22 F1 90', '62 F1 87 41 42'), 'unrelated');
    assert.equal(kind('22 F1 90', '62 F1'), 'unrelated');
    // Unsupported DIDs are left out of a multi-DID answer, so it may start with a later one.
    assert.equal(kind('22 F1 90 F1 87', '62 F1 87 41 42'), 'positive');
  });
});

describe('codec/uds classifyResponse on OBD requests', () => {
  it('O4: mode 01 echoes the PID', () => {
    assert.equal(kind('01 0C', '41 0C 1A A0'), 'positive');
    assert.equal(kind('01 0C', '41 0D 3C'), 'unrelated');
    assert.equal(kind('01 0C', '41'), 'unrelated');
  });

  it('O3: a multi-PID answer may start with any requested PID', () => {
    assert.equal(kind('01 05 01 15 0C 03', '41 05 6E 01 83 33 FF 63 15 A0 78 0C 0A 6B 03 02 00'), 'positive');
    assert.equal(kind('01 05 0C', '41 0C 0A 6B'), 'positive');
  });

  it('mode 02 compares the PID only', () => {
    assert.equal(kind('02 0C 00', '42 0C 00 1A A0'), 'positive');
    assert.equal(kind('02 0C 00', '42 0D 00 3C'), 'unrelated');
  });

  it('O14: mode 09 echoes the info type', () => {
    assert.equal(kind('09 02', '49 02 01 57 30 4C 30 30 30 30 35 31 54 32 31 32 33 34 35 36'), 'positive');
    assert.equal(kind('09 02', '49 04 01 32 33'), 'unrelated');
  });

  it('O9/O11/O12: modes 03 and 04 have nothing to echo', () => {
    assert.equal(kind('03', '43 00'), 'positive');
    assert.equal(kind('03', '43 06 01 43 01 96 02 34 02 CD 03 57 0A 24'), 'positive');
    assert.equal(kind('04', '44'), 'positive');
    assert.equal(kind('04', '7F 04 22'), 'negative');
    assert.equal(kind('03', '44'), 'unrelated');
  });
});

describe('codec/uds describeResponse', () => {
  it('U15: a positive answer gives the bytes after the response SID as a copy', () => {
    const response = h('62 00 01 12 34');
    const description = describeResponse(h('22 00 01'), response);
    assert.deepEqual(description, { positive: true, sid: 0x22, responseSid: 0x62, data: h('00 01 12 34') });
    response[3] = 0;
    assert.equal(description.data[2], 0x12);
  });

  it('U12: an answer with no data after the echo', () => {
    assert.deepEqual(describeResponse(h('14 FF FF FF'), h('54')).data, Buffer.alloc(0));
  });

  it('throws INVALID_RESPONSE for an answer that is not to this request', () => {
    assert.throws(
      () => describeResponse(h('27 05'), h('67 06 99')),
      (err: unknown) =>
        err instanceof OpenObdError &&
        err.code === 'INVALID_RESPONSE' &&
        err.message === 'Got response 670699, which is not an answer to request 2705',
    );
    assert.throws(
      () => describeResponse(h('27 05'), h('')),
      (err: unknown) => err instanceof OpenObdError && err.message === 'Got an empty response, which is not an answer to request 2705',
    );
  });

  it('throws BAD_PAYLOAD for an empty request', () => {
    assert.throws(
      () => describeResponse(h(''), h('7F 22 31')),
      (err: unknown) => err instanceof OpenObdError && err.code === 'BAD_PAYLOAD',
    );
  });
});

describe('codec/nrc', () => {
  it('NRC names vector (ISO 14229-1 Annex A)', () => {
    assert.equal(nrcName(0x7e), 'subFunctionNotSupportedInActiveSession');
    assert.equal(nrcName(0x7f), 'serviceNotSupportedInActiveSession');
    assert.equal(nrcName(0x33), 'securityAccessDenied');
    assert.equal(nrcName(0x35), 'invalidKey');
    assert.equal(nrcName(0x36), 'exceedNumberOfAttempts');
    assert.equal(nrcName(0x37), 'requiredTimeDelayNotExpired');
    // Some tools abbreviate 0x78 as "responsePending"; the ISO name (and the brief) is the full one.
    assert.equal(nrcName(0x78), 'requestCorrectlyReceivedResponsePending');
  });

  it('names every code the openOBD SDK maps (the official openOBD Python client) and the 2020 additions', () => {
    const expected: Record<number, string> = {
      0x10: 'generalReject',
      0x11: 'serviceNotSupported',
      0x12: 'subFunctionNotSupported',
      0x13: 'incorrectMessageLengthOrInvalidFormat',
      0x14: 'responseTooLong',
      0x21: 'busyRepeatRequest',
      0x22: 'conditionsNotCorrect',
      0x24: 'requestSequenceError',
      0x25: 'noResponseFromSubnetComponent',
      0x26: 'failurePreventsExecutionOfRequestedAction',
      0x31: 'requestOutOfRange',
      0x33: 'securityAccessDenied',
      0x34: 'authenticationRequired',
      0x35: 'invalidKey',
      0x36: 'exceedNumberOfAttempts',
      0x37: 'requiredTimeDelayNotExpired',
      0x70: 'uploadDownloadNotAccepted',
      0x71: 'transferDataSuspended',
      0x72: 'generalProgrammingFailure',
      0x73: 'wrongBlockSequenceCounter',
      0x78: 'requestCorrectlyReceivedResponsePending',
      0x7e: 'subFunctionNotSupportedInActiveSession',
      0x7f: 'serviceNotSupportedInActiveSession',
      0x81: 'rpmTooHigh',
      0x82: 'rpmTooLow',
      0x83: 'engineIsRunning',
      0x84: 'engineIsNotRunning',
      0x85: 'engineRunTimeTooLow',
      0x86: 'temperatureTooHigh',
      0x87: 'temperatureTooLow',
      0x88: 'vehicleSpeedTooHigh',
      0x89: 'vehicleSpeedTooLow',
      0x8a: 'throttlePedalTooHigh',
      0x8b: 'throttlePedalTooLow',
      0x8c: 'transmissionRangeNotInNeutral',
      0x8d: 'transmissionRangeNotInGear',
      0x8f: 'brakeSwitchesNotClosed',
      0x90: 'shifterLeverNotInPark',
      0x91: 'torqueConverterClutchLocked',
      0x92: 'voltageTooHigh',
      0x93: 'voltageTooLow',
      0x94: 'resourceTemporarilyNotAvailable',
      0x38: 'secureDataTransmissionRequired',
      0x3a: 'secureDataVerificationFailed',
      0x50: 'certificateVerificationFailedInvalidTimePeriod',
      0x5d: 'deAuthenticationFailed',
    };
    for (const [code, name] of Object.entries(expected)) {
      assert.equal(NRC_NAMES[Number(code)], name, `NRC_NAMES[${code}]`);
      assert.equal(nrcName(Number(code)), name, `nrcName(${code})`);
    }
  });

  it('falls back to the reserved range for unassigned codes', () => {
    assert.equal(NRC_NAMES[0x8e], undefined);
    assert.equal(nrcName(0x8e), 'ISOSAEReserved');
    assert.equal(nrcName(0x00), 'ISOSAEReserved');
    assert.equal(nrcName(0x23), 'ISOSAEReserved');
    assert.equal(nrcName(0x95), 'ISOSAEReserved');
    assert.equal(nrcName(0xef), 'ISOSAEReserved');
    assert.equal(nrcName(0xf0), 'vehicleManufacturerSpecificConditionsNotCorrect');
    assert.equal(nrcName(0xfe), 'vehicleManufacturerSpecificConditionsNotCorrect');
    assert.equal(nrcName(0xff), 'ISOSAEReserved');
    assert.equal(nrcName(0x100), 'invalidNrc');
    assert.equal(nrcName(-1), 'invalidNrc');
  });

  it('describes every byte value in a sentence', () => {
    assert.equal(nrcDescription(0x31), 'The ECU does not support the requested identifier or parameter value');
    assert.equal(nrcDescription(0x78), 'The ECU received the request and is still working on the answer');
    assert.equal(nrcDescription(0xf3), 'A condition defined by the vehicle manufacturer is not met (code 0xF3)');
    assert.equal(nrcDescription(0x8e), 'The ECU refused the request with a code the standard does not assign (0x8E)');
    for (let code = 0; code <= 0xff; code++) {
      assert.ok(nrcDescription(code).length > 20, `description of ${code}`);
      assert.ok(nrcName(code).length > 0);
    }
  });

  it('names UDS services and OBD modes', () => {
    assert.equal(serviceName(0x10), 'DiagnosticSessionControl');
    assert.equal(serviceName(0x11), 'ECUReset');
    assert.equal(serviceName(0x14), 'ClearDiagnosticInformation');
    assert.equal(serviceName(0x19), 'ReadDTCInformation');
    assert.equal(serviceName(0x22), 'ReadDataByIdentifier');
    assert.equal(serviceName(0x27), 'SecurityAccess');
    assert.equal(serviceName(0x28), 'CommunicationControl');
    assert.equal(serviceName(0x2e), 'WriteDataByIdentifier');
    assert.equal(serviceName(0x2f), 'InputOutputControlByIdentifier');
    assert.equal(serviceName(0x31), 'RoutineControl');
    assert.equal(serviceName(0x34), 'RequestDownload');
    assert.equal(serviceName(0x37), 'RequestTransferExit');
    assert.equal(serviceName(0x3e), 'TesterPresent');
    assert.equal(serviceName(0x85), 'ControlDTCSetting');
    assert.equal(serviceName(0x01), 'OBD ShowCurrentData');
    assert.equal(serviceName(0x03), 'OBD ShowStoredDTCs');
    assert.equal(serviceName(0x09), 'OBD RequestVehicleInformation');
    assert.equal(serviceName(0x0a), 'OBD ShowPermanentDTCs');
    assert.equal(serviceName(0x62), undefined);
    assert.equal(serviceName(0x7f), undefined);
  });

  it('U4: decodeResponse gives nothing for a negative answer', () => {
    assert.equal(decodeResponse(h('10 08'), h('7F 10 12')), undefined);
  });
});
