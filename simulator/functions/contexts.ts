import { randomUUID } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import type * as grpc from '@grpc/grpc-js';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { FunctionContextMessage, FunctionDetailsMessage, ServiceResultMessage, VariableMessage } from '../../protocol';
import type { OpenObdSimulator } from '../simulator';
import { SimStatus } from '../status';
import { isFinal, type OpenStream, type SessionRecord } from '../state';

/*
 * A session's stack of function contexts c^0..c^n (openOBD documentation, "Function calls", "Function
 * composition"), each `available` (not authenticated; its one-time authentication token works for the
 * calls the documented table allows there) or `active` (authenticated; session tokens). Starting a
 * context hands the session to it; finishing it hands the session back to the parent with a fresh
 * authentication token, delivered on the parent's monitor stream with the child's service result.
 */

/** One function context of a session's stack. c^0 is the session itself. */
export interface ContextRecord {
  id: string;
  depth: number;
  /** Started from an active parent: communication only, no user interface. */
  communicationOnly: boolean;
  monitorToken?: string;
  monitorTokens: Set<string>;
  monitors: Set<OpenStream>;
  variables: Map<string, VariableMessage>;
  /** Arguments handed over by the parent when it started this context. */
  arguments: VariableMessage[];
  /** Arguments this context sets for the next context it starts. */
  pendingArguments: VariableMessage[];
  results: VariableMessage[];
  /** The results and service result of the last child that finished. */
  lastChild?: { id: string; results: VariableMessage[]; serviceResult: ServiceResultMessage };
  details?: FunctionDetailsMessage;
  authTimer?: NodeJS.Timeout;
}

/** The function contexts of every session, and their monitor tokens. */
export class ContextStacks {
  readonly #monitorTokens = new Map<string, { sessionId: string; contextId: string; expiresAtMs: number }>();
  readonly #stacks = new Map<string, ContextRecord[]>();

  constructor(
    private readonly sim: OpenObdSimulator,
    /** Where 'change' and 'contextFinished' are told (SimulatedFunctions). */
    private readonly events: EventEmitter,
  ) {
    // The session's state changes drive the contexts: an authenticate makes the top context active.
    sim.on('session', (id: string, state: string) => {
      const top = this.#stacks.get(id)?.at(-1);
      if (top && state === 'active' && top.authTimer) {
        clearTimeout(top.authTimer);
        top.authTimer = undefined;
      }
    });
  }

  #stack(session: SessionRecord): ContextRecord[] {
    let s = this.#stacks.get(session.id);
    if (!s) {
      s = [this.#newContext(session.id, 0, false)];
      this.#stacks.set(session.id, s);
    }
    return s;
  }

  #newContext(id: string, depth: number, communicationOnly: boolean): ContextRecord {
    return {
      id,
      depth,
      communicationOnly,
      monitorTokens: new Set(),
      monitors: new Set(),
      variables: new Map(),
      arguments: [],
      pendingArguments: [],
      results: [],
    };
  }

  /** The top context of a session (its current function context). */
  top(session: SessionRecord): ContextRecord {
    return this.#stack(session).at(-1)!;
  }

  /** How deep a session's stack is (0: only the session's own context). */
  depth(sessionId: string): number {
    return (this.#stacks.get(sessionId)?.length ?? 1) - 1;
  }

  /**
   * The session a call with this bearer may act on, and whether the bearer is the top context's
   * authentication token ('available') or one of its session tokens ('active').
   */
  contextCall(
    metadata: grpc.Metadata,
    allowed: { available: boolean; active: boolean },
    what: string,
  ): { session: SessionRecord; state: 'available' | 'active' } {
    const { value, record } = this.sim.bearer(metadata);
    if (record.kind === 'controller') throw new SimStatus(GrpcStatus.UNAUTHENTICATED, 'A session token is required');
    const session = this.sim.sessions.get(record.sessionId);
    if (!session) throw new SimStatus(GrpcStatus.UNAUTHENTICATED, 'Unknown session');
    if (isFinal(session.state)) throw new SimStatus(GrpcStatus.FAILED_PRECONDITION, `Session ${session.id} has ended (${session.state})`);
    if (record.kind === 'auth') {
      if (value !== session.authToken || session.state !== 'available')
        throw new SimStatus(GrpcStatus.UNAUTHENTICATED, 'Invalid authentication token');
      if (!allowed.available)
        throw new SimStatus(GrpcStatus.PERMISSION_DENIED, 'Only allowed call to be made at this point is the authenticate() call');
      return { session, state: 'available' };
    }
    if (!allowed.active)
      throw new SimStatus(GrpcStatus.PERMISSION_DENIED, `${what} is not allowed once the function context is authenticated`);
    return { session, state: 'active' };
  }

  /** Revokes every token of the session and ends its streams except the monitor streams of its contexts. */
  #handOver(session: SessionRecord, details: string): void {
    for (const [value, t] of this.sim.tokens) if (t.kind !== 'controller' && t.sessionId === session.id) this.sim.tokens.delete(value);
    for (const s of [...session.streams])
      if (s.kind !== 'monitor') this.sim.closeStream(s, { code: GrpcStatus.FAILED_PRECONDITION, details });
  }

  /** The session waits for its new top context to authenticate: a fresh one-time authentication token. */
  #available(session: SessionRecord): void {
    const now = Date.now();
    session.state = 'available';
    session.authToken = this.sim.issueToken({
      kind: 'auth',
      sessionId: session.id,
      expiresAtMs: now + this.sim.options.authenticationTimeoutMs,
    });
    session.tokenExpiresAtMs = now + this.sim.options.authenticationTimeoutMs;
  }

  /** `function/startFunctionContext`: pushes c^(n+1), available, and hands the session to it. */
  startContext(session: SessionRecord, parentState: 'available' | 'active'): FunctionContextMessage {
    const stack = this.#stack(session);
    const parent = stack.at(-1)!;
    const child = this.#newContext(randomUUID(), stack.length, parentState === 'active' || parent.communicationOnly);
    child.arguments = parent.pendingArguments;
    parent.pendingArguments = [];
    this.#handOver(session, `The session was handed over to function context ${child.id}`);
    // The context has its own authentication timeout; the session's first one no longer applies.
    if (session.authTimer) clearTimeout(session.authTimer);
    if (parent.authTimer) clearTimeout(parent.authTimer);
    parent.authTimer = undefined;
    stack.push(child);
    this.#available(session);
    child.monitorToken = this.#monitorToken(session.id, child.id);
    child.authTimer = setTimeout(() => {
      if (this.#stacks.get(session.id)?.at(-1) === child && session.state === 'available')
        this.#pop(session, {
          result: ['RESULT_FAILURE'],
          description: 'The function context was not authenticated within the authentication timeout',
        });
    }, this.sim.options.authenticationTimeoutMs);
    child.authTimer.unref();
    this.sim.emit('session', session.id, 'available');
    this.events.emit('change');
    return { id: child.id, finished: false, monitor_token: child.monitorToken, authentication_token: session.authToken };
  }

  #monitorToken(sessionId: string, contextId: string): string {
    const value = this.sim.issueLooseToken();
    this.#monitorTokens.set(value, { sessionId, contextId, expiresAtMs: Date.now() + this.sim.options.tokenValidityMs });
    return value;
  }

  /** @internal The context a monitor token watches, or UNAUTHENTICATED. */
  monitorTarget(metadata: grpc.Metadata): { session: SessionRecord; context: ContextRecord } {
    const header = metadata.get('authorization')[0];
    const m = /^Bearer\s+(\S+)$/i.exec((typeof header === 'string' ? header : (header?.toString() ?? '')).trim());
    const t = m ? this.#monitorTokens.get(m[1]!) : undefined;
    if (!t || t.expiresAtMs <= Date.now()) throw new SimStatus(GrpcStatus.UNAUTHENTICATED, 'A valid monitor token is required');
    const session = this.sim.sessions.get(t.sessionId);
    if (!session) throw new SimStatus(GrpcStatus.UNAUTHENTICATED, 'Unknown session');
    if (isFinal(session.state)) throw new SimStatus(GrpcStatus.FAILED_PRECONDITION, `Session ${session.id} has ended (${session.state})`);
    const context = this.#stack(session).find((c) => c.id === t.contextId);
    if (!context) throw new SimStatus(GrpcStatus.NOT_FOUND, `Function context ${t.contextId} has finished`);
    return { session, context };
  }

  /** @internal A monitor stream of `context`: a fresh monitor token every token interval. */
  monitor(session: SessionRecord, context: ContextRecord, call: grpc.ServerWritableStream<unknown, FunctionContextMessage>): void {
    const timer = setInterval(
      () => call.write({ id: context.id, finished: false, monitor_token: this.#monitorToken(session.id, context.id) }),
      this.sim.options.tokenIntervalMs,
    );
    timer.unref();
    const stream: OpenStream = {
      kind: 'monitor',
      call: call as grpc.ServerWritableStream<unknown, unknown>,
      dispose: () => {
        clearInterval(timer);
        context.monitors.delete(stream);
      },
    };
    context.monitors.add(stream);
    this.sim.trackStream(session, stream);
  }

  /**
   * `session/finish` on a session whose top context is a function context (n > 0): only that context
   * closes; the parent becomes available with a fresh authentication token, delivered with the
   * service result on the parent's monitor streams. Returns false for the session's own context.
   */
  finishContext(session: SessionRecord, result: ServiceResultMessage): boolean {
    const stack = this.#stacks.get(session.id);
    if (!stack || stack.length < 2) return false;
    this.#pop(session, result);
    return true;
  }

  #pop(session: SessionRecord, result: ServiceResultMessage): void {
    const stack = this.#stack(session);
    const child = stack.pop()!;
    if (child.authTimer) clearTimeout(child.authTimer);
    for (const v of [...this.#monitorTokens.keys()]) if (this.#monitorTokens.get(v)!.contextId === child.id) this.#monitorTokens.delete(v);
    this.#handOver(session, `Function context ${child.id} finished`);
    const parent = stack.at(-1)!;
    parent.lastChild = { id: child.id, results: child.results, serviceResult: result };
    this.#available(session);
    // The parent has the authentication timeout to take the session back.
    parent.authTimer = setTimeout(() => {
      if (this.#stacks.get(session.id)?.at(-1) !== parent || session.state !== 'available' || isFinal(session.state)) return;
      if (parent.depth === 0)
        this.sim.endSession(session, 'failed', 'not authenticated again within the authentication timeout after a function call');
      else this.#pop(session, { result: ['RESULT_FAILURE'], description: 'The function context was not authenticated again in time' });
    }, this.sim.options.authenticationTimeoutMs);
    parent.authTimer.unref();
    const done: FunctionContextMessage = {
      id: child.id,
      finished: true,
      monitor_token: '',
      authentication_token: session.authToken,
      service_result: result,
    };
    for (const s of [...child.monitors]) {
      try {
        (s.call as grpc.ServerWritableStream<unknown, FunctionContextMessage>).write(done);
      } catch {
        // gone with its connection
      }
      this.sim.closeStream(s);
    }
    this.sim.emit('session', session.id, 'available');
    this.events.emit('contextFinished', session.id, child, result);
    this.events.emit('change');
  }

  /** Whether the top context may use the user interface (a context started from an active parent may not). */
  uiAllowed(session: SessionRecord): boolean {
    return !this.#stacks.get(session.id)?.at(-1)?.communicationOnly;
  }

  registerDetails(session: SessionRecord, details: FunctionDetailsMessage): void {
    this.top(session).details = details;
  }

  details(session: SessionRecord): FunctionDetailsMessage {
    const d = this.top(session).details;
    if (!d) throw new SimStatus(GrpcStatus.NOT_FOUND, 'No function details are registered in this context');
    return d;
  }

  /** @internal The simulator ended a session: forget its contexts (false when it had none). */
  sessionEnded(session: SessionRecord): boolean {
    const stack = this.#stacks.get(session.id);
    if (!stack) return false;
    for (const c of stack) if (c.authTimer) clearTimeout(c.authTimer);
    this.#stacks.delete(session.id);
    for (const [v, t] of this.#monitorTokens) if (t.sessionId === session.id) this.#monitorTokens.delete(v);
    return true;
  }

  /** @internal Expired monitor tokens go. */
  sweep(now: number): void {
    for (const [v, t] of this.#monitorTokens) if (t.expiresAtMs <= now) this.#monitorTokens.delete(v);
  }

  clear(): void {
    for (const stack of this.#stacks.values()) for (const c of stack) if (c.authTimer) clearTimeout(c.authTimer);
    this.#stacks.clear();
  }
}
