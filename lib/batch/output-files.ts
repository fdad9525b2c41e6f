/**
 * The files a batch job appends to (the output and `<output>.rejects.jsonl`): opened as regular files
 * only, checked against the checkpoint before a resume, recovered after a machine crash, and
 * appended to with a running sha256 so each checkpoint records what the file holds.
 *
 * Every read here streams (fixed-size chunks): outputs of many GiB are checked and recovered in
 * bounded memory. (Reading the whole output at once failed past 2 GiB and, silently, restarted the
 * job from record 0.)
 */
import { createHash, type Hash } from 'node:crypto';
import { constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { ErrorCode, TensorRTNodeError } from '../core/errors.js';
import { describeFileKind, errnoCode, fileIo, openRegularFile, unlessMissing } from '../core/file-io.js';
import type { FileState } from './checkpoint.js';
import { scanLines } from './lines.js';
import type { Shard } from './records.js';

const CHUNK_BYTES = 4 * 1024 * 1024;

function ioError(message: string, cause?: unknown): TensorRTNodeError {
  return new TensorRTNodeError(ErrorCode.IO, message, cause === undefined ? {} : { cause });
}

/**
 * Refuses a path that holds something other than a regular file (a link, a FIFO, a device, a
 * folder): a job's files are appended to and truncated, which must never happen through a link or to
 * a device. Returns its size, or null when nothing is there.
 */
export async function regularFileSize(path: string, description: string): Promise<number | null> {
  const stats = await unlessMissing(() => fileIo.lstat(path));
  if (!stats) return null;
  if (!stats.isFile()) {
    const link = stats.isSymbolicLink() ? ` (to ${await fileIo.readlink(path).catch(() => '?')}); links are neither followed nor replaced` : '';
    throw ioError(`Cannot use ${path} as the ${description}: it is ${describeFileKind(stats)}${link}; a batch job writes regular files only`);
  }
  return stats.size;
}

/** A file the job appends to, with the running digest of everything in it. */
export class AppendedFile {
  readonly path: string;
  readonly state: FileState;
  readonly #handle: FileHandle;
  readonly #hash: Hash;

  private constructor(path: string, handle: FileHandle, hash: Hash, state: FileState) {
    this.path = path;
    this.#handle = handle;
    this.#hash = hash;
    this.state = { ...state };
  }

  /**
   * Opens `path` to append after `state` (its bytes already verified and `hash` fed with them).
   * Created when missing; O_NOFOLLOW, and checked to be a regular file once open.
   */
  static async open(path: string, description: string, state: FileState, hash: Hash): Promise<AppendedFile> {
    let handle: FileHandle;
    try {
      handle = await fileIo.open(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o644);
    } catch (error) {
      if (errnoCode(error) === 'ELOOP') await regularFileSize(path, description);
      throw ioError(`Cannot open the ${description} ${path}: ${(error as Error).message}`, error);
    }
    const stats = await handle.stat();
    if (!stats.isFile()) {
      await handle.close();
      throw ioError(`Cannot use ${path} as the ${description}: it is ${describeFileKind(stats)}; a batch job writes regular files only`);
    }
    return new AppendedFile(path, handle, hash, state);
  }

  /** Appends `lines` (whole lines, each ending in a newline) and updates the state and digest. */
  async append(text: string, lines: number): Promise<void> {
    if (text.length === 0) return;
    const bytes = Buffer.from(text, 'utf8');
    await fileIo.appendChunk(this.#handle, bytes);
    this.#hash.update(bytes);
    this.state.records += lines;
    this.state.bytes += bytes.byteLength;
    this.state.sha256 = this.#hash.copy().digest('hex');
  }

  async sync(): Promise<void> {
    await this.#handle.sync();
  }

  async close(): Promise<void> {
    await this.#handle.close();
  }
}

/** What the first `bytes` bytes of a file hold: lines, digest, and the hash to continue from. */
interface Prefix {
  records: number;
  sha256: string;
  hash: Hash;
  /** Whether the prefix ends with a newline (or is empty). */
  endsWithNewline: boolean;
  /** Bytes actually there (fewer than asked when the file is shorter). */
  bytes: number;
}

/** Streams the first `bytes` bytes of `path` (regular files only) through sha256, counting newlines. */
async function readPrefix(path: string, bytes: number): Promise<Prefix> {
  const hash = createHash('sha256');
  let records = 0;
  let read = 0;
  let lastByte = 0x0a;
  if (bytes > 0) {
    const handle = await openRegularFile(path);
    try {
      const buffer = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, bytes));
      while (read < bytes) {
        const filled = await fileIo.readInto(handle, buffer.subarray(0, Math.min(buffer.byteLength, bytes - read)), read);
        if (filled === 0) break;
        const chunk = buffer.subarray(0, filled);
        hash.update(chunk);
        for (let at = chunk.indexOf(0x0a); at !== -1; at = chunk.indexOf(0x0a, at + 1)) records++;
        lastByte = chunk[filled - 1]!;
        read += filled;
      }
    } finally {
      await handle.close();
    }
  }
  return { records, sha256: hash.copy().digest('hex'), hash, endsWithNewline: lastByte === 0x0a, bytes: read };
}

/**
 * Checks that `path` begins with exactly what `state` records (its length, line count and digest);
 * returns the digest to continue from, or why it does not (for the refusal's message).
 */
export async function verifyPrefix(path: string, state: FileState): Promise<{ hash: Hash; mismatch?: undefined } | { hash?: undefined; mismatch: string }> {
  const prefix = await readPrefix(path, state.bytes);
  if (prefix.bytes < state.bytes) return { mismatch: `it holds ${prefix.bytes} bytes, fewer than the ${state.bytes} recorded` };
  if (!prefix.endsWithNewline) return { mismatch: `its byte ${state.bytes} recorded as the end of a line is not a newline` };
  if (prefix.records !== state.records) return { mismatch: `its first ${state.bytes} bytes hold ${prefix.records} lines, not the ${state.records} recorded` };
  if (prefix.sha256 !== state.sha256) return { mismatch: `its first ${state.bytes} bytes differ from what was written (sha256 ${prefix.sha256.slice(0, 12)}..., recorded ${state.sha256.slice(0, 12)}...)` };
  return { hash: prefix.hash };
}

/** The record index a line of the output or rejects names, when the line looks whole; else undefined. */
function recordOf(line: { head: Buffer; last: number; hasNul: boolean }): number | undefined {
  if (line.hasNul || line.last !== 0x7d /* } */) return undefined;
  const match = /^\{"record":(\d+)[,}]/.exec(line.head.toString('latin1'));
  return match ? Number(match[1]) : undefined;
}

/** Whole, well-formed lines at the start of `path` with the record each names, in order, until the first that is not. */
async function wholeLines(path: string): Promise<{ record: number; end: number }[]> {
  const lines: { record: number; end: number }[] = [];
  if ((await unlessMissing(() => fileIo.lstat(path))) === undefined) return lines;
  for await (const line of scanLines(path)) {
    const record = recordOf(line);
    if (record === undefined) break;
    lines.push({ record, end: line.end });
  }
  return lines;
}

/** What a recovery kept: records done, and each file's verified state and digest. */
export interface Recovered {
  recordsDone: number;
  output: { state: FileState; hash: Hash };
  rejects: { state: FileState; hash: Hash };
}

/**
 * After a machine crash (a file shorter than its checkpoint says): keeps the longest run of whole
 * lines, across the output and the rejects file together, that accounts for the shard's records in
 * order with none missing; cuts both files there and computes their states anew. Lines after a gap,
 * a damaged line (a NUL from a lost page, no closing brace) or a record out of order are dropped and
 * computed again.
 */
export async function recoverFiles(outputPath: string, rejectsPath: string, shard: Shard): Promise<Recovered> {
  const output = await wholeLines(outputPath);
  const rejects = await wholeLines(rejectsPath);
  let fromOutput = 0;
  let fromRejects = 0;
  let position = 0;
  while (true) {
    const expected = shard.index + position * shard.count;
    if (output[fromOutput]?.record === expected) fromOutput++;
    else if (rejects[fromRejects]?.record === expected) fromRejects++;
    else break;
    position++;
  }
  const cut = async (path: string, lines: { end: number }[], kept: number) => {
    const bytes = kept === 0 ? 0 : lines[kept - 1]!.end;
    if ((await unlessMissing(() => fileIo.lstat(path))) !== undefined) await truncateRegular(path, bytes);
    const prefix = await readPrefix(path, bytes);
    return { state: { records: kept, bytes, sha256: prefix.sha256 }, hash: prefix.hash };
  };
  return { recordsDone: position, output: await cut(outputPath, output, fromOutput), rejects: await cut(rejectsPath, rejects, fromRejects) };
}

/** Truncates a regular file (never through a link: opened O_NOFOLLOW) to `bytes`. */
export async function truncateRegular(path: string, bytes: number): Promise<void> {
  const handle = await fileIo.open(path, constants.O_WRONLY | constants.O_NOFOLLOW);
  try {
    if (!(await handle.stat()).isFile()) throw ioError(`Cannot truncate ${path}: it is not a regular file`);
    await handle.truncate(bytes);
  } finally {
    await handle.close();
  }
}

/** A digest fed with nothing: for a file started afresh. */
export function freshHash(): Hash {
  return createHash('sha256');
}
