import assert from 'node:assert/strict';
import { hexToBytes, toSpacedHex } from '../../protocol';
import { compileVehicle, VehicleDefinitionError } from '../../simulator/vehicle/definition';
import type { VehicleDefinition } from '../../simulator/vehicle/types';
import { loadVehicle } from '../../simulator/vehicle/vehicle';

/*
 * The simulated cars beyond ISO-TP: KWP2000 ECUs (ISO 14230-3) on the K-Line and behind TP 2.0, DoIP
 * routing, several CAN buses, the K-Line's timing (ISO 14230-2) and the ignition. Pure model, fake clock.
 */

const classic = (): VehicleDefinition => structuredClone(loadVehicle('classic').definition);
const FAST = { init: 'fast', baud: 10400 } as const;

function bench(def: VehicleDefinition | string) {
  let now = 1_000_000;
  const car = loadVehicle(def, () => now);
  return {
    car,
    wait: (ms: number) => (now += ms),
    kline: (address: number, hex: string, options: Parameters<typeof car.handleKline>[2] = FAST) =>
      car
        .handleKline(address, hexToBytes(hex), options)
        .map((r) => r.frames.map((f) => `+${f.delayMs} ${toSpacedHex(f.payload)}`).join(' | ')),
    tp20: (address: number, hex: string) => car.handleTp20(address, hexToBytes(hex)).map((r) => toSpacedHex(r.frames[0]!.payload)),
  };
}

function rejects(patch: (def: VehicleDefinition) => void, message: RegExp): void {
  const def = classic();
  patch(def);
  assert.throws(
    () => compileVehicle(def),
    (err: unknown) => err instanceof VehicleDefinitionError && message.test(err.message),
  );
}

describe('vehicle model: KWP2000 ECUs, the K-Line, TP 2.0, DoIP and several buses', () => {
  it('KWP2000 services: 10, 1A, 18, 14, 21, 3E and the NRCs of ISO 14230-3', () => {
    const b = bench('classic');
    const ask = (hex: string) => b.tp20(0x01, hex)[0] ?? '(silence)';
    assert.equal(ask('10 89'), '50 89');
    assert.equal(ask('10 42'), '7F 10 12');
    assert.equal(ask('1A 8A'), `5A 8A ${toSpacedHex(Buffer.from('Bosch'))}`);
    assert.equal(ask('1A 99'), '7F 1A 31');
    assert.equal(ask('18 02 FF 00'), '58 02 41 2C E3 45 09 23');
    // statusOfDTC 00: only DTCs stored as present (storage state 11).
    assert.equal(ask('18 00 FF 00'), '58 01 41 2C E3');
    assert.equal(ask('18 02 40 00'), '58 02 41 2C E3 45 09 23', 'both are in the chassis group 4000 (top bits 01)');
    assert.equal(ask('18 02 00 00'), '58 00', 'none in the powertrain group');
    assert.equal(ask('21 02'), `61 02 01 0C 1E 21 85 10 0F 4B 00`);
    assert.equal(ask('21 07'), '7F 21 31');
    assert.equal(ask('3E'), '7E');
    assert.equal(ask('3E 02'), '(silence)');
    assert.equal(ask('22 F1 90'), '7F 22 11', 'a UDS service is not KWP2000');
    assert.equal(ask('14 12 34'), '7F 14 31');
    assert.equal(ask('14 FF 00'), '54 FF 00');
    assert.equal(ask('18 02 FF 00'), '58 00', 'cleared');
    b.car.startOperationCycle();
    assert.equal(ask('18 02 FF 00'), '58 02 41 2C E3 45 09 23', 'a new session brings them back');
  });

  it('K-Line timing: initialisation, byte times at the baud rate, P2 and P3; one exchange at a time', () => {
    const b = bench('classic');
    // 2-byte request: (2 + 4) bytes × (10000/10400 ms + P4 5 ms) = 35.8 ms, + init 70 ms, + P2 25 ms,
    // + answer (12 + 4) bytes × 0.96 ms = 15.4 ms → 146 ms.
    assert.deepEqual(b.kline(0x09, '1A 87'), [`+146 5A 87 ${toSpacedHex(Buffer.from('1K0937049F'))}`]);
    // Asked again at once: the line is busy until that answer plus P3min (55 ms), 201 ms; no new
    // initialisation; then 35.8 ms request, 25 ms P2, 4.8 ms answer.
    assert.deepEqual(b.kline(0x09, '3E 01'), ['+267 7E']);
    b.wait(1000);
    assert.deepEqual(b.kline(0x09, '3E 01'), ['+66 7E']);
    // Another ECU: a new initialisation.
    b.wait(1000);
    assert.deepEqual(b.kline(0x15, '3E 01'), ['+136 7E']);
    // After P3max (5 s) without traffic the ECU needs a new initialisation too.
    b.wait(6000);
    assert.deepEqual(b.kline(0x15, '3E 01'), ['+136 7E']);
  });

  it('a K-Line ECU answers only its own initialisation, baud rate and key bytes; a slow init takes 2.3 s', () => {
    const b = bench('classic');
    assert.deepEqual(b.kline(0x17, '3E 01'), [], 'the instruments need slow init');
    assert.deepEqual(b.kline(0x15, '3E 01', { init: 'fast', baud: 9600 }), []);
    assert.deepEqual(b.kline(0x15, '3E 01', { ...FAST, keyBytes: [0x08, 0x08] }), []);
    assert.deepEqual(b.kline(0x15, '3E 01', { ...FAST, keyBytes: [0xef, 0x8f] }), ['+136 7E']);
    assert.deepEqual(b.kline(0x42, '3E 01'), [], 'no ECU at that address');
    b.wait(1000);
    const [slow] = b.kline(0x17, '3E 01', { init: 'slow', baud: 10400 });
    assert.match(slow!, /^\+23\d\d 7E$/);
  });

  it("DoIP: the DoIP entity must be the car's; UDS ECUs behind it; several CAN buses route by bus", () => {
    let now = 5_000_000;
    const car = loadVehicle('fleet', () => now);
    const doip = (gw: number, ecu: number, hex: string) =>
      car.handleDoip(gw, ecu, hexToBytes(hex)).map((r) => `${r.responseId.toString(16)} ${toSpacedHex(r.frames[0]!.payload)}`);
    assert.deepEqual(doip(0x1010, 0x4012, '22 F1 89'), [`4012 62 F1 89 ${toSpacedHex(Buffer.from('1203'))}`]);
    assert.deepEqual(doip(0x2020, 0x4012, '22 F1 89'), [], 'another gateway');
    assert.deepEqual(doip(0x1010, 0x4999, '22 F1 89'), [], 'no such ECU');
    assert.equal(car.canBusAt(3, 11, 125), 'body');
    assert.equal(car.canBusAt(3, 11, 500), undefined, 'the wrong bit rate');
    assert.equal(car.handleRequest(0x600, hexToBytes('3E 00')).length, 0, 'the body ECU is not on the main bus');
    assert.equal(toSpacedHex(car.handleRequest(0x600, hexToBytes('3E 00'), 'body')[0]!.frames[0]!.payload), '7E 00');
    const functional = car.handleRequest(0x7df, hexToBytes('01 00')).map((r) => r.responseId.toString(16));
    assert.deepEqual(functional, ['7e8', '7e9', '7ea', '7eb', '7ec', '7ed']);
    assert.equal(car.ecus().length, 30);
    now += 1;
  });

  it('the ignition is one flag with listeners; off silences every transport', () => {
    const b = bench('classic');
    const seen: boolean[] = [];
    const stop = b.car.onIgnitionChange((on) => seen.push(on));
    b.car.ignitionOn = false;
    b.car.ignitionOn = false;
    assert.deepEqual(b.tp20(0x01, '3E 01'), []);
    assert.deepEqual(b.kline(0x15, '3E 01'), []);
    b.car.ignitionOn = true;
    stop();
    b.car.ignitionOn = false;
    assert.deepEqual(seen, [false, true]);
  });

  it('definition mistakes name their JSON path', () => {
    rejects((d) => (d.ecus[0]!.transport = 'flexray' as never), /ecus\[0\]\.transport: unknown transport "flexray"/);
    rejects((d) => delete d.ecus[3]!.kline, /ecus\[3\]\.kline: a K-Line ECU needs/);
    rejects((d) => (d.ecus[3]!.kline!.baud = 19200), /ecus\[3\]\.kline\.baud: must be one of 9600, 10400, 15625/);
    rejects((d) => (d.ecus[3]!.kline!.keyBytes = 'EF'), /ecus\[3\]\.kline\.keyBytes: needs 2 bytes/);
    rejects((d) => (d.ecus[4]!.kline!.address = '15'), /ecus\[4\]\.kline\.address: K-Line address 15 already used by airbag/);
    rejects((d) => (d.ecus[1]!.logicalAddress = '01'), /ecus\[1\]\.logicalAddress: logical address 1 already used by engine/);
    rejects((d) => (d.ecus[0]!.canBus = 'comfort'), /ecus\[0\]\.canBus: no CAN bus named "comfort"/);
    rejects((d) => (d.ecus[0]!.dtcs = [{ code: '412C00', status: '08' }]), /ecus\[0\]\.dtcs\[0\]\.code: a KWP2000 DTC has 2 bytes/);
    rejects(
      (d) => (d.ecus[0]!.identification = { '9B': { ascii: 'x', hex: '00' } }),
      /ecus\[0\]\.identification\.9B: needs exactly one of/,
    );
    rejects(
      (d) => (d.broadcastFrames![0]!.data = '00 01 02 03 04 05 06 07 08'),
      /broadcastFrames\[0\]\.data: a classic CAN frame has at most 8/,
    );
    rejects((d) => (d.broadcastFrames![0]!.intervalMs = 1), /broadcastFrames\[0\]\.intervalMs: at least 10 ms/);
    rejects((d) => (d.ecus[0]!.transport = 'doip'), /ecus\[0\]\.doipAddress: expected a hex string/);
    rejects((d) => (d.terminal15 = { pin: 17 }), /terminal15\.pin: must be a connector pin/);
    rejects((d) => (d.canBuses = [{ name: 'main', pinPlus: 3, pinMinus: 11, bitRateKbps: 125 }]), /canBuses\[0\]\.name/);
  });
});
