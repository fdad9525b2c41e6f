/**
 * Crash-safe file replacement: write a temporary file next to the target, fsync it, rename it over
 * the target (atomic on POSIX file systems), and fsync the directory so the rename itself survives a
 * power cut. A reader sees the old file or the new one, never half of one.
 *
 * Temporary names carry the writer's host, pid and process start time, so a later sweep can remove
 * the leftovers of a killed writer without ever touching a file that a live process is still writing.
 */
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { fileIo, errnoCode, removeFile, WRITE_CHUNK_BYTES } from './file-io.js';
import { currentProcess, processState } from './process-identity.js';

const tempNamePattern = /^\.(.+)\.([0-9a-f]{8})\.(\d+)\.(\d+|x)\.([0-9a-f]{8})\.tmp$/;

/** `.<target>.<hostTag>.<pid>.<startTicks>.<random>.tmp`, in the target's directory. */
export function temporaryPathFor(targetPath: string): string {
  const self = currentProcess();
  const name = `.${basename(targetPath)}.${self.hostTag}.${self.pid}.${self.startTicks ?? 'x'}.${randomBytes(4).toString('hex')}.tmp`;
  return join(dirname(targetPath), name);
}

export interface TemporaryFileOwner {
  target: string;
  hostTag: string;
  pid: number;
  startTicks: number | null;
}

/** Who wrote a temporary file, from its name; undefined for names this module did not make. */
export function parseTemporaryName(name: string): TemporaryFileOwner | undefined {
  const match = tempNamePattern.exec(name);
  if (!match) return undefined;
  return { target: match[1]!, hostTag: match[2]!, pid: Number(match[3]), startTicks: match[4] === 'x' ? null : Number(match[4]) };
}

export interface AtomicWriteOptions {
  /** File mode of the new file; the cache keeps everything owner-only. */
  mode?: number;
}

/** Replaces `targetPath` with `data` atomically (see the module comment); the directory is not synced. */
export async function writeFileAtomic(targetPath: string, data: Uint8Array | string, { mode = 0o600 }: AtomicWriteOptions = {}): Promise<void> {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const temporaryPath = temporaryPathFor(targetPath);
  const handle = await fileIo.open(temporaryPath, 'wx', mode);
  try {
    for (let position = 0; position < bytes.byteLength; position += WRITE_CHUNK_BYTES) {
      await fileIo.writeChunk(handle, bytes.subarray(position, Math.min(position + WRITE_CHUNK_BYTES, bytes.byteLength)), position);
    }
    await fileIo.fsync(handle);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await removeFile(temporaryPath).catch(() => undefined);
    throw error;
  }
  await handle.close();
  try {
    await fileIo.rename(temporaryPath, targetPath);
  } catch (error) {
    await removeFile(temporaryPath).catch(() => undefined);
    throw error;
  }
}

/** Makes the renames done in `directory` durable. */
export async function syncDirectory(directory: string): Promise<void> {
  const handle = await fileIo.open(directory, 'r');
  try {
    await fileIo.fsync(handle);
  } catch (error) {
    // Some file systems cannot fsync a directory; the rename is still atomic there.
    if (errnoCode(error) !== 'EINVAL' && errnoCode(error) !== 'EISDIR') throw error;
  } finally {
    await handle.close();
  }
}

export interface SweepOptions {
  /** Leftovers older than this are removed even when their writer cannot be checked (another host). */
  maxAgeMs: number;
}

/**
 * Removes the temporary files in `directory` whose writer is dead (same host), or that are older than
 * `maxAgeMs` (other hosts, where liveness cannot be checked). Returns how many were removed.
 */
export async function sweepTemporaryFiles(directory: string, { maxAgeMs }: SweepOptions): Promise<number> {
  let names: string[];
  try {
    names = await fileIo.readdir(directory);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return 0;
    throw error;
  }
  let removed = 0;
  for (const name of names) {
    const owner = parseTemporaryName(name);
    if (!owner) continue;
    const path = join(directory, name);
    const state = processState(owner);
    if (state === 'alive') continue;
    if (state === 'unknown') {
      const stats = await fileIo.stat(path).catch(() => undefined);
      if (!stats || Date.now() - stats.mtimeMs < maxAgeMs) continue;
    }
    try {
      await fileIo.unlink(path);
      removed++;
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') throw error;
    }
  }
  return removed;
}
