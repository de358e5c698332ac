import assert from 'node:assert/strict';
import { hexToBytes, toSpacedHex } from '../../protocol';
import type { VehicleDefinition } from '../../simulator/vehicle/types';
import { loadVehicle, type SimulatedVehicle } from '../../simulator/vehicle/vehicle';

/** CAN request ids of the default car (simulator/vehicle/default-vehicle.json). */
export const ENGINE = 0x7e0;
export const TCM = 0x7e1;
export const ABS = 0x760;
export const ALL = 0x7df;
export const VIN_HEX = toSpacedHex(Buffer.from('WVWZZZAU6KW204711'));

/** A simulated car (the default one unless given) on a fake clock, with exact-byte views of its replies. */
export class VehicleBench {
  now = 1_000_000;
  readonly car: SimulatedVehicle;

  constructor(definition?: VehicleDefinition) {
    this.car = loadVehicle(definition, () => this.now);
  }

  /** Every reply: "7E8 +5 50 01 00 32 01 F4", frames of one reply joined by " | ". */
  send(id: number, hex: string): string[] {
    return this.car
      .handleRequest(id, hexToBytes(hex))
      .map(
        (r) => `${r.responseId.toString(16).toUpperCase()} ` + r.frames.map((f) => `+${f.delayMs} ${toSpacedHex(f.payload)}`).join(' | '),
      );
  }

  /** Payload of the single frame of the single reply, or "(silence)". */
  ask(id: number, hex: string): string {
    const replies = this.car.handleRequest(id, hexToBytes(hex));
    if (replies.length === 0) return '(silence)';
    assert.equal(replies.length, 1, 'one reply expected');
    assert.equal(replies[0].frames.length, 1, 'one frame expected');
    return toSpacedHex(replies[0].frames[0].payload);
  }

  wait(ms: number): void {
    this.now += ms;
  }

  /** 10 03 + seed/key for the engine (key = seed XOR 4F 50 45 4E, from default-vehicle.json). */
  unlockEngine(): void {
    assert.equal(this.ask(ENGINE, '10 03'), '50 03 00 32 01 F4');
    const seed = hexToBytes(this.ask(ENGINE, '27 01')).subarray(2);
    const key = Buffer.from(seed.map((b, i) => b ^ [0x4f, 0x50, 0x45, 0x4e][i]));
    assert.equal(this.ask(ENGINE, `27 02 ${toSpacedHex(key)}`), '67 02');
  }
}
