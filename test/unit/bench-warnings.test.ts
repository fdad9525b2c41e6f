import { describe, expect, it } from 'vitest';
import { summarize } from '../../lib/bench/statistics.js';
import { detectWarnings } from '../../lib/bench/warnings.js';

const steady = (value: number) => summarize([value, value, value, value])!;

describe('bench warnings (trtexec printEpilog thresholds)', () => {
  it('none for a GPU-bound, stable, single-stream run with a free event loop', () => {
    expect(
      detectWarnings({
        latency: steady(1.2),
        enqueue: steady(0.1),
        h2d: steady(0.1),
        compute: steady(1),
        d2h: steady(0.1),
        concurrency: 1,
        eventLoopDelay: { p99Ms: 0.2, maxMs: 1 },
      }),
    ).toEqual([]);
  });

  it('enqueue-bound only when the median enqueue time exceeds 0.8 x the median compute time', () => {
    const atThreshold = detectWarnings({ latency: steady(1), enqueue: steady(0.8), compute: steady(1), concurrency: 1 });
    expect(atThreshold.map((warning) => warning.code)).toEqual([]);
    const above = detectWarnings({ latency: steady(1), enqueue: steady(0.81), compute: steady(1), concurrency: 1 });
    expect(above).toEqual([
      {
        code: 'enqueue-bound',
        message:
          '* Throughput may be bound by Enqueue Time rather than GPU Compute and the GPU may be under-utilized.\n  If CUDA graphs are off (--cuda-graph off), turning them on may increase throughput.',
      },
    ]);
  });

  it('transfer-bound when the median H2D or D2H time reaches the median compute time', () => {
    const codes = detectWarnings({
      latency: steady(3),
      h2d: steady(1),
      compute: steady(1),
      d2h: steady(0.99),
      concurrency: 1,
    }).map((warning) => warning.code);
    expect(codes).toEqual(['h2d-bound']);
    expect(
      detectWarnings({ latency: steady(3), h2d: steady(0.5), compute: steady(1), d2h: steady(1.5), concurrency: 1 }).map(
        (warning) => warning.code,
      ),
    ).toEqual(['d2h-bound']);
  });

  it('unstable when the coefficient of variation of GPU compute exceeds 2.5%, else of latency without phases', () => {
    // compute 1 and 1.06: mean 1.03, sd 0.03, CoV 2.9126%
    const unstableCompute = summarize([1, 1.06])!;
    const gpu = detectWarnings({ latency: steady(2), compute: unstableCompute, concurrency: 1 });
    expect(gpu).toEqual([
      {
        code: 'unstable',
        message:
          '* GPU compute time is unstable, with coefficient of variance = 2.91262%.\n  If not already in use, locking GPU clock frequency may improve the stability.',
      },
    ]);
    // 1 and 1.05: CoV 2.439% stays quiet
    expect(detectWarnings({ latency: summarize([1, 1.05])!, concurrency: 1 })).toEqual([]);
    const cpu = detectWarnings({ latency: unstableCompute, concurrency: 1 });
    expect(cpu[0]!.message).toMatch(/^\* Latency is unstable, with coefficient of variance = 2\.91262%\.\n {2}Other processes/);
  });

  it('several requests in flight make latencies unreliable, as several streams do in trtexec', () => {
    const warnings = detectWarnings({ latency: steady(1), concurrency: 4 });
    expect(warnings).toEqual([
      {
        code: 'multiple-streams',
        message:
          '* Multiple requests are in flight (concurrency 4). Latencies may not be accurate since inferences may run in parallel.\n  Please use "Throughput" as the performance metric instead.',
      },
    ]);
  });

  it('event-loop delay above 10 ms at p99 is reported with its numbers', () => {
    expect(detectWarnings({ latency: steady(1), concurrency: 1, eventLoopDelay: { p99Ms: 10, maxMs: 30 } })).toEqual([]);
    const warnings = detectWarnings({ latency: steady(1), concurrency: 1, eventLoopDelay: { p99Ms: 14.1, maxMs: 15.25 } });
    expect(warnings.map((warning) => warning.code)).toEqual(['event-loop-delay']);
    expect(warnings[0]!.message).toMatch(/^\* The event loop was delayed \(p99 14\.1 ms, max 15\.25 ms\)/);
  });
});

describe('bench warnings depend on what ran', () => {
  const delayed = { latency: steady(1), concurrency: 1, eventLoopDelay: { p99Ms: 37.7, maxMs: 47.2 } };

  it('cpu backend: inference runs on worker threads, so the loop waited for a core, GC or copies; tensorrt is not recommended', () => {
    const [warning] = detectWarnings({ ...delayed, backend: 'cpu' });
    expect(warning).toEqual({
      code: 'event-loop-delay',
      message:
        "* The event loop was delayed (p99 37.7 ms, max 47.2 ms) although the cpu backend runs inference on worker threads: the JS thread waited for a core (onnxruntime's threads compete with it), for garbage collection or for copies of inputs and outputs; latencies seen from JS include that wait, and a service on this host would stall as long.\n" +
        "  Fewer onnxruntime threads, threads that sleep between operators or run at a lower priority (the cpu backend's intraOpNumThreads, spinWait and niceness options) leave the event loop a core; so does a quieter host.",
    });
    expect(warning!.message).not.toMatch(/ran synchronously|\(tensorrt\)/);
  });

  it('tensorrt backend: off the loop too; the hint is about copies', () => {
    const [warning] = detectWarnings({ ...delayed, backend: 'tensorrt' });
    expect(warning!.message).toMatch(
      /^\* The event loop was delayed \(p99 37\.7 ms, max 47\.2 ms\) although the tensorrt backend runs requests off the event loop: /,
    );
    expect(warning!.message).toContain('session.createBinding');
    expect(warning!.message).not.toMatch(/ran synchronously/);
  });

  it("a target that works on the JS thread (the harness's cpu-workload) is told so", () => {
    const [warning] = detectWarnings({ ...delayed, backend: 'cpu-workload' });
    expect(warning!.message).toBe(
      '* The event loop was delayed (p99 37.7 ms, max 47.2 ms): work ran synchronously on the JS thread, so latencies seen from JS include that wait, and a service on this host would stall as long.\n  The tensorrt and cpu backends run requests off the event loop.',
    );
  });
});
