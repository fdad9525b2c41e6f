/**
 * Every file-system call the engine cache makes goes through `cacheIo`, for one reason: tests must
 * inject real faults (ENOSPC in the middle of a write, EACCES on the lock) and stop a writer at an
 * exact step before SIGKILLing it. Production code never replaces these functions.
 */
import * as fs from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';

/** Plans are written in chunks of this size, so a crash or a full disk can land between two. */
export const WRITE_CHUNK_BYTES = 4 * 1024 * 1024;

export const cacheIo = {
  mkdir: fs.mkdir,
  stat: fs.stat,
  chmod: fs.chmod,
  readdir: fs.readdir,
  readFile: fs.readFile,
  open: fs.open,
  rename: fs.rename,
  link: fs.link,
  unlink: fs.unlink,
  utimes: fs.utimes,
  /** Writes `chunk` at `position` in full (FileHandle.write may write less than asked). */
  async writeChunk(handle: FileHandle, chunk: Uint8Array, position: number): Promise<void> {
    let written = 0;
    while (written < chunk.byteLength) {
      const { bytesWritten } = await handle.write(chunk, written, chunk.byteLength - written, position + written);
      written += bytesWritten;
    }
  },
  async fsync(handle: FileHandle): Promise<void> {
    await handle.sync();
  },
};

/** The `code` of a Node system error (`ENOENT`, `EACCES`, ...), if it has one. */
export function errnoCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Calls `action` and returns undefined instead of throwing when the file is not there. */
export async function unlessMissing<T>(action: () => Promise<T>): Promise<T | undefined> {
  try {
    return await action();
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/** Removes a file; a file that is already gone is fine (another process cleaned it up first). */
export async function removeFile(path: string): Promise<void> {
  await unlessMissing(() => cacheIo.unlink(path));
}
