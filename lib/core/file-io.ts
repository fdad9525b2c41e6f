/**
 * Every file-system call of the atomic writer (atomic-write.ts, behind every file tensorrt-node
 * writes) and of the engine cache goes through `fileIo`, for one reason: tests must inject real
 * faults (ENOSPC in the middle of a write, EACCES on the lock) and stop a writer at an exact step
 * before SIGKILLing it. Production code never replaces these functions.
 */
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { Stats } from 'node:fs';

/** Plans are written in chunks of this size, so a crash or a full disk can land between two. */
export const WRITE_CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * The most one `read` call asks for. Node 20 aborts the process (an assertion in node_file.cc) on a
 * single read of 2 GiB or more, so every read of untrusted length goes through `readInto`, in
 * pieces of this size.
 */
export const READ_CHUNK_BYTES = 64 * 1024 * 1024;

/** What is at a path, in words for messages ("it is a FIFO (named pipe)"). */
export function describeFileKind(stats: Stats): string {
  if (stats.isFile()) return 'a regular file';
  if (stats.isDirectory()) return 'a folder';
  if (stats.isSymbolicLink()) return 'a symbolic link';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

/**
 * Thrown by `openRegularFile` for a path that holds something other than a regular file, with
 * `code` 'ENOTREGULAR' so callers that decide by errno can tell it apart; `kind` says what it is.
 */
export class NotRegularFileError extends Error {
  readonly code = 'ENOTREGULAR';
  constructor(
    readonly path: string,
    readonly kind: string,
  ) {
    super(`${path} is ${kind}, not a regular file`);
  }
}

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
  readlink: fs.readlink,
  unlink: fs.unlink,
  rm: fs.rm,
  utimes: fs.utimes,
  /** Writes `chunk` at `position` in full (FileHandle.write may write less than asked). */
  async writeChunk(handle: FileHandle, chunk: Uint8Array, position: number): Promise<void> {
    let written = 0;
    while (written < chunk.byteLength) {
      const { bytesWritten } = await handle.write(chunk, written, chunk.byteLength - written, position + written);
      written += bytesWritten;
    }
  },
  /** Writes `chunk` in full at the current offset (pipes and terminals have no positions; O_APPEND files). */
  async appendChunk(handle: FileHandle, chunk: Uint8Array): Promise<void> {
    let written = 0;
    while (written < chunk.byteLength) {
      const { bytesWritten } = await handle.write(chunk, written, chunk.byteLength - written, null);
      written += bytesWritten;
    }
  },
  async fsync(handle: FileHandle): Promise<void> {
    await handle.sync();
  },
  /**
   * Fills `target` from `position` on, in reads of at most READ_CHUNK_BYTES; returns the bytes read
   * (fewer than asked only when the file ends first).
   */
  async readInto(handle: FileHandle, target: Uint8Array, position: number): Promise<number> {
    let filled = 0;
    while (filled < target.byteLength) {
      const { bytesRead } = await handle.read(
        target,
        filled,
        Math.min(READ_CHUNK_BYTES, target.byteLength - filled),
        position + filled,
      );
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return filled;
  },
  /**
   * Reads a whole file into one Buffer. Unlike fs.readFile, which stops at 2 GiB, this reads files up
   * to the Buffer limit (4 GiB on 64-bit Node 20): engines of large models pass 2 GiB.
   */
  async readWholeFile(path: string): Promise<Buffer> {
    const handle = await openRegularFile(path);
    try {
      const { size } = await handle.stat();
      const bytes = Buffer.allocUnsafe(size);
      // Fewer bytes: truncated while we read; the checksum will say so.
      const filled = await fileIo.readInto(handle, bytes, 0);
      return filled === size ? bytes : bytes.subarray(0, filled);
    } finally {
      await handle.close();
    }
  },
};

/**
 * Opens `path` for reading only if it is a regular file, without following a symlink at its last
 * component (ELOOP; `follow` allows one, for paths a user names: a model may well be a link) and
 * without blocking on a FIFO (O_NONBLOCK, which regular files ignore): a FIFO or a device named like
 * a file tensorrt-node reads must never hang a command or feed it endless bytes. Anything else
 * rejects with NotRegularFileError (code 'ENOTREGULAR'); a missing file with ENOENT as usual.
 */
export async function openRegularFile(path: string, { follow = false }: { follow?: boolean } = {}): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await fileIo.open(path, constants.O_RDONLY | (follow ? 0 : constants.O_NOFOLLOW) | constants.O_NONBLOCK);
  } catch (error) {
    const code = errnoCode(error);
    // ELOOP: a symlink (O_NOFOLLOW); ENXIO: a socket; EISDIR on some systems for a folder.
    if (code === 'ELOOP' || code === 'ENXIO' || code === 'EISDIR') {
      const stats = await fileIo.lstat(path).catch(() => undefined);
      if (stats && !stats.isFile()) throw new NotRegularFileError(path, describeFileKind(stats));
    }
    throw error;
  }
  const stats = await handle.stat().catch(async (error: unknown) => {
    await handle.close();
    throw error;
  });
  if (!stats.isFile()) {
    await handle.close();
    throw new NotRegularFileError(path, describeFileKind(stats));
  }
  return handle;
}

/**
 * Reads a file a user named (a model's table, a sample, a results file): links are followed, but
 * only a regular file is read; a FIFO or a device rejects with NotRegularFileError instead of
 * blocking forever or reading without end.
 */
export async function readUserFile(path: string): Promise<Buffer> {
  const handle = await openRegularFile(path, { follow: true });
  try {
    const { size } = await handle.stat();
    const bytes = Buffer.allocUnsafe(size);
    return bytes.subarray(0, await fileIo.readInto(handle, bytes, 0));
  } finally {
    await handle.close();
  }
}

/** readUserFile for the synchronous readers (report, trtexec import); errors as fs.readFileSync's. */
export function readUserFileSync(path: string, encoding: 'utf8'): string {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new NotRegularFileError(path, describeFileKind(stats));
    return readFileSync(fd, encoding);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads a regular file whole (see `openRegularFile` for what is refused). `maxBytes` bounds what a
 * small file (a checkpoint, metadata, a lock) may hold: a bigger one is refused with code 'EFBIG'
 * instead of being read into memory.
 */
export async function readRegularFile(path: string, maxBytes: number): Promise<Buffer>;
export async function readRegularFile(path: string, maxBytes: number, encoding: 'utf8'): Promise<string>;
export async function readRegularFile(path: string, maxBytes: number, encoding?: 'utf8'): Promise<Buffer | string> {
  const handle = await openRegularFile(path);
  try {
    const { size } = await handle.stat();
    if (size > maxBytes)
      throw Object.assign(new Error(`${path} holds ${size} bytes, more than the ${maxBytes} expected`), { code: 'EFBIG' });
    const bytes = Buffer.allocUnsafe(size);
    const filled = await fileIo.readInto(handle, bytes, 0);
    const read = bytes.subarray(0, filled);
    return encoding ? read.toString(encoding) : read;
  } finally {
    await handle.close();
  }
}

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
