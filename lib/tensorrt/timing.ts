/**
 * Per-run phase timings on the performance.now() clock, named as trtexec names them. Native code
 * reports host times on CLOCK_MONOTONIC (the submit thread's clock for the enqueue, CUDA events
 * mapped through an anchor for the GPU phases, see native/trt/run_timing.h); libuv's hrtime, under
 * both process.hrtime() and performance.now(), reads the same clock, so one offset maps them.
 */
import type { PhaseTimings } from '../addon/types.js';

export type { PhaseTimings };

/**
 * One run's phases (the PhaseTimings of the bench seam, ms on the performance.now() clock) and the
 * durations trtexec reports for each iteration.
 */
export interface RunTiming extends PhaseTimings {
  /** trtexec "Enqueue Time": host time the context's submit thread spent enqueueing this run. */
  enqueueMs: number;
  /** trtexec "H2D Latency" (0 without host inputs). */
  h2dMs: number;
  /** trtexec "GPU Compute Time". */
  computeMs: number;
  /** trtexec "D2H Latency" (0 without host outputs). */
  d2hMs: number;
  /** trtexec "Latency": from the start of the H2D copies to the end of the D2H copies. */
  latencyMs: number;
}

let offsetMs: number | undefined;

/** performance.now() minus the monotonic clock in ms, measured once (both read libuv's hrtime). */
export function monotonicOffsetMs(): number {
  if (offsetMs === undefined) {
    // The pair with the smallest gap between the two reads wins (microseconds apart at worst).
    let best = Infinity;
    for (let attempt = 0; attempt < 5; attempt++) {
      const before = process.hrtime.bigint();
      const now = performance.now();
      const after = process.hrtime.bigint();
      const gap = Number(after - before);
      if (gap < best) {
        best = gap;
        offsetMs = now - Number(before + (after - before) / 2n) / 1e6;
      }
    }
  }
  return offsetMs!;
}

/** Native monotonic times to a RunTiming on the performance.now() clock. */
export function toRunTiming(times: PhaseTimings, offset: number = monotonicOffsetMs()): RunTiming {
  const at = (ms: number) => ms + offset;
  const phases: PhaseTimings = {
    enqueueStartMs: at(times.enqueueStartMs),
    enqueueEndMs: at(times.enqueueEndMs),
    h2dStartMs: at(times.h2dStartMs),
    h2dEndMs: at(times.h2dEndMs),
    computeStartMs: at(times.computeStartMs),
    computeEndMs: at(times.computeEndMs),
    d2hStartMs: at(times.d2hStartMs),
    d2hEndMs: at(times.d2hEndMs),
  };
  return {
    ...phases,
    enqueueMs: times.enqueueEndMs - times.enqueueStartMs,
    h2dMs: times.h2dEndMs - times.h2dStartMs,
    computeMs: times.computeEndMs - times.computeStartMs,
    d2hMs: times.d2hEndMs - times.d2hStartMs,
    latencyMs: times.d2hEndMs - times.h2dStartMs,
  };
}
