/**
 * A simulated vehicle: routes each ISO-TP request to the ECU(s) it is addressed to and collects their replies.
 * No timers: the injected clock is read once per request and passed down.
 */
import { existsSync, readFileSync } from 'node:fs';
import classicVehicle from './classic-vehicle.json';
import defaultVehicle from './default-vehicle.json';
import fleetVehicle from './fleet-vehicle.json';
import {
  compileVehicle,
  MAIN_BUS,
  type CompiledBroadcastFrame,
  type CompiledCanBus,
  type CompiledVehicle,
  type EcuLink,
} from './definition';
import { SimulatedEcu, type EcuFrame, type EcuStatus, type VehicleEnvironment } from './ecu';
import { KwpEcu } from './kwp-ecu';
import type { LiveConditions } from './live-data';
import type { VehicleDefinition } from './types';

export type { EcuFrame, EcuStatus } from './ecu';
export type { EcuLink } from './definition';

export interface EcuReply {
  ecu: string;
  responseId: number;
  frames: EcuFrame[];
}

/** A functional request must fit a single CAN frame (ISO 15765-4); longer ones never reach the ECUs. */
const MAX_FUNCTIONAL_PAYLOAD = 7;

/** K-Line timing of ISO 14230-2: P4 (tester inter-byte) 5 ms minimum, P3 (between answer and next request) 55 ms minimum, P3max 5 s. */
const KLINE_P4_MS = 5;
const KLINE_P3_MIN_MS = 55;
const KLINE_P3_MAX_MS = 5000;
/** Format byte, target and source address before the data, checksum after it (ISO 14230-2). */
const KLINE_FRAME_OVERHEAD = 4;

type AnyEcu = SimulatedEcu | KwpEcu;

/** One ECU as listings show it: ISO-TP ECUs by their CAN ids, the others by transport and address. */
export type EcuInfo =
  | { name: string; requestId: number; responseId: number; bus?: string }
  | { name: string; transport: 'tp20' | 'kline' | 'doip'; address: number; bus?: string };

/** How a K-Line bus was configured, for the ECU to answer it or not. */
export interface KlineRequestOptions {
  init: 'fast' | 'slow';
  baud: number;
  /** Key bytes the tester expects; an ECU with others does not complete the initialisation. */
  keyBytes?: readonly [number, number];
}

export class SimulatedVehicle implements VehicleEnvironment {
  readonly definition: VehicleDefinition;
  readonly vin: string;
  /** Volts at the diagnostic connector; PID 42 of the default engine follows it. */
  batteryVoltage: number;
  readonly canBuses: readonly CompiledCanBus[];
  readonly klinePin: number;
  readonly doip: CompiledVehicle['doip'];
  readonly terminal15Pin: number;
  readonly broadcastFrames: readonly CompiledBroadcastFrame[];

  private readonly clock: () => number;
  private readonly functionalRequestId: number;
  private readonly ecuList: AnyEcu[];
  private running: boolean;
  private engineStartedAt: number;
  private ignition: boolean;
  private readonly ignitionListeners = new Set<(on: boolean) => void>();
  /** The K-Line is one wire: one exchange at a time, and talking to another ECU means a new initialisation. */
  private readonly kline = { busyUntil: 0, lastEnd: -Infinity, active: -1 };

  constructor(definition: VehicleDefinition, clock: () => number = Date.now) {
    const model = compileVehicle(definition);
    this.definition = definition;
    this.clock = clock;
    this.vin = model.vin;
    this.ignition = model.ignitionOn;
    this.batteryVoltage = model.batteryVoltage;
    this.running = model.engineRunning;
    this.engineStartedAt = clock();
    this.functionalRequestId = model.functionalRequestId;
    this.canBuses = model.canBuses;
    this.klinePin = model.klinePin;
    this.doip = model.doip;
    this.terminal15Pin = model.terminal15Pin;
    this.broadcastFrames = model.broadcastFrames;
    this.ecuList = model.ecus.map((ecu) => (ecu.protocol === 'kwp2000' ? new KwpEcu(ecu, this) : new SimulatedEcu(ecu, this)));
  }

  /** Terminal 15: with the ignition off no ECU answers. The one place the simulator keeps the ignition state. */
  get ignitionOn(): boolean {
    return this.ignition;
  }

  set ignitionOn(on: boolean) {
    const next = on === true;
    if (next === this.ignition) return;
    this.ignition = next;
    for (const l of [...this.ignitionListeners]) l(next);
  }

  /** Calls `listener` on every change of the ignition; returns the function that stops it. */
  onIgnitionChange(listener: (on: boolean) => void): () => void {
    this.ignitionListeners.add(listener);
    return () => this.ignitionListeners.delete(listener);
  }

  /** The vehicle CAN bus on these pins at this bit rate, if any (a wrong bit rate hears nothing). */
  canBusAt(pinPlus: number, pinMinus: number, bitRateKbps: number): string | undefined {
    return this.canBuses.find((b) => b.pinPlus === pinPlus && b.pinMinus === pinMinus && b.bitRateKbps === bitRateKbps)?.name;
  }

  /** Starting the engine restarts the live-data time line (coolant warm-up, run time). */
  get engineRunning(): boolean {
    return this.running;
  }

  set engineRunning(on: boolean) {
    if (on && !this.running) this.engineStartedAt = this.clock();
    this.running = on;
  }

  liveConditions(now: number): LiveConditions {
    return {
      engineRunTimeMs: this.running ? Math.max(0, now - this.engineStartedAt) : 0,
      engineRunning: this.running,
      batteryVoltage: this.batteryVoltage,
    };
  }

  /**
   * One ISO-TP request from the tester. requestId is the CAN id it was sent to; the functional id reaches
   * every OBD ECU. Returns one reply per answering ECU (empty array = silence).
   */
  handleRequest(requestId: number, payload: Buffer, bus: string = MAIN_BUS): EcuReply[] {
    if (!this.ignition) return [];
    const now = this.clock();
    const functional = requestId === this.functionalRequestId;
    if (functional && payload.length > MAX_FUNCTIONAL_PAYLOAD) return [];
    const replies: EcuReply[] = [];
    for (const ecu of this.ecuList) {
      const l = ecu.link;
      if (l.transport !== 'isotp' || l.bus !== bus || !(ecu instanceof SimulatedEcu)) continue;
      if (functional ? !ecu.obd : l.requestId !== requestId) continue;
      const frames = ecu.receive(payload, functional, now);
      if (frames.length > 0) replies.push({ ecu: ecu.name, responseId: ecu.responseId, frames });
    }
    return replies;
  }

  /** One request to the ECU with this TP 2.0 logical address on `bus`; the reply's responseId is the address. */
  handleTp20(logicalAddress: number, payload: Buffer, bus: string = MAIN_BUS): EcuReply[] {
    return this.#one((l) => l.transport === 'tp20' && l.bus === bus && l.logicalAddress === logicalAddress, payload, logicalAddress);
  }

  /** One request over DoIP: the DoIP entity must be the car's, the target one of its ECUs. */
  handleDoip(gatewayId: number, ecuAddress: number, payload: Buffer): EcuReply[] {
    if (!this.doip || this.doip.gatewayId !== gatewayId) return [];
    return this.#one((l) => l.transport === 'doip' && l.address === ecuAddress, payload, ecuAddress);
  }

  /**
   * One request on the K-Line to the ECU at `address`. The K-Line carries one exchange at a time: a
   * request waits for the line, a change of ECU (or P3max without traffic) costs an initialisation,
   * and every byte takes its time at the baud rate (ISO 14230-2), so frame delays include all of that.
   */
  handleKline(address: number, payload: Buffer, options: KlineRequestOptions): EcuReply[] {
    if (!this.ignition || payload.length === 0) return [];
    const ecu = this.ecuList.find((e) => e.link.transport === 'kline' && e.link.address === address);
    if (!ecu || ecu.link.transport !== 'kline') return [];
    const link = ecu.link;
    // Another initialisation or baud rate than the ECU's, or other key bytes: the ECU never answers the init.
    if (link.init !== options.init || link.baud !== options.baud) return [];
    if (options.keyBytes && (options.keyBytes[0] !== link.keyBytes[0] || options.keyBytes[1] !== link.keyBytes[1])) return [];
    const now = this.clock();
    const k = this.kline;
    const start = Math.max(now, k.busyUntil);
    let at = start - now;
    if (k.active !== address || start - k.lastEnd > KLINE_P3_MAX_MS) {
      at += link.initMs;
      k.active = address;
    }
    const byteMs = 10_000 / link.baud; // 10 bits per byte (start, 8 data, stop)
    at += (payload.length + KLINE_FRAME_OVERHEAD) * (byteMs + KLINE_P4_MS);
    const frames = ecu.receive(payload, false, now + at);
    const out: EcuFrame[] = [];
    let previous = 0;
    for (const f of frames) {
      at += f.delayMs + (f.payload.length + KLINE_FRAME_OVERHEAD) * byteMs;
      out.push({ delayMs: Math.round(at - previous), payload: f.payload });
      previous = Math.round(at);
    }
    const end = now + at;
    k.lastEnd = end;
    k.busyUntil = end + KLINE_P3_MIN_MS;
    return out.length > 0 ? [{ ecu: ecu.name, responseId: address, frames: out }] : [];
  }

  #one(match: (link: EcuLink) => boolean, payload: Buffer, responseId: number): EcuReply[] {
    if (!this.ignition) return [];
    const ecu = this.ecuList.find((e) => match(e.link));
    if (!ecu) return [];
    const frames = ecu.receive(payload, false, this.clock());
    return frames.length > 0 ? [{ ecu: ecu.name, responseId, frames }] : [];
  }

  /**
   * A new openOBD session on this vehicle (ignition cycle): ECUs back to the default session and locked,
   * security counters reset, faults marked stillPresent come back, live data starts from engine start.
   */
  startOperationCycle(): void {
    for (const ecu of this.ecuList) ecu.startOperationCycle();
    // A new session talks to the K-Line afresh: the first exchange initialises its ECU again.
    this.kline.active = -1;
    this.kline.lastEnd = -Infinity;
    if (this.running) this.engineStartedAt = this.clock();
  }

  ecus(): EcuInfo[] {
    return this.ecuList.map((ecu): EcuInfo => {
      const l = ecu.link;
      if (l.transport === 'isotp')
        return l.bus === MAIN_BUS
          ? { name: ecu.name, requestId: l.requestId, responseId: l.responseId }
          : { name: ecu.name, requestId: l.requestId, responseId: l.responseId, bus: l.bus };
      if (l.transport === 'tp20')
        return l.bus === MAIN_BUS
          ? { name: ecu.name, transport: 'tp20', address: l.logicalAddress }
          : { name: ecu.name, transport: 'tp20', address: l.logicalAddress, bus: l.bus };
      return { name: ecu.name, transport: l.transport, address: l.address };
    });
  }

  /** Every ECU with how it is reached and what it speaks (for the ECU list of openOBD's vehicle info). */
  ecuLinks(): Array<{ name: string; link: EcuLink; protocol: 'uds' | 'kwp2000' }> {
    return this.ecuList.map((e) => ({ name: e.name, link: e.link, protocol: e.protocol }));
  }

  /** Session, security and DTC state of one ECU (for logs, tests and a simulator UI). */
  ecuStatus(name: string): EcuStatus {
    const ecu = this.ecuList.find((e) => e.name === name);
    if (!ecu) throw new Error(`no ECU named "${name}" in vehicle "${this.definition.name}"`);
    return ecu.status();
  }
}

// JSON imports get widened types ("vin" becomes string); compileVehicle checks the content at construction.
const BUNDLED: Readonly<Record<string, VehicleDefinition>> = {
  default: defaultVehicle as unknown as VehicleDefinition,
  classic: classicVehicle as unknown as VehicleDefinition,
  fleet: fleetVehicle as unknown as VehicleDefinition,
};

export function bundledVehicleNames(): string[] {
  return Object.keys(BUNDLED);
}

/**
 * The bundled default vehicle, a bundled vehicle by name, a JSON file by path, or a definition object.
 * Bundled definitions are copied, so one vehicle's `definition` can be changed without affecting others.
 */
export function loadVehicle(nameOrDefinition?: string | VehicleDefinition, clock?: () => number): SimulatedVehicle {
  if (nameOrDefinition === undefined) return new SimulatedVehicle(structuredClone(BUNDLED.default), clock);
  if (typeof nameOrDefinition !== 'string') return new SimulatedVehicle(nameOrDefinition, clock);
  if (Object.hasOwn(BUNDLED, nameOrDefinition)) return new SimulatedVehicle(structuredClone(BUNDLED[nameOrDefinition]), clock);
  if (existsSync(nameOrDefinition)) {
    const parsed: unknown = JSON.parse(readFileSync(nameOrDefinition, 'utf8'));
    return new SimulatedVehicle(parsed as VehicleDefinition, clock);
  }
  throw new Error(`unknown vehicle "${nameOrDefinition}": use one of ${bundledVehicleNames().join(', ')} or a path to a JSON file`);
}
