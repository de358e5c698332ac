import type * as grpc from '@grpc/grpc-js';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { FunctionDetailsMessage, VariableMessage, VariableSelectionMessage } from '../../protocol';
import type { OpenObdSimulator } from '../simulator';
import { SimStatus } from '../status';
import { serverStream, unary } from './handlers';

/**
 * `openOBD.v1.function`: function contexts, variables, arguments and results (openOBD documentation,
 * "Function calls"). Which calls work in which state of the top context follows the documented table:
 * in `available` (with the context's authentication token) startFunctionContext, monitorFunctionContext
 * and registerFunctionDetails; in `active` (with a session token) everything but
 * registerFunctionDetails. A context started from an active parent is communication-only.
 */
export function functionService(sim: OpenObdSimulator): grpc.UntypedServiceImplementation {
  const S = 'function';
  const { contexts, variables } = sim.functions;
  const active = (call: grpc.ServerUnaryCall<unknown, unknown>, what: string) =>
    contexts.contextCall(call.metadata, { available: false, active: true }, what).session;

  return {
    startFunctionContext: unary(sim, S, 'startFunctionContext', (call) => {
      const { session, state } = contexts.contextCall(call.metadata, { available: true, active: true }, 'startFunctionContext');
      return contexts.startContext(session, state);
    }),

    monitorFunctionContext: serverStream(sim, S, 'monitorFunctionContext', (call) => {
      const { session, context } = contexts.monitorTarget(call.metadata);
      const asked = call.request as { id?: string };
      if (asked?.id && asked.id !== context.id)
        throw new SimStatus(GrpcStatus.INVALID_ARGUMENT, `The monitor token is for function context ${context.id}, not ${asked.id}`);
      contexts.monitor(session, context, call);
    }),

    registerFunctionDetails: unary(sim, S, 'registerFunctionDetails', (call) => {
      const { session } = contexts.contextCall(call.metadata, { available: true, active: false }, 'registerFunctionDetails');
      const d = call.request as FunctionDetailsMessage;
      if (!d.id || !d.name) throw new SimStatus(GrpcStatus.INVALID_ARGUMENT, 'Function details need an id and a name');
      contexts.registerDetails(session, d);
      return {};
    }),

    getFunctionDetails: unary(sim, S, 'getFunctionDetails', (call) => contexts.details(active(call, 'getFunctionDetails'))),

    setFunctionArgument: unary(sim, S, 'setFunctionArgument', (call) => {
      variables.setArgument(active(call, 'setFunctionArgument'), call.request as VariableMessage);
      return {};
    }),
    getFunctionArgumentList: unary(sim, S, 'getFunctionArgumentList', (call) => ({
      variables: variables.arguments(active(call, 'getFunctionArgumentList')),
    })),
    setFunctionResult: unary(sim, S, 'setFunctionResult', (call) => {
      variables.setResult(active(call, 'setFunctionResult'), call.request as VariableMessage);
      return {};
    }),
    getFunctionResultList: unary(sim, S, 'getFunctionResultList', (call) => ({
      variables: variables.results(active(call, 'getFunctionResultList')),
    })),

    getVariableList: unary(sim, S, 'getVariableList', (call) => {
      const sel = call.request as VariableSelectionMessage;
      return { variables: variables.listVariables(active(call, 'getVariableList'), sel.type, sel.prefix) };
    }),
    setVariable: unary(sim, S, 'setVariable', (call) => {
      variables.setVariable(active(call, 'setVariable'), call.request as VariableMessage);
      return {};
    }),
    getVariable: unary(sim, S, 'getVariable', (call) =>
      variables.getVariable(active(call, 'getVariable'), call.request as VariableMessage),
    ),
    deleteVariable: unary(sim, S, 'deleteVariable', (call) => {
      variables.deleteVariable(active(call, 'deleteVariable'), call.request as VariableMessage);
      return {};
    }),
  };
}
