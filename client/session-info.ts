import { Secret } from './secret';
import type { SessionInfoMessage } from '../protocol';

/** Session states as openOBD reports them (openOBD documentation, "Session states"). */
export type ServerSessionState = 'available' | 'active' | 'interrupted' | 'finished' | 'failed';

export const FINAL_STATES: ReadonlySet<string> = new Set(['interrupted', 'finished', 'failed']);

export function isFinalState(state: string): boolean {
  return FINAL_STATES.has(state);
}

/** A session as the session controller describes it. The one-time token is a Secret. */
export interface SessionInfo {
  id: string;
  state: ServerSessionState | string;
  createdAt: string;
  grpcEndpoint: string;
  authenticationToken: Secret;
}

/** What may travel in a Node-RED msg or a log: no token, no endpoint internals. */
export interface SessionSummary {
  id: string;
  state: string;
  createdAt: string;
}

export function sessionInfoFromWire(m: SessionInfoMessage): SessionInfo {
  return {
    id: m.id,
    state: m.state,
    createdAt: m.created_at,
    grpcEndpoint: m.grpc_endpoint,
    authenticationToken: new Secret(m.authentication_token ?? ''),
  };
}

export function summarize(info: Pick<SessionInfo, 'id' | 'state' | 'createdAt'>): SessionSummary {
  return { id: info.id, state: info.state, createdAt: info.createdAt };
}
