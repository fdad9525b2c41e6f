import { describe, expect, it } from 'vitest';
import { IterationRecorder } from '../../lib/bench/iteration-recorder.js';

const phases = (base: number, enqueue: number, h2d: number, compute: number, d2h: number) => ({
  enqueueStartMs: base,
  enqueueEndMs: base + enqueue,
  h2dStartMs: base + 1,
  h2dEndMs: base + 1 + h2d,
  computeStartMs: base + 1 + h2d,
  computeEndMs: base + 1 + h2d + compute,
  d2hStartMs: base + 1 + h2d + compute,
  d2hEndMs: base + 1 + h2d + compute + d2h,
});

describe('IterationRecorder', () => {
  it('without phases records only the latency JS saw, relative to the origin', () => {
    const recorder = new IterationRecorder(false, 1000, 16);
    recorder.record(1000, 1002.5, undefined);
    recorder.record(1002.5, 1003, undefined);
    expect(recorder.count).toBe(2);
    expect(recorder.walltimeMs()).toBe(3);
    expect(recorder.records()).toEqual([{ latencyMs: 2.5 }, { latencyMs: 0.5 }]);
    expect(Object.keys(recorder.series())).toEqual(['latency']);
  });

  it('with phases writes trtexec --exportTimes fields, latency = h2d + compute + d2h, endToEnd from JS', () => {
    const recorder = new IterationRecorder(true, 100, 16);
    recorder.record(100, 110, phases(100, 0.25, 0.5, 4, 0.25));
    expect(recorder.records()).toEqual([
      {
        startEnqMs: 0,
        endEnqMs: 0.25,
        startH2dMs: 1,
        endH2dMs: 1.5,
        startComputeMs: 1.5,
        endComputeMs: 5.5,
        startD2hMs: 5.5,
        endD2hMs: 5.75,
        h2dMs: 0.5,
        computeMs: 4,
        d2hMs: 0.25,
        latencyMs: 4.75,
        endToEndMs: 10,
      },
    ]);
  });

  it('grows past its initial capacity without losing iterations', () => {
    const recorder = new IterationRecorder(true, 0, 16);
    for (let i = 0; i < 100; i++) recorder.record(i, i + 1, phases(i, 0.1, 0.1, 0.5, 0.1));
    expect(recorder.count).toBe(100);
    const series = recorder.series();
    expect(series.compute!.length).toBe(100);
    expect(series.compute!.every((value) => Math.abs(value - 0.5) < 1e-9)).toBe(true);
    expect(recorder.walltimeMs()).toBe(100);
  });

  it('BAD CALL - a target that breaks its measuresPhases promise is an error, not a silent hole', () => {
    expect(() => new IterationRecorder(true, 0).record(0, 1, undefined)).toThrow(
      new TypeError('run() resolved without PhaseTimings although describe() said measuresPhases'),
    );
    expect(() => new IterationRecorder(false, 0).record(0, 1, phases(0, 1, 1, 1, 1))).toThrow(
      new TypeError('run() resolved with PhaseTimings although describe() said it does not measure phases'),
    );
  });
});
