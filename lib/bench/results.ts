/**
 * The results file: one JSON document per `tensorrt-node bench` invocation, with a versioned schema
 * (results.schema.json beside this file) so that files from other hosts and other versions are
 * either read correctly or refused with a clear error, never misread.
 */
import { readFileSync } from 'node:fs';
import { readUserFileSync } from '../core/file-io.js';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { writeFileAtomic } from '../core/atomic-write.js';
import { ErrorCode, TensorRTNodeError } from '../core/errors.js';
import type { BenchEnvironment } from './environment.js';
import type { ServerSideSummary } from './load/server-metrics.js';
import type { MetricSummary } from './statistics.js';
import type { TargetDescription } from './target.js';
import type { BenchWarning } from './warnings.js';

/** The `schema` field of every results file. */
export const RESULTS_SCHEMA_ID = 'tensorrt-node/bench-results';
/** Bump on any change a reader of the previous version would misread; readers refuse other versions. */
export const RESULTS_SCHEMA_VERSION = 1;

/**
 * The error a failed run ended with.
 * @inline
 */
export interface ErrorRecord {
  name: string;
  code: string | null;
  message: string;
}

/** The sweep point of a run; fields a trtexec import cannot know are null. */
export interface RunPoint {
  backend: string | null;
  precision: string | null;
  batch: number | null;
  concurrency: number | null;
  device: number | null;
  cudaGraph: boolean | null;
  transfers: boolean | null;
  batcher: boolean | null;
}

/** A run's per-iteration statistics, by trtexec's metric names (phases only where the target measures them). */
export interface RunMetrics {
  /** trtexec's Latency: h2d + compute + d2h with phases, else the end-to-end time seen from JS. */
  latency: MetricSummary;
  /** With phases only: the time JS saw from run() to its promise settling. */
  endToEnd?: MetricSummary;
  enqueue?: MetricSummary;
  h2d?: MetricSummary;
  compute?: MetricSummary;
  d2h?: MetricSummary;
}

/**
 * The event loop's delay during a run (perf_hooks.monitorEventLoopDelay), in ms.
 * @inline
 */
export interface EventLoopDelaySummary {
  minMs: number;
  maxMs: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  /** perf_hooks.monitorEventLoopDelay's sampling interval. */
  resolutionMs: number;
  samples: number;
}

/**
 * CPU time this process used during a run.
 * @inline
 */
export interface HostCpuUsage {
  userMs: number;
  systemMs: number;
  /** (user + system) / walltime x 100: 100 is one core busy for the whole run. */
  percentOfOneCore: number;
}

/**
 * One measured run of a sweep (or one imported trtexec run): its point, what was measured, the
 * statistics, the event-loop delay and the warnings that qualify the numbers.
 */
export interface BenchRunResult {
  id: string;
  source: 'tensorrt-node' | 'trtexec';
  /** 'failed' runs keep what they measured before the failure (metrics may still be present). */
  status: 'ok' | 'failed';
  error: ErrorRecord | null;
  point: RunPoint;
  target: TargetDescription | null;
  warmup: { iterations: number; durationMs: number } | null;
  measurement: { iterations: number; walltimeMs: number; minIterations: number | null; durationMs: number | null };
  throughput: { qps: number; samplesPerSecond: number | null } | null;
  metrics: RunMetrics | null;
  /** trtexec's Total GPU Compute Time: mean compute time x iterations. */
  totalGpuComputeTimeMs: number | null;
  eventLoopDelay: EventLoopDelaySummary | null;
  hostCpu: HostCpuUsage | null;
  warnings: BenchWarning[];
  /** Runs against a remote server (`bench --url`, lib/bench/load/): how the load was offered and what came back. */
  load?: LoadRunInfo;
}

/** A load-generator run against an Open Inference Protocol server (absent from local runs). */
export interface LoadRunInfo {
  url: string;
  protocol: 'rest' | 'grpc';
  binary: boolean;
  model: string;
  modelVersion: string | null;
  /** The server's name and version (GET /v2, ServerMetadata). */
  serverName: string;
  serverVersion: string;
  mode: 'open-loop' | 'closed-loop';
  arrival: 'poisson' | 'constant' | null;
  /** Open loop: requests per second offered. */
  offeredRate: number | null;
  /** Closed loop: requests in flight. */
  concurrency: number | null;
  durationMs: number;
  /** Requests the schedule called for (open loop) or started (closed loop). */
  sent: number;
  succeeded: number;
  failed: number;
  /** "http_503", "grpc_UNAVAILABLE", "ECONNRESET", "client_timeout", "client_overload", ... */
  failuresByCode: Record<string, number>;
  /** Successful requests per second, from the first intended send to the last response. */
  achievedRate: number;
  /** Open loop: how late the client sent against its schedule. */
  sendLag: { p50Ms: number; p99Ms: number; maxMs: number } | null;
  /** The server's own counters over the run (Triton's nv_inference_* names), when its metrics were reachable. */
  server: ServerSideSummary | null;
}

/** A load run's transport as the report and the run ids name it: "grpc", "rest-binary" or "rest-json". */
export function transportName(load: Pick<LoadRunInfo, 'protocol' | 'binary'>): 'grpc' | 'rest-binary' | 'rest-json' {
  return load.protocol === 'grpc' ? 'grpc' : load.binary ? 'rest-binary' : 'rest-json';
}

/**
 * The model a results file measured, identified by content.
 * @inline
 */
export interface ModelInfo {
  path: string;
  name: string;
  bytes: number;
  sha256: string;
}

/**
 * The harness's own cost, measured on one target in one process: the same target run in a bare loop
 * and through the harness, in alternating rounds.
 * @inline
 */
export interface HarnessOverhead {
  target: TargetDescription;
  iterationsPerRound: number;
  rounds: number;
  concurrency: number;
  rawMsPerIteration: number;
  harnessMsPerIteration: number;
  /** harness / raw - 1, as a fraction (0.01 is 1%), from the totals of all rounds. */
  overheadFraction: number;
  roundOverheadFractions: number[];
  /**
   * Fastest harness round / fastest raw round - 1. On a shared machine other processes slow random
   * rounds by more than the harness costs; the fastest round of each kind is the least disturbed.
   */
  bestRoundOverheadFraction?: number;
}

/**
 * A results file: one JSON document per `tensorrt-node bench` invocation, with a versioned schema so
 * that files from other hosts and versions are read correctly or refused (ERR_RESULTS_SCHEMA).
 */
export interface BenchResultsFile {
  schema: typeof RESULTS_SCHEMA_ID;
  schemaVersion: typeof RESULTS_SCHEMA_VERSION;
  createdAt: string;
  tool: { name: 'tensorrt-node'; version: string; command: string[] };
  environment: BenchEnvironment;
  model: ModelInfo | null;
  /** Every option of the run, as resolved (defaults filled in). */
  options: Record<string, unknown>;
  overhead: HarnessOverhead | null;
  runs: BenchRunResult[];
}

const schemaUrl = new URL('./results.schema.json', import.meta.url);
let validator: ValidateFunction | undefined;

export function resultsSchema(): Record<string, unknown> {
  return JSON.parse(readFileSync(schemaUrl, 'utf8')) as Record<string, unknown>;
}

function validate(): ValidateFunction {
  validator ??= new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(resultsSchema());
  return validator;
}

/** The errors that say what is wrong: not the "or else it may be null" branches of nullable fields. */
function describeSchemaErrors(allErrors: ErrorObject[]): string {
  const nullBranch = (error: ErrorObject) =>
    error.keyword === 'anyOf' || (error.keyword === 'type' && (error.params as { type?: unknown }).type === 'null');
  const errors = allErrors.some((error) => !nullBranch(error)) ? allErrors.filter((error) => !nullBranch(error)) : allErrors;
  const shown = errors.slice(0, 3).map((error) => `${error.instancePath || '/'} ${error.message ?? 'is invalid'}`);
  return `${shown.join('; ')}${errors.length > 3 ? ` (and ${errors.length - 3} more)` : ''}`;
}

function schemaError(file: string, problem: string): TensorRTNodeError {
  return new TensorRTNodeError(ErrorCode.RESULTS_SCHEMA, `Cannot read results file ${file}: ${problem}`, { details: { file } });
}

/** Checks a parsed document against the schema; throws ERR_RESULTS_SCHEMA naming `file`. */
export function checkResults(document: unknown, file: string): BenchResultsFile {
  if (typeof document !== 'object' || document === null || Array.isArray(document))
    throw schemaError(file, 'it is not a JSON object');
  const header = document as { schema?: unknown; schemaVersion?: unknown };
  if (header.schema !== RESULTS_SCHEMA_ID) {
    throw schemaError(
      file,
      `expected "schema": "${RESULTS_SCHEMA_ID}" but found ${JSON.stringify(header.schema) ?? 'none'} (is it a tensorrt-node bench results file?)`,
    );
  }
  if (header.schemaVersion !== RESULTS_SCHEMA_VERSION) {
    throw schemaError(
      file,
      `it has results schema version ${JSON.stringify(header.schemaVersion)}, but this tensorrt-node reads version ${RESULTS_SCHEMA_VERSION}; re-run the benchmark, or report it with the tensorrt-node version that wrote it`,
    );
  }
  const check = validate();
  if (!check(document))
    throw schemaError(
      file,
      `it does not match results schema version ${RESULTS_SCHEMA_VERSION}: ${describeSchemaErrors(check.errors ?? [])}`,
    );
  return document as BenchResultsFile;
}

/** Reads and checks a results file; throws ERR_RESULTS_SCHEMA for another schema or a damaged file, ERR_IO when unreadable. */
export function loadResultsFile(file: string): BenchResultsFile {
  let text: string;
  try {
    text = readUserFileSync(file, 'utf8'); // a FIFO is refused, not waited on
  } catch (error) {
    throw new TensorRTNodeError(ErrorCode.IO, `Cannot read results file ${file}: ${(error as Error).message}`, {
      cause: error,
      details: { file },
    });
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw schemaError(file, `it is not valid JSON (${(error as Error).message}); the file may be truncated or corrupted`);
  }
  return checkResults(document, file);
}

/** JSON cannot hold Infinity or NaN (a zero-mean coefficient of variation): they are written as null. */
function finiteOrNull(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}

export function serializeResults(results: BenchResultsFile): string {
  return `${JSON.stringify(results, finiteOrNull, 2)}\n`;
}

/**
 * Writes the file atomically (temporary file + rename), so a run interrupted while writing leaves
 * the previous complete version, never half a file. The sweep rewrites it after every run.
 */
export async function writeResultsFile(file: string, results: BenchResultsFile): Promise<void> {
  await writeFileAtomic(file, serializeResults(results), { description: 'results file' });
}
