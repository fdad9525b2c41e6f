/**
 * The one way tensorrt-node replaces a file (engine cache entries, models, calibration tables,
 * engines, bench results and reports, batch checkpoints, `run` outputs): write a temporary file next
 * to the target, fsync it, rename it over the target (atomic on POSIX file systems), and fsync the
 * directory so the rename itself survives a power cut. A reader sees the old file or the new one,
 * never half of one, and a failure leaves no temporary file and the previous target untouched.
 *
 * What is at the target decides how it is written (`classifyTarget`, the one place that looks):
 * - nothing, or a regular file: replaced as above; a replaced file keeps its mode (a 0600 model
 *   converted in place stays 0600);
 * - a character device (/dev/null, a terminal) or the process's own standard streams named as
 *   /dev/stdout, /dev/stderr, /dev/fd/N or /proc/self/fd/N: written through, appended, never
 *   replaced (naming one is a clear intent to write to it; only root can create a device node);
 * - anything else is refused with ERR_IO before a byte is written: a folder, a FIFO, a socket, a
 *   block device, and a symbolic link, which is neither followed nor replaced (the message names
 *   where it points, so the user can name that file instead).
 *
 * Temporary names carry the writer's host, pid and process start time, so a later sweep can remove
 * the leftovers of a killed writer without ever touching a file that a live process is still writing;
 * the first write to a target in a process sweeps that target's leftovers (`cache prune` sweeps the
 * cache's folders). Every file-system call goes through `fileIo` (file-io.ts), the seam tests inject
 * faults into.
 *
 * Failures are ERR_IO errors naming the target (not the temporary file) and the reason in words;
 * the operating system's error is their `cause` and `details.errno` (see `systemErrorOf`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ErrorCode, TensorRTNodeError } from './errors.js';
import { fileIo, errnoCode, removeFile, describeFileKind, WRITE_CHUNK_BYTES } from './file-io.js';
import { currentProcess, processState } from './process-identity.js';

const tempNamePattern = /^\.(.+)\.([0-9a-f]{8})\.(\d+)\.(\d+|x)\.([0-9a-f]{8})\.tmp$/;

/** Longest target name kept whole in a temporary name: the rest (~45 bytes) must fit NAME_MAX (255). */
const MAX_STEM_BYTES = 200;

/**
 * The target's part of its temporary names: its file name, or for a name too long to leave room
 * for the writer's identity, a prefix of it plus a hash of the whole name (still unique per target).
 */
export function temporaryStem(targetName: string): string {
  if (Buffer.byteLength(targetName) <= MAX_STEM_BYTES) return targetName;
  let prefix = targetName.slice(0, 160);
  while (Buffer.byteLength(prefix) > 160) prefix = prefix.slice(0, -1);
  return `${prefix}~${createHash('sha256').update(targetName).digest('hex').slice(0, 16)}`;
}

/** `.<target>.<hostTag>.<pid>.<startTicks>.<random>.tmp`, in the target's directory. */
export function temporaryPathFor(targetPath: string): string {
  const self = currentProcess();
  const name = `.${temporaryStem(basename(targetPath))}.${self.hostTag}.${self.pid}.${self.startTicks ?? 'x'}.${randomBytes(4).toString('hex')}.tmp`;
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
  ENAMETOOLONG: 'the file name is too long',
};

/** A failed write as ERR_IO naming the target and why (not the temporary file's name). */
function writeError(target: string, error: unknown, options: AtomicWriteOptions): TensorRTNodeError {
  const code = errnoCode(error);
  const known = code === undefined ? undefined : reasons[code];
  const reason = known ? `${known} (${code})` : error instanceof Error ? error.message : String(error);
  const what = options.description ? `${options.description} ` : '';
  const ErrorClass = options.errorClass ?? TensorRTNodeError;
  return new ErrorClass(ErrorCode.IO, `Cannot write ${what}${target}: ${reason}`, {
    cause: error,
    details: { file: target, errno: code ?? null },
  });
}

/** Bytes to write, as views (never copies) in the order given. */
function piecesOf(content: FileContent): Iterable<Uint8Array> {
  if (typeof content === 'string') return [Buffer.from(content, 'utf8')];
  if (content instanceof Uint8Array) return [content];
  return content;
}

/** How a target is written, from what is at its path now (see the module comment). */
type TargetPlan = { kind: 'replace'; mode: number; exact: boolean } | { kind: 'write-through'; follow: boolean };

/**
 * The process's own standard streams and file descriptors, by the names shells and users give them.
 * These are links by nature (to a pipe, a terminal, a file), followed on purpose.
 */
const standardStreamPattern = /^\/(?:dev\/(?:stdout|stderr|fd\/\d+)|proc\/self\/fd\/\d+)$/;

function refusal(target: string, why: string, options: AtomicWriteOptions, errno: string): TensorRTNodeError {
  const what = options.description ? `${options.description} ` : '';
  const ErrorClass = options.errorClass ?? TensorRTNodeError;
  return new ErrorClass(ErrorCode.IO, `Cannot write ${what}${target}: ${why}`, { details: { file: target, errno } });
}

/** ERR_IO for a target that is not written at all (a FIFO, a link, ...), before anything is written. */
function refuseKind(target: string, stats: Stats, options: AtomicWriteOptions): TensorRTNodeError {
  if (stats.isDirectory()) return refusal(target, 'it is a folder', options, 'EISDIR');
  return refusal(
    target,
    `it is ${describeFileKind(stats)}; only regular files are replaced (character devices such as /dev/null, and /dev/stdout and /dev/stderr, are written through)`,
    options,
    'ENOTREGULAR',
  );
}

/**
 * Decides how `target` is written from what is at its path now; the one place that looks at the
 * target before writing. Refusals are ERR_IO errors, thrown before anything is written.
 */
async function classifyTarget(target: string, options: AtomicWriteOptions): Promise<TargetPlan> {
  if (standardStreamPattern.test(target)) {
    const stats = await fileIo.stat(target).catch((error: unknown) => {
      throw writeError(target, error, options);
    });
    if (stats.isDirectory()) throw refuseKind(target, stats, options);
    return { kind: 'write-through', follow: true };
  }
  let stats: Stats;
  try {
    stats = await fileIo.lstat(target);
  } catch (error) {
    // Missing: a new file. ENOTDIR/EACCES and the like surface from the temporary file's creation.
    return { kind: 'replace', mode: options.mode ?? 0o644, exact: false };
  }
  if (stats.isFile())
    return options.mode === undefined
      ? { kind: 'replace', mode: stats.mode & 0o7777, exact: true }
      : { kind: 'replace', mode: options.mode, exact: false };
  if (stats.isCharacterDevice()) return { kind: 'write-through', follow: false };
  if (stats.isSymbolicLink()) {
    const destination = await fileIo.readlink(target).catch(() => '?');
    throw refusal(
      target,
      `it is a symbolic link (to ${destination}); links are neither followed nor replaced: name the file itself, or remove the link`,
      options,
      'ELOOP',
    );
  }
  throw refuseKind(target, stats, options);
}

/**
 * Writes `content` through to a character device or a standard stream: opened without creating or
 * truncating anything, appended (a log that stdout was redirected to with >> is never overwritten),
 * without fsync (pipes and terminals have none). Checks after opening that it is still what was
 * classified, so a target swapped in between is refused rather than written.
 */
async function writeThrough(target: string, content: FileContent, follow: boolean, options: AtomicWriteOptions): Promise<void> {
  let handle: FileHandle;
  try {
    handle = await fileIo.open(target, constants.O_WRONLY | constants.O_APPEND | (follow ? 0 : constants.O_NOFOLLOW));
  } catch (error) {
    throw writeError(target, error, options);
  }
  try {
    const stats = await handle.stat();
    if (stats.isDirectory() || (!follow && !stats.isCharacterDevice())) throw refuseKind(target, stats, options);
    for (const piece of piecesOf(content)) {
      for (let offset = 0; offset < piece.byteLength; offset += WRITE_CHUNK_BYTES) {
        await fileIo.appendChunk(handle, piece.subarray(offset, Math.min(offset + WRITE_CHUNK_BYTES, piece.byteLength)));
      }
    }
  } catch (error) {
    throw error instanceof TensorRTNodeError ? error : writeError(target, error, options);
  } finally {
    await handle.close();
  }
}

/** Writes `content` into a new temporary file next to `target` and returns its path (not yet renamed). */
async function writeTemporary(
  target: string,
  content: FileContent,
  { mode, exact }: { mode: number; exact: boolean },
  options: AtomicWriteOptions,
): Promise<string> {
  const temporaryPath = temporaryPathFor(target);
  try {
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
 * Replaces several files that belong together (a model and its external data): every target is
 * classified first and every temporary file written next, so a refused target, a full disk or a
 * read-only folder changes none of the targets; then they are renamed (or written through) in the
 * order given. Callers order them so that a file is renamed only after everything it refers to is in
 * place (external data before the model).
 */
export async function writeFilesAtomic(
  files: readonly AtomicFile[],
  options: Omit<AtomicWriteOptions, 'mode' | 'description'> = {},
): Promise<void> {
  const plans: TargetPlan[] = [];
  for (const file of files)
    plans.push(await classifyTarget(file.path, { ...options, mode: file.mode, description: file.description }));
  const written: { temporaryPath: string | null; file: AtomicFile; plan: TargetPlan }[] = [];
  try {
    for (const [index, file] of files.entries()) {
      const plan = plans[index]!;
      const fileOptions = { ...options, mode: file.mode, description: file.description };
      written.push({
        temporaryPath: plan.kind === 'replace' ? await writeTemporary(file.path, file.content, plan, fileOptions) : null,
        file,
        plan,
      });
    }
    const directories = new Set<string>();
    for (const { temporaryPath, file, plan } of written) {
      if (plan.kind === 'write-through') {
        await writeThrough(file.path, file.content, plan.follow, { ...options, description: file.description });
        continue;
      }
      try {
        await fileIo.rename(temporaryPath!, file.path);
      } catch (error) {
        throw writeError(file.path, error, { ...options, description: file.description });
      }
      directories.add(dirname(file.path));
    }
    if (options.durable !== false) {
      for (const directory of directories) {
        try {
          await syncDirectory(directory);
        } catch (error) {
          throw writeError(files.find((file) => dirname(file.path) === directory)!.path, error, options);
        }
      }
    }
  } finally {
    // After a failure, the temporaries not renamed yet; after success there are none (ENOENT is fine).
    await Promise.all(
      written.map(({ temporaryPath }) => (temporaryPath === null ? undefined : removeFile(temporaryPath).catch(() => undefined))),
    );
  }
  for (const [index, file] of files.entries()) if (plans[index]!.kind === 'replace') await sweepOnce(file.path);
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
  /** Only the temporary files of this target name (a file name in `directory`); default: all. */
  target?: string;
}

/** Temporary files of writers on other hosts (whose liveness cannot be checked) are removed after this. */
export const FOREIGN_TEMPORARY_MAX_AGE_MS = 24 * 60 * 60_000;

/**
 * Removes the temporary files in `directory` whose writer is dead (same host), or that are older than
 * `maxAgeMs` (other hosts, where liveness cannot be checked). Only files and links named like this
 * module's temporary files are removed (a folder so named is left alone). Returns how many were removed.
 */
export async function sweepTemporaryFiles(directory: string, { maxAgeMs, target }: SweepOptions): Promise<number> {
  let names: string[];
  try {
    names = await fileIo.readdir(directory);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return 0;
    throw error;
  }
  const stem = target === undefined ? undefined : temporaryStem(target);
  let removed = 0;
  for (const name of names) {
    const owner = parseTemporaryName(name);
    if (!owner || (stem !== undefined && owner.target !== stem)) continue;
    const path = join(directory, name);
    const state = processState(owner);
    if (state === 'alive') continue;
    const stats = await fileIo.lstat(path).catch(() => undefined);
    if (!stats || !(stats.isFile() || stats.isSymbolicLink())) continue;
    if (state === 'unknown' && Date.now() - stats.mtimeMs < maxAgeMs) continue;
    try {
      await fileIo.unlink(path);
      removed++;
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') throw error;
    }
  }
  return removed;
}

/** Targets this process already swept; bounded, since a process may write millions of distinct files. */
const sweptTargets = new Set<string>();

/**
 * After the first successful write to `target` in this process, removes what killed writers of the
 * same target left next to it. Best effort: a sweep never fails the write it follows.
 */
async function sweepOnce(target: string): Promise<void> {
  if (sweptTargets.has(target)) return;
  if (sweptTargets.size >= 10_000) sweptTargets.clear();
  sweptTargets.add(target);
  await sweepTemporaryFiles(dirname(target), { maxAgeMs: FOREIGN_TEMPORARY_MAX_AGE_MS, target: basename(target) }).catch(
    () => undefined,
  );
}
