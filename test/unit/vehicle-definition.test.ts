import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hexToBytes, toSpacedHex } from '../../protocol';
import { compileVehicle, VehicleDefinitionError } from '../../simulator/vehicle/definition';
import type { VehicleDefinition } from '../../simulator/vehicle/types';
import { bundledVehicleNames, loadVehicle, SimulatedVehicle } from '../../simulator/vehicle/vehicle';
import { hasValidCheckDigit, isWellFormedVin, vinCheckDigit } from '../../simulator/vehicle/vin';

const base = (): VehicleDefinition => structuredClone(loadVehicle().definition);

function rejects(patch: (def: VehicleDefinition) => void, message: RegExp): void {
  const def = base();
  patch(def);
  assert.throws(
    () => compileVehicle(def),
    (err: unknown) => {
      assert.ok(err instanceof VehicleDefinitionError);
      assert.match(err.message, message);
      return true;
    },
  );
}

describe('vehicle definition: the bundled default vehicle', () => {
  it('has engine 7E0/7E8, transmission 7E1/7E9 and ABS 760/768', () => {
    const car = loadVehicle();
    assert.deepEqual(car.ecus(), [
      { name: 'engine', requestId: 0x7e0, responseId: 0x7e8 },
      { name: 'transmission', requestId: 0x7e1, responseId: 0x7e9 },
      { name: 'abs', requestId: 0x760, responseId: 0x768 },
    ]);
    assert.deepEqual(bundledVehicleNames(), ['default', 'classic', 'fleet']);
  });

  it('has the VIN WVWZZZAU6KW204711 with a valid check digit', () => {
    const car = loadVehicle('default');
    assert.equal(car.vin, 'WVWZZZAU6KW204711');
    assert.equal(vinCheckDigit(car.vin), '6');
    assert.ok(hasValidCheckDigit(car.vin));
  });

  it('starts with the ignition on, the engine idling and 14.1 V', () => {
    const car = loadVehicle();
    assert.equal(car.ignitionOn, true);
    assert.equal(car.engineRunning, true);
    assert.equal(car.batteryVoltage, 14.1);
    assert.deepEqual(car.definition.can, { pinPlus: 6, pinMinus: 14, bitRateKbps: 500 });
    assert.equal(car.definition.functionalRequestId, '7DF');
  });

  it('is copied into dist next to the compiled code (resolveJsonModule)', () => {
    assert.ok(existsSync(join(__dirname, '../../simulator/vehicle/default-vehicle.json')));
  });

  it('gives every vehicle its own copy of the definition and its own state', () => {
    const a = loadVehicle();
    a.definition.name = 'changed';
    assert.equal(loadVehicle().definition.name, 'default');
    const b = loadVehicle();
    b.handleRequest(0x7e0, hexToBytes('14 FF FF FF'));
    assert.equal(toSpacedHex(loadVehicle().handleRequest(0x7e0, hexToBytes('19 01 FF'))[0].frames[0].payload), '59 01 FF 01 00 03');
  });
});

describe('vehicle definition: loading', () => {
  it('loads a definition object or a JSON file path', () => {
    const def = base();
    def.name = 'from-file';
    assert.equal(loadVehicle(def).definition.name, 'from-file');
    const dir = mkdtempSync(join(tmpdir(), 'vehicle-'));
    try {
      const file = join(dir, 'car.json');
      writeFileSync(file, JSON.stringify(def));
      const car = loadVehicle(file);
      assert.ok(car instanceof SimulatedVehicle);
      assert.equal(car.definition.name, 'from-file');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects unknown names, including Object.prototype keys', () => {
    assert.throws(() => loadVehicle('no-such-car'), /unknown vehicle "no-such-car".*default/);
    assert.throws(() => loadVehicle('constructor'), /unknown vehicle/);
  });

  it('works without an injected clock (Date.now)', () => {
    const car = loadVehicle();
    const seedAnswer = (): string => {
      car.handleRequest(0x7e0, hexToBytes('10 03'));
      return toSpacedHex(car.handleRequest(0x7e0, hexToBytes('27 01'))[0].frames[0].payload);
    };
    assert.match(seedAnswer(), /^67 01( [0-9A-F]{2}){4}$/);
  });
});

describe('vehicle definition: validation names the JSON path', () => {
  it('VIN: 17 characters without I, O, Q', () => {
    rejects((d) => (d.vin = 'WVWZZZAU6KW20471'), /vin: needs 17 characters/);
    rejects((d) => (d.vin = 'WVWZZZAU6KW2047I1'), /vin: needs 17 characters 0-9\/A-Z without I, O, Q/);
  });

  it('hex fields', () => {
    rejects((d) => (d.ecus[0].requestId = '7G0'), /ecus\[0\]\.requestId: expected a hex string/);
    rejects((d) => (d.ecus[0].dids!.F187 = { hex: '123' }), /ecus\[0\]\.dids\.F187\.hex: not hex bytes/);
    rejects((d) => (d.ecus[1].dtcs = [{ code: '0715', status: '09' }]), /ecus\[1\]\.dtcs\[0\]\.code: needs 3 bytes/);
  });

  it('DIDs need exactly one value source; only plain values can be writable', () => {
    rejects((d) => (d.ecus[0].dids!.F187 = { ascii: 'A', hex: '41' }), /dids\.F187: needs exactly one/);
    rejects((d) => (d.ecus[0].dids!.F190 = { source: 'vin', writable: true }), /dids\.F190: only ascii\/hex DIDs can be writable/);
  });

  it('sessions and security levels', () => {
    rejects((d) => (d.ecus[0].dids!.F198.needsSession = 'turbo'), /dids\.F198\.needsSession\[0\]/);
    rejects((d) => (d.ecus[0].dids!.F198.needsSecurity = 2), /security level must be an odd number/);
    rejects((d) => (d.ecus[0].sessions = ['extended']), /sessions: must include "default"/);
  });

  it('ids must be unique, also against the functional id', () => {
    rejects((d) => (d.ecus[1].requestId = '7E0'), /ecus\[1\]\.requestId: id 7e0 already used by engine\.requestId/);
    rejects((d) => (d.ecus[2].requestId = '7DF'), /ecus\[2\]\.requestId: id 7df already used by functionalRequestId/);
    rejects((d) => (d.ecus[2].name = 'engine'), /ecus\[2\]\.name: names must be unique/);
  });

  it('bitmap PIDs are computed, PIDs only on OBD ECUs, signals need a value', () => {
    rejects((d) => (d.ecus[0].obdPids = { '20': { hex: '00000000' } }), /obdPids\.20: bitmap PIDs/);
    rejects((d) => (d.ecus[2].obdPids = { '0C': { hex: '0000' } }), /ecus\[2\]\.obdPids: only for ECUs with obd: true/);
    rejects(
      (d) => (d.ecus[0].obdPids = { '0C': { hex: '00', monitorStatus: '000000' } }),
      /needs exactly one of hex, signal, monitorStatus/,
    );
  });

  it('services must be simulated; 27 needs a security definition', () => {
    rejects((d) => (d.ecus[0].services = ['22', '23']), /services: SID 23 is not simulated/);
    rejects((d) => {
      d.ecus[2].services = ['27'];
      delete d.ecus[2].security;
    }, /27 needs a security definition/);
  });

  it('security: algorithm and seed length', () => {
    rejects(
      (d) => (d.ecus[0].security = { levels: [{ level: 1, seedLength: 4, key: { algorithm: 'xor', value: '' } }] }),
      /security\.levels\[0\]\.key\.value: must not be empty/,
    );
    rejects(
      (d) => (d.ecus[0].security = { levels: [{ level: 1, seedLength: 0, key: { algorithm: 'xor', value: '01' } }] }),
      /seedLength: must be 1–16/,
    );
  });

  it('a restricted service list answers 11 for the rest; no 0x27 without security', () => {
    const def = base();
    def.ecus[2].services = ['10', '22', '3E'];
    const car = loadVehicle(def);
    assert.equal(toSpacedHex(car.handleRequest(0x760, hexToBytes('19 02 FF'))[0].frames[0].payload), '7F 19 11');
    assert.equal(toSpacedHex(car.handleRequest(0x760, hexToBytes('27 03'))[0].frames[0].payload), '7F 27 11');
    assert.equal(toSpacedHex(car.handleRequest(0x760, hexToBytes('3E 00'))[0].frames[0].payload), '7E 00');
  });
});

describe('vehicle VIN helpers (ISO 3779, 49 CFR 565)', () => {
  it('computes the public check digits', () => {
    assert.equal(vinCheckDigit('1G4AH59H45G118341'), '4');
    assert.equal(vinCheckDigit('1M8GDM9AXKP042788'), 'X');
    assert.equal(vinCheckDigit('WAUZZZ8V9FA149850'), '9');
    assert.equal(vinCheckDigit('1G1JC5444R7252367'), '4');
    assert.equal(vinCheckDigit('LFV3B28R8A3025310'), '8');
    assert.equal(vinCheckDigit('UU1B5220X65966756'), 'X');
  });

  it('accepts European VINs whose check digit does not match, but flags them', () => {
    assert.ok(isWellFormedVin('WP0ZZZ99ZTS392124'));
    assert.equal(vinCheckDigit('WP0ZZZ99ZTS392124'), '8');
    assert.equal(hasValidCheckDigit('WP0ZZZ99ZTS392124'), false);
    assert.equal(vinCheckDigit('W0L000051T2123456'), '5');
    const def = base();
    def.vin = 'W0L000051T2123456';
    assert.equal(loadVehicle(def).vin, 'W0L000051T2123456');
  });

  it('rejects I, O, Q and wrong lengths', () => {
    assert.equal(isWellFormedVin('1G4AH59H45G11834I'), false);
    assert.equal(isWellFormedVin('1G4AH59H45G11834'), false);
    assert.throws(() => vinCheckDigit('ABC'), /not a well-formed VIN/);
  });
});
