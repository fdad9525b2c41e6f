/**
 * Keeping the cache within its size and clean of what interrupted writers left. Maintenance never
 * waits for a lock: an entry another process is using is skipped (and reported), never touched.
 * What is not what its name says (a folder or FIFO named like an entry, a folder at a lock's path)
 * is reported as a stray and left alone, except by `clear`, which repairs the folder (`repair`).
 */
import { join } from 'node:path';
import { FOREIGN_TEMPORARY_MAX_AGE_MS, sweepTemporaryFiles } from '../core/atomic-write.js';
import { ErrorCode, TensorRTNodeError } from '../core/errors.js';
import { metadataNamePattern, planNamePattern, removeCachePath, type CacheEntryInfo, type EntryFiles } from './entries.js';
import { describeFileKind, fileIo, unlessMissing } from '../core/file-io.js';
import { isCacheKeyId } from './key.js';
import { FileLock } from './lock.js';

/**
 * Something in the cache folder that is not what its name says: a folder or special file at an
 * entry's, lock's or timing cache's path. prune and the maintenance after a write report it and leave
 * it; clear removes it (`removed: true`).
 * @inline
 */
export interface StrayPath {
  path: string;
  /** What was found, in words ("a folder where the engine cache keeps a file"). */
  problem: string;
  removed: boolean;
}

/** Whether `error` is the cache refusing to touch a stray (see entries.ts strayFolderError, lock.ts unusableLockError). */
function strayOf(error: unknown): StrayPath | undefined {
  if (!(error instanceof TensorRTNodeError) || error.code !== ErrorCode.CACHE) return undefined;
  const details = error.details ?? {};
  if (details.reason === 'stray-folder')
    return { path: String(details.path), problem: 'a folder where the engine cache keeps a file', removed: false };
  if (details.reason === 'unusable-lock')
    return {
      path: String(details.lockPath),
      problem: `${String(details.kind)} where the engine cache keeps a lock file`,
      removed: false,
    };
  return undefined;
}

/**
 * One entry prune() or clear() removed, and why.
 * @inline
 */
export interface RemovedEntry {
  key: string;
  bytes: number;
  reason: 'broken' | 'older-than' | 'size-limit' | 'cleared';
}

export interface Removal {
  removed: RemovedEntry[];
  /** Keys another process was building or rewriting; left alone. */
  skippedBusy: string[];
  /** What stood in the way and was left (or, with repair, removed). */
  strays: StrayPath[];
}

/** Removes `entries` (each under its lock), recording why; `repair` also removes folders at their paths. */
export async function removeEntries(
  files: EntryFiles,
  entries: CacheEntryInfo[],
  reason: RemovedEntry['reason'],
  { repair = false } = {},
): Promise<Removal> {
  const result: Removal = { removed: [], skippedBusy: [], strays: [] };
  for (const entry of entries) {
    try {
      if (await files.removeIfFree(entry.key, { repair })) result.removed.push({ key: entry.key, bytes: entry.bytes, reason });
      else result.skippedBusy.push(entry.key);
    } catch (error) {
      const stray = strayOf(error);
      if (!stray) throw error;
      result.strays.push(stray);
    }
  }
  return result;
}

/** Evicts broken entries first, then least recently used ones, until at most `maxBytes` remain. */
export async function evictBeyond(files: EntryFiles, maxBytes: number, protectId?: string): Promise<Removal> {
  const entries = await files.list();
  let total = entries.reduce((sum, entry) => sum + entry.bytes, 0);
  const result: Removal = { removed: [], skippedBusy: [], strays: [] };
  const order = entries.sort(
    (a, b) => Number(b.problem !== null) - Number(a.problem !== null) || a.lastUsedAt.localeCompare(b.lastUsedAt),
  );
  for (const entry of order) {
    if (total <= maxBytes) break;
    if (entry.key === protectId) continue;
    const removal = await removeEntries(files, [entry], 'size-limit');
    result.removed.push(...removal.removed);
    result.skippedBusy.push(...removal.skippedBusy);
    result.strays.push(...removal.strays);
    if (removal.removed.length > 0) total -= entry.bytes;
  }
  return result;
}

/** What removeLeftovers did. */
export interface Leftovers {
  /** Files removed: temporary files of dead writers, plans without metadata, stale locks, and (repair) strays. */
  removed: number;
  strays: StrayPath[];
}

/**
 * Removes the leftovers of interrupted writers: temporary files of dead processes, plans that no
 * metadata names (for keys nobody is writing), and stale locks. Lock paths that hold no lock file
 * (a folder, a FIFO) are strays: reported, and removed with `repair`.
 */
export async function removeLeftovers(files: EntryFiles, { repair = false } = {}): Promise<Leftovers> {
  const { layout } = files;
  const result: Leftovers = { removed: 0, strays: [] };
  for (const folder of [layout.root, layout.engines, layout.locks, layout.timing]) {
    result.removed += await sweepTemporaryFiles(folder, { maxAgeMs: FOREIGN_TEMPORARY_MAX_AGE_MS });
  }

  // Locks first: a lock path that can never be taken would make every removal below a stray too.
  for (const name of (await unlessMissing(() => fileIo.readdir(layout.locks))) ?? []) {
    if (!name.endsWith('.lock') || !isCacheKeyId(name.slice(0, -'.lock'.length))) continue;
    const path = join(layout.locks, name);
    const stats = await unlessMissing(() => fileIo.lstat(path));
    if (!stats) continue;
    if (!stats.isFile()) {
      const removed = repair && (await removeCachePath(path, { repair }));
      result.strays.push({ path, problem: `${describeFileKind(stats)} where the engine cache keeps a lock file`, removed });
      continue;
    }
    try {
      // Taking and releasing a lock breaks it if it is stale and leaves it alone if it is live.
      const attempt = await FileLock.tryAcquire(path, {
        ...files.lockTiming,
        onStaleBroken: (state, brokenPath) => {
          result.removed++;
          files.lockTiming.onStaleBroken?.(state, brokenPath);
        },
      });
      await attempt.lock?.release();
    } catch (error) {
      const stray = strayOf(error);
      if (!stray) throw error;
      result.strays.push(stray);
    }
  }

  const names = await files.names();
  const referenced = new Set<string>();
  for (const name of names) {
    const id = metadataNamePattern.exec(name)?.[1];
    const plan = id === undefined ? undefined : await files.referencedPlan(id);
    if (plan) referenced.add(plan);
  }
  const withStrayPlans = new Set(
    names.filter((name) => planNamePattern.test(name) && !referenced.has(name)).map((name) => name.slice(0, 64)),
  );
  for (const id of withStrayPlans) {
    try {
      const removed = await files.withLockIfFree(id, () => files.removeUnreferencedPlans(id, { repair }));
      if (removed !== 'busy') result.removed += removed;
    } catch (error) {
      const stray = strayOf(error);
      if (!stray) throw error;
      result.strays.push(stray);
    }
  }
  return result;
}
