import { randomBytes } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { FunctionUpdateMessage, ServiceResultMessage, VariableMessage } from '../../protocol';
import { STRUCT_TYPE_URL, decodeStruct } from '../../protocol';
import type { OpenObdSimulator } from '../simulator';
import { SimStatus } from '../status';
import type { SessionRecord } from '../state';
import type { SimulatedBroker } from './broker';
import type { ContextRecord, ContextStacks } from './contexts';

/*
 * The simulated ticket dashboard: it lists the functions hosted for it and runs one on a ticket the way
 * openOBD's dashboard does (a session, a function context handed to the host, the session finished with
 * the function's result).
 */

/** A run started from the simulated ticket dashboard, and how it ended. */
export interface DashboardRun {
  runId: string;
  functionId: string;
  functionName: string;
  ticketId: string;
  sessionId?: string;
  startedAt: string;
  state: 'starting' | 'running' | 'finished' | 'failed';
  result?: { result: string[]; userFeedback?: string; description?: string };
  results?: Record<string, unknown>;
  error?: string;
  endedAt?: string;
}

/** What the dashboard shows of a registered function (plain data). */
export interface DashboardFunction {
  id: string;
  name: string;
  version: string;
  description?: string;
  state: 'online' | 'offline' | 'unavailable';
  visibility: 'dashboard' | 'internal';
}

/** A result as the dashboard shows it: the text, the JSON object of a Struct, or the type of another message. */
function resultValue(v: VariableMessage): unknown {
  if (v.Val !== 'object') return v.value ?? '';
  if (v.object?.type_url === STRUCT_TYPE_URL) {
    try {
      return decodeStruct(v.object.value);
    } catch {
      // fall through: show its type
    }
  }
  return { type_url: v.object?.type_url };
}

export const DASHBOARD_CALLER = 'ticket-dashboard';

/** The ticket dashboard's functions and runs. */
export class TicketDashboard {
  readonly runs = new Map<string, DashboardRun>();

  constructor(
    private readonly sim: OpenObdSimulator,
    /** Where 'change' is told and 'contextFinished' heard (SimulatedFunctions). */
    private readonly events: EventEmitter,
    private readonly broker: SimulatedBroker,
    private readonly contexts: ContextStacks,
  ) {}

  /** The functions the simulated ticket dashboard shows (visibility DASHBOARD), newest name order. */
  dashboardFunctions(): DashboardFunction[] {
    return [...this.broker.registrations.values()]
      .filter((r) => r.visibility === 'FUNCTION_VISIBILITY_DASHBOARD')
      .map((r): DashboardFunction => ({
        id: r.details.id,
        name: r.details.name,
        version: r.details.version,
        description: r.details.description,
        state:
          r.state === 'FUNCTION_REGISTRATION_STATE_ONLINE'
            ? 'online'
            : r.state === 'FUNCTION_REGISTRATION_STATE_OFFLINE'
              ? 'offline'
              : 'unavailable',
        visibility: 'dashboard',
      }))
      .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  }

  /**
   * Presses Run in the ticket dashboard: starts a session on the ticket, opens a function context for the
   * function and hands it to its host (as the dashboard does); when the function finishes, the session
   * is finished with its result. Resolves with the run once the host accepted or refused it.
   */
  async runFromDashboard(ticketId: string, functionId: string): Promise<DashboardRun> {
    const r = this.broker.registrations.get(functionId);
    if (!r) throw new SimStatus(GrpcStatus.NOT_FOUND, `No function ${functionId} is registered`);
    const ticket = this.sim.tickets.get(ticketId);
    const connector = ticket ? this.sim.connectors.get(ticket.connectorId) : undefined;
    if (!ticket || !connector) throw new SimStatus(GrpcStatus.FAILED_PRECONDITION, `No ticket found with the ticket number: "${ticketId}"`);
    const run: DashboardRun = {
      runId: randomBytes(6).toString('hex'),
      functionId,
      functionName: r.details.name,
      ticketId,
      startedAt: new Date().toISOString(),
      state: 'starting',
    };
    this.runs.set(`${ticketId}/${functionId}`, run);
    this.events.emit('change');
    const fail = (error: string) => {
      run.state = 'failed';
      run.error = error;
      run.endedAt = new Date().toISOString();
      this.events.emit('change');
      return run;
    };
    let session: SessionRecord;
    try {
      session = this.sim.createSession(r.clientId, connector, ticket.id);
    } catch (err) {
      return fail((err as Error).message);
    }
    run.sessionId = session.id;
    // The dashboard itself is c^0 (never authenticated); the function runs in c^1.
    const context = this.contexts.startContext(session, 'available');
    const onFinished = (sessionId: string, child: ContextRecord, result: ServiceResultMessage) => {
      if (sessionId !== session.id || child.id !== context.id) return;
      this.events.off('contextFinished', onFinished);
      run.state = 'finished';
      run.result = {
        result: (result.result ?? []).map(String),
        userFeedback: result.user_feedback === undefined ? undefined : String(result.user_feedback),
        description: result.description,
      };
      run.results = Object.fromEntries(child.results.map((v) => [v.key, resultValue(v)]));
      run.endedAt = new Date().toISOString();
      this.sim.endSession(session, 'finished', `finished by the ticket dashboard after ${r.details.name}`);
      this.events.emit('change');
    };
    this.events.on('contextFinished', onFinished);
    let answer: FunctionUpdateMessage;
    try {
      answer = await this.broker.callFunction(r.clientId, {
        id: functionId,
        caller_id: DASHBOARD_CALLER,
        session_info: { ...this.sim.sessionInfoMessage(session), authentication_token: context.authentication_token ?? '' },
      });
    } catch (err) {
      this.events.off('contextFinished', onFinished);
      this.sim.endSession(session, 'interrupted', 'the function could not be started');
      return fail((err as Error).message);
    }
    if (answer.response !== 'FUNCTION_UPDATE_SUCCESS') {
      this.events.off('contextFinished', onFinished);
      this.sim.endSession(session, 'interrupted', 'the host refused the function call');
      return fail(answer.response_description || String(answer.response));
    }
    if (run.state === 'starting') run.state = 'running';
    this.events.emit('change');
    return run;
  }

  /** @internal The simulator ended a session: a run still going on it failed. */
  sessionEnded(session: SessionRecord): void {
    for (const run of this.runs.values()) {
      if (run.sessionId === session.id && (run.state === 'running' || run.state === 'starting')) {
        run.state = 'failed';
        run.error = `The session ended (${session.state}) before the function finished`;
        run.endedAt = new Date().toISOString();
      }
    }
  }
}
