import * as grpc from '@grpc/grpc-js';
import { fromGrpcError } from './errors';
import { method, type ServiceName } from './proto';
import type { Secret } from './secret';

export interface CallOptions {
  /** Bearer token for this call; none for the two credential exchanges. */
  token?: Secret;
  /** Deadline for unary and client-streaming calls. */
  timeoutMs?: number;
}

function metadataFor(token: Secret | undefined): grpc.Metadata {
  const md = new grpc.Metadata();
  if (token && !token.isEmpty) md.set('authorization', `Bearer ${token.reveal()}`);
  return md;
}

function deadline(timeoutMs: number | undefined): grpc.CallOptions {
  return timeoutMs && timeoutMs > 0 ? { deadline: Date.now() + timeoutMs } : {};
}

/**
 * Typed calls over one shared grpc-js client. Methods are looked up by their wire names in the loaded
 * proto, so a typo fails at the first call instead of reaching the server. Every failure comes back as
 * an OpenObdError naming the operation.
 */
export class Rpc {
  constructor(private readonly client: grpc.Client) {}

  unary<Req, Res>(service: ServiceName, name: string, request: Req, options: CallOptions = {}): Promise<Res> {
    const def = method(service, name);
    const operation = `${service}.${name}`;
    return new Promise<Res>((resolve, reject) => {
      this.client.makeUnaryRequest<Req, Res>(
        def.path,
        def.requestSerialize,
        def.responseDeserialize,
        request,
        metadataFor(options.token),
        deadline(options.timeoutMs),
        (err, response) => {
          if (err) reject(fromGrpcError(err, operation));
          else resolve(response as Res);
        },
      );
    });
  }

  /** Sends every request, half-closes, and resolves with the single response. */
  clientStream<Req, Res>(service: ServiceName, name: string, requests: Req[], options: CallOptions = {}): Promise<Res> {
    const def = method(service, name);
    const operation = `${service}.${name}`;
    return new Promise<Res>((resolve, reject) => {
      const call = this.client.makeClientStreamRequest<Req, Res>(
        def.path,
        def.requestSerialize,
        def.responseDeserialize,
        metadataFor(options.token),
        deadline(options.timeoutMs),
        (err, response) => {
          if (err) reject(fromGrpcError(err, operation));
          else resolve(response as Res);
        },
      );
      for (const r of requests) call.write(r);
      call.end();
    });
  }

  serverStream<Req, Res>(service: ServiceName, name: string, request: Req, options: CallOptions = {}): grpc.ClientReadableStream<Res> {
    const def = method(service, name);
    return this.client.makeServerStreamRequest<Req, Res>(
      def.path,
      def.requestSerialize,
      def.responseDeserialize,
      request,
      metadataFor(options.token),
      {},
    );
  }

  bidi<Req, Res>(service: ServiceName, name: string, options: CallOptions = {}): grpc.ClientDuplexStream<Req, Res> {
    const def = method(service, name);
    return this.client.makeBidiStreamRequest<Req, Res>(def.path, def.requestSerialize, def.responseDeserialize, metadataFor(options.token), {});
  }
}
