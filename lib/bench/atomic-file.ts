/**
 * Synchronous all-or-nothing file writes for the bench results, its per-run exports and reports: the
 * text goes to a new temporary file next to the target (created exclusively, so a planted symlink
 * is never followed), is flushed, then renamed over the target. On failure (disk full, read-only
 * folder) the temporary file is removed and any previous target is left as it was.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export function writeFileAtomicSync(file: string, text: string): void {
  const temporary = join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const bytes = Buffer.from(text, 'utf8');
  let descriptor: number | undefined;
  try {
    descriptor = openSync(temporary, 'wx', 0o644);
    for (let written = 0; written < bytes.length; ) written += writeSync(descriptor, bytes, written, bytes.length - written);
    fsyncSync(descriptor);
    closeSync(descriptor);
    descriptor = undefined;
    renameSync(temporary, file);
  } catch (error) {
    if (descriptor !== undefined) closeSync(descriptor);
    rmSync(temporary, { force: true });
    throw error;
  }
}
