import type { Node, NodeAPI, NodeDef } from 'node-red';
import { canIdText, checkCanId, checkFrameFilters, codec, type CanFrame, type FrameFilter, type OpenObdError } from '../../client';
import { canBusFrom } from '../lib/ecu-spec';
import { FlowError, liveSessionOf, toFlowError, type OpenObdMsg } from '../lib/flow';
import { flowNodeKit, onInput, reportSettingsProblem, type Send } from '../lib/flow-node';
import { Watchers, isStopMessage } from '../lib/watchers';

interface FramesDef extends NodeDef {
  mode: 'listen' | 'send';
  busName: string;
  pinPlus: string | number;
  pinMinus: string | number;
  bitRate: string | number;
  filters: string;
  output: 'frame' | 'batch';
  batchMs: string | number;
  maxRate: string | number;
}

/** One frame as plain data for msg.payload. */
function frameData(f: CanFrame) {
  return { id: canIdText(f.id), data: f.hex, at: f.at };
}

/** A frame to send: { id: "7E0", data: "02 3E 00" }, or the text "7E0#023E00" (the candump form). */
function frameToSend(value: unknown, index: number): { id: number; data: Buffer } {
  let id: unknown;
  let data: unknown;
  if (typeof value === 'string') {
    const m = /^\s*([0-9a-fA-Fx]+)\s*#\s*([0-9a-fA-F\s]*)$/.exec(value);
    if (!m) throw new FlowError('BAD_PAYLOAD', `Frame ${index + 1} '${value.slice(0, 40)}' is not ID#DATA, e.g. 7E0#023E00`);
    id = m[1];
    data = m[2];
  } else if (value && typeof value === 'object') {
    id = (value as { id?: unknown }).id;
    data = (value as { data?: unknown }).data ?? '';
  } else {
    throw new FlowError('BAD_PAYLOAD', `Frame ${index + 1} must be { id, data } or "ID#DATA"`);
  }
  const parsed = typeof id === 'number' ? { ok: true as const, value: id } : checkCanId(id);
  if (!parsed.ok) throw new FlowError('BAD_PAYLOAD', `Frame ${index + 1} has no valid CAN id: '${String(id)}'`);
  return { id: parsed.value, data: codec.toPayloadBytes(data, { maxLength: 64, allowEmpty: true }) };
}

/**
 * Passes frames on at most `perSecond` a second (0: no limit), counting what it drops: a token bucket
 * that holds one second's worth, so a short burst passes and a flood is cut to the rate.
 */
class RateLimit {
  #tokens: number;
  #at = Date.now();
  dropped = 0;
  totalDropped = 0;
  constructor(private readonly perSecond: number) {
    this.#tokens = perSecond;
  }
  take(): boolean {
    if (!(this.perSecond > 0)) return true;
    const now = Date.now();
    this.#tokens = Math.min(this.perSecond, this.#tokens + ((now - this.#at) * this.perSecond) / 1000);
    this.#at = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return true;
    }
    this.dropped += 1;
    this.totalDropped += 1;
    return false;
  }
}

/**
 * "CAN frames": raw CAN frames on a frames bus (openOBD's CAN_PROTOCOL_FRAMES). Listen: a message with a
 * session starts listening (with id or id/mask filters), one message per frame or per batch, at most
 * the rate limit a second; "stop" or the session's end stops it. Send: msg.payload is a frame or a list.
 */
export function register(RED: NodeAPI): void {
  function OpenObdCanFramesNode(this: Node, def: FramesDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const kit = flowNodeKit(RED, node);
    const { status, t } = kit;
    const mode = def.mode === 'send' ? 'send' : 'listen';
    const bus = canBusFrom({ ...def, bitRate: def.bitRate }, 'CAN-FRAMES');
    const parsed = checkFrameFilters(def.filters);
    const filters: FrameFilter[] = parsed.ok ? parsed.value : [];
    const filterProblem = parsed.ok
      ? undefined
      : `The node's Filters field: '${String(parsed.problem.values.value)}' is not a CAN id or id/mask (e.g. 0C9 or 700/700)`;
    // Said at deploy, before anyone starts a session for it; a listen message still fails with it below.
    if (mode === 'listen' && filterProblem)
      reportSettingsProblem(node, kit, new FlowError('BAD_CONFIG', filterProblem), 'openobd.status.errors.BAD_CONFIG');
    const batchMs = Math.max(20, Number(def.batchMs) || 500);
    const maxRate = def.maxRate === '' || def.maxRate === undefined ? 100 : Math.max(0, Number(def.maxRate) || 0);
    const watchers = new Watchers(node, (count) => {
      if (count === 0) status.show({ fill: 'grey', shape: 'ring', text: 'openobd.status.framesStopped' });
    });

    onInput(node, kit, async (msg: OpenObdMsg, send: Send) => {
      const live = liveSessionOf(msg);
      if (mode === 'send') {
        const list = Array.isArray(msg.payload) ? (msg.payload as unknown[]) : [msg.payload];
        if (list.length === 0) throw new FlowError('BAD_PAYLOAD', 'No frame to send: msg.payload is an empty list');
        const frames = list.map(frameToSend);
        const sent = await live.session.sendFrames(bus, frames);
        status.showFrequent(() => ({ fill: 'green', shape: 'dot', text: t('openobd.status.framesSent', { count: sent }) }));
        msg.openobd = { ...(msg.openobd ?? {}), sessionId: live.id, frames: { sent, bus: bus.name } };
        send(msg);
        return;
      }
      if (isStopMessage(msg)) {
        watchers.stop(live.id);
        return;
      }
      if (filterProblem) throw new FlowError('BAD_CONFIG', filterProblem);
      const limit = new RateLimit(maxRate);
      let seen = 0;
      /** Frames on this bus that no listener of the session could take (no CAN id, or an id nobody listens to). */
      let unattributed = 0;
      let batch: ReturnType<typeof frameData>[] = [];
      let timer: NodeJS.Timeout | undefined;
      const base = { sessionId: live.id, bus: bus.name };
      const showCount = () =>
        status.showFrequent(() => {
          const shown =
            limit.totalDropped > 0
              ? { fill: 'yellow' as const, text: t('openobd.status.framesDropping', { dropped: limit.totalDropped, rate: maxRate }) }
              : { fill: 'green' as const, text: t('openobd.status.framesSeen', { count: seen }) };
          const text = unattributed > 0 ? `${shown.text} · ${t('openobd.status.framesUnattributed', { count: unattributed })}` : shown.text;
          return { fill: shown.fill, shape: 'dot', text };
        });
      const counts = () => ({ received: seen, unattributed });
      const flush = () => {
        timer = undefined;
        if (batch.length === 0 && limit.dropped === 0) return;
        const frames = batch;
        batch = [];
        const dropped = limit.dropped;
        limit.dropped = 0;
        send({ payload: frames, topic: bus.name, openobd: { ...base, frames: { count: frames.length, dropped, ...counts() } } });
      };
      const onFrame = (f: CanFrame) => {
        seen += 1;
        const pass = limit.take();
        showCount();
        if (!pass) return;
        if (def.output === 'batch') {
          batch.push(frameData(f));
          timer ??= setTimeout(flush, batchMs);
          return;
        }
        const dropped = limit.dropped;
        limit.dropped = 0;
        send({ payload: frameData(f), topic: canIdText(f.id), openobd: { ...base, frames: { dropped, ...counts() } } });
      };
      const onUnattributed = (count: number) => {
        unattributed = count;
        showCount();
      };
      const onError = (e: OpenObdError) => {
        watchers.stop(live.id);
        // The node or the session closed, or the session ended: the stream ends with it, nothing to report.
        if (e.code === 'CLOSED' || e.code === 'SESSION_ENDED') return;
        const err = toFlowError(e);
        status.show({ fill: 'red', shape: 'ring', text: 'openobd.status.framesFailed' });
        node.error(err, { ...msg, openobd: { ...msg.openobd, sessionId: live.id } });
      };
      await watchers.start(live.id, async () => {
        const stop = await live.session.watchFrames(bus, { filters, onFrame, onError, onUnattributed });
        return () => {
          stop();
          if (timer) clearTimeout(timer);
          flush();
        };
      });
      status.show({
        fill: 'green',
        shape: 'ring',
        text: t('openobd.status.framesListening', { filters: def.filters?.trim() || t('openobd.status.framesAll') }),
      });
    });
  }
  RED.nodes.registerType('openobd-can-frames', OpenObdCanFramesNode);
}
