import assert from 'node:assert/strict';
import { codec } from '../../client';
import { hexToBytes } from '../../protocol';

/* Decoding the deeper UDS answers (ISO 14229-1): downloads, DTC setting, communication and I/O control, 19 04/06. */

const b = hexToBytes;

describe('codec: deeper UDS answers', () => {
  it('74 (block length from the length format), 76 (counter), 77', () => {
    assert.deepEqual(codec.decodeResponse(b('34 00 44 00 08 00 00 00 00 10 00'), b('74 20 04 02')), {
      maxBlockLength: 1026,
      maxDataPerBlock: 1024,
    });
    assert.deepEqual(codec.decodeResponse(b('34 00 44 00 08 00 00 00 00 10 00'), b('74 40 00 00 0F FF')), {
      maxBlockLength: 4095,
      maxDataPerBlock: 4093,
    });
    assert.equal(codec.decodeResponse(b('34 00 44 00 08 00 00 00 00 10 00'), b('74 00')), undefined, 'no length');
    assert.deepEqual(codec.decodeResponse(b('36 05 AA'), b('76 05')), { blockSequenceCounter: 5, parameterHex: '' });
    assert.equal(codec.classifyResponse(b('36 05 AA'), b('76 06')), 'unrelated', 'another counter');
    assert.deepEqual(codec.decodeResponse(b('37'), b('77 12 34 56 78')), { parameterHex: '12345678' });
  });

  it('C5, 68, 6F and the snapshot split of 59 04 with a DID length table', () => {
    assert.deepEqual(codec.decodeResponse(b('85 01'), b('C5 01')), { dtcSettingType: 1, dtcSetting: 'on' });
    assert.deepEqual(codec.decodeResponse(b('28 01 01'), b('68 01')), { controlType: 1, controlTypeName: 'enableRxAndDisableTx' });
    assert.deepEqual(codec.decodeResponse(b('2F F1 90 00'), b('6F F1 90 00')), {
      did: 'F190',
      name: 'VIN',
      ioControlParameter: 0,
      ioControlParameterName: 'returnControlToECU',
      stateHex: '',
    });
    const answer = b('59 04 12 34 56 2F 01 02 01 00 AA BB 01 01 CC');
    const request = b('19 04 12 34 56 FF');
    assert.equal(
      (codec.decodeResponse(request, answer) as { undecodedHex: string }).undecodedHex,
      '0100AABB0101CC',
      'DID 0100: length unknown',
    );
    assert.deepEqual(codec.decodeResponse(request, answer, { didLengths: { 0x0100: 2, 0x0101: 1 } }), {
      reportType: 4,
      reportTypeName: 'reportDTCSnapshotRecordByDTCNumber',
      dtc: { code: 'P1234-56', ...codec.dtcMeaning('P1234-56'), hex: '123456', status: 0x2f, statusBits: codec.decodeDtcStatus(0x2f) },
      records: [
        {
          record: '01',
          identifiers: [
            { did: '0100', hex: 'AABB' },
            { did: '0101', hex: 'CC' },
          ],
        },
      ],
    });
    assert.equal(codec.classifyResponse(request, b('59 04 12 34')), 'unrelated', 'too short for DTC and status');
  });
});
