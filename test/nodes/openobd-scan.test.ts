import assert from 'node:assert/strict';
import { busSuite } from '../support/bus-cars';
import { startSession } from '../support/flow-builder';
import { collect, helper, nextMessage, nodeRedVersion, statusHistory, type AnyMsg } from '../support/nodered';
import { waitFor } from '../support/sim';

describe(`Node-RED ${nodeRedVersion()}: scan on the built-in simulator`, function () {
  this.timeout(20000);
  const { load, start } = busSuite();
  const starter = startSession({ to: ['started'] });

  it('scan: a report with the progress on the status; a backwards probe range and an unknown session reach Catch', async function () {
    await load([
      starter,
      {
        id: 'scan',
        type: 'openobd-scan',
        discover: 'ecu-list',
        identification: false,
        dtcs: true,
        concurrency: 4,
        timeout: '',
        wires: [['out']],
      },
      {
        id: 'bad',
        type: 'openobd-scan',
        discover: 'probe',
        busName: 'OBD-CAN',
        pinPlus: 6,
        pinMinus: 14,
        bitRate: 500,
        probeFrom: '7F0',
        probeTo: '700',
        responseOffset: '8',
        identification: true,
        dtcs: true,
        concurrency: 8,
        timeout: '',
        wires: [['out']],
      },
      { id: 'started', type: 'helper' },
      { id: 'out', type: 'helper' },
    ]);
    const s = await start('1001');
    const out = nextMessage(helper.getNode('out'));
    helper.getNode('scan').receive({ openobd: s.openobd });
    const r = await out;
    assert.deepEqual(
      r.payload.ecus.map((e: AnyMsg) => [e.address, e.requests, e.dtcs.length]),
      [
        ['7E0/7E8', 1, 3],
        ['7E1/7E9', 1, 2],
        ['760/768', 1, 1],
      ],
    );
    assert.deepEqual(r.openobd.scan, r.payload.summary);
    const texts = statusHistory(helper.getNode('scan')).map((x) => x.text);
    assert.ok(
      texts.some((t) => /^[1-3] \/ 3 ECUs$/.test(String(t))),
      texts.join(' | '),
    );
    assert.equal(texts.at(-1), '3 / 3 ECUs, 6 DTCs');
    const caught = collect(helper.getNode('caught'));
    helper.getNode('bad').receive({ openobd: s.openobd });
    helper.getNode('scan').receive({ openobd: { sessionId: '00000000-0000-4000-8000-0000000000ff' } });
    await waitFor(() => caught.length >= 2, 5000, 'two errors');
    assert.deepEqual(caught.map((c) => c.error.code).sort(), ['BAD_CONFIG', 'NO_SESSION']);
  });
});
