/**
 * A cross-process lock made of one file, so that N processes wanting the same engine build it once.
 *
 * - Taking it is atomic and the file is complete from its first instant: the holder's identity is
 *   written to a temporary file that is then hard-linked to the lock name (link fails with EEXIST
 *   when the lock exists, like O_EXCL, but a reader can never see an empty lock file). File systems
 *   without hard links fall back to O_EXCL.
 * - The holder refreshes the file's mtime (a heartbeat) while it holds it.
 * - A lock is stale when its holder is dead (same host: pid gone, or reused by a process that started
 *   later, or a zombie) or when its heartbeat stopped for `staleAfterMs` (the only test possible for
 *   another host's holder). A stale lock is broken by renaming it aside first and checking that what
 *   was renamed is the very lock judged stale, so two waiters breaking it at once cannot remove a
 *   fresh lock that a third process just took.
 * - Nothing here can corrupt an entry even if two processes ever held one key at once: plans are
 *   content-addressed and the metadata rename is atomic (see store.ts); the cost would be one
 *   duplicate build.
 */
import { randomBytes } from 'node:crypto';
import { ErrorCode, TensorRTNodeError } from '../core/errors.js';
import { formatDuration } from '../core/units.js';
import { abortError } from '../core/abort.js';
import { temporaryPathFor } from '../core/atomic-write.js';
import { fileIo, errnoCode, NotRegularFileError, readRegularFile, removeFile, unlessMissing } from '../core/file-io.js';
import { currentProcess, processState } from '../core/process-identity.js';

/** What a lock file says about its holder. */
export interface LockHolder {
  pid: number;
  hostname: string;
  hostTag: string;
  startTicks: number | null;
  acquiredAt: string;
  /** Random per acquisition: tells this lock from a later one of the same process. */
  nonce: string;
}

export interface LockState {
  /** null when the file could not be parsed (written by a file system without hard links, mid-write). */
  holder: LockHolder | null;
  /** Time since the last heartbeat. */
  ageMs: number;
}

export interface LockTiming {
  /** A lock whose heartbeat stopped this long ago is broken, whoever holds it. */
  staleAfterMs: number;
  /** How often the holder refreshes its lock; default staleAfterMs / 4, at most 30 s. */
  heartbeatMs?: number;
  /** Told about each stale lock that was broken (the store turns it into a warning). */
  onStaleBroken?: (state: LockState, path: string) => void;
}

export interface AcquireOptions extends LockTiming {
  signal?: AbortSignal | undefined;
  timeoutMs: number;
  /** What is waiting, for error messages ("EngineCache.getOrBuild"). */
  what: string;
}

function isLockHolder(value: unknown): value is LockHolder {
  const holder = value as Partial<LockHolder> | null;
  return (
    typeof holder === 'object' &&
    holder !== null &&
    Number.isSafeInteger(holder.pid) &&
    typeof holder.hostname === 'string' &&
    typeof holder.hostTag === 'string' &&
    (holder.startTicks === null || Number.isSafeInteger(holder.startTicks)) &&
    typeof holder.acquiredAt === 'string' &&
    typeof holder.nonce === 'string'
  );
}

/** A lock file holds one small JSON object; anything bigger is not one of ours. */
const MAX_LOCK_FILE_BYTES = 64 * 1024;

/**
 * ERR_CACHE for a lock path that holds something other than a lock file (a folder, a FIFO, a link):
 * it can never be taken, and waiting for it would wait forever. `cache clear` removes it.
 */
export function unusableLockError(path: string, kind: string): TensorRTNodeError {
  return new TensorRTNodeError(
    ErrorCode.CACHE,
    `The engine cache lock ${path} is ${kind}, not a lock file; run \`tensorrt-node cache clear --yes\` to repair the cache folder`,
    {
      details: { reason: 'unusable-lock', lockPath: path, kind },
    },
  );
}

async function readLockFile(path: string): Promise<LockState | undefined> {
  return unlessMissing(async () => {
    let text: string;
    try {
      // A regular file only: a FIFO there would block the read forever, a folder fail with EISDIR.
      text = await readRegularFile(path, MAX_LOCK_FILE_BYTES, 'utf8');
    } catch (error) {
      if (error instanceof NotRegularFileError) throw unusableLockError(path, error.kind);
      if (errnoCode(error) === 'EFBIG') throw unusableLockError(path, 'a file too large to be a lock');
      throw error;
    }
    const stats = await fileIo.lstat(path);
    let holder: LockHolder | null;
    try {
      const parsed: unknown = JSON.parse(text);
      holder = isLockHolder(parsed) ? parsed : null;
    } catch {
      holder = null;
    }
    return { holder, ageMs: Date.now() - stats.mtimeMs };
  });
}

function isStale(state: LockState, staleAfterMs: number): boolean {
  if (state.ageMs > staleAfterMs) return true;
  return state.holder !== null && processState(state.holder) === 'dead';
}

async function writeNewFile(path: string, content: string): Promise<void> {
  const handle = await fileIo.open(path, 'wx', 0o600);
  try {
    await fileIo.writeChunk(handle, Buffer.from(content), 0);
  } catch (error) {
    // A full disk creates the file and then refuses its bytes: an empty lock file would read as a
    // holder mid-write and make every other builder wait until it is judged stale.
    await handle.close().catch(() => undefined);
    await removeFile(path).catch(() => undefined);
    throw error;
  }
  await handle.close();
}

/** Creates the lock file holding `holder`; false when it already exists. */
async function createLockFile(path: string, holder: LockHolder): Promise<boolean> {
  const content = JSON.stringify(holder);
  const temporaryPath = temporaryPathFor(path);
  await writeNewFile(temporaryPath, content);
  try {
    await fileIo.link(temporaryPath, path);
    return true;
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw error;
  } finally {
    await removeFile(temporaryPath).catch(() => undefined);
  }
  try {
    await writeNewFile(path, content);
    return true;
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') return false;
    throw error;
  }
}

function sameLock(a: LockHolder | null, b: LockHolder | null): boolean {
  return a === null || b === null ? a === b : a.nonce === b.nonce;
}

/** Breaks the stale lock `seen` (see the module comment for why it is renamed aside first). */
async function breakStaleLock(path: string, seen: LockState): Promise<void> {
  const asidePath = temporaryPathFor(path);
  try {
    await fileIo.rename(path, asidePath);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return;
    throw error;
  }
  const moved = await readLockFile(asidePath);
  if (moved && !sameLock(moved.holder, seen.holder)) {
    // A fresh lock was taken between our read and the rename: put it back unless yet another exists.
    await fileIo.link(asidePath, path).catch(() => undefined);
  }
  await removeFile(asidePath);
}

function sleep(milliseconds: number, signal: AbortSignal | undefined, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(what, signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, milliseconds);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export type TryAcquireResult = { lock: FileLock; busy?: undefined } | { lock?: undefined; busy: LockState };

/** A held lock; `release()` is idempotent. */
export class FileLock {
  readonly path: string;
  readonly holder: LockHolder;
  #heartbeat: ReturnType<typeof setInterval> | undefined;

  private constructor(path: string, holder: LockHolder, heartbeatMs: number) {
    this.path = path;
    this.holder = holder;
    this.#heartbeat = setInterval(() => {
      const now = new Date();
      fileIo.utimes(path, now, now).catch(() => undefined);
    }, heartbeatMs);
    this.#heartbeat.unref();
  }

  /** Takes the lock if it is free or stale; otherwise says who holds it. Never waits. */
  static async tryAcquire(path: string, timing: LockTiming): Promise<TryAcquireResult> {
    const self = currentProcess();
    const holder: LockHolder = { ...self, acquiredAt: new Date().toISOString(), nonce: randomBytes(8).toString('hex') };
    const heartbeatMs = timing.heartbeatMs ?? Math.min(30_000, Math.max(10, Math.floor(timing.staleAfterMs / 4)));
    let busy: LockState = { holder: null, ageMs: 0 };
    // A few rounds: the lock can be released or broken by someone else between our steps.
    for (let round = 0; round < 5; round++) {
      if (await createLockFile(path, holder)) return { lock: new FileLock(path, holder, heartbeatMs) };
      const state = await readLockFile(path);
      if (!state) continue;
      busy = state;
      if (!isStale(state, timing.staleAfterMs)) return { busy: state };
      await breakStaleLock(path, state);
      timing.onStaleBroken?.(state, path);
    }
    return { busy };
  }

  /**
   * Waits for the lock, polling with a growing, jittered interval (20 ms to 500 ms). Rejects with
   * ERR_ABORTED when `signal` aborts and ERR_TIMEOUT after `timeoutMs`; file-system errors (EACCES,
   * EROFS, ENOSPC) are passed through for the caller to decide.
   */
  static async acquire(path: string, options: AcquireOptions): Promise<FileLock> {
    const { signal, timeoutMs, what } = options;
    const deadline = Date.now() + timeoutMs;
    let pollMs = 20;
    while (true) {
      if (signal?.aborted) throw abortError(what, signal);
      const result = await FileLock.tryAcquire(path, options);
      if (result.lock) {
        if (signal?.aborted) {
          await result.lock.release();
          throw abortError(what, signal);
        }
        return result.lock;
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        const holder = result.busy.holder;
        const who = holder
          ? `pid ${holder.pid} on ${holder.hostname} since ${holder.acquiredAt}`
          : 'a process that left no readable identity';
        throw new TensorRTNodeError(
          ErrorCode.TIMEOUT,
          `${what} timed out after ${formatDuration(timeoutMs)} waiting for the lock ${path}, held by ${who}`,
          {
            details: { lockPath: path, holder },
          },
        );
      }
      await sleep(Math.min(remaining, pollMs * (0.5 + Math.random() / 2)), signal, what);
      pollMs = Math.min(500, pollMs * 1.5);
    }
  }

  /** Stops the heartbeat and removes the lock file, if it is still ours. */
  async release(): Promise<void> {
    if (this.#heartbeat === undefined) return;
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
    const state = await readLockFile(this.path).catch(() => undefined);
    if (state && sameLock(state.holder, this.holder)) await removeFile(this.path).catch(() => undefined);
  }
}
