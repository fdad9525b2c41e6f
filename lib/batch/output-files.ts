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
import type { Anchor, FileState } from './checkpoint.js';

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
    const link = stats.isSymbolicLink()
      ? ` (to ${await fileIo.readlink(path).catch(() => '?')}); links are neither followed nor replaced`
      : '';
    throw ioError(
      `Cannot use ${path} as the ${description}: it is ${describeFileKind(stats)}${link}; a batch job writes regular files only`,
    );
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
      throw ioError(
        `Cannot use ${path} as the ${description}: it is ${describeFileKind(stats)}; a batch job writes regular files only`,
      );
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
export async function verifyPrefix(
  path: string,
  state: FileState,
): Promise<{ hash: Hash; mismatch?: undefined } | { hash?: undefined; mismatch: string }> {
  const prefix = await readPrefix(path, state.bytes);
  if (prefix.bytes < state.bytes) return { mismatch: `it holds ${prefix.bytes} bytes, fewer than the ${state.bytes} recorded` };
  if (!prefix.endsWithNewline) return { mismatch: `its byte ${state.bytes} recorded as the end of a line is not a newline` };
  if (prefix.records !== state.records)
    return { mismatch: `its first ${state.bytes} bytes hold ${prefix.records} lines, not the ${state.records} recorded` };
  if (prefix.sha256 !== state.sha256)
    return {
      mismatch: `its first ${state.bytes} bytes differ from what was written (sha256 ${prefix.sha256.slice(0, 12)}..., recorded ${state.sha256.slice(0, 12)}...)`,
    };
  return { hash: prefix.hash };
}

/**
 * Which of `states` (each a length, line count and digest of a prefix) the file at `path` still
 * begins with, in one streamed pass: the digest and the newlines counted at each length are compared.
 * A missing file matches only empty states.
 */
async function matchingStates(path: string, states: readonly FileState[]): Promise<boolean[]> {
  const matches = states.map(
    (state) => state.bytes === 0 && state.records === 0 && state.sha256 === createHash('sha256').digest('hex'),
  );
  const order = states
    .map((state, index) => ({ state, index }))
    .filter(({ state }) => state.bytes > 0)
    .sort((a, b) => a.state.bytes - b.state.bytes);
  if (order.length === 0 || (await unlessMissing(() => fileIo.lstat(path))) === undefined) return matches;
  const hash = createHash('sha256');
  let newlines = 0;
  let position = 0;
  let next = 0;
  const handle = await openRegularFile(path);
  try {
    const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    while (next < order.length) {
      const limit = Math.min(buffer.byteLength, order[next]!.state.bytes - position);
      const filled = await fileIo.readInto(handle, buffer.subarray(0, limit), position);
      if (filled === 0) break;
      const chunk = buffer.subarray(0, filled);
      hash.update(chunk);
      for (let at = chunk.indexOf(0x0a); at !== -1; at = chunk.indexOf(0x0a, at + 1)) newlines++;
      position += filled;
      while (next < order.length && order[next]!.state.bytes === position) {
        const { state, index } = order[next]!;
        matches[index] = newlines === state.records && hash.copy().digest('hex') === state.sha256;
        next++;
      }
    }
  } finally {
    await handle.close();
  }
  return matches;
}

/** What a recovery kept: the anchor gone back to, and each file's digest to continue from. */
export interface Recovered {
  anchor: Anchor;
  outputHash: Hash;
  rejectsHash: Hash;
}

/**
 * After a machine crash (a file shorter than its checkpoint says): goes back to the newest anchor
 * that both files still begin with (length, line count and digest, so no damaged or foreign line is
 * ever kept), cuts both files there, and returns it. Undefined when none matches.
 */
export async function recoverToAnchor(
  outputPath: string,
  rejectsPath: string,
  anchors: readonly Anchor[],
): Promise<Recovered | undefined> {
  const outputMatches = await matchingStates(
    outputPath,
    anchors.map((anchor) => anchor.output),
  );
  const rejectsMatches = await matchingStates(
    rejectsPath,
    anchors.map((anchor) => anchor.rejects),
  );
  for (let index = anchors.length - 1; index >= 0; index--) {
    if (!outputMatches[index] || !rejectsMatches[index]) continue;
    const anchor = anchors[index]!;
    const cut = async (path: string, state: FileState) => {
      if ((await unlessMissing(() => fileIo.lstat(path))) !== undefined) await truncateRegular(path, state.bytes);
      return (await readPrefix(path, state.bytes)).hash;
    };
    return { anchor, outputHash: await cut(outputPath, anchor.output), rejectsHash: await cut(rejectsPath, anchor.rejects) };
  }
  return undefined;
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
