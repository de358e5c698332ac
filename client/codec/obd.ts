/**
 * OBD-II (SAE J1979 / ISO 15031-5) payload decoders: mode 01 live data, supported-PID bitmaps, stored /
 * pending / permanent DTCs (modes 03/07/0A) and the VIN (mode 09 info type 02). Input is one whole ECU
 * answer as delivered by openOBD's ISO-TP channel (no CAN framing, no padding).
 */
import { OpenObdError } from '../errors';
import { obdDtcToString } from './dtc';
import { hexByte, toHex } from '../../protocol';

/** Plain JSON values only, so decoded data can go straight into a Node-RED message. */
export type ObdValue = number | boolean | string | null | number[] | { [key: string]: ObdValue };

export interface ObdPid {
  pid: number;
  /** camelCase, usable as a property name in flows. */
  name: string;
  /** Data bytes after the PID in a mode 01 answer. */
  bytes: number;
  unit?: string;
  decode: (data: Buffer) => ObdValue;
}

export interface ObdPidValue {
  pid: number;
  name: string;
  value: ObdValue;
  unit?: string;
}

export interface Mode01Result {
  values: ObdPidValue[];
  /** False when a record could not be decoded; `values` then holds the records before it. */
  complete: boolean;
  /** Why decoding stopped, for a person. */
  problem?: string;
  /** The bytes from the first undecoded record on, as hex. */
  undecodedHex?: string;
}

function invalidResponse(message: string): OpenObdError {
  return new OpenObdError('INVALID_RESPONSE', message);
}

/** Two decimals are finer than the 1/255 resolution of these values; the rest is floating-point noise. */
function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

const word = (data: Buffer): number => data.readUInt16BE(0);
const percentOf255 = (data: Buffer): number => round2((data[0]! * 100) / 255);
const celsius = (data: Buffer): number => data[0]! - 40;
const signedPercent = (data: Buffer): number => ((data[0]! - 128) * 100) / 128;
const firstByte = (data: Buffer): number => data[0]!;

/** PIDs flagged in a 4-byte bitmap: bit 7 of the first byte is base + 1, bit 0 of the last is base + 0x20. */
function bitmapPids(base: number, bitmap: Uint8Array): number[] {
  const pids: number[] = [];
  for (let i = 0; i < 32; i++) {
    if (bitmap[i >> 3]! & (0x80 >> (i & 7))) pids.push(base + i + 1);
  }
  return pids;
}

const SPARK_MONITORS = [
  'catalyst',
  'heatedCatalyst',
  'evaporativeSystem',
  'secondaryAirSystem',
  'acRefrigerant',
  'oxygenSensor',
  'oxygenSensorHeater',
  'egrSystem',
] as const;
// Bits 2 and 4 are reserved for compression-ignition engines.
const COMPRESSION_MONITORS = [
  'nmhcCatalyst',
  'noxScrMonitor',
  undefined,
  'boostPressure',
  undefined,
  'exhaustGasSensor',
  'pmFilter',
  'egrVvtSystem',
] as const;

function monitorStatus(data: Buffer): ObdValue {
  const [a, b, c, d] = [data[0]!, data[1]!, data[2]!, data[3]!];
  const compression = (b & 0x08) !== 0;
  // "Complete" only means something for a monitor the vehicle has.
  const monitor = (available: boolean, incomplete: boolean): ObdValue => ({
    available,
    complete: available && !incomplete,
  });
  const monitors: { [key: string]: ObdValue } = {
    misfire: monitor((b & 0x01) !== 0, (b & 0x10) !== 0),
    fuelSystem: monitor((b & 0x02) !== 0, (b & 0x20) !== 0),
    components: monitor((b & 0x04) !== 0, (b & 0x40) !== 0),
  };
  const names = compression ? COMPRESSION_MONITORS : SPARK_MONITORS;
  names.forEach((name, bit) => {
    if (name !== undefined) monitors[name] = monitor((c & (1 << bit)) !== 0, (d & (1 << bit)) !== 0);
  });
  return {
    milOn: (a & 0x80) !== 0,
    dtcCount: a & 0x7f,
    ignitionType: compression ? 'compression' : 'spark',
    monitors,
  };
}

const FUEL_SYSTEM_STATES: Readonly<Record<number, string>> = {
  0x00: 'notPresent',
  0x01: 'openLoopInsufficientTemperature',
  0x02: 'closedLoop',
  0x04: 'openLoopLoadOrDeceleration',
  0x08: 'openLoopSystemFailure',
  0x10: 'closedLoopFeedbackFault',
};

function fuelSystemStatus(data: Buffer): ObdValue {
  const state = (code: number): string => FUEL_SYSTEM_STATES[code] ?? 'invalid';
  return { system1: data[0]!, system1State: state(data[0]!), system2: data[1]!, system2State: state(data[1]!) };
}

function oxygenSensor(data: Buffer): ObdValue {
  // B = 0xFF: the sensor is not used in the fuel trim calculation.
  return { volts: data[0]! / 200, shortTermFuelTrimPercent: data[1] === 0xff ? null : signedPercent(data.subarray(1)) };
}

const PID_LIST: ObdPid[] = [
  { pid: 0x01, name: 'monitorStatus', bytes: 4, decode: monitorStatus },
  {
    pid: 0x02,
    name: 'freezeFrameDtc',
    bytes: 2,
    decode: (d) => (d[0] === 0 && d[1] === 0 ? null : obdDtcToString(d[0]!, d[1]!)),
  },
  { pid: 0x03, name: 'fuelSystemStatus', bytes: 2, decode: fuelSystemStatus },
  { pid: 0x04, name: 'calculatedEngineLoad', bytes: 1, unit: '%', decode: percentOf255 },
  { pid: 0x05, name: 'engineCoolantTemperature', bytes: 1, unit: '°C', decode: celsius },
  { pid: 0x06, name: 'shortTermFuelTrimBank1', bytes: 1, unit: '%', decode: signedPercent },
  { pid: 0x07, name: 'longTermFuelTrimBank1', bytes: 1, unit: '%', decode: signedPercent },
  { pid: 0x08, name: 'shortTermFuelTrimBank2', bytes: 1, unit: '%', decode: signedPercent },
  { pid: 0x09, name: 'longTermFuelTrimBank2', bytes: 1, unit: '%', decode: signedPercent },
  { pid: 0x0a, name: 'fuelPressure', bytes: 1, unit: 'kPa', decode: (d) => d[0]! * 3 },
  { pid: 0x0b, name: 'intakeManifoldAbsolutePressure', bytes: 1, unit: 'kPa', decode: firstByte },
  { pid: 0x0c, name: 'engineSpeed', bytes: 2, unit: 'rpm', decode: (d) => word(d) / 4 },
  { pid: 0x0d, name: 'vehicleSpeed', bytes: 1, unit: 'km/h', decode: firstByte },
  { pid: 0x0e, name: 'timingAdvance', bytes: 1, unit: '° before TDC', decode: (d) => d[0]! / 2 - 64 },
  { pid: 0x0f, name: 'intakeAirTemperature', bytes: 1, unit: '°C', decode: celsius },
  { pid: 0x10, name: 'massAirFlowRate', bytes: 2, unit: 'g/s', decode: (d) => word(d) / 100 },
  { pid: 0x11, name: 'throttlePosition', bytes: 1, unit: '%', decode: percentOf255 },
  ...[1, 2].flatMap((bank) =>
    [1, 2, 3, 4].map((sensor): ObdPid => ({
      pid: 0x14 + (bank - 1) * 4 + (sensor - 1),
      name: `oxygenSensorBank${bank}Sensor${sensor}`,
      bytes: 2,
      decode: oxygenSensor,
    })),
  ),
  { pid: 0x1c, name: 'obdStandard', bytes: 1, decode: firstByte },
  { pid: 0x1f, name: 'runTimeSinceEngineStart', bytes: 2, unit: 's', decode: word },
  { pid: 0x21, name: 'distanceWithMilOn', bytes: 2, unit: 'km', decode: word },
  { pid: 0x2f, name: 'fuelTankLevel', bytes: 1, unit: '%', decode: percentOf255 },
  { pid: 0x30, name: 'warmUpsSinceCodesCleared', bytes: 1, decode: firstByte },
  { pid: 0x31, name: 'distanceSinceCodesCleared', bytes: 2, unit: 'km', decode: word },
  { pid: 0x33, name: 'absoluteBarometricPressure', bytes: 1, unit: 'kPa', decode: firstByte },
  { pid: 0x42, name: 'controlModuleVoltage', bytes: 2, unit: 'V', decode: (d) => word(d) / 1000 },
  { pid: 0x43, name: 'absoluteLoad', bytes: 2, unit: '%', decode: (d) => round2((word(d) * 100) / 255) },
  { pid: 0x44, name: 'commandedEquivalenceRatio', bytes: 2, unit: 'λ', decode: (d) => (word(d) * 2) / 65536 },
  { pid: 0x45, name: 'relativeThrottlePosition', bytes: 1, unit: '%', decode: percentOf255 },
  { pid: 0x46, name: 'ambientAirTemperature', bytes: 1, unit: '°C', decode: celsius },
  { pid: 0x4d, name: 'timeRunWithMilOn', bytes: 2, unit: 'min', decode: word },
  { pid: 0x4e, name: 'timeSinceCodesCleared', bytes: 2, unit: 'min', decode: word },
  { pid: 0x51, name: 'fuelType', bytes: 1, decode: firstByte },
  { pid: 0x5c, name: 'engineOilTemperature', bytes: 1, unit: '°C', decode: celsius },
  { pid: 0x5e, name: 'engineFuelRate', bytes: 2, unit: 'L/h', decode: (d) => word(d) / 20 },
  { pid: 0xa6, name: 'odometer', bytes: 4, unit: 'km', decode: (d) => d.readUInt32BE(0) / 10 },
];

// Supported-PID bitmaps: PID 0x00 covers 01-20, 0x20 covers 21-40, and so on.
for (let base = 0x00; base <= 0xc0; base += 0x20) {
  PID_LIST.push({
    pid: base,
    name: `supportedPids${hexByte(base + 1)}To${hexByte(base + 0x20)}`,
    bytes: 4,
    decode: (d) => bitmapPids(base, d),
  });
}

/** Mode 01 PIDs this codec can decode, by PID. */
export const OBD_MODE01_PIDS: ReadonlyMap<number, ObdPid> = new Map(
  PID_LIST.sort((x, y) => x.pid - y.pid).map((entry) => [entry.pid, entry]),
);

function expectFirstByte(response: Uint8Array, accepted: readonly number[], what: string): void {
  if (response.length === 0 || !accepted.includes(response[0]!)) {
    const got = response.length === 0 ? 'an empty response' : `a response starting with ${hexByte(response[0]!)}`;
    throw invalidResponse(`Expected ${what}, got ${got}`);
  }
}

/**
 * Decodes `41 pid data [pid data]…`. Records carry no length, so an unknown PID ends the walk: the
 * records before it are returned with `complete: false` instead of failing the whole answer.
 */
export function decodeMode01(response: Uint8Array): Mode01Result {
  expectFirstByte(response, [0x41], 'a mode 01 answer (41 …)');
  const bytes = Buffer.from(response);
  const values: ObdPidValue[] = [];
  let at = 1;
  while (at < bytes.length) {
    const pid = bytes[at]!;
    const info = OBD_MODE01_PIDS.get(pid);
    const stop = (problem: string): Mode01Result => ({
      values,
      complete: false,
      problem,
      undecodedHex: toHex(bytes.subarray(at)),
    });
    if (info === undefined) {
      return stop(`PID ${hexByte(pid)} is not known, so the length of its data and what follows cannot be decoded`);
    }
    const remaining = bytes.length - at - 1;
    if (remaining < info.bytes) {
      return stop(`PID ${hexByte(pid)} (${info.name}) needs ${info.bytes} data bytes but only ${remaining} remain`);
    }
    const value = info.decode(bytes.subarray(at + 1, at + 1 + info.bytes));
    const entry: ObdPidValue = { pid, name: info.name, value };
    if (info.unit !== undefined) entry.unit = info.unit;
    values.push(entry);
    at += 1 + info.bytes;
  }
  return { values, complete: true };
}

/**
 * Supported PIDs (mode 01) or info types (mode 09, also 06/08) from one or more `base A B C D` records,
 * ascending. The "next range supported" bit appears as PID base + 0x20, as the standard defines it.
 */
export function decodeSupportedPids(response: Uint8Array): number[] {
  expectFirstByte(response, [0x41, 0x46, 0x48, 0x49], 'a supported-PIDs answer (41/46/48/49 00 …)');
  const body = response.subarray(1);
  if (body.length === 0 || body.length % 5 !== 0) {
    throw invalidResponse(`A supported-PIDs answer holds 5-byte records (PID + 4 bitmap bytes); got ${body.length} after the service id`);
  }
  const supported = new Set<number>();
  for (let at = 0; at < body.length; at += 5) {
    const base = body[at]!;
    if (base % 0x20 !== 0) {
      throw invalidResponse(`PID ${hexByte(base)} is not a supported-PIDs request (those are 00, 20, 40, …)`);
    }
    for (const pid of bitmapPids(base, body.subarray(at + 1, at + 5))) supported.add(pid);
  }
  return [...supported].sort((x, y) => x - y);
}

/**
 * DTCs from a mode 03/07/0A answer. On CAN a count byte follows the service id, so the payload length is
 * even; K-Line answers have no count byte and an odd length. `00 00` pairs are padding and dropped.
 */
export function decodeObdDtcs(response: Uint8Array): string[] {
  expectFirstByte(response, [0x43, 0x47, 0x4a], 'a DTC answer (43, 47 or 4A)');
  let first = 1;
  let pairs = Math.floor((response.length - 1) / 2);
  if (response.length % 2 === 0) {
    const count = response[1]!;
    first = 2;
    pairs = (response.length - 2) / 2;
    if (count > pairs) {
      throw invalidResponse(`The DTC answer announces ${count} DTCs but carries only ${pairs}`);
    }
    pairs = count; // anything after the announced DTCs is filler
  }
  const dtcs: string[] = [];
  for (let i = 0; i < pairs; i++) {
    const hi = response[first + 2 * i]!;
    const lo = response[first + 2 * i + 1]!;
    if (hi !== 0 || lo !== 0) dtcs.push(obdDtcToString(hi, lo));
  }
  return dtcs;
}

const VIN_LENGTH = 17;

/** The VIN from `49 02 01` + 17 ASCII characters (the first one if an ECU reports several). */
export function decodeObdVin(response: Uint8Array): string {
  expectFirstByte(response, [0x49], 'a vehicle information answer (49 02 …)');
  if (response[1] !== 0x02) throw invalidResponse('Expected info type 02 (VIN) after 49');
  // Some ECUs leave out the item count: then exactly 17 characters follow 49 02.
  const start = response.length === 2 + VIN_LENGTH ? 2 : 3;
  const raw = response.subarray(start, start + VIN_LENGTH);
  if (raw.length < VIN_LENGTH) {
    throw invalidResponse(`A VIN answer needs ${VIN_LENGTH} characters after 49 02 01; got ${raw.length}`);
  }
  // Short VINs are padded with NULs by some ECUs.
  const text = Buffer.from(raw)
    .toString('latin1')
    .replace(/^\0+|\0+$/g, '');
  if (!/^[\x20-\x7e]+$/.test(text)) {
    throw invalidResponse(`The VIN answer holds characters that are not printable ASCII (${toHex(raw)})`);
  }
  return text;
}
