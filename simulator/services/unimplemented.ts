import type * as grpc from '@grpc/grpc-js';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { serviceDefinition, type ServiceName } from '../../protocol';

/**
 * Services outside the simulator's scope (K-Line, DoIP, functions, the function broker) answer every
 * method with UNIMPLEMENTED and a sentence saying so, instead of grpc-js' anonymous default.
 */
export function unimplementedService(service: ServiceName): grpc.UntypedServiceImplementation {
  const impl: grpc.UntypedServiceImplementation = {};
  for (const [name, def] of Object.entries(serviceDefinition(service))) {
    const status = { code: GrpcStatus.UNIMPLEMENTED, details: `${service}.${name} is not simulated by the openOBD simulator` };
    if (!def.requestStream && !def.responseStream) {
      impl[name] = ((_call: unknown, callback: grpc.sendUnaryData<unknown>) => callback(status)) as grpc.handleUnaryCall<unknown, unknown>;
    } else if (def.requestStream && !def.responseStream) {
      impl[name] = ((call: grpc.ServerReadableStream<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        call.on('data', () => undefined);
        callback(status);
      }) as grpc.handleClientStreamingCall<unknown, unknown>;
    } else {
      impl[name] = ((call: NodeJS.EventEmitter) => call.emit('error', status)) as grpc.handleServerStreamingCall<unknown, unknown>;
    }
  }
  return impl;
}
