import type { Node, NodeAPI, NodeDef } from 'node-red';
import { codec, type EcuSpec, type UdsExchange, type UdsResponse, type UdsTiming } from '../../client';
import type { EcuNode } from '../openobd-ecu/openobd-ecu';
import { ecuSpecFromDef } from '../openobd-ecu/openobd-ecu';
import { canIdText, ensureContext, FlowError, liveSessionOf, shortText, type OpenObdMsg } from '../lib/flow';
import { busyStatus } from '../lib/status';
import { flowNodeKit, onInput } from '../lib/flow-node';

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

/** Plain-data description of one ECU answer for msg.openobd.response. */
export interface ResponseDetails {
  hex: string;
  positive: boolean;
  sid: string;
  service?: string;
  nrc?: string;
  nrcName?: string;
  nrcDescription?: string;
  ecu: { name?: string; requestId: string; responseId: string };
  pendingCount: number;
  elapsedMs: number;
  decoded?: Record<string, unknown>;
}

/** CAN ids as text, formatted once: a node talks to the same few ECUs message after message. */
const canIdTexts = new Map<number, string>();
function canIdOnce(id: number): string {
  let text = canIdTexts.get(id);
  if (text === undefined) {
    text = canIdText(id);
    if (canIdTexts.size < 4096) canIdTexts.set(id, text);
  }
  return text;
}

function hexByte(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
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

/** Addressing from msg.openobd.ecu when the node has no ECU configured: { requestId: '7E0', responseId: '7E8', ... }. */
function ecuFromMsg(msg: OpenObdMsg): { spec: EcuSpec; label: string } {
  const e = msg.openobd?.ecu;
  if (!e || typeof e !== 'object')
    throw new FlowError(
      'BAD_CONFIG',
      'No ECU: select an ECU in the node, or set msg.openobd.ecu = { requestId: "7E0", responseId: "7E8" }',
    );
  const d = e as Record<string, unknown>;
  const spec = ecuSpecFromDef({
    busName: String(d.busName ?? 'OBD-CAN'),
    pinPlus: (d.pinPlus as number) ?? 6,
    pinMinus: (d.pinMinus as number) ?? 14,
    bitRate: (d.bitRate as number) ?? 500,
    requestId: String(d.requestId ?? ''),
    responseId: String(d.responseId ?? ''),
    functional: d.functional === true,
    responderIds: String(d.responderIds ?? ''),
    padding: String(d.padding ?? ''),
    keepAlive: d.keepAlive === true,
  });
  return { spec, label: String(d.name ?? `${canIdText(spec.requestId)}`) };
}

/**
 * "send request": one UDS or OBD-II request over ISO-TP to an ECU in the message's session. The answer
 * goes to msg.payload (hex or Buffer) with details in msg.openobd.response; a functional request gives
 * every ECU's answer. A negative answer goes to the second output or to Catch, as chosen.
 */
export function registerRequest(RED: NodeAPI): void {
  function OpenObdRequestNode(this: Node, def: RequestDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const kit = flowNodeKit(RED, node);
    const { t, status } = kit;
    const ecuNode = def.ecu ? (RED.nodes.getNode(def.ecu) as EcuNode | null) : null;
    const timing = timingOf(def);
    // A request set in the node wins; a blank one takes msg.payload (the core "nooverride" rule). A fixed
    // request is parsed once here; a bad one fails every message with the same BAD_PAYLOAD.
    const fixedText = (def.request ?? '').trim();
    let fixed: { bytes: Buffer; hex: string } | { error: unknown } | undefined;
    if (fixedText) {
      try {
        const bytes = codec.toPayloadBytes(fixedText);
        fixed = { bytes, hex: codec.toHex(bytes) };
      } catch (error) {
        fixed = { error };
      }
    }
    const negativeToOutput = def.negative === 'output';
    const asBuffer = def.output === 'buffer';
    const decode = def.decode !== false;
    // One controller for the node's life: closing the node cancels every request in flight. (A controller
    // per message would cost more than the rest of the node's work: creating an AbortSignal is slow.)
    const closing = new AbortController();

    const details = (r: UdsResponse, ecuName: string | undefined, request: Buffer): ResponseDetails => {
      const out: ResponseDetails = {
        hex: r.hex,
        positive: r.positive,
        sid: hexByte(r.sid),
        service: codec.serviceName(r.sid),
        ecu: { name: ecuName, requestId: canIdOnce(r.ecu.requestId), responseId: canIdOnce(r.ecu.responseId) },
        pendingCount: r.pendingCount,
        elapsedMs: r.elapsedMs,
      };
      if (!r.positive && r.nrc !== undefined) {
        out.nrc = hexByte(r.nrc);
        out.nrcName = r.nrcName;
        out.nrcDescription = codec.nrcDescription(r.nrc);
      }
      if (decode && r.positive) {
        const decoded = codec.decodeResponse(request, r.payload);
        if (decoded) out.decoded = decoded;
      }
      return out;
    };

    onInput(node, kit, async (msg, send) => {
      const live = liveSessionOf(msg);
      let spec: EcuSpec;
      let ecuName: string | undefined;
      if (ecuNode) {
        if (!ecuNode.spec)
          throw new FlowError('BAD_CONFIG', `ECU "${ecuNode.label}" is misconfigured: ${ecuNode.problem ?? 'unknown problem'}`);
        spec = ecuNode.spec;
        ecuName = ecuNode.name || undefined;
      } else if (def.ecu) {
        throw new FlowError('BAD_CONFIG', 'The selected ECU configuration is not deployed');
      } else {
        ({ spec, label: ecuName } = ecuFromMsg(msg));
      }
      let request: Buffer;
      let requestHex: string;
      if (fixed) {
        if ('error' in fixed) throw fixed.error;
        ({ bytes: request, hex: requestHex } = fixed);
      } else {
        request = codec.toPayloadBytes(msg.payload);
        requestHex = codec.toHex(request);
      }
      const target = ecuName ?? canIdOnce(spec.requestId);
      status.showFrequent(() => busyStatus(`${requestHex} → ${target}`));
      const exchange: UdsExchange = await live.session.request(spec, request, timing, closing.signal);
      const ctx = ensureContext(msg);
      ctx.state = live.session.state;
      ctx.request = { hex: requestHex, ecu: ecuName, functional: exchange.functional };
      const answers = exchange.responses.map((r) => details(r, ecuName, request));
      if (exchange.functional) {
        ctx.responses = answers;
        delete ctx.response;
        msg.payload = exchange.responses.map((r) => (asBuffer ? Buffer.from(r.payload) : r.hex));
      } else {
        ctx.response = answers[0] ?? { hex: '', positive: true, suppressed: true, elapsedMs: exchange.elapsedMs };
        delete ctx.responses;
        msg.payload = exchange.suppressed ? null : asBuffer ? Buffer.from(exchange.responses[0].payload) : exchange.responses[0].hex;
      }
      const negative = exchange.responses.length > 0 && exchange.responses.every((r) => !r.positive);
      // Its own status follows at once: no session status in between (that costs a translation per message).
      status.followSession(live.id, false);
      if (!negative) {
        const first = answers[0];
        status.showFrequent(() => ({
          fill: 'green',
          shape: 'dot',
          text: shortText(first ? `${first.hex.slice(0, 16)} ${first.elapsedMs} ms` : t('openobd.status.noAnswerExpected')),
        }));
        send(msg); // the first output; Node-RED's fast path for one message on one wire
        return;
      }
      const first = exchange.responses[0];
      const nrcText = `NRC ${hexByte(first.nrc ?? 0)} ${first.nrcName ?? ''}`.trim();
      status.showFrequent(() => ({ fill: 'yellow', shape: 'dot', text: shortText(nrcText) }));
      if (negativeToOutput) {
        send([null, msg]);
        return;
      }
      throw new FlowError(
        'NEGATIVE_RESPONSE',
        `ECU ${ecuName ?? canIdText(spec.requestId)} answered ${requestHex} negatively: ${nrcText} (${codec.nrcDescription(first.nrc ?? 0)})`,
        {
          nrc: hexByte(first.nrc ?? 0),
          nrcName: first.nrcName,
          response: first.hex,
        },
      );
    });

    node.on('close', () => closing.abort());
  }
  RED.nodes.registerType('openobd-request', OpenObdRequestNode);
}
