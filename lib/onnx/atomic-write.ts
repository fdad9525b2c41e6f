/**
 * Writes that never leave a half-written file behind: data goes to a temporary file in the target's
 * folder (same filesystem, so rename is atomic), is flushed, and only then renamed over the target.
 * A failure removes the temporary file and leaves any previous target untouched.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ErrorCode, OnnxError } from '../core/errors.js';

const reasons: Record<string, string> = {
  ENOENT: 'the folder does not exist',
  ENOTDIR: 'a part of the path is not a folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exceeded',
  EISDIR: 'it is a folder',
};

/** A failed write as ERR_IO naming the target and why (not the temporary file's name). */
function writeError(target: string, error: unknown): OnnxError {
  const code = (error as NodeJS.ErrnoException).code;
  const reason = (code && reasons[code]) ?? (error instanceof Error ? error.message : String(error));
  return new OnnxError(ErrorCode.IO, `Cannot write ${target}: ${reason}${code && reasons[code] ? ` (${code})` : ''}`, { cause: error, details: { file: target, errno: code ?? null } });
}

/** A temporary path next to `target`, hidden and unique to this process and call. */
export function temporaryPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** Writes `chunks` one after the other into a temporary file and returns its path (not yet renamed). */
export async function writeTemporary(target: string, chunks: Iterable<Uint8Array>): Promise<string> {
  const temporary = temporaryPathFor(target);
  let handle;
  try {
    handle = await open(temporary, 'wx', 0o644);
  } catch (error) {
    throw writeError(target, error);
  }
  try {
    for (const chunk of chunks) {
      let written = 0;
      while (written < chunk.length) {
        const { bytesWritten } = await handle.write(chunk, written, chunk.length - written);
        written += bytesWritten;
      }
    }
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(temporary, { force: true });
    throw writeError(target, error);
  }
  await handle.close();
  return temporary;
}

/**
 * Moves prepared temporary files onto their targets in order. Callers order them so that a file is
 * renamed only after everything it refers to is in place (external data before the model).
 */
export async function commitTemporaries(moves: readonly { temporary: string; target: string }[]): Promise<void> {
  try {
    for (const { temporary, target } of moves) {
      try {
        await rename(temporary, target);
      } catch (error) {
        throw writeError(target, error);
      }
    }
  } finally {
    await Promise.all(moves.map(({ temporary }) => rm(temporary, { force: true })));
  }
}

/** Writes one file atomically. */
export async function writeFileAtomic(target: string, chunks: Iterable<Uint8Array>): Promise<void> {
  const temporary = await writeTemporary(target, chunks);
  await commitTemporaries([{ temporary, target }]);
}
