/**
 * An offline batch job: every record of an input (or of one shard of it) through an
 * InferenceSession, outputs written in input order, resumable after any interruption (see
 * ./checkpoint.ts for why no record is lost or written twice).
 *
 * Throughput: records are read and parsed, and batches stacked, while earlier batches run (the
 * session's backend works in its own threads), with up to `contexts + 1` batches in flight; results
 * are formatted and appended strictly in order.
 */
import { open, rm, stat, readFile, truncate } from 'node:fs/promises';
import type { TensorMap } from '../core/tensors.js';
import { ErrorCode, TensorRTNodeError } from '../core/errors.js';
import { hashFile } from '../cache/key.js';
import { InferenceSession } from '../session/inference-session.js';
import type { SessionOptions } from '../session/options.js';
import { splitOutputs, stackFeeds } from '../session/stacking.js';
import { checkpointPathFor, jobDifferences, loadCheckpoint, saveCheckpoint, CHECKPOINT_FORMAT, type Checkpoint, type JobIdentity } from './checkpoint.js';
import { formatRecord } from './output.js';
import { openRecordSource, type BatchRecord, type Shard } from './records.js';

export interface BatchJobOptions {
  model: string;
  input: string;
  output: string;
  /** Records per execution (default 32; 1 for models without a dynamic batch dim). */
  batchSize?: number;
  shard?: Shard;
  /** Discard an existing output and checkpoint and start over. */
  restart?: boolean;
  session?: SessionOptions;
  /** Stops taking new batches: those in flight are written and checkpointed, then the job returns. */
  signal?: AbortSignal;
  onProgress?: (progress: { done: number; total: number; resumedFrom: number }) => void;
}

export interface BatchJobResult {
  /** Records of this shard. */
  total: number;
  /** Records already in the output when this run started. */
  resumedFrom: number;
  /** Records this run added. */
  processed: number;
  /** The checkpoint said the job was already complete: nothing was done. */
  alreadyComplete: boolean;
  /** Stopped by the signal before the end (rerun the same command to resume). */
  interrupted: boolean;
  /** The output was shorter than its checkpoint (a machine crash): its complete lines were kept. */
  recovered: boolean;
  backend: string;
  seconds: number;
}

/** Cuts `output` to its last complete line and counts the lines (records) it keeps. */
async function recoverOutput(output: string): Promise<{ records: number; bytes: number }> {
  const bytes = await readFile(output).catch(() => Buffer.alloc(0));
  const end = bytes.lastIndexOf(0x0a) + 1;
  let records = 0;
  for (let position = 0; position < end; position++) if (bytes[position] === 0x0a) records++;
  await truncate(output, end).catch(() => undefined);
  return { records, bytes: end };
}

async function fileSize(path: string): Promise<number | null> {
  try {
    return (await stat(path)).size;
  } catch {
    return null;
  }
}

interface Batch {
  records: BatchRecord[];
}

/** Groups records into batches of up to `size`; a record whose shapes differ from the batch's starts the next one. */
async function* batchesOf(records: AsyncIterable<BatchRecord>, size: number): AsyncGenerator<Batch> {
  let current: BatchRecord[] = [];
  let key = '';
  try {
    for await (const record of records) {
      const recordKey = Object.values(record.feeds)
        .map((tensor) => tensor.shape.join('x'))
        .join(';');
      if (current.length > 0 && (current.length >= size || recordKey !== key)) {
        yield { records: current };
        current = [];
      }
      key = recordKey;
      current.push(record);
    }
  } catch (error) {
    // The records read before a bad one are still computed and written.
    if (current.length > 0) yield { records: current };
    throw error;
  }
  if (current.length > 0) yield { records: current };
}

export async function runBatchJob(options: BatchJobOptions): Promise<BatchJobResult> {
  const started = performance.now();
  const shard = options.shard ?? { index: 0, count: 1 };
  const requestedBatch = options.batchSize ?? 32;
  const source = await openRecordSource(options.input);
  const total = source.shardTotal(shard);
  const identity: JobIdentity = { model: await hashFile(options.model), input: source.identity, shard: `${shard.index}/${shard.count}`, batchSize: requestedBatch };
  const checkpointPath = checkpointPathFor(options.output);

  if (options.restart) {
    await rm(options.output, { force: true });
    await rm(checkpointPath, { force: true });
  }
  let checkpoint = await loadCheckpoint(checkpointPath);
  let recovered = false;
  if (checkpoint) {
    const differences = jobDifferences(checkpoint.job, identity);
    if (differences.length > 0) {
      throw new TensorRTNodeError(ErrorCode.IO, `${checkpointPath} belongs to another job (${differences.join(', ')} differ): pass --restart to start over, or choose another --output`);
    }
    if (checkpoint.complete) {
      return { total, resumedFrom: checkpoint.recordsDone, processed: 0, alreadyComplete: true, interrupted: false, recovered: false, backend: 'none', seconds: (performance.now() - started) / 1000 };
    }
    const size = (await fileSize(options.output)) ?? 0;
    if (size >= checkpoint.outputBytes) {
      await truncate(options.output, checkpoint.outputBytes).catch(async () => (await open(options.output, 'w')).close());
    } else {
      const kept = await recoverOutput(options.output);
      checkpoint = { ...checkpoint, recordsDone: kept.records, outputBytes: kept.bytes };
      recovered = true;
    }
  } else {
    const size = await fileSize(options.output);
    if (size !== null && size > 0) {
      throw new TensorRTNodeError(ErrorCode.IO, `${options.output} exists and no checkpoint of this job is next to it: pass --restart to overwrite it, or choose another --output`);
    }
    checkpoint = { format: CHECKPOINT_FORMAT, version: 1, job: identity, recordsDone: 0, outputBytes: 0, complete: false };
    await (await open(options.output, 'w')).close();
    await saveCheckpoint(checkpointPath, checkpoint);
  }
  const resumedFrom = checkpoint.recordsDone;

  const session = await InferenceSession.create(options.model, { ...options.session, maxQueue: Number.MAX_SAFE_INTEGER });
  const batchable = session.inputs.every((info) => info.shape.length > 0 && info.shape[0] === -1);
  const batchSize = batchable ? requestedBatch : 1;
  const output = await open(options.output, 'a');
  const state: Checkpoint = checkpoint;
  let processed = 0;
  let interrupted = false;
  try {
    const window = session.contexts + 1;
    const inFlight = new Set<Promise<void>>();
    let writes: Promise<void> = Promise.resolve();
    let failure: unknown = null;
    try {
      for await (const batch of batchesOf(source.read(session.inputs, shard, resumedFrom), batchSize)) {
        if (options.signal?.aborted) {
          interrupted = true;
          break;
        }
        const records = batch.records;
        const running = session.run(stackFeeds(session.inputs, records.map((record) => ({ feeds: record.feeds, rows: 1 }))) as never).then((results) => {
          const split = splitOutputs(results as TensorMap, Object.keys(results), records.map(() => 1));
          return records.map((record, position) => formatRecord(record.index, record.id, split[position]!)).join('');
        });
        // Appends happen one after the other, in batch order; a failed batch stops every later write.
        writes = Promise.all([running, writes]).then(async ([text]) => {
          const bytes = Buffer.from(text, 'utf8');
          let written = 0;
          while (written < bytes.length) written += (await output.write(bytes, written, bytes.length - written)).bytesWritten;
          state.recordsDone += records.length;
          state.outputBytes += bytes.length;
          processed += records.length;
          await saveCheckpoint(checkpointPath, state);
          options.onProgress?.({ done: state.recordsDone, total, resumedFrom });
        });
        const tracked = writes.catch((error: unknown) => {
          failure ??= error;
        });
        inFlight.add(tracked);
        void tracked.finally(() => inFlight.delete(tracked));
        while (inFlight.size >= window && failure === null) await Promise.race(inFlight);
        if (failure !== null) break;
      }
    } catch (error) {
      // A record that cannot be read: what was computed before it is still written and checkpointed.
      failure ??= error;
    }
    await Promise.all(inFlight);
    if (failure !== null) throw failure;
    if (!interrupted) {
      await output.sync();
      state.complete = true;
      await saveCheckpoint(checkpointPath, state, { sync: true });
    }
  } finally {
    await output.close();
    await session.dispose();
  }
  return { total, resumedFrom, processed, alreadyComplete: false, interrupted, recovered, backend: session.backend, seconds: (performance.now() - started) / 1000 };
}
