/**
 * Every file-system call of the atomic writer (atomic-write.ts, behind every file tensorrt-node
 * writes) and of the engine cache goes through `fileIo`, for one reason: tests must inject real
 * faults (ENOSPC in the middle of a write, EACCES on the lock) and stop a writer at an exact step
 * before SIGKILLing it. Production code never replaces these functions.
 */
import * as fs from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';

/** Plans are written in chunks of this size, so a crash or a full disk can land between two. */
export const WRITE_CHUNK_BYTES = 4 * 1024 * 1024;

export const fileIo = {
  mkdir: fs.mkdir,
  stat: fs.stat,
  lstat: fs.lstat,
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
  /**
   * Reads a whole file into one Buffer. Unlike fs.readFile, which stops at 2 GiB, this reads files up
   * to the Buffer limit (4 GiB on 64-bit Node 20): engines of large models pass 2 GiB.
   */
  async readWholeFile(path: string): Promise<Buffer> {
    const handle = await fileIo.open(path, 'r');
    try {
      const { size } = await handle.stat();
      const bytes = Buffer.allocUnsafe(size);
      let filled = 0;
      while (filled < size) {
        const { bytesRead } = await handle.read(bytes, filled, Math.min(WRITE_CHUNK_BYTES * 16, size - filled), filled);
        if (bytesRead === 0) break; // truncated while we read: the checksum will say so
        filled += bytesRead;
      }
      return filled === size ? bytes : bytes.subarray(0, filled);
    } finally {
      await handle.close();
    }
  },
};

/**
 * The operating system's error behind `error`: the `cause` of an ERR_IO from the atomic writer
 * (which words the failure for users), else `error` itself. Callers that decide by errno (the
 * cache: EACCES means "unwritable", ENOSPC "write failed") look here.
 */
export function systemErrorOf(error: unknown): unknown {
  const { code, cause } = (error ?? {}) as { code?: unknown; cause?: unknown };
  return code === 'ERR_IO' && cause !== undefined ? cause : error;
}

/** The `code` of a Node system error (`ENOENT`, `EACCES`, ...), also behind an ERR_IO of the writer. */
export function errnoCode(error: unknown): string | undefined {
  const code = (systemErrorOf(error) as { code?: unknown } | null)?.code;
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
  await unlessMissing(() => fileIo.unlink(path));
}
