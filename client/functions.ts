import type * as grpc from '@grpc/grpc-js';
import { OpenObdError, fromGrpcError, grpcStatusName } from './errors';
import type { Logger } from './logger';
import { Secret } from './secret';
import {
  RESULT_NAMES,
  STRUCT_TYPE_URL,
  USER_FEEDBACK_NAMES,
  decodeStruct,
  encodeStruct,
  type ContextTypeName,
  type EmptyMessage,
  type FunctionContextMessage,
  type JsonValue,
  type ResultName,
  type UserFeedbackName,
  type ServiceResultMessage,
  type SessionInfoMessage,
  type VariableListMessage,
  type VariableMessage,
  type VariableSelectionMessage,
} from '../protocol';

/*
 * What a session offers around functions (openOBD documentation, "Function calls", "Context
 * variables"): variables in three contexts, the arguments a caller handed over, the results a function
 * leaves, and calling another function on the session (the context dance).
 */

/** Where a variable lives: the whole session ('global'), the current function ('function'), the connection ('connection'). */
export type VariableContext = 'global' | 'function' | 'connection';

export const VARIABLE_CONTEXTS: readonly VariableContext[] = ['global', 'function', 'connection'];

/**
 * A variable's value: a string (Variable.value), a JSON object (Variable.object holding a
 * google.protobuf.Struct), or any other protobuf message as `{ typeUrl, value }` (its bytes, base64).
 */
export type VariableValue = string | { [key: string]: JsonValue } | { typeUrl: string; value: string };

const CONTEXT: Record<VariableContext, ContextTypeName> = {
  global: 'GLOBAL_CONTEXT',
  function: 'FUNCTION_CONTEXT',
  connection: 'CONNECTION_CONTEXT',
};

function bad(message: string): OpenObdError {
  return new OpenObdError('BAD_REQUEST', message);
}

function contextOf(context: VariableContext | undefined): ContextTypeName {
  const c = context ?? 'function';
  if (!VARIABLE_CONTEXTS.includes(c)) throw bad(`Unknown variable context '${String(c)}'; use global, function or connection`);
  return CONTEXT[c];
}

function keyOf(key: unknown): string {
  if (typeof key !== 'string' || !key.trim()) throw bad('A variable needs a key (text)');
  if (key.length > 500) throw bad(`The variable key is too long (${key.length} characters)`);
  return key.trim();
}

/** A value as a Variable: a string as `value`, a plain object as a Struct in `object`. */
export function toVariable(key: string, value: unknown, context?: VariableContext): VariableMessage {
  const v: VariableMessage = { key: keyOf(key) };
  if (context !== undefined) v.type = contextOf(context);
  if (typeof value === 'string') v.value = value;
  else if (typeof value === 'number' || typeof value === 'boolean') v.value = String(value);
  else if (value && typeof value === 'object' && !Array.isArray(value) && !Buffer.isBuffer(value)) {
    const o = value as Record<string, unknown>;
    if (typeof o.typeUrl === 'string' && typeof o.value === 'string' && Object.keys(o).length === 2) {
      v.object = { type_url: o.typeUrl, value: Buffer.from(o.value, 'base64') };
    } else {
      let json: JsonValue;
      try {
        json = JSON.parse(JSON.stringify(o)) as JsonValue;
      } catch (err) {
        throw bad(`The value of ${key} cannot be stored as JSON: ${(err as Error).message}`);
      }
      v.object = { type_url: STRUCT_TYPE_URL, value: encodeStruct(json as { [key: string]: JsonValue }) };
    }
  } else
    throw bad(
      `The value of ${key} must be text, a number, a boolean or a JSON object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`,
    );
  return v;
}

/** A Variable's value: its string, the JSON object of a Struct, or `{ typeUrl, value }` for another message. */
export function fromVariable(v: VariableMessage): VariableValue {
  if (v.Val === 'object' || (v.object && v.value === undefined)) {
    const any = v.object;
    if (!any) return '';
    if (any.type_url === STRUCT_TYPE_URL) {
      try {
        return decodeStruct(any.value);
      } catch {
        // not a Struct after all: hand over the bytes
      }
    }
    return { typeUrl: any.type_url, value: Buffer.from(any.value).toString('base64') };
  }
  return v.value ?? '';
}

export function variablesToRecord(list: VariableMessage[]): Record<string, VariableValue> {
  const out: Record<string, VariableValue> = {};
  for (const v of list) out[v.key] = fromVariable(v);
  return out;
}

/** A service result as plain data. */
export interface ServiceResultSummary {
  result: string[];
  userFeedback?: string;
  description?: string;
}

export function summarizeResult(r: ServiceResultMessage | null | undefined): ServiceResultSummary {
  const out: ServiceResultSummary = { result: (r?.result ?? []).map(String) };
  if (r?.user_feedback !== undefined) out.userFeedback = String(r.user_feedback);
  if (r?.description !== undefined) out.description = r.description;
  return out;
}

/**
 * The service result a session or function context finishes with: `result` (default RESULT_SUCCESS;
 * one or several of openOBD's results), the technician's feedback and a description. Anything else
 * throws BAD_REQUEST before anything is sent.
 */
export function serviceResultMessage(options: {
  result?: ResultName | ResultName[];
  userFeedback?: UserFeedbackName;
  description?: string;
}): ServiceResultMessage & { result: ResultName[] } {
  const results: ResultName[] =
    options.result === undefined ? ['RESULT_SUCCESS'] : Array.isArray(options.result) ? options.result : [options.result];
  const known: readonly string[] = RESULT_NAMES;
  // An empty list would finish the session with no result at all.
  if (results.length === 0) throw bad(`The service result list is empty; give at least one of ${RESULT_NAMES.join(', ')}`);
  for (const r of results)
    if (!known.includes(r)) throw bad(`Unknown service result '${String(r)}'; use one of ${RESULT_NAMES.join(', ')}`);
  const feedback: readonly string[] = USER_FEEDBACK_NAMES;
  if (options.userFeedback !== undefined && !feedback.includes(options.userFeedback))
    throw bad(`Unknown user feedback '${String(options.userFeedback)}'; use one of ${USER_FEEDBACK_NAMES.join(', ')}`);
  const message: ServiceResultMessage & { result: ResultName[] } = { result: results };
  if (options.userFeedback !== undefined) message.user_feedback = options.userFeedback;
  if (options.description !== undefined) message.description = String(options.description);
  return message;
}

/** What calling another function gave. */
export interface FunctionCallResult {
  functionId: string;
  /** The callee's service result, as it finished its context. */
  serviceResult: ServiceResultSummary;
  /** Whether every result is RESULT_SUCCESS (and there is at least one). */
  success: boolean;
  /** The results the callee left (setFunctionResult). */
  results: Record<string, VariableValue>;
  elapsedMs: number;
}

/** The answer of the broker to `runFunction`. */
export interface RunAnswer {
  response: 'success' | 'failed' | 'unavailable' | 'unauthorized' | 'undefined';
  description: string;
}

/** What runs a called function on a session: the account's FunctionBroker. */
export interface FunctionRunner {
  runFunction(functionId: string, sessionInfo: SessionInfoMessage, callerId?: string): Promise<RunAnswer>;
}

export interface CallFunctionOptions {
  /** The broker through which the function is run (the account's). */
  broker: FunctionRunner;
  arguments?: Record<string, unknown>;
  /** Told to the callee as its caller (default: the function this session runs, if any). */
  callerId?: string;
  /** No finished callee within this long: FUNCTION_TIMEOUT (the session comes back whenever the callee finishes). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** What the session lends its function helpers. */
export interface FunctionHooks {
  sessionId: string;
  createdAt: string;
  /** `host:port` of the session's endpoint, for the SessionInfo handed to the callee. */
  endpoint: string;
  /** A unary session call with the newest session token (SESSION_ENDED and the like explained). */
  call<Req, Res>(service: 'function', name: string, request: Req): Promise<Res>;
  /**
   * `function/startFunctionContext`: the session stops using its token and streams first (the callee
   * will have it); if the call fails, the session goes on as before.
   */
  startContext(functionId: string): Promise<FunctionContextMessage>;
  /** `function/monitorFunctionContext` with its monitor token as bearer. */
  monitor(request: FunctionContextMessage, token: Secret): grpc.ClientReadableStream<FunctionContextMessage>;
  /** `session/finish` with a given bearer (an unclaimed context's authentication token). */
  finishWith(token: Secret, result: ServiceResultMessage): Promise<void>;
  /** Takes the session back with a fresh authentication token (authenticate again, keepalive restarted). */
  takeBack(authenticationToken: Secret): Promise<void>;
  /** The session is not usable any more (ended while handed over): mark it so with this reason. */
  lost(error: OpenObdError): void;
  explain(error: OpenObdError, operation: string): Promise<OpenObdError>;
  /** The function this session runs, when it was handed one (the default caller id). */
  servingFunction(): string | undefined;
  log: Logger;
}

/** Variables, arguments, results and function calls of one session. */
export class SessionFunctions {
  constructor(private readonly hooks: FunctionHooks) {}

  /** A variable, or undefined when it does not exist. */
  async get(key: string, context?: VariableContext): Promise<VariableValue | undefined> {
    const request: VariableMessage = { key: keyOf(key), type: contextOf(context) };
    try {
      return fromVariable(await this.hooks.call<VariableMessage, VariableMessage>('function', 'getVariable', request));
    } catch (err) {
      if (err instanceof OpenObdError && err.code === 'NOT_FOUND') return undefined;
      throw err;
    }
  }

  async set(key: string, value: unknown, context?: VariableContext): Promise<void> {
    await this.hooks.call<VariableMessage, EmptyMessage>('function', 'setVariable', toVariable(key, value, context ?? 'function'));
  }

  /** Deletes a variable; false when there was none. */
  async delete(key: string, context?: VariableContext): Promise<boolean> {
    try {
      await this.hooks.call<VariableMessage, EmptyMessage>('function', 'deleteVariable', { key: keyOf(key), type: contextOf(context) });
      return true;
    } catch (err) {
      if (err instanceof OpenObdError && err.code === 'NOT_FOUND') return false;
      throw err;
    }
  }

  /** Every variable of a context (whose key starts with `prefix`), as key → value. */
  async list(context?: VariableContext, prefix?: string): Promise<Record<string, VariableValue>> {
    const sel: VariableSelectionMessage = { type: contextOf(context) };
    if (prefix) sel.prefix = prefix;
    const reply = await this.hooks.call<VariableSelectionMessage, VariableListMessage>('function', 'getVariableList', sel);
    return variablesToRecord(reply.variables ?? []);
  }

  /** The arguments the caller of this function handed over. */
  async arguments(): Promise<Record<string, VariableValue>> {
    const reply = await this.hooks.call<EmptyMessage, VariableListMessage>('function', 'getFunctionArgumentList', {});
    return variablesToRecord(reply.variables ?? []);
  }

  /** Sets a result of this function, for its caller to read. */
  async setResult(key: string, value: unknown): Promise<void> {
    await this.hooks.call<VariableMessage, EmptyMessage>('function', 'setFunctionResult', toVariable(key, value));
  }

  /** The results of the last function this session called (before any call: its own). */
  async results(): Promise<Record<string, VariableValue>> {
    const reply = await this.hooks.call<EmptyMessage, VariableListMessage>('function', 'getFunctionResultList', {});
    return variablesToRecord(reply.variables ?? []);
  }

  /**
   * Runs another function on this session and waits until it has finished (openOBD documentation,
   * "Function composition"): sets the arguments, starts a function context (the session is handed over
   * to it: its token and streams stop here), has the broker run the function on the context's
   * SessionInfo, watches the context until it finishes, authenticates again with the fresh token it
   * gives (keepalive restarted) and reads the callee's results.
   *
   * Errors: FUNCTION_REFUSED (not online, or its host refused the call; the session is taken back at
   * once), FUNCTION_TIMEOUT (still running after `timeoutMs`; the session comes back when it finishes),
   * SESSION_ENDED / SESSION_LOST, BAD_REQUEST for arguments that cannot be stored, openOBD's codes.
   */
  async call(functionId: string, options: CallFunctionOptions): Promise<FunctionCallResult> {
    const h = this.hooks;
    const started = Date.now();
    if (typeof functionId !== 'string' || !functionId.trim()) throw bad('A function id is required');
    const id = functionId.trim();
    if (options.timeoutMs !== undefined && !(Number.isFinite(options.timeoutMs) && options.timeoutMs > 0))
      throw bad(`The timeout must be a number of milliseconds above 0, got ${String(options.timeoutMs)}`);
    const args = Object.entries(options.arguments ?? {}).map(([k, v]) => toVariable(k, v));
    for (const a of args) await h.call<VariableMessage, EmptyMessage>('function', 'setFunctionArgument', a);
    const context = await h.startContext(id);
    const monitorToken = new Secret(context.monitor_token ?? '');
    const childToken = new Secret(context.authentication_token ?? '');
    // The monitor stream is open before the callee gets the session, so its end cannot be missed.
    const finished = this.#watch(context, monitorToken);
    finished.catch(() => undefined);
    const info: SessionInfoMessage = {
      id: h.sessionId,
      state: 'available',
      created_at: h.createdAt,
      grpc_endpoint: h.endpoint,
      authentication_token: childToken.reveal(),
    };
    let refused: OpenObdError | undefined;
    try {
      const answer = await options.broker.runFunction(id, info, options.callerId ?? h.servingFunction());
      if (answer.response !== 'success')
        refused = new OpenObdError(
          'FUNCTION_REFUSED',
          `Function ${id} refused the call (${answer.response}${answer.description ? `: ${answer.description}` : ''})`,
          {
            operation: 'functionBroker.runFunction',
          },
        );
    } catch (err) {
      const error = fromGrpcError(err, 'functionBroker.runFunction');
      refused =
        error.code === 'UNAVAILABLE' ||
        error.code === 'NOT_FOUND' ||
        error.code === 'PERMISSION_DENIED' ||
        error.code === 'DEADLINE_EXCEEDED'
          ? new OpenObdError('FUNCTION_REFUSED', `Function ${id} could not be run: ${error.message}`, {
              operation: 'functionBroker.runFunction',
              grpcCode: error.grpcCode,
              details: error.details,
            })
          : error;
    }
    if (refused) {
      // Nobody took the context: close it (allowed before it is authenticated), and the session comes back.
      await h
        .finishWith(childToken, { result: ['RESULT_FAILURE'], description: 'The function call was refused' })
        .catch((err: unknown) => h.log.warn(`Could not close the unused function context: ${(err as Error).message}`));
      await this.#resume(finished);
      throw refused;
    }
    const outcome = await this.#within(finished, id, options);
    await this.#resume(Promise.resolve(outcome));
    let results: Record<string, VariableValue> = {};
    try {
      results = await this.results();
    } catch (err) {
      h.log.warn(`The results of ${id} could not be read: ${(err as Error).message}`);
    }
    const serviceResult = summarizeResult(outcome.service_result);
    return {
      functionId: id,
      serviceResult,
      success: serviceResult.result.length > 0 && serviceResult.result.every((r) => r === 'RESULT_SUCCESS'),
      results,
      elapsedMs: Date.now() - started,
    };
  }

  /** Resolves with the context's last message (finished, with the fresh token and the result). */
  #watch(context: FunctionContextMessage, token: Secret): Promise<FunctionContextMessage> {
    const h = this.hooks;
    return new Promise<FunctionContextMessage>((resolve, reject) => {
      const stream = h.monitor({ id: context.id, monitor_token: token.reveal() }, token);
      let done = false;
      stream.on('data', (m: FunctionContextMessage) => {
        if (!m.finished || done) return;
        done = true;
        stream.removeAllListeners('data');
        stream.cancel();
        resolve(m);
      });
      stream.on('error', () => undefined);
      stream.on('status', (s: grpc.StatusObject) => {
        if (done) return;
        done = true;
        const error = new OpenObdError(
          grpcStatusName(s.code),
          `The monitor stream of the function context ended (${grpcStatusName(s.code)}${s.details ? `: ${s.details}` : ''})`,
          {
            operation: 'function.monitorFunctionContext',
            grpcCode: s.code,
            details: s.details,
          },
        );
        void h.explain(error, 'function.monitorFunctionContext').then(reject, () => reject(error));
      });
    });
  }

  /** Waits for the callee, bounded by the timeout and the signal; the session is taken back later if those end the wait. */
  #within(finished: Promise<FunctionContextMessage>, id: string, options: CallFunctionOptions): Promise<FunctionContextMessage> {
    if (options.timeoutMs === undefined && !options.signal) return finished;
    return new Promise<FunctionContextMessage>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const settle = () => {
        if (timer) clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
      };
      const later = () => void this.#resume(finished).catch(() => undefined);
      const onAbort = () => {
        settle();
        later();
        reject(new OpenObdError('CLOSED', `Stopped waiting for function ${id}; the session comes back when it finishes`));
      };
      if (options.timeoutMs !== undefined) {
        timer = setTimeout(() => {
          settle();
          later();
          reject(
            new OpenObdError(
              'FUNCTION_TIMEOUT',
              `Function ${id} did not finish within ${Math.round(options.timeoutMs! / 100) / 10} s; the session comes back when it finishes`,
            ),
          );
        }, options.timeoutMs);
      }
      if (options.signal?.aborted) return onAbort();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      finished.then(
        (m) => {
          settle();
          resolve(m);
        },
        (err: unknown) => {
          settle();
          reject(err);
        },
      );
    });
  }

  #resuming?: Promise<void>;

  /** Takes the session back once the context finished (once, whoever asks first). */
  #resume(finished: Promise<FunctionContextMessage>): Promise<void> {
    this.#resuming ??= finished
      .then(
        (m) => this.hooks.takeBack(new Secret(m.authentication_token ?? '')),
        (err: unknown) => {
          const error = err instanceof OpenObdError ? err : new OpenObdError('UNKNOWN', String(err));
          this.hooks.lost(error);
          throw error;
        },
      )
      .finally(() => {
        this.#resuming = undefined;
      });
    return this.#resuming;
  }
}
