import assert from 'node:assert/strict';
import { OpenObdError } from '../../client/errors';
import {
  decodeDtcStatus,
  decodeVin,
  modelYearFromCode,
  obdDtcToString,
  udsDtcToString,
  vinCheckDigit,
  vinWeightedSum,
} from '../../client/codec';

const mid2025 = new Date('2025-06-15T12:00:00Z');

function badRequest(err: unknown): boolean {
  return err instanceof OpenObdError && err.code === 'BAD_REQUEST';
}

describe('codec/dtc', () => {
  it('UDS DTC → text vectors (SAE J2012, py-uds dtc.rst)', () => {
    assert.equal(udsDtcToString(0x000000), 'P0000-00');
    assert.equal(udsDtcToString(0x56789a), 'C1678-9A');
    assert.equal(udsDtcToString(0xa5b6c7), 'B25B6-C7');
    assert.equal(udsDtcToString(0xffffff), 'U3FFF-FF');
  });

  it('U13: 0x012345 → P0123-45', () => {
    assert.equal(udsDtcToString(0x012345), 'P0123-45');
  });

  it('U11: 0x123456 → P1234-56 and 0x123457 → P1234-57', () => {
    assert.equal(udsDtcToString(0x123456), 'P1234-56');
    assert.equal(udsDtcToString(0x123457), 'P1234-57');
  });

  it('OBD DTC byte → text vectors (python-OBD): 0104 → P0104, 4123 → C0123, 8003 → B0003', () => {
    assert.equal(obdDtcToString(0x01, 0x04), 'P0104');
    assert.equal(obdDtcToString(0x41, 0x23), 'C0123');
    assert.equal(obdDtcToString(0x80, 0x03), 'B0003');
    assert.equal(obdDtcToString(0xc1, 0x00), 'U0100');
    assert.equal(obdDtcToString(0x3f, 0xff), 'P3FFF');
  });

  it('rejects numbers that are not DTCs', () => {
    assert.throws(() => udsDtcToString(-1), badRequest);
    assert.throws(() => udsDtcToString(0x1000000), badRequest);
    assert.throws(() => udsDtcToString(1.5), badRequest);
    assert.throws(() => obdDtcToString(0x100, 0), badRequest);
    assert.throws(() => obdDtcToString(0, -1), badRequest);
  });

  it('decodes the 8 status bits (U13 status 0x0F)', () => {
    assert.deepEqual(decodeDtcStatus(0x0f), {
      testFailed: true,
      testFailedThisOperationCycle: true,
      pendingDTC: true,
      confirmedDTC: true,
      testNotCompletedSinceLastClear: false,
      testFailedSinceLastClear: false,
      testNotCompletedThisOperationCycle: false,
      warningIndicatorRequested: false,
    });
  });

  it('U11: statuses 0x20 and 0x60', () => {
    assert.deepEqual(decodeDtcStatus(0x20), {
      testFailed: false,
      testFailedThisOperationCycle: false,
      pendingDTC: false,
      confirmedDTC: false,
      testNotCompletedSinceLastClear: false,
      testFailedSinceLastClear: true,
      testNotCompletedThisOperationCycle: false,
      warningIndicatorRequested: false,
    });
    const s60 = decodeDtcStatus(0x60);
    assert.equal(s60.testFailedSinceLastClear, true);
    assert.equal(s60.testNotCompletedThisOperationCycle, true);
    assert.equal(s60.testFailed, false);
  });

  it('maps each bit to its own name', () => {
    const names = [
      'testFailed',
      'testFailedThisOperationCycle',
      'pendingDTC',
      'confirmedDTC',
      'testNotCompletedSinceLastClear',
      'testFailedSinceLastClear',
      'testNotCompletedThisOperationCycle',
      'warningIndicatorRequested',
    ];
    for (let bit = 0; bit < 8; bit++) {
      const status = decodeDtcStatus(1 << bit);
      const set = Object.entries(status)
        .filter(([, on]) => on)
        .map(([name]) => name);
      assert.deepEqual(set, [names[bit]]);
    }
    assert.equal(Object.values(decodeDtcStatus(0x00)).some(Boolean), false);
    assert.equal(Object.values(decodeDtcStatus(0xff)).every(Boolean), true);
    assert.throws(() => decodeDtcStatus(0x100), badRequest);
  });
});

describe('codec/vin check digit (49 CFR 565)', () => {
  it('1G4AH59H?5G118341 → 4 (sum 411), 49 CFR 565 sample', () => {
    assert.equal(vinWeightedSum('1G4AH59H?5G118341'), 411);
    assert.equal(vinCheckDigit('1G4AH59H?5G118341'), '4');
    assert.equal(vinCheckDigit('1G4AH59H45G118341'), '4');
  });

  it('1M8GDM9A?KP042788 → X (sum 351)', () => {
    assert.equal(vinWeightedSum('1M8GDM9A?KP042788'), 351);
    assert.equal(vinCheckDigit('1M8GDM9A?KP042788'), 'X');
  });

  it('WAUZZZ8V9FA149850 → 9 (sum 438)', () => {
    assert.equal(vinWeightedSum('WAUZZZ8V9FA149850'), 438);
    assert.equal(vinCheckDigit('WAUZZZ8V9FA149850'), '9');
  });

  it('1G1JC5444R7252367 / LFV3B28R8A3025310 / UU1B5220X65966756 → 4 / 8 / X (sums 378 / 316 / 384)', () => {
    assert.equal(vinWeightedSum('1G1JC5444R7252367'), 378);
    assert.equal(vinCheckDigit('1G1JC5444R7252367'), '4');
    assert.equal(vinWeightedSum('LFV3B28R8A3025310'), 316);
    assert.equal(vinCheckDigit('LFV3B28R8A3025310'), '8');
    assert.equal(vinWeightedSum('UU1B5220X65966756'), 384);
    assert.equal(vinCheckDigit('UU1B5220X65966756'), 'X');
  });

  it('WP0ZZZ99ZTS392124 computes 8 and W0L000051T2123456 computes 5', () => {
    assert.equal(vinCheckDigit('WP0ZZZ99ZTS392124'), '8');
    assert.equal(vinCheckDigit('W0L000051T2123456'), '5');
  });

  it('is undefined for a VIN of the wrong length or with I, O, Q or other characters', () => {
    assert.equal(vinCheckDigit('WAUZZZ8V9FA14985'), undefined);
    assert.equal(vinCheckDigit('WAUZZZ8V9FA1498500'), undefined);
    assert.equal(vinCheckDigit('WAUZZZ8V9FA14985O'), undefined);
    assert.equal(vinCheckDigit('WAUZZZ8V9FA14985I'), undefined);
    assert.equal(vinCheckDigit('QAUZZZ8V9FA149850'), undefined);
    assert.equal(vinCheckDigit('WAUZZZ8V9FA14985-'), undefined);
    assert.equal(vinCheckDigit('wauzzz8v9fa149850'), undefined); // decodeVin upper-cases first
  });
});

describe('codec/vin decodeVin (49 CFR 565)', () => {
  it('WAUZZZ8V9FA149850: valid check digit, Audi, 2015', () => {
    assert.deepEqual(decodeVin('WAUZZZ8V9FA149850', mid2025), {
      vin: 'WAUZZZ8V9FA149850',
      wellFormed: true,
      wmi: 'WAU',
      manufacturer: 'Audi',
      modelYear: 2015,
      checkDigit: { expected: '9', actual: '9', valid: true },
    });
  });

  it('WP0ZZZ99ZTS392124 (pos 9 = Z, computed 8) is decoded but flagged invalid', () => {
    assert.deepEqual(decodeVin('WP0ZZZ99ZTS392124', mid2025), {
      vin: 'WP0ZZZ99ZTS392124',
      wellFormed: true,
      wmi: 'WP0',
      manufacturer: 'Porsche',
      modelYear: 1996,
      checkDigit: { expected: '8', actual: 'Z', valid: false },
    });
  });

  it('W0L000051T2123456 (pos 9 = 1, computed 5) is decoded but flagged invalid', () => {
    assert.deepEqual(decodeVin('W0L000051T2123456', mid2025), {
      vin: 'W0L000051T2123456',
      wellFormed: true,
      wmi: 'W0L',
      manufacturer: 'Opel',
      modelYear: 1996,
      checkDigit: { expected: '5', actual: '1', valid: false },
    });
  });

  it('1G1JC5444R7252367 / LFV3B28R8A3025310 / UU1B5220X65966756 / 1M8GDM9AXKP042788 are valid', () => {
    const cases: Array<[string, string, string, number]> = [
      ['1G1JC5444R7252367', 'Chevrolet', '4', 2024],
      ['LFV3B28R8A3025310', 'FAW-Volkswagen', '8', 2010],
      ['UU1B5220X65966756', 'Dacia', 'X', 2006],
      ['1M8GDM9AXKP042788', 'Motor Coach Industries', 'X', 2019],
    ];
    for (const [vin, manufacturer, digit, modelYear] of cases) {
      const info = decodeVin(vin, mid2025);
      assert.equal(info.wellFormed, true, vin);
      assert.equal(info.manufacturer, manufacturer, vin);
      assert.equal(info.modelYear, modelYear, vin);
      assert.deepEqual(info.checkDigit, { expected: digit, actual: digit, valid: true }, vin);
    }
  });

  it('1G4AH59H45G118341: Buick, valid', () => {
    const info = decodeVin('1G4AH59H45G118341', mid2025);
    assert.equal(info.manufacturer, 'Buick');
    assert.equal(info.modelYear, 2005);
    assert.equal(info.checkDigit.valid, true);
  });

  it('knows the common WMIs', () => {
    const makes: Record<string, string> = {
      WVW: 'Volkswagen',
      WAU: 'Audi',
      TMB: 'Škoda',
      WP0: 'Porsche',
      WBA: 'BMW',
      WDB: 'Mercedes-Benz',
      WDD: 'Mercedes-Benz',
      VF1: 'Renault',
      VF3: 'Peugeot',
      ZFA: 'Fiat',
      '1G1': 'Chevrolet',
      '1FA': 'Ford',
      '1FT': 'Ford',
      JTD: 'Toyota',
      SAL: 'Land Rover',
      YV1: 'Volvo',
      W0L: 'Opel',
    };
    for (const [wmi, make] of Object.entries(makes)) {
      assert.equal(decodeVin(`${wmi}ZZZ1KZAW000001`, mid2025).manufacturer, make, wmi);
    }
    assert.equal('manufacturer' in decodeVin('XXXZZZ1KZAW000001', mid2025), false);
  });

  it('normalises case and ECU padding', () => {
    const info = decodeVin(' wauzzz8v9fa149850\u0000\u0000', mid2025);
    assert.equal(info.vin, 'WAUZZZ8V9FA149850');
    assert.equal(info.wellFormed, true);
    assert.equal(info.checkDigit.valid, true);
  });

  it('reports a malformed VIN without a check digit or model year', () => {
    assert.deepEqual(decodeVin('WVWZZZ1JZ3W38624', mid2025), {
      vin: 'WVWZZZ1JZ3W38624',
      wellFormed: false,
      wmi: 'WVW',
      manufacturer: 'Volkswagen',
      checkDigit: { actual: 'Z', valid: false },
    });
    assert.equal(decodeVin('WVWZZZ1JZ3WO86240', mid2025).wellFormed, false); // letter O
    assert.deepEqual(decodeVin('', mid2025), { vin: '', wellFormed: false, wmi: '', checkDigit: { actual: '', valid: false } });
  });

  it('picks the most recent model year not after the reference date', () => {
    assert.equal(decodeVin('WAUZZZ8V9FA149850', new Date('2014-06-01T00:00:00Z')).modelYear, 1985);
    assert.equal(decodeVin('WAUZZZ8V9FA149850', new Date('2046-06-01T00:00:00Z')).modelYear, 2045);
    assert.equal(modelYearFromCode('A', 2025), 2010);
    assert.equal(modelYearFromCode('Y', 2025), 2000);
    assert.equal(modelYearFromCode('Y', 2030), 2030);
    assert.equal(modelYearFromCode('1', 2025), 2001);
    assert.equal(modelYearFromCode('9', 2025), 2009);
    assert.equal(modelYearFromCode('S', 2025), 2025);
    assert.equal(modelYearFromCode('T', 2025), 1996);
    assert.equal(modelYearFromCode('A', 1990), 1980);
    for (const invalid of ['I', 'O', 'Q', 'U', 'Z', '0', 'AB', '']) assert.equal(modelYearFromCode(invalid, 2025), undefined, invalid);
  });

  it('uses the current date when none is passed', () => {
    const year = decodeVin('WAUZZZ8V9FA149850').modelYear;
    assert.ok(year !== undefined && year <= new Date().getFullYear() && year > new Date().getFullYear() - 30);
  });
});
