/**
 * What a failed request is told, over REST and gRPC alike. Client mistakes keep the library's own
 * message (it names the field and what was wrong); anything else is a 500 whose response says only
 * that it failed and which request it was, while the log gets the details: no stack or server
 * path ever reaches a client.
 */
import { ErrorCode, isTensorRTNodeError } from '../core/errors.js';

/** gRPC status codes used here (grpc.status). */
export const GrpcStatus = {
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
  CANCELLED: 1,
} as const;

/** An error with the HTTP status (and gRPC code) to answer with; `message` is safe to show. */
export class ServeError extends Error {
  readonly status: number;
  readonly grpcCode: number;
  readonly code: string;
  /** Extra response headers (Retry-After on 503, WWW-Authenticate on 401). */
  readonly headers: Record<string, string>;
  constructor(
    status: number,
    message: string,
    options: { code?: string; grpcCode?: number; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ServeError';
    this.status = status;
    this.code = options.code ?? `HTTP_${status}`;
    this.grpcCode = options.grpcCode ?? grpcCodeFor(status);
    this.headers = options.headers ?? {};
  }
}

function grpcCodeFor(status: number): number {
  switch (status) {
    case 400:
    case 413:
      return status === 413 ? GrpcStatus.RESOURCE_EXHAUSTED : GrpcStatus.INVALID_ARGUMENT;
    case 401:
      return GrpcStatus.UNAUTHENTICATED;
    case 404:
      return GrpcStatus.NOT_FOUND;
    case 499:
      return GrpcStatus.CANCELLED;
    case 503:
    case 429:
      return GrpcStatus.UNAVAILABLE;
    case 504:
      return GrpcStatus.DEADLINE_EXCEEDED;
    default:
      return GrpcStatus.INTERNAL;
  }
}

/** Library error codes that are the client's doing, and those that mean "not now". */
const clientCodes: ReadonlySet<string> = new Set([
  ErrorCode.INVALID_ARGUMENT,
  ErrorCode.SHAPE,
  ErrorCode.DTYPE,
  ErrorCode.UNKNOWN_OPTION,
]);

/**
 * The ServeError for anything a request failed with. `requestId` names the request in the 500
 * message so that an operator can find its log line.
 */
export function toServeError(error: unknown, requestId: string): ServeError {
  if (error instanceof ServeError) return error;
  if (isTensorRTNodeError(error)) {
    if (clientCodes.has(error.code)) return new ServeError(400, error.message, { code: error.code, cause: error });
    switch (error.code) {
      case ErrorCode.QUEUE_FULL:
        // Triton answers a full queue with UNAVAILABLE (503); load balancers retry it on another replica.
        return new ServeError(503, error.message, { code: error.code, headers: { 'retry-after': '1' }, cause: error });
      case ErrorCode.DISPOSED:
        return new ServeError(503, 'The model is being unloaded or the server is shutting down', {
          code: error.code,
          headers: { 'retry-after': '1' },
          cause: error,
        });
      case ErrorCode.TIMEOUT:
        return new ServeError(504, error.message, { code: error.code, cause: error });
      case ErrorCode.ABORTED:
        return new ServeError(499, 'The client closed the request', { code: error.code, cause: error });
    }
  }
  return new ServeError(500, `Internal error while serving request ${requestId}; the server log has the details`, {
    code: isTensorRTNodeError(error) ? error.code : ErrorCode.INTERNAL,
    cause: error,
  });
}

/** A 400 for a malformed request, with the library's message template. */
export function badRequest(message: string): ServeError {
  return new ServeError(400, message, { code: ErrorCode.INVALID_ARGUMENT });
}

export function notFound(message: string): ServeError {
  return new ServeError(404, message, { code: 'ERR_NOT_FOUND' });
}

export function unavailable(message: string): ServeError {
  return new ServeError(503, message, { code: 'ERR_UNAVAILABLE', headers: { 'retry-after': '1' } });
}
