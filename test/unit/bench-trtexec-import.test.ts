import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCode, TensorRTNodeError } from '../../lib/core/errors.js';
import { importExportTimes, importTrtexecFile, importTrtexecLog } from '../../lib/bench/trtexec-import.js';
import { packageRoot } from '../../lib/addon/loader.js';
import { expectError, expectErrorSync } from '../helpers/expect-error.js';

const fixtures = join(packageRoot, 'test', 'fixtures', 'trtexec');

describe('trtexec import', () => {
  it('summarizes --exportTimes records as trtexec would (hand-computed, see fixtures/trtexec/README.md)', () => {
    const run = importTrtexecFile(join(fixtures, 'exportTimes-10.json'));
    expect(run).toMatchObject({
      source: 'trtexec',
      status: 'ok',
      measurement: { iterations: 10 },
      target: { backend: 'trtexec', measuresPhases: true },
    });
    const compute = run.metrics!.compute!;
    // sorted 0.79 0.80 0.80 0.80 0.80 0.81 0.81 0.82 0.85 0.95
    expect(compute.min).toBe(0.79);
    expect(compute.max).toBe(0.95);
    expect(compute.mean).toBeCloseTo(0.823, 12);
    expect(compute.median).toBeCloseTo(0.805, 12);
    expect(compute.percentiles.map((entry) => entry.value)).toEqual([0.85, 0.95, 0.95, 0.95]);
    // sum of squared deviations 0.02041 over 10 -> sd 0.0451774, / 0.823 -> 5.48936%
    expect(compute.coefficientOfVariation).toBeCloseTo(5.48936, 4);
    expect(run.metrics!.latency.median).toBeCloseTo(0.925, 12);
    expect(run.metrics!.enqueue!.median).toBeCloseTo(0.05, 12);
    expect(run.metrics!.h2d!.median).toBe(0.1);
    expect(run.metrics!.d2h!.median).toBe(0.02);
    expect(run.metrics!.endToEnd).toBeUndefined();
    // Total Host Walltime: last endD2hMs 209.98 - first startH2dMs 200.06
    expect(run.measurement.walltimeMs).toBeCloseTo(9.92, 9);
    expect(run.throughput!.qps).toBeCloseTo(10 / 0.00992, 6);
    expect(run.totalGpuComputeTimeMs).toBeCloseTo(8.23, 9);
    expect(run.warnings.map((warning) => warning.code)).toEqual(['unstable']);
  });

  it('reads the summary, prolog, device, options and warnings of a trtexec log', () => {
    const run = importTrtexecFile(join(fixtures, 'trtexec-10.log'));
    expect(run.point).toEqual({
      backend: 'tensorrt',
      precision: null,
      batch: 8,
      concurrency: 1,
      device: 0,
      cudaGraph: true,
      transfers: true,
      batcher: false,
    });
    expect(run.target).toMatchObject({
      backend: 'trtexec',
      batch: 8,
      versions: { tensorrt: '10.16.0' },
      device: {
        index: 0,
        name: 'NVIDIA A100-SXM4-40GB',
        uuid: 'GPU-2d6f8a41-7c3e-5b9d-a0e2-4f1c8b7d6e53',
        computeCapability: '8.0',
      },
    });
    expect(run.warmup).toEqual({ iterations: 88, durationMs: 200 });
    expect(run.measurement).toEqual({ iterations: 1387, walltimeMs: 3004.94, minIterations: null, durationMs: null });
    expect(run.throughput).toEqual({ qps: 461.57, samplesPerSecond: 461.57 * 8 });
    expect(run.metrics!.latency).toEqual({
      count: 1387,
      min: 2.13745,
      max: 2.40869,
      mean: 2.16512,
      median: 2.16187,
      percentiles: [
        { percentile: 90, value: 2.17358 },
        { percentile: 95, value: 2.17773 },
        { percentile: 99, value: 2.2229 },
      ],
      coefficientOfVariation: null,
    });
    expect(run.metrics!.compute).toMatchObject({ median: 1.73462, coefficientOfVariation: 3.21457 });
    expect(Object.keys(run.metrics!)).toEqual(['latency', 'enqueue', 'h2d', 'compute', 'd2h']);
    expect(run.totalGpuComputeTimeMs).toBeCloseTo(1.73772 * 1387, 6);
    expect(run.warnings).toEqual([
      {
        code: 'unstable',
        message:
          '* GPU compute time is unstable, with coefficient of variance = 3.21457%.\n  If not already in use, locking GPU clock frequency may improve the stability.',
      },
    ]);
  });

  it('reads a log without timestamps, as printed with --noTimestamps or piped through another tool', () => {
    const run = importTrtexecLog(
      [
        '=== Performance summary ===',
        'Throughput: 100 qps',
        'Latency: min = 1 ms, max = 3 ms, mean = 2 ms, median = 2 ms, percentile(99%) = 3 ms',
        'Total Host Walltime: 3 s',
      ].join('\n'),
      'plain.log',
    );
    expect(run.throughput!.qps).toBe(100);
    expect(run.metrics!.latency).toMatchObject({ min: 1, max: 3, median: 2, percentiles: [{ percentile: 99, value: 3 }] });
    expect(run.measurement.walltimeMs).toBe(3000);
  });

  it('BAD CALL - a log without a performance summary names the file and what is missing', () => {
    expectErrorSync(
      () => importTrtexecLog('[I] Starting inference\n', 'short.log'),
      TensorRTNodeError,
      ErrorCode.INVALID_ARGUMENT,
      'Cannot import trtexec results from short.log: no "=== Performance summary ===" block found; pass the complete trtexec output (or its --exportTimes JSON)',
    );
  });

  it('BAD CALL - exportTimes that are not trtexec records', () => {
    expectErrorSync(
      () => importExportTimes({ a: 1 }, 'x.json'),
      TensorRTNodeError,
      ErrorCode.INVALID_ARGUMENT,
      'Cannot import trtexec results from x.json: expected the JSON array that trtexec --exportTimes writes',
    );
    expectErrorSync(
      () => importExportTimes([], 'x.json'),
      TensorRTNodeError,
      ErrorCode.INVALID_ARGUMENT,
      'Cannot import trtexec results from x.json: the --exportTimes array has no iterations',
    );
    expectErrorSync(
      () => importExportTimes([{ latencyMs: 1 }], 'x.json'),
      TensorRTNodeError,
      ErrorCode.INVALID_ARGUMENT,
      'Cannot import trtexec results from x.json: iteration 0 has no numeric "startEnqMs" (found nothing); is this a trtexec --exportTimes file?',
    );
  });

  it('BAD CALL - a truncated exportTimes file and a missing file', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'trtexec-import-'));
    const truncated = join(folder, 'times.json');
    writeFileSync(truncated, '[\n  { "startEnqMs" : 200, "endEnqMs" : 2');
    await expectError(
      () => importTrtexecFile(truncated),
      TensorRTNodeError,
      ErrorCode.INVALID_ARGUMENT,
      new RegExp(`^Cannot import trtexec results from ${truncated}: it looks like --exportTimes JSON but does not parse \\(`),
    );
    await expectError(
      () => importTrtexecFile(join(folder, 'missing.log')),
      TensorRTNodeError,
      ErrorCode.IO,
      new RegExp(`^Cannot read trtexec results ${folder}/missing.log: ENOENT`),
    );
  });
});
