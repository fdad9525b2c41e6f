/**
 * A deterministic CPU workload used as a BenchTarget: it measures the harness itself (its overhead
 * over a raw loop, its statistics and reports) on any machine. It is not a model and never claims
 * to be one: describe() names its backend 'cpu-workload', and every result records that.
 *
 * Each request runs `stepsPerSample x batch` steps of a 32-bit xorshift generator and checks the
 * final state against the value computed once at creation, so the work cannot be optimized away
 * and a wrong result is an error, not a number. It runs on the JS thread, like a synchronous
 * backend would; `yieldEvery` requests it gives the event loop a turn (setImmediate) so timers
 * and the event-loop monitor still run.
 */
import { ErrorCode, TensorRTNodeError } from '../../core/errors.js';
import { expectPositiveInteger } from '../../core/validate.js';
import type { BenchTarget, PhaseTimings, TargetDescription } from '../target.js';

export interface CpuWorkloadOptions {
  /** xorshift steps per sample; the request cost grows linearly with it. */
  stepsPerSample: number;
  batch?: number;
  /** Yield to the event loop every this many requests (1 = every request). */
  yieldEvery?: number;
}

export function xorshift32(seed: number, steps: number): number {
  let state = seed >>> 0 || 1;
  for (let i = 0; i < steps; i++) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
  }
  return state;
}

const SEED = 0x9e3779b9;

export function createCpuWorkloadTarget(options: CpuWorkloadOptions): BenchTarget {
  const stepsPerSample = expectPositiveInteger(options.stepsPerSample, 'options.stepsPerSample', 1e9);
  const batch = expectPositiveInteger(options.batch ?? 1, 'options.batch', 65536);
  const yieldEvery = expectPositiveInteger(options.yieldEvery ?? 1, 'options.yieldEvery');
  const steps = stepsPerSample * batch;
  const expected = xorshift32(SEED, steps);
  let requests = 0;
  let disposed = false;
  const description: TargetDescription = {
    backend: 'cpu-workload',
    precision: 'fp32',
    batch,
    device: null,
    versions: { node: process.version },
    measuresPhases: false,
    notes: [
      `xorshift32, ${stepsPerSample} steps per sample x batch ${batch} per request, on the JS thread; a calibration workload, not a model`,
    ],
  };
  return {
    describe: () => description,
    async run(): Promise<PhaseTimings | undefined> {
      if (disposed) throw new TensorRTNodeError(ErrorCode.DISPOSED, 'The cpu-workload target was disposed');
      requests++;
      if (requests % yieldEvery === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      const state = xorshift32(SEED, steps);
      if (state !== expected)
        throw new TensorRTNodeError(ErrorCode.INTERNAL, `cpu-workload computed ${state} instead of ${expected}`);
      return undefined;
    },
    async dispose() {
      disposed = true;
    },
  };
}
