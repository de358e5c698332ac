import assert from 'node:assert/strict';
import { TRANSPORT_FIELDS, TRANSPORT_TABLE, maxPayloadOf, transportOf, type EcuSpec } from '../../client';
import { prepareEcu } from '../../client/transports';
import { ecuSpecFrom, reachOf, settingsOfSpec } from '../../nodes/lib/ecu-spec';

/*
 * The transports as one table (client/transports/table.ts): every module has its dialog entry, node
 * settings go to a spec and back, and a spec is prepared once while its fields keep their values.
 */

const SPECS: Record<string, EcuSpec> = {
  isotp: { bus: { name: 'OBD-CAN', pinPlus: 6, pinMinus: 14, bitRateKbps: 500 }, requestId: 0x7e0, responseId: 0x7e8, functional: false },
  tp20: { transport: 'tp20', bus: { name: 'TP20', pinPlus: 6, pinMinus: 14, bitRateKbps: 500 }, logicalAddress: 0x01 },
  kline: { transport: 'kline', bus: { kind: 'kline', name: 'K-LINE', pin: 7, init: 'slow', baud: 10400 }, ecuId: 0x17 },
  doip: {
    transport: 'doip',
    bus: { kind: 'doip', name: 'DOIP', option: 2, networkConfiguration: 1 },
    gatewayId: 0x1010,
    testerId: 0x0e80,
    ecuId: 0x1010,
  },
};

describe('transports table', () => {
  it('has one module per transport, each with its dialog entry (TRANSPORT_FIELDS) and its id', () => {
    assert.deepEqual(Object.keys(TRANSPORT_TABLE).sort(), Object.keys(TRANSPORT_FIELDS).sort());
    for (const [id, m] of Object.entries(TRANSPORT_TABLE)) {
      assert.equal(m.id, id);
      assert.equal(m.fields, TRANSPORT_FIELDS[id]);
      assert.equal(maxPayloadOf(m.id), m.maxPayload);
    }
    assert.equal(maxPayloadOf('kline'), 255);
    assert.equal(maxPayloadOf('doip'), 65535);
    assert.equal(maxPayloadOf('isotp'), 4095);
  });

  it('takes a spec without a transport (or with an unknown one) as ISO-TP', () => {
    assert.equal(transportOf(SPECS.isotp!), TRANSPORT_TABLE.isotp);
    assert.equal(transportOf({ ...SPECS.isotp!, transport: 'nonsense' } as unknown as EcuSpec), TRANSPORT_TABLE.isotp);
    assert.equal(transportOf(SPECS.doip!), TRANSPORT_TABLE.doip);
  });

  for (const [transport, spec] of Object.entries(SPECS)) {
    it(`${transport}: node settings -> spec -> settings -> the same spec`, () => {
      const settings = settingsOfSpec(spec);
      assert.equal(settings.transport, transport);
      const again = ecuSpecFrom(settings);
      assert.deepEqual(settingsOfSpec(again), settings);
      assert.equal(prepareEcu(again).queueKey, prepareEcu(spec).queueKey);
    });
  }

  it('a broken node setting is a BAD_CONFIG error naming the field, whichever transport', () => {
    assert.throws(() => ecuSpecFrom({ transport: 'kline', klineAddress: 'zz' }), { code: 'BAD_CONFIG', message: /K-Line address/ });
    assert.throws(() => ecuSpecFrom({ transport: 'doip', gatewayId: '0000', doipEcuId: '1010' }), {
      code: 'BAD_CONFIG',
      message: /DoIP gateway id/,
    });
    assert.throws(() => ecuSpecFrom({ requestId: '', responseId: '7E8' }), { code: 'BAD_CONFIG', message: /Request id is missing/ });
    assert.throws(() => ecuSpecFrom({ transport: 'can-fd' }), { code: 'BAD_CONFIG', message: /use isotp, tp20, kline or doip/ });
  });

  it('what an ECU speaks: nothing for UDS over ISO-TP, the transport and protocol otherwise', () => {
    assert.deepEqual(reachOf(SPECS.isotp!), {});
    assert.deepEqual(reachOf(SPECS.kline!), { transport: 'kline', protocol: 'kwp2000' });
    assert.deepEqual(reachOf({ ...(SPECS.isotp as object), protocol: 'kwp2000' } as EcuSpec), { transport: 'isotp', protocol: 'kwp2000' });
  });

  it('prepares a spec once, and again when one of the fields its transport names changes', () => {
    const spec = structuredClone(SPECS.isotp!) as Extract<EcuSpec, { requestId: number }>;
    const first = prepareEcu(spec);
    assert.equal(prepareEcu(spec), first);
    assert.ok(Object.isFrozen(first.target.send));
    spec.requestId = 0x7e1;
    const second = prepareEcu(spec);
    assert.notEqual(second, first);
    assert.equal(second.queueKey, 'OBD-CAN|2017');
    spec.bus.bitRateKbps = 250;
    assert.notEqual(prepareEcu(spec), second);

    const kline = { ...structuredClone(SPECS.kline!), keyBytes: [0xef, 0x8f] } as Extract<EcuSpec, { transport: 'kline' }>;
    const k1 = prepareEcu(kline);
    assert.equal(prepareEcu(kline), k1);
    (kline.keyBytes as unknown as number[])[1] = 0x8e;
    assert.notEqual(prepareEcu(kline), k1, 'a changed key byte is a changed channel');
  });

  it('a malformed spec is not cached: it fails every time', () => {
    const spec = { transport: 'tp20', bus: { name: 'TP20' }, logicalAddress: 300 } as EcuSpec;
    assert.throws(() => prepareEcu(spec), { code: 'BAD_CONFIG' });
    assert.throws(() => prepareEcu(spec), { code: 'BAD_CONFIG' });
  });
});
