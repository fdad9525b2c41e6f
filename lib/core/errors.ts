/**
 * The one error family of tensorrt-node. Every error the library throws or rejects with carries a
 * stable string `code`; native code creates the same classes through the factory registered at load
 * (see native/napi/errors.cc), so errors look the same whichever layer raised them.
 *
 * Wrong types are TypeErrors and wrong values RangeErrors, as Node users expect; both still belong
 * to the family: `err instanceof TensorRTNodeError` is true for all of them.
 */

/** Every error code, by name: `ErrorCode.SHAPE` is `'ERR_SHAPE'`. */
export const ErrorCode = {
  /** An argument has the wrong type or an unusable value. */
  INVALID_ARGUMENT: 'ERR_INVALID_ARGUMENT',
  /** An options object has a key the function does not know (a suggestion is given when close). */
  UNKNOWN_OPTION: 'ERR_UNKNOWN_OPTION',
  SHAPE: 'ERR_SHAPE',
  DTYPE: 'ERR_DTYPE',
  DISPOSED: 'ERR_DISPOSED',
  QUEUE_FULL: 'ERR_QUEUE_FULL',
  TIMEOUT: 'ERR_TIMEOUT',
  ABORTED: 'ERR_ABORTED',
  /** The native addon could not be loaded (every attempt is listed). */
  NATIVE_LOAD: 'ERR_NATIVE_LOAD',
  /** A feature needs something this build or machine lacks (CUDA not compiled in, ...). */
  NOT_SUPPORTED: 'ERR_NOT_SUPPORTED',
  CUDA: 'ERR_CUDA',
  /**
   * A sticky CUDA error (cudaErrorIllegalAddress 700, cudaErrorLaunchFailure 719, ...): CUDA cannot
   * recover from it, so the device is unusable until the process restarts; later calls fail fast.
   */
  CUDA_STICKY: 'ERR_CUDA_STICKY',
  CUDA_DRIVER: 'ERR_CUDA_DRIVER',
  NO_CUDA_DEVICE: 'ERR_NO_CUDA_DEVICE',
  OUT_OF_MEMORY: 'ERR_OUT_OF_MEMORY',
  TENSORRT: 'ERR_TENSORRT',
  TENSORRT_NOT_FOUND: 'ERR_TENSORRT_NOT_FOUND',
  TENSORRT_VERSION: 'ERR_TENSORRT_VERSION',
  TENSORRT_SYMBOL: 'ERR_TENSORRT_SYMBOL',
  TENSORRT_LOAD: 'ERR_TENSORRT_LOAD',
  ENGINE_INCOMPATIBLE: 'ERR_ENGINE_INCOMPATIBLE',
  BUILD: 'ERR_BUILD',
  PRECISION_NOT_APPLIED: 'ERR_PRECISION_NOT_APPLIED',
  ONNX: 'ERR_ONNX',
  CACHE: 'ERR_CACHE',
  IO: 'ERR_IO',
  RESULTS_SCHEMA: 'ERR_RESULTS_SCHEMA',
  INTERNAL: 'ERR_INTERNAL',
} as const;

/** One of the stable error codes (`'ERR_SHAPE'`, `'ERR_TIMEOUT'`, ...). */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const knownCodes: ReadonlySet<string> = new Set(Object.values(ErrorCode));

/** What CUDA reported, when CUDA is where the failure came from. */
export interface CudaErrorInfo {
  /** The numeric `cudaError_t`, e.g. 35. */
  code: number;
  /** `cudaGetErrorName()`, e.g. `cudaErrorInsufficientDriver`. */
  name: string;
}

/** What an error may carry besides its code and message. */
export interface ErrorFields {
  /** The error that led to this one, as `Error.cause`. */
  cause?: unknown;
  cudaError?: CudaErrorInfo;
  /** TensorRT's `ErrorCode` from the error recorder, when there is one. */
  tensorrtErrorCode?: number;
  /** Every message TensorRT logged or recorded for the failing operation, oldest first. */
  tensorrtMessages?: string[];
  /** Structured facts about the failure (paths tried, bounds, names that exist, ...). */
  details?: Record<string, unknown>;
}

const familyBrand = Symbol.for('tensorrt-node.error');

interface FamilyMember {
  code: ErrorCode;
  cudaError?: CudaErrorInfo;
  tensorrtErrorCode?: number;
  tensorrtMessages?: string[];
  details?: Record<string, unknown>;
}

function initMember(error: Error & FamilyMember, name: string, code: ErrorCode, fields: ErrorFields): void {
  Object.defineProperty(error, 'name', { value: name, configurable: true, writable: true, enumerable: false });
  Object.defineProperty(error, familyBrand, { value: true });
  error.code = code;
  if (fields.cudaError) error.cudaError = fields.cudaError;
  if (fields.tensorrtErrorCode !== undefined) error.tensorrtErrorCode = fields.tensorrtErrorCode;
  if (fields.tensorrtMessages?.length) error.tensorrtMessages = fields.tensorrtMessages;
  if (fields.details) error.details = fields.details;
}

/** Base class of the family; `instanceof` also matches the TypeError and RangeError members. */
export class TensorRTNodeError extends Error implements FamilyMember {
  declare code: ErrorCode;
  declare cudaError?: CudaErrorInfo;
  declare tensorrtErrorCode?: number;
  declare tensorrtMessages?: string[];
  declare details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, fields: ErrorFields = {}) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    initMember(this, new.target.name, code, fields);
  }

  /**
   * `err instanceof TensorRTNodeError` holds for every member of the family, the TypeError and
   * RangeError members and errors from another copy of this package included (they carry a brand).
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this === TensorRTNodeError) {
      return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[familyBrand] === true;
    }
    return Function.prototype[Symbol.hasInstance].call(this, value);
  }
}

/** A CUDA runtime or driver failure; `cudaError` names the exact CUDA error. */
export class CudaError extends TensorRTNodeError {}

/**
 * An aborted operation (ERR_ABORTED): a run, a cache wait, an engine load or build, a calibration.
 * Its `name` is `'AbortError'`, as for every abort in Node and the web platform, so
 * `err.name === 'AbortError'` finds it; `cause` is the signal's reason; and it stays a member of
 * the family (`instanceof TensorRTNodeError`, `code` ERR_ABORTED).
 */
export class AbortError extends TensorRTNodeError {
  constructor(message: string, fields: ErrorFields = {}) {
    super(ErrorCode.ABORTED, message, fields);
  }
}

/** A TensorRT failure: library loading, deserialization, building or running. */
export class TensorRTError extends TensorRTNodeError {}

/** An ONNX model that cannot be read, written or transformed. */
export class OnnxError extends TensorRTNodeError {}

/** One attempt the loader made to find the native addon. */
export interface NativeLoadAttempt {
  path: string;
  error: string;
}

/** The native addon could not be loaded; `attempts` lists every place tried and why it failed. */
export class NativeLoadError extends TensorRTNodeError {
  readonly attempts: NativeLoadAttempt[];
  constructor(message: string, attempts: NativeLoadAttempt[], fields: ErrorFields = {}) {
    super(ErrorCode.NATIVE_LOAD, message, fields);
    this.attempts = attempts;
  }
}

/** A wrong type: a string where a number was expected, a Float64Array for a float32 input, ... */
export class ArgumentTypeError extends TypeError implements FamilyMember {
  declare code: ErrorCode;
  declare details?: Record<string, unknown>;
  constructor(message: string, code: ErrorCode = ErrorCode.INVALID_ARGUMENT, fields: ErrorFields = {}) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    initMember(this, 'ArgumentTypeError', code, fields);
  }
}

/** A wrong value: a negative size, a shape outside a profile, an unknown option, ... */
export class ArgumentRangeError extends RangeError implements FamilyMember {
  declare code: ErrorCode;
  declare details?: Record<string, unknown>;
  constructor(message: string, code: ErrorCode = ErrorCode.INVALID_ARGUMENT, fields: ErrorFields = {}) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    initMember(this, 'ArgumentRangeError', code, fields);
  }
}

/** True for every error of the family, whatever its class. */
export function isTensorRTNodeError(value: unknown): value is TensorRTNodeError | ArgumentTypeError | ArgumentRangeError {
  return value instanceof TensorRTNodeError;
}

/** Builds a family error with the usual class for its code (used by native code and by TS alike). */
export function createError(
  code: string,
  message: string,
  kind: 'generic' | 'type' | 'range' = 'generic',
  fields: ErrorFields = {},
): TensorRTNodeError | ArgumentTypeError | ArgumentRangeError {
  const known = (knownCodes.has(code) ? code : ErrorCode.INTERNAL) as ErrorCode;
  if (kind === 'type') return new ArgumentTypeError(message, known, fields);
  if (kind === 'range') return new ArgumentRangeError(message, known, fields);
  if (known === ErrorCode.ABORTED) return new AbortError(message, fields);
  if (known.startsWith('ERR_CUDA') || known === ErrorCode.NO_CUDA_DEVICE || fields.cudaError) {
    return new CudaError(known, message, fields);
  }
  if (known.startsWith('ERR_TENSORRT') || known === ErrorCode.ENGINE_INCOMPATIBLE || known === ErrorCode.BUILD) {
    return new TensorRTError(known, message, fields);
  }
  if (known === ErrorCode.ONNX) return new OnnxError(known, message, fields);
  return new TensorRTNodeError(known, message, fields);
}

/**
 * Runs an async operation and, when it fails, appends the caller's stack to the error's, so that a
 * rejection from a native worker thread still says which line of user code started it.
 */
export async function withCallerStack<T>(operation: () => Promise<T>): Promise<T> {
  const callSite: { stack?: string } = {};
  Error.captureStackTrace(callSite, withCallerStack);
  try {
    return await operation();
  } catch (error) {
    if (error instanceof Error && callSite.stack) {
      const callerFrames = callSite.stack.split('\n').slice(1).join('\n');
      error.stack = `${error.stack ?? `${error.name}: ${error.message}`}\n    --- async call site ---\n${callerFrames}`;
    }
    throw error;
  }
}
