import assert from 'node:assert/strict';
import { busSuite } from '../support/bus-cars';
import { startSession } from '../support/flow-builder';
import { collect, helper, nodeRedVersion } from '../support/nodered';
import { waitFor } from '../support/sim';

describe(`Node-RED ${nodeRedVersion()}: download on the built-in simulator`, function () {
  this.timeout(20000);
  const { load, start } = busSuite();
  const starter = startSession({ to: ['started'] });

  it('download: progress, and a refusal (the wrong session) at Catch as NEGATIVE_RESPONSE with the NRC', async function () {
    await load([
      starter,
      {
        id: 'dl',
        type: 'openobd-download',
        ecu: 'engine',
        address: '00080000',
        addressBytes: 4,
        sizeBytes: 4,
        dataFormat: '00',
        timeout: '',
        wires: [['out']],
      },
      {
        id: 'nowhere',
        type: 'openobd-download',
        ecu: 'engine',
        address: '',
        addressBytes: 4,
        sizeBytes: 4,
        dataFormat: '00',
        timeout: '',
        wires: [['out']],
      },
      { id: 'started', type: 'helper' },
      { id: 'out', type: 'helper' },
    ]);
    const s = await start('1001');
    const caught = collect(helper.getNode('caught'));
    helper.getNode('dl').receive({ openobd: s.openobd, payload: '00 11 22 33' });
    helper.getNode('nowhere').receive({ openobd: s.openobd, payload: '00 11 22 33', address: 'XYZ' });
    await waitFor(() => caught.length >= 2, 5000, 'two errors');
    const byNode = Object.fromEntries(caught.map((c) => [c.error.source.id, c.error]));
    assert.equal(byNode.dl.code, 'NEGATIVE_RESPONSE');
    assert.equal(byNode.dl.cause.nrc, 0x7f);
    assert.match(byNode.dl.message, /refused the download of 4 bytes to 00080000 \(34\): NRC 7F serviceNotSupportedInActiveSession/);
    assert.equal(byNode.nowhere.code, 'BAD_CONFIG');
    assert.equal(byNode.nowhere.message, "msg.address 'XYZ' is not a hex address (up to 8 digits)");
  });
});
