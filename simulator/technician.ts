import { EventEmitter } from 'node:events';
import type { ControlMessage } from '../protocol';
import type { ConnectorRecord, SessionRecord } from './state';

/*
 * The person at the simulated car: what the openOBD user interface shows them (openOBD documentation,
 * "User interface") and how they answer. One screen per car (connector). A control stays on it until the
 * next one replaces it or its stream closes. Labels count as seen once shown for their minimal display
 * time; every other control waits for an answer, which comes either from a script (tests, headless
 * use) or, in interactive mode, from whoever answers through `answer()` (the editor's technician view).
 */

/** How the simulated mechanic answers the user interface. */
export interface UiScript {
  /**
   * 'script' (default): every control gets the scripted or default answer after `answerDelayMs`.
   * 'interactive': controls wait until `sim.technician.answer()` answers them (labels still count as
   * seen after their minimal display time).
   */
  mode?: 'script' | 'interactive';
  /** Time the "user" takes to answer (default 50 ms). */
  answerDelayMs?: number;
  /**
   * Answers used in order for the questions (yes/no, options, free text, number) before the defaults
   * apply: a boolean for yes/no, an index for options, a string for free text, a number for numbers.
   */
  answers?: Array<boolean | number | string>;
  yesNo?: boolean;
  option?: number;
  freeText?: string;
  /** A number for Numbers controls; default their minimum. */
  number?: number;
}

export type ScreenControlType = 'label' | 'continue' | 'yesno' | 'options' | 'freetext' | 'number';

/** A control as the person sees it: plain data (ids, texts, limits), nothing of the session's tokens. */
export interface ScreenControl {
  /** Increases with every control shown on this simulator, so an answer can name what it answers. */
  seq: number;
  type: ScreenControlType;
  target: 'mechanic' | 'operator';
  label: string;
  options?: string[];
  minimum?: number;
  maximum?: number;
  minimalDisplayTimeS?: number;
  image?: string;
  translations: Array<{ label: string; translations: Array<{ language: string; label: string }> }>;
  shownAt: string;
  /** Set once answered (or seen, for a label); `by` says whether a person or the script answered. */
  answer?: { value: boolean | number | string | null; option?: string; by: 'technician' | 'script' | 'shown'; at: string };
  /** Why it left the screen unanswered: replaced by the next control, or its stream closed. */
  ended?: 'replaced' | 'closed';
}

/** What the technician view shows of one simulated car. */
export interface TechnicianCar {
  ticketId: string;
  connectorId: string;
  connected: boolean;
  connectedSince: string;
  ignitionOn: boolean;
  session: { id: string; state: SessionRecord['state'] } | null;
  /** The control on the screen now, if any. */
  control: ScreenControl | null;
  /** The last controls, newest first (at most HISTORY). */
  history: ScreenControl[];
}

export interface TechnicianView {
  mode: 'script' | 'interactive';
  cars: TechnicianCar[];
}

/** What the technician sees of the simulator (tickets, cars, sessions): the simulator implements it. */
export interface TechnicianHost {
  readonly tickets: ReadonlyMap<string, { id: string; connectorId: string }>;
  readonly connectors: ReadonlyMap<string, ConnectorRecord>;
  readonly sessions: ReadonlyMap<string, SessionRecord>;
}

/** One open control stream, as the technician's screen writes its answers to it. */
export interface ControlStreamHandle {
  readonly connectorId: string;
  write(reply: ControlMessage): void;
}

interface Screen {
  control?: ScreenControl;
  /** The stream that showed the current control, where its answer goes. */
  stream?: ControlStreamHandle;
  message?: ControlMessage;
  timer?: NodeJS.Timeout;
  history: ScreenControl[];
}

export const HISTORY = 5;

export class TechnicianAnswerError extends Error {
  constructor(
    message: string,
    readonly reason: 'no-car' | 'no-control' | 'stale' | 'invalid',
  ) {
    super(message);
  }
}

const FIELDS: Record<ScreenControlType, keyof ControlMessage> = {
  label: 'control_label',
  continue: 'control_continue',
  yesno: 'control_yesno',
  options: 'control_options',
  freetext: 'control_freetext',
  number: 'control_number',
};

function typeOf(c: ControlMessage): ScreenControlType | undefined {
  for (const [type, field] of Object.entries(FIELDS) as Array<[ScreenControlType, keyof ControlMessage]>) if (c[field]) return type;
  return undefined;
}

/**
 * The simulated technician: a screen per car, answered by script or interactively. Emits `change`
 * (connectorId) whenever what the technician view shows changes: a control shown, answered or gone,
 * the ignition switched, a session started or ended on the car.
 */
export class SimulatedTechnician extends EventEmitter {
  #script: UiScript;
  #queue: Array<boolean | number | string>;
  readonly #screens = new Map<string, Screen>();
  #seq = 0;

  constructor(
    private readonly host: TechnicianHost,
    script: UiScript = {},
  ) {
    super();
    this.#script = script;
    this.#queue = [...(script.answers ?? [])];
  }

  get mode(): 'script' | 'interactive' {
    return this.#script.mode === 'interactive' ? 'interactive' : 'script';
  }

  /** Switches between scripted and interactive answers (a script change also restarts its answer list). */
  setScript(script: UiScript): void {
    this.#script = script;
    this.#queue = [...(script.answers ?? [])];
    this.emit('change', undefined);
  }

  #screen(connectorId: string): Screen {
    let s = this.#screens.get(connectorId);
    if (!s) {
      s = { history: [] };
      this.#screens.set(connectorId, s);
    }
    return s;
  }

  /**
   * @internal A control arrived on a stream: it replaces what the car's screen shows. Throws on a
   * control without a control type (the service turns that into INVALID_ARGUMENT).
   */
  show(stream: ControlStreamHandle, message: ControlMessage): void {
    const type = typeOf(message);
    if (!type) throw new Error('A control needs one of label, options, continue, yesno, freetext or number');
    const screen = this.#screen(stream.connectorId);
    this.#takeDown(screen, 'replaced');
    const body = message[FIELDS[type]] as {
      label: string;
      options?: string[];
      minimum?: number;
      maximum?: number;
      minimal_display_time?: number;
    };
    const control: ScreenControl = {
      seq: ++this.#seq,
      type,
      target: message.target === 'INTERFACE_OPERATOR' ? 'operator' : 'mechanic',
      label: body.label,
      translations: (message.translations ?? []).map((t) => ({ label: t.label, translations: t.translations.map((x) => ({ ...x })) })),
      shownAt: new Date().toISOString(),
    };
    if (type === 'options') control.options = [...(body.options ?? [])];
    if (type === 'number') {
      control.minimum = body.minimum ?? 0;
      control.maximum = body.maximum ?? 0;
    }
    if (type === 'label' && body.minimal_display_time !== undefined) control.minimalDisplayTimeS = body.minimal_display_time;
    if (message.image?.url) control.image = message.image.url;
    screen.control = control;
    screen.stream = stream;
    screen.message = message;
    const delay = this.#script.answerDelayMs ?? 50;
    if (type === 'label') {
      // Seen once shown for its minimal display time, whoever is at the car.
      const ms = Math.max(delay, (control.minimalDisplayTimeS ?? 0) * 1000);
      screen.timer = setTimeout(() => this.#reply(screen, control, null, 'shown'), ms);
    } else if (this.mode === 'script') {
      screen.timer = setTimeout(() => this.#reply(screen, control, this.#scripted(control), 'script'), delay);
    }
    screen.timer?.unref();
    this.emit('change', stream.connectorId);
  }

  /** @internal The stream closed: whatever it showed leaves the screen. */
  streamClosed(stream: ControlStreamHandle): void {
    const screen = this.#screens.get(stream.connectorId);
    if (!screen || screen.stream !== stream) return;
    this.#takeDown(screen, 'closed');
    this.emit('change', stream.connectorId);
  }

  #takeDown(screen: Screen, why: 'replaced' | 'closed'): void {
    if (screen.timer) clearTimeout(screen.timer);
    screen.timer = undefined;
    const c = screen.control;
    if (c) {
      if (!c.answer) c.ended = why;
      this.#remember(screen, c);
    }
    screen.control = undefined;
    screen.stream = undefined;
    screen.message = undefined;
  }

  #remember(screen: Screen, c: ScreenControl): void {
    if (screen.history[0] === c) return;
    screen.history.unshift(c);
    if (screen.history.length > HISTORY) screen.history.length = HISTORY;
  }

  #scripted(c: ScreenControl): boolean | number | string | null {
    const s = this.#script;
    if (c.type === 'continue') return null;
    const next = this.#queue.length ? this.#queue.shift() : undefined;
    switch (c.type) {
      case 'yesno':
        return typeof next === 'boolean' ? next : (s.yesNo ?? true);
      case 'options': {
        const max = Math.max(0, (c.options?.length ?? 1) - 1);
        return Math.min(max, typeof next === 'number' ? next : (s.option ?? 0));
      }
      case 'freetext':
        return typeof next === 'string' ? next : (s.freeText ?? 'OK');
      case 'number': {
        const wanted = typeof next === 'number' ? next : (s.number ?? c.minimum ?? 0);
        return Math.min(c.maximum ?? wanted, Math.max(c.minimum ?? 0, wanted));
      }
      default:
        return null;
    }
  }

  /** Writes the answer to the stream that showed the control; the control stays on the screen, answered. */
  #reply(screen: Screen, control: ScreenControl, value: boolean | number | string | null, by: 'technician' | 'script' | 'shown'): void {
    if (screen.control !== control || !screen.stream || !screen.message) return;
    if (screen.timer) clearTimeout(screen.timer);
    screen.timer = undefined;
    const m = screen.message;
    const reply: ControlMessage = { target: m.target };
    switch (control.type) {
      case 'label':
        reply.control_label = { ...m.control_label! };
        break;
      case 'continue':
        reply.control_continue = { ...m.control_continue! };
        break;
      case 'yesno':
        reply.control_yesno = { label: control.label, answer: value as boolean };
        break;
      case 'options':
        reply.control_options = { label: control.label, options: [...(control.options ?? [])], answer: value as number };
        break;
      case 'freetext':
        reply.control_freetext = { label: control.label, answer: value as string };
        break;
      case 'number':
        reply.control_number = {
          label: control.label,
          minimum: control.minimum ?? 0,
          maximum: control.maximum ?? 0,
          answer: value as number,
        };
        break;
    }
    control.answer = { value, by, at: new Date().toISOString() };
    if (control.type === 'options' && typeof value === 'number') control.answer.option = control.options?.[value];
    this.#remember(screen, control);
    screen.stream.write(reply);
    this.emit('change', screen.stream.connectorId);
  }

  /**
   * Answers the control on a car's screen, as the person at the car would: only what the control
   * allows (yes/no a boolean, an option's index, text, a whole number within the limits, nothing for
   * continue). `seq` (optional) names the control meant, so an answer to one that was replaced meanwhile
   * is refused instead of answering the new one. Returns the answered control.
   */
  answer(car: string, value: unknown, seq?: number): ScreenControl {
    const connectorId = this.#connectorOf(car);
    const screen = this.#screens.get(connectorId);
    const c = screen?.control;
    if (!screen || !c || !screen.stream) throw new TechnicianAnswerError(`Nothing is shown on the screen of ${car}`, 'no-control');
    if (seq !== undefined && seq !== c.seq)
      throw new TechnicianAnswerError(`Control ${seq} is not on the screen of ${car} any more`, 'stale');
    if (c.answer) throw new TechnicianAnswerError(`"${c.label}" is already answered`, 'stale');
    let v: boolean | number | string | null;
    switch (c.type) {
      case 'label':
        throw new TechnicianAnswerError('A label needs no answer', 'invalid');
      case 'continue':
        v = null;
        break;
      case 'yesno':
        if (typeof value !== 'boolean') throw new TechnicianAnswerError('Answer yes (true) or no (false)', 'invalid');
        v = value;
        break;
      case 'options': {
        const count = c.options?.length ?? 0;
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value >= count)
          throw new TechnicianAnswerError(`Choose an option from 0 to ${count - 1}`, 'invalid');
        v = value;
        break;
      }
      case 'freetext':
        if (typeof value !== 'string' || value.length > 2000)
          throw new TechnicianAnswerError('Answer with a text of at most 2000 characters', 'invalid');
        v = value;
        break;
      case 'number': {
        const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
        if (typeof n !== 'number' || !Number.isInteger(n) || n < (c.minimum ?? 0) || n > (c.maximum ?? 0))
          throw new TechnicianAnswerError(`Answer with a whole number from ${c.minimum} to ${c.maximum}`, 'invalid');
        v = n;
        break;
      }
    }
    this.#reply(screen, c, v, 'technician');
    return c;
  }

  /** Switches a car's ignition (terminal 15) on or off; with the ignition off no ECU answers. */
  setIgnition(car: string, on: boolean): void {
    const connector = this.host.connectors.get(this.#connectorOf(car));
    if (!connector) throw new TechnicianAnswerError(`No simulated car ${car}`, 'no-car');
    connector.vehicle.ignitionOn = on;
    this.emit('change', connector.id);
  }

  /** A ticket id or a connector id → the connector id. */
  #connectorOf(car: string): string {
    const ticket = this.host.tickets.get(car);
    if (ticket) return ticket.connectorId;
    if (this.host.connectors.has(car)) return car;
    throw new TechnicianAnswerError(`No simulated car with ticket or connector ${car}`, 'no-car');
  }

  /** The control on a car's screen now (by ticket or connector id). */
  current(car: string): ScreenControl | undefined {
    return this.#screens.get(this.#connectorOf(car))?.control;
  }

  /** Everything the technician view shows: per ticket the car, its session, its screen. Plain data. */
  view(): TechnicianView {
    const cars: TechnicianCar[] = [];
    for (const ticket of this.host.tickets.values()) {
      const connector = this.host.connectors.get(ticket.connectorId);
      if (!connector) continue;
      const session = connector.sessionId ? this.host.sessions.get(connector.sessionId) : undefined;
      const screen = this.#screens.get(connector.id);
      cars.push({
        ticketId: ticket.id,
        connectorId: connector.id,
        connected: true,
        connectedSince: new Date(connector.connectedSince).toISOString(),
        ignitionOn: connector.vehicle.ignitionOn,
        session: session ? { id: session.id, state: session.state } : null,
        control: screen?.control ? structuredClone(screen.control) : null,
        history: (screen?.history ?? []).filter((c) => c !== screen?.control).map((c) => structuredClone(c)),
      });
    }
    return { mode: this.mode, cars };
  }

  /** Stops every timer (the simulator stops or resets). */
  clear(): void {
    for (const s of this.#screens.values()) if (s.timer) clearTimeout(s.timer);
    this.#screens.clear();
    this.emit('change', undefined);
  }
}
