import type { NodeAPI, Node, NodeMessage } from 'node-red';
import { OpenObdError, isOpenObdError } from '../../client';
import { endedSession, registry, type LiveSession } from './registry';

/** The part of a message this package owns. Plain data only: ids, states, hex. */
export interface OpenObdMsgContext {
  sessionId?: string;
  state?: string;
  createdAt?: string;
  ticketId?: string;
  connectorId?: string;
  [key: string]: unknown;
}

export type OpenObdMsg = NodeMessage & { openobd?: OpenObdMsgContext; [key: string]: unknown };

/**
 * The error a flow node hands to `done(err)`. Node-RED copies `code` (and `cause`) into `msg.error`, so
 * a Catch node sees `msg.error.code` ('NO_SESSION', 'TIMEOUT', 'NEGATIVE_RESPONSE', a gRPC status
 * name...) and, in `msg.error.cause`, plain details such as the NRC.
 */
export class FlowError extends Error {
  /*
   * Node-RED puts String(err), "<name>: <message>", into msg.error.message and the log. No name, so the
   * message starts with what to do: the collapsed debug sidebar shows only its beginning, and the log line
   * already names the node.
   */
  override readonly name = '';
  readonly code: string;

  constructor(code: string, message: string, cause?: Record<string, unknown>) {
    super(message, cause ? { cause } : undefined);
    this.code = code;
  }
}

export function toFlowError(err: unknown): FlowError {
  if (err instanceof FlowError) return err;
  if (isOpenObdError(err)) {
    const cause: Record<string, unknown> = {};
    if (err.operation) cause.operation = err.operation;
    if (err.grpcCode !== undefined) cause.grpcCode = err.grpcCode;
    if (err.details) cause.details = err.details;
    if (err.nrc !== undefined) cause.nrc = err.nrc;
    if (err.nrcName) cause.nrcName = err.nrcName;
    if (err.sessionState) cause.state = err.sessionState;
    if (err.situation) cause.situation = err.situation;
    return new FlowError(err.code, err.message, Object.keys(cause).length ? cause : undefined);
  }
  return new FlowError('UNKNOWN', err instanceof Error ? err.message : String(err));
}

/** Reads a TypedInput value (str, num, msg, flow, global, env, json...) for this message. */
export function evaluate(RED: NodeAPI, node: Node, value: string, type: string, msg: NodeMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    RED.util.evaluateNodeProperty(value, type, node, msg, (err: Error | null, result: unknown) => (err ? reject(err) : resolve(result)));
  });
}

/** The session id a message refers to. */
export function sessionIdOf(msg: OpenObdMsg): string {
  const id = msg.openobd?.sessionId;
  if (typeof id !== 'string' || !id.trim()) {
    throw new FlowError(
      'NO_SESSION',
      'Connect this node after a "start session" node (and keep msg.openobd): the message has no msg.openobd.sessionId',
    );
  }
  return id.trim();
}

/** The live session a message refers to, or a clear error saying why there is none. */
export function liveSessionOf(msg: OpenObdMsg): LiveSession {
  const id = sessionIdOf(msg);
  const live = registry.get(id);
  if (live) {
    live.session.touch(); // a node working with the session counts as use (the account's idle limit)
    return live;
  }
  const ended = endedSession(id);
  if (ended) {
    const code = ended.state === 'lost' ? 'SESSION_LOST' : 'SESSION_ENDED';
    throw new FlowError(code, `Start a new session: session ${id} is ${ended.state}${ended.reason ? ` (${ended.reason})` : ''}`, {
      state: ended.state,
    });
  }
  throw new FlowError(
    'NO_SESSION',
    `Start a new session: there is no live openOBD session ${id} in this Node-RED (it was never started here, or Node-RED was restarted since)`,
  );
}

/** A non-empty id from a node setting or a message, or a BAD_REQUEST naming what is missing. */
export function requireText(value: unknown, what: string): string {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string')
    throw new FlowError(
      'BAD_REQUEST',
      `The ${what} must be text, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`,
    );
  const s = value.trim();
  if (!s) throw new FlowError('BAD_REQUEST', `The ${what} is empty`);
  if (s.length > 200) throw new FlowError('BAD_REQUEST', `The ${what} is too long (${s.length} characters)`);
  return s;
}

export function ensureContext(msg: OpenObdMsg): OpenObdMsgContext {
  if (!msg.openobd || typeof msg.openobd !== 'object' || Array.isArray(msg.openobd)) msg.openobd = {};
  return msg.openobd;
}

/** Keeps status texts short: Node-RED shows about 20 characters comfortably. */
export function shortText(text: string, max = 32): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export { OpenObdError };
