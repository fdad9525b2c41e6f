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

  /** A fault of the server itself, logged as an error: a 5xx other than 503 (not now) and 504 (past the deadline). */
  get serverFault(): boolean {
    return this.status >= 500 && this.status !== 503 && this.status !== 504;
  }
}

function grpcCodeFor(status: number): number {
  switch (status) {
    case 400:
      return GrpcStatus.INVALID_ARGUMENT;
    case 413:
      return GrpcStatus.RESOURCE_EXHAUSTED;
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

/**
 * The HTTP status a request that failed with library error `code` is answered with: 400 for the
 * client's mistakes, 503 and 504 for "not now" (a full queue, an unloading model, a deadline), 499
 * for a client that gave up, 500 for anything else. Triton's failure reasons follow the same groups
 * (tritonFailureReason in ./metrics.ts).
 */
export function failureStatus(code: string): 400 | 499 | 500 | 503 | 504 {
  switch (code) {
    case ErrorCode.INVALID_ARGUMENT:
    case ErrorCode.SHAPE:
    case ErrorCode.DTYPE:
    case ErrorCode.UNKNOWN_OPTION:
      return 400;
    case ErrorCode.QUEUE_FULL:
    case ErrorCode.DISPOSED:
      // Triton answers a full queue with UNAVAILABLE (503); load balancers retry it on another replica.
      return 503;
    case ErrorCode.TIMEOUT:
      return 504;
    case ErrorCode.ABORTED:
      return 499;
    default:
      return 500;
  }
}

/**
 * The ServeError for anything a request failed with. `requestId` names the request in the 500
 * message so that an operator can find its log line.
 */
export function toServeError(error: unknown, requestId: string): ServeError {
  if (error instanceof ServeError) return error;
  if (isTensorRTNodeError(error)) {
    const { code } = error;
    switch (failureStatus(code)) {
      case 400:
        return new ServeError(400, error.message, { code, cause: error });
      case 503:
        return new ServeError(
          503,
          code === ErrorCode.DISPOSED ? 'The model is being unloaded or the server is shutting down' : error.message,
          { code, headers: { 'retry-after': '1' }, cause: error },
        );
      case 504:
        return new ServeError(504, error.message, { code, cause: error });
      case 499:
        return new ServeError(499, 'The client closed the request', { code, cause: error });
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
