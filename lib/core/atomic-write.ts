/**
 * The one way tensorrt-node replaces a file (engine cache entries, models, calibration tables,
 * engines, bench results and reports, batch checkpoints, `run` outputs): write a temporary file next
 * to the target, fsync it, rename it over the target (atomic on POSIX file systems), and fsync the
 * directory so the rename itself survives a power cut. A reader sees the old file or the new one,
 * never half of one, and a failure leaves no temporary file and the previous target untouched.
 *
 * Temporary names carry the writer's host, pid and process start time, so a later sweep can remove
 * the leftovers of a killed writer without ever touching a file that a live process is still writing.
 * Every file-system call goes through `fileIo` (file-io.ts), the seam tests inject faults into.
 *
 * Failures are ERR_IO errors naming the target (not the temporary file) and the reason in words;
 * the operating system's error is their `cause` and `details.errno` (see `systemErrorOf`).
 */
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { ErrorCode, TensorRTNodeError } from './errors.js';
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

/** What a file is made of: bytes, text (written as UTF-8), or pieces written one after the other. */
export type FileContent = Uint8Array | string | Iterable<Uint8Array>;

export interface AtomicWriteOptions {
  /**
   * Mode of the new file. Default: the mode of the file it replaces, else 0o644 (less the umask),
   * as for any file a user asked for. The engine cache passes 0o600: it keeps everything owner-only.
   */
  mode?: number;
  /**
   * False skips the fsyncs (file and directory): the replacement stays atomic for readers but may be
   * lost in a power cut. Only for files rewritten so often that a lost version costs nothing (batch
   * checkpoints between batches). Default true.
   */
  durable?: boolean;
  /** What the file is, for messages: "Cannot write results file <path>: ...". Default: nothing. */
  description?: string;
  /** The class of the ERR_IO error (the ONNX toolkit's writes reject with OnnxError). Default TensorRTNodeError. */
  errorClass?: typeof TensorRTNodeError;
}

/** One file of a multi-file commit. */
export interface AtomicFile extends Pick<AtomicWriteOptions, 'mode' | 'description'> {
  path: string;
  content: FileContent;
}

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
function writeError(target: string, error: unknown, options: AtomicWriteOptions): TensorRTNodeError {
  const code = errnoCode(error);
  const known = code === undefined ? undefined : reasons[code];
  const reason = known ? `${known} (${code})` : error instanceof Error ? error.message : String(error);
  const what = options.description ? `${options.description} ` : '';
  const ErrorClass = options.errorClass ?? TensorRTNodeError;
  return new ErrorClass(ErrorCode.IO, `Cannot write ${what}${target}: ${reason}`, { cause: error, details: { file: target, errno: code ?? null } });
}

/** Bytes to write, as views (never copies) in the order given. */
function piecesOf(content: FileContent): Iterable<Uint8Array> {
  if (typeof content === 'string') return [Buffer.from(content, 'utf8')];
  if (content instanceof Uint8Array) return [content];
  return content;
}

/**
 * The mode to create the replacement with, from what is at `target` now. This is the one place that
 * looks at the target before writing: refusing targets that are not regular files (a symlink, a
 * device) belongs here. A symlink is replaced by a regular file today, so its own mode is not used.
 */
async function modeFor(target: string, requested: number | undefined): Promise<{ mode: number; exact: boolean }> {
  if (requested !== undefined) return { mode: requested, exact: false };
  const existing = await fileIo.lstat(target).catch(() => undefined);
  return existing?.isFile() ? { mode: existing.mode & 0o7777, exact: true } : { mode: 0o644, exact: false };
}

/** Writes `content` into a new temporary file next to `target` and returns its path (not yet renamed). */
async function writeTemporary(target: string, content: FileContent, options: AtomicWriteOptions): Promise<string> {
  const temporaryPath = temporaryPathFor(target);
  try {
    const { mode, exact } = await modeFor(target, options.mode);
    const handle = await fileIo.open(temporaryPath, 'wx', mode);
    try {
      // The umask narrowed the mode of a new file; a replaced file keeps exactly the mode it had.
      if (exact) await fileIo.chmod(temporaryPath, mode);
      let position = 0;
      for (const piece of piecesOf(content)) {
        for (let offset = 0; offset < piece.byteLength; offset += WRITE_CHUNK_BYTES) {
          const chunk = piece.subarray(offset, Math.min(offset + WRITE_CHUNK_BYTES, piece.byteLength));
          await fileIo.writeChunk(handle, chunk, position);
          position += chunk.byteLength;
        }
      }
      if (options.durable !== false) await fileIo.fsync(handle);
    } finally {
      await handle.close();
    }
  } catch (error) {
    await removeFile(temporaryPath).catch(() => undefined);
    throw writeError(target, error, options);
  }
  return temporaryPath;
}

/** Replaces `targetPath` with `content` atomically and durably (see the module comment). */
export async function writeFileAtomic(targetPath: string, content: FileContent, options: AtomicWriteOptions = {}): Promise<void> {
  await writeFilesAtomic([{ path: targetPath, content, mode: options.mode, description: options.description }], options);
}

/**
 * Replaces several files that belong together (a model and its external data): every temporary file
 * is written first, so a full disk or a read-only folder changes none of the targets; then they are
 * renamed in the order given. Callers order them so that a file is renamed only after everything it
 * refers to is in place (external data before the model).
 */
export async function writeFilesAtomic(files: readonly AtomicFile[], options: Omit<AtomicWriteOptions, 'mode' | 'description'> = {}): Promise<void> {
  const written: { temporaryPath: string; file: AtomicFile }[] = [];
  try {
    for (const file of files) {
      const temporaryPath = await writeTemporary(file.path, file.content, { ...options, mode: file.mode, description: file.description });
      written.push({ temporaryPath, file });
    }
    const directories = new Set<string>();
    for (const { temporaryPath, file } of written) {
      try {
        await fileIo.rename(temporaryPath, file.path);
      } catch (error) {
        throw writeError(file.path, error, { ...options, description: file.description });
      }
      directories.add(dirname(file.path));
    }
    if (options.durable === false) return;
    for (const directory of directories) {
      try {
        await syncDirectory(directory);
      } catch (error) {
        throw writeError(files.find((file) => dirname(file.path) === directory)!.path, error, options);
      }
    }
  } finally {
    // After a failure, the temporaries not renamed yet; after success there are none (ENOENT is fine).
    await Promise.all(written.map(({ temporaryPath }) => removeFile(temporaryPath).catch(() => undefined)));
  }
}

/** Makes the renames done in `directory` durable. */
async function syncDirectory(directory: string): Promise<void> {
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
