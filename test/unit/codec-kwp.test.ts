import assert from 'node:assert/strict';
import { codec } from '../../client';
import { hexToBytes } from '../../protocol';

/* KWP2000 (ISO 14230-3): matching answers to requests and decoding them, apart from UDS's rules. */

const kwp = { protocol: 'kwp2000' } as const;
const b = hexToBytes;

describe('codec: KWP2000 answers', () => {
  it('matches by KWP2000 rules: 10 81 is a session, not a suppressed request; 3E 02 asks for no answer', () => {
    assert.equal(codec.suppressesPositiveResponse(b('10 81')), true, 'by UDS rules bit 7 suppresses');
    assert.equal(codec.kwpSuppressesResponse(b('10 81')), false);
    assert.equal(codec.kwpSuppressesResponse(b('3E 02')), true);
    assert.equal(codec.kwpSuppressesResponse(b('3E 01')), false);
    assert.equal(codec.classifyResponse(b('10 81'), b('50 81'), 'kwp2000'), 'positive');
    assert.equal(codec.classifyResponse(b('1A 9B'), b('5A 90 00'), 'kwp2000'), 'unrelated', 'another identification option');
    assert.equal(codec.classifyResponse(b('21 01'), b('61 01 00'), 'kwp2000'), 'positive');
    assert.equal(codec.classifyResponse(b('3E 01'), b('7E'), 'kwp2000'), 'positive');
    assert.equal(codec.classifyResponse(b('3E 01'), b('7E'), 'uds'), 'unrelated', 'UDS wants the sub-function echoed');
    assert.equal(codec.classifyResponse(b('18 02 FF 00'), b('58'), 'kwp2000'), 'unrelated', 'no DTC count');
    assert.equal(codec.classifyResponse(b('31 01'), b('71 01'), 'kwp2000'), 'positive', 'a routine by local identifier');
    assert.equal(codec.classifyResponse(b('1A 9B'), b('7F 1A 78'), 'kwp2000'), 'pending');
    assert.equal(codec.classifyResponse(b('1A 9B'), b('7F 1A 21'), 'kwp2000'), 'busy');
  });

  it('decodes 1A identification, 18 DTCs with status, 21 local identifiers, 10 sessions and 14 clearing', () => {
    assert.deepEqual(codec.decodeResponse(b('1A 87'), b('5A 87 31 4B 30 20 20'), kwp), {
      identificationOption: '87',
      name: 'vehicleManufacturerSparePartNumber',
      hex: '314B302020',
      text: '1K0',
    });
    assert.deepEqual(codec.decodeResponse(b('1A 9B'), b('5A 9B 01 02'), kwp), {
      identificationOption: '9B',
      name: 'vehicleManufacturerSpecific',
      hex: '0102',
    });
    assert.deepEqual(codec.decodeResponse(b('18 02 FF 00'), b('58 02 03 01 E3 90 72 23'), kwp), {
      count: 2,
      dtcs: [
        {
          code: 'P0301',
          ...codec.dtcMeaning('P0301'),
          hex: '0301',
          status: 0xe3,
          warningLamp: true,
          storageState: 'presentAtTimeOfRequest',
        },
        {
          code: 'B1072',
          ...codec.dtcMeaning('B1072'),
          hex: '9072',
          status: 0x23,
          warningLamp: false,
          storageState: 'notPresentAtTimeOfRequest',
        },
      ],
    });
    assert.deepEqual(codec.decodeResponse(b('18 02 FF 00'), b('58 01 03 01'), kwp), { count: 1, dtcs: [], undecodedHex: '0301' });
    assert.deepEqual(codec.decodeResponse(b('21 01'), b('61 01 00 14 3C'), kwp), { localIdentifier: '01', hex: '00143C' });
    assert.deepEqual(codec.decodeResponse(b('10 81'), b('50 81'), kwp), { session: 0x81, sessionName: 'standardSession' });
    assert.deepEqual(codec.decodeResponse(b('10 89'), b('50 89'), kwp), { session: 0x89, sessionName: 'vehicleManufacturerSpecific' });
    assert.deepEqual(codec.decodeResponse(b('14 FF 00'), b('54 FF 00'), kwp), { cleared: true, group: 'FF00' });
    assert.equal(codec.decodeResponse(b('1A 9B'), b('7F 1A 31'), kwp), undefined);
    assert.equal(codec.kwpServiceName(0x1a), 'ReadECUIdentification');
    assert.equal(codec.kwpServiceName(0x18), 'ReadDiagnosticTroubleCodesByStatus');
  });
});
