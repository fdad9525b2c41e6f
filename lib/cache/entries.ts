/**
 * The files of cache entries, and nothing else (no policy, no warnings): reading and verifying an
 * entry, writing one, removing one, describing one for `ls`.
 *
 *   engines/<id>.json            metadata, written last: plan checksum and size, creation time, key
 *                                parts, the builder's metadata. Its mtime is the entry's last use.
 *   engines/<id>.<sha16>.plan    the plan; the name carries its checksum (content-addressed), so a
 *                                metadata file and the plan it names always belong together, even
 *                                when two writers ever raced on one key.
 *
 * Callers hold the key's lock (locks/<id>.lock) for every write and removal; reads take no lock.
 *
 * Only regular files are opened (core/file-io.ts openRegularFile): a FIFO named like an entry would
 * block a read forever, a folder fail it with EISDIR. What is not a file where an entry's file should
 * be is reported as the entry's problem; removals take out links, FIFOs and sockets, and folders only
 * when asked to repair (`cache clear`), since an unexpected folder may hold something of value.
 */
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic-write.js';
import { ErrorCode, TensorRTNodeError } from '../core/errors.js';
import { sha256Hex } from './canonical.js';
import type { CacheLayout } from './directory.js';
import { describeFileKind, fileIo, NotRegularFileError, readRegularFile, removeFile, unlessMissing } from '../core/file-io.js';
import { keyIdOf, type CacheKey, type CanonicalKeyParts } from './key.js';
import { FileLock, type LockTiming } from './lock.js';

const recordFormat = 1;
export const planNamePattern = /^([0-9a-f]{64})\.([0-9a-f]{16})\.plan$/;
export const metadataNamePattern = /^([0-9a-f]{64})\.json$/;

/** Metadata is small JSON; a bigger file at its path is not ours and is not read into memory. */
const MAX_METADATA_BYTES = 16 * 1024 * 1024;

/** The `text` of a corrupt read whose metadata path is not a file at all (nothing to compare). */
const NOT_A_FILE = '\u0000not a regular file';

/**
 * ERR_CACHE for a folder where a cache file should be: left alone except by `cache clear`, which
 * repairs the folder. `details.path` is the folder.
 */
export function strayFolderError(path: string): TensorRTNodeError {
  return new TensorRTNodeError(
    ErrorCode.CACHE,
    `${path} is a folder where the engine cache keeps a file; it was left alone: run \`tensorrt-node cache clear --yes\` to repair the cache folder`,
    {
      details: { reason: 'stray-folder', path },
    },
  );
}

/**
 * Removes what is at `path` (a cache file's path): a file, link, FIFO or socket is unlinked; a
 * folder is removed with everything in it only when `repair`, else ERR_CACHE (strayFolderError).
 * True when something was removed.
 */
export async function removeCachePath(path: string, { repair = false } = {}): Promise<boolean> {
  const stats = await unlessMissing(() => fileIo.lstat(path));
  if (!stats) return false;
  if (stats.isDirectory()) {
    if (!repair) throw strayFolderError(path);
    await fileIo.rm(path, { recursive: true, force: true });
    return true;
  }
  await removeFile(path);
  return true;
}

/** What one metadata file holds. */
export interface EntryRecord {
  format: typeof recordFormat;
  key: string;
  label: string | null;
  plan: { file: string; bytes: number; sha256: string };
  createdAt: string;
  parts: CanonicalKeyParts;
  metadata: unknown;
}

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

export type EntryRead =
  | { status: 'found'; plan: Buffer; record: EntryRecord; info: CacheEntryInfo }
  | { status: 'missing' }
  /** `text` is the metadata judged corrupt, so a removal can check it was not replaced meanwhile. */
  | { status: 'corrupt'; why: string; text: string }
  | { status: 'unreadable'; error: unknown };

/** Checks a parsed metadata file; returns why it is unusable, or the record. */
function checkRecord(value: unknown, id: string): EntryRecord | string {
  const record = value as Partial<EntryRecord> | null;
  if (typeof record !== 'object' || record === null) return 'its metadata is not an object';
  if (record.format !== recordFormat) return `its metadata has format ${JSON.stringify(record.format)}, expected ${recordFormat}`;
  if (record.key !== id) return 'its metadata belongs to another key';
  const plan = record.plan;
  if (typeof plan !== 'object' || plan === null || typeof plan.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(plan.sha256))
    return 'its metadata has no valid plan checksum';
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

function parseRecord(text: string, id: string): EntryRecord | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'its metadata is not valid JSON';
  }
  return checkRecord(parsed, id);
}

export class EntryFiles {
  readonly layout: CacheLayout;
  readonly lockTiming: LockTiming;

  constructor(layout: CacheLayout, lockTiming: LockTiming) {
    this.layout = layout;
    this.lockTiming = lockTiming;
  }

  metadataPath(id: string): string {
    return join(this.layout.engines, `${id}.json`);
  }

  lockPath(id: string): string {
    return join(this.layout.locks, `${id}.lock`);
  }

  /**
   * The metadata of `id` as text, undefined when missing; NotRegularFileError when something else
   * than a file is at its path (then `metadataTextForComparison` gives a stable stand-in).
   */
  async metadataText(id: string): Promise<string | undefined> {
    return unlessMissing(() => readRegularFile(this.metadataPath(id), MAX_METADATA_BYTES, 'utf8'));
  }

  /** As metadataText, with what is not a file read as the same stand-in a corrupt read() reported. */
  async metadataTextForComparison(id: string): Promise<string | undefined> {
    try {
      return await this.metadataText(id);
    } catch (error) {
      if (error instanceof NotRegularFileError) return NOT_A_FILE;
      throw error;
    }
  }

  /** Reads and verifies an entry: metadata, then the plan it names, then size and sha256. */
  async read(id: string): Promise<EntryRead> {
    const metadataPath = this.metadataPath(id);
    // Two rounds: the entry can be replaced between reading its metadata and its plan.
    for (let round = 0; round < 2; round++) {
      let text: string | undefined;
      let plan: Buffer | undefined;
      let record: EntryRecord | string;
      try {
        try {
          text = await this.metadataText(id);
        } catch (error) {
          if (error instanceof NotRegularFileError)
            return { status: 'corrupt', why: `its metadata is ${error.kind}, not a file`, text: NOT_A_FILE };
          throw error;
        }
        if (text === undefined) return { status: 'missing' };
        record = parseRecord(text, id);
        if (typeof record === 'string') return { status: 'corrupt', why: record, text };
        const planFile = record.plan.file;
        try {
          plan = await unlessMissing(() => fileIo.readWholeFile(join(this.layout.engines, planFile)));
        } catch (error) {
          if (error instanceof NotRegularFileError)
            return { status: 'corrupt', why: `its plan is ${error.kind}, not a file`, text };
          throw error;
        }
      } catch (error) {
        return { status: 'unreadable', error };
      }
      if (!plan) {
        const now = await this.metadataText(id).catch(() => undefined);
        if (now === undefined) return { status: 'missing' }; // evicted or cleared while we read it
        if (now !== text) continue; // replaced while we read it
        return { status: 'corrupt', why: 'its plan file is missing', text };
      }
      if (plan.byteLength !== record.plan.bytes)
        return {
          status: 'corrupt',
          why: `its plan holds ${plan.byteLength} bytes but its metadata says ${record.plan.bytes}`,
          text,
        };
      if (sha256Hex(plan) !== record.plan.sha256)
        return { status: 'corrupt', why: 'the checksum of its plan does not match its metadata', text };
      const now = new Date();
      // Recording the use is best effort: a read-only cache still serves its engines.
      await fileIo.utimes(metadataPath, now, now).catch(() => undefined);
      const info: CacheEntryInfo = {
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
      return { status: 'found', plan, record, info };
    }
    return { status: 'missing' };
  }

  /**
   * Writes an entry (caller holds the lock): the plan, made durable, then the metadata that names
   * it. On failure, whatever this write added is removed again and the error is rethrown.
   */
  async write(key: CacheKey, plan: Buffer, metadata: unknown): Promise<void> {
    const sha256 = sha256Hex(plan);
    const planFile = `${key.id}.${sha256.slice(0, 16)}.plan`;
    const record: EntryRecord = {
      format: recordFormat,
      key: key.id,
      label: key.label ?? null,
      plan: { file: planFile, bytes: plan.byteLength, sha256 },
      createdAt: new Date().toISOString(),
      parts: key.parts,
      metadata,
    };
    try {
      // The writer makes the plan's rename durable before the metadata that names it is written.
      await writeFileAtomic(join(this.layout.engines, planFile), plan, { mode: 0o600 });
      await writeFileAtomic(this.metadataPath(key.id), `${JSON.stringify(record, null, 1)}\n`, { mode: 0o600 });
    } finally {
      // On success: the previous version's plan; on failure: ours, unless the old metadata names it.
      await this.removeUnreferencedPlans(key.id).catch(() => undefined);
    }
  }

  /** Runs `action` under the key's lock if nobody holds it; 'busy' otherwise. Never waits. */
  async withLockIfFree<T>(id: string, action: () => Promise<T>): Promise<T | 'busy'> {
    const attempt = await FileLock.tryAcquire(this.lockPath(id), this.lockTiming);
    if (!attempt.lock) return 'busy';
    try {
      return await action();
    } finally {
      await attempt.lock.release();
    }
  }

  /**
   * Deletes an entry (caller holds the lock): metadata first, so readers see no entry, then its
   * plans. A folder at one of its paths is removed only with `repair` (else ERR_CACHE, see removeCachePath).
   */
  async remove(id: string, { repair = false } = {}): Promise<void> {
    await removeCachePath(this.metadataPath(id), { repair });
    for (const name of await this.planFilesOf(id)) await removeCachePath(join(this.layout.engines, name), { repair });
  }

  /** Removes under its lock; false when another process holds it. */
  async removeIfFree(id: string, { repair = false } = {}): Promise<boolean> {
    return (await this.withLockIfFree(id, () => this.remove(id, { repair }))) !== 'busy';
  }

  async names(): Promise<string[]> {
    return (await unlessMissing(() => fileIo.readdir(this.layout.engines))) ?? [];
  }

  async planFilesOf(id: string): Promise<string[]> {
    return (await this.names()).filter((name) => name.startsWith(`${id}.`) && planNamePattern.test(name));
  }

  /** The plan file an entry's metadata names, if its metadata can be read at all. */
  async referencedPlan(id: string): Promise<string | undefined> {
    const text = await this.metadataText(id).catch(() => undefined);
    try {
      const file = text === undefined ? undefined : (JSON.parse(text) as Partial<EntryRecord>).plan?.file;
      return typeof file === 'string' ? file : undefined;
    } catch {
      return undefined;
    }
  }

  /** Removes plans of `id` its metadata does not name: old versions, interrupted writes (caller holds the lock). */
  async removeUnreferencedPlans(id: string, { repair = false } = {}): Promise<number> {
    const keep = await this.referencedPlan(id);
    let removed = 0;
    for (const name of await this.planFilesOf(id)) {
      if (name === keep) continue;
      if (await removeCachePath(join(this.layout.engines, name), { repair })) removed++;
    }
    return removed;
  }

  /** Describes an entry from its metadata and the plan's size (no checksum: `ls` must stay fast). */
  async describe(id: string): Promise<CacheEntryInfo | undefined> {
    const metadataPath = this.metadataPath(id);
    const stats = await unlessMissing(() => fileIo.lstat(metadataPath));
    if (!stats) return undefined;
    const base: CacheEntryInfo = {
      key: id,
      label: null,
      bytes: stats.isFile() ? stats.size : 0,
      planBytes: 0,
      sha256: null,
      createdAt: null,
      lastUsedAt: stats.mtime.toISOString(),
      parts: null,
      problem: null,
    };
    if (!stats.isFile()) return { ...base, problem: `its metadata is ${describeFileKind(stats)}, not a file` };
    let text: string | undefined;
    try {
      text = await this.metadataText(id);
    } catch (error) {
      if (error instanceof NotRegularFileError) return { ...base, problem: `its metadata is ${error.kind}, not a file` };
      return { ...base, problem: `its metadata cannot be read (${(error as Error).message})` };
    }
    if (text === undefined) return undefined;
    const record = parseRecord(text, id);
    if (typeof record === 'string') return { ...base, problem: record };
    const planStats = await unlessMissing(() => fileIo.lstat(join(this.layout.engines, record.plan.file)));
    const info: CacheEntryInfo = {
      ...base,
      label: record.label,
      planBytes: record.plan.bytes,
      sha256: record.plan.sha256,
      createdAt: record.createdAt,
      parts: record.parts,
    };
    if (!planStats) return { ...info, problem: 'its plan file is missing' };
    if (!planStats.isFile()) return { ...info, problem: `its plan is ${describeFileKind(planStats)}, not a file` };
    info.bytes += planStats.size;
    if (planStats.size !== record.plan.bytes)
      return { ...info, problem: `its plan holds ${planStats.size} bytes but its metadata says ${record.plan.bytes}` };
    return info;
  }

  /** Every entry, most recently used first. */
  async list(): Promise<CacheEntryInfo[]> {
    const entries: CacheEntryInfo[] = [];
    for (const name of await this.names()) {
      const id = metadataNamePattern.exec(name)?.[1];
      const info = id === undefined ? undefined : await this.describe(id);
      if (info) entries.push(info);
    }
    return entries.sort((a, b) => b.lastUsedAt.localeCompare(a.lastUsedAt));
  }
}
