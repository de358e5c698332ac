/*
 * Builds Node-RED flows of this package's nodes for the node tests, the reliability suite and the
 * benchmark, so a flow reads as what differs from the usual one. Plain data only: no Node-RED, no
 * test helper (the benchmark loads this too). Each builder gives the properties the editor would save
 * for a typical node; `props` adds or overrides any of them.
 */

export type FlowNode = Record<string, unknown> & { id: string; type: string };
type Props = Record<string, unknown>;

/** Outputs as Node-RED stores them: a list of target ids per output. */
export type Wires = string[][];

/** The id of the tab the builders place flow nodes on. */
export const TAB = 'tab';

export function tab(label = 'test', id = TAB): FlowNode {
  return { id, type: 'tab', label };
}

/**
 * A flow node on the tab. A position makes it a flow node: Node-RED treats a node without one as a
 * config node.
 */
export function onTab<T extends Props>(node: T, at: { x: number; y: number } = { x: 0, y: 0 }): T & { z: string } {
  return { z: TAB, ...at, ...node };
}

/** An account on the built-in simulator (`mode: 'simulator'`), or on any server with `custom()`. */
export function account(props: Props = {}): FlowNode {
  return { id: 'account', type: 'openobd-account', name: 'sim', mode: 'simulator', clusterId: '001', closePolicy: 'interrupt', ...props };
}

/** The fields of an account on a simulator or server at 127.0.0.1:`port`, without TLS. */
export function custom(port: number, props: Props = {}): Props {
  return { mode: 'custom', host: '127.0.0.1', port, tls: false, allowInsecure: false, ...props };
}

/** An ECU on the OBD CAN bus (pins 6/14, 500 kbit/s): by default the engine, 7E0 → 7E8. */
export function ecu(props: Props = {}): FlowNode {
  return {
    id: 'engine',
    type: 'openobd-ecu',
    name: 'Engine',
    busName: 'OBD-CAN',
    pinPlus: 6,
    pinMinus: 14,
    bitRate: 500,
    requestId: '7E0',
    responseId: '7E8',
    functional: false,
    padding: 'default',
    keepAlive: false,
    ...props,
  };
}

/** Every OBD ECU at once: functional requests on 7DF, answers from 7E8 … 7EF. */
export function obdEcus(props: Props = {}): FlowNode {
  return ecu({ id: 'obd', name: 'All OBD ECUs', requestId: '7DF', responseId: '7E8', functional: true, responderIds: '7E8-7EF', ...props });
}

/** `to` as Node-RED's wires: target ids of the first output, or a list per output. */
function wires(to: string[] | Wires | undefined): Wires {
  if (!to) return [[]];
  return to.length > 0 && Array.isArray(to[0]) ? (to as Wires) : [to as string[]];
}

type NodeProps = Props & { id?: string; to?: string[] | Wires };

/** A builder of one node type: `defaults` as the editor saves them, then `props`; `to` becomes the wires. */
function builder(defaults: Props & { id: string; type: string }, derived: (props: Props) => Props = () => ({})) {
  return (props: NodeProps = {}): FlowNode => {
    const { to, ...rest } = props;
    return onTab({ ...defaults, ...derived(rest), ...rest, wires: wires(to) });
  };
}

/** Start session on a ticket: `target` a fixed ticket number, or 'payload' (the default) for msg.payload. */
export const startSession = builder(
  { id: 'start', type: 'openobd-start-session', account: 'account', targetType: 'ticket', target: 'payload' },
  (p) => ({ targetSource: p.target === undefined || p.target === 'payload' ? 'msg' : 'str' }),
);

/** Send request to the engine; `request` '' takes the request from msg.payload. */
export const request = builder({
  id: 'req',
  type: 'openobd-request',
  ecu: 'engine',
  request: '',
  output: 'hex',
  negative: 'error',
  decode: true,
  outputs: 1,
});

/** Finish session, with the result, feedback and description the node's settings give. */
export const finish = builder({
  id: 'finish',
  type: 'openobd-finish',
  result: '',
  userFeedback: '',
  description: '',
  descriptionSource: 'str',
});

/** Interrupt session (the session of msg, or `sessionId`). */
export const interrupt = builder({ id: 'interrupt', type: 'openobd-interrupt', account: 'account', sessionId: '', sessionIdSource: 'str' });

/** Session info: `action` 'get' (the default) or 'list'. */
export const sessionInfo = builder({
  id: 'get',
  type: 'openobd-session-info',
  account: 'account',
  action: 'get',
  sessionId: '',
  sessionIdSource: 'str',
});

/** A catch-all Catch node wired to `to`. */
export function catchAll(id: string, to: string, at?: { x: number; y: number }): FlowNode {
  return onTab({ id, type: 'catch', scope: null, uncaught: false, wires: [[to]] }, at);
}

/** A sink that only receives: a test-helper `helper` node, or a core `junction` (no test helper). */
export function sink(id: string, type: 'helper' | 'junction' = 'helper', at?: { x: number; y: number }): FlowNode {
  return onTab(type === 'helper' ? { id, type } : { id, type, wires: [] }, at);
}

/**
 * The nodes, each one's first output wired to the next (after the targets it has already): a flow
 * that reads in the order a message goes through it.
 */
export function chain(...nodes: FlowNode[]): FlowNode[] {
  return nodes.map((n, i) => {
    const next = nodes[i + 1];
    if (!next) return n;
    const out = ((n.wires as Wires | undefined) ?? [[]]).map((o) => [...o]);
    out[0] = [...(out[0] ?? []), next.id];
    return { ...n, wires: out };
  });
}
