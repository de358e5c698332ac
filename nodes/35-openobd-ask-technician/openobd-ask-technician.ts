import type { Node, NodeAPI, NodeDef, NodeStatus } from 'node-red';
import { UI_CONTROL_TYPES, type UiAnswer, type UiControl, type UiControlType, type UiTarget, type UiTranslation } from '../../client';
import { ensureContext, evaluate, FlowError, liveSessionOf, shortText, type OpenObdMsg } from '../lib/flow';
import { flowNodeKit, onInput } from '../lib/flow-node';
import { errorStatus } from '../lib/status';

interface AskDef extends NodeDef {
  controlType: UiControlType;
  text: string;
  textSource: string;
  /** The options as a list in the node (optionsSource 'list'), else where to read them. */
  options: string[];
  optionsSource: string;
  optionsProperty: string;
  /** 'single': one output, msg.payload = { index, label }; 'each': one output per option (list only). */
  optionOutputs: 'single' | 'each';
  minimum: string;
  minimumSource: string;
  maximum: string;
  maximumSource: string;
  /** Label: minimal display time in seconds. */
  displayTime: string | number;
  image: string;
  imageSource: string;
  target: UiTarget;
  translations: Array<{ language: string; text: string }>;
  /** Seconds; blank waits. */
  timeout: string | number;
}

/**
 * `{{payload.coolant}}` (or `{{msg.payload.coolant}}`) in a text is replaced by that message property:
 * "Coolant is {{payload.coolant}} °C, continue?". Objects are written as JSON, a missing property as nothing.
 */
export function fillIn(RED: NodeAPI, text: string, msg: OpenObdMsg): string {
  return text.replace(/\{\{\s*(?:msg\.)?([A-Za-z_$][\w$]*(?:(?:\.[A-Za-z_$][\w$]*)|(?:\[\d+\]))*)\s*\}\}/g, (_all, path: string) => {
    let value: unknown;
    try {
      value = RED.util.getMessageProperty(msg, path);
    } catch {
      value = undefined;
    }
    if (value === undefined || value === null) return '';
    return typeof value === 'object' ? JSON.stringify(value) : String(value);
  });
}

function wholeNumber(value: unknown, what: string): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0)
    throw new FlowError('BAD_REQUEST', `The ${what} must be a whole number of 0 or more, got ${String(value)}`);
  return n;
}

/** Options from msg/flow/global/json/env: an array of texts (or numbers), or a JSON array in a string. */
function optionList(value: unknown): string[] {
  let v = value;
  if (typeof value === 'string') {
    try {
      v = JSON.parse(value);
    } catch {
      v = value.split(',').map((s) => s.trim());
    }
  }
  if (!Array.isArray(v)) throw new FlowError('BAD_REQUEST', `The options must be an array of texts, got ${v === null ? 'null' : typeof v}`);
  return v.map((o, i) => {
    if (typeof o === 'number' && Number.isFinite(o)) return String(o);
    if (typeof o !== 'string') throw new FlowError('BAD_REQUEST', `Option ${i + 1} must be text, got ${o === null ? 'null' : typeof o}`);
    return o;
  });
}

/** How many outputs the node has for its settings (the editor computes the same). */
export function outputCount(def: Pick<AskDef, 'controlType' | 'optionOutputs' | 'optionsSource' | 'options'>): number {
  if (def.controlType === 'yesno') return 2;
  if (def.controlType === 'options' && def.optionOutputs === 'each' && (def.optionsSource || 'list') === 'list')
    return Math.max(1, (def.options ?? []).length);
  return 1;
}

/**
 * "ask technician": shows a control on the openOBD user interface of the message's session (openOBD
 * documentation, "User interface") and sends the message on with the answer. Yes/no has an output for yes
 * and one for no; options one output (msg.payload = { index, label }) or one per option.
 */
export function register(RED: NodeAPI): void {
  function OpenObdAskTechnicianNode(this: Node, def: AskDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const kit = flowNodeKit(RED, node);
    const type: UiControlType = UI_CONTROL_TYPES.includes(def.controlType) ? def.controlType : 'continue';
    const outputs = outputCount({ ...def, controlType: type });
    const timeoutS = def.timeout === undefined || def.timeout === '' ? undefined : Number(def.timeout);
    const closing = new AbortController();
    node.on('close', () => closing.abort());

    const textOf = async (value: string, source: string, msg: OpenObdMsg, what: string): Promise<string> => {
      const raw = await evaluate(RED, node, value ?? '', source || 'str', msg);
      if (raw === undefined || raw === null || raw === '') throw new FlowError('BAD_REQUEST', `The ${what} is empty`);
      const s = typeof raw === 'string' ? raw : typeof raw === 'object' ? JSON.stringify(raw) : String(raw);
      return (source || 'str') === 'str' ? fillIn(RED, s, msg) : s;
    };

    async function controlFor(msg: OpenObdMsg): Promise<UiControl> {
      const label = await textOf(def.text, def.textSource, msg, 'text');
      const common: { label: string; target: UiTarget; image?: string; translations?: UiTranslation[] } = {
        label,
        target: def.target === 'operator' ? 'operator' : 'mechanic',
      };
      if (def.image) {
        const image = await evaluate(RED, node, def.image, def.imageSource || 'str', msg);
        if (image !== undefined && image !== null && image !== '') {
          if (typeof image !== 'string') throw new FlowError('BAD_REQUEST', 'The image must be a URL (text)');
          common.image = image;
        }
      }
      const rows = (Array.isArray(def.translations) ? def.translations : []).filter((r) => r && r.language && r.text);
      if (rows.length)
        common.translations = [
          { label, translations: Object.fromEntries(rows.map((r) => [String(r.language).trim(), fillIn(RED, String(r.text), msg)])) },
        ];
      switch (type) {
        case 'label': {
          const c: UiControl = { type, ...common };
          if (def.displayTime !== undefined && def.displayTime !== '') c.minimalDisplayTimeS = wholeNumber(def.displayTime, 'display time');
          return c;
        }
        case 'options': {
          const source = def.optionsSource || 'list';
          const options =
            source === 'list'
              ? (def.options ?? []).map((o) => fillIn(RED, String(o), msg))
              : optionList(await evaluate(RED, node, def.optionsProperty ?? '', source, msg));
          return { type, ...common, options };
        }
        case 'number': {
          const minimum = wholeNumber(await evaluate(RED, node, def.minimum ?? '0', def.minimumSource || 'num', msg), 'minimum');
          const maximum = wholeNumber(await evaluate(RED, node, def.maximum ?? '', def.maximumSource || 'num', msg), 'maximum');
          return { type, ...common, minimum, maximum };
        }
        default:
          return { type, ...common };
      }
    }

    const answerStatus = (a: UiAnswer): NodeStatus => {
      let text: string;
      if (a.type === 'label') text = 'openobd.ask.status.shown';
      else if (a.type === 'continue') text = 'openobd.ask.status.continued';
      else if (a.type === 'yesno') text = a.value ? 'openobd.ask.status.yes' : 'openobd.ask.status.no';
      else
        text = kit.t('openobd.ask.status.answer', {
          answer: shortText(a.type === 'options' ? `${Number(a.value) + 1}: ${a.option}` : String(a.value), 24),
        });
      return { fill: 'green', shape: 'dot', text };
    };

    onInput(
      node,
      kit,
      async (msg, send) => {
        const live = liveSessionOf(msg);
        const control = await controlFor(msg);
        kit.status.followSession(live.id, false, true);
        kit.status.show({ fill: 'yellow', shape: 'ring', text: 'openobd.ask.status.waiting' });
        const answer = await live.session.ui.ask(control, {
          timeoutMs: timeoutS !== undefined && timeoutS > 0 ? timeoutS * 1000 : undefined,
          signal: closing.signal,
        });
        const ctx = ensureContext(msg);
        ctx.sessionId = live.id;
        ctx.state = live.session.state;
        const ui: Record<string, unknown> = {
          type: answer.type,
          label: control.label,
          target: control.target,
          answer: answer.value,
          elapsedMs: answer.elapsedMs,
        };
        if (answer.type === 'options') {
          ui.index = answer.value;
          ui.option = answer.option;
          msg.payload = { index: answer.value, label: answer.option };
        } else if (answer.type === 'yesno' || answer.type === 'freetext' || answer.type === 'number') {
          msg.payload = answer.value;
        }
        ctx.ui = ui;
        kit.status.show(answerStatus(answer));
        if (outputs === 1) {
          send(msg);
          return;
        }
        const out: Array<OpenObdMsg | null> = new Array<OpenObdMsg | null>(outputs).fill(null);
        const index = answer.type === 'yesno' ? (answer.value ? 0 : 1) : Number(answer.value);
        out[Math.min(outputs - 1, index)] = msg;
        send(out);
      },
      {
        // No answer in time is the technician's silence, not an ECU's.
        errorStatus: (code) =>
          code === 'TIMEOUT' ? { fill: 'red', shape: 'ring', text: 'openobd.ask.status.noAnswer' } : errorStatus(code, kit.t),
      },
    );
  }
  RED.nodes.registerType('openobd-ask-technician', OpenObdAskTechnicianNode);
}
