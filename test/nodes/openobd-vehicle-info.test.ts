import assert from 'node:assert/strict';
import { currentBuiltinSimulator } from '../../nodes/lib/builtin-simulator';
import { registry } from '../../nodes/lib/registry';
import { ascii, busSuite, lastStatus } from '../support/bus-cars';
import { request, startSession } from '../support/flow-builder';
import { collect, helper, nodeRedVersion, type AnyMsg } from '../support/nodered';
import { waitFor } from '../support/sim';

describe(`Node-RED ${nodeRedVersion()}: terminal 15 and vehicle info on the built-in simulator`, function () {
  this.timeout(20000);
  const { load, start } = busSuite();
  const starter = startSession({ to: ['started'] });

  it('terminal 15: the state at once and on every change; vehicle info: ECU list, connector once and as a stream, configuration', async function () {
    await load([
      starter,
      { id: 'kl15', type: 'openobd-terminal15', busName: 'KL15', pin: 1, wires: [['ignition']] },
      { id: 'ecus', type: 'openobd-vehicle-info', action: 'ecus', wires: [['info']] },
      { id: 'conn', type: 'openobd-vehicle-info', action: 'connector', wires: [['info']] },
      { id: 'stream', type: 'openobd-vehicle-info', action: 'connectorStream', wires: [['ticks']] },
      { id: 'config', type: 'openobd-vehicle-info', action: 'configuration', wires: [['info']] },
      // No ECU selected: the node takes msg.openobd.ecu.
      request({ ecu: '', request: '22 F1 89', to: ['info'] }),
      { id: 'started', type: 'helper' },
      { id: 'ignition', type: 'helper' },
      { id: 'info', type: 'helper' },
      { id: 'ticks', type: 'helper' },
    ]);
    const s = await start('2001');
    const ignition = collect(helper.getNode('ignition'));
    helper.getNode('kl15').receive({ openobd: s.openobd });
    await waitFor(() => ignition.length >= 1, 3000, 'the first state');
    const sim = await currentBuiltinSimulator();
    sim!.setIgnition('2001', false);
    await waitFor(() => ignition.length >= 2, 3000, 'off');
    sim!.setIgnition('2001', true);
    await waitFor(() => ignition.length >= 3, 3000, 'on again');
    assert.deepEqual(
      ignition.map((m) => [m.payload, m.openobd.terminal15.previous, m.openobd.terminal15.initial]),
      [
        ['on', null, true],
        ['off', 'on', false],
        ['on', 'off', false],
      ],
    );
    assert.equal(lastStatus('kl15').text, 'ignition on');
    // The session ends while its ignition is followed: following stops, and that is no error.
    const caught = collect(helper.getNode('caught'));
    await registry.get(s.openobd.sessionId)!.session.finish();
    await waitFor(() => lastStatus('kl15').text === 'stopped', 3000, 'following stopped');
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(caught, []);

    const fleet = await start('2002');
    const info = collect(helper.getNode('info'));
    helper.getNode('ecus').receive({ openobd: fleet.openobd });
    await waitFor(() => info.length >= 1, 3000, 'the ECU list');
    const list = info[0]!.payload as AnyMsg[];
    assert.equal(list.length, 30);
    assert.deepEqual(list[20], {
      transport: 'isotp',
      address: '600/608',
      ecu: { transport: 'isotp', busName: 'CAN-3-11', pinPlus: 3, pinMinus: 11, bitRate: 125, requestId: '600', responseId: '608' },
    });
    assert.deepEqual(list[26], {
      transport: 'kline',
      address: 'K-Line 18',
      ecu: { transport: 'kline', busName: 'K-LINE', klinePin: 7, klineInit: 'fast', klineBaud: 10400, klineAddress: '18' },
    });
    assert.equal(lastStatus('ecus').text, '30 ECUs');
    // An entry of the list is what send request takes as msg.openobd.ecu.
    helper.getNode('req').receive({ openobd: { ...fleet.openobd, ecu: list[20].ecu } });
    await waitFor(() => info.length >= 2, 3000, 'the answer of the listed ECU');
    assert.equal(info[1]!.payload, `62F189${ascii('0031')}`);
    helper.getNode('conn').receive({ openobd: fleet.openobd });
    await waitFor(() => info.length >= 3, 3000, 'connector information');
    assert.deepEqual(Object.keys(info[2]!.payload), ['connected', 'connectedSince', 'connectedSinceMs', 'latencyMs', 'healthy']);
    assert.equal(info[2]!.payload.connected, true);
    helper.getNode('config').receive({ openobd: fleet.openobd });
    await waitFor(() => info.length >= 4, 3000, 'the configuration');
    assert.deepEqual(info[3]!.payload.buses, [
      { bus_name: 'CAN-3-11', can_bus: { pin_plus: 3, pin_min: 11, can_protocol: 'CAN_PROTOCOL_ISOTP', can_bit_rate: 'CAN_BIT_RATE_125' } },
    ]);
    assert.deepEqual(
      info[3]!.payload.channels.map((c: AnyMsg) => c.kind),
      ['isotp'],
    );

    const ticks = collect(helper.getNode('ticks'));
    helper.getNode('stream').receive({ openobd: fleet.openobd });
    await waitFor(() => ticks.length >= 2, 5000, 'two connector messages');
    helper.getNode('stream').receive({ openobd: fleet.openobd, payload: 'stop' });
    assert.equal(ticks[0]!.topic, 'connector');
  });
});
