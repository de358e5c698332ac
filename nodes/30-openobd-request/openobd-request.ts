import type { Node, NodeAPI, NodeDef } from 'node-red';
import {
  ISOTP_MAX_PAYLOAD,
  checkHexText,
  codec,
  ecuAddressText,
  hexByte,
  type EcuSpec,
  type UdsExchange,
  type UdsTiming,
} from '../../client';
import { ecuNodeOf, ecuSpecFrom, reachOf, type EcuNode, type EcuReach, type EcuSettings } from '../lib/ecu-spec';
import { ensureContext, FlowError, liveSessionOf, shortText, toFlowError, type OpenObdMsg } from '../lib/flow';
import { flowNodeKit, onInput, reportSettingsProblem, type Send } from '../lib/flow-node';
import type { LiveSession } from '../lib/registry';
import { busyStatus, type Translate } from '../lib/status';
import type { StatusTracker } from '../lib/status-tracker';
import { answerWords, words } from './answer-words';
import { canIdOnce, responseDetails, type ResponseDetails } from './response-details';

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
  reach: EcuReach;
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

/** The Request field's bytes by the rules the edit dialog applies (client/input-rules.ts), or why not. */
function fixedRequest(text: string | undefined): RequestBytes | FlowError | undefined {
  const trimmed = (text ?? '').trim();
  if (!trimmed) return undefined;
  const field = 'The Request field of this node';
  const scanned = checkHexText(trimmed);
  if (!scanned.ok) {
    const v = scanned.problem.values;
    return new FlowError(
      'BAD_PAYLOAD',
      scanned.problem.rule === 'hexChar'
        ? `${field} is not valid hex: ${v.shown} at position ${v.position} is not a hex digit`
        : `${field} has an odd number of hex digits (${v.count}): every byte needs two`,
    );
  }
  const bytes = Buffer.from(scanned.value, 'hex');
  if (bytes.length === 0) return new FlowError('BAD_PAYLOAD', `${field} has no hex digits`);
  if (bytes.length > ISOTP_MAX_PAYLOAD)
    return new FlowError('BAD_PAYLOAD', `${field} is ${bytes.length} bytes; ISO-TP carries at most ${ISOTP_MAX_PAYLOAD}`);
  return { bytes, hex: codec.toHex(bytes) };
}

/** What in the node's own settings cannot work, with the catalog key of its status; undefined: all can. */
function settingsProblem(def: RequestDef, ecuNode: EcuNode | undefined, fixed: ReturnType<typeof fixedRequest>) {
  if (def.ecu && !ecuNode)
    return {
      status: 'openobd.status.noEcu',
      error: new FlowError(
        'BAD_CONFIG',
        'Select an ECU in the ECU field of this node: the ECU configuration it names is missing (deleted or not deployed)',
      ),
    };
  if (ecuNode && !ecuNode.spec)
    return {
      status: 'openobd.status.badEcu',
      error: new FlowError('BAD_CONFIG', `ECU "${ecuNode.label}" is misconfigured: ${ecuNode.problem ?? 'unknown problem'}`),
    };
  if (fixed instanceof FlowError) return { status: 'openobd.status.errors.BAD_PAYLOAD', error: fixed };
  return undefined;
}

/** The ECU to talk to: the node's ECU config, else msg.openobd.ecu = { requestId: '7E0', responseId: '7E8', ... }. */
function resolveEcu(ecuNode: EcuNode | undefined, msg: OpenObdMsg): Target {
  // A selected ECU that is missing or misconfigured never gets here: it is the node's settings problem.
  if (ecuNode?.spec) return { spec: ecuNode.spec, name: ecuNode.name || undefined, reach: ecuNode.reach ?? reachOf(ecuNode.spec) };
  const e = msg.openobd?.ecu;
  if (!e || typeof e !== 'object') {
    throw new FlowError(
      'BAD_CONFIG',
      'No ECU: select an ECU in the node, or set msg.openobd.ecu = { requestId: "7E0", responseId: "7E8" }',
    );
  }
  const settings = e as EcuSettings;
  const spec = ecuSpecFrom({ ...settings, requestId: String(settings.requestId ?? ''), responseId: String(settings.responseId ?? '') });
  return { spec, name: settings.name === undefined ? addressOf(spec) : String(settings.name), reach: reachOf(spec) };
}

/** The request bytes: the node's Request field, else msg.payload (the core "node settings win" rule). */
function requestBytes(fixed: RequestBytes | undefined, msg: OpenObdMsg): RequestBytes {
  if (fixed) return fixed;
  let bytes: Buffer;
  try {
    bytes = codec.toPayloadBytes(msg.payload);
  } catch (err) {
    // The codec's sentence says "Payload ...": name where these bytes came from, as the Request field's does.
    const e = toFlowError(err);
    throw new FlowError(e.code, e.message.replace(/^Payload\b/, 'msg.payload'), e.cause as Record<string, unknown> | undefined);
  }
  return { bytes, hex: codec.toHex(bytes) };
}

interface AnswerOptions {
  asBuffer: boolean;
  decode: boolean;
}

/** Puts the answer(s) into msg.payload and msg.openobd; returns the first answer (for the status). */
function writeAnswer(
  msg: OpenObdMsg,
  live: LiveSession,
  target: Target,
  request: RequestBytes,
  exchange: UdsExchange,
  o: AnswerOptions,
): ResponseDetails | undefined {
  const ctx = ensureContext(msg);
  ctx.state = live.session.state;
  ctx.request = { hex: request.hex, ecu: target.name, functional: exchange.functional };
  const answers = exchange.responses.map((r) => responseDetails(r, target.name, request.bytes, o.decode, target.reach));
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
  return answers[0];
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
  const nrcWords = `NRC ${hexByte(nrc)} ${words(first.nrcName ?? '')}`.trim();
  status.showFrequent(() => ({ fill: 'yellow', shape: 'dot', text: shortText(nrcWords, 40) }));
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

/** What the answer means where it decodes ("VIN … · Volkswagen 2019"); the hex only where nothing does. */
function answerStatus(first: ResponseDetails | undefined, t: Translate) {
  const text = first && (answerWords(first.decoded, t) ?? `${first.hex.slice(0, 16)} ${first.elapsedMs} ms`);
  return { fill: 'green' as const, shape: 'dot' as const, text: text ?? 'openobd.status.noAnswerExpected' };
}

/**
 * "send request": one UDS, KWP2000 or OBD-II request to an ECU in the message's session. The answer
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
    const found = settingsProblem(def, ecuNode, fixed);
    // Said at deploy; a message to the node then fails at once, before any session work.
    const problem = found && reportSettingsProblem(node, kit, found.error, found.status);
    const request = fixed instanceof FlowError ? undefined : fixed;
    const answer: AnswerOptions = { asBuffer: def.output === 'buffer', decode: def.decode !== false };
    const negativeToOutput = def.negative === 'output';
    // One controller for the node's life: closing the node cancels every request in flight. (A controller
    // per message would cost more than the rest of the node's work: creating an AbortSignal is slow.)
    const closing = new AbortController();

    onInput(
      node,
      kit,
      async (msg, send) => {
        const live = liveSessionOf(msg);
        const target = resolveEcu(ecuNode, msg);
        const bytes = requestBytes(request, msg);
        status.showFrequent(() => busyStatus(`${bytes.hex} → ${target.name ?? addressOf(target.spec)}`));
        const exchange = await live.session.request(target.spec, bytes.bytes, timing, closing.signal);
        const first = writeAnswer(msg, live, target, bytes, exchange, answer);
        // Its own status follows at once: no session status in between (that costs a translation per message).
        status.followSession(live.id, false, true);
        const negative = exchange.responses.length > 0 && exchange.responses.every((r) => !r.positive);
        if (negative) {
          routeNegative(exchange, target, bytes, negativeToOutput, msg, send, status);
          return;
        }
        status.showFrequent(() => answerStatus(first, kit.t));
        send(msg); // the first output; Node-RED's fast path for one message on one wire
      },
      { problem },
    );

    node.on('close', () => closing.abort());
  }
  RED.nodes.registerType('openobd-request', OpenObdRequestNode);
}
