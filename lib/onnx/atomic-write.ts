/**
 * Writes that never leave a half-written file behind: data goes to a temporary file in the target's
 * folder (same filesystem, so rename is atomic), is flushed, and only then renamed over the target.
 * A failure removes the temporary file and leaves any previous target untouched.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** A temporary path next to `target`, hidden and unique to this process and call. */
export function temporaryPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** Writes `chunks` one after the other into a temporary file and returns its path (not yet renamed). */
export async function writeTemporary(target: string, chunks: Iterable<Uint8Array>): Promise<string> {
  const temporary = temporaryPathFor(target);
  const handle = await open(temporary, 'wx', 0o644);
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
    throw error;
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
    for (const { temporary, target } of moves) await rename(temporary, target);
  } finally {
    await Promise.all(moves.map(({ temporary }) => rm(temporary, { force: true })));
  }
}

/** Writes one file atomically. */
export async function writeFileAtomic(target: string, chunks: Iterable<Uint8Array>): Promise<void> {
  const temporary = await writeTemporary(target, chunks);
  await commitTemporaries([{ temporary, target }]);
}
