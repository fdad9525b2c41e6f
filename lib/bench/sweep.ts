/**
 * The sweep: every combination of backend x precision x batch x concurrency x device, each run on a
 * fresh target from the factory, warmed up and measured. A point that fails (its target cannot be
 * created here, or a request fails midway) is recorded with its error and whatever it measured
 * before failing, and the sweep goes on with the next point.
 */
import { measure, type MeasureOptions } from './driver.js';
import type { IterationRecorder } from './iteration-recorder.js';
import type { BenchRunResult } from './results.js';
import { buildRunResult, errorRecord } from './run-result.js';
import type { BackendChoice, BenchTarget, BenchTargetFactory, Precision, SweepPoint, TargetDescription } from './target.js';

/** The axes of a sweep: every combination of their values is one point, measured on its own target. */
export interface SweepAxes {
  backends: readonly BackendChoice[];
  precisions: readonly Precision[];
  batches: readonly number[];
  concurrencies: readonly number[];
  /** CUDA device indices; the cpu backend runs once, with device null. */
  devices: readonly number[];
  cudaGraph: boolean;
  transfers: boolean;
  batcher: boolean;
}

/** Every point of the sweep, in a stable order: backend, device, precision, batch, concurrency. */
export function expandSweep(axes: SweepAxes): SweepPoint[] {
  const points: SweepPoint[] = [];
  for (const backend of axes.backends) {
    const devices: (number | null)[] = backend === 'cpu' || axes.devices.length === 0 ? [null] : [...axes.devices];
    for (const device of devices) {
      for (const precision of axes.precisions) {
        for (const batch of axes.batches) {
          for (const concurrency of axes.concurrencies) {
            points.push({
              backend,
              precision,
              batch,
              concurrency,
              device,
              cudaGraph: axes.cudaGraph,
              transfers: axes.transfers,
              batcher: axes.batcher,
            });
          }
        }
      }
    }
  }
  return points;
}

/**
 * What one point of a sweep produced.
 * @inline
 */
export interface PointOutcome {
  result: BenchRunResult;
  /** The iterations measured (for --export-times); null when nothing was measured. */
  recorder: IterationRecorder | null;
}

/** Options of {@link runSweep}: how each point is measured, and a callback after each. */
export interface SweepRunOptions extends Omit<MeasureOptions, 'concurrency' | 'withPhases'> {
  percentiles: readonly number[];
  /** Called after every point (the CLI prints the summary and rewrites its JSON file here). */
  onRun?: (outcome: PointOutcome, index: number, total: number) => void | Promise<void>;
}

/** Runs one point: create, describe, measure, dispose; never throws, failures are in the result. */
export async function runPoint(factory: BenchTargetFactory, point: SweepPoint, options: SweepRunOptions): Promise<PointOutcome> {
  const base = { point, percentiles: options.percentiles, minIterations: options.minIterations, durationMs: options.durationMs };
  let target: BenchTarget;
  try {
    target = await factory(point);
  } catch (error) {
    return { result: buildRunResult({ ...base, target: null, measurement: null, error }), recorder: null };
  }
  let description: TargetDescription | null = null;
  let result: BenchRunResult;
  let recorder: IterationRecorder | null = null;
  try {
    description = target.describe();
    const measurement = await measure(target, {
      ...options,
      concurrency: point.concurrency,
      withPhases: description.measuresPhases,
    });
    recorder = measurement.recorder.count > 0 ? measurement.recorder : null;
    result = buildRunResult({ ...base, target: description, measurement });
  } catch (error) {
    result = buildRunResult({ ...base, target: description, measurement: null, error });
  }
  try {
    await target.dispose();
  } catch (error) {
    if (result.status === 'ok') result = { ...result, status: 'failed', error: errorRecord(error) };
  }
  return { result, recorder };
}

/**
 * Measures every point in order, one target at a time (created, described, measured, disposed).
 * Never throws for a failing point: its result has `status: 'failed'` and the error, and the sweep
 * goes on.
 */
export async function runSweep(
  factory: BenchTargetFactory,
  points: readonly SweepPoint[],
  options: SweepRunOptions,
): Promise<BenchRunResult[]> {
  const results: BenchRunResult[] = [];
  for (const [index, point] of points.entries()) {
    const outcome = await runPoint(factory, point, options);
    results.push(outcome.result);
    await options.onRun?.(outcome, index, points.length);
  }
  return results;
}
