/**
 * Best-effort interpretation of a positive answer for a flow author: plain JSON (hex strings instead of
 * Buffers, identifiers as upper-case hex the way diagnostic documents write them, quantities as numbers).
 * Anything this module does not understand yields undefined; the raw bytes stay available to the caller.
 */
import { OpenObdError } from '../errors';
import { decodeDtcStatus, udsDtcToString } from './dtc';
import { dtcMeaning } from './dtc-meaning';
import { hexNumber, toHex } from '../../protocol';
import { OBD_MODE01_PIDS, decodeMode01, decodeObdDtcs, decodeObdVin, decodeSupportedPids } from './obd';
import { classifyResponse, hasSubFunction } from './uds';
import { decodeVin } from './vin';
import { decodeKwpPositive } from './kwp';
import { DID_NAMES, type DecodedResponse } from './decoded';

export { DID_NAMES, type DecodedResponse } from './decoded';

export interface DecodeOptions {
  /** 'kwp2000' decodes by ISO 14230-3 (K-Line and TP 2.0 ECUs); default UDS and OBD-II. */
  protocol?: 'uds' | 'kwp2000';
  /** Data lengths of DIDs in DTC snapshot records (0x19 04), by DID; needed to split records with several DIDs. */
  didLengths?: Readonly<Record<number, number>>;
  /** Data lengths of DTC extended data records (0x19 06), by record number. */
  extendedDataLengths?: Readonly<Record<number, number>>;
}

const DTC_FORMATS: Readonly<Record<number, string>> = {
  0x00: 'SAE J2012-DA DTC format 00',
  0x01: 'ISO 14229-1 DTC format',
  0x02: 'SAE J1939-73 DTC format',
  0x03: 'ISO 11992-4 DTC format',
  0x04: 'SAE J2012-DA DTC format 04',
};

const STANDARD_SESSIONS: Readonly<Record<number, string>> = {
  0x01: 'defaultSession',
  0x02: 'programmingSession',
  0x03: 'extendedDiagnosticSession',
  0x04: 'safetySystemDiagnosticSession',
};

const RESET_TYPES: Readonly<Record<number, string>> = {
  0x01: 'hardReset',
  0x02: 'keyOffOnReset',
  0x03: 'softReset',
  0x04: 'enableRapidPowerShutDown',
  0x05: 'disableRapidPowerShutDown',
};

const ROUTINE_CONTROL_TYPES: Readonly<Record<number, string>> = {
  0x01: 'startRoutine',
  0x02: 'stopRoutine',
  0x03: 'requestRoutineResults',
};

const READ_DTC_REPORT_TYPES: Readonly<Record<number, string>> = {
  0x01: 'reportNumberOfDTCByStatusMask',
  0x02: 'reportDTCByStatusMask',
  0x04: 'reportDTCSnapshotRecordByDTCNumber',
  0x06: 'reportDTCExtDataRecordByDTCNumber',
  0x07: 'reportNumberOfDTCBySeverityMaskRecord',
  0x0a: 'reportSupportedDTC',
  0x0f: 'reportMirrorMemoryDTCByStatusMask',
  0x11: 'reportNumberOfMirrorMemoryDTCByStatusMask',
  0x12: 'reportNumberOfEmissionsOBDDTCByStatusMask',
  0x13: 'reportEmissionsOBDDTCByStatusMask',
  0x15: 'reportDTCWithPermanentStatus',
};

const COMMUNICATION_CONTROL_TYPES: Readonly<Record<number, string>> = {
  0x00: 'enableRxAndTx',
  0x01: 'enableRxAndDisableTx',
  0x02: 'disableRxAndEnableTx',
  0x03: 'disableRxAndTx',
};

const IO_CONTROL_PARAMETERS: Readonly<Record<number, string>> = {
  0x00: 'returnControlToECU',
  0x01: 'resetToDefault',
  0x02: 'freezeCurrentState',
  0x03: 'shortTermAdjustment',
};

/** Name of a sub-function value in a table, or of the range the standard reserves it for. */
function subFunctionName(table: Readonly<Record<number, string>>, value: number): string {
  const known = table[value];
  if (known !== undefined) return known;
  if (value >= 0x40 && value <= 0x5f) return 'vehicleManufacturerSpecific';
  if (value >= 0x60 && value <= 0x7e) return 'systemSupplierSpecific';
  return 'ISOSAEReserved';
}

/**
 * The data as text when it is printable ASCII. ECUs pad fixed-length identification fields with NULs,
 * spaces or FF bytes at the end, so trailing padding does not disqualify it.
 */
function printableText(data: Uint8Array): string | undefined {
  let end = data.length;
  while (end > 0 && (data[end - 1] === 0x00 || data[end - 1] === 0x20 || data[end - 1] === 0xff)) end--;
  if (end === 0) return undefined;
  for (let i = 0; i < end; i++) if (data[i]! < 0x20 || data[i]! > 0x7e) return undefined;
  return Buffer.from(data.subarray(0, end)).toString('latin1');
}

function withName(table: Readonly<Record<number, string>>, id: number): { name?: string } {
  const name = table[id];
  return name === undefined ? {} : { name };
}

function decodeSession(response: Buffer): DecodedResponse {
  const session = response[1]! & 0x7f;
  const record = response.subarray(2);
  const out: DecodedResponse = {
    session,
    sessionName: subFunctionName(STANDARD_SESSIONS, session),
    sessionParameterRecord: toHex(record),
  };
  if (record.length >= 4) {
    out.p2Ms = record.readUInt16BE(0);
    out.p2StarMs = record.readUInt16BE(2) * 10; // sent in units of 10 ms
  }
  return out;
}

function decodeReset(response: Buffer): DecodedResponse {
  const resetType = response[1]! & 0x7f;
  const out: DecodedResponse = { resetType, resetTypeName: subFunctionName(RESET_TYPES, resetType) };
  if (resetType === 0x04 && response.length >= 3) {
    out.powerDownTimeS = response[2] === 0xff ? null : response[2]; // FF: not available
  }
  return out;
}

function decodeDtcRecords(records: Buffer): { dtcs: DecodedResponse[]; undecodedHex?: string } {
  const dtcs: DecodedResponse[] = [];
  const whole = records.length - (records.length % 4);
  for (let at = 0; at < whole; at += 4) {
    const code = records.readUIntBE(at, 3);
    const status = records[at + 3]!;
    dtcs.push(udsDtc(code, status));
  }
  return whole === records.length ? { dtcs } : { dtcs, undecodedHex: toHex(records.subarray(whole)) };
}

/**
 * Data lengths of the DIDs ISO 14229-1 maps to OBD-II: F4xx is mode 01 PID xx (SAE J1979), so a snapshot
 * record that stores them can be split without the ECU's data dictionary.
 */
function knownDidLength(did: number, table: Readonly<Record<number, number>> | undefined): number | undefined {
  const given = table?.[did];
  if (given !== undefined) return given;
  if ((did & 0xff00) === 0xf400) return OBD_MODE01_PIDS.get(did & 0xff)?.bytes;
  return undefined;
}

function dtcHeader(response: Buffer): DecodedResponse {
  return udsDtc(response.readUIntBE(2, 3), response[5]!);
}

/** A 3-byte UDS DTC with its status and what it means (description, system, failure type). */
function udsDtc(code: number, status: number): DecodedResponse {
  const text = udsDtcToString(code);
  return { code: text, hex: hexNumber(code, 6), status, statusBits: decodeDtcStatus(status), ...dtcMeaning(text) };
}

/**
 * 59 04 DTC status [record count (DID data)…]…: a record's DIDs can be split where their lengths are
 * known (options.didLengths, or an F4xx DID); the last DID of the answer takes what is left. What cannot
 * be split is given as hex.
 */
function decodeSnapshots(request: Uint8Array, response: Buffer, options: DecodeOptions): DecodedResponse {
  const single = request[5] !== undefined && request[5] !== 0xff;
  const records: DecodedResponse[] = [];
  let at = 6;
  let undecoded: Buffer | undefined;
  outer: while (at < response.length) {
    if (at + 2 > response.length) {
      undecoded = response.subarray(at);
      break;
    }
    const record = response[at]!;
    const count = response[at + 1]!;
    at += 2;
    const identifiers: DecodedResponse[] = [];
    records.push({ record: hexNumber(record, 2), identifiers });
    for (let i = 0; i < count; i++) {
      if (at + 2 > response.length) {
        undecoded = response.subarray(at);
        break outer;
      }
      const did = response.readUInt16BE(at);
      let length = knownDidLength(did, options.didLengths);
      // One record asked for: its last DID takes what is left.
      if (length === undefined && single && i === count - 1) length = response.length - at - 2;
      if (length === undefined || at + 2 + length > response.length) {
        undecoded = response.subarray(at);
        break outer;
      }
      const data = response.subarray(at + 2, at + 2 + length);
      identifiers.push({ did: hexNumber(did, 4), ...withName(DID_NAMES, did), hex: toHex(data) });
      at += 2 + length;
    }
  }
  const out: DecodedResponse = { dtc: dtcHeader(response), records };
  if (undecoded && undecoded.length > 0) out.undecodedHex = toHex(undecoded);
  return out;
}

/** 59 06 DTC status [record data…]…: records split by options.extendedDataLengths; one record alone takes the rest. */
function decodeExtendedData(request: Uint8Array, response: Buffer, options: DecodeOptions): DecodedResponse {
  const records: DecodedResponse[] = [];
  const asked = request[5];
  let at = 6;
  let undecoded: Buffer | undefined;
  while (at < response.length) {
    const record = response[at]!;
    let length = options.extendedDataLengths?.[record];
    if (length === undefined && asked !== undefined && asked < 0xfe) length = response.length - at - 1;
    if (length === undefined || at + 1 + length > response.length) {
      undecoded = response.subarray(at);
      break;
    }
    records.push({ record: hexNumber(record, 2), hex: toHex(response.subarray(at + 1, at + 1 + length)) });
    at += 1 + length;
  }
  const out: DecodedResponse = { dtc: dtcHeader(response), records };
  if (undecoded && undecoded.length > 0) out.undecodedHex = toHex(undecoded);
  return out;
}

function decodeReadDtcInformation(request: Uint8Array, response: Buffer, options: DecodeOptions): DecodedResponse | undefined {
  const reportType = response[1]! & 0x7f;
  const reportTypeName = READ_DTC_REPORT_TYPES[reportType];
  if (reportTypeName === undefined) return undefined;
  if (reportType === 0x04) return { reportType, reportTypeName, ...decodeSnapshots(request, response, options) };
  if (reportType === 0x06) return { reportType, reportTypeName, ...decodeExtendedData(request, response, options) };
  const statusAvailabilityMask = response[2]!;
  switch (reportType) {
    case 0x01:
    case 0x07:
    case 0x11:
    case 0x12: {
      const dtcFormat = response[3]!;
      return {
        reportType,
        reportTypeName,
        statusAvailabilityMask,
        dtcFormat,
        dtcFormatName: DTC_FORMATS[dtcFormat] ?? 'ISOSAEReserved',
        count: response.readUInt16BE(4),
      };
    }
    default:
      return { reportType, reportTypeName, statusAvailabilityMask, ...decodeDtcRecords(response.subarray(3)) };
  }
}

function decodeReadDataByIdentifier(request: Uint8Array, response: Buffer): DecodedResponse | undefined {
  // Several DIDs come back concatenated without lengths; only the ECU's data dictionary can split them.
  if (request.length !== 3) return undefined;
  const did = response.readUInt16BE(1);
  const data = response.subarray(3);
  const text = printableText(data);
  const out: DecodedResponse = { did: hexNumber(did, 4), ...withName(DID_NAMES, did), hex: toHex(data) };
  if (text !== undefined) out.text = text;
  if (did === 0xf190 && text !== undefined) Object.assign(out, decodeVin(text));
  if (did === 0xf186 && data.length === 1) {
    out.session = data[0];
    out.sessionName = subFunctionName(STANDARD_SESSIONS, data[0]! & 0x7f);
  }
  return out;
}

function decodeSecurityAccess(response: Buffer): DecodedResponse {
  const securityAccessType = response[1]! & 0x7f;
  if (securityAccessType % 2 === 1) {
    const seed = response.subarray(2);
    // The standard answers a seed request at an already unlocked level with an all-zero seed.
    const alreadyUnlocked = seed.length > 0 && seed.every((byte) => byte === 0);
    return { securityAccessType, step: 'requestSeed', seed: toHex(seed), alreadyUnlocked };
  }
  return { securityAccessType, step: 'sendKey', unlocked: true };
}

function decodeRoutineControl(response: Buffer): DecodedResponse {
  const controlType = response[1]! & 0x7f;
  return {
    routineId: hexNumber(response.readUInt16BE(2), 4),
    controlType,
    controlTypeName: subFunctionName(ROUTINE_CONTROL_TYPES, controlType),
    statusHex: toHex(response.subarray(4)),
  };
}

function hexPidList(pids: number[]): string[] {
  return pids.map((pid) => hexNumber(pid, 2));
}

function isSupportedPidsRequest(pid: number): boolean {
  return pid % 0x20 === 0;
}

function decodeCurrentData(response: Buffer): DecodedResponse {
  const result = decodeMode01(response);
  const values: Record<string, unknown> = {};
  // The same values with their units, as a person reads them in the debug sidebar: { value: 799.5, unit: 'rpm' }.
  const readings: Record<string, { value: unknown; unit: string }> = {};
  const supported: number[] = [];
  const pids = result.values.map((entry) => {
    let value: unknown = entry.value;
    if (isSupportedPidsRequest(entry.pid) && Array.isArray(entry.value)) {
      supported.push(...entry.value);
      value = hexPidList(entry.value);
    }
    values[entry.name] = value;
    if (entry.unit !== undefined) readings[entry.name] = { value, unit: entry.unit };
    return entry.unit === undefined
      ? { pid: hexNumber(entry.pid, 2), name: entry.name, value }
      : { pid: hexNumber(entry.pid, 2), name: entry.name, value, unit: entry.unit };
  });
  const out: DecodedResponse = { pids, values, readings, complete: result.complete };
  if (supported.length > 0) out.supportedPids = hexPidList([...new Set(supported)].sort((x, y) => x - y));
  if (result.problem !== undefined) out.problem = result.problem;
  if (result.undecodedHex !== undefined) out.undecodedHex = result.undecodedHex;
  return out;
}

/** `49 id n` + n fixed-size items (CALID 16 bytes, CVN 4 bytes, ECU name 20 bytes). */
function vehicleInfoItems(response: Buffer, itemLength: number): Buffer[] {
  const items: Buffer[] = [];
  for (let at = 3; at + itemLength <= response.length; at += itemLength) {
    items.push(response.subarray(at, at + itemLength));
  }
  return items;
}

function decodeVehicleInformation(response: Buffer): DecodedResponse | undefined {
  const infoType = response[1];
  if (infoType === undefined) return undefined;
  if (isSupportedPidsRequest(infoType)) return { supportedInfoTypes: hexPidList(decodeSupportedPids(response)) };
  switch (infoType) {
    case 0x02:
      return { ...decodeVin(decodeObdVin(response)) };
    case 0x04:
      return { calibrationIds: vehicleInfoItems(response, 16).map((item) => printableText(item) ?? toHex(item)) };
    case 0x06:
      return { calibrationVerificationNumbers: vehicleInfoItems(response, 4).map((item) => toHex(item)) };
    case 0x0a: {
      const [name] = vehicleInfoItems(response, 20);
      return name === undefined ? undefined : { ecuName: printableText(name) ?? toHex(name) };
    }
    default:
      return undefined;
  }
}

function decodePositive(request: Uint8Array, response: Buffer, options: DecodeOptions): DecodedResponse | undefined {
  // Without its sub-function the request was malformed; the answer's fields cannot be located.
  if (hasSubFunction(request[0]!) && request.length < 2) return undefined;
  switch (request[0]) {
    case 0x10:
      return decodeSession(response);
    case 0x11:
      return decodeReset(response);
    case 0x14:
    case 0x04:
      return { cleared: true };
    case 0x19:
      return decodeReadDtcInformation(request, response, options);
    case 0x22:
      return decodeReadDataByIdentifier(request, response);
    case 0x27:
      return decodeSecurityAccess(response);
    case 0x2e: {
      if (response.length < 3) return undefined;
      const did = response.readUInt16BE(1);
      return { did: hexNumber(did, 4), ...withName(DID_NAMES, did), written: true };
    }
    case 0x31:
      return response.length < 4 ? undefined : decodeRoutineControl(response);
    case 0x28:
      return {
        controlType: response[1]! & 0x7f,
        controlTypeName: COMMUNICATION_CONTROL_TYPES[response[1]! & 0x7f] ?? subFunctionName({}, response[1]! & 0x7f),
      };
    case 0x85: {
      const setting = response[1]! & 0x7f;
      return { dtcSettingType: setting, dtcSetting: setting === 0x01 ? 'on' : setting === 0x02 ? 'off' : subFunctionName({}, setting) };
    }
    case 0x2f: {
      if (response.length < 4) return undefined;
      const did = response.readUInt16BE(1);
      const p = response[3]!;
      return {
        did: hexNumber(did, 4),
        ...withName(DID_NAMES, did),
        ioControlParameter: p,
        ioControlParameterName: IO_CONTROL_PARAMETERS[p] ?? 'vehicleManufacturerSpecific',
        stateHex: toHex(response.subarray(4)),
      };
    }
    case 0x34:
    case 0x35: {
      // lengthFormatIdentifier: the high nibble is the byte length of maxNumberOfBlockLength.
      const size = response[1]! >> 4;
      if (size < 1 || response.length < 2 + size) return undefined;
      const maxBlockLength = response.readUIntBE(2, Math.min(size, 6));
      return { maxBlockLength, maxDataPerBlock: Math.max(0, maxBlockLength - 2) };
    }
    case 0x36:
      return { blockSequenceCounter: response[1], parameterHex: toHex(response.subarray(2)) };
    case 0x37:
      return { parameterHex: toHex(response.subarray(1)) };
    case 0x01:
      return decodeCurrentData(response);
    case 0x03:
    case 0x07:
    case 0x0a: {
      const dtcs = decodeObdDtcs(response);
      // The codes stay plain text (the msg contract); what each means is beside them.
      return { dtcs, count: dtcs.length, details: dtcs.map((code) => ({ code, ...dtcMeaning(code) })) };
    }
    case 0x09:
      return decodeVehicleInformation(response);
    default:
      return undefined;
  }
}

/**
 * Plain-data meaning of a positive answer to `request`, or undefined when the answer is not positive,
 * not understood, or malformed (a decoding problem never throws: the raw answer is still there).
 */
export function decodeResponse(request: Uint8Array, response: Uint8Array, options: DecodeOptions = {}): DecodedResponse | undefined {
  if (classifyResponse(request, response, options.protocol) !== 'positive') return undefined;
  try {
    if (options.protocol === 'kwp2000') return decodeKwpPositive(request, Buffer.from(response));
    return decodePositive(request, Buffer.from(response), options);
  } catch (err) {
    // Decoders throw OpenObdError on malformed answers; RangeError is a Buffer read past a short answer.
    if (err instanceof OpenObdError || err instanceof RangeError) return undefined;
    throw err;
  }
}
