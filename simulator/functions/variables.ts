import { status as GrpcStatus } from '@grpc/grpc-js';
import type { VariableMessage } from '../../protocol';
import type { OpenObdSimulator } from '../simulator';
import { SimStatus } from '../status';
import type { SessionRecord } from '../state';
import type { ContextStacks } from './contexts';

/*
 * Variables in three contexts (openOBD documentation, "Context variables"): the session's ('global'), the
 * top function context's ('function') and the connection's ('connection', which knows the car's VIN),
 * and the arguments and results handed between a context and the ones it starts.
 */

type ContextType = 'GLOBAL_CONTEXT' | 'FUNCTION_CONTEXT' | 'CONNECTION_CONTEXT';

const CONTEXT_TYPES: Record<string, ContextType> = {
  GLOBAL_CONTEXT: 'GLOBAL_CONTEXT',
  FUNCTION_CONTEXT: 'FUNCTION_CONTEXT',
  CONNECTION_CONTEXT: 'CONNECTION_CONTEXT',
  '1': 'GLOBAL_CONTEXT',
  '2': 'FUNCTION_CONTEXT',
  '3': 'CONNECTION_CONTEXT',
};

/** The variables, arguments and results of the simulated sessions. */
export class ContextVariables {
  readonly #globals = new Map<string, Map<string, VariableMessage>>();
  readonly #connection = new Map<string, Map<string, VariableMessage>>();

  constructor(
    private readonly sim: OpenObdSimulator,
    private readonly contexts: ContextStacks,
  ) {}

  #scope(session: SessionRecord, type: unknown): Map<string, VariableMessage> {
    const t =
      CONTEXT_TYPES[String(type ?? '')] ??
      (type === undefined || type === 'UNDEFINED_CONTEXT' || type === 0 ? 'FUNCTION_CONTEXT' : undefined);
    if (!t) throw new SimStatus(GrpcStatus.INVALID_ARGUMENT, `Unknown context type ${String(type)}`);
    if (t === 'FUNCTION_CONTEXT') return this.contexts.top(session).variables;
    const store = t === 'GLOBAL_CONTEXT' ? this.#globals : this.#connection;
    const key = t === 'GLOBAL_CONTEXT' ? session.id : session.connectorId;
    let m = store.get(key);
    if (!m) {
      m = new Map();
      if (t === 'CONNECTION_CONTEXT') {
        const vin = this.sim.connectors.get(session.connectorId)?.vehicle.vin;
        if (vin) m.set('vehicle:info:vin', { type: 'CONNECTION_CONTEXT', key: 'vehicle:info:vin', value: vin });
      }
      store.set(key, m);
    }
    return m;
  }

  #key(v: VariableMessage): string {
    const key = (v.key ?? '').trim();
    if (!key) throw new SimStatus(GrpcStatus.INVALID_ARGUMENT, 'A variable needs a key');
    return key;
  }

  setVariable(session: SessionRecord, v: VariableMessage): void {
    const key = this.#key(v);
    if (!v.Val) throw new SimStatus(GrpcStatus.INVALID_ARGUMENT, `Variable ${key} needs a value or an object`);
    this.#scope(session, v.type).set(key, { ...v, key });
  }

  getVariable(session: SessionRecord, v: VariableMessage): VariableMessage {
    const key = this.#key(v);
    const found = this.#scope(session, v.type).get(key);
    if (!found) throw new SimStatus(GrpcStatus.NOT_FOUND, `No variable ${key}`);
    return found;
  }

  deleteVariable(session: SessionRecord, v: VariableMessage): void {
    const key = this.#key(v);
    if (!this.#scope(session, v.type).delete(key)) throw new SimStatus(GrpcStatus.NOT_FOUND, `No variable ${key}`);
  }

  listVariables(session: SessionRecord, type: unknown, prefix: string | undefined): VariableMessage[] {
    return [...this.#scope(session, type).values()]
      .filter((v) => !prefix || v.key.startsWith(prefix))
      .sort((a, b) => a.key.localeCompare(b.key));
  }

  setArgument(session: SessionRecord, v: VariableMessage): void {
    const key = this.#key(v);
    const top = this.contexts.top(session);
    top.pendingArguments = [...top.pendingArguments.filter((a) => a.key !== key), { ...v, key }];
  }

  arguments(session: SessionRecord): VariableMessage[] {
    return this.contexts.top(session).arguments;
  }

  setResult(session: SessionRecord, v: VariableMessage): void {
    const key = this.#key(v);
    const top = this.contexts.top(session);
    top.results = [...top.results.filter((a) => a.key !== key), { ...v, key }];
  }

  /** The results of the last function this context called (before any call: its own results). */
  results(session: SessionRecord): VariableMessage[] {
    const top = this.contexts.top(session);
    return top.lastChild?.results ?? top.results;
  }

  /** @internal The simulator ended a session: its global variables go. */
  sessionEnded(session: SessionRecord): void {
    this.#globals.delete(session.id);
  }
}
