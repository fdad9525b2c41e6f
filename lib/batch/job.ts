/**
 * An offline batch job: every record of an input (or of one shard of it) through an
 * InferenceSession, outputs written in input order, resumable after any interruption (see
 * ./checkpoint.ts for why no record is lost or written twice, and why a checkpoint is never trusted
 * blindly).
 *
 * One job per output at a time: `<output>.lock` (the engine cache's lock file, ../cache/lock.ts:
 * atomic, with a heartbeat, broken when its holder is dead) is held for the whole run, so a second
 * job on the same --output is refused instead of writing every record a second time.
 *
 * Records that cannot be read or run are handled by `onError`: 'fail' (default) stops the job at the
 * first (what was computed before it is written and checkpointed), 'skip' writes each to
 * `<output>.rejects.jsonl` with its error and goes on; both files are in the checkpoint.
 *
 * Throughput: records are read and parsed, and batches stacked, while earlier batches run (the
 * session's backend works in its own threads), with up to `contexts + 1` batches in flight; results
 * are formatted and appended strictly in order.
 */
import type { Hash } from 'node:crypto';
import type { TensorMap } from '../core/tensors.js';
import { ErrorCode, TensorRTNodeError, isTensorRTNodeError } from '../core/errors.js';
import { removeFile } from '../core/file-io.js';
import { hashFile } from '../cache/key.js';
import { FileLock } from '../cache/lock.js';
import { InferenceSession } from '../session/inference-session.js';
import type { SessionOptions } from '../session/options.js';
import { splitOutputs, stackFeeds } from '../session/stacking.js';
import {
  checkpointPathFor,
  emptyFileState,
  jobDifferences,
  loadCheckpoint,
  saveCheckpoint,
  withAnchor,
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  type Checkpoint,
  type FileState,
  type JobIdentity,
} from './checkpoint.js';
import { DEFAULT_MAX_LINE_BYTES } from './lines.js';
import { AppendedFile, freshHash, recoverToAnchor, regularFileSize, truncateRegular, verifyPrefix } from './output-files.js';
import { formatRecord } from './output.js';
import { openRecordSource, type BatchRecord, type RejectedRecord, type Shard, type SourceItem } from './records.js';

export interface BatchJobOptions {
  model: string;
  input: string;
  output: string;
  /** Records per execution (default 32; 1 for models without a dynamic batch dim). */
  batchSize?: number;
  shard?: Shard;
  /** Discard an existing output, rejects file and checkpoint and start over. */
  restart?: boolean;
  /** A record that cannot be read or run: stop the job ('fail', default) or write it to `<output>.rejects.jsonl` and go on ('skip'). */
  onError?: 'fail' | 'skip';
  /** Longest input line in bytes (default 64 MiB); a longer one is a rejected record. */
  maxLineBytes?: number;
  session?: SessionOptions;
  /** Stops taking new batches: those in flight are written and checkpointed, then the job returns. */
  signal?: AbortSignal;
  onProgress?: (progress: { done: number; total: number; resumedFrom: number }) => void;
}

export interface BatchJobResult {
  /** Records of this shard. */
  total: number;
  /** Records already done (written or rejected) when this run started. */
  resumedFrom: number;
  /** Records this run added to the output. */
  processed: number;
  /** Records rejected so far, this run and earlier ones (in `rejectsPath`). */
  rejected: number;
  /** Records this run rejected. */
  rejectedThisRun: number;
  /** `<output>.rejects.jsonl` when it holds records, else null. */
  rejectsPath: string | null;
  /** The checkpoint said the job was already complete (and the files agree): nothing was done. */
  alreadyComplete: boolean;
  /** Stopped by the signal before the end (rerun the same command to resume). */
  interrupted: boolean;
  /** A file was shorter than its checkpoint (a machine crash): its whole lines were kept. */
  recovered: boolean;
  backend: string;
  seconds: number;
}

export function rejectsPathFor(output: string): string {
  return `${output}.rejects.jsonl`;
}

export function lockPathFor(output: string): string {
  return `${output}.lock`;
}

/** A lock whose holder stopped refreshing it this long ago is broken (its process is gone or hung). */
const STALE_LOCK_MS = 5 * 60_000;

/** Holds `<output>.lock` for the job, or says who does. */
async function lockOutput(output: string): Promise<FileLock> {
  const path = lockPathFor(output);
  await regularFileSize(path, 'lock of the output');
  const attempt = await FileLock.tryAcquire(path, { staleAfterMs: STALE_LOCK_MS }).catch((error: unknown) => {
    throw isTensorRTNodeError(error) && error.code === ErrorCode.CACHE
      ? new TensorRTNodeError(ErrorCode.IO, `Cannot lock ${output}: ${path} is not a lock file; remove it`, { cause: error })
      : error;
  });
  if (attempt.lock) return attempt.lock;
  const holder = attempt.busy.holder;
  const who = holder
    ? `pid ${holder.pid} on ${holder.hostname}, since ${holder.acquiredAt}`
    : 'a process that left no readable identity';
  throw new TensorRTNodeError(
    ErrorCode.IO,
    `Another batch job is writing ${output} (${who}; lock ${path}): wait for it to finish, or choose another --output`,
    {
      details: { lockPath: path, holder },
    },
  );
}

/** Where the files stand when this run starts: verified against the checkpoint, or fresh. */
interface StartingPoint {
  checkpoint: Checkpoint;
  outputHash: Hash;
  rejectsHash: Hash;
  recovered: boolean;
}

/** Checks the checkpoint against the files (see ./checkpoint.ts) and cuts what came after it. */
async function resumeFrom(
  checkpoint: Checkpoint,
  output: string,
  rejects: string,
  checkpointPath: string,
): Promise<StartingPoint> {
  const sizes = {
    output: (await regularFileSize(output, 'output')) ?? 0,
    rejects: (await regularFileSize(rejects, 'rejects file')) ?? 0,
  };
  if (sizes.output < checkpoint.output.bytes || sizes.rejects < checkpoint.rejects.bytes) {
    // A machine crash lost data the checkpoint counted: back to the newest earlier state the files still hold.
    const kept = await recoverToAnchor(output, rejects, checkpoint.anchors);
    if (!kept) {
      throw new TensorRTNodeError(
        ErrorCode.IO,
        `Cannot resume from the checkpoint ${checkpointPath}: the output ${output} (${sizes.output} bytes) and the rejects file (${sizes.rejects} bytes) are shorter than it recorded and match none of its earlier states; pass --restart to start over`,
        {
          details: { checkpoint: checkpointPath, file: output },
        },
      );
    }
    const anchors = checkpoint.anchors.filter((anchor) => anchor.recordsDone <= kept.anchor.recordsDone);
    return {
      checkpoint: { ...checkpoint, ...kept.anchor, anchors, complete: false },
      outputHash: kept.outputHash,
      rejectsHash: kept.rejectsHash,
      recovered: true,
    };
  }
  const hashes: Hash[] = [];
  for (const [path, state, what] of [
    [output, checkpoint.output, 'output'],
    [rejects, checkpoint.rejects, 'rejects file'],
  ] as const) {
    const verified = await verifyPrefix(path, state);
    if (verified.mismatch !== undefined) {
      throw new TensorRTNodeError(
        ErrorCode.IO,
        `Cannot resume from the checkpoint ${checkpointPath}: the ${what} ${path} does not hold what it recorded (${verified.mismatch}); pass --restart to start over`,
        {
          details: { checkpoint: checkpointPath, file: path },
        },
      );
    }
    hashes.push(verified.hash);
  }
  // Lines appended after the last checkpoint (a kill between append and checkpoint) are computed again.
  if (sizes.output > checkpoint.output.bytes) await truncateRegular(output, checkpoint.output.bytes);
  if (sizes.rejects > checkpoint.rejects.bytes) await truncateRegular(rejects, checkpoint.rejects.bytes);
  return { checkpoint, outputHash: hashes[0]!, rejectsHash: hashes[1]!, recovered: false };
}

/** The line a rejected record leaves in the rejects file. */
function rejectLine(rejected: { index: number; lineNumber?: number; id?: unknown; error: TensorRTNodeError }): string {
  const entry: Record<string, unknown> = { record: rejected.index };
  if (rejected.lineNumber !== undefined) entry.line = rejected.lineNumber;
  if (rejected.id !== undefined) entry.id = rejected.id;
  entry.error = { code: rejected.error.code, message: rejected.error.message };
  return `${JSON.stringify(entry)}\n`;
}

/** Failures of the machinery rather than of a record: a job never skips past these. */
const fatalCodes = new Set<string>([
  ErrorCode.ABORTED,
  ErrorCode.DISPOSED,
  ErrorCode.INTERNAL,
  ErrorCode.OUT_OF_MEMORY,
  ErrorCode.IO,
]);

type BatchItem = BatchRecord | RejectedRecord;

interface BatchText {
  output: string;
  outputLines: number;
  rejects: string;
  rejectLines: number;
}

/** Groups items into batches of up to `size`; a record whose shapes differ from the batch's starts the next one. */
async function* batchesOf(items: AsyncIterable<SourceItem>, size: number): AsyncGenerator<BatchItem[]> {
  let current: BatchItem[] = [];
  let key = '';
  let records = 0;
  for await (const item of items) {
    if (item.feeds === undefined) {
      // Kept in its place, so that the files stay in record order.
      current.push(item);
      continue;
    }
    const recordKey = Object.values(item.feeds)
      .map((tensor) => tensor.shape.join('x'))
      .join(';');
    if (records > 0 && (records >= size || recordKey !== key)) {
      yield current;
      current = [];
      records = 0;
    }
    key = recordKey;
    current.push(item);
    records++;
  }
  if (current.length > 0) yield current;
}

export async function runBatchJob(options: BatchJobOptions): Promise<BatchJobResult> {
  const started = performance.now();
  const shard = options.shard ?? { index: 0, count: 1 };
  const requestedBatch = options.batchSize ?? 32;
  const onError = options.onError ?? 'fail';
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const source = await openRecordSource(options.input);
  const total = source.shardTotal(shard);
  const identity: JobIdentity = {
    model: await hashFile(options.model),
    input: source.identity,
    shard: `${shard.index}/${shard.count}`,
    batchSize: requestedBatch,
  };
  const checkpointPath = checkpointPathFor(options.output);
  const rejectsPath = rejectsPathFor(options.output);

  const lock = await lockOutput(options.output);
  let session: InferenceSession | undefined;
  const files: AppendedFile[] = [];
  try {
    if (options.restart) {
      for (const [path, what] of [
        [options.output, 'output'],
        [rejectsPath, 'rejects file'],
        [checkpointPath, 'checkpoint'],
      ] as const) {
        await regularFileSize(path, what);
        await removeFile(path);
      }
    }
    const saved = await loadCheckpoint(checkpointPath, total);
    let start: StartingPoint;
    if (saved) {
      const differences = jobDifferences(saved.job, identity);
      if (differences.length > 0) {
        throw new TensorRTNodeError(
          ErrorCode.IO,
          `${checkpointPath} belongs to another job (${differences.join(', ')} differ): pass --restart to start over, or choose another --output`,
        );
      }
      start = await resumeFrom(saved, options.output, rejectsPath, checkpointPath);
      if (start.checkpoint.complete) {
        const rejected = start.checkpoint.rejects.records;
        return {
          total,
          resumedFrom: start.checkpoint.recordsDone,
          processed: 0,
          rejected,
          rejectedThisRun: 0,
          rejectsPath: rejected > 0 ? rejectsPath : null,
          alreadyComplete: true,
          interrupted: false,
          recovered: false,
          backend: 'none',
          seconds: (performance.now() - started) / 1000,
        };
      }
    } else {
      for (const [path, what] of [
        [options.output, 'output'],
        [rejectsPath, 'rejects file'],
      ] as const) {
        const size = await regularFileSize(path, what);
        if (size !== null && size > 0) {
          throw new TensorRTNodeError(
            ErrorCode.IO,
            `${path} exists and no checkpoint of this job is next to it: pass --restart to overwrite it, or choose another --output`,
          );
        }
      }
      start = {
        checkpoint: {
          format: CHECKPOINT_FORMAT,
          version: CHECKPOINT_VERSION,
          job: identity,
          recordsDone: 0,
          output: emptyFileState(),
          rejects: emptyFileState(),
          complete: false,
          anchors: [{ recordsDone: 0, output: emptyFileState(), rejects: emptyFileState() }],
        },
        outputHash: freshHash(),
        rejectsHash: freshHash(),
        recovered: false,
      };
    }
    const state: Checkpoint = start.checkpoint;
    const resumedFrom = state.recordsDone;
    const rejectedBefore = state.rejects.records;
    const output = await AppendedFile.open(options.output, 'output', state.output, start.outputHash);
    files.push(output);
    // The rejects file exists only once something is rejected; its state is kept either way.
    const rejectsFile: { current: AppendedFile | null } = { current: null };
    const rejectsState = (): FileState => rejectsFile.current?.state ?? state.rejects;
    const checkpointNow = (complete: boolean): Checkpoint => {
      const current = { recordsDone: state.recordsDone, output: { ...output.state }, rejects: { ...rejectsState() } };
      state.anchors = withAnchor(state.anchors, current);
      return { ...state, ...current, complete };
    };
    await saveCheckpoint(checkpointPath, checkpointNow(false));

    session = await InferenceSession.create(options.model, { ...options.session, maxQueue: Number.MAX_SAFE_INTEGER });
    const live = session;
    const batchable = session.inputs.every((info) => info.shape.length > 0 && info.shape[0] === -1);
    const batchSize = batchable ? requestedBatch : 1;
    let processed = 0;
    let interrupted = false;

    /** Runs the records of a batch; with 'skip', a failed batch is retried record by record and the failures rejected. */
    const compute = async (records: BatchRecord[]): Promise<Map<BatchRecord, string | TensorRTNodeError>> => {
      const lines = new Map<BatchRecord, string | TensorRTNodeError>();
      const runAll = async (group: BatchRecord[]) => {
        const results = (await live.run(
          stackFeeds(
            live.inputs,
            group.map((record) => ({ feeds: record.feeds, rows: 1 })),
          ) as never,
        )) as TensorMap;
        const split = splitOutputs(
          results,
          Object.keys(results),
          group.map(() => 1),
        );
        group.forEach((record, position) => lines.set(record, formatRecord(record.index, record.id, split[position]!)));
      };
      if (records.length === 0) return lines;
      try {
        await runAll(records);
      } catch (error) {
        if (onError === 'fail' || !isTensorRTNodeError(error) || fatalCodes.has(error.code)) throw error;
        for (const record of records) {
          try {
            await runAll([record]);
          } catch (single) {
            if (!isTensorRTNodeError(single) || fatalCodes.has(single.code)) throw single;
            lines.set(record, new TensorRTNodeError(single.code, `record ${record.index}: ${single.message}`, { cause: single }));
          }
        }
      }
      return lines;
    };

    const window = session.contexts + 1;
    const inFlight = new Set<Promise<void>>();
    let writes: Promise<void> = Promise.resolve();
    let failure: unknown = null;
    try {
      for await (const batch of batchesOf(source.read(session.inputs, shard, resumedFrom, maxLineBytes), batchSize)) {
        if (options.signal?.aborted) {
          interrupted = true;
          break;
        }
        // --on-error fail: the batch is cut before its first rejected record, which then fails the job.
        const firstRejected = onError === 'fail' ? batch.findIndex((item) => item.feeds === undefined) : -1;
        const items = firstRejected === -1 ? batch : batch.slice(0, firstRejected);
        if (items.length === 0) {
          failure ??= (batch[firstRejected] as RejectedRecord).error;
          break;
        }
        const records = items.filter((item): item is BatchRecord => item.feeds !== undefined);
        const running = compute(records).then((computed): BatchText => {
          const text: BatchText = { output: '', outputLines: 0, rejects: '', rejectLines: 0 };
          for (const item of items) {
            const result = item.feeds === undefined ? item.error : computed.get(item)!;
            if (typeof result === 'string') {
              text.output += result;
              text.outputLines++;
            } else {
              text.rejects += rejectLine({
                index: item.index,
                lineNumber: item.feeds === undefined ? item.lineNumber : undefined,
                id: item.feeds === undefined ? undefined : item.id,
                error: result,
              });
              text.rejectLines++;
            }
          }
          return text;
        });
        // Appends happen one after the other, in batch order; a failed batch stops every later write.
        writes = Promise.all([running, writes]).then(async ([text]) => {
          await output.append(text.output, text.outputLines);
          if (text.rejectLines > 0) {
            if (!rejectsFile.current) {
              rejectsFile.current = await AppendedFile.open(rejectsPath, 'rejects file', state.rejects, start.rejectsHash);
              files.push(rejectsFile.current);
            }
            await rejectsFile.current.append(text.rejects, text.rejectLines);
          }
          state.recordsDone += text.outputLines + text.rejectLines;
          processed += text.outputLines;
          await saveCheckpoint(checkpointPath, checkpointNow(false));
          options.onProgress?.({ done: state.recordsDone, total, resumedFrom });
        });
        const tracked = writes.catch((error: unknown) => {
          failure ??= error;
        });
        inFlight.add(tracked);
        void tracked.finally(() => inFlight.delete(tracked));
        if (firstRejected !== -1) {
          failure ??= (batch[firstRejected] as RejectedRecord).error;
          break;
        }
        while (inFlight.size >= window && failure === null) await Promise.race(inFlight);
        if (failure !== null) break;
      }
    } catch (error) {
      // The input cannot be read any further: what was computed before is still written and checkpointed.
      failure ??= error;
    }
    await Promise.all(inFlight);
    if (failure !== null) throw failure;
    if (!interrupted) {
      await output.sync();
      await rejectsFile.current?.sync();
      await saveCheckpoint(checkpointPath, checkpointNow(true), { sync: true });
    }
    const rejected = rejectsState().records;
    return {
      total,
      resumedFrom,
      processed,
      rejected,
      rejectedThisRun: rejected - rejectedBefore,
      rejectsPath: rejected > 0 ? rejectsPath : null,
      alreadyComplete: false,
      interrupted,
      recovered: start.recovered,
      backend: session.backend,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    for (const file of files) await file.close().catch(() => undefined);
    await session?.dispose();
    await lock.release();
  }
}
