import { describe, expect, it } from 'vitest';
import { monotonicOffsetMs, toRunTiming } from '../../lib/tensorrt/timing.js';

describe('run timings on the performance.now() clock', () => {
  it('one offset maps the monotonic clock (process.hrtime) onto performance.now()', () => {
    const offset = monotonicOffsetMs();
    expect(monotonicOffsetMs()).toBe(offset); // measured once
    const before = performance.now();
    const mapped = Number(process.hrtime.bigint()) / 1e6 + offset;
    const after = performance.now();
    expect(mapped).toBeGreaterThanOrEqual(before - 0.05);
    expect(mapped).toBeLessThanOrEqual(after + 0.05);
  });

  it('phases keep their names (PhaseTimings) and durations follow trtexec: enqueue, H2D, compute, D2H, latency', () => {
    const timing = toRunTiming(
      {
        enqueueStartMs: 100,
        enqueueEndMs: 100.02,
        h2dStartMs: 100.01,
        h2dEndMs: 100.11,
        computeStartMs: 100.11,
        computeEndMs: 101.11,
        d2hStartMs: 101.11,
        d2hEndMs: 101.16,
      },
      1000,
    );
    expect(timing.enqueueStartMs).toBe(1100);
    expect(timing.h2dStartMs).toBeCloseTo(1100.01, 9);
    expect(timing.d2hEndMs).toBeCloseTo(1101.16, 9);
    expect(timing.enqueueMs).toBeCloseTo(0.02, 9);
    expect(timing.h2dMs).toBeCloseTo(0.1, 9);
    expect(timing.computeMs).toBeCloseTo(1, 9);
    expect(timing.d2hMs).toBeCloseTo(0.05, 9);
    expect(timing.latencyMs).toBeCloseTo(1.15, 9);
    expect(timing.computeMs).toBeLessThanOrEqual(timing.latencyMs);
  });
});
