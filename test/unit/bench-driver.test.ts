import { describe, expect, it } from 'vitest';
import { CudaError, ErrorCode, TensorRTNodeError } from '../../lib/core/errors.js';
import { measure, rawLoop } from '../../lib/bench/driver.js';
import { measureHarnessOverhead } from '../../lib/bench/overhead.js';
import { expandSweep, runPoint, runSweep } from '../../lib/bench/sweep.js';
import { formatRunSummary } from '../../lib/bench/summary.js';
import type { BenchTarget, SweepPoint } from '../../lib/bench/target.js';
import { createCpuWorkloadTarget, xorshift32 } from '../../lib/bench/targets/cpu-workload.js';
import { workloadFactory } from '../helpers/bench.js';

/** Wraps a real cpu-workload target to count requests and how many are in flight at once. */
function counted(target: BenchTarget, failOnCall?: number) {
  const stats = { calls: 0, inFlight: 0, maxInFlight: 0, disposed: 0 };
  const wrapped: BenchTarget = {
    describe: () => target.describe(),
    async run() {
      stats.calls++;
      if (stats.calls === failOnCall)
        throw new CudaError(ErrorCode.CUDA, 'an illegal memory access was encountered', {
          cudaError: { code: 700, name: 'cudaErrorIllegalAddress' },
        });
      stats.inFlight++;
      stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
      try {
        return await target.run();
      } finally {
        stats.inFlight--;
      }
    },
    async dispose() {
      stats.disposed++;
      await target.dispose();
    },
  };
  return { target: wrapped, stats };
}

const point = (overrides: Partial<SweepPoint> = {}): SweepPoint => ({
  backend: 'cpu',
  precision: 'fp32',
  batch: 1,
  concurrency: 1,
  device: null,
  cudaGraph: true,
  transfers: true,
  batcher: false,
  ...overrides,
});
const countBound = (minIterations: number) => ({ warmupMs: 0, durationMs: 0, minIterations, percentiles: [50, 99] });

describe('cpu-workload target', () => {
  it('does the xorshift work it says and checks its result', async () => {
    expect(xorshift32(1, 1)).toBe(270369);
    const target = createCpuWorkloadTarget({ stepsPerSample: 1000, batch: 4 });
    expect(target.describe()).toMatchObject({ backend: 'cpu-workload', batch: 4, device: null, measuresPhases: false });
    await expect(target.run()).resolves.toBeUndefined();
    await target.dispose();
    await expect(target.run()).rejects.toMatchObject({ code: ErrorCode.DISPOSED });
  });
});

describe('bench driver', () => {
  it('a count-bounded run makes exactly the requests asked for, after a timed warm-up', async () => {
    const { target, stats } = counted(createCpuWorkloadTarget({ stepsPerSample: 2000 }));
    const measurement = await measure(target, {
      warmupMs: 30,
      durationMs: 0,
      minIterations: 37,
      concurrency: 1,
      withPhases: false,
    });
    expect(measurement.failure).toBeUndefined();
    expect(measurement.recorder.count).toBe(37);
    expect(measurement.warmup.iterations).toBeGreaterThan(0);
    expect(measurement.warmup.durationMs).toBeGreaterThanOrEqual(30);
    expect(stats.calls).toBe(measurement.warmup.iterations + 37);
    expect(measurement.hostCpu!.percentOfOneCore).toBeGreaterThan(0);
  });

  it('a time-bounded run lasts at least its duration and at least its minimum iterations', async () => {
    const measurement = await measure(createCpuWorkloadTarget({ stepsPerSample: 2000 }), {
      warmupMs: 0,
      durationMs: 120,
      minIterations: 10,
      concurrency: 1,
      withPhases: false,
    });
    expect(measurement.elapsedMs).toBeGreaterThanOrEqual(120);
    expect(measurement.recorder.walltimeMs()).toBeGreaterThan(0);
    expect(measurement.recorder.walltimeMs()).toBeLessThanOrEqual(measurement.elapsedMs);
    expect(measurement.recorder.count).toBeGreaterThanOrEqual(10);
    const slow = await measure(createCpuWorkloadTarget({ stepsPerSample: 2000 }), {
      warmupMs: 0,
      durationMs: 1,
      minIterations: 200,
      concurrency: 1,
      withPhases: false,
    });
    expect(slow.recorder.count).toBeGreaterThanOrEqual(200);
  });

  it('keeps exactly N requests in flight at concurrency N', async () => {
    const { target, stats } = counted(createCpuWorkloadTarget({ stepsPerSample: 500 }));
    const measurement = await measure(target, {
      warmupMs: 0,
      durationMs: 0,
      minIterations: 64,
      concurrency: 4,
      withPhases: false,
    });
    expect(measurement.recorder.count).toBe(64);
    expect(stats.maxInFlight).toBe(4);
    const raw = counted(createCpuWorkloadTarget({ stepsPerSample: 500 }));
    await rawLoop(raw.target, 50, 3);
    expect(raw.stats).toMatchObject({ calls: 50, maxInFlight: 3 });
  });

  it('reports a delayed event loop when requests block the JS thread', async () => {
    // ~30M xorshift steps block the loop for tens of milliseconds per request on any current CPU.
    const outcome = await runPoint(async () => createCpuWorkloadTarget({ stepsPerSample: 30_000_000 }), point(), countBound(8));
    expect(outcome.result.eventLoopDelay!.maxMs).toBeGreaterThan(10);
    expect(outcome.result.warnings.map((warning) => warning.code)).toContain('event-loop-delay');
  });
});

describe('bench sweep', () => {
  it('expands every combination in a stable order, the cpu backend once without devices', () => {
    const points = expandSweep({
      backends: ['tensorrt', 'cpu'],
      precisions: ['fp16', 'int8'],
      batches: [1, 8],
      concurrencies: [1, 4],
      devices: [0, 1],
      cudaGraph: true,
      transfers: false,
      batcher: false,
    });
    expect(points).toHaveLength(2 * 2 * 2 * 2 + 2 * 2 * 2);
    expect(points[0]).toEqual({
      backend: 'tensorrt',
      precision: 'fp16',
      batch: 1,
      concurrency: 1,
      device: 0,
      cudaGraph: true,
      transfers: false,
      batcher: false,
    });
    expect(points.filter((p) => p.backend === 'cpu').every((p) => p.device === null)).toBe(true);
  });

  it('records a run that fails midway with its error and keeps what it measured', async () => {
    const { target, stats } = counted(createCpuWorkloadTarget({ stepsPerSample: 1000 }), 7);
    const { result, recorder } = await runPoint(async () => target, point(), countBound(20));
    expect(result.status).toBe('failed');
    expect(result.error).toEqual({ name: 'CudaError', code: 'ERR_CUDA', message: 'an illegal memory access was encountered' });
    expect(result.measurement.iterations).toBe(6);
    expect(result.metrics!.latency.count).toBe(6);
    expect(recorder!.count).toBe(6);
    expect(stats.disposed).toBe(1);
    expect(formatRunSummary(result)).toContain(
      'Run failed midway (the iterations measured before the failure are kept): an illegal memory access was encountered [ERR_CUDA]',
    );
  });

  it('records a point whose target cannot be created, and goes on with the next points', async () => {
    const seen: string[] = [];
    const factory = async (p: SweepPoint) => {
      if (p.batch === 8) throw new TensorRTNodeError(ErrorCode.NOT_SUPPORTED, 'batch 8 exceeds the profile');
      return workloadFactory(500)(p);
    };
    const results = await runSweep(factory, [point({ batch: 1 }), point({ batch: 8 }), point({ batch: 2 })], {
      ...countBound(5),
      onRun: ({ result }, index, total) => void seen.push(`${index + 1}/${total} ${result.status}`),
    });
    expect(seen).toEqual(['1/3 ok', '2/3 failed', '3/3 ok']);
    expect(results[1]).toMatchObject({
      id: 'cpu-fp32-b8-c1',
      status: 'failed',
      target: null,
      metrics: null,
      error: { code: 'ERR_NOT_SUPPORTED', message: 'batch 8 exceeds the profile' },
    });
    expect(results[2]!.throughput!.samplesPerSecond).toBeCloseTo(results[2]!.throughput!.qps * 2, 9);
  });

  it('a target that breaks its phase promise fails the run instead of producing wrong numbers', async () => {
    const workload = createCpuWorkloadTarget({ stepsPerSample: 100 });
    const liar: BenchTarget = {
      describe: () => ({ ...workload.describe(), measuresPhases: true }),
      run: () => workload.run(),
      dispose: () => workload.dispose(),
    };
    const { result } = await runPoint(async () => liar, point(), countBound(5));
    expect(result).toMatchObject({
      status: 'failed',
      error: { name: 'TypeError', message: 'run() resolved without PhaseTimings although describe() said measuresPhases' },
    });
  });

  it('measures the harness against a raw loop on the same target in one run', async () => {
    const overhead = await measureHarnessOverhead(createCpuWorkloadTarget({ stepsPerSample: 2000 }), {
      iterationsPerRound: 200,
      rounds: 4,
      concurrency: 1,
    });
    expect(overhead).toMatchObject({ iterationsPerRound: 200, rounds: 4, concurrency: 1, target: { backend: 'cpu-workload' } });
    expect(overhead.roundOverheadFractions).toHaveLength(4);
    expect(overhead.rawMsPerIteration).toBeGreaterThan(0);
    expect(overhead.harnessMsPerIteration).toBeGreaterThan(0);
    expect(overhead.overheadFraction).toBeCloseTo(overhead.harnessMsPerIteration / overhead.rawMsPerIteration - 1, 12);
  });
});
