import * as grpc from '@grpc/grpc-js';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { Authenticate, FunctionCallMessage, FunctionUpdateMessage } from '../../protocol';
import type { OpenObdSimulator } from '../simulator';
import { Details, SimStatus } from '../status';
import { bidi, unary } from './handlers';

/**
 * `openOBD.v1.functionBroker` (openOBD documentation, "Function broker"): broker tokens for partner
 * credentials, one bidirectional function stream per host on which it registers its functions, gets
 * fresh broker tokens (to echo), reconnect requests and function calls, and the caller's side: running a
 * function, reading a registration, generating a new function id and signature.
 */
export function functionBrokerService(sim: OpenObdSimulator): grpc.UntypedServiceImplementation {
  const S = 'functionBroker';
  const f = sim.functions.broker;
  return {
    getFunctionBrokerToken: unary(sim, S, 'getFunctionBrokerToken', (call) => {
      const a = call.request as Authenticate;
      const partner = sim.partners.find(
        (p) => p.clientId === a.client_id && p.clientSecret === a.client_secret && p.clusterId === a.cluster_id,
      );
      if (!partner) throw new SimStatus(GrpcStatus.INVALID_ARGUMENT, Details.invalidClient);
      return { value: f.issueBrokerToken(partner.clientId) };
    }),

    openFunctionStream: bidi(sim, S, 'openFunctionStream', (call) => {
      const clientId = f.brokerClient(call.metadata);
      // Headers now, so the host knows the stream is accepted before anything else arrives.
      call.sendMetadata(new grpc.Metadata());
      f.attach(clientId, call as grpc.ServerDuplexStream<FunctionUpdateMessage, FunctionUpdateMessage>);
    }),

    runFunction: unary(sim, S, 'runFunction', (call) => f.callFunction(f.brokerClient(call.metadata), call.request as FunctionCallMessage)),

    getFunctionRegistration: unary(sim, S, 'getFunctionRegistration', (call) => {
      const clientId = f.brokerClient(call.metadata);
      const id = String((call.request as { value?: string }).value ?? '').trim();
      const r = f.registrations.get(id);
      if (!r || r.clientId !== clientId) throw new SimStatus(GrpcStatus.NOT_FOUND, `No function ${id} is registered`);
      return { details: r.details, state: r.state, visibility: r.visibility };
    }),

    generateFunctionSignature: unary(sim, S, 'generateFunctionSignature', (call) => f.generateSignature(f.brokerClient(call.metadata))),
  };
}
