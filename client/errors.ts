import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { redact } from './secret';

/** gRPC status names, as `@grpc/grpc-js` spells them (`status[code]`). */
export type GrpcStatusName = keyof typeof GrpcStatus;

/**
 * Codes that do not come from gRPC. A Node-RED Catch node sees them as `msg.error.code`, so they are
 * part of the package's public contract: add, never rename.
 */
export type LocalErrorCode =
  | 'BAD_PAYLOAD' // a request payload that is not hex / bytes, odd-length, empty or too long
  | 'BAD_CONFIG' // invalid options: endpoint, credentials, channel, bus, timeouts
  | 'BAD_REQUEST' // invalid message-level input other than the payload (ticket, result, session id)
  | 'NO_SESSION' // no live session with that id in this process
  | 'SESSION_ENDED' // the session reached a final state (finished, interrupted, failed)
  | 'SESSION_LOST' // the session token expired before the keepalive could renew it
  | 'TIMEOUT' // an ECU did not answer in time
  | 'NEGATIVE_RESPONSE' // an ECU answered 7F SID NRC
  | 'INVALID_RESPONSE' // an ECU answer that cannot be a response to the request
  | 'INSECURE_ENDPOINT' // plaintext to a non-loopback host without the explicit switch
  | 'CLOSED' // the object was closed while the operation was pending
  | 'CHANNEL_LIMIT' // a session would use more channels at once than the connector serves (32)
  | 'CONTROL_REPLACED' // a new control replaced the one shown before it was answered
  | 'HANDED_OVER' // the session is handed over to another function until that one finishes
  | 'FUNCTION_REFUSED' // a function could not be run: not online, or its host refused the call
  | 'FUNCTION_TIMEOUT' // a called function did not finish in time
  | 'UNAUTHORIZED' // the function broker refused a function's registration (its signature)
  | 'PIN_CONFLICT'; // two buses of one session would use the same connector pins (openOBD refuses that)

export type ErrorCode = GrpcStatusName | LocalErrorCode;

export interface OpenObdErrorOptions {
  /** What was being done, e.g. `sessionController.startSessionOnTicket` or `uds.request`. */
  operation?: string;
  grpcCode?: number;
  /** The server's status details, scrubbed of secrets. */
  details?: string;
  /** Negative response code for NEGATIVE_RESPONSE. */
  nrc?: number;
  nrcName?: string;
  /** For SESSION_ENDED / SESSION_LOST: the state the session ended in (interrupted, finished, failed, lost). */
  sessionState?: string;
  /** What went wrong in the user's words, where the code alone does not say (see Situation). */
  situation?: Situation;
  /** Whether trying the same thing again may succeed without changing anything. */
  retryable?: boolean;
  cause?: unknown;
}

/**
 * The one error type of the client library. `code` is stable and machine-readable; `message` is a
 * sentence for a person. No secret can be in either: all text from outside passes through `redact`.
 */
export class OpenObdError extends Error {
  override readonly name = 'OpenObdError';
  readonly code: ErrorCode;
  readonly operation?: string;
  readonly grpcCode?: number;
  readonly details?: string;
  readonly nrc?: number;
  readonly nrcName?: string;
  readonly sessionState?: string;
  readonly situation?: Situation;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options: OpenObdErrorOptions = {}) {
    super(redact(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.operation = options.operation;
    this.grpcCode = options.grpcCode;
    this.details = options.details === undefined ? undefined : redact(options.details);
    this.nrc = options.nrc;
    this.nrcName = options.nrcName;
    this.sessionState = options.sessionState;
    this.situation = options.situation;
    this.retryable = options.retryable ?? false;
  }

  /** Plain data, safe for `msg.error`, logs and JSON. */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { name: this.name, code: this.code, message: this.message };
    if (this.operation !== undefined) out.operation = this.operation;
    if (this.grpcCode !== undefined) out.grpcCode = this.grpcCode;
    if (this.details !== undefined) out.details = this.details;
    if (this.nrc !== undefined) out.nrc = this.nrc;
    if (this.nrcName !== undefined) out.nrcName = this.nrcName;
    if (this.sessionState !== undefined) out.sessionState = this.sessionState;
    if (this.situation !== undefined) out.situation = this.situation;
    return out;
  }
}

export function isOpenObdError(err: unknown, code?: ErrorCode): err is OpenObdError {
  return err instanceof OpenObdError && (code === undefined || err.code === code);
}

export function grpcStatusName(code: number): GrpcStatusName {
  const name = (GrpcStatus as unknown as Record<number, string>)[code];
  return (name ?? 'UNKNOWN') as GrpcStatusName;
}

/**
 * Status codes after which repeating an idempotent call can help. CANCELLED too, unless this process
 * cancelled the call: the server (or a proxy) resetting a call it was given, as a server going down does.
 */
const TRANSIENT = new Set<number>([
  GrpcStatus.UNAVAILABLE,
  GrpcStatus.DEADLINE_EXCEEDED,
  GrpcStatus.INTERNAL,
  GrpcStatus.RESOURCE_EXHAUSTED,
]);

export function isTransientStatus(code: number | undefined, details = ''): boolean {
  if (code === GrpcStatus.CANCELLED) return !/on client/i.test(details);
  return code !== undefined && TRANSIENT.has(code);
}

/**
 * The server (or a front end before it) refused to take another stream on this HTTP/2 connection: a
 * connection at its stream cap (RESOURCE_EXHAUSTED, or HTTP/2 REFUSED_STREAM). Another connection helps.
 */
export function isStreamRefusal(code: number | undefined, details = ''): boolean {
  // Not ECONNREFUSED (nobody listens at all): only a stream the HTTP/2 peer refused.
  return code === GrpcStatus.RESOURCE_EXHAUSTED || (code === GrpcStatus.UNAVAILABLE && /stream refused|refused_stream/i.test(details));
}

function isServiceError(err: unknown): err is ServiceError {
  return typeof err === 'object' && err !== null && typeof (err as ServiceError).code === 'number' && 'details' in err;
}

/**
 * The situation behind an error, in the words a flow author would use: what the node's status shows, and
 * a stable value a Catch node can route on (`msg.error.cause.situation`) where the code alone is not
 * enough (UNAVAILABLE is both "openOBD is down" and "this ticket is busy").
 */
export type Situation =
  | 'wrongCredentials' // openOBD rejected the partner credentials
  | 'ticketBusy' // a session already holds the ticket or connector
  | 'unknownTicket' // no such ticket (or connector)
  | 'noFreeResources' // openOBD has no capacity at the moment
  | 'unreachable' // openOBD could not be reached, or did not answer in time
  | 'notAuthenticated' // a session call before authenticate
  | 'alreadyAuthenticated'; // a second authenticate (the one-time token was used)

interface Explained {
  message: string;
  situation?: Situation;
}

/**
 * Explains a gRPC failure in words a flow author understands, using what openOBD documents about its
 * errors (openOBD documentation, "Problems"). Where there is something to do, the sentence starts with
 * it: the collapsed debug sidebar shows only the beginning. The raw status and details stay on the error.
 */
function explain(code: number, details: string, operation: string | undefined): Explained {
  const d = details.trim();
  const what = operation ? `${operation} failed` : 'openOBD call failed';
  if (code === GrpcStatus.INVALID_ARGUMENT && /invalid client/i.test(d)) {
    return {
      situation: 'wrongCredentials',
      message:
        'Check the client id, client secret and cluster id of the account: openOBD rejected the partner credentials (Invalid client)',
    };
  }
  if (code === GrpcStatus.UNAVAILABLE && /already in use/i.test(d)) {
    return {
      situation: 'ticketBusy',
      message:
        'Interrupt the session that holds this ticket or connector, or wait until it ends: another session is running on it (Resource already in use)',
    };
  }
  if (code === GrpcStatus.UNAVAILABLE && /no free resources/i.test(d)) {
    return { situation: 'noFreeResources', message: 'Try again in about two minutes: openOBD has no free resources at the moment' };
  }
  if (code === GrpcStatus.FAILED_PRECONDITION && /no (ticket|connector) found/i.test(d)) {
    return { situation: 'unknownTicket', message: `Check the ticket or connector number: openOBD does not know it (${d})` };
  }
  if (code === GrpcStatus.PERMISSION_DENIED && /only allowed call .* authenticate/i.test(d)) {
    return { situation: 'notAuthenticated', message: 'The session is not authenticated yet: only authenticate() is allowed at this point' };
  }
  if (code === GrpcStatus.PERMISSION_DENIED && /already authenticated/i.test(d)) return alreadyAuthenticated(d, operation, what);
  if (code === GrpcStatus.UNAUTHENTICATED) {
    return { message: `${what}: the token was rejected (${d || 'unauthenticated'})` };
  }
  if (code === GrpcStatus.UNAVAILABLE) {
    return {
      situation: 'unreachable',
      message: `Check the network and the endpoint: ${what}, openOBD is not reachable${d ? ` (${d})` : ''}`,
    };
  }
  if (code === GrpcStatus.DEADLINE_EXCEEDED) {
    return { situation: 'unreachable', message: `Try again, or check the network: ${what}, no answer from openOBD in time` };
  }
  if (code === GrpcStatus.CANCELLED) {
    return { message: `${what}: the call was cancelled` };
  }
  return { message: `${what}: ${grpcStatusName(code)}${d ? ` (${d})` : ''}` };
}

/**
 * openOBD says "already authenticated" when a call does not fit a session that is claimed. Only a refused
 * authenticate means the one-time token was used and a new session is needed; for another call it is advice
 * about that call.
 */
function alreadyAuthenticated(d: string, operation: string | undefined, what: string): Explained {
  if (operation === 'session.authenticate')
    return {
      situation: 'alreadyAuthenticated',
      message: 'Start a new session: this one is already authenticated, its one-time authentication token was used before',
    };
  if (operation === 'function.startFunctionContext')
    return {
      message: `The procedure was not called: openOBD did not hand the session over to it, as the session is already authenticated (${d}). The session itself can still be used`,
    };
  return { message: `${what}: openOBD does not allow this call on a session that is already authenticated (${d})` };
}

/** Wraps anything thrown by a gRPC call into an OpenObdError (an OpenObdError passes through). */
export function fromGrpcError(err: unknown, operation?: string): OpenObdError {
  if (err instanceof OpenObdError) return err;
  if (isServiceError(err)) {
    const details = err.details ?? '';
    const explained = explain(err.code, details, operation);
    return new OpenObdError(grpcStatusName(err.code), explained.message, {
      situation: explained.situation,
      operation,
      grpcCode: err.code,
      details,
      retryable: isTransientStatus(err.code, details),
    });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new OpenObdError('UNKNOWN', `${operation ? `${operation} failed: ` : ''}${message}`, { operation });
}
