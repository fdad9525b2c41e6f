/**
 * The checkpoint of a batch job, `<output>.checkpoint.json`, next to the output it describes:
 * which job it is (model hash, input identity, shard, batch size), how many of the shard's records
 * the output holds and its byte length at that point, and whether the job is complete.
 *
 * Order of writes, per batch: the batch's lines are appended to the output, then the checkpoint is
 * replaced atomically (temporary file + rename). So at any instant, a process killed (SIGKILL, OOM,
 * preemption) leaves a checkpoint that counts only lines fully in the output; lines appended after
 * it are cut off on resume and computed again, never duplicated. A machine crash can lose page-cache
 * data the checkpoint already counted: resume then finds the output shorter than recorded, keeps its
 * complete lines (each names its record) and continues after the last one.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../core/atomic-write.js';
import { ErrorCode, TensorRTNodeError } from '../core/errors.js';

export const CHECKPOINT_FORMAT = 'tensorrt-node-batch-checkpoint';

export interface JobIdentity {
  /** sha256 of the model file. */
  model: string;
  input: Record<string, unknown>;
  /** "i/n" */
  shard: string;
  batchSize: number;
}

export interface Checkpoint {
  format: typeof CHECKPOINT_FORMAT;
  version: 1;
  job: JobIdentity;
  /** Records of this shard whose lines are in the output. */
  recordsDone: number;
  /** The output's byte length holding exactly those lines. */
  outputBytes: number;
  complete: boolean;
}

export function checkpointPathFor(output: string): string {
  return `${output}.checkpoint.json`;
}

export async function loadCheckpoint(path: string): Promise<Checkpoint | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new TensorRTNodeError(ErrorCode.IO, `Cannot read the checkpoint ${path}: ${(error as Error).message}`);
  }
  let parsed: Partial<Checkpoint>;
  try {
    parsed = JSON.parse(text) as Partial<Checkpoint>;
  } catch {
    throw new TensorRTNodeError(ErrorCode.IO, `The checkpoint ${path} is not valid JSON; remove it (or pass --restart) to start over`);
  }
  if (parsed.format !== CHECKPOINT_FORMAT || parsed.version !== 1 || typeof parsed.recordsDone !== 'number' || typeof parsed.outputBytes !== 'number' || typeof parsed.job !== 'object') {
    throw new TensorRTNodeError(ErrorCode.IO, `${path} is not a tensorrt-node batch checkpoint (format ${CHECKPOINT_FORMAT} version 1)`);
  }
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
  if (saved.batchSize !== current.batchSize) differences.push(`the batch size (${saved.batchSize} then, ${current.batchSize} now)`);
  return differences;
}
