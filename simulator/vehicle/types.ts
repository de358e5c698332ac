/**
 * JSON schema of a simulated vehicle, as TypeScript types.
 *
 * Conventions used throughout the JSON:
 * - CAN ids, DIDs, RIDs, SIDs, DTCs, status bytes and raw data are hex strings
 *   ("7E0", "F190", "2F", "012345"). Spaces inside hex data are allowed ("00 32 01 F4").
 * - A session is named ("default", "programming", "extended", "safety") or given as
 *   its hex sub-function ("03", "40").
 * - A security level is the odd requestSeed sub-function as a number (1 → `27 01` / `27 02`).
 *
 * `definition.ts` validates a definition and reports the JSON path of every mistake.
 */

export type SessionRef = string;

export interface VehicleDefinition {
  name: string;
  description?: string;
  /** 17 characters; the check digit is not enforced (many European VINs fail it: ISO 3779 does not require one). */
  vin: string;
  /** The main CAN bus (named "main"): ISO-TP and TP 2.0 ECUs are on it unless they name another. */
  can: { pinPlus: number; pinMinus: number; bitRateKbps: number };
  /** More CAN buses on the connector (e.g. a body CAN on pins 3/11); ECUs name theirs with `canBus`. */
  canBuses?: CanBusDefinition[];
  /** The K-Line (ISO 14230) on the connector, default pin 7; ECUs with `transport: "kline"` are on it. */
  kline?: { pin?: number };
  /** DoIP (ISO 13400): the Ethernet pin option, openOBD's network configuration and the DoIP entity (gateway) address. */
  doip?: { option?: 1 | 2; networkConfiguration?: number; gatewayId: string };
  /** Terminal 15 (ignition) is on this pin (default 1). */
  terminal15?: { pin?: number };
  /** Frames the car's ECUs send on their own, periodically (what a frames bus hears). */
  broadcastFrames?: BroadcastFrameDefinition[];
  /** Functional request id, "7DF": reaches every ECU with `obd: true`. */
  functionalRequestId: string;
  ecus: EcuDefinition[];
  /** Default true. With the ignition off no ECU answers. */
  ignitionOn?: boolean;
  /** Default true. Live data uses the time since the engine started; rpm etc. drop to `whenEngineOff`. */
  engineRunning?: boolean;
  /** Supply voltage at the diagnostic connector in volts (default 12.6). PID 42 can follow it. */
  batteryVoltage?: number;
}

export interface CanBusDefinition {
  name: string;
  pinPlus: number;
  pinMinus: number;
  bitRateKbps: number;
}

/** A periodic frame: `data` every `intervalMs`; with `counter`, the low nibble of that byte counts 0–F (an alive counter). */
export interface BroadcastFrameDefinition {
  id: string;
  intervalMs: number;
  data: string;
  /** The CAN bus it is sent on (default the main bus). */
  bus?: string;
  counter?: { byte: number };
  name?: string;
}

export interface KlineEcuDefinition {
  /** The ECU's K-Line address (hex, e.g. "01"). */
  address: string;
  /** ISO 14230-2 initialisation the ECU answers: "fast" (default) or "slow" (5-baud address). */
  init?: 'fast' | 'slow';
  /** 9600, 10400 (default) or 15625. */
  baud?: number;
  /** Key bytes KB1 KB2 of its initialisation answer (default "EF 8F": ISO 14230 with header formats of every kind). */
  keyBytes?: string;
  /** How long the initialisation takes (default: slow 2300 ms, fast 70 ms). */
  initMs?: number;
}

/** A KWP2000 identification (0x1A) or local identifier (0x21) value: exactly one of ascii, hex, source. */
export interface KwpValueDefinition {
  name?: string;
  ascii?: string;
  hex?: string;
  source?: 'vin';
}

export interface EcuDefinition {
  name: string;
  description?: string;
  /** How the ECU is reached (default "isotp"). */
  transport?: 'isotp' | 'tp20' | 'kline' | 'doip';
  /** Diagnostic protocol: "uds" (default for ISO-TP and DoIP) or "kwp2000" (default for K-Line and TP 2.0). */
  protocol?: 'uds' | 'kwp2000';
  /** The CAN bus an ISO-TP or TP 2.0 ECU is on (a name from `canBuses`; default the main bus). */
  canBus?: string;
  /** ISO-TP: CAN ids. */
  requestId?: string;
  responseId?: string;
  /** TP 2.0: the logical address (hex, e.g. "01"). */
  logicalAddress?: string;
  /** K-Line: address and initialisation. */
  kline?: KlineEcuDefinition;
  /** DoIP: the ECU's logical address behind the car's DoIP entity (hex, e.g. "1001"). */
  doipAddress?: string;
  /** KWP2000: readEcuIdentification (0x1A) values by identificationOption (hex, e.g. "9B"). */
  identification?: Record<string, KwpValueDefinition>;
  /** KWP2000: readDataByLocalIdentifier (0x21) values by local identifier (hex). */
  localIdentifiers?: Record<string, KwpValueDefinition>;
  /** Answers OBD-II modes (01 03 04 07 09 0A) and requests sent to the functional id. */
  obd?: boolean;
  /** Delay of the first frame of every reply (default 5 ms). */
  responseDelayMs?: number;
  /** After `11 xx` the ECU is silent for this long (default 100 ms). */
  bootTimeMs?: number;
  /** S3 session timeout (default 5000 ms, ISO 14229-2). */
  s3Ms?: number;
  /** Timing announced in the `50 ss` answer (default P2 50 ms, P2* 5000 ms). */
  timing?: { p2Ms: number; p2StarMs: number };
  /** Sessions accepted by `10 ss` (default default, programming, extended). */
  sessions?: SessionRef[];
  /** UDS SIDs this ECU implements (default: every UDS service the simulator knows). OBD modes follow `obd`. */
  services?: string[];
  /** SID → sessions where the service is allowed; elsewhere NRC 0x7F. */
  serviceSessions?: Record<string, SessionRef[]>;
  /** "SID/SUB" (e.g. "10/02") → sessions where the sub-function is allowed; elsewhere NRC 0x7E. */
  subFunctionSessions?: Record<string, SessionRef[]>;
  /** SID → security level that must be unlocked for the whole service; else NRC 0x33. */
  serviceSecurity?: Record<string, number>;
  /** `14` and OBD `04` answer NRC 0x22 while the engine runs (default false). */
  clearNeedsEngineOff?: boolean;
  /** DTCStatusAvailabilityMask in `59 xx` answers (default "FF"). */
  dtcAvailabilityMask?: string;
  /** Status a DTC gets when cleared (default "00": it drops out of `19 02` and OBD `03`). */
  dtcStatusAfterClear?: string;
  /** UDS data identifiers (required for UDS ECUs). */
  dids?: Record<string, DidDefinition>;
  dtcs?: DtcDefinition[];
  routines?: Record<string, RoutineDefinition>;
  security?: SecurityDefinition;
  /** InputOutputControlByIdentifier (0x2F) items by DID (hex). */
  ioControls?: Record<string, IoControlDefinition>;
  /** RequestDownload / TransferData / RequestTransferExit (0x34, 0x36, 0x37): where and how the ECU takes data. */
  download?: DownloadDefinition;
  /** Mode 01 PIDs (hex key, e.g. "0C"). Bitmap PIDs 00/20/40… are computed, do not list them. */
  obdPids?: Record<string, ObdPidDefinition>;
  /** Mode 09 info types this ECU supports. */
  obdInfo?: ObdInfoDefinition;
}

/**
 * A data identifier. Exactly one value source: `ascii`, `hex`, `source` or `obdPid`.
 * `needsSession`/`needsSecurity` guard writing; `readNeedsSession`/`readNeedsSecurity` guard reading.
 */
export interface DidDefinition {
  name?: string;
  ascii?: string;
  hex?: string;
  /** Computed values: the vehicle VIN, or the active session byte (F186). */
  source?: 'vin' | 'activeSession';
  /** The current data bytes of this ECU's mode 01 PID (ISO 14229 maps F400–F4FF to OBD PIDs). */
  obdPid?: string;
  writable?: boolean;
  /** Byte length a write must have (default: length of the initial value). */
  length?: number;
  needsSession?: SessionRef | SessionRef[];
  needsSecurity?: number;
  readNeedsSession?: SessionRef | SessionRef[];
  readNeedsSecurity?: number;
}

export interface DtcDefinition {
  /** 3-byte UDS DTC, "030100" = P0301-00 (OBD modes report the high two bytes); 2 bytes for a KWP2000 ECU ("0301"). */
  code: string;
  /** Status byte, e.g. "2F", "08", "AF" (bit 7 = MIL requested). */
  status: string;
  name?: string;
  /** The fault is still there: after a clear it comes back at the next operation cycle. */
  stillPresent?: boolean;
  /** Snapshot (freeze frame) records for `19 04`: record number (hex) and the DIDs stored with their data (hex). */
  snapshots?: Array<{ record: string; dids: Record<string, string> }>;
  /** Extended data records for `19 06`: record number (hex) → data (hex), e.g. { "01": "05" } an occurrence counter. */
  extendedData?: Record<string, string>;
  /** Reported by OBD mode 0A; clearing does not remove it, it goes at the next cycle unless stillPresent. */
  permanent?: boolean;
}

export interface RoutineDefinition {
  name?: string;
  needsSession?: SessionRef | SessionRef[];
  needsSecurity?: number;
  /** How many `7F 31 78` frames precede the final answer to a start (default 0). */
  pendingResponses?: number;
  /** Interval between the pending frames and before the final answer (default 1500 ms). */
  pendingIntervalMs?: number;
  /** How many starts are refused with `7F 31 21` before one is accepted (default 0). */
  busyResponses?: number;
  /** routineStatusRecord (hex) of `71 01` and `71 03` once finished (default "00"). */
  result?: string;
  /** The routine keeps running this long after its positive start (default 0: finished at once). */
  runMs?: number;
  /** Status record answered by `31 03` while running (default "01"). */
  inProgressResult?: string;
  /** Record of the `71 02` answer (default ""). */
  stopResult?: string;
}

export interface SecurityDefinition {
  levels: SecurityLevelDefinition[];
  /** Failed keys before NRC 0x36 and the lockout (default 3). */
  maxAttempts?: number;
  /** Lockout during which seeds and keys get NRC 0x37 (default 10000 ms). */
  lockoutMs?: number;
}

export interface SecurityLevelDefinition {
  /** Odd requestSeed sub-function (1, 3, …); the key goes with level + 1. */
  level: number;
  seedLength: number;
  key: KeyAlgorithmDefinition;
}

/**
 * Key algorithms simple enough for a Node-RED function node:
 * - xor: key = seed XOR mask (mask repeated if shorter than the seed)
 * - add: key = (seed + constant) mod 2^(8·seedLength), big-endian
 */
export interface KeyAlgorithmDefinition {
  algorithm: 'xor' | 'add';
  /** Hex mask (xor) or constant (add). */
  value: string;
}

/**
 * A mode 01 PID. Exactly one of:
 * - `hex`: fixed data bytes;
 * - `signal` with `bytes`, `scale`, `offset`: raw = round((value − offset) / scale), unsigned big-endian;
 * - `monitorStatus`: PID 01, byte A computed from the DTCs (MIL, confirmed count), bytes B–D from this hex.
 */
export interface ObdPidDefinition {
  name?: string;
  hex?: string;
  signal?: SignalDefinition;
  bytes?: number;
  scale?: number;
  offset?: number;
  monitorStatus?: string;
}

/**
 * A live value as a function of the time t since the engine started (deterministic for a clock value):
 * value(t) = warm-up(value) + perSecond·t/1000 + wobble.amplitude·sin(2π·t/wobble.periodMs).
 */
export interface SignalDefinition {
  /** Steady value, or "batteryVoltage" to follow the vehicle's supply voltage. */
  value: number | 'batteryVoltage';
  /** Exponential approach from `from` to `value` with this time constant. */
  warmUp?: { from: number; timeConstantMs: number };
  perSecond?: number;
  wobble?: { amplitude: number; periodMs: number };
  /** Value while the engine is off (default: the formula keeps running). */
  whenEngineOff?: number;
}

export interface ObdInfoDefinition {
  /** 09 02: the vehicle VIN. */
  vin?: boolean;
  /** 09 04: calibration ids, up to 16 ASCII characters each (NUL padded). */
  calibrationIds?: string[];
  /** 09 0A: ECU name, up to 20 ASCII characters (NUL padded). */
  ecuName?: string;
}

/** An output the tester may control with 0x2F: its current value (hex) and what "reset to default" restores. */
export interface IoControlDefinition {
  name?: string;
  /** The ECU's own value, also what returnControlToECU and resetToDefault go back to. */
  value: string;
  needsSecurity?: number;
}

/** A memory area the ECU accepts downloads into (0x34), and how it takes them. */
export interface DownloadDefinition {
  /** Start address and size (hex) of the memory the ECU accepts. */
  memory: { address: string; size: string };
  /** maxNumberOfBlockLength announced in `74` (bytes of a whole 0x36 request, SID and counter included; default 0x402). */
  maxBlockLength?: number;
  /** Security level the download needs (default none). */
  needsSecurity?: number;
  /** `7F 36 78` frames before every `76` (the ECU busy writing; default 0). */
  pendingPerBlock?: number;
  /** Interval of those pending frames (default 50 ms). */
  pendingIntervalMs?: number;
}
