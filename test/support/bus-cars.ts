import { baseFlow, helper, nextMessage, nodeSuite, statusHistory, type AnyMsg } from './nodered';

/*
 * The other transports through the nodes, on the built-in simulator: ECUs on the K-Line, TP 2.0 and DoIP
 * (one of them misconfigured), CAN frames nodes, and the hooks of a suite that deploys them.
 */

/** The status a node shows now, as the editor shows it. */
export const lastStatus = (id: string) => statusHistory(helper.getNode(id)).at(-1) ?? {};

export const ascii = (t: string) => Buffer.from(t, 'latin1').toString('hex').toUpperCase();

export const ECUS: Array<Record<string, unknown>> = [
  {
    id: 'airbag',
    type: 'openobd-ecu',
    name: 'Airbag',
    transport: 'kline',
    klineAddress: '15',
    klineInit: 'fast',
    klineBaud: 10400,
    klinePin: 7,
    busName: 'K-LINE',
    protocol: 'auto',
  },
  {
    id: 'tp20engine',
    type: 'openobd-ecu',
    name: 'Engine TP',
    transport: 'tp20',
    logicalAddress: '01',
    busName: 'TP20',
    pinPlus: 6,
    pinMinus: 14,
    bitRate: 500,
  },
  {
    id: 'adas',
    type: 'openobd-ecu',
    name: 'ADAS',
    transport: 'doip',
    doipOption: 2,
    doipNetwork: 1,
    gatewayId: '1010',
    testerId: '0E80',
    doipEcuId: '4011',
    busName: 'DOIP',
  },
  {
    id: 'baddoip',
    type: 'openobd-ecu',
    name: 'Bad',
    transport: 'doip',
    doipOption: 2,
    doipNetwork: 1,
    gatewayId: '1010',
    testerId: '0E80',
    doipEcuId: '10000',
    busName: 'DOIP',
  },
];

/** A CAN frames node on a frames bus on pins 6/14 at 500 kbit/s. */
export function framesNode(id: string, fields: Record<string, unknown>) {
  return { id, type: 'openobd-can-frames', busName: 'CAN-FRAMES', pinPlus: 6, pinMinus: 14, bitRate: 500, ...fields };
}

/**
 * The hooks of a suite on these ECUs (see nodeSuite); `load` adds the standard tab and the ECUs, `start`
 * sends a ticket to the start node 'start' and resolves with the message at helper 'started'.
 */
export function busSuite() {
  const suite = nodeSuite();
  return {
    load: (flow: Array<Record<string, unknown>>) => suite.load([...baseFlow(flow), ...ECUS]),
    async start(ticket: string): Promise<AnyMsg> {
      const started = nextMessage(helper.getNode('started'));
      helper.getNode('start').receive({ payload: ticket });
      return started;
    },
  };
}
