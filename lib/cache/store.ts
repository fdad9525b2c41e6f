/**
 * The engine cache: serialized TensorRT plans stored by key, safe against crashes, corruption and
 * concurrent processes.
 *
 * On disk (all owner-only), under the cache folder:
 *   engines/<id>.json               metadata: checksum and size of the plan, times, key parts, the
 *                                   builder's metadata; written last, so it never names a missing plan
 *   engines/<id>.<sha16>.plan       the plan; its name carries its checksum (content-addressed), so a
 *                                   metadata file and the plan it names always belong together
 *   locks/<id>.lock                 held while one process builds or changes that entry
 *   timing/<sha16>.timing           timing caches (timing-cache.ts)
 *
 * The rules that make it safe:
 * - Readers never lock: they read the metadata, then the plan it names, and verify size and sha256.
 *   A failed check means real damage (disk, a person, a bug): the entry is reported and removed.
 * - Every change to an entry's files (write, eviction, removal of a corrupt entry, clean-up) happens
 *   under that key's lock, and removals delete the metadata first, so a reader sees a whole entry or
 *   none. Maintenance never waits for a lock: it skips entries that are busy.
 * - Writes go to temporary files that are fsynced and renamed (atomic-write.ts); a killed writer leaves
 *   only temporary files and at worst a plan without metadata, both removed later.
 * - Last use is the metadata file's mtime, touched on every hit: nothing is rewritten to record a use,
 *   so a hit costs no write and cannot race a writer. `ls` and LRU eviction read it.
 */
import { resolve, join } from 'node:path';
import { ArgumentTypeError, ErrorCode, TensorRTNodeError } from '../errors.js';
import { describeValue, expectFunction, expectOptions, expectString, invalidType, invalidValue, rejectUnknownOptions } from '../validate.js';
import { formatBytes } from '../units.js';
import { sweepTemporaryFiles, syncDirectory, writeFileAtomic } from './atomic-write.js';
import { sha256Hex } from './canonical.js';
import { defaultCacheDirectory, prepareCacheDirectory, layoutOf, type CacheLayout } from './directory.js';
import { cacheIo, errnoCode, removeFile, unlessMissing } from './io.js';
import { isCacheKeyId, keyIdFrom, keyIdOf, type CacheKey, type CanonicalKeyParts } from './key.js';
import { FileLock, abortedError, type LockState } from './lock.js';
import { timingCacheFile, type TimingCacheFile } from './timing-cache.js';
import { CacheWarning, describeFailure, emitProcessWarning, type CacheWarningHandler } from './warnings.js';

/** 10 GiB: room for dozens of typical engines. */
export const DEFAULT_MAX_BYTES = 10 * 1024 ** 3;
/** How long getOrBuild waits for another process building the same engine. */
export const DEFAULT_LOCK_TIMEOUT_MS = 60 * 60_000;
/** A lock whose heartbeat (every 30 s) stopped this long ago is broken, whatever its holder. */
export const DEFAULT_STALE_LOCK_MS = 10 * 60_000;
/** Temporary files of writers on other hosts (whose liveness cannot be checked) are removed after this. */
const FOREIGN_TEMPORARY_MAX_AGE_MS = 24 * 60 * 60_000;

const recordFormat = 1;
const planNamePattern = /^([0-9a-f]{64})\.([0-9a-f]{16})\.plan$/;
const metadataNamePattern = /^([0-9a-f]{64})\.json$/;

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

/** What `list()` says about one entry (and `get()` about the entry it returns). */
export interface CacheEntryInfo {
  key: string;
  label: string | null;
  /** Plan plus metadata, as counted against the size limit. */
  bytes: number;
  planBytes: number;
  sha256: string | null;
  createdAt: string | null;
  /** The metadata file's mtime: set when the entry is written, touched by every hit. */
  lastUsedAt: string;
  parts: CanonicalKeyParts | null;
  /** Why the entry cannot be used (get() would remove it, prune removes it); null when it looks fine. */
  problem: string | null;
}

export interface CachedEngine<M = unknown> {
  plan: Buffer;
  metadata: M;
  entry: CacheEntryInfo;
}

export interface BuiltEngine<M = unknown> {
  plan: Uint8Array;
  /** JSON-serializable facts about the engine (EngineMetadata, build report, ...). */
  metadata: M;
}

export interface GetOrBuildResult<M = unknown> {
  plan: Buffer;
  metadata: M;
  /** True when the plan came from the cache, including one another process just built. */
  hit: boolean;
}

export interface WaitOptions {
  /** Aborts waiting for the lock (ERR_ABORTED); getOrBuild also passes it to `build`. */
  signal?: AbortSignal;
  /** Overrides the lock timeout of open(); ERR_TIMEOUT after it. */
  timeoutMs?: number;
}

export interface PruneOptions {
  /** Evict least recently used entries until the cache is at most this big (default: the cache's maxBytes). */
  maxBytes?: number;
  /** Remove entries last used longer ago than this. */
  olderThanMs?: number;
}

export interface RemovedEntry {
  key: string;
  bytes: number;
  reason: 'broken' | 'older-than' | 'size-limit' | 'cleared';
}

export interface PruneResult {
  removed: RemovedEntry[];
  freedBytes: number;
  remainingEntries: number;
  remainingBytes: number;
  /** Entries another process was using (building or rewriting); they were left alone. */
  skippedBusy: string[];
  /** Leftovers of interrupted writers (temporary files, plans without metadata, stale locks). */
  leftoversRemoved: number;
}

export interface ClearResult {
  removed: RemovedEntry[];
  freedBytes: number;
  skippedBusy: string[];
  timingCachesRemoved: number;
  leftoversRemoved: number;
}

interface EntryRecord {
  format: typeof recordFormat;
  key: string;
  label: string | null;
  plan: { file: string; bytes: number; sha256: string };
  createdAt: string;
  parts: CanonicalKeyParts;
  metadata: unknown;
}

/** Checks a parsed metadata file; returns why it is unusable, or the record. */
function checkRecord(value: unknown, id: string): EntryRecord | string {
  const record = value as Partial<EntryRecord> | null;
  if (typeof record !== 'object' || record === null) return 'its metadata is not an object';
  if (record.format !== recordFormat) return `its metadata has format ${JSON.stringify(record.format)}, expected ${recordFormat}`;
  if (record.key !== id) return 'its metadata belongs to another key';
  const plan = record.plan;
  if (typeof plan !== 'object' || plan === null || typeof plan.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(plan.sha256)) return 'its metadata has no valid plan checksum';
  if (!Number.isSafeInteger(plan.bytes) || plan.bytes < 0) return 'its metadata has no valid plan size';
  if (plan.file !== `${id}.${plan.sha256.slice(0, 16)}.plan`) return 'its metadata names an unexpected plan file';
  if (typeof record.createdAt !== 'string') return 'its metadata has no creation time';
  if (typeof record.parts !== 'object' || record.parts === null) return 'its metadata has no key parts';
  try {
    if (keyIdOf(record.parts) !== id) return 'its key parts do not hash to its key';
  } catch {
    return 'its key parts are malformed';
  }
  if (!('metadata' in record)) return 'its metadata lacks the builder metadata';
  return record as EntryRecord;
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function expectLimit(value: unknown, name: string): number {
  if (typeof value !== 'number') throw invalidType('a non-negative integer or Infinity', name, value);
  if (value !== Infinity && (!Number.isSafeInteger(value) || value < 0)) throw invalidValue('a non-negative integer or Infinity', name, value);
  return value;
}

function expectPositiveMs(value: unknown, name: string): number {
  if (typeof value !== 'number') throw invalidType('a positive number of milliseconds or Infinity', name, value);
  if (Number.isNaN(value) || value <= 0) throw invalidValue('a positive number of milliseconds or Infinity', name, value);
  return value;
}

function expectSignal(value: unknown, name: string): AbortSignal | undefined {
  if (value !== undefined && !(value instanceof AbortSignal)) throw invalidType('an AbortSignal', name, value);
  return value;
}

function expectCacheKey(value: unknown, name: string): CacheKey {
  const key = value as Partial<CacheKey> | null;
  if (typeof key !== 'object' || key === null || !isCacheKeyId(key.id) || typeof key.parts !== 'object' || key.parts === null) {
    throw new ArgumentTypeError(`Expected a CacheKey from cacheKey() for ${name} but received ${describeValue(value)}`, ErrorCode.INVALID_ARGUMENT);
  }
  return key as CacheKey;
}

function expectPlan(value: unknown, name: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw invalidType('a Uint8Array', name, value);
  if (value.byteLength === 0) throw invalidValue('a non-empty Uint8Array', name, value);
  return value;
}

function serializeMetadata(value: unknown, name: string): void {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new ArgumentTypeError(`Expected JSON-serializable data for ${name} but received ${describeValue(value)} (${describeFailure(error)})`, ErrorCode.INVALID_ARGUMENT);
  }
  if (text === undefined) throw invalidType('JSON-serializable data', name, value);
}

const writeErrorsMeaningUnwritable = new Set(['EACCES', 'EPERM', 'EROFS']);

export class EngineCache {
  /** The cache folder (absolute). */
  readonly dir: string;
  readonly maxBytes: number;
  /** Why the cache is off (every get misses, nothing is stored), or null when it works. */
  readonly disabledReason: string | null;
  readonly #layout: CacheLayout;
  readonly #warn: CacheWarningHandler;
  readonly #lockTimeoutMs: number;
  readonly #staleLockMs: number;

  private constructor(layout: CacheLayout, maxBytes: number, warn: CacheWarningHandler, lockTimeoutMs: number, staleLockMs: number, disabledReason: string | null) {
    this.dir = layout.root;
    this.#layout = layout;
    this.maxBytes = maxBytes;
    this.#warn = warn;
    this.#lockTimeoutMs = lockTimeoutMs;
    this.#staleLockMs = staleLockMs;
    this.disabledReason = disabledReason;
  }

  /**
   * Opens (creating it if needed) the cache folder: `dir`, else $TENSORRT_NODE_CACHE_DIR, else
   * $XDG_CACHE_HOME/tensorrt-node, else ~/.cache/tensorrt-node. A folder that cannot be used safely
   * (see directory.ts) gives a warning and a disabled cache, or ERR_CACHE with `strict`.
   */
  static async open(dir?: string, options?: EngineCacheOptions): Promise<EngineCache> {
    if (dir !== undefined) expectString(dir, 'dir');
    const checked = expectOptions<EngineCacheOptions>(options);
    rejectUnknownOptions(checked, openOptionNames);
    const maxBytes = checked.maxBytes === undefined ? DEFAULT_MAX_BYTES : expectLimit(checked.maxBytes, 'options.maxBytes');
    const warn = checked.onWarning === undefined ? emitProcessWarning : expectFunction<CacheWarningHandler>(checked.onWarning, 'options.onWarning');
    const strict = checked.strict === undefined ? false : checked.strict;
    if (typeof strict !== 'boolean') throw invalidType('a boolean', 'options.strict', strict);
    const lockTimeoutMs = checked.lockTimeoutMs === undefined ? DEFAULT_LOCK_TIMEOUT_MS : expectPositiveMs(checked.lockTimeoutMs, 'options.lockTimeoutMs');
    const staleLockMs = checked.staleLockMs === undefined ? DEFAULT_STALE_LOCK_MS : expectPositiveMs(checked.staleLockMs, 'options.staleLockMs');
    const root = resolve(dir ?? defaultCacheDirectory());
    try {
      const layout = await prepareCacheDirectory(root);
      return new EngineCache(layout, maxBytes, warn, lockTimeoutMs, staleLockMs, null);
    } catch (error) {
      const problem =
        error instanceof TensorRTNodeError
          ? error
          : new TensorRTNodeError(ErrorCode.CACHE, `Cannot use the engine cache directory ${root} (${describeFailure(error)})`, { details: { reason: 'directory-unusable', directory: root }, cause: error });
      if (strict) throw problem;
      warn(new CacheWarning('directory-unusable', `${problem.message}. The engine cache is off: engines are built but not cached`, { directory: root }, problem));
      return new EngineCache(layoutOf(root), maxBytes, warn, lockTimeoutMs, staleLockMs, problem.message);
    }
  }

  #metadataPath(id: string): string {
    return join(this.#layout.engines, `${id}.json`);
  }

  #lockPath(id: string): string {
    return join(this.#layout.locks, `${id}.lock`);
  }

  #lockTiming() {
    return {
      staleAfterMs: this.#staleLockMs,
      onStaleBroken: (state: LockState, path: string) => {
        const holder = state.holder ? `pid ${state.holder.pid} on ${state.holder.hostname}, taken ${state.holder.acquiredAt}` : 'an unreadable holder';
        this.#warn(new CacheWarning('stale-lock-broken', `Broke the stale engine cache lock ${path} (${holder}; its process is gone or silent for ${Math.round(state.ageMs / 1000)} s)`, { path, holder: state.holder }));
      },
    };
  }

  /** The cached engine for `key` (a CacheKey or its id), or undefined: not cached, or corrupt (reported, removed). */
  async get<M = unknown>(key: CacheKey | string): Promise<CachedEngine<M> | undefined> {
    const id = keyIdFrom(key);
    if (this.disabledReason !== null) return undefined;
    return this.#read<M>(id);
  }

  async #read<M>(id: string): Promise<CachedEngine<M> | undefined> {
    const metadataPath = this.#metadataPath(id);
    // Two rounds: the entry can be replaced between reading its metadata and its plan.
    for (let round = 0; round < 2; round++) {
      let text: string | undefined;
      try {
        text = await unlessMissing(() => cacheIo.readFile(metadataPath, 'utf8'));
      } catch (error) {
        this.#warn(new CacheWarning('unreadable', `Engine cache entry ${id} cannot be read (${describeFailure(error)}); the engine will be rebuilt`, { key: id }, error));
        return undefined;
      }
      if (text === undefined) return undefined;
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        await this.#discardCorrupt(id, text, 'its metadata is not valid JSON');
        return undefined;
      }
      const record = checkRecord(parsed, id);
      if (typeof record === 'string') {
        await this.#discardCorrupt(id, text, record);
        return undefined;
      }
      let plan: Buffer | undefined;
      try {
        plan = await unlessMissing(() => cacheIo.readFile(join(this.#layout.engines, record.plan.file)));
      } catch (error) {
        this.#warn(new CacheWarning('unreadable', `Engine cache entry ${id} cannot be read (${describeFailure(error)}); the engine will be rebuilt`, { key: id }, error));
        return undefined;
      }
      if (!plan) {
        const now = await unlessMissing(() => cacheIo.readFile(metadataPath, 'utf8')).catch(() => undefined);
        if (now === undefined) return undefined; // evicted or cleared while we read it
        if (now !== text) continue; // replaced while we read it
        await this.#discardCorrupt(id, text, 'its plan file is missing');
        return undefined;
      }
      if (plan.byteLength !== record.plan.bytes) {
        await this.#discardCorrupt(id, text, `its plan holds ${plan.byteLength} bytes but its metadata says ${record.plan.bytes}`);
        return undefined;
      }
      if (sha256Hex(plan) !== record.plan.sha256) {
        await this.#discardCorrupt(id, text, 'the checksum of its plan does not match its metadata');
        return undefined;
      }
      const now = new Date();
      // Recording the use is best effort: a read-only cache still serves its engines.
      await cacheIo.utimes(metadataPath, now, now).catch(() => undefined);
      const entry: CacheEntryInfo = {
        key: id,
        label: record.label,
        bytes: plan.byteLength + Buffer.byteLength(text),
        planBytes: plan.byteLength,
        sha256: record.plan.sha256,
        createdAt: record.createdAt,
        lastUsedAt: now.toISOString(),
        parts: record.parts,
        problem: null,
      };
      return { plan, metadata: record.metadata as M, entry };
    }
    return undefined;
  }

  /** Reports a corrupt entry and removes it, unless it changed meanwhile or a writer holds its lock. */
  async #discardCorrupt(id: string, judgedText: string, why: string): Promise<void> {
    let outcome = 'it was removed';
    try {
      const result = await this.#withLockIfFree(id, async () => {
        const current = await unlessMissing(() => cacheIo.readFile(this.#metadataPath(id), 'utf8'));
        if (current !== judgedText && current !== undefined) return 'replaced';
        await this.#removeEntryFiles(id);
        return 'removed';
      });
      if (result === 'busy') outcome = 'another process is rewriting it';
      else if (result === 'replaced') outcome = 'it was replaced meanwhile';
    } catch (error) {
      outcome = `it could not be removed (${describeFailure(error)}) and is ignored`;
    }
    this.#warn(new CacheWarning('corrupt-entry', `Engine cache entry ${id} in ${this.dir} is corrupt (${why}); ${outcome}, and the engine will be rebuilt`, { key: id, why }));
  }

  /** Runs `action` under the key's lock if nobody holds it; 'busy' otherwise. Never waits. */
  async #withLockIfFree<T>(id: string, action: () => Promise<T>): Promise<T | 'busy'> {
    const attempt = await FileLock.tryAcquire(this.#lockPath(id), this.#lockTiming());
    if (!attempt.lock) return 'busy';
    try {
      return await action();
    } finally {
      await attempt.lock.release();
    }
  }

  /** Deletes an entry: metadata first (readers then see no entry), then every plan of its key. */
  async #removeEntryFiles(id: string): Promise<void> {
    await removeFile(this.#metadataPath(id));
    for (const name of await this.#planFilesOf(id)) await removeFile(join(this.#layout.engines, name));
  }

  async #planFilesOf(id: string): Promise<string[]> {
    const names = (await unlessMissing(() => cacheIo.readdir(this.#layout.engines))) ?? [];
    return names.filter((name) => name.startsWith(`${id}.`) && planNamePattern.test(name));
  }

  /** Removes plans of `id` that its metadata does not name (old versions, interrupted writes). Under the key lock. */
  async #removeUnreferencedPlans(id: string): Promise<number> {
    const text = await unlessMissing(() => cacheIo.readFile(this.#metadataPath(id), 'utf8')).catch(() => undefined);
    let keep: string | undefined;
    try {
      keep = text === undefined ? undefined : (JSON.parse(text) as EntryRecord).plan?.file;
    } catch {
      keep = undefined;
    }
    let removed = 0;
    for (const name of await this.#planFilesOf(id)) {
      if (name === keep) continue;
      await removeFile(join(this.#layout.engines, name));
      removed++;
    }
    return removed;
  }

  /**
   * Stores `plan` with `metadata` under `key` (waiting for the key's lock), then evicts least
   * recently used entries beyond maxBytes. Never rejects for file-system reasons: returns false
   * after a CacheWarning when nothing could be stored (and then nothing partial is left).
   */
  async put<M>(key: CacheKey, plan: Uint8Array, metadata: M, options?: WaitOptions): Promise<boolean> {
    const checkedKey = expectCacheKey(key, 'key');
    expectPlan(plan, 'plan');
    serializeMetadata(metadata, 'metadata');
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
  async #acquireOrWarn(id: string, signal: AbortSignal | undefined, timeoutMs: number, what: string, consequence: string): Promise<FileLock | undefined> {
    try {
      return await FileLock.acquire(this.#lockPath(id), { ...this.#lockTiming(), signal, timeoutMs, what });
    } catch (error) {
      if (error instanceof TensorRTNodeError && (error.code === ErrorCode.ABORTED || error.code === ErrorCode.TIMEOUT)) throw error;
      const reason = writeErrorsMeaningUnwritable.has(errnoCode(error) ?? '') ? 'unwritable' : 'write-failed';
      this.#warn(new CacheWarning(reason, `The engine cache ${this.dir} cannot be written (${describeFailure(error)}); ${consequence}`, { key: id, directory: this.dir }, error));
      return undefined;
    }
  }

  /** Writes the entry; the caller holds the key's lock. False after a warning when it could not. */
  async #store(key: CacheKey, plan: Buffer, metadata: unknown): Promise<boolean> {
    const id = key.id;
    if (plan.byteLength > this.maxBytes) {
      this.#warn(new CacheWarning('too-large', `The engine for key ${id} (${formatBytes(plan.byteLength)}) is larger than the cache limit (${formatBytes(this.maxBytes)}); it was not cached`, { key: id, bytes: plan.byteLength }));
      return false;
    }
    const sha256 = sha256Hex(plan);
    const planFile = `${id}.${sha256.slice(0, 16)}.plan`;
    const now = new Date().toISOString();
    const record: EntryRecord = { format: recordFormat, key: id, label: key.label ?? null, plan: { file: planFile, bytes: plan.byteLength, sha256 }, createdAt: now, parts: key.parts, metadata };
    try {
      await writeFileAtomic(join(this.#layout.engines, planFile), plan);
      // The plan's rename must be durable before the metadata that names it can be.
      await syncDirectory(this.#layout.engines);
      await writeFileAtomic(this.#metadataPath(id), `${JSON.stringify(record, null, 1)}\n`);
      await syncDirectory(this.#layout.engines);
    } catch (error) {
      await this.#removeUnreferencedPlans(id).catch(() => undefined);
      const reason = writeErrorsMeaningUnwritable.has(errnoCode(error) ?? '') ? 'unwritable' : 'write-failed';
      this.#warn(new CacheWarning(reason, `The engine for key ${id} was not cached: writing to ${this.dir} failed (${describeFailure(error)})`, { key: id, directory: this.dir }, error));
      return false;
    }
    await this.#removeUnreferencedPlans(id).catch(() => undefined);
    return true;
  }

  /**
   * The engine for `key`: from the cache, or built by `build` and stored. Across processes, one
   * builds and the others wait for its lock and then read its entry. An abort while waiting or
   * building rejects with ERR_ABORTED and leaves no entry; a cache that cannot be written never
   * fails the build (the engine is returned, a CacheWarning says why it was not cached).
   */
  async getOrBuild<M>(key: CacheKey, build: (signal: AbortSignal | undefined) => Promise<BuiltEngine<M>>, options?: WaitOptions): Promise<GetOrBuildResult<M>> {
    const checkedKey = expectCacheKey(key, 'key');
    expectFunction(build, 'build');
    const { signal, timeoutMs } = this.#waitOptions(options);
    const what = 'EngineCache.getOrBuild';
    if (signal?.aborted) throw abortedError(what, signal);
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

  async #buildOnly<M>(build: (signal: AbortSignal | undefined) => Promise<BuiltEngine<M>>, signal: AbortSignal | undefined, what: string): Promise<GetOrBuildResult<M>> {
    const built = await build(signal);
    if (typeof built !== 'object' || built === null) throw invalidType('an object { plan, metadata }', 'the result of build', built);
    const plan = expectPlan(built.plan, 'the plan returned by build');
    serializeMetadata(built.metadata, 'the metadata returned by build');
    // A build that finished after an abort is not used: the caller was promised ERR_ABORTED.
    if (signal?.aborted) throw abortedError(what, signal);
    return { plan: toBuffer(plan), metadata: built.metadata, hit: false };
  }

  /** After a write: evict beyond the limit and clean leftovers. Best effort, never fails the caller. */
  async #maintain(protectId: string): Promise<void> {
    try {
      await this.#evict(this.maxBytes, protectId);
      await this.#removeLeftovers();
    } catch (error) {
      this.#warn(new CacheWarning('write-failed', `Engine cache maintenance in ${this.dir} failed (${describeFailure(error)}); it is retried after the next write`, { directory: this.dir }, error));
    }
  }

  /** Every entry, most recently used first. Reads metadata only (no checksum of plans). */
  async list(): Promise<CacheEntryInfo[]> {
    if (this.disabledReason !== null) return [];
    const names = (await unlessMissing(() => cacheIo.readdir(this.#layout.engines))) ?? [];
    const entries: CacheEntryInfo[] = [];
    for (const name of names) {
      const id = metadataNamePattern.exec(name)?.[1];
      if (id === undefined) continue;
      const info = await this.#describe(id);
      if (info) entries.push(info);
    }
    return entries.sort((a, b) => b.lastUsedAt.localeCompare(a.lastUsedAt));
  }

  async #describe(id: string): Promise<CacheEntryInfo | undefined> {
    const metadataPath = this.#metadataPath(id);
    const stats = await unlessMissing(() => cacheIo.stat(metadataPath));
    const text = stats && (await unlessMissing(() => cacheIo.readFile(metadataPath, 'utf8')));
    if (!stats || text === undefined) return undefined;
    const base: CacheEntryInfo = { key: id, label: null, bytes: stats.size, planBytes: 0, sha256: null, createdAt: null, lastUsedAt: stats.mtime.toISOString(), parts: null, problem: null };
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return { ...base, problem: 'its metadata is not valid JSON' };
    }
    const record = checkRecord(parsed, id);
    if (typeof record === 'string') return { ...base, problem: record };
    const planStats = await unlessMissing(() => cacheIo.stat(join(this.#layout.engines, record.plan.file)));
    const info: CacheEntryInfo = { ...base, label: record.label, planBytes: record.plan.bytes, sha256: record.plan.sha256, createdAt: record.createdAt, parts: record.parts };
    if (!planStats) return { ...info, problem: 'its plan file is missing' };
    info.bytes += planStats.size;
    if (planStats.size !== record.plan.bytes) return { ...info, problem: `its plan holds ${planStats.size} bytes but its metadata says ${record.plan.bytes}` };
    return info;
  }

  /** Removes one entry under its lock; false when another process holds the lock. */
  async #removeEntry(id: string): Promise<boolean> {
    return (await this.#withLockIfFree(id, () => this.#removeEntryFiles(id))) !== 'busy';
  }

  /** Evicts least recently used entries (broken ones first) until at most `maxBytes` remain. */
  async #evict(maxBytes: number, protectId?: string): Promise<{ removed: RemovedEntry[]; skippedBusy: string[] }> {
    const entries = await this.list();
    let total = entries.reduce((sum, entry) => sum + entry.bytes, 0);
    const removed: RemovedEntry[] = [];
    const skippedBusy: string[] = [];
    if (total <= maxBytes) return { removed, skippedBusy };
    const order = entries.slice().sort((a, b) => Number(b.problem !== null) - Number(a.problem !== null) || a.lastUsedAt.localeCompare(b.lastUsedAt));
    for (const entry of order) {
      if (total <= maxBytes) break;
      if (entry.key === protectId) continue;
      if (await this.#removeEntry(entry.key)) {
        removed.push({ key: entry.key, bytes: entry.bytes, reason: 'size-limit' });
        total -= entry.bytes;
      } else {
        skippedBusy.push(entry.key);
      }
    }
    return { removed, skippedBusy };
  }

  /**
   * Cleans what interrupted writers left: temporary files of dead processes, plans without
   * metadata (for keys nobody is writing), stale locks. Returns how many files were removed.
   */
  async #removeLeftovers(): Promise<number> {
    const maxAge = { maxAgeMs: FOREIGN_TEMPORARY_MAX_AGE_MS };
    let removed = 0;
    for (const folder of [this.#layout.root, this.#layout.engines, this.#layout.locks, this.#layout.timing]) removed += await sweepTemporaryFiles(folder, maxAge);
    const names = (await unlessMissing(() => cacheIo.readdir(this.#layout.engines))) ?? [];
    const referenced = new Set<string>();
    const withPlans = new Set<string>();
    for (const name of names) {
      const planId = planNamePattern.exec(name)?.[1];
      if (planId) withPlans.add(planId);
      const metadataId = metadataNamePattern.exec(name)?.[1];
      if (metadataId) {
        const text = await unlessMissing(() => cacheIo.readFile(join(this.#layout.engines, name), 'utf8')).catch(() => undefined);
        try {
          const file = text === undefined ? undefined : (JSON.parse(text) as EntryRecord).plan?.file;
          if (typeof file === 'string') referenced.add(file);
        } catch {
          // A broken metadata file is get()'s and prune's business.
        }
      }
    }
    for (const id of withPlans) {
      const unreferenced = names.some((name) => name.startsWith(`${id}.`) && planNamePattern.test(name) && !referenced.has(name));
      if (!unreferenced) continue;
      const result = await this.#withLockIfFree(id, () => this.#removeUnreferencedPlans(id));
      if (result !== 'busy') removed += result;
    }
    for (const name of (await unlessMissing(() => cacheIo.readdir(this.#layout.locks))) ?? []) {
      if (!name.endsWith('.lock') || !isCacheKeyId(name.slice(0, -'.lock'.length))) continue;
      // Taking and releasing a lock breaks it if it is stale and leaves it alone if it is live.
      const timing = this.#lockTiming();
      const attempt = await FileLock.tryAcquire(join(this.#layout.locks, name), {
        ...timing,
        onStaleBroken: (state, path) => {
          removed++;
          timing.onStaleBroken(state, path);
        },
      });
      await attempt.lock?.release();
    }
    return removed;
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
    const result: PruneResult = { removed: [], freedBytes: 0, remainingEntries: 0, remainingBytes: 0, skippedBusy: [], leftoversRemoved: 0 };
    if (this.disabledReason !== null) return result;
    const cutoff = olderThanMs === undefined ? undefined : new Date(Date.now() - olderThanMs).toISOString();
    for (const entry of await this.list()) {
      const reason = entry.problem !== null ? 'broken' : cutoff !== undefined && entry.lastUsedAt < cutoff ? 'older-than' : undefined;
      if (!reason) continue;
      if (await this.#removeEntry(entry.key)) result.removed.push({ key: entry.key, bytes: entry.bytes, reason });
      else result.skippedBusy.push(entry.key);
    }
    const evicted = await this.#evict(maxBytes);
    result.removed.push(...evicted.removed);
    result.skippedBusy.push(...evicted.skippedBusy);
    result.leftoversRemoved = await this.#removeLeftovers();
    const remaining = await this.list();
    result.freedBytes = result.removed.reduce((sum, entry) => sum + entry.bytes, 0);
    result.remainingEntries = remaining.length;
    result.remainingBytes = remaining.reduce((sum, entry) => sum + entry.bytes, 0);
    return result;
  }

  /** Removes every entry and timing cache (entries another process is using are skipped and listed). */
  async clear(): Promise<ClearResult> {
    const result: ClearResult = { removed: [], freedBytes: 0, skippedBusy: [], timingCachesRemoved: 0, leftoversRemoved: 0 };
    if (this.disabledReason !== null) return result;
    for (const entry of await this.list()) {
      if (await this.#removeEntry(entry.key)) result.removed.push({ key: entry.key, bytes: entry.bytes, reason: 'cleared' });
      else result.skippedBusy.push(entry.key);
    }
    for (const name of (await unlessMissing(() => cacheIo.readdir(this.#layout.timing))) ?? []) {
      if (!name.endsWith('.timing')) continue;
      await removeFile(join(this.#layout.timing, name));
      result.timingCachesRemoved++;
    }
    result.leftoversRemoved = await this.#removeLeftovers();
    result.freedBytes = result.removed.reduce((sum, entry) => sum + entry.bytes, 0);
    return result;
  }

  /** The timing cache for one TensorRT version and GPU (see timing-cache.ts). */
  timingCache(tensorrtVersion: string, gpu: { uuid: string; computeCapability: string }): TimingCacheFile {
    const file = timingCacheFile(this.#layout.timing, tensorrtVersion, gpu, this.#warn);
    if (this.disabledReason === null) return file;
    return { path: file.path, read: async () => undefined, write: async () => false, discard: async () => undefined };
  }
}
