import type * as grpc from '@grpc/grpc-js';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { Authenticate } from '../../protocol';
import type { OpenObdSimulator } from '../simulator';
import { Details, SimStatus } from '../status';
import { isFinal } from '../state';
import { unary } from './handlers';

function idOf(request: { value?: string } | undefined, what: string): string {
  const value = (request?.value ?? '').trim();
  if (!value) throw new SimStatus(GrpcStatus.INVALID_ARGUMENT, `No ${what} given`);
  return value;
}

/** `openOBD.v1.sessionController`: partner credentials, sessions on tickets and connectors. */
export function controllerService(sim: OpenObdSimulator): grpc.UntypedServiceImplementation {
  const S = 'sessionController';
  const ownSession = (metadata: grpc.Metadata, sessionId: string) => {
    const partner = sim.partnerOf(metadata);
    const session = sim.sessions.get(sessionId);
    // Another partner's session is as invisible as one that does not exist.
    if (!session || session.partnerClientId !== partner) throw new SimStatus(GrpcStatus.NOT_FOUND, `Session ${sessionId} not found`);
    return session;
  };

  return {
    getSessionControllerToken: unary(sim, S, 'getSessionControllerToken', (call) => {
      const a = call.request as Authenticate;
      const partner = sim.partners.find(
        (p) => p.clientId === a.client_id && p.clientSecret === a.client_secret && p.clusterId === a.cluster_id,
      );
      if (!partner) throw new SimStatus(GrpcStatus.INVALID_ARGUMENT, Details.invalidClient);
      return {
        value: sim.issueToken({
          kind: 'controller',
          clientId: partner.clientId,
          expiresAtMs: Date.now() + sim.options.controllerTokenLifetimeMs,
        }),
      };
    }),

    startSessionOnTicket: unary(sim, S, 'startSessionOnTicket', (call) => {
      const partner = sim.partnerOf(call.metadata);
      const ticketId = idOf(call.request, 'ticket number');
      const ticket = sim.tickets.get(ticketId);
      if (!ticket) throw new SimStatus(GrpcStatus.FAILED_PRECONDITION, Details.noTicket(ticketId));
      const connector = sim.connectors.get(ticket.connectorId);
      if (!connector) throw new SimStatus(GrpcStatus.FAILED_PRECONDITION, Details.noTicket(ticketId));
      return sim.sessionInfoMessage(sim.createSession(partner, connector, ticket.id));
    }),

    startSessionOnConnector: unary(sim, S, 'startSessionOnConnector', (call) => {
      const partner = sim.partnerOf(call.metadata);
      const connectorId = idOf(call.request, 'connector id');
      const connector = sim.connectors.get(connectorId);
      if (!connector) throw new SimStatus(GrpcStatus.FAILED_PRECONDITION, `No connector found with the connector id: "${connectorId}"`);
      return sim.sessionInfoMessage(sim.createSession(partner, connector));
    }),

    getSession: unary(sim, S, 'getSession', (call) => sim.sessionInfoMessage(ownSession(call.metadata, idOf(call.request, 'session id')))),

    interruptSession: unary(sim, S, 'interruptSession', (call) => {
      const session = ownSession(call.metadata, idOf(call.request, 'session id'));
      if (!isFinal(session.state)) sim.endSession(session, 'interrupted', 'interrupted through the session controller');
      return sim.sessionInfoMessage(session);
    }),

    getSessionList: unary(sim, S, 'getSessionList', (call) => {
      const partner = sim.partnerOf(call.metadata);
      const sessions = [...sim.sessions.values()].filter((s) => s.partnerClientId === partner).map((s) => sim.sessionInfoMessage(s));
      return { sessions };
    }),
  };
}
