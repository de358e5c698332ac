import { EventEmitter } from 'node:events';
import type { OpenObdSimulator } from '../simulator';
import type { SessionRecord } from '../state';
import { SimulatedBroker, type FunctionBrokerOptions } from './broker';
import { ContextStacks } from './contexts';
import { TicketDashboard } from './dashboard';
import { ContextVariables } from './variables';

export { SimulatedBroker, type BrokerStream, type FunctionBrokerOptions, type Registration } from './broker';
export { ContextStacks, type ContextRecord } from './contexts';
export { ContextVariables } from './variables';
export { DASHBOARD_CALLER, TicketDashboard, type DashboardFunction, type DashboardRun } from './dashboard';

/*
 * Functions and the function broker as openOBD documents them (openOBD documentation, "Function broker",
 * "Function calls", "Function composition"): partners host functions on a broker stream (broker.ts), the
 * ticket dashboard (dashboard.ts) or another function calls them with a session, and a session holds a
 * stack of function contexts (contexts.ts) with their variables, arguments and results (variables.ts).
 */

/**
 * The simulator's functions: the broker, the context stacks, the variables and the ticket dashboard.
 * Events: 'change' (anything the dashboard shows changed), 'contextFinished' (sessionId, context, result).
 */
export class SimulatedFunctions extends EventEmitter {
  readonly broker: SimulatedBroker;
  readonly contexts: ContextStacks;
  readonly variables: ContextVariables;
  readonly dashboard: TicketDashboard;

  constructor(sim: OpenObdSimulator, options: FunctionBrokerOptions = {}) {
    super();
    // One listener per dashboard run in progress, and the sidebar's.
    this.setMaxListeners(0);
    this.broker = new SimulatedBroker(sim, this, options);
    this.contexts = new ContextStacks(sim, this);
    this.variables = new ContextVariables(sim, this.contexts);
    this.dashboard = new TicketDashboard(sim, this, this.broker, this.contexts);
  }

  get options(): SimulatedBroker['options'] {
    return this.broker.options;
  }

  /** The registered functions, by id. */
  get registrations(): SimulatedBroker['registrations'] {
    return this.broker.registrations;
  }

  /** The open function streams. */
  get streams(): SimulatedBroker['streams'] {
    return this.broker.streams;
  }

  /** Calls handed to hosts (statistics and tests). */
  get stats(): SimulatedBroker['stats'] {
    return this.broker.stats;
  }

  /** The dashboard's runs, by `ticket/function`. */
  get runs(): TicketDashboard['runs'] {
    return this.dashboard.runs;
  }

  /** A function id and its signature for a partner, as openOBD's generateFunctionSignature gives them. */
  generateSignature(clientId: string): { id: string; signature: string } {
    return this.broker.generateSignature(clientId);
  }

  /** Asks every open function stream to reconnect, and closes each after `secondsUntilDisconnect`. */
  requestReconnect(secondsUntilDisconnect?: number): number {
    return this.broker.requestReconnect(secondsUntilDisconnect);
  }

  /** The functions the simulated ticket dashboard shows. */
  dashboardFunctions(): ReturnType<TicketDashboard['dashboardFunctions']> {
    return this.dashboard.dashboardFunctions();
  }

  /** Presses Run in the ticket dashboard (TicketDashboard.runFromDashboard). */
  runFromDashboard(ticketId: string, functionId: string): ReturnType<TicketDashboard['runFromDashboard']> {
    return this.dashboard.runFromDashboard(ticketId, functionId);
  }

  /** @internal The simulator ended a session: forget its contexts and global variables; a run on it failed. */
  sessionEnded(session: SessionRecord): void {
    this.variables.sessionEnded(session);
    if (!this.contexts.sessionEnded(session)) return;
    this.dashboard.sessionEnded(session);
    this.emit('change');
  }

  /** @internal Expired broker and monitor tokens go. */
  sweep(now = Date.now()): void {
    this.broker.sweep(now);
    this.contexts.sweep(now);
  }

  clear(): void {
    this.broker.clear();
    this.contexts.clear();
    this.dashboard.runs.clear();
    this.emit('change');
  }
}
