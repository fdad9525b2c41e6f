/** Turns a Measurement (or a failure to get one) into the BenchRunResult stored in the results file. */
import { isTensorRTNodeError } from '../core/errors.js';
import type { Measurement } from './driver.js';
import type { IterationSeries } from './iteration-recorder.js';
import type { ErrorRecord, RunMetrics, RunPoint, BenchRunResult } from './results.js';
import { summarize } from './statistics.js';
import type { SweepPoint, TargetDescription } from './target.js';
import { detectWarnings } from './warnings.js';

export function errorRecord(error: unknown): ErrorRecord {
  if (error instanceof Error) {
    const ownCode = (error as Error & { code?: unknown }).code;
    const code = isTensorRTNodeError(error) ? error.code : typeof ownCode === 'string' ? ownCode : null;
    return { name: error.name, code, message: error.message };
  }
  return { name: 'Error', code: null, message: String(error) };
}

export function runId(point: RunPoint): string {
  const parts = [
    point.backend ?? 'unknown',
    point.precision ?? 'unknown',
    `b${point.batch ?? '?'}`,
    `c${point.concurrency ?? '?'}`,
  ];
  if (point.device !== null) parts.push(`gpu${point.device}`);
  return parts.join('-');
}

/** Summaries of every metric the series has; undefined when nothing was measured. */
export function metricsFromSeries(series: IterationSeries, percentiles: readonly number[]): RunMetrics | undefined {
  const latency = summarize(series.latency, percentiles);
  if (!latency) return undefined;
  const metrics: RunMetrics = { latency };
  for (const key of ['endToEnd', 'enqueue', 'h2d', 'compute', 'd2h'] as const) {
    const values = series[key];
    if (values) metrics[key] = summarize(values, percentiles)!;
  }
  return metrics;
}

/** Fills throughput, Total GPU Compute Time and warnings from measured metrics. */
export function completeRun(
  base: Omit<BenchRunResult, 'throughput' | 'totalGpuComputeTimeMs' | 'warnings'>,
  batch: number | null,
): BenchRunResult {
  const { metrics, measurement } = base;
  const qps = measurement.walltimeMs > 0 ? (measurement.iterations / measurement.walltimeMs) * 1000 : null;
  return {
    ...base,
    throughput: qps === null ? null : { qps, samplesPerSecond: batch === null ? null : qps * batch },
    totalGpuComputeTimeMs: metrics?.compute ? metrics.compute.mean * metrics.compute.count : null,
    warnings: metrics
      ? detectWarnings({
          ...metrics,
          concurrency: base.point.concurrency ?? 1,
          eventLoopDelay: base.eventLoopDelay,
          backend: base.target?.backend ?? base.point.backend,
        })
      : [],
  };
}

export interface RunOutcome {
  point: SweepPoint;
  target: TargetDescription | null;
  measurement: Measurement | null;
  /** Why the run failed (creating the target, a request, disposing). */
  error?: unknown;
  percentiles: readonly number[];
  minIterations: number;
  durationMs: number;
}

export function buildRunResult(outcome: RunOutcome): BenchRunResult {
  const { point, target, measurement } = outcome;
  const recorder = measurement?.recorder;
  const metrics = recorder && recorder.count > 0 ? (metricsFromSeries(recorder.series(), outcome.percentiles) ?? null) : null;
  const error = outcome.error ?? measurement?.failure;
  const failed = outcome.error !== undefined || measurement?.failedDuring !== undefined;
  return completeRun(
    {
      id: runId(point),
      source: 'tensorrt-node',
      status: failed ? 'failed' : 'ok',
      error: failed ? errorRecord(error) : null,
      point: { ...point },
      target,
      warmup: measurement ? measurement.warmup : null,
      measurement: {
        iterations: recorder?.count ?? 0,
        walltimeMs: recorder?.walltimeMs() ?? 0,
        minIterations: outcome.minIterations,
        durationMs: outcome.durationMs,
      },
      metrics,
      eventLoopDelay: measurement?.eventLoopDelay ?? null,
      hostCpu: measurement?.hostCpu ?? null,
    },
    target?.batch ?? point.batch,
  );
}
