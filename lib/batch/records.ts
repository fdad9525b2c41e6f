/**
 * The records of an offline batch job, read lazily in a fixed order so that a record's index is the
 * same in every run, every resume and every shard:
 *
 * - a `.jsonl` file: one record per non-empty line, a JSON object mapping input names to the
 *   sample's values (flat or nested arrays, or `{ "shape", "data" }`), without the batch dim;
 *   an optional `"id"` is carried to the output (when no input is named id);
 * - a folder: one record per entry in name order, as `tensorrt-node run --input` reads samples
 *   (`<name>.npy` for single-input models, subfolders of `<input>.npy`, `.json` files), each tensor
 *   with or without a leading batch dim of 1.
 *
 * `--shard i/n` keeps the records whose index modulo n is i: deterministic, balanced, and computable
 * while streaming (no count needed first). Records of other shards are skipped without parsing.
 *
 * A record that cannot be read (malformed JSON, wrong shapes, a line over the length bound) is not
 * thrown: it comes as a RejectedRecord, so that the job decides (--on-error fail stops there, skip
 * writes it to the rejects file and goes on). Lines are read as bytes with a bound (./lines.ts): a
 * line of hundreds of MB is counted and refused, never held.
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { setEntry, type TensorInfo, type TensorMap } from '../core/tensors.js';
import { toBfloat16Array, toFloat16Array, type HostTensor } from '../core/dtypes.js';
import { ErrorCode, TensorRTNodeError, isTensorRTNodeError } from '../core/errors.js';
import { describeFileKind } from '../core/file-io.js';
import { readSample, samplePaths } from '../onnx/feeds-folder.js';
import { normalizeFeeds } from '../session/feeds.js';
import { countRecords, readLines } from './lines.js';

export interface Shard {
  index: number;
  count: number;
}

export interface BatchRecord {
  /** 0-based position in the whole input (all shards). */
  index: number;
  id?: unknown;
  /** One tensor per input, batch dim 1. */
  feeds: TensorMap;
}

export class RecordError extends TensorRTNodeError {}

/** A record that could not be read into feeds, with why (the job fails on it or writes it to the rejects file). */
export interface RejectedRecord {
  index: number;
  /** 1-based line of a .jsonl input. */
  lineNumber?: number;
  error: TensorRTNodeError;
  feeds?: undefined;
}

/** What a record source yields: a record ready to run, or one refused. */
export type SourceItem = BatchRecord | RejectedRecord;

/** Why a record was refused, as a typed error that names it. */
function rejection(error: unknown, where: string): TensorRTNodeError {
  if (error instanceof RecordError) return error;
  if (isTensorRTNodeError(error)) return new RecordError(error.code, `${where}: ${error.message}`, { cause: error });
  return recordError(where, error instanceof Error ? error.message : String(error));
}

function recordError(where: string, message: string): RecordError {
  return new RecordError(ErrorCode.INVALID_ARGUMENT, `${where}: ${message}`);
}

/** The nesting of a (possibly nested) array, checked rectangular: [2, 3] for [[1,2,3],[4,5,6]]. */
function nestedShape(value: unknown[], label: string): number[] {
  const shape: number[] = [];
  let level: unknown = value;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = level[0];
  }
  const check = (item: unknown, depth: number): void => {
    if (depth === shape.length) {
      if (Array.isArray(item)) throw new Error(`${label} is not rectangular`);
      return;
    }
    if (!Array.isArray(item) || item.length !== shape[depth])
      throw new Error(`${label} is not rectangular (expected ${shape[depth]} items at depth ${depth})`);
    for (const child of item) check(child, depth + 1);
  };
  check(value, 0);
  return shape;
}

/** One JSON value of a record as a feed of batch dim 1, ready for validation. */
function jsonFeed(info: TensorInfo, value: unknown, label: string): unknown {
  let shape: number[];
  let values: unknown[];
  if (Array.isArray(value)) {
    const sampleDims = info.shape.slice(1);
    if (sampleDims.every((dim) => dim >= 0)) {
      shape = [1, ...sampleDims];
      values = (value as unknown[]).flat(Infinity);
    } else {
      shape = [1, ...nestedShape(value, label)];
      values = (value as unknown[]).flat(Infinity);
    }
  } else if (typeof value === 'object' && value !== null && Array.isArray((value as { data?: unknown }).data)) {
    const given = (value as { shape?: unknown }).shape;
    if (!Array.isArray(given)) throw new Error(`${label} has data but no shape array`);
    shape = given.length === info.shape.length - 1 ? [1, ...(given as number[])] : (given as number[]);
    values = (value as { data: unknown[] }).data.flat(Infinity);
  } else {
    throw new Error(`${label} must be an array (flat or nested) or { "shape", "data" }`);
  }
  if (info.dtype === 'float16' || info.dtype === 'bfloat16') {
    if (!values.every((item) => typeof item === 'number')) throw new Error(`${label} must hold numbers`);
    return {
      dtype: info.dtype,
      shape,
      data: info.dtype === 'float16' ? toFloat16Array(values as number[]) : toBfloat16Array(values as number[]),
    };
  }
  return { data: values, shape };
}

function checkRecordFeeds(inputs: readonly TensorInfo[], feeds: unknown, where: string): TensorMap {
  try {
    const normalized = normalizeFeeds(inputs, feeds);
    if (normalized instanceof Promise) throw new Error('unreachable: host data only');
    for (const info of inputs) {
      const shape = normalized[info.name]!.shape;
      if (shape[0] !== 1) throw new Error(`input "${info.name}" has ${shape[0]} rows at dim 0; a record is one sample`);
    }
    return normalized;
  } catch (error) {
    throw recordError(where, error instanceof Error ? error.message : String(error));
  }
}

export function parseJsonRecord(
  line: string,
  index: number,
  lineNumber: number,
  inputs: readonly TensorInfo[],
  source: string,
): BatchRecord {
  const where = `record ${index} (line ${lineNumber} of ${source})`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (error) {
    throw recordError(where, `not valid JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw recordError(where, 'expected a JSON object mapping input names to values');
  const { id, ...rest } = parsed as Record<string, unknown>;
  const hasIdInput = inputs.some((info) => info.name === 'id');
  const values = hasIdInput ? (parsed as Record<string, unknown>) : rest;
  const feeds: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(values)) {
    const info = inputs.find((candidate) => candidate.name === name);
    if (!info) {
      setEntry(feeds, name, value); // normalizeFeeds names the unknown input, with a suggestion
      continue;
    }
    try {
      setEntry(feeds, name, jsonFeed(info, value, `input "${name}"`));
    } catch (error) {
      throw isTensorRTNodeError(error) ? error : recordError(where, (error as Error).message);
    }
  }
  const record: BatchRecord = { index, feeds: checkRecordFeeds(inputs, feeds, where) };
  if (!hasIdInput && id !== undefined) record.id = id;
  return record;
}

/** Records of a .jsonl file for `shard`, from shard position `skip` on (records already done). */
async function* jsonlRecords(
  path: string,
  inputs: readonly TensorInfo[],
  shard: Shard,
  skip: number,
  maxLineBytes: number,
): AsyncGenerator<SourceItem> {
  let index = 0;
  let position = 0; // within the shard
  for await (const line of readLines(path, maxLineBytes)) {
    const current = index++;
    if (current % shard.count !== shard.index) continue;
    if (position++ < skip) continue;
    const where = `record ${current} (line ${line.lineNumber} of ${path})`;
    if (line.tooLong !== undefined) {
      const error = new RecordError(
        ErrorCode.INVALID_ARGUMENT,
        `${where}: the line is ${line.tooLong} bytes long, over the limit of ${maxLineBytes} bytes (--max-line-bytes)`,
        {
          details: { record: current, line: line.lineNumber, bytes: line.tooLong, maxLineBytes },
        },
      );
      yield { index: current, lineNumber: line.lineNumber, error };
      continue;
    }
    try {
      yield parseJsonRecord(line.text, current, line.lineNumber, inputs, path);
    } catch (error) {
      yield { index: current, lineNumber: line.lineNumber, error: rejection(error, where) };
    }
  }
}

async function* folderRecords(
  paths: readonly string[],
  inputs: readonly TensorInfo[],
  shard: Shard,
  skip: number,
): AsyncGenerator<SourceItem> {
  let position = 0;
  for (let index = shard.index; index < paths.length; index += shard.count) {
    if (position++ < skip) continue;
    const path = paths[index]!;
    const where = `record ${index} (${path})`;
    try {
      const sample = await readSample(path, inputs);
      const feeds: Record<string, HostTensor> = {};
      for (const [name, tensor] of Object.entries(sample)) {
        const info = inputs.find((candidate) => candidate.name === name);
        setEntry(
          feeds,
          name,
          info && tensor.shape.length === info.shape.length - 1 ? { ...tensor, shape: [1, ...tensor.shape] } : tensor,
        );
      }
      yield { index, feeds: checkRecordFeeds(inputs, feeds, where) };
    } catch (error) {
      yield { index, error: rejection(error, where) };
    }
  }
}

export interface RecordSource {
  kind: 'jsonl' | 'folder';
  /** Records in the whole input, all shards (counted once up front: a fast scan for .jsonl). */
  total: number;
  /** Records of one shard. */
  shardTotal(shard: Shard): number;
  /** Identity of the input for checkpoints: a changed input is never resumed. */
  identity: Record<string, unknown>;
  /** Records of `shard` from shard position `skip` on; a .jsonl line longer than `maxLineBytes` is rejected. */
  read(inputs: readonly TensorInfo[], shard: Shard, skip: number, maxLineBytes: number): AsyncGenerator<SourceItem>;
}

/** Opens `path` (a .jsonl file or a folder of samples) as a record source. */
export async function openRecordSource(path: string): Promise<RecordSource> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new TensorRTNodeError(
      ErrorCode.IO,
      `Expected a .jsonl file or a folder of samples for --input but received ${path}, which does not exist`,
    );
  }
  // A FIFO or a device would be read twice (counted, then read) and never end: regular files and folders only.
  if (!info.isDirectory() && !info.isFile()) {
    throw new TensorRTNodeError(
      ErrorCode.IO,
      `Expected a .jsonl file or a folder of samples for --input but received ${path}, which is ${describeFileKind(info)}`,
    );
  }
  const shardTotal = (total: number) => (shard: Shard) => Math.max(0, Math.ceil((total - shard.index) / shard.count));
  if (info.isDirectory()) {
    const paths = await samplePaths(path);
    return {
      kind: 'folder',
      total: paths.length,
      shardTotal: shardTotal(paths.length),
      identity: {
        kind: 'folder',
        path: resolve(path),
        entries: paths.length,
        names: createHash('sha256')
          .update(paths.map((entry) => basename(entry)).join('\n'))
          .digest('hex'),
      },
      read: (inputs, shard, skip) => folderRecords(paths, inputs, shard, skip),
    };
  }
  const total = await countRecords(path);
  return {
    kind: 'jsonl',
    total,
    shardTotal: shardTotal(total),
    identity: { kind: 'jsonl', path: resolve(path), bytes: info.size, mtimeMs: Math.round(info.mtimeMs) },
    read: (inputs, shard, skip, maxLineBytes) => jsonlRecords(path, inputs, shard, skip, maxLineBytes),
  };
}
