import type { Node, NodeAPI, NodeDef } from 'node-red';
import { codec, diagnosticProtocolOf, ecuAddressText, hexByte, type EcuSpec, type UdsExchange, type UdsTiming } from '../../client';
import { ecuNodeOf, ecuSpecFrom, type EcuNode, type EcuSettings } from '../lib/ecu-spec';
import { ensureContext, FlowError, liveSessionOf, shortText, type OpenObdMsg } from '../lib/flow';
import { flowNodeKit, onInput, type Send } from '../lib/flow-node';
import type { LiveSession } from '../lib/registry';
import { busyStatus } from '../lib/status';
import type { StatusTracker } from '../lib/status-tracker';
import { canIdOnce, responseDetails, type TargetKind } from './response-details';

interface RequestDef extends NodeDef {
  ecu: string;
  request: string;
  output: 'hex' | 'buffer';
  negative: 'output' | 'error';
  timeout: string | number;
  pendingTimeout: string | number;
  overallTimeout: string | number;
  decode: boolean;
}

interface Target {
  spec: EcuSpec;
  name?: string;
  /** Transport and protocol, when the ECU is not UDS over ISO-TP (answers are shown and decoded by them). */
  kind?: TargetKind;
}

const ISOTP_UDS: TargetKind = {};

function kindOf(spec: EcuSpec): TargetKind {
  const dialect = diagnosticProtocolOf(spec);
  if ((spec.transport === undefined || spec.transport === 'isotp') && dialect === 'uds') return ISOTP_UDS;
  return { transport: spec.transport ?? 'isotp', dialect };
}

/** The ECU's address as people write it ("7E0", "K-Line 01"); CAN ids formatted once. */
function addressOf(spec: EcuSpec): string {
  return spec.transport === undefined || spec.transport === 'isotp' ? canIdOnce(spec.requestId) : ecuAddressText(spec);
}

interface RequestBytes {
  bytes: Buffer;
  hex: string;
}

function timingOf(def: RequestDef): Partial<UdsTiming> {
  const t: Partial<UdsTiming> = {};
  const num = (v: string | number | undefined) => (v === undefined || v === '' ? undefined : Number(v));
  const timeout = num(def.timeout);
  const pending = num(def.pendingTimeout);
  const overall = num(def.overallTimeout);
  if (timeout !== undefined && timeout > 0) {
    t.timeoutMs = timeout;
    t.functionalWindowMs = timeout;
  }
  if (pending !== undefined && pending > 0) t.pendingTimeoutMs = pending;
  if (overall !== undefined && overall > 0) t.overallTimeoutMs = overall;
  return t;
}

/** A request set in the node, parsed once; a bad one fails every message with the same BAD_PAYLOAD. */
function fixedRequest(text: string | undefined): RequestBytes | { error: unknown } | undefined {
  const trimmed = (text ?? '').trim();
  if (!trimmed) return undefined;
  try {
    const bytes = codec.toPayloadBytes(trimmed);
    return { bytes, hex: codec.toHex(bytes) };
  } catch (error) {
    return { error };
  }
}

/** The ECU to talk to: the node's ECU config, else msg.openobd.ecu = { requestId: '7E0', responseId: '7E8', ... }. */
function resolveEcu(ecuNode: EcuNode | undefined, configured: boolean, msg: OpenObdMsg): Target {
  if (ecuNode) {
    if (!ecuNode.spec)
      throw new FlowError('BAD_CONFIG', `ECU "${ecuNode.label}" is misconfigured: ${ecuNode.problem ?? 'unknown problem'}`);
    return { spec: ecuNode.spec, name: ecuNode.name || undefined, kind: ecuNode.kind ?? (ecuNode.kind = kindOf(ecuNode.spec)) };
  }
  if (configured) throw new FlowError('BAD_CONFIG', 'The selected ECU configuration is not deployed');
  const e = msg.openobd?.ecu;
  if (!e || typeof e !== 'object') {
    throw new FlowError(
      'BAD_CONFIG',
      'No ECU: select an ECU in the node, or set msg.openobd.ecu = { requestId: "7E0", responseId: "7E8" }',
    );
  }
  const settings = e as EcuSettings;
  const spec = ecuSpecFrom({ ...settings, requestId: String(settings.requestId ?? ''), responseId: String(settings.responseId ?? '') });
  return { spec, name: settings.name === undefined ? addressOf(spec) : String(settings.name), kind: kindOf(spec) };
}

/** The request bytes: the node's fixed request, else msg.payload (the core "node settings win" rule). */
function requestBytes(fixed: ReturnType<typeof fixedRequest>, msg: OpenObdMsg): RequestBytes {
  if (fixed) {
    if ('error' in fixed) throw fixed.error;
    return fixed;
  }
  const bytes = codec.toPayloadBytes(msg.payload);
  return { bytes, hex: codec.toHex(bytes) };
}

interface AnswerOptions {
  asBuffer: boolean;
  decode: boolean;
}

/** Puts the answer(s) into msg.payload and msg.openobd; returns the first answer's status text. */
function writeAnswer(
  msg: OpenObdMsg,
  live: LiveSession,
  target: Target,
  request: RequestBytes,
  exchange: UdsExchange,
  o: AnswerOptions,
): string | undefined {
  const ctx = ensureContext(msg);
  ctx.state = live.session.state;
  ctx.request = { hex: request.hex, ecu: target.name, functional: exchange.functional };
  const answers = exchange.responses.map((r) => responseDetails(r, target.name, request.bytes, o.decode, target.kind));
  if (exchange.functional) {
    ctx.responses = answers;
    delete ctx.response;
    msg.payload = exchange.responses.map((r) => (o.asBuffer ? Buffer.from(r.payload) : r.hex));
  } else {
    ctx.response = answers[0] ?? { hex: '', positive: true, suppressed: true, elapsedMs: exchange.elapsedMs };
    delete ctx.responses;
    const first = exchange.responses[0];
    msg.payload = exchange.suppressed || !first ? null : o.asBuffer ? Buffer.from(first.payload) : first.hex;
  }
  const first = answers[0];
  return first ? `${first.hex.slice(0, 16)} ${first.elapsedMs} ms` : undefined;
}

/** A negative answer (every ECU said 7F): to the second output, or to Catch as NEGATIVE_RESPONSE. */
function routeNegative(
  exchange: UdsExchange,
  target: Target,
  request: RequestBytes,
  toOutput: boolean,
  msg: OpenObdMsg,
  send: Send,
  status: StatusTracker,
): void {
  const first = exchange.responses[0]!;
  const nrc = first.nrc ?? 0;
  const nrcText = `NRC ${hexByte(nrc)} ${first.nrcName ?? ''}`.trim();
  status.showFrequent(() => ({ fill: 'yellow', shape: 'dot', text: shortText(nrcText) }));
  if (toOutput) {
    send([null, msg]);
    return;
  }
  const ecu = target.name ?? addressOf(target.spec);
  throw new FlowError('NEGATIVE_RESPONSE', `ECU ${ecu} answered ${request.hex} negatively: ${nrcText} (${codec.nrcDescription(nrc)})`, {
    nrc: hexByte(nrc),
    nrcName: first.nrcName,
    response: first.hex,
  });
}

function answerStatus(text: string | undefined) {
  return { fill: 'green' as const, shape: 'dot' as const, text: text === undefined ? 'openobd.status.noAnswerExpected' : shortText(text) };
}

/**
 * "send request": one UDS or OBD-II request over ISO-TP to an ECU in the message's session. The answer
 * goes to msg.payload (hex or Buffer) with details in msg.openobd.response; a functional request gives
 * every ECU's answer. A negative answer goes to the second output or to Catch, as chosen.
 */
export function register(RED: NodeAPI): void {
  function OpenObdRequestNode(this: Node, def: RequestDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const kit = flowNodeKit(RED, node);
    const { status } = kit;
    const ecuNode = ecuNodeOf(RED, def.ecu);
    const timing = timingOf(def);
    const fixed = fixedRequest(def.request);
    const answer: AnswerOptions = { asBuffer: def.output === 'buffer', decode: def.decode !== false };
    const negativeToOutput = def.negative === 'output';
    // One controller for the node's life: closing the node cancels every request in flight. (A controller
    // per message would cost more than the rest of the node's work: creating an AbortSignal is slow.)
    const closing = new AbortController();

    onInput(node, kit, async (msg, send) => {
      const live = liveSessionOf(msg);
      const target = resolveEcu(ecuNode, !!def.ecu, msg);
      const request = requestBytes(fixed, msg);
      status.showFrequent(() => busyStatus(`${request.hex} → ${target.name ?? addressOf(target.spec)}`));
      const exchange = await live.session.request(target.spec, request.bytes, timing, closing.signal);
      const shown = writeAnswer(msg, live, target, request, exchange, answer);
      // Its own status follows at once: no session status in between (that costs a translation per message).
      status.followSession(live.id, false);
      const negative = exchange.responses.length > 0 && exchange.responses.every((r) => !r.positive);
      if (negative) {
        routeNegative(exchange, target, request, negativeToOutput, msg, send, status);
        return;
      }
      status.showFrequent(() => answerStatus(shown));
      send(msg); // the first output; Node-RED's fast path for one message on one wire
    });

    node.on('close', () => closing.abort());
  }
  RED.nodes.registerType('openobd-request', OpenObdRequestNode);
}
