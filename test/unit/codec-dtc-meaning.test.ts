import assert from 'node:assert/strict';
import { dtcLine, dtcMeaning, failureTypeMeaning } from '../../client/codec';
import { decodeResponse } from '../../client/codec/decode';
import { hexToBytes } from '../../protocol';

const decode = (request: string, response: string, protocol?: 'kwp2000') =>
  decodeResponse(hexToBytes(request), hexToBytes(response), { protocol }) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Fault codes with their meaning: SAE J2012 / ISO 15031-6 descriptions and the failure type of ISO 14229-1 Annex D. */
describe('what a fault code means', function () {
  it('a generic code: its description, system and who defines it', function () {
    assert.deepEqual(dtcMeaning('P0301'), { description: 'Cylinder 1 misfire detected', system: 'powertrain', definedBy: 'generic' });
    assert.equal(dtcMeaning('U0100')?.description, 'Lost communication with ECM/PCM "A"');
    assert.equal(dtcMeaning('U0100')?.system, 'network');
    assert.equal(dtcMeaning('C0035')?.system, 'chassis');
    assert.equal(dtcMeaning('p0420')?.description, 'Catalyst system efficiency below threshold (bank 1)');
  });

  it('a UDS code carries the failure type byte and its meaning', function () {
    const m = dtcMeaning('P0715-1C');
    assert.equal(m?.description, 'Input/turbine speed sensor "A" circuit');
    assert.equal(m?.failureType, 0x1c);
    assert.equal(m?.failureTypeDescription, 'circuit voltage out of range');
    assert.equal(dtcMeaning('B1234-13')?.failureTypeDescription, 'circuit open');
    assert.equal(failureTypeMeaning(0x45), 'program memory failure');
    assert.equal(dtcMeaning('P0301-E0')?.failureTypeDescription, 'manufacturer or reserved failure type');
  });

  it('the ranges the standard leaves to manufacturers say so; a generic code without its own text gets its group', function () {
    for (const code of ['P1234', 'P3000', 'P33FF', 'C1100', 'B2001', 'U1000', 'U2FFF']) {
      assert.equal(dtcMeaning(code)?.definedBy, 'manufacturer', code);
      assert.match(dtcMeaning(code)!.description, /^Manufacturer specific (powertrain|chassis|body|network) code/, code);
    }
    assert.equal(dtcMeaning('P3400')?.definedBy, 'generic');
    assert.equal(dtcMeaning('P3401')?.description, 'Cylinder deactivation (no generic description of this code)');
    assert.equal(dtcMeaning('P0999')?.description, 'Transmission (no generic description of this code)');
    assert.equal(dtcMeaning('B0999')?.description, 'Generic body code (no generic description of this code)');
  });

  it('text that is no fault code has no meaning', function () {
    for (const t of ['', 'X0301', 'P4301', 'P030', 'P0301-1', 'P0301-123']) assert.equal(dtcMeaning(t), undefined, t);
    assert.equal(dtcLine('hello'), 'hello');
  });

  it('one line for a person', function () {
    assert.equal(dtcLine('P0301-00'), 'P0301-00 Cylinder 1 misfire detected');
    assert.equal(dtcLine('U0100-87'), 'U0100-87 Lost communication with ECM/PCM "A" (missing message)');
  });

  it('decoded answers carry the meaning: UDS 59, OBD-II 43, KWP2000 58', function () {
    const uds = decode('19 02 FF', '59 02 FF 03 01 00 AF C1 00 87 08');
    assert.equal(uds.dtcs[0].code, 'P0301-00');
    assert.equal(uds.dtcs[0].description, 'Cylinder 1 misfire detected');
    assert.equal(uds.dtcs[1].code, 'U0100-87');
    assert.equal(uds.dtcs[1].failureTypeDescription, 'missing message');
    const obd = decode('03', '43 02 03 01 01 71');
    assert.deepEqual(obd.dtcs, ['P0301', 'P0171'], 'the codes stay plain text');
    assert.deepEqual(
      obd.details.map((d: { description: string }) => d.description),
      ['Cylinder 1 misfire detected', 'System too lean (bank 1)'],
    );
    const kwp = decode('18 02 FF 00', '58 01 04 42 E3', 'kwp2000');
    assert.equal(kwp.dtcs[0].code, 'P0442');
    assert.equal(kwp.dtcs[0].description, 'Evaporative emission system leak detected (small leak)');
  });
});
