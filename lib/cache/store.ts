/**
 * EngineCache: serialized TensorRT plans stored by key, safe against crashes, corruption and
 * concurrent processes. The policy lives here; the files are entries.ts's job, the locks lock.ts's,
 * the clean-up maintenance.ts's.
 *
 * The rules that make it safe:
 * - Readers never lock: they read the metadata, then the plan it names, and verify size and sha256.
 *   A failed check means real damage (disk, a person, a bug): the entry is reported and removed.
 * - Every change to an entry's files (write, eviction, removal of a corrupt entry, clean-up) happens
 *   under that key's lock, and removals delete the metadata first, so a reader sees a whole entry or
 *   none. Maintenance never waits for a lock: it skips entries that are busy.
 * - Writes go to temporary files that are fsynced and renamed (atomic-write.ts); a killed writer
 *   leaves only temporary files and at worst a plan without metadata, both removed by the next write.
 * - Last use is the metadata file's mtime, touched on every hit: nothing is rewritten to record a
 *   use, so a hit costs no write and cannot race a writer. `ls` and LRU eviction read it.
 * - The cache never fails a build: what goes wrong with it becomes a CacheWarning (warnings.ts).
 */
import { join, resolve } from 'node:path';
import { abortError } from '../core/abort.js';
import { ErrorCode, TensorRTNodeError } from '../core/errors.js';
import { expectFunction, expectOptions, expectString, invalidType, rejectUnknownOptions } from '../core/validate.js';
import { formatBytes } from '../core/units.js';
import {
  expectCacheKey,
  expectJsonSerializable,
  expectLimit,
  expectPlan,
  expectPositiveMs,
  expectSignal,
  toBuffer,
} from './arguments.js';
import { defaultCacheDirectory, layoutOf, prepareCacheDirectory } from './directory.js';
import { EntryFiles, type CacheEntryInfo } from './entries.js';
import { describeFileKind, fileIo, errnoCode, unlessMissing } from '../core/file-io.js';
import { keyIdFrom, type CacheKey } from './key.js';
import { FileLock, type LockState, type LockTiming } from './lock.js';
import { evictBeyond, removeEntries, removeLeftovers, type RemovedEntry, type StrayPath } from './maintenance.js';
import { removeCachePath } from './entries.js';
import { timingCacheFile, type TimingCacheFile } from './timing-cache.js';
import { CacheWarning, describeFailure, emitProcessWarning, type CacheWarningHandler } from './warnings.js';

/** 10 GiB: room for dozens of typical engines. */
export const DEFAULT_MAX_BYTES = 10 * 1024 ** 3;
/** How long getOrBuild and put wait for another process working on the same key. */
export const DEFAULT_LOCK_TIMEOUT_MS = 60 * 60_000;
/** A lock whose heartbeat (every 30 s) stopped this long ago is broken, whatever its holder. */
export const DEFAULT_STALE_LOCK_MS = 10 * 60_000;

/** Options of {@link EngineCache.open}. */
export interface EngineCacheOptions {
  /** Size limit for plans plus metadata; least recently used entries are evicted beyond it. Default 10 GiB; Infinity for none. */
  maxBytes?: number;
  /** Receives every CacheWarning; default: process.emitWarning. */
  onWarning?: CacheWarningHandler;
  /** Throw ERR_CACHE when the folder cannot be used, instead of warning and running with the cache off. */
  strict?: boolean;
  /** Default wait for another process's lock in getOrBuild and put. Default 1 hour. */
  lockTimeoutMs?: number;
  /** Locks whose heartbeat stopped this long ago are broken. Default 10 minutes. */
  staleLockMs?: number;
}
const openOptionNames = ['maxBytes', 'onWarning', 'strict', 'lockTimeoutMs', 'staleLockMs'] as const;

/**
 * An engine read from the cache: its plan, the metadata stored with it, and its entry.
 * @inline
 */
export interface CachedEngine<M = unknown> {
  plan: Buffer;
  metadata: M;
  entry: CacheEntryInfo;
}

/** What the `build` callback of {@link EngineCache.getOrBuild} resolves to. */
export interface BuiltEngine<M = unknown> {
  plan: Uint8Array;
  /** JSON-serializable facts about the engine (EngineMetadata, build report, ...). */
  metadata: M;
}

/** The result of {@link EngineCache.getOrBuild}. */
export interface GetOrBuildResult<M = unknown> {
  plan: Buffer;
  metadata: M;
  /** True when the plan came from the cache, including one another process just built. */
  hit: boolean;
}

/**
 * How long to wait for another process that holds the key's lock.
 * @inline
 */
export interface WaitOptions {
  /** Aborts waiting for the lock (ERR_ABORTED); getOrBuild also passes it to `build`. */
  signal?: AbortSignal;
  /** Overrides the lock timeout of open(); ERR_TIMEOUT after it. */
  timeoutMs?: number;
}

/**
 * What {@link EngineCache.prune} removes besides broken entries.
 * @inline
 */
export interface PruneOptions {
  /** Evict least recently used entries until the cache is at most this big (default: the cache's maxBytes). */
  maxBytes?: number;
  /** Remove entries last used longer ago than this. */
  olderThanMs?: number;
}

/**
 * What {@link EngineCache.prune} removed and what is left.
 * @inline
 */
export interface PruneResult {
  removed: RemovedEntry[];
  freedBytes: number;
  remainingEntries: number;
  remainingBytes: number;
  /** Entries another process was using (building or rewriting); they were left alone. */
  skippedBusy: string[];
  /** Leftovers of interrupted writers (temporary files, plans without metadata, stale locks). */
  leftoversRemoved: number;
  /**
   * What is not what its name says (a folder or FIFO at an entry's or lock's path): reported and left
   * alone; `clear` removes it.
   */
  strays: StrayPath[];
}

/**
 * What {@link EngineCache.clear} removed.
 * @inline
 */
export interface ClearResult {
  removed: RemovedEntry[];
  freedBytes: number;
  skippedBusy: string[];
  timingCachesRemoved: number;
  leftoversRemoved: number;
  /** What was not what its name says (a folder or FIFO at an entry's, lock's or timing cache's path), removed to repair the folder. */
  strays: StrayPath[];
}

const writeErrorsMeaningUnwritable = new Set(['EACCES', 'EPERM', 'EROFS']);

function writeFailureReason(error: unknown): 'unwritable' | 'write-failed' {
  return writeErrorsMeaningUnwritable.has(errnoCode(error) ?? '') ? 'unwritable' : 'write-failed';
}

/** One report per path (a stray can stand in the way of several passes). */
function uniqueStrays(strays: StrayPath[]): StrayPath[] {
  const byPath = new Map<string, StrayPath>();
  for (const stray of strays) if (!byPath.has(stray.path)) byPath.set(stray.path, stray);
  return [...byPath.values()];
}

function totalBytes(entries: Array<{ bytes: number }>): number {
  return entries.reduce((sum, entry) => sum + entry.bytes, 0);
}

/**
 * The engine cache: built engines and timing caches in an owner-only folder, keyed by everything that
 * changes an engine (model bytes, transforms, build options, TensorRT version, GPU). Entries are
 * written atomically and checked on every read; concurrent processes build a key once (a lock file
 * per key); least recently used entries are evicted beyond `maxBytes`. It never fails a build: what
 * goes wrong becomes a {@link CacheWarning}. `buildEngine` uses it on its own; open one to manage it.
 */
export class EngineCache {
  /** The cache folder (absolute). */
  readonly dir: string;
  readonly maxBytes: number;
  /** Why the cache is off (every get misses, nothing is stored), or null when it works. */
  readonly disabledReason: string | null;
  readonly #files: EntryFiles;
  readonly #warn: CacheWarningHandler;
  readonly #lockTimeoutMs: number;

  private constructor(
    files: EntryFiles,
    maxBytes: number,
    warn: CacheWarningHandler,
    lockTimeoutMs: number,
    disabledReason: string | null,
  ) {
    this.dir = files.layout.root;
    this.#files = files;
    this.maxBytes = maxBytes;
    this.#warn = warn;
    this.#lockTimeoutMs = lockTimeoutMs;
    this.disabledReason = disabledReason;
  }

  /**
   * Opens (creating it if needed) the cache folder: `dir`, else $TENSORRT_NODE_CACHE_DIR, else
   * $XDG_CACHE_HOME/tensorrt-node, else ~/.cache/tensorrt-node. A folder that cannot be used safely
   * (owned by another user, or readable by others and holding something else) gives a warning and a
   * disabled cache, or ERR_CACHE with `strict`.
   */
  static async open(dir?: string, options?: EngineCacheOptions): Promise<EngineCache> {
    if (dir !== undefined) expectString(dir, 'dir');
    const checked = expectOptions<EngineCacheOptions>(options);
    rejectUnknownOptions(checked, openOptionNames);
    const maxBytes = checked.maxBytes === undefined ? DEFAULT_MAX_BYTES : expectLimit(checked.maxBytes, 'options.maxBytes');
    const warn =
      checked.onWarning === undefined
        ? emitProcessWarning
        : expectFunction<CacheWarningHandler>(checked.onWarning, 'options.onWarning');
    const strict = checked.strict ?? false;
    if (typeof strict !== 'boolean') throw invalidType('a boolean', 'options.strict', strict);
    const lockTimeoutMs =
      checked.lockTimeoutMs === undefined
        ? DEFAULT_LOCK_TIMEOUT_MS
        : expectPositiveMs(checked.lockTimeoutMs, 'options.lockTimeoutMs');
    const staleLockMs =
      checked.staleLockMs === undefined ? DEFAULT_STALE_LOCK_MS : expectPositiveMs(checked.staleLockMs, 'options.staleLockMs');
    const root = resolve(dir ?? defaultCacheDirectory());
    const lockTiming: LockTiming = {
      staleAfterMs: staleLockMs,
      onStaleBroken: (state: LockState, path: string) => {
        const holder = state.holder
          ? `pid ${state.holder.pid} on ${state.holder.hostname}, taken ${state.holder.acquiredAt}`
          : 'an unreadable holder';
        warn(
          new CacheWarning(
            'stale-lock-broken',
            `Broke the stale engine cache lock ${path} (${holder}; its process is gone or silent for ${Math.round(state.ageMs / 1000)} s)`,
            { path, holder: state.holder },
          ),
        );
      },
    };
    try {
      const layout = await prepareCacheDirectory(root);
      return new EngineCache(new EntryFiles(layout, lockTiming), maxBytes, warn, lockTimeoutMs, null);
    } catch (error) {
      const problem =
        error instanceof TensorRTNodeError
          ? error
          : new TensorRTNodeError(ErrorCode.CACHE, `Cannot use the engine cache directory ${root} (${describeFailure(error)})`, {
              details: { reason: 'directory-unusable', directory: root },
              cause: error,
            });
      if (strict) throw problem;
      warn(
        new CacheWarning(
          'directory-unusable',
          `${problem.message}. The engine cache is off: engines are built but not cached`,
          { directory: root },
          problem,
        ),
      );
      return new EngineCache(new EntryFiles(layoutOf(root), lockTiming), maxBytes, warn, lockTimeoutMs, problem.message);
    }
  }

  /** The cached engine for `key` (a CacheKey or its id), or undefined: not cached, or damaged (then reported and removed). */
  async get<M = unknown>(key: CacheKey | string): Promise<CachedEngine<M> | undefined> {
    const id = keyIdFrom(key);
    if (this.disabledReason !== null) return undefined;
    return this.#read<M>(id);
  }

  async #read<M>(id: string): Promise<CachedEngine<M> | undefined> {
    const read = await this.#files.read(id);
    if (read.status === 'found') return { plan: read.plan, metadata: read.record.metadata as M, entry: read.info };
    if (read.status === 'unreadable') {
      this.#warn(
        new CacheWarning(
          'unreadable',
          `Engine cache entry ${id} cannot be read (${describeFailure(read.error)}); the engine will be rebuilt`,
          { key: id },
          read.error,
        ),
      );
    } else if (read.status === 'corrupt') {
      await this.#discardCorrupt(id, read.text, read.why);
    }
    return undefined;
  }

  /** Reports a corrupt entry and removes it, unless it changed meanwhile or a writer holds its lock. */
  async #discardCorrupt(id: string, judgedText: string, why: string): Promise<void> {
    let outcome = 'it was removed';
    try {
      const result = await this.#files.withLockIfFree(id, async () => {
        const current = await this.#files.metadataTextForComparison(id);
        if (current !== undefined && current !== judgedText) return 'replaced';
        await this.#files.remove(id);
        return 'removed';
      });
      if (result === 'busy') outcome = 'another process is rewriting it';
      else if (result === 'replaced') outcome = 'it was replaced meanwhile';
    } catch (error) {
      outcome = `it could not be removed (${describeFailure(error)}) and is ignored`;
    }
    this.#warn(
      new CacheWarning(
        'corrupt-entry',
        `Engine cache entry ${id} in ${this.dir} is corrupt (${why}); ${outcome}, and the engine will be rebuilt`,
        { key: id, why },
      ),
    );
  }

  /**
   * Stores `plan` with `metadata` under `key` (waiting for the key's lock), then evicts least
   * recently used entries beyond maxBytes. Never rejects for file-system reasons: returns false
   * after a CacheWarning when nothing could be stored (and then nothing partial is left).
   */
  async put<M>(key: CacheKey, plan: Uint8Array, metadata: M, options?: WaitOptions): Promise<boolean> {
    const checkedKey = expectCacheKey(key, 'key');
    expectPlan(plan, 'plan');
    expectJsonSerializable(metadata, 'metadata');
    const { signal, timeoutMs } = this.#waitOptions(options);
    if (this.disabledReason !== null) return false;
    const lock = await this.#acquireOrWarn(checkedKey.id, signal, timeoutMs, 'EngineCache.put', 'nothing was stored');
    if (!lock) return false;
    let stored: boolean;
    try {
      stored = await this.#store(checkedKey, toBuffer(plan), metadata);
    } finally {
      await lock.release();
    }
    if (stored) await this.#maintain(checkedKey.id);
    return stored;
  }

  #waitOptions(options: WaitOptions | undefined): { signal: AbortSignal | undefined; timeoutMs: number } {
    const checked = expectOptions<WaitOptions>(options);
    rejectUnknownOptions(checked, ['signal', 'timeoutMs']);
    return {
      signal: expectSignal(checked.signal, 'options.signal'),
      timeoutMs: checked.timeoutMs === undefined ? this.#lockTimeoutMs : expectPositiveMs(checked.timeoutMs, 'options.timeoutMs'),
    };
  }

  /** Waits for the key's lock; ERR_ABORTED/ERR_TIMEOUT propagate, file-system failures become a warning and undefined. */
  async #acquireOrWarn(
    id: string,
    signal: AbortSignal | undefined,
    timeoutMs: number,
    what: string,
    consequence: string,
  ): Promise<FileLock | undefined> {
    try {
      return await FileLock.acquire(this.#files.lockPath(id), { ...this.#files.lockTiming, signal, timeoutMs, what });
    } catch (error) {
      if (error instanceof TensorRTNodeError && (error.code === ErrorCode.ABORTED || error.code === ErrorCode.TIMEOUT))
        throw error;
      this.#warn(
        new CacheWarning(
          writeFailureReason(error),
          `The engine cache ${this.dir} cannot be written (${describeFailure(error)}); ${consequence}`,
          { key: id, directory: this.dir },
          error,
        ),
      );
      return undefined;
    }
  }

  /** Writes the entry; the caller holds the key's lock. False after a warning when it could not. */
  async #store(key: CacheKey, plan: Buffer, metadata: unknown): Promise<boolean> {
    if (plan.byteLength > this.maxBytes) {
      this.#warn(
        new CacheWarning(
          'too-large',
          `The engine for key ${key.id} (${formatBytes(plan.byteLength)}) is larger than the cache limit (${formatBytes(this.maxBytes)}); it was not cached`,
          { key: key.id, bytes: plan.byteLength },
        ),
      );
      return false;
    }
    try {
      await this.#files.write(key, plan, metadata);
      return true;
    } catch (error) {
      this.#warn(
        new CacheWarning(
          writeFailureReason(error),
          `The engine for key ${key.id} was not cached: writing to ${this.dir} failed (${describeFailure(error)})`,
          { key: key.id, directory: this.dir },
          error,
        ),
      );
      return false;
    }
  }

  /**
   * The engine for `key`: from the cache, or built by `build` and stored. Across processes, one
   * builds and the others wait for its lock and then read its entry. An abort while waiting or
   * building rejects with ERR_ABORTED and leaves no entry; a cache that cannot be written never
   * fails the build (the engine is returned, a CacheWarning says why it was not cached).
   */
  async getOrBuild<M>(
    key: CacheKey,
    build: (signal: AbortSignal | undefined) => Promise<BuiltEngine<M>>,
    options?: WaitOptions,
  ): Promise<GetOrBuildResult<M>> {
    const checkedKey = expectCacheKey(key, 'key');
    expectFunction(build, 'build');
    const { signal, timeoutMs } = this.#waitOptions(options);
    const what = 'EngineCache.getOrBuild';
    if (signal?.aborted) throw abortError(what, signal);
    if (this.disabledReason !== null) return this.#buildOnly(build, signal, what);
    const cached = await this.#read<M>(checkedKey.id);
    if (cached) return { plan: cached.plan, metadata: cached.metadata, hit: true };
    const lock = await this.#acquireOrWarn(checkedKey.id, signal, timeoutMs, what, 'the engine is built but not cached');
    if (!lock) return this.#buildOnly(build, signal, what);
    let stored = false;
    try {
      // Whoever held the lock before us may have built it.
      const builtMeanwhile = await this.#read<M>(checkedKey.id);
      if (builtMeanwhile) return { plan: builtMeanwhile.plan, metadata: builtMeanwhile.metadata, hit: true };
      const built = await this.#buildOnly(build, signal, what);
      stored = await this.#store(checkedKey, built.plan, built.metadata);
      return built;
    } finally {
      await lock.release();
      if (stored) await this.#maintain(checkedKey.id);
    }
  }

  async #buildOnly<M>(
    build: (signal: AbortSignal | undefined) => Promise<BuiltEngine<M>>,
    signal: AbortSignal | undefined,
    what: string,
  ): Promise<GetOrBuildResult<M>> {
    const built = await build(signal);
    if (typeof built !== 'object' || built === null)
      throw invalidType('an object { plan, metadata }', 'the result of build', built);
    const plan = expectPlan(built.plan, 'the plan returned by build');
    expectJsonSerializable(built.metadata, 'the metadata returned by build');
    // A build that finished after an abort is not used: the caller was promised ERR_ABORTED.
    if (signal?.aborted) throw abortError(what, signal);
    return { plan: toBuffer(plan), metadata: built.metadata, hit: false };
  }

  /** After a write: evict beyond the limit and clean leftovers. Best effort, never fails the caller. */
  async #maintain(protectId: string): Promise<void> {
    try {
      await evictBeyond(this.#files, this.maxBytes, protectId);
      await removeLeftovers(this.#files);
    } catch (error) {
      this.#warn(
        new CacheWarning(
          'write-failed',
          `Engine cache maintenance in ${this.dir} failed (${describeFailure(error)}); it is retried after the next write`,
          { directory: this.dir },
          error,
        ),
      );
    }
  }

  /** Every entry, most recently used first. Reads metadata only (no checksum of plans). */
  async list(): Promise<CacheEntryInfo[]> {
    return this.disabledReason === null ? this.#files.list() : [];
  }

  /**
   * Removes broken entries, entries unused for `olderThanMs`, then least recently used entries
   * beyond `maxBytes` (default: this cache's limit), and the leftovers of interrupted writers.
   * Entries other processes are using are skipped and listed.
   */
  async prune(options?: PruneOptions): Promise<PruneResult> {
    const checked = expectOptions<PruneOptions>(options);
    rejectUnknownOptions(checked, ['maxBytes', 'olderThanMs']);
    const maxBytes = checked.maxBytes === undefined ? this.maxBytes : expectLimit(checked.maxBytes, 'options.maxBytes');
    const olderThanMs = checked.olderThanMs === undefined ? undefined : expectLimit(checked.olderThanMs, 'options.olderThanMs');
    const result: PruneResult = {
      removed: [],
      freedBytes: 0,
      remainingEntries: 0,
      remainingBytes: 0,
      skippedBusy: [],
      leftoversRemoved: 0,
      strays: [],
    };
    if (this.disabledReason !== null) return result;
    const entries = await this.#files.list();
    const cutoff = olderThanMs === undefined ? undefined : new Date(Date.now() - olderThanMs).toISOString();
    const removals = [
      await removeEntries(
        this.#files,
        entries.filter((entry) => entry.problem !== null),
        'broken',
      ),
      await removeEntries(
        this.#files,
        entries.filter((entry) => entry.problem === null && cutoff !== undefined && entry.lastUsedAt < cutoff),
        'older-than',
      ),
      await evictBeyond(this.#files, maxBytes),
    ];
    for (const removal of removals) {
      result.removed.push(...removal.removed);
      result.skippedBusy.push(...removal.skippedBusy);
      result.strays.push(...removal.strays);
    }
    const leftovers = await removeLeftovers(this.#files);
    result.leftoversRemoved = leftovers.removed;
    result.strays = uniqueStrays([...result.strays, ...leftovers.strays]);
    const remaining = await this.#files.list();
    result.freedBytes = totalBytes(result.removed);
    result.remainingEntries = remaining.length;
    result.remainingBytes = totalBytes(remaining);
    return result;
  }

  /**
   * Removes every entry and timing cache (entries another process is using are skipped and listed),
   * and repairs the folder: folders and special files at an entry's, lock's or timing cache's path
   * are removed too (listed in `strays`).
   */
  async clear(): Promise<ClearResult> {
    const result: ClearResult = {
      removed: [],
      freedBytes: 0,
      skippedBusy: [],
      timingCachesRemoved: 0,
      leftoversRemoved: 0,
      strays: [],
    };
    if (this.disabledReason !== null) return result;
    // Leftovers first: a lock path holding a folder would keep its entry from being removed.
    const leftovers = await removeLeftovers(this.#files, { repair: true });
    const removal = await removeEntries(this.#files, await this.#files.list(), 'cleared', { repair: true });
    result.removed = removal.removed;
    result.skippedBusy = removal.skippedBusy;
    result.strays = [...leftovers.strays, ...removal.strays.map((stray) => ({ ...stray, removed: false }))];
    const timingFolder = this.#files.layout.timing;
    for (const name of (await unlessMissing(() => fileIo.readdir(timingFolder))) ?? []) {
      if (!name.endsWith('.timing')) continue;
      const path = join(timingFolder, name);
      const stats = await unlessMissing(() => fileIo.lstat(path));
      if (!stats) continue;
      if (!stats.isFile())
        result.strays.push({
          path,
          problem: `${describeFileKind(stats)} where the engine cache keeps a timing cache`,
          removed: true,
        });
      if (await removeCachePath(path, { repair: true })) result.timingCachesRemoved += stats.isFile() ? 1 : 0;
    }
    result.leftoversRemoved = leftovers.removed + (await removeLeftovers(this.#files, { repair: true })).removed;
    result.freedBytes = totalBytes(result.removed);
    return result;
  }

  /** The timing cache for one TensorRT version and GPU: read before a build, rewritten after it. */
  timingCache(tensorrtVersion: string, gpu: { uuid: string; computeCapability: string }): TimingCacheFile {
    const file = timingCacheFile(this.#files.layout.timing, tensorrtVersion, gpu, this.#warn);
    if (this.disabledReason === null) return file;
    return { path: file.path, read: async () => undefined, write: async () => false, discard: async () => undefined };
  }
}
