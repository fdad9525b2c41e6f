/**
 * Imports a trtexec run of the same engine, so a report can put tensorrt-node next to it and show
 * the overhead directly. Two inputs are understood (formats from NVIDIA TensorRT
 * samples/common/sampleReporting.cpp and sampleOptions.cpp):
 * - the JSON written by `trtexec --exportTimes=<file>`: an array of per-iteration records
 *   (startEnqMs ... d2hMs, latencyMs; TensorRT 8.x adds endToEndMs), summarized here exactly as
 *   trtexec summarizes them (statistics.ts);
 * - trtexec's text log (stdout): the "=== Performance summary ===" block, the prolog ("Timing trace
 *   has N queries over X s"), the device, the TensorRT version, the inference options and the
 *   warnings. Summaries come as printed (6 significant digits).
 */
import { readUserFileSync } from '../core/file-io.js';
import { ErrorCode, TensorRTNodeError } from '../core/errors.js';
import type { RunMetrics, RunPoint, BenchRunResult } from './results.js';
import { completeRun, metricsFromSeries, runId } from './run-result.js';
import { DEFAULT_PERCENTILES, type MetricSummary } from './statistics.js';
import type { TargetDescription } from './target.js';
import type { BenchWarning, BenchWarningCode } from './warnings.js';

function importError(file: string, problem: string): TensorRTNodeError {
  return new TensorRTNodeError(ErrorCode.INVALID_ARGUMENT, `Cannot import trtexec results from ${file}: ${problem}`, {
    details: { file },
  });
}

const EXPORT_FIELDS = [
  'startEnqMs',
  'endEnqMs',
  'startH2dMs',
  'endH2dMs',
  'startComputeMs',
  'endComputeMs',
  'startD2hMs',
  'endD2hMs',
  'h2dMs',
  'computeMs',
  'd2hMs',
  'latencyMs',
] as const;

function emptyPoint(): RunPoint {
  return {
    backend: 'tensorrt',
    precision: null,
    batch: null,
    concurrency: null,
    device: null,
    cudaGraph: null,
    transfers: null,
    batcher: false,
  };
}

function trtexecTarget(notes: string[]): TargetDescription {
  return { backend: 'trtexec', precision: 'unknown', batch: 0, device: null, versions: {}, measuresPhases: true, notes };
}

/** Summarizes `trtexec --exportTimes` records. */
export function importExportTimes(
  document: unknown,
  file: string,
  percentiles: readonly number[] = DEFAULT_PERCENTILES,
): BenchRunResult {
  if (!Array.isArray(document)) throw importError(file, 'expected the JSON array that trtexec --exportTimes writes');
  if (document.length === 0) throw importError(file, 'the --exportTimes array has no iterations');
  const n = document.length;
  const column = () => new Float64Array(n);
  const h2d = column();
  const compute = column();
  const d2h = column();
  const enqueue = column();
  const latency = column();
  const endToEnd = column();
  let hasEndToEnd = true;
  let firstStart = Infinity;
  let lastEnd = -Infinity;
  document.forEach((record: unknown, index) => {
    if (typeof record !== 'object' || record === null) throw importError(file, `iteration ${index} is not an object`);
    const fields = record as Record<string, unknown>;
    for (const key of EXPORT_FIELDS) {
      if (typeof fields[key] !== 'number' || !Number.isFinite(fields[key])) {
        throw importError(
          file,
          `iteration ${index} has no numeric "${key}" (found ${JSON.stringify(fields[key]) ?? 'nothing'}); is this a trtexec --exportTimes file?`,
        );
      }
    }
    const value = (key: (typeof EXPORT_FIELDS)[number]) => fields[key] as number;
    enqueue[index] = value('endEnqMs') - value('startEnqMs');
    h2d[index] = value('h2dMs');
    compute[index] = value('computeMs');
    d2h[index] = value('d2hMs');
    latency[index] = value('latencyMs');
    if (typeof fields.endToEndMs === 'number') endToEnd[index] = fields.endToEndMs;
    else hasEndToEnd = false;
    firstStart = Math.min(firstStart, value('startH2dMs'));
    lastEnd = Math.max(lastEnd, value('endD2hMs'));
  });
  const metrics = metricsFromSeries({ latency, enqueue, h2d, compute, d2h, ...(hasEndToEnd ? { endToEnd } : {}) }, percentiles)!;
  const point = emptyPoint();
  return completeRun(
    {
      id: `trtexec-${runId(point).replace(/^tensorrt-/, '')}`,
      source: 'trtexec',
      status: 'ok',
      error: null,
      point,
      target: trtexecTarget([`imported from trtexec --exportTimes ${file}`]),
      warmup: null,
      // trtexec's Total Host Walltime: from the first H2D start to the last D2H end.
      measurement: { iterations: n, walltimeMs: lastEnd - firstStart, minIterations: null, durationMs: null },
      metrics,
      eventLoopDelay: null,
      hostCpu: null,
    },
    null,
  );
}

const LOG_PREFIX = /^\s*(?:\[\d{2}\/\d{2}\/\d{4}-\d{2}:\d{2}:\d{2}\]\s*)?(?:\[([IWEVF])\]\s?)?/;
const NUMBER = '([-+]?(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][-+]?\\d+)?|inf|nan)';
const METRIC_LINES: Record<string, keyof RunMetrics> = {
  Latency: 'latency',
  'End-to-End Host Latency': 'endToEnd',
  'Enqueue Time': 'enqueue',
  'H2D Latency': 'h2d',
  'GPU Compute Time': 'compute',
  'D2H Latency': 'd2h',
};

function parseMetric(text: string, count: number): MetricSummary | undefined {
  const head = new RegExp(`^min = ${NUMBER} ms, max = ${NUMBER} ms, mean = ${NUMBER} ms, median = ${NUMBER} ms`).exec(text);
  if (!head) return undefined;
  const percentiles = [...text.matchAll(new RegExp(`percentile\\(${NUMBER}%\\) = ${NUMBER} ms`, 'g'))].map((match) => ({
    percentile: Number(match[1]),
    value: Number(match[2]),
  }));
  return {
    count,
    min: Number(head[1]),
    max: Number(head[2]),
    mean: Number(head[3]),
    median: Number(head[4]),
    percentiles,
    coefficientOfVariation: null,
  };
}

const WARNING_CODES: [RegExp, BenchWarningCode][] = [
  [/bound by Enqueue Time/, 'enqueue-bound'],
  [/bound by host-to-device/, 'h2d-bound'],
  [/bound by device-to-host/, 'd2h-bound'],
  [/is unstable/, 'unstable'],
  [/Multiple inference streams/, 'multiple-streams'],
];

/** Parses trtexec's text log. */
export function importTrtexecLog(text: string, file: string): BenchRunResult {
  const lines = text.split(/\r?\n/).map((line) => {
    const prefix = LOG_PREFIX.exec(line)!;
    return { severity: prefix[1] ?? null, text: line.slice(prefix[0].length).trimEnd() };
  });
  const summaryAt = lines.findIndex((line) => line.text === '=== Performance summary ===');
  if (summaryAt < 0)
    throw importError(
      file,
      'no "=== Performance summary ===" block found; pass the complete trtexec output (or its --exportTimes JSON)',
    );
  const value = (pattern: RegExp, from = 0): RegExpExecArray | null => {
    for (let i = from; i < lines.length; i++) {
      const match = pattern.exec(lines[i]!.text);
      if (match) return match;
    }
    return null;
  };
  const trace = value(new RegExp(`^Timing trace has (\\d+) queries over ${NUMBER} s$`));
  const warmup = value(new RegExp(`^Warmup completed (\\d+) queries over ${NUMBER} ms$`));
  const walltime = value(new RegExp(`^Total Host Walltime: ${NUMBER} s$`), summaryAt);
  const throughput = value(new RegExp(`^Throughput: ${NUMBER} qps$`), summaryAt);
  const iterations = trace ? Number(trace[1]) : 0;

  const metrics: Partial<RunMetrics> = {};
  for (let i = summaryAt + 1; i < lines.length; i++) {
    const match = /^([A-Za-z0-9 -]+): (min = .*)$/.exec(lines[i]!.text);
    const key = match ? METRIC_LINES[match[1]!] : undefined;
    if (!match || !key || metrics[key]) continue;
    const summary = parseMetric(match[2]!, iterations);
    if (summary) metrics[key] = summary;
  }
  if (!metrics.latency) throw importError(file, 'the performance summary has no "Latency: min = ..." line');

  const warnings: BenchWarning[] = [];
  for (let i = summaryAt + 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.severity !== 'W' || !line.text.startsWith('* ')) continue;
    const code = WARNING_CODES.find(([pattern]) => pattern.test(line.text))?.[1];
    if (!code) continue;
    const hint = lines[i + 1]?.severity === 'W' && lines[i + 1]!.text.startsWith('  ') ? `\n${lines[i + 1]!.text}` : '';
    warnings.push({ code, message: `${line.text}${hint}` });
    const variation = new RegExp(`coefficient of variance = ${NUMBER}%`).exec(line.text);
    if (variation && metrics.compute) metrics.compute.coefficientOfVariation = Number(variation[1]);
  }

  const point = emptyPoint();
  const option = (name: string) => value(new RegExp(`^${name}: (.+)$`))?.[1];
  const streams = option('Inference Streams') ?? option('Streams');
  if (streams && /^\d+$/.test(streams)) point.concurrency = Number(streams);
  const graph = option('CUDA Graph');
  if (graph) point.cudaGraph = graph === 'Enabled';
  const transfers = option('Data transfers');
  if (transfers) point.transfers = transfers === 'Enabled';
  const batchOption = option('Batch');
  const shapes = lines
    .map((line) => /^Input inference shape\s*(?:\([^)]*\))?\s*: [^=]+=(\d+)x/.exec(line.text)?.[1])
    .filter((first): first is string => first !== undefined);
  if (batchOption && /^\d+$/.test(batchOption)) point.batch = Number(batchOption);
  else if (shapes.length > 0 && shapes.every((first) => first === shapes[0])) point.batch = Number(shapes[0]);

  const target = trtexecTarget([`imported from the trtexec log ${file}`]);
  const tensorrtVersion = option('TensorRT version');
  if (tensorrtVersion) target.versions.tensorrt = tensorrtVersion;
  const deviceName = option('Selected Device');
  if (deviceName) {
    const deviceId = option('Selected Device ID');
    point.device = deviceId && /^\d+$/.test(deviceId) ? Number(deviceId) : null;
    target.device = {
      index: point.device ?? 0,
      name: deviceName,
      uuid: option('Selected Device UUID') ?? 'unknown',
      computeCapability: option('Compute Capability') ?? 'unknown',
    };
  }
  target.batch = point.batch ?? 0;

  const walltimeMs = walltime ? Number(walltime[1]) * 1000 : trace ? Number(trace[2]) * 1000 : 0;
  const completed = completeRun(
    {
      id: `trtexec-${runId(point).replace(/^tensorrt-/, '')}`,
      source: 'trtexec',
      status: 'ok',
      error: null,
      point,
      target,
      warmup: warmup ? { iterations: Number(warmup[1]), durationMs: Number(warmup[2]) } : null,
      measurement: { iterations, walltimeMs, minIterations: null, durationMs: null },
      metrics: metrics as RunMetrics,
      eventLoopDelay: null,
      hostCpu: null,
    },
    point.batch,
  );
  // trtexec printed its own throughput and warnings: keep them as printed rather than recomputed.
  if (throughput)
    completed.throughput = {
      qps: Number(throughput[1]),
      samplesPerSecond: point.batch === null ? null : Number(throughput[1]) * point.batch,
    };
  completed.warnings = warnings;
  return completed;
}

/** Reads `file` and imports it, telling --exportTimes JSON from a log by its first character. */
export function importTrtexecFile(file: string, percentiles: readonly number[] = DEFAULT_PERCENTILES): BenchRunResult {
  let text: string;
  try {
    text = readUserFileSync(file, 'utf8'); // a FIFO is refused, not waited on
  } catch (error) {
    throw new TensorRTNodeError(ErrorCode.IO, `Cannot read trtexec results ${file}: ${(error as Error).message}`, {
      cause: error,
      details: { file },
    });
  }
  if (text.trimStart().startsWith('[') && !LOG_PREFIX.exec(text.trimStart())?.[0].trim()) {
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch (error) {
      throw importError(file, `it looks like --exportTimes JSON but does not parse (${(error as Error).message})`);
    }
    return importExportTimes(document, file, percentiles);
  }
  return importTrtexecLog(text, file);
}
