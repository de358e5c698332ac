import assert from 'node:assert/strict';
import { currentBuiltinSimulator } from '../../nodes/lib/builtin-simulator';
import { busSuite, framesNode, lastStatus } from '../support/bus-cars';
import { startSession } from '../support/flow-builder';
import { collect, helper, nextMessage, nodeRedVersion } from '../support/nodered';
import { waitFor } from '../support/sim';

describe(`Node-RED ${nodeRedVersion()}: CAN frames on the built-in simulator`, function () {
  this.timeout(20000);
  const { load, start } = busSuite();
  const starter = startSession({ to: ['started'] });

  it('CAN frames: listen with a filter, a rate limit that says when it drops, batches, stop; send one frame and a list', async function () {
    await load([
      starter,
      framesNode('listen', { mode: 'listen', filters: '0C9', output: 'frame', maxRate: 100, wires: [['frames']] }),
      framesNode('slow', { mode: 'listen', filters: '', output: 'batch', batchMs: 300, maxRate: 2, wires: [['batches']] }),
      framesNode('send', { mode: 'send', wires: [['sent']] }),
      { id: 'started', type: 'helper' },
      { id: 'frames', type: 'helper' },
      { id: 'batches', type: 'helper' },
      { id: 'sent', type: 'helper' },
    ]);
    const s = await start('1001');
    const frames = collect(helper.getNode('frames'));
    helper.getNode('listen').receive({ openobd: s.openobd });
    await waitFor(() => frames.length >= 3, 3000, 'three 0C9 frames');
    assert.ok(frames.every((m) => m.payload.id === '0C9' && m.topic === '0C9' && /^000C30001A00000[0-9A-F]$/.test(m.payload.data)));
    assert.equal(frames[0]!.openobd.sessionId, s.openobd.sessionId);
    assert.deepEqual(frames[0]!.openobd.frames, { dropped: 0, received: 1, unattributed: 0 });
    helper.getNode('listen').receive({ openobd: s.openobd, payload: 'stop' });
    const after = frames.length;
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(frames.length, after, 'no frame after stop');
    assert.equal(lastStatus('listen').text, 'stopped');

    // All frames (0C9 every 100 ms, 3E9 every 200 ms, 4D1 every 500 ms: about 16 a second) at 2 a second.
    const batches = collect(helper.getNode('batches'));
    helper.getNode('slow').receive({ openobd: s.openobd });
    await waitFor(() => batches.reduce((n, b) => n + b.openobd.frames.dropped, 0) > 5, 5000, 'drops');
    const status = lastStatus('slow');
    assert.equal(status.fill, 'yellow');
    assert.match(String(status.text), /^\d+ dropped \(limit 2\/s\)$/);
    assert.ok(batches.every((b) => Array.isArray(b.payload) && b.payload.length === b.openobd.frames.count));

    const sent = nextMessage(helper.getNode('sent'));
    helper.getNode('send').receive({ openobd: s.openobd, payload: [{ id: '7E0', data: '02 3E 00' }, '7E1#023E00'] });
    assert.deepEqual((await sent).openobd.frames, { sent: 2, bus: 'CAN-FRAMES' });
    const caught = collect(helper.getNode('caught'));
    helper.getNode('send').receive({ openobd: s.openobd, payload: { id: '7E0', data: '00 11 22 33 44 55 66 77 88' } });
    helper.getNode('send').receive({ openobd: s.openobd, payload: 'hello' });
    await waitFor(() => caught.length >= 2, 3000, 'two errors');
    assert.deepEqual(caught.map((c) => [c.error.code, c.error.message]).sort(), [
      ['BAD_PAYLOAD', "Frame 1 'hello' is not ID#DATA, e.g. 7E0#023E00"],
      ['BAD_PAYLOAD', 'The frame for 7E0 has 9 data bytes; a classic CAN frame carries at most 8'],
    ]);
  });

  it('CAN frames: a frame labelled with request_id only is passed on; one without an id is counted in the status and the message', async function () {
    await load([
      starter,
      framesNode('listen', { mode: 'listen', filters: '123', output: 'frame', maxRate: 100, wires: [['frames']] }),
      { id: 'started', type: 'helper' },
      { id: 'frames', type: 'helper' },
    ]);
    const s = await start('1001');
    const id = s.openobd.sessionId as string;
    const frames = collect(helper.getNode('frames'));
    helper.getNode('listen').receive({ openobd: s.openobd });
    const sim = (await currentBuiltinSimulator())!;
    await waitFor(() => [...(sim.sessions.get(id)?.streams ?? [])].some((x) => x.kind === 'raw'), 3000, 'the raw stream');
    sim.sendRawFrame(id, { channel: { bus_name: 'CAN-FRAMES' }, payload: 'AA' });
    await waitFor(() => lastStatus('listen').text === '0 frames · 1 unattributed frame', 3000, 'one unattributed frame in the status');
    sim.sendRawFrame(id, { channel: { bus_name: 'CAN-FRAMES', request_id: 0x123 }, payload: '0102' });
    await waitFor(() => frames.length >= 1, 3000, 'the frame of 123');
    assert.deepEqual(frames[0]!.payload, { id: '123', data: '0102', at: frames[0]!.payload.at });
    assert.deepEqual(frames[0]!.openobd.frames, { dropped: 0, received: 1, unattributed: 1 });
    sim.sendRawFrame(id, { channel: null, payload: 'BB' });
    await waitFor(() => lastStatus('listen').text === '1 frame · 2 unattributed frames', 3000, 'two unattributed frames in the status');
    assert.equal(lastStatus('listen').fill, 'green');
  });
});
