/**
 * Turns a JSON vehicle definition into a checked, typed model (numbers and Buffers instead of hex text).
 * Every mistake is reported with its JSON path so that users writing their own vehicle can fix it.
 */
import { hexToBytes } from '../../protocol';
import type {
  BroadcastFrameDefinition,
  DidDefinition,
  EcuDefinition,
  KwpValueDefinition,
  ObdPidDefinition,
  RoutineDefinition,
  SecurityDefinition,
  SessionRef,
  SignalDefinition,
  VehicleDefinition,
} from './types';
import { isWellFormedVin } from './vin';

export const SESSION = { default: 0x01, programming: 0x02, extended: 0x03, safety: 0x04 } as const;

/** UDS services the simulated ECU implements (OBD modes come with `obd: true`). */
export const UDS_SERVICES: readonly number[] = [0x10, 0x11, 0x14, 0x19, 0x22, 0x27, 0x28, 0x2e, 0x2f, 0x31, 0x34, 0x36, 0x37, 0x3e, 0x85];

/**
 * Sessions these services work in unless an ECU says otherwise (serviceSessions): communication control
 * and DTC setting outside the default session, I/O control in the extended one, downloads in the
 * programming session, as ISO 14229-1 servers commonly do.
 */
const DEFAULT_SERVICE_SESSIONS: ReadonlyArray<[number, readonly number[]]> = [
  [0x28, [SESSION.programming, SESSION.extended]],
  [0x85, [SESSION.programming, SESSION.extended]],
  [0x2f, [SESSION.extended]],
  [0x34, [SESSION.programming]],
  [0x36, [SESSION.programming]],
  [0x37, [SESSION.programming]],
];

export class VehicleDefinitionError extends Error {
  constructor(path: string, problem: string) {
    super(`vehicle definition ${path}: ${problem}`);
    this.name = 'VehicleDefinitionError';
  }
}

/** Who may use a DID, routine or service: allowed sessions (null = any) and a security level (null = none). */
export interface Access {
  sessions: ReadonlySet<number> | null;
  securityLevel: number | null;
}

export type DidValue = { kind: 'bytes'; bytes: Buffer } | { kind: 'vin' } | { kind: 'activeSession' } | { kind: 'obdPid'; pid: number };

export interface CompiledDid {
  id: number;
  value: DidValue;
  writable: boolean;
  writeLength: number;
  read: Access;
  write: Access;
}

export interface CompiledDtc {
  code: number;
  status: number;
  stillPresent: boolean;
  permanent: boolean;
  snapshots: ReadonlyArray<{ record: number; dids: ReadonlyArray<{ id: number; data: Buffer }> }>;
  extendedData: ReadonlyMap<number, Buffer>;
}

export interface CompiledIoControl {
  id: number;
  value: Buffer;
  securityLevel: number | null;
}

export interface CompiledDownload {
  address: number;
  size: number;
  maxBlockLength: number;
  securityLevel: number | null;
  pendingPerBlock: number;
  pendingIntervalMs: number;
}

export interface CompiledRoutine {
  id: number;
  access: Access;
  pendingResponses: number;
  pendingIntervalMs: number;
  busyResponses: number;
  result: Buffer;
  runMs: number;
  inProgressResult: Buffer;
  stopResult: Buffer;
}

export interface CompiledSecurityLevel {
  level: number;
  seedLength: number;
  algorithm: 'xor' | 'add';
  value: Buffer;
}

export interface CompiledSecurity {
  levels: ReadonlyMap<number, CompiledSecurityLevel>;
  maxAttempts: number;
  lockoutMs: number;
}

export type CompiledPid =
  | { kind: 'fixed'; bytes: Buffer }
  | { kind: 'signal'; signal: SignalDefinition; size: number; scale: number; offset: number }
  | { kind: 'monitorStatus'; readiness: Buffer };

/** How an ECU is reached. `bus` names a CAN bus of the vehicle ("main" or one of `canBuses`). */
export type EcuLink =
  | { transport: 'isotp'; bus: string; requestId: number; responseId: number }
  | { transport: 'tp20'; bus: string; logicalAddress: number }
  | { transport: 'kline'; address: number; init: 'fast' | 'slow'; baud: number; keyBytes: readonly [number, number]; initMs: number }
  | { transport: 'doip'; address: number };

export interface CompiledEcu {
  name: string;
  protocol: 'uds';
  link: EcuLink;
  /** ISO-TP CAN ids; -1 for ECUs on other transports. */
  requestId: number;
  responseId: number;
  obd: boolean;
  responseDelayMs: number;
  bootTimeMs: number;
  s3Ms: number;
  p2Ms: number;
  p2StarMs: number;
  sessions: ReadonlySet<number>;
  /** null = every UDS service the simulator implements. */
  services: ReadonlySet<number> | null;
  serviceSessions: ReadonlyMap<number, ReadonlySet<number>>;
  /** Keyed by SID·256 + sub-function. */
  subFunctionSessions: ReadonlyMap<number, ReadonlySet<number>>;
  serviceSecurity: ReadonlyMap<number, number>;
  clearNeedsEngineOff: boolean;
  availabilityMask: number;
  statusAfterClear: number;
  dids: ReadonlyMap<number, CompiledDid>;
  dtcs: readonly CompiledDtc[];
  routines: ReadonlyMap<number, CompiledRoutine>;
  security: CompiledSecurity | null;
  pids: ReadonlyMap<number, CompiledPid>;
  info: { vin: boolean; calibrationIds: string[]; ecuName: string | null };
  ioControls: ReadonlyMap<number, CompiledIoControl>;
  download: CompiledDownload | null;
}

export type KwpValue = { kind: 'bytes'; bytes: Buffer } | { kind: 'vin' };

/** An ECU that speaks KWP2000 (ISO 14230-3), on the K-Line or behind TP 2.0. */
export interface CompiledKwpEcu {
  name: string;
  protocol: 'kwp2000';
  link: EcuLink;
  responseDelayMs: number;
  s3Ms: number;
  /** diagnosticMode values `10 xx` accepts (81 default, 85 programming, 89 extended). */
  sessions: ReadonlySet<number>;
  identification: ReadonlyMap<number, KwpValue>;
  localIdentifiers: ReadonlyMap<number, KwpValue>;
  dtcs: ReadonlyArray<{ code: number; status: number }>;
}

export interface CompiledCanBus {
  name: string;
  pinPlus: number;
  pinMinus: number;
  bitRateKbps: number;
}

export interface CompiledBroadcastFrame {
  id: number;
  bus: string;
  intervalMs: number;
  data: Buffer;
  counterByte: number | null;
}

export interface CompiledVehicle {
  name: string;
  vin: string;
  functionalRequestId: number;
  ignitionOn: boolean;
  engineRunning: boolean;
  batteryVoltage: number;
  ecus: Array<CompiledEcu | CompiledKwpEcu>;
  /** "main" first. */
  canBuses: CompiledCanBus[];
  klinePin: number;
  doip: { option: 1 | 2; networkConfiguration: number; gatewayId: number } | null;
  terminal15Pin: number;
  broadcastFrames: CompiledBroadcastFrame[];
}

/** The name of the vehicle's main CAN bus (`can` in the JSON). */
export const MAIN_BUS = 'main';

// --- small checked readers -------------------------------------------------------------------

function hexNumber(text: unknown, path: string, maxBytes: number): number {
  if (typeof text !== 'string' || !/^[0-9a-fA-F]+$/.test(text) || text.length > maxBytes * 2) {
    throw new VehicleDefinitionError(path, `expected a hex string of at most ${maxBytes} byte(s), got ${JSON.stringify(text)}`);
  }
  return parseInt(text, 16);
}

function hexBytes(text: unknown, path: string): Buffer {
  if (typeof text !== 'string') throw new VehicleDefinitionError(path, 'expected a hex string');
  try {
    return hexToBytes(text);
  } catch {
    throw new VehicleDefinitionError(path, `not hex bytes: ${JSON.stringify(text)}`);
  }
}

function count(value: unknown, path: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new VehicleDefinitionError(path, `expected a non-negative integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

function sessionNumber(ref: SessionRef, path: string): number {
  if (ref in SESSION) return SESSION[ref as keyof typeof SESSION];
  const sub = hexNumber(ref, path, 1);
  if (sub < 1 || sub > 0x7e) throw new VehicleDefinitionError(path, `session ${ref} out of range 01–7E`);
  return sub;
}

function sessionSet(refs: SessionRef | SessionRef[] | undefined, path: string): Set<number> | null {
  if (refs === undefined) return null;
  const list = Array.isArray(refs) ? refs : [refs];
  return new Set(list.map((ref, i) => sessionNumber(ref, `${path}[${i}]`)));
}

function securityLevel(level: unknown, path: string): number | null {
  if (level === undefined) return null;
  if (typeof level !== 'number' || !Number.isInteger(level) || level < 1 || level > 0x7d || level % 2 === 0) {
    throw new VehicleDefinitionError(path, `security level must be an odd number 1–125, got ${JSON.stringify(level)}`);
  }
  return level;
}

// --- parts -----------------------------------------------------------------------------------

function compileDid(id: number, def: DidDefinition, path: string): CompiledDid {
  const sources = [def.ascii, def.hex, def.source, def.obdPid].filter((s) => s !== undefined);
  if (sources.length !== 1) {
    throw new VehicleDefinitionError(path, 'needs exactly one of ascii, hex, source, obdPid');
  }
  let value: DidValue;
  if (def.ascii !== undefined) value = { kind: 'bytes', bytes: Buffer.from(def.ascii, 'latin1') };
  else if (def.hex !== undefined) value = { kind: 'bytes', bytes: hexBytes(def.hex, `${path}.hex`) };
  else if (def.source === 'vin' || def.source === 'activeSession') value = { kind: def.source };
  else if (def.obdPid !== undefined) value = { kind: 'obdPid', pid: hexNumber(def.obdPid, `${path}.obdPid`, 1) };
  else throw new VehicleDefinitionError(`${path}.source`, `unknown source ${JSON.stringify(def.source)}`);

  const writable = def.writable === true;
  if (writable && value.kind !== 'bytes') {
    throw new VehicleDefinitionError(path, 'only ascii/hex DIDs can be writable');
  }
  const initialLength = value.kind === 'bytes' ? value.bytes.length : 0;
  return {
    id,
    value,
    writable,
    writeLength: count(def.length, `${path}.length`, initialLength),
    read: {
      sessions: sessionSet(def.readNeedsSession, `${path}.readNeedsSession`),
      securityLevel: securityLevel(def.readNeedsSecurity, `${path}.readNeedsSecurity`),
    },
    write: {
      sessions: sessionSet(def.needsSession, `${path}.needsSession`),
      securityLevel: securityLevel(def.needsSecurity, `${path}.needsSecurity`),
    },
  };
}

function compileRoutine(id: number, def: RoutineDefinition, path: string): CompiledRoutine {
  return {
    id,
    access: {
      sessions: sessionSet(def.needsSession, `${path}.needsSession`),
      securityLevel: securityLevel(def.needsSecurity, `${path}.needsSecurity`),
    },
    pendingResponses: count(def.pendingResponses, `${path}.pendingResponses`, 0),
    pendingIntervalMs: count(def.pendingIntervalMs, `${path}.pendingIntervalMs`, 1500),
    busyResponses: count(def.busyResponses, `${path}.busyResponses`, 0),
    result: hexBytes(def.result ?? '00', `${path}.result`),
    runMs: count(def.runMs, `${path}.runMs`, 0),
    inProgressResult: hexBytes(def.inProgressResult ?? '01', `${path}.inProgressResult`),
    stopResult: hexBytes(def.stopResult ?? '', `${path}.stopResult`),
  };
}

function compileSecurity(def: SecurityDefinition, path: string): CompiledSecurity {
  if (!Array.isArray(def.levels) || def.levels.length === 0) {
    throw new VehicleDefinitionError(`${path}.levels`, 'needs at least one level');
  }
  const levels = new Map<number, CompiledSecurityLevel>();
  def.levels.forEach((lv, i) => {
    const p = `${path}.levels[${i}]`;
    const level = securityLevel(lv.level, `${p}.level`);
    if (level === null) throw new VehicleDefinitionError(`${p}.level`, 'missing');
    const seedLength = count(lv.seedLength, `${p}.seedLength`, 0);
    if (seedLength < 1 || seedLength > 16) throw new VehicleDefinitionError(`${p}.seedLength`, 'must be 1–16');
    if (lv.key?.algorithm !== 'xor' && lv.key?.algorithm !== 'add') {
      throw new VehicleDefinitionError(`${p}.key.algorithm`, 'must be "xor" or "add"');
    }
    const value = hexBytes(lv.key.value, `${p}.key.value`);
    if (value.length === 0) throw new VehicleDefinitionError(`${p}.key.value`, 'must not be empty');
    levels.set(level, { level, seedLength, algorithm: lv.key.algorithm, value });
  });
  return {
    levels,
    maxAttempts: count(def.maxAttempts, `${path}.maxAttempts`, 3),
    lockoutMs: count(def.lockoutMs, `${path}.lockoutMs`, 10000),
  };
}

function compilePid(def: ObdPidDefinition, path: string): CompiledPid {
  const kinds = [def.hex, def.signal, def.monitorStatus].filter((k) => k !== undefined);
  if (kinds.length !== 1) throw new VehicleDefinitionError(path, 'needs exactly one of hex, signal, monitorStatus');
  if (def.hex !== undefined) return { kind: 'fixed', bytes: hexBytes(def.hex, `${path}.hex`) };
  if (def.monitorStatus !== undefined) {
    const readiness = hexBytes(def.monitorStatus, `${path}.monitorStatus`);
    if (readiness.length !== 3) throw new VehicleDefinitionError(`${path}.monitorStatus`, 'needs 3 bytes (B C D)');
    return { kind: 'monitorStatus', readiness };
  }
  const signal = def.signal as SignalDefinition;
  if (typeof signal.value !== 'number' && signal.value !== 'batteryVoltage') {
    throw new VehicleDefinitionError(`${path}.signal.value`, 'must be a number or "batteryVoltage"');
  }
  const size = count(def.bytes, `${path}.bytes`, 1);
  if (size < 1 || size > 4) throw new VehicleDefinitionError(`${path}.bytes`, 'must be 1–4');
  const scale = def.scale ?? 1;
  if (typeof scale !== 'number' || scale <= 0) throw new VehicleDefinitionError(`${path}.scale`, 'must be > 0');
  return { kind: 'signal', signal, size, scale, offset: def.offset ?? 0 };
}

function keyedMap<T, V>(
  record: Record<string, T> | undefined,
  path: string,
  keyBytes: number,
  make: (key: number, value: T, path: string) => V,
): Map<number, V> {
  const map = new Map<number, V>();
  for (const [key, value] of Object.entries(record ?? {})) {
    const id = hexNumber(key, `${path}.${key}`, keyBytes);
    if (map.has(id)) throw new VehicleDefinitionError(`${path}.${key}`, 'listed twice');
    map.set(id, make(id, value, `${path}.${key}`));
  }
  return map;
}

const KLINE_BAUD = [9600, 10400, 15625];

function compileLink(def: EcuDefinition, path: string, buses: ReadonlySet<string>): EcuLink {
  const transport = def.transport ?? 'isotp';
  const bus = def.canBus ?? MAIN_BUS;
  if ((transport === 'isotp' || transport === 'tp20') && !buses.has(bus))
    throw new VehicleDefinitionError(`${path}.canBus`, `no CAN bus named ${JSON.stringify(bus)} (see canBuses)`);
  switch (transport) {
    case 'isotp':
      return {
        transport,
        bus,
        requestId: hexNumber(def.requestId, `${path}.requestId`, 4),
        responseId: hexNumber(def.responseId, `${path}.responseId`, 4),
      };
    case 'tp20':
      return { transport, bus, logicalAddress: hexNumber(def.logicalAddress, `${path}.logicalAddress`, 1) };
    case 'doip':
      return { transport, address: hexNumber(def.doipAddress, `${path}.doipAddress`, 2) };
    case 'kline': {
      const k = def.kline;
      if (!k) throw new VehicleDefinitionError(`${path}.kline`, 'a K-Line ECU needs { address, init, baud }');
      const init = k.init ?? 'fast';
      if (init !== 'fast' && init !== 'slow') throw new VehicleDefinitionError(`${path}.kline.init`, 'must be "fast" or "slow"');
      const baud = k.baud ?? 10400;
      if (!KLINE_BAUD.includes(baud)) throw new VehicleDefinitionError(`${path}.kline.baud`, `must be one of ${KLINE_BAUD.join(', ')}`);
      const keyBytes = hexBytes(k.keyBytes ?? 'EF 8F', `${path}.kline.keyBytes`);
      if (keyBytes.length !== 2) throw new VehicleDefinitionError(`${path}.kline.keyBytes`, 'needs 2 bytes (KB1 KB2)');
      return {
        transport,
        address: hexNumber(k.address, `${path}.kline.address`, 1),
        init,
        baud,
        keyBytes: [keyBytes[0]!, keyBytes[1]!],
        // ISO 14230-2: the 5-baud address byte alone takes 2 s; the fast wake-up pattern 50 ms, then StartCommunication.
        initMs: count(k.initMs, `${path}.kline.initMs`, init === 'slow' ? 2300 : 70),
      };
    }
    default:
      throw new VehicleDefinitionError(
        `${path}.transport`,
        `unknown transport ${JSON.stringify(transport)}; use isotp, tp20, kline or doip`,
      );
  }
}

function kwpValue(def: KwpValueDefinition, path: string): KwpValue {
  const sources = [def.ascii, def.hex, def.source].filter((v) => v !== undefined);
  if (sources.length !== 1) throw new VehicleDefinitionError(path, 'needs exactly one of ascii, hex, source');
  if (def.ascii !== undefined) return { kind: 'bytes', bytes: Buffer.from(def.ascii, 'latin1') };
  if (def.hex !== undefined) return { kind: 'bytes', bytes: hexBytes(def.hex, `${path}.hex`) };
  if (def.source === 'vin') return { kind: 'vin' };
  throw new VehicleDefinitionError(`${path}.source`, 'only "vin" is known');
}

function compileKwpEcu(def: EcuDefinition, path: string, link: EcuLink): CompiledKwpEcu {
  if (link.transport === 'isotp' || link.transport === 'doip')
    throw new VehicleDefinitionError(`${path}.protocol`, 'the simulated KWP2000 ECUs are on the K-Line or behind TP 2.0');
  const dtcs = (def.dtcs ?? []).map((d, i) => {
    const p = `${path}.dtcs[${i}]`;
    if (typeof d.code !== 'string' || d.code.length !== 4)
      throw new VehicleDefinitionError(`${p}.code`, 'a KWP2000 DTC has 2 bytes, e.g. "0301"');
    return { code: hexNumber(d.code, `${p}.code`, 2), status: hexNumber(d.status, `${p}.status`, 1) };
  });
  const sessions = new Set((def.sessions ?? ['81', '85', '89']).map((x, i) => hexNumber(x, `${path}.sessions[${i}]`, 1)));
  if (!sessions.has(0x81)) throw new VehicleDefinitionError(`${path}.sessions`, 'must include "81" (the standard session)');
  return {
    name: def.name,
    protocol: 'kwp2000',
    link,
    responseDelayMs: count(def.responseDelayMs, `${path}.responseDelayMs`, link.transport === 'kline' ? 25 : 5),
    s3Ms: count(def.s3Ms, `${path}.s3Ms`, 5000),
    sessions,
    identification: keyedMap(def.identification, `${path}.identification`, 1, (_id, v, p) => kwpValue(v, p)),
    localIdentifiers: keyedMap(def.localIdentifiers, `${path}.localIdentifiers`, 1, (_id, v, p) => kwpValue(v, p)),
    dtcs,
  };
}

function compileAnyEcu(def: EcuDefinition, path: string, buses: ReadonlySet<string>): CompiledEcu | CompiledKwpEcu {
  if (typeof def !== 'object' || def === null) throw new VehicleDefinitionError(path, 'expected an object');
  if (typeof def.name !== 'string' || def.name === '') throw new VehicleDefinitionError(`${path}.name`, 'missing');
  const link = compileLink(def, path, buses);
  const transport = link.transport;
  const protocol = def.protocol ?? (transport === 'kline' || transport === 'tp20' ? 'kwp2000' : 'uds');
  if (protocol === 'kwp2000') return compileKwpEcu(def, path, link);
  if (protocol !== 'uds') throw new VehicleDefinitionError(`${path}.protocol`, 'must be "uds" or "kwp2000"');
  return compileEcu(def, path, link);
}

function compileEcu(def: EcuDefinition, path: string, link: EcuLink): CompiledEcu {
  const obd = def.obd === true;
  const pids = keyedMap(def.obdPids, `${path}.obdPids`, 1, (pid, pidDef, p) => {
    // Bitmap PIDs are derived from the others so that they can never disagree (SAE J1979).
    if (pid % 0x20 === 0) throw new VehicleDefinitionError(p, 'bitmap PIDs (00, 20, 40 …) are computed');
    return compilePid(pidDef, p);
  });
  if (pids.size > 0 && !obd) throw new VehicleDefinitionError(`${path}.obdPids`, 'only for ECUs with obd: true');
  if (obd && link.transport !== 'isotp') throw new VehicleDefinitionError(`${path}.obd`, 'OBD-II is simulated on ISO-TP ECUs only');
  if (def.dids === undefined || typeof def.dids !== 'object')
    throw new VehicleDefinitionError(`${path}.dids`, 'a UDS ECU needs its data identifiers');

  const subFunctionSessions = new Map<number, Set<number>>();
  for (const [key, refs] of Object.entries(def.subFunctionSessions ?? {})) {
    const p = `${path}.subFunctionSessions.${key}`;
    const [sid, sub] = key.split('/');
    const set = sessionSet(refs, p) ?? new Set<number>();
    subFunctionSessions.set(hexNumber(sid, p, 1) * 256 + hexNumber(sub, p, 1), set);
  }
  const dtcs = (def.dtcs ?? []).map((d, i) => {
    const p = `${path}.dtcs[${i}]`;
    if (typeof d.code !== 'string' || d.code.length !== 6) throw new VehicleDefinitionError(`${p}.code`, 'needs 3 bytes, e.g. "012345"');
    return {
      code: hexNumber(d.code, `${p}.code`, 3),
      status: hexNumber(d.status, `${p}.status`, 1),
      stillPresent: d.stillPresent === true,
      permanent: d.permanent === true,
      snapshots: (d.snapshots ?? []).map((snap, j) => ({
        record: hexNumber(snap.record, `${p}.snapshots[${j}].record`, 1),
        dids: Object.entries(snap.dids ?? {}).map(([id, data]) => ({
          id: hexNumber(id, `${p}.snapshots[${j}].dids.${id}`, 2),
          data: hexBytes(data, `${p}.snapshots[${j}].dids.${id}`),
        })),
      })),
      extendedData: keyedMap(d.extendedData, `${p}.extendedData`, 1, (_r, data, q) => hexBytes(data, q)),
    };
  });
  const timing = def.timing ?? { p2Ms: 50, p2StarMs: 5000 };
  const sessions = sessionSet(def.sessions ?? ['default', 'programming', 'extended'], `${path}.sessions`) ?? new Set<number>();
  if (!sessions.has(SESSION.default)) throw new VehicleDefinitionError(`${path}.sessions`, 'must include "default"');
  const services = def.services === undefined ? null : new Set(def.services.map((s, i) => hexNumber(s, `${path}.services[${i}]`, 1)));
  for (const sid of services ?? []) {
    if (!UDS_SERVICES.includes(sid)) throw new VehicleDefinitionError(`${path}.services`, `SID ${sid.toString(16)} is not simulated`);
  }
  if (services?.has(0x27) && !def.security) throw new VehicleDefinitionError(`${path}.services`, '27 needs a security definition');
  return {
    name: def.name,
    protocol: 'uds',
    link,
    requestId: link.transport === 'isotp' ? link.requestId : -1,
    responseId: link.transport === 'isotp' ? link.responseId : -1,
    obd,
    responseDelayMs: count(def.responseDelayMs, `${path}.responseDelayMs`, 5),
    bootTimeMs: count(def.bootTimeMs, `${path}.bootTimeMs`, 100),
    s3Ms: count(def.s3Ms, `${path}.s3Ms`, 5000),
    p2Ms: count(timing.p2Ms, `${path}.timing.p2Ms`, 50),
    p2StarMs: count(timing.p2StarMs, `${path}.timing.p2StarMs`, 5000),
    sessions,
    services,
    serviceSessions: withDefaultSessions(
      keyedMap(def.serviceSessions, `${path}.serviceSessions`, 1, (_sid, refs, p) => sessionSet(refs, p) ?? new Set<number>()),
    ),
    subFunctionSessions,
    serviceSecurity: keyedMap(def.serviceSecurity, `${path}.serviceSecurity`, 1, (_sid, level, p) => {
      const checked = securityLevel(level, p);
      if (checked === null) throw new VehicleDefinitionError(p, 'missing level');
      return checked;
    }),
    clearNeedsEngineOff: def.clearNeedsEngineOff === true,
    availabilityMask: hexNumber(def.dtcAvailabilityMask ?? 'FF', `${path}.dtcAvailabilityMask`, 1),
    statusAfterClear: hexNumber(def.dtcStatusAfterClear ?? '00', `${path}.dtcStatusAfterClear`, 1),
    dids: keyedMap(def.dids, `${path}.dids`, 2, compileDid),
    dtcs,
    routines: keyedMap(def.routines, `${path}.routines`, 2, compileRoutine),
    security: def.security ? compileSecurity(def.security, `${path}.security`) : null,
    pids,
    info: {
      vin: def.obdInfo?.vin === true,
      calibrationIds: def.obdInfo?.calibrationIds ?? [],
      ecuName: def.obdInfo?.ecuName ?? null,
    },
    ioControls: keyedMap(def.ioControls, `${path}.ioControls`, 2, (id, io, p) => ({
      id,
      value: hexBytes(io.value, `${p}.value`),
      securityLevel: securityLevel(io.needsSecurity, `${p}.needsSecurity`),
    })),
    download: def.download ? compileDownload(def.download, `${path}.download`) : null,
  };
}

function withDefaultSessions(map: Map<number, ReadonlySet<number>>): Map<number, ReadonlySet<number>> {
  for (const [sid, sessions] of DEFAULT_SERVICE_SESSIONS) if (!map.has(sid)) map.set(sid, new Set(sessions));
  return map;
}

function compileDownload(d: NonNullable<EcuDefinition['download']>, path: string): CompiledDownload {
  const maxBlockLength = count(d.maxBlockLength, `${path}.maxBlockLength`, 0x402);
  if (maxBlockLength < 3 || maxBlockLength > 4095)
    throw new VehicleDefinitionError(`${path}.maxBlockLength`, 'must be 3 to 4095 (a 0x36 request: SID, counter and data on ISO-TP)');
  return {
    address: hexNumber(d.memory?.address, `${path}.memory.address`, 4),
    size: hexNumber(d.memory?.size, `${path}.memory.size`, 4),
    maxBlockLength,
    securityLevel: securityLevel(d.needsSecurity, `${path}.needsSecurity`),
    pendingPerBlock: count(d.pendingPerBlock, `${path}.pendingPerBlock`, 0),
    pendingIntervalMs: count(d.pendingIntervalMs, `${path}.pendingIntervalMs`, 50),
  };
}

/** Checks a definition and converts it; throws VehicleDefinitionError naming the JSON path. */
export function compileVehicle(def: VehicleDefinition): CompiledVehicle {
  if (typeof def !== 'object' || def === null) throw new VehicleDefinitionError('(root)', 'expected an object');
  if (typeof def.vin !== 'string' || !isWellFormedVin(def.vin)) {
    throw new VehicleDefinitionError('vin', `needs 17 characters 0-9/A-Z without I, O, Q; got ${JSON.stringify(def.vin)}`);
  }
  if (!Array.isArray(def.ecus) || def.ecus.length === 0) throw new VehicleDefinitionError('ecus', 'needs at least one ECU');
  const functionalRequestId = hexNumber(def.functionalRequestId, 'functionalRequestId', 4);
  const canBuses = compileCanBuses(def);
  const busNames = new Set(canBuses.map((b) => b.name));
  const ecus = def.ecus.map((e, i) => compileAnyEcu(e, `ecus[${i}]`, busNames));

  const seen = new Map<string, string>([[`isotp:${functionalRequestId}`, 'functionalRequestId']]);
  const claim = (key: string, path: string, text: string, owner: string) => {
    const other = seen.get(key);
    if (other !== undefined) throw new VehicleDefinitionError(path, `${text} already used by ${other}`);
    seen.set(key, owner);
  };
  ecus.forEach((ecu, i) => {
    const l = ecu.link;
    if (l.transport === 'isotp') {
      claim(`isotp:${l.requestId}`, `ecus[${i}].requestId`, `id ${l.requestId.toString(16)}`, `${ecu.name}.requestId`);
      claim(`isotp:${l.responseId}`, `ecus[${i}].responseId`, `id ${l.responseId.toString(16)}`, `${ecu.name}.responseId`);
    } else if (l.transport === 'tp20') {
      claim(`tp20:${l.bus}:${l.logicalAddress}`, `ecus[${i}].logicalAddress`, `logical address ${l.logicalAddress.toString(16)}`, ecu.name);
    } else if (l.transport === 'kline') {
      claim(`kline:${l.address}`, `ecus[${i}].kline.address`, `K-Line address ${l.address.toString(16)}`, ecu.name);
    } else {
      if (!def.doip) throw new VehicleDefinitionError(`ecus[${i}].transport`, 'a DoIP ECU needs the vehicle\'s "doip" section');
      claim(`doip:${l.address}`, `ecus[${i}].doipAddress`, `DoIP address ${l.address.toString(16)}`, ecu.name);
    }
    if (ecus.findIndex((e) => e.name === ecu.name) !== i) throw new VehicleDefinitionError(`ecus[${i}].name`, 'names must be unique');
  });
  let doip: CompiledVehicle['doip'] = null;
  if (def.doip) {
    const option = def.doip.option ?? 1;
    if (option !== 1 && option !== 2) throw new VehicleDefinitionError('doip.option', 'must be 1 or 2 (ISO 13400-4)');
    const networkConfiguration = count(def.doip.networkConfiguration, 'doip.networkConfiguration', 1);
    if (networkConfiguration < 1 || networkConfiguration > 9)
      throw new VehicleDefinitionError('doip.networkConfiguration', 'must be 1 to 9');
    doip = { option, networkConfiguration, gatewayId: hexNumber(def.doip.gatewayId, 'doip.gatewayId', 2) };
  }
  return {
    name: def.name,
    vin: def.vin,
    functionalRequestId,
    ignitionOn: def.ignitionOn ?? true,
    engineRunning: def.engineRunning ?? true,
    batteryVoltage: def.batteryVoltage ?? 12.6,
    ecus,
    canBuses,
    klinePin: pinOf(def.kline?.pin, 'kline.pin', 7),
    doip,
    terminal15Pin: pinOf(def.terminal15?.pin, 'terminal15.pin', 1),
    broadcastFrames: (def.broadcastFrames ?? []).map((f, i) => compileBroadcast(f, `broadcastFrames[${i}]`, busNames)),
  };
}

function pinOf(value: unknown, path: string, fallback: number): number {
  const pin = count(value, path, fallback);
  if (pin < 1 || pin > 16) throw new VehicleDefinitionError(path, 'must be a connector pin, 1 to 16');
  return pin;
}

function compileCanBuses(def: VehicleDefinition): CompiledCanBus[] {
  const main = def.can;
  if (typeof main !== 'object' || main === null) throw new VehicleDefinitionError('can', 'needs { pinPlus, pinMinus, bitRateKbps }');
  const buses: CompiledCanBus[] = [
    {
      name: MAIN_BUS,
      pinPlus: pinOf(main.pinPlus, 'can.pinPlus', 6),
      pinMinus: pinOf(main.pinMinus, 'can.pinMinus', 14),
      bitRateKbps: main.bitRateKbps,
    },
  ];
  (def.canBuses ?? []).forEach((b, i) => {
    const p = `canBuses[${i}]`;
    if (typeof b.name !== 'string' || !b.name || buses.some((x) => x.name === b.name))
      throw new VehicleDefinitionError(`${p}.name`, 'needs a name of its own (not "main")');
    buses.push({
      name: b.name,
      pinPlus: pinOf(b.pinPlus, `${p}.pinPlus`, 0),
      pinMinus: pinOf(b.pinMinus, `${p}.pinMinus`, 0),
      bitRateKbps: b.bitRateKbps,
    });
  });
  return buses;
}

function compileBroadcast(f: BroadcastFrameDefinition, path: string, buses: ReadonlySet<string>): CompiledBroadcastFrame {
  const bus = f.bus ?? MAIN_BUS;
  if (!buses.has(bus)) throw new VehicleDefinitionError(`${path}.bus`, `no CAN bus named ${JSON.stringify(bus)}`);
  const data = hexBytes(f.data, `${path}.data`);
  if (data.length > 8) throw new VehicleDefinitionError(`${path}.data`, 'a classic CAN frame has at most 8 data bytes');
  const intervalMs = count(f.intervalMs, `${path}.intervalMs`, 100);
  if (intervalMs < 10) throw new VehicleDefinitionError(`${path}.intervalMs`, 'at least 10 ms');
  const counterByte = f.counter === undefined ? null : count(f.counter.byte, `${path}.counter.byte`, 0);
  if (counterByte !== null && counterByte >= data.length) throw new VehicleDefinitionError(`${path}.counter.byte`, 'outside the data');
  return { id: hexNumber(f.id, `${path}.id`, 4), bus, intervalMs, data, counterByte };
}
