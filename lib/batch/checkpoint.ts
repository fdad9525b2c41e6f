/**
 * The checkpoint of a batch job, `<output>.checkpoint.json`, next to the output it describes:
 * which job it is (model hash, input identity, shard, batch size), how many of the shard's records
 * are done, and for each file the job appends to (the output, and `<output>.rejects.jsonl` for
 * records refused with --on-error skip) how many lines it holds, its byte length and the sha256 of
 * those bytes at that point, and whether the job is complete.
 *
 * Order of writes, per batch: the batch's lines are appended to the output (and rejects), then the
 * checkpoint is replaced atomically (temporary file + rename). So at any instant, a process killed
 * (SIGKILL, OOM, preemption) leaves a checkpoint that counts only lines fully in the files; lines
 * appended after it are cut off on resume and computed again, never duplicated.
 *
 * Nothing in a checkpoint is trusted: on resume every field is checked for shape, the counts against
 * each other and against the shard, and each file's recorded bytes against the file itself (length,
 * line count, digest). Any mismatch refuses to resume with a message saying what differs, so an
 * edited or foreign checkpoint can never make the job write wrong output. The one difference that is
 * repaired is a file shorter than recorded: a machine crash can lose page-cache data the checkpoint
 * already counted. For that the checkpoint keeps `anchors`, earlier states of both files (spaced
 * ever wider into the past, at most MAX_ANCHORS): the job goes back to the newest anchor both files
 * still match, digest and line count, and computes the rest again (see ./output-files.ts).
 */
import { writeFileAtomic } from '../core/atomic-write.js';
import { ErrorCode, TensorRTNodeError } from '../core/errors.js';
import { NotRegularFileError, readRegularFile, unlessMissing } from '../core/file-io.js';

export const CHECKPOINT_FORMAT = 'tensorrt-node-batch-checkpoint';
export const CHECKPOINT_VERSION = 2;

/** A checkpoint is a few hundred bytes; a bigger file at its path is not one. */
const MAX_CHECKPOINT_BYTES = 1024 * 1024;

export interface JobIdentity {
  /** sha256 of the model file. */
  model: string;
  input: Record<string, unknown>;
  /** "i/n" */
  shard: string;
  batchSize: number;
}

/** What a file the job appends to holds at a checkpoint. */
export interface FileState {
  /** Lines (records) in it. */
  records: number;
  bytes: number;
  /** sha256 (hex) of those bytes. */
  sha256: string;
}

/** The state of both files at one point of the job. */
export interface Anchor {
  /** Records of this shard done at that point: output lines plus rejected. */
  recordsDone: number;
  output: FileState;
  rejects: FileState;
}

export interface Checkpoint extends Anchor {
  format: typeof CHECKPOINT_FORMAT;
  version: typeof CHECKPOINT_VERSION;
  job: JobIdentity;
  complete: boolean;
  /** Earlier states to recover to after a crash, oldest first; the first is where the job started. */
  anchors: Anchor[];
}

/** Anchors kept: enough to span from the job's start to its last batch with ever wider gaps. */
export const MAX_ANCHORS = 24;

/**
 * Adds `current` to `anchors` and thins them to MAX_ANCHORS: the first (the job's start) and the
 * newest stay; of the others, the one whose neighbours are closest together relative to its age goes
 * first. Recent batches keep close anchors, old ones sparse: a crash loses recent page-cache data.
 */
export function withAnchor(anchors: readonly Anchor[], current: Anchor): Anchor[] {
  const kept = [...anchors.filter((anchor) => anchor.recordsDone < current.recordsDone), current];
  while (kept.length > MAX_ANCHORS) {
    let drop = 1;
    let best = Infinity;
    for (let index = 1; index < kept.length - 1; index++) {
      const score =
        (kept[index + 1]!.recordsDone - kept[index - 1]!.recordsDone) / (current.recordsDone - kept[index - 1]!.recordsDone + 1);
      if (score < best) {
        best = score;
        drop = index;
      }
    }
    kept.splice(drop, 1);
  }
  return kept;
}

/** sha256 of no bytes: the state of a file nothing was written to. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export function emptyFileState(): FileState {
  return { records: 0, bytes: 0, sha256: EMPTY_SHA256 };
}

export function checkpointPathFor(output: string): string {
  return `${output}.checkpoint.json`;
}

function refuse(path: string, why: string): TensorRTNodeError {
  return new TensorRTNodeError(ErrorCode.IO, `Cannot resume from the checkpoint ${path}: ${why}; pass --restart to start over`, {
    details: { checkpoint: path },
  });
}

const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

function checkFileState(value: unknown, name: string, path: string): FileState {
  const state = value as Partial<FileState> | null;
  if (typeof state !== 'object' || state === null) throw refuse(path, `its "${name}" is not an object`);
  for (const key of ['records', 'bytes'] as const) {
    if (!isCount(state[key])) throw refuse(path, `its "${name}.${key}" is ${JSON.stringify(state[key])}, not a count`);
  }
  if (typeof state.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(state.sha256))
    throw refuse(path, `its "${name}.sha256" is not a sha256 digest`);
  if (state.records! > state.bytes!) throw refuse(path, `its "${name}" counts ${state.records} lines in ${state.bytes} bytes`);
  return state as FileState;
}

function checkAnchor(value: unknown, name: string, path: string): Anchor {
  const anchor = value as Partial<Anchor> | null;
  if (typeof anchor !== 'object' || anchor === null) throw refuse(path, `its "${name}" is not an object`);
  if (!isCount(anchor.recordsDone))
    throw refuse(path, `its "${name}.recordsDone" is ${JSON.stringify(anchor.recordsDone)}, not a count`);
  const output = checkFileState(anchor.output, `${name}.output`, path);
  const rejects = checkFileState(anchor.rejects, `${name}.rejects`, path);
  if (output.records + rejects.records !== anchor.recordsDone) {
    throw refuse(
      path,
      `its "${name}" counts ${anchor.recordsDone} records done but ${output.records} output lines and ${rejects.records} rejected`,
    );
  }
  return anchor as Anchor;
}

/**
 * Reads and checks the checkpoint at `path` (null when there is none): its format, version, every
 * count, and that they add up (output lines + rejected = records done, at most `shardTotal`, all of
 * them when it says complete; anchors in order, none past the checkpoint). Anything else is ERR_IO
 * saying what is wrong.
 */
export async function loadCheckpoint(path: string, shardTotal: number): Promise<Checkpoint | null> {
  let text: string | undefined;
  try {
    text = await unlessMissing(() => readRegularFile(path, MAX_CHECKPOINT_BYTES, 'utf8'));
  } catch (error) {
    if (error instanceof NotRegularFileError) throw refuse(path, `it is ${error.kind}, not a file`);
    throw new TensorRTNodeError(ErrorCode.IO, `Cannot read the checkpoint ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (text === undefined) return null;
  let parsed: Partial<Checkpoint> & { version?: unknown };
  try {
    parsed = JSON.parse(text) as Partial<Checkpoint>;
  } catch {
    throw refuse(path, 'it is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || parsed.format !== CHECKPOINT_FORMAT)
    throw refuse(path, `it is not a tensorrt-node batch checkpoint (format ${CHECKPOINT_FORMAT})`);
  if (parsed.version !== CHECKPOINT_VERSION)
    throw refuse(
      path,
      `it has version ${JSON.stringify(parsed.version)}; this tensorrt-node resumes version ${CHECKPOINT_VERSION} only`,
    );
  const job = parsed.job as Partial<JobIdentity> | undefined;
  if (
    typeof job !== 'object' ||
    job === null ||
    typeof job.model !== 'string' ||
    typeof job.shard !== 'string' ||
    !isCount(job.batchSize) ||
    typeof job.input !== 'object' ||
    job.input === null
  ) {
    throw refuse(path, 'its "job" does not describe a job');
  }
  if (!isCount(parsed.recordsDone)) throw refuse(path, `its "recordsDone" is ${JSON.stringify(parsed.recordsDone)}, not a count`);
  if (typeof parsed.complete !== 'boolean')
    throw refuse(path, `its "complete" is ${JSON.stringify(parsed.complete)}, not true or false`);
  const output = checkFileState(parsed.output, 'output', path);
  const rejects = checkFileState(parsed.rejects, 'rejects', path);
  if (output.records + rejects.records !== parsed.recordsDone) {
    throw refuse(
      path,
      `it counts ${parsed.recordsDone} records done but ${output.records} output lines and ${rejects.records} rejected`,
    );
  }
  if (!Array.isArray(parsed.anchors) || parsed.anchors.length === 0 || parsed.anchors.length > MAX_ANCHORS)
    throw refuse(path, `its "anchors" is not a list of 1 to ${MAX_ANCHORS} states`);
  let previous: Anchor | undefined;
  for (const [index, value] of parsed.anchors.entries()) {
    const anchor = checkAnchor(value, `anchors[${index}]`, path);
    const last: Anchor = { recordsDone: parsed.recordsDone, output, rejects };
    const after = (earlier: Anchor, later: Anchor) =>
      later.recordsDone >= earlier.recordsDone &&
      later.output.bytes >= earlier.output.bytes &&
      later.rejects.bytes >= earlier.rejects.bytes &&
      later.output.records >= earlier.output.records &&
      later.rejects.records >= earlier.rejects.records;
    if ((previous && (anchor.recordsDone <= previous.recordsDone || !after(previous, anchor))) || !after(anchor, last)) {
      throw refuse(path, `its "anchors[${index}]" is out of order with the states before or after it`);
    }
    previous = anchor;
  }
  if (parsed.recordsDone > shardTotal)
    throw refuse(path, `it counts ${parsed.recordsDone} records done, more than the ${shardTotal} of this shard`);
  if (parsed.complete && parsed.recordsDone !== shardTotal)
    throw refuse(path, `it says the job is complete but counts ${parsed.recordsDone} of the shard's ${shardTotal} records`);
  return parsed as Checkpoint;
}

/**
 * Replaces the checkpoint atomically; `sync` also makes it durable (at the end of a job). Between
 * batches it is not flushed, so no batch waits on the disk: what a machine crash loses is handled on
 * resume (see the module comment).
 */
export async function saveCheckpoint(path: string, checkpoint: Checkpoint, { sync = false } = {}): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(checkpoint, null, 2)}\n`, { durable: sync, description: 'checkpoint' });
}

/** The fields in which two job identities differ (empty when they are the same job). */
export function jobDifferences(saved: JobIdentity, current: JobIdentity): string[] {
  const differences: string[] = [];
  if (saved.model !== current.model) differences.push('the model');
  if (JSON.stringify(saved.input) !== JSON.stringify(current.input)) differences.push('the input');
  if (saved.shard !== current.shard) differences.push(`the shard (${saved.shard} then, ${current.shard} now)`);
  if (saved.batchSize !== current.batchSize)
    differences.push(`the batch size (${saved.batchSize} then, ${current.batchSize} now)`);
  return differences;
}
