/**
 * The cache never fails a build: what goes wrong with it (a corrupt entry, an unwritable directory,
 * a full disk) becomes a warning, delivered to the `onWarning` hook or, by default, to
 * process.emitWarning with code ERR_CACHE, and the caller carries on without the cache.
 */
import { ErrorCode, TensorRTNodeError } from '../core/errors.js';
import { systemErrorOf } from '../core/file-io.js';

/** Which kind of cache trouble a {@link CacheWarning} reports. */
export type CacheWarningReason =
  /** The directory cannot be used at all (cannot be created, wrong owner, loose permissions); the cache is off. */
  | 'directory-unusable'
  /** Nothing could be written (no lock, no entry): the engine was built but not cached. */
  | 'unwritable'
  /** Writing an entry failed part-way (disk full, I/O error); nothing partial was left. */
  | 'write-failed'
  /** An entry failed its checks (checksum, size, metadata, missing plan) and was removed. */
  | 'corrupt-entry'
  /** An entry or its metadata could not be read (permissions, I/O error). */
  | 'unreadable'
  /** A timing cache failed its checks and was removed; the builder starts a fresh one. */
  | 'corrupt-timing-cache'
  /** The lock of a dead (or silent) process was broken. */
  | 'stale-lock-broken'
  /** The plan alone is larger than the size limit, so it was not cached. */
  | 'too-large';

/** A warning from the engine cache; `details.reason` says which kind. */
export class CacheWarning extends TensorRTNodeError {
  declare details: { reason: CacheWarningReason; [fact: string]: unknown };
  constructor(reason: CacheWarningReason, message: string, details: Record<string, unknown> = {}, cause?: unknown) {
    super(ErrorCode.CACHE, message, { details: { reason, ...details }, cause });
  }
}

/**
 * Receives the cache's warnings instead of process.emitWarning.
 * @inline
 */
export type CacheWarningHandler = (warning: CacheWarning) => void;

/** The default: a process warning (printed once by Node as "(node:pid) [ERR_CACHE] CacheWarning: ..."). */
export const emitProcessWarning: CacheWarningHandler = (warning) => {
  process.emitWarning(warning);
};

/** "EACCES: permission denied" from a system error (also behind the atomic writer's ERR_IO), for warning messages. */
export function describeFailure(failure: unknown): string {
  const error = systemErrorOf(failure);
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && !error.message.startsWith(code) ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}
