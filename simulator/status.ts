import { status as GrpcStatus, type ServerErrorResponse } from '@grpc/grpc-js';

/** A gRPC status the simulator answers with; thrown inside handlers and turned into the call's status. */
export class SimStatus extends Error {
  constructor(
    readonly code: GrpcStatus,
    readonly details: string,
  ) {
    super(details);
  }

  toServerError(): Partial<ServerErrorResponse> {
    return { code: this.code, details: this.details };
  }
}

export function toServerError(err: unknown): Partial<ServerErrorResponse> {
  if (err instanceof SimStatus) return err.toServerError();
  return { code: GrpcStatus.INTERNAL, details: err instanceof Error ? err.message : String(err) };
}

/** The texts openOBD is documented to answer with (openOBD documentation, "Problems"), so clients can be tested against them. */
export const Details = {
  invalidClient: 'Invalid client',
  authenticateFirst: 'Only allowed call to be made at this point is the authenticate() call',
  alreadyAuthenticated: 'Session is already authenticated, at this point the authenticate() call is not permitted',
  noTicket: (ticket: string) => `No ticket found with the ticket number: "${ticket}"`,
  resourceInUse: 'Resource already in use.',
  noFreeResources: 'There are no free resources available at the moment. Please try again in two minutes.',
} as const;
