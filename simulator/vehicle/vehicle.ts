/**
 * A simulated vehicle: routes each ISO-TP request to the ECU(s) it is addressed to and collects their replies.
 * No timers: the injected clock is read once per request and passed down.
 */
import { existsSync, readFileSync } from 'node:fs';
import defaultVehicle from './default-vehicle.json';
import { compileVehicle } from './definition';
import { SimulatedEcu, type EcuFrame, type EcuStatus, type VehicleEnvironment } from './ecu';
import type { LiveConditions } from './live-data';
import type { VehicleDefinition } from './types';

export type { EcuFrame, EcuStatus } from './ecu';

export interface EcuReply {
  ecu: string;
  responseId: number;
  frames: EcuFrame[];
}

/** A functional request must fit a single CAN frame (ISO 15765-4); longer ones never reach the ECUs. */
const MAX_FUNCTIONAL_PAYLOAD = 7;

export class SimulatedVehicle implements VehicleEnvironment {
  readonly definition: VehicleDefinition;
  readonly vin: string;
  /** With the ignition off nothing answers. */
  ignitionOn: boolean;
  /** Volts at the diagnostic connector; PID 42 of the default engine follows it. */
  batteryVoltage: number;

  private readonly clock: () => number;
  private readonly functionalRequestId: number;
  private readonly ecuList: SimulatedEcu[];
  private running: boolean;
  private engineStartedAt: number;

  constructor(definition: VehicleDefinition, clock: () => number = Date.now) {
    const model = compileVehicle(definition);
    this.definition = definition;
    this.clock = clock;
    this.vin = model.vin;
    this.ignitionOn = model.ignitionOn;
    this.batteryVoltage = model.batteryVoltage;
    this.running = model.engineRunning;
    this.engineStartedAt = clock();
    this.functionalRequestId = model.functionalRequestId;
    this.ecuList = model.ecus.map((ecu) => new SimulatedEcu(ecu, this));
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
  handleRequest(requestId: number, payload: Buffer): EcuReply[] {
    if (!this.ignitionOn) return [];
    const now = this.clock();
    const functional = requestId === this.functionalRequestId;
    if (functional && payload.length > MAX_FUNCTIONAL_PAYLOAD) return [];
    const targets = this.ecuList.filter((ecu) => (functional ? ecu.obd : ecu.requestId === requestId));
    const replies: EcuReply[] = [];
    for (const ecu of targets) {
      const frames = ecu.receive(payload, functional, now);
      if (frames.length > 0) replies.push({ ecu: ecu.name, responseId: ecu.responseId, frames });
    }
    return replies;
  }

  /**
   * A new openOBD session on this vehicle (ignition cycle): ECUs back to the default session and locked,
   * security counters reset, faults marked stillPresent come back, live data starts from engine start.
   */
  startOperationCycle(): void {
    for (const ecu of this.ecuList) ecu.startOperationCycle();
    if (this.running) this.engineStartedAt = this.clock();
  }

  ecus(): Array<{ name: string; requestId: number; responseId: number }> {
    return this.ecuList.map(({ name, requestId, responseId }) => ({ name, requestId, responseId }));
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
