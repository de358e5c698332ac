/**
 * One simulated ECU: its session/security state machine, DTC memory and service handlers.
 * Pure logic: time is passed in with every request (`now`, ms), nothing runs on its own.
 * The rules follow ISO 14229-1 (UDS services, response codes, sessions and security), ISO 14229-2
 * (S3 session timing), ISO 15765-2 (ISO-TP) and SAE J1979 (OBD-II).
 */
import { asciiPadded, uintBytes } from './bytes';
import type { CompiledDid, CompiledDtc, CompiledEcu, CompiledPid, CompiledRoutine, CompiledSecurityLevel } from './definition';
import { SESSION } from './definition';
import { encodeScaled, signalValue, type LiveConditions } from './live-data';

export const NRC = {
  serviceNotSupported: 0x11,
  subFunctionNotSupported: 0x12,
  incorrectMessageLengthOrInvalidFormat: 0x13,
  responseTooLong: 0x14,
  busyRepeatRequest: 0x21,
  conditionsNotCorrect: 0x22,
  requestSequenceError: 0x24,
  requestOutOfRange: 0x31,
  securityAccessDenied: 0x33,
  invalidKey: 0x35,
  exceededNumberOfAttempts: 0x36,
  requiredTimeDelayNotExpired: 0x37,
  uploadDownloadNotAccepted: 0x70,
  transferDataSuspended: 0x71,
  wrongBlockSequenceCounter: 0x73,
  responsePending: 0x78,
  subFunctionNotSupportedInActiveSession: 0x7e,
  serviceNotSupportedInActiveSession: 0x7f,
} as const;

/** A functionally addressed request never gets these NRCs: the ECU stays silent instead (ISO 14229-1). */
const SILENT_WHEN_FUNCTIONAL: ReadonlySet<number> = new Set([
  NRC.serviceNotSupported,
  NRC.subFunctionNotSupported,
  NRC.requestOutOfRange,
  NRC.subFunctionNotSupportedInActiveSession,
  NRC.serviceNotSupportedInActiveSession,
]);

/** Classic ISO-TP cannot carry more (ISO 14229-1 NRC 0x14, ISO 15765-2). */
const MAX_RESPONSE_BYTES = 4095;

/** One frame of a reply; the delay is relative to the previous frame (the first: to the request). */
export interface EcuFrame {
  delayMs: number;
  payload: Buffer;
}

/** What the ECU needs from the vehicle around it. */
export interface VehicleEnvironment {
  readonly vin: string;
  readonly engineRunning: boolean;
  liveConditions(now: number): LiveConditions;
}

export interface EcuStatus {
  session: number;
  /** Unlocked security level (odd requestSeed value), or null while locked. */
  unlockedLevel: number | null;
  dtcs: Array<{ code: number; status: number; permanent: boolean }>;
  /** 0x85: false after `85 02` (DTC setting off) until `85 01` or the default session. */
  dtcSettingOn?: boolean;
  /** 0x28: the last control type (00 enableRxAndTx … 03 disableRxAndTx). */
  communicationControl?: number;
  /** 0x2F: the DIDs under tester control, with their values (hex). */
  ioOverrides?: Record<string, string>;
  /** 0x34/0x36/0x37: the last download (while it runs and after it ended). */
  download?: { address: number; size: number; received: number; blocks: number; complete: boolean; crc32?: string };
}

interface Request {
  payload: Buffer;
  sid: number;
  /** Sub-function with the SPRMIB masked off (0 for services without one). */
  sub: number;
  now: number;
}

interface Positive {
  kind: 'positive';
  payload: Buffer;
  /** Send this many `7F SID 78` frames, intervalMs apart, before the payload. */
  pending?: { count: number; intervalMs: number };
}
type Answer = Positive | { kind: 'negative'; nrc: number } | { kind: 'none' };

interface ServiceEntry {
  /** Accepted sub-functions; absent for services without a sub-function byte (no SPRMIB either, ISO 14229-1). */
  subFunctions?: readonly number[];
  handle(req: Request): Answer;
}

interface DtcState {
  def: CompiledDtc;
  status: number;
  permanent: boolean;
  /** Cleared since the last operation cycle: stillPresent faults come back at the next one. */
  cleared: boolean;
}

interface RoutineState {
  /** Time of the final start answer plus runMs: until then the routine is running. */
  finishesAt: number;
}

const negative = (nrc: number): Answer => ({ kind: 'negative', nrc });
const NONE: Answer = { kind: 'none' };

function positive(...parts: Array<number | Uint8Array>): Positive {
  const bufs = parts.map((p) => (typeof p === 'number' ? Buffer.of(p) : Buffer.from(p)));
  return { kind: 'positive', payload: Buffer.concat(bufs) };
}

/** Deterministic 32-bit mixer (a splitmix-style finaliser), so seeds depend only on clock and counter. */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/** CRC-32 (ISO-HDLC, the polynomial of IEEE 802.3 and zlib), as flash tools use to check a download. */
export function crc32(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** The key the tester must send for a seed (the algorithm is data, see types.ts KeyAlgorithmDefinition). */
export function computeKey(level: Pick<CompiledSecurityLevel, 'algorithm' | 'value'>, seed: Buffer): Buffer {
  const key = Buffer.alloc(seed.length);
  if (level.algorithm === 'xor') {
    for (let i = 0; i < seed.length; i++) key[i] = seed[i] ^ level.value[i % level.value.length];
    return key;
  }
  // add: big-endian addition of the constant (right-aligned), carries beyond the seed length dropped.
  let carry = 0;
  for (let i = seed.length - 1, j = level.value.length - 1; i >= 0; i--, j--) {
    const sum = seed[i] + (j >= 0 ? level.value[j] : 0) + carry;
    key[i] = sum & 0xff;
    carry = sum >> 8;
  }
  return key;
}

export class SimulatedEcu {
  readonly name: string;
  readonly link: CompiledEcu['link'];
  readonly protocol = 'uds';
  readonly requestId: number;
  readonly responseId: number;
  readonly obd: boolean;

  private readonly services: ReadonlyMap<number, ServiceEntry>;
  private readonly dtcs: DtcState[];
  /** Values written with 0x2E; they survive resets and sessions like real non-volatile memory. */
  private readonly written = new Map<number, Buffer>();
  private readonly routineStates = new Map<number, RoutineState>();
  /** Busy answers still to give per routine before a start is accepted. */
  private readonly busyLeft = new Map<number, number>();

  private session: number = SESSION.default;
  private unlockedLevel: number | null = null;
  private pendingSeed: { level: number; seed: Buffer } | null = null;
  private failedAttempts = 0;
  private lockedOutUntil = -Infinity;
  private seedCounter = 0;
  /** End of the last reply: S3 runs from there. */
  private lastActivityAt = 0;
  /** After an ECU reset the ECU is silent until then. */
  private bootUntil = -Infinity;
  private dtcSettingOn = true;
  private communicationControl = 0x00;
  private readonly ioOverrides = new Map<number, Buffer>();
  /** A download in progress (34 accepted), or the last one (ended by 37). */
  private transfer: {
    address: number;
    size: number;
    parts: Buffer[];
    received: number;
    lastCounter: number;
    blocks: number;
    done: boolean;
  } | null = null;

  constructor(
    private readonly def: CompiledEcu,
    private readonly env: VehicleEnvironment,
  ) {
    this.name = def.name;
    this.link = def.link;
    this.requestId = def.requestId;
    this.responseId = def.responseId;
    this.obd = def.obd;
    this.dtcs = def.dtcs.map((d) => ({ def: d, status: d.status, permanent: d.permanent, cleared: false }));
    this.services = this.buildServiceTable();
  }

  private buildServiceTable(): Map<number, ServiceEntry> {
    const uds = new Map<number, ServiceEntry>([
      [0x10, { subFunctions: [...this.def.sessions], handle: (r) => this.diagnosticSessionControl(r) }],
      [0x11, { subFunctions: [0x01, 0x02, 0x03], handle: (r) => this.ecuReset(r) }],
      [0x14, { handle: (r) => this.clearDiagnosticInformation(r) }],
      [0x19, { subFunctions: [0x01, 0x02, 0x04, 0x06, 0x0a], handle: (r) => this.readDtcInformation(r) }],
      [0x28, { subFunctions: [0x00, 0x01, 0x02, 0x03], handle: (r) => this.communicationControlService(r) }],
      [0x2f, { handle: (r) => this.ioControl(r) }],
      [0x34, { handle: (r) => this.requestDownload(r) }],
      [0x36, { handle: (r) => this.transferData(r) }],
      [0x37, { handle: (r) => this.transferExit(r) }],
      [0x85, { subFunctions: [0x01, 0x02], handle: (r) => this.controlDtcSetting(r) }],
      [0x22, { handle: (r) => this.readDataByIdentifier(r) }],
      [0x2e, { handle: (r) => this.writeDataByIdentifier(r) }],
      [0x31, { subFunctions: [0x01, 0x02, 0x03], handle: (r) => this.routineControl(r) }],
      [0x3e, { subFunctions: [0x00], handle: (r) => this.testerPresent(r) }],
    ]);
    const security = this.def.security;
    if (security) {
      const subs = [...security.levels.keys()].flatMap((level) => [level, level + 1]);
      uds.set(0x27, { subFunctions: subs, handle: (r) => this.securityAccess(r) });
    }
    const table = new Map<number, ServiceEntry>();
    for (const [sid, entry] of uds) {
      if (this.def.services === null || this.def.services.has(sid)) table.set(sid, entry);
    }
    if (this.def.obd) {
      table.set(0x01, { handle: (r) => this.obdCurrentData(r) });
      table.set(0x03, { handle: (r) => this.obdDtcs(r, 0x43, (d) => (d.status & 0x08) !== 0) });
      table.set(0x04, { handle: (r) => this.obdClear(r) });
      table.set(0x07, { handle: (r) => this.obdDtcs(r, 0x47, (d) => (d.status & 0x04) !== 0) });
      table.set(0x09, { handle: (r) => this.obdVehicleInfo(r) });
      table.set(0x0a, { handle: (r) => this.obdDtcs(r, 0x4a, (d) => d.permanent) });
    }
    return table;
  }

  // --- entry points ----------------------------------------------------------------------------

  /** One complete request; returns the frames of the reply (empty = silence). */
  receive(payload: Buffer, functional: boolean, now: number): EcuFrame[] {
    // The openOBD SDK opens a channel with an empty payload and expects nothing back.
    if (payload.length === 0) return [];
    // Rebooting after 11 xx: the request is lost (ISO 14229-1 ECUReset).
    if (now < this.bootUntil) return [];
    // S3 expired: back to the default session, which relocks (ISO 14229-1); checked lazily on the next request.
    if (this.session !== SESSION.default && now - this.lastActivityAt > this.def.s3Ms) this.enterDefaultSession();

    const sid = payload[0];
    const frames = this.toFrames(sid, this.dispatch(payload, now), functional);
    // Any request restarts S3, counted from the end of our reply (a long 0x78 sequence must not eat it).
    this.lastActivityAt = now + frames.reduce((t, f) => t + f.delayMs, 0);
    return frames;
  }

  /** New ignition cycle: default session, locked, counters reset, still-present faults come back. */
  startOperationCycle(): void {
    this.enterDefaultSession();
    this.failedAttempts = 0;
    this.lockedOutUntil = -Infinity;
    this.bootUntil = -Infinity;
    this.busyLeft.clear();
    for (const dtc of this.dtcs) {
      if (!dtc.cleared) continue;
      if (dtc.def.stillPresent) {
        dtc.status = dtc.def.status;
        dtc.cleared = false;
      } else {
        // The monitor ran without finding the fault again: a permanent DTC goes away (SAE J1979, mode 0A).
        dtc.permanent = false;
      }
    }
  }

  status(): EcuStatus {
    const t = this.transfer;
    return {
      session: this.session,
      unlockedLevel: this.unlockedLevel,
      dtcs: this.dtcs.map((d) => ({ code: d.def.code, status: d.status, permanent: d.permanent })),
      dtcSettingOn: this.dtcSettingOn,
      communicationControl: this.communicationControl,
      ioOverrides: Object.fromEntries(
        [...this.ioOverrides].map(([id, v]) => [id.toString(16).toUpperCase().padStart(4, '0'), v.toString('hex').toUpperCase()]),
      ),
      download: t
        ? {
            address: t.address,
            size: t.size,
            received: t.received,
            blocks: t.blocks,
            complete: t.done,
            crc32: t.done ? crc32(Buffer.concat(t.parts)).toString(16).toUpperCase().padStart(8, '0') : undefined,
          }
        : undefined,
    };
  }

  // --- generic request handling ----------------------------------------------------------------

  /** Service-level checks in the order of ISO 14229-1 (general server response behaviour) steps 1–4; the handler does the rest (steps 5–9). */
  private dispatch(payload: Buffer, now: number): Answer {
    const sid = payload[0];
    const entry = this.services.get(sid);
    if (!entry) return negative(NRC.serviceNotSupported);
    const sessions = this.def.serviceSessions.get(sid);
    if (sessions && !sessions.has(this.session)) return negative(NRC.serviceNotSupportedInActiveSession);

    let sub = 0;
    let suppressPositive = false;
    if (entry.subFunctions) {
      if (payload.length < 2) return negative(NRC.incorrectMessageLengthOrInvalidFormat);
      sub = payload[1] & 0x7f;
      suppressPositive = (payload[1] & 0x80) !== 0;
      if (!entry.subFunctions.includes(sub)) return negative(NRC.subFunctionNotSupported);
      const subSessions = this.def.subFunctionSessions.get(sid * 256 + sub);
      if (subSessions && !subSessions.has(this.session)) return negative(NRC.subFunctionNotSupportedInActiveSession);
    }
    const level = this.def.serviceSecurity.get(sid);
    if (level !== undefined && this.unlockedLevel !== level) return negative(NRC.securityAccessDenied);

    const answer = entry.handle({ payload, sid, sub, now });
    // SPRMIB suppresses only a positive answer, and not one that follows 0x78 frames (ISO 14229-1).
    if (answer.kind === 'positive' && suppressPositive && !answer.pending) return NONE;
    return answer;
  }

  private toFrames(sid: number, answer: Answer, functional: boolean): EcuFrame[] {
    const first = this.def.responseDelayMs;
    if (answer.kind === 'none') return [];
    if (answer.kind === 'negative') {
      if (functional && SILENT_WHEN_FUNCTIONAL.has(answer.nrc)) return [];
      return [{ delayMs: first, payload: Buffer.of(0x7f, sid, answer.nrc) }];
    }
    if (answer.payload.length > MAX_RESPONSE_BYTES) {
      return [{ delayMs: first, payload: Buffer.of(0x7f, sid, NRC.responseTooLong) }];
    }
    const frames: EcuFrame[] = [];
    const pending = answer.pending;
    if (pending) {
      for (let i = 0; i < pending.count; i++) {
        frames.push({ delayMs: i === 0 ? first : pending.intervalMs, payload: Buffer.of(0x7f, sid, NRC.responsePending) });
      }
    }
    frames.push({ delayMs: frames.length === 0 ? first : (pending?.intervalMs ?? first), payload: answer.payload });
    return frames;
  }

  private enterDefaultSession(): void {
    this.session = SESSION.default;
    this.relock();
    this.routineStates.clear();
    this.leaveNonDefaultState();
  }

  /** What only lasts outside the default session: DTC setting off, communication control, I/O overrides, a download. */
  private leaveNonDefaultState(): void {
    this.dtcSettingOn = true;
    this.communicationControl = 0x00;
    this.ioOverrides.clear();
    if (this.transfer && !this.transfer.done) this.transfer = null;
  }

  private relock(): void {
    this.unlockedLevel = null;
    this.pendingSeed = null;
  }

  private sessionAllowed(sessions: ReadonlySet<number> | null): boolean {
    return sessions === null || sessions.has(this.session);
  }

  private unlocked(level: number | null): boolean {
    return level === null || this.unlockedLevel === level;
  }

  private badLength(): Answer {
    return negative(NRC.incorrectMessageLengthOrInvalidFormat);
  }

  // --- UDS services ----------------------------------------------------------------------------

  /** 0x10: `50 ss P2(ms) P2*(10 ms)`; every session change relocks (ISO 14229-1). */
  private diagnosticSessionControl(req: Request): Answer {
    if (req.payload.length !== 2) return this.badLength();
    if (req.sub === SESSION.default) {
      this.enterDefaultSession();
    } else {
      this.session = req.sub;
      this.relock();
      // A download does not survive a change of session (ISO 14229-1).
      if (this.transfer && !this.transfer.done) this.transfer = null;
    }
    return positive(0x50, req.sub, uintBytes(this.def.p2Ms, 2), uintBytes(Math.round(this.def.p2StarMs / 10), 2));
  }

  /** 0x11: answer first, then reboot: default session, locked, silent for bootTimeMs (ISO 14229-1). */
  private ecuReset(req: Request): Answer {
    if (req.payload.length !== 2) return this.badLength();
    this.enterDefaultSession();
    this.bootUntil = req.now + this.def.responseDelayMs + this.def.bootTimeMs;
    return positive(0x51, req.sub);
  }

  /** 0x14 groupOfDTC: FFFFFF = all, or one stored DTC; anything else 0x31 (ISO 14229-1). */
  private clearDiagnosticInformation(req: Request): Answer {
    if (req.payload.length !== 4) return this.badLength();
    const group = req.payload.readUIntBE(1, 3);
    if (group !== 0xffffff && !this.dtcs.some((d) => d.def.code === group)) return negative(NRC.requestOutOfRange);
    if (this.def.clearNeedsEngineOff && this.env.engineRunning) return negative(NRC.conditionsNotCorrect);
    this.clearDtcs(group);
    return positive(0x54);
  }

  /** 0x19 01/02/04/06/0A, DTCFormatIdentifier 01 = ISO 14229-1 DTC format. */
  private readDtcInformation(req: Request): Answer {
    const avail = this.def.availabilityMask;
    const record = (d: DtcState): Buffer => Buffer.concat([uintBytes(d.def.code, 3), Buffer.of(d.status & avail)]);
    if (req.sub === 0x04 || req.sub === 0x06) {
      // 19 04/06 DTC(3) record: FF every record (06: FE every OBD record, 90–EF).
      if (req.payload.length !== 6) return this.badLength();
      const code = req.payload.readUIntBE(2, 3);
      const wanted = req.payload[5]!;
      const dtc = this.dtcs.find((d) => d.def.code === code);
      if (!dtc) return negative(NRC.requestOutOfRange);
      if (req.sub === 0x04) {
        const snaps = dtc.def.snapshots.filter((s) => wanted === 0xff || s.record === wanted);
        if (wanted !== 0xff && snaps.length === 0) return negative(NRC.requestOutOfRange);
        const parts = snaps.flatMap((s) => [Buffer.of(s.record, s.dids.length), ...s.dids.flatMap((d) => [uintBytes(d.id, 2), d.data])]);
        return positive(0x59, 0x04, record(dtc), ...parts);
      }
      const records = [...dtc.def.extendedData].filter(
        ([r]) => wanted === 0xff || (wanted === 0xfe ? r >= 0x90 && r <= 0xef : r === wanted),
      );
      if (wanted !== 0xff && wanted !== 0xfe && records.length === 0) return negative(NRC.requestOutOfRange);
      return positive(0x59, 0x06, record(dtc), ...records.flatMap(([r, data]) => [Buffer.of(r), data]));
    }
    if (req.sub === 0x0a) {
      if (req.payload.length !== 2) return this.badLength();
      return positive(0x59, 0x0a, avail, ...this.dtcs.map(record));
    }
    if (req.payload.length !== 3) return this.badLength();
    const mask = req.payload[2];
    const matching = this.dtcs.filter((d) => (d.status & mask & avail) !== 0);
    if (req.sub === 0x01) return positive(0x59, 0x01, avail, 0x01, uintBytes(matching.length, 2));
    return positive(0x59, 0x02, avail, ...matching.map(record));
  }

  /** 0x22: only the supported DIDs are answered; none → 0x31; any protected one → 0x33 (ISO 14229-1). */
  private readDataByIdentifier(req: Request): Answer {
    const len = req.payload.length;
    if (len < 3 || (len - 1) % 2 !== 0) return this.badLength();
    const readable: CompiledDid[] = [];
    for (let i = 1; i < len; i += 2) {
      const did = this.def.dids.get(req.payload.readUInt16BE(i));
      // A DID that needs another session counts as not supported in this one (0x31, not 0x7F).
      if (did && this.sessionAllowed(did.read.sessions)) readable.push(did);
    }
    if (readable.length === 0) return negative(NRC.requestOutOfRange);
    if (readable.some((did) => !this.unlocked(did.read.securityLevel))) return negative(NRC.securityAccessDenied);
    const parts = readable.flatMap((did) => [uintBytes(did.id, 2), this.didValue(did.id, req.now)]);
    return positive(0x62, ...parts);
  }

  private didValue(id: number, now: number): Buffer {
    const written = this.written.get(id);
    if (written) return written;
    const did = this.def.dids.get(id);
    if (!did) return Buffer.alloc(0);
    switch (did.value.kind) {
      case 'bytes':
        return did.value.bytes;
      case 'vin':
        return Buffer.from(this.env.vin, 'latin1');
      case 'activeSession':
        return Buffer.of(this.session);
      case 'obdPid':
        return this.pidData(did.value.pid, now) ?? Buffer.alloc(0);
    }
  }

  /** 0x27: seed/key with attempt counter and lockout (ISO 14229-1). */
  private securityAccess(req: Request): Answer {
    const security = this.def.security;
    if (!security) return negative(NRC.serviceNotSupported);
    if (req.now < this.lockedOutUntil) return negative(NRC.requiredTimeDelayNotExpired);
    if (this.lockedOutUntil !== -Infinity) {
      // The delay is over: the tester gets a fresh set of attempts.
      this.lockedOutUntil = -Infinity;
      this.failedAttempts = 0;
    }
    const requestSeed = req.sub % 2 === 1;
    const level = requestSeed ? req.sub : req.sub - 1;
    const lv = security.levels.get(level);
    if (!lv) return negative(NRC.subFunctionNotSupported);

    if (requestSeed) {
      // Already unlocked at this level: all-zero seed of the normal length (ISO 14229-1, udsoncan #51/#214).
      if (this.unlockedLevel === level) return positive(0x67, req.sub, Buffer.alloc(lv.seedLength));
      const seed = this.makeSeed(lv.seedLength, req.now);
      this.pendingSeed = { level, seed };
      return positive(0x67, req.sub, seed);
    }

    if (!this.pendingSeed || this.pendingSeed.level !== level) return negative(NRC.requestSequenceError);
    if (req.payload.length - 2 !== lv.seedLength) return this.badLength();
    const expected = computeKey(lv, this.pendingSeed.seed);
    this.pendingSeed = null; // one key per seed, right or wrong
    if (!expected.equals(req.payload.subarray(2))) {
      this.failedAttempts++;
      if (this.failedAttempts >= security.maxAttempts) {
        this.lockedOutUntil = req.now + security.lockoutMs;
        return negative(NRC.exceededNumberOfAttempts);
      }
      return negative(NRC.invalidKey);
    }
    this.failedAttempts = 0;
    this.unlockedLevel = level;
    return positive(0x67, req.sub);
  }

  /** Clock-derived seed (deterministic for a given clock value and request count), never all zero. */
  private makeSeed(length: number, now: number): Buffer {
    this.seedCounter++;
    let x = mix32((now >>> 0) ^ mix32(Math.floor(now / 2 ** 32) ^ mix32(this.seedCounter ^ this.requestId)));
    const seed = Buffer.alloc(length);
    for (let i = 0; i < length; i++) {
      x = mix32(x + 0x9e3779b9);
      seed[i] = x & 0xff;
    }
    if (seed.every((b) => b === 0)) seed[length - 1] = 1;
    return seed;
  }

  /** 0x2E: DID support/session → 0x31, security → 0x33, then exact length → 0x13 (ISO 14229-1). */
  private writeDataByIdentifier(req: Request): Answer {
    if (req.payload.length < 4) return this.badLength();
    const id = req.payload.readUInt16BE(1);
    const did = this.def.dids.get(id);
    if (!did || !did.writable || !this.sessionAllowed(did.write.sessions)) return negative(NRC.requestOutOfRange);
    if (!this.unlocked(did.write.securityLevel)) return negative(NRC.securityAccessDenied);
    if (req.payload.length - 3 !== did.writeLength) return this.badLength();
    this.written.set(id, Buffer.from(req.payload.subarray(3)));
    return positive(0x6e, uintBytes(id, 2));
  }

  /** 0x31 start/stop/results with response-pending and busy scenarios (ISO 14229-1). */
  private routineControl(req: Request): Answer {
    if (req.payload.length < 4) return this.badLength();
    const id = req.payload.readUInt16BE(2);
    const routine = this.def.routines.get(id);
    if (!routine || !this.sessionAllowed(routine.access.sessions)) return negative(NRC.requestOutOfRange);
    if (!this.unlocked(routine.access.securityLevel)) return negative(NRC.securityAccessDenied);
    const state = this.routineStates.get(id);
    const running = state !== undefined && req.now < state.finishesAt;
    const rid = uintBytes(id, 2);

    if (req.sub === 0x01) return this.startRoutine(routine, running, req.now);
    if (req.sub === 0x02) {
      if (!running) return negative(NRC.requestSequenceError);
      this.routineStates.delete(id); // stopped: no results to ask for
      return positive(0x71, 0x02, rid, routine.stopResult);
    }
    if (!state) return negative(NRC.requestSequenceError); // results before any start
    return positive(0x71, 0x03, rid, running ? routine.inProgressResult : routine.result);
  }

  private startRoutine(routine: CompiledRoutine, running: boolean, now: number): Answer {
    if (running) return negative(NRC.conditionsNotCorrect);
    const busy = this.busyLeft.get(routine.id) ?? routine.busyResponses;
    if (busy > 0) {
      this.busyLeft.set(routine.id, busy - 1);
      return negative(NRC.busyRepeatRequest);
    }
    this.busyLeft.delete(routine.id); // the next start meets the busy answers again
    const pendingMs = routine.pendingResponses * routine.pendingIntervalMs;
    this.routineStates.set(routine.id, { finishesAt: now + this.def.responseDelayMs + pendingMs + routine.runMs });
    // A routine that keeps running reports "in progress"; one that is done at once reports its result.
    const record = routine.runMs > 0 ? routine.inProgressResult : routine.result;
    const answer = positive(0x71, 0x01, uintBytes(routine.id, 2), record);
    if (routine.pendingResponses === 0) return answer;
    return { ...answer, pending: { count: routine.pendingResponses, intervalMs: routine.pendingIntervalMs } };
  }

  /** 0x85 01/02: DTC setting on/off (ISO 14229-1 ControlDTCSetting); SPRMIB allowed. */
  private controlDtcSetting(req: Request): Answer {
    if (req.payload.length !== 2) return this.badLength();
    this.dtcSettingOn = req.sub === 0x01;
    return positive(0xc5, req.sub);
  }

  /** 0x28 ct comm: control type 00–03, communication type 01 normal, 02 network management, 03 both (ISO 14229-1). */
  private communicationControlService(req: Request): Answer {
    if (req.payload.length !== 3) return this.badLength();
    const comm = req.payload[2]! & 0x03;
    if (comm === 0 || (req.payload[2]! & 0x0c) !== 0) return negative(NRC.requestOutOfRange);
    this.communicationControl = req.sub;
    return positive(0x68, req.sub);
  }

  /** 0x2F DID p [state]: 00 returnControlToECU, 01 resetToDefault, 02 freezeCurrentState, 03 shortTermAdjustment (ISO 14229-1). */
  private ioControl(req: Request): Answer {
    if (req.payload.length < 4) return this.badLength();
    const id = req.payload.readUInt16BE(1);
    const io = this.def.ioControls.get(id);
    if (!io) return negative(NRC.requestOutOfRange);
    if (!this.unlocked(io.securityLevel)) return negative(NRC.securityAccessDenied);
    const p = req.payload[3]!;
    if (p > 0x03) return negative(NRC.requestOutOfRange);
    const state = req.payload.subarray(4);
    if (p === 0x03 ? state.length !== io.value.length : state.length !== 0) return this.badLength();
    if (p === 0x00 || p === 0x01) this.ioOverrides.delete(id);
    else if (p === 0x02) this.ioOverrides.set(id, this.ioOverrides.get(id) ?? io.value);
    else this.ioOverrides.set(id, Buffer.from(state));
    return positive(0x6f, uintBytes(id, 2), p, this.ioOverrides.get(id) ?? io.value);
  }

  /**
   * 0x34 dfi alfi address size → 74 lfi maxNumberOfBlockLength (ISO 14229-1 RequestDownload): dfi 00 (no
   * compression or encryption), the area inside the ECU's memory, the programming session, security.
   */
  private requestDownload(req: Request): Answer {
    const d = this.def.download;
    if (!d) return negative(NRC.requestOutOfRange);
    if (req.payload.length < 3) return this.badLength();
    const alfi = req.payload[2]!;
    const sizeBytes = alfi >> 4;
    const addressBytes = alfi & 0x0f;
    if (sizeBytes < 1 || sizeBytes > 4 || addressBytes < 1 || addressBytes > 4) return negative(NRC.requestOutOfRange);
    if (req.payload.length !== 3 + addressBytes + sizeBytes) return this.badLength();
    if (!this.unlocked(d.securityLevel)) return negative(NRC.securityAccessDenied);
    if (req.payload[1] !== 0x00) return negative(NRC.requestOutOfRange);
    const address = req.payload.readUIntBE(3, addressBytes);
    const size = req.payload.readUIntBE(3 + addressBytes, sizeBytes);
    if (size === 0 || address < d.address || address + size > d.address + d.size) return negative(NRC.requestOutOfRange);
    if (this.transfer && !this.transfer.done) return negative(NRC.conditionsNotCorrect);
    this.transfer = { address, size, parts: [], received: 0, lastCounter: 0, blocks: 0, done: false };
    // lengthFormatIdentifier: the high nibble is the length of maxNumberOfBlockLength (2 bytes here).
    return positive(0x74, 0x20, uintBytes(d.maxBlockLength, 2));
  }

  /** 0x36 counter data → 76 counter: the counter starts at 01 and wraps FF → 00; a repeated block is taken again (ISO 14229-1). */
  private transferData(req: Request): Answer {
    const d = this.def.download;
    const t = this.transfer;
    if (!d || !t || t.done) return negative(NRC.requestSequenceError);
    if (req.payload.length < 2) return this.badLength();
    if (req.payload.length > d.maxBlockLength) return this.badLength();
    const counter = req.payload[1]!;
    const expected = (t.lastCounter + 1) & 0xff;
    const data = req.payload.subarray(2);
    let pendingAnswer: Positive;
    if (counter === t.lastCounter && t.blocks > 0) {
      pendingAnswer = positive(0x76, counter); // a retry of the last block: answered again, not written twice
    } else if (counter !== expected) {
      return negative(NRC.wrongBlockSequenceCounter);
    } else {
      if (data.length === 0) return this.badLength();
      if (t.received + data.length > t.size) return negative(NRC.transferDataSuspended);
      t.parts.push(Buffer.from(data));
      t.received += data.length;
      t.lastCounter = counter;
      t.blocks += 1;
      pendingAnswer = positive(0x76, counter);
    }
    if (d.pendingPerBlock === 0) return pendingAnswer;
    return { ...pendingAnswer, pending: { count: d.pendingPerBlock, intervalMs: d.pendingIntervalMs } };
  }

  /** 0x37 → 77 with the CRC-32 of the data received (a transferResponseParameterRecord of this simulator's choice). */
  private transferExit(_req: Request): Answer {
    const t = this.transfer;
    if (!t || t.done) return negative(NRC.requestSequenceError);
    if (t.received !== t.size) return negative(NRC.requestSequenceError);
    t.done = true;
    return positive(0x77, uintBytes(crc32(Buffer.concat(t.parts)), 4));
  }

  /** 0x3E 00 → `7E 00`; 3E 80 keeps the session alive silently (ISO 14229-1). */
  private testerPresent(req: Request): Answer {
    if (req.payload.length !== 2) return this.badLength();
    return positive(0x7e, 0x00);
  }

  // --- DTC memory ------------------------------------------------------------------------------

  private clearDtcs(group: number): void {
    for (const dtc of this.dtcs) {
      if (group !== 0xffffff && dtc.def.code !== group) continue;
      dtc.status = this.def.statusAfterClear;
      dtc.cleared = true; // permanent DTCs stay until the next cycle (SAE J1979 mode 0A)
    }
  }

  // --- OBD-II (SAE J1979 over CAN, ISO 15765-4) ----------------------------------------------------------

  /** Mode 01: up to 6 PIDs, one record per supported PID; none supported → 0x31 (silent on 7DF). */
  private obdCurrentData(req: Request): Answer {
    if (req.payload.length < 2 || req.payload.length > 7) return this.badLength();
    const records: Buffer[] = [];
    for (const pid of req.payload.subarray(1)) {
      const data = this.pidData(pid, req.now);
      if (data) records.push(Buffer.of(pid), data);
    }
    if (records.length === 0) return negative(NRC.requestOutOfRange);
    return positive(0x41, ...records);
  }

  /** Data bytes of a mode 01 PID, or null if this ECU does not support it. */
  private pidData(pid: number, now: number): Buffer | null {
    if (pid % 0x20 === 0) return this.pidBitmap(pid);
    const def = this.def.pids.get(pid);
    return def ? this.encodePid(def, now) : null;
  }

  /**
   * PIDs 00/20/40…: bit 7 of A = base+1 … bit 0 of D = base+0x20. A bitmap PID is supported when a
   * higher PID is, so the chain always agrees with the data PIDs (SAE J1979).
   */
  private pidBitmap(base: number): Buffer | null {
    const highest = Math.max(0, ...this.def.pids.keys());
    if (base !== 0 && highest < base) return null;
    const bitmap = Buffer.alloc(4);
    for (let pid = base + 1; pid <= base + 0x20; pid++) {
      const supported = pid === base + 0x20 ? highest > pid : this.def.pids.has(pid);
      if (supported) bitmap[(pid - base - 1) >> 3] |= 0x80 >> ((pid - base - 1) & 7);
    }
    return bitmap;
  }

  private encodePid(def: CompiledPid, now: number): Buffer {
    switch (def.kind) {
      case 'fixed':
        return def.bytes;
      case 'signal':
        return encodeScaled(signalValue(def.signal, this.env.liveConditions(now)), def.size, def.scale, def.offset);
      case 'monitorStatus': {
        // Byte A: bit 7 MIL (any DTC requesting the warning lamp), bits 6–0 confirmed DTC count.
        const mil = this.dtcs.some((d) => (d.status & 0x80) !== 0) ? 0x80 : 0;
        const confirmed = Math.min(0x7f, this.dtcs.filter((d) => (d.status & 0x08) !== 0).length);
        return Buffer.concat([Buffer.of(mil | confirmed), def.readiness]);
      }
    }
  }

  /** Modes 03/07/0A: `4x n DTC(2 bytes)…` — on CAN a count byte follows the SID (SAE J1979, ISO 15765-4). */
  private obdDtcs(req: Request, rsid: number, select: (d: DtcState) => boolean): Answer {
    if (req.payload.length !== 1) return this.badLength();
    const codes: number[] = [];
    for (const dtc of this.dtcs.filter(select)) {
      const obdCode = dtc.def.code >> 8; // the 2-byte OBD DTC is the high two bytes of the UDS DTC
      if (!codes.includes(obdCode)) codes.push(obdCode);
    }
    return positive(rsid, codes.length, ...codes.map((c) => uintBytes(c, 2)));
  }

  /** Mode 04: clears every DTC of this ECU (permanent ones stay); see clearNeedsEngineOff. */
  private obdClear(req: Request): Answer {
    if (req.payload.length !== 1) return this.badLength();
    if (this.def.clearNeedsEngineOff && this.env.engineRunning) return negative(NRC.conditionsNotCorrect);
    this.clearDtcs(0xffffff);
    return positive(0x44);
  }

  /** Mode 09: 00 bitmap, 02 VIN, 04 CALIDs, 0A ECU name (CAN form: no count byte for 00, SAE J1979). */
  private obdVehicleInfo(req: Request): Answer {
    if (req.payload.length !== 2) return this.badLength();
    const info = this.def.info;
    const supported = new Map<number, () => Answer>();
    if (info.vin) supported.set(0x02, () => positive(0x49, 0x02, 0x01, Buffer.from(this.env.vin, 'latin1')));
    if (info.calibrationIds.length > 0) {
      const ids = info.calibrationIds.map((id) => asciiPadded(id, 16));
      supported.set(0x04, () => positive(0x49, 0x04, ids.length, ...ids));
    }
    const ecuName = info.ecuName;
    if (ecuName !== null) supported.set(0x0a, () => positive(0x49, 0x0a, 0x01, asciiPadded(ecuName, 20)));

    const type = req.payload[1];
    if (type === 0x00 && supported.size > 0) {
      const bitmap = Buffer.alloc(4);
      for (const t of supported.keys()) bitmap[(t - 1) >> 3] |= 0x80 >> ((t - 1) & 7);
      return positive(0x49, 0x00, bitmap);
    }
    return supported.get(type)?.() ?? negative(NRC.requestOutOfRange);
  }
}
