/**
 * Drives one BenchTarget the way trtexec drives an engine: a time-bounded warm-up, then a
 * measurement that lasts at least `durationMs` and at least `minIterations` requests
 * (samples/common/sampleInference.cpp, inferenceLoop), with `concurrency` requests in flight.
 * During the measurement it also watches the event loop (perf_hooks.monitorEventLoopDelay) and the
 * process's CPU time (process.cpuUsage).
 *
 * rawLoop() drives the same target with no bookkeeping at all, so that the harness's own cost can
 * be measured against it in the same process (overhead.ts).
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { IterationRecorder } from './iteration-recorder.js';
import type { EventLoopDelaySummary, HostCpuUsage } from './results.js';
import type { BenchTarget, PhaseTimings } from './target.js';

/** Options of {@link measure}: trtexec's warm-up, duration and iteration bounds, and the concurrency. */
export interface MeasureOptions {
  /** Warm-up time before measuring (trtexec: 200 ms); 0 for none. */
  warmupMs: number;
  /** Measure at least this long (trtexec: 3 s); 0 to bound the run by `minIterations` alone. */
  durationMs: number;
  /** Measure at least this many requests (trtexec: 10). */
  minIterations: number;
  /** Requests kept in flight at once. */
  concurrency: number;
  /** Whether run() resolves to PhaseTimings (TargetDescription.measuresPhases). */
  withPhases: boolean;
  /** Event-loop delay sampling interval; Node's default, cheap enough not to disturb the run. */
  eventLoopResolutionMs?: number;
}

/** What {@link measure} recorded: every iteration, the warm-up, the event-loop delay and the CPU time. */
export interface Measurement {
  recorder: IterationRecorder;
  warmup: { iterations: number; durationMs: number };
  eventLoopDelay: EventLoopDelaySummary | null;
  hostCpu: HostCpuUsage | null;
  /**
   * From the measurement's origin until every request had settled, in ms (0 when the warm-up
   * failed). A time-bounded run stops starting requests only once `durationMs` has passed since the
   * origin, so this is at least `durationMs`; the recorder's walltime starts at the first request
   * and can be a little shorter.
   */
  elapsedMs: number;
  /** Set when a request failed: what was measured before it is kept in `recorder`. */
  failure?: unknown;
  /** Where the failure happened. */
  failedDuring?: 'warmup' | 'measurement';
}

type Continue = (started: number) => boolean;
type OnDone = (startMs: number, endMs: number, phases: PhaseTimings | undefined) => void;

/**
 * Keeps `concurrency` requests in flight while `shouldStart(startedSoFar)` says so. The first
 * failure stops new requests; the requests already in flight are awaited before it is rethrown, so
 * nothing of the target is still running when the caller disposes it.
 */
async function drive(target: BenchTarget, concurrency: number, shouldStart: Continue, onDone: OnDone): Promise<void> {
  let started = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && shouldStart(started)) {
      started++;
      const startMs = performance.now();
      try {
        const phases = await target.run();
        onDone(startMs, performance.now(), phases);
      } catch (error) {
        failure ??= { error };
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (failure !== undefined) throw failure.error;
}

/**
 * The histogram records the time between two ticks of its timer, so an idle loop shows the
 * resolution itself (10 ms); the delay is what exceeds it.
 */
export function summarizeEventLoop(
  histogram: ReturnType<typeof monitorEventLoopDelay>,
  resolutionMs: number,
): EventLoopDelaySummary | null {
  if (histogram.count === 0) return null;
  const ms = (nanoseconds: number) => Math.max(0, nanoseconds / 1e6 - resolutionMs);
  return {
    minMs: ms(histogram.min),
    maxMs: ms(histogram.max),
    meanMs: ms(histogram.mean),
    p50Ms: ms(histogram.percentile(50)),
    p99Ms: ms(histogram.percentile(99)),
    resolutionMs,
    samples: histogram.count,
  };
}

/** The CPU time `cpu` (process.cpuUsage(start)) spent over `elapsedMs`, in ms and as a share of one core. */
export function hostCpuUsage(cpu: NodeJS.CpuUsage, elapsedMs: number): HostCpuUsage {
  return {
    userMs: cpu.user / 1000,
    systemMs: cpu.system / 1000,
    percentOfOneCore: elapsedMs > 0 ? ((cpu.user + cpu.system) / 1000 / elapsedMs) * 100 : 0,
  };
}

/**
 * Drives `target` the way trtexec drives an engine: a time-bounded warm-up, then a measurement that
 * lasts at least `durationMs` and at least `minIterations` requests, with `concurrency` requests in
 * flight, watching the event loop and the process's CPU time meanwhile. A failing request ends the
 * measurement: what was measured before it is kept, and `failure` says what happened.
 */
export async function measure(target: BenchTarget, options: MeasureOptions): Promise<Measurement> {
  const resolutionMs = options.eventLoopResolutionMs ?? 10;
  const warmup = { iterations: 0, durationMs: 0 };
  if (options.warmupMs > 0) {
    const warmupStart = performance.now();
    try {
      await drive(
        target,
        options.concurrency,
        () => performance.now() - warmupStart < options.warmupMs,
        () => {
          warmup.iterations++;
        },
      );
    } catch (failure) {
      warmup.durationMs = performance.now() - warmupStart;
      return {
        recorder: new IterationRecorder(options.withPhases, performance.now(), 16),
        warmup,
        eventLoopDelay: null,
        hostCpu: null,
        elapsedMs: 0,
        failure,
        failedDuring: 'warmup',
      };
    }
    warmup.durationMs = performance.now() - warmupStart;
  }

  const histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  const origin = performance.now();
  const recorder = new IterationRecorder(options.withPhases, origin);
  const cpuStart = process.cpuUsage();
  histogram.enable();
  let failure: unknown;
  let failed = false;
  try {
    await drive(
      target,
      options.concurrency,
      (started) => started < options.minIterations || performance.now() - origin < options.durationMs,
      (startMs, endMs, phases) => recorder.record(startMs, endMs, phases),
    );
  } catch (error) {
    failed = true;
    failure = error;
  }
  histogram.disable();
  const cpu = process.cpuUsage(cpuStart);
  const elapsedMs = performance.now() - origin;
  const measurement: Measurement = {
    recorder,
    warmup,
    eventLoopDelay: summarizeEventLoop(histogram, resolutionMs),
    hostCpu: hostCpuUsage(cpu, elapsedMs),
    elapsedMs,
  };
  if (failed) {
    measurement.failure = failure;
    measurement.failedDuring = 'measurement';
  }
  return measurement;
}

/** `iterations` requests, `concurrency` in flight, nothing recorded: the baseline for overhead.ts. */
export async function rawLoop(target: BenchTarget, iterations: number, concurrency: number): Promise<number> {
  let remaining = iterations;
  const worker = async (): Promise<void> => {
    while (remaining > 0) {
      remaining--;
      await target.run();
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return performance.now() - start;
}
