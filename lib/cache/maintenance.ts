/**
 * Keeping the cache within its size and clean of what interrupted writers left. Maintenance never
 * waits for a lock: an entry another process is using is skipped (and reported), never touched.
 */
import { join } from 'node:path';
import { sweepTemporaryFiles } from '../core/atomic-write.js';
import { metadataNamePattern, planNamePattern, type CacheEntryInfo, type EntryFiles } from './entries.js';
import { fileIo, unlessMissing } from '../core/file-io.js';
import { isCacheKeyId } from './key.js';
import { FileLock } from './lock.js';

/** Temporary files of writers on other hosts (whose liveness cannot be checked) are removed after this. */
const FOREIGN_TEMPORARY_MAX_AGE_MS = 24 * 60 * 60_000;

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
}

/** Removes `entries` (each under its lock), recording why. */
export async function removeEntries(files: EntryFiles, entries: CacheEntryInfo[], reason: RemovedEntry['reason']): Promise<Removal> {
  const result: Removal = { removed: [], skippedBusy: [] };
  for (const entry of entries) {
    if (await files.removeIfFree(entry.key)) result.removed.push({ key: entry.key, bytes: entry.bytes, reason });
    else result.skippedBusy.push(entry.key);
  }
  return result;
}

/** Evicts broken entries first, then least recently used ones, until at most `maxBytes` remain. */
export async function evictBeyond(files: EntryFiles, maxBytes: number, protectId?: string): Promise<Removal> {
  const entries = await files.list();
  let total = entries.reduce((sum, entry) => sum + entry.bytes, 0);
  const result: Removal = { removed: [], skippedBusy: [] };
  const order = entries.sort((a, b) => Number(b.problem !== null) - Number(a.problem !== null) || a.lastUsedAt.localeCompare(b.lastUsedAt));
  for (const entry of order) {
    if (total <= maxBytes) break;
    if (entry.key === protectId) continue;
    const removal = await removeEntries(files, [entry], 'size-limit');
    result.removed.push(...removal.removed);
    result.skippedBusy.push(...removal.skippedBusy);
    if (removal.removed.length > 0) total -= entry.bytes;
  }
  return result;
}

/**
 * Removes the leftovers of interrupted writers: temporary files of dead processes, plans that no
 * metadata names (for keys nobody is writing), and stale locks. Returns how many files went.
 */
export async function removeLeftovers(files: EntryFiles): Promise<number> {
  const { layout } = files;
  let removed = 0;
  for (const folder of [layout.root, layout.engines, layout.locks, layout.timing]) {
    removed += await sweepTemporaryFiles(folder, { maxAgeMs: FOREIGN_TEMPORARY_MAX_AGE_MS });
  }

  const names = await files.names();
  const referenced = new Set<string>();
  for (const name of names) {
    const id = metadataNamePattern.exec(name)?.[1];
    const plan = id === undefined ? undefined : await files.referencedPlan(id);
    if (plan) referenced.add(plan);
  }
  const withStrayPlans = new Set(names.filter((name) => planNamePattern.test(name) && !referenced.has(name)).map((name) => name.slice(0, 64)));
  for (const id of withStrayPlans) {
    const result = await files.withLockIfFree(id, () => files.removeUnreferencedPlans(id));
    if (result !== 'busy') removed += result;
  }

  for (const name of (await unlessMissing(() => fileIo.readdir(layout.locks))) ?? []) {
    if (!name.endsWith('.lock') || !isCacheKeyId(name.slice(0, -'.lock'.length))) continue;
    // Taking and releasing a lock breaks it if it is stale and leaves it alone if it is live.
    const attempt = await FileLock.tryAcquire(join(layout.locks, name), {
      ...files.lockTiming,
      onStaleBroken: (state, path) => {
        removed++;
        files.lockTiming.onStaleBroken?.(state, path);
      },
    });
    await attempt.lock?.release();
  }
  return removed;
}
