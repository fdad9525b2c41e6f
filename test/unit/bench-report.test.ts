import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArgumentRangeError, ErrorCode } from '../../lib/core/errors.js';
import { environmentFrom } from '../../lib/bench/environment.js';
import {
  RESULTS_SCHEMA_ID,
  RESULTS_SCHEMA_VERSION,
  serializeResults,
  type BenchResultsFile,
  type BenchRunResult,
} from '../../lib/bench/results.js';
import { buildReport } from '../../lib/bench/report/index.js';
import { reportHeadline, whyNoGpu } from '../../lib/bench/report/headline.js';
import { NO_CURVES } from '../../lib/bench/report/html.js';
import { formatOverheadShare, overheadShare } from '../../lib/bench/overhead.js';
import { buildReportModel } from '../../lib/bench/report/model.js';
import { runSweep } from '../../lib/bench/sweep.js';
import { importTrtexecFile } from '../../lib/bench/trtexec-import.js';
import { packageRoot } from '../../lib/addon/loader.js';
import { expectErrorSync } from '../helpers/expect-error.js';
import { capabilitiesWithoutGpu, workloadFactory } from '../helpers/bench.js';

const fixtures = join(packageRoot, 'test', 'fixtures', 'trtexec');

function resultsFile(runs: BenchRunResult[], hostname = 'bench-host'): BenchResultsFile {
  const environment = environmentFrom(capabilitiesWithoutGpu());
  environment.host.hostname = hostname;
  return {
    schema: RESULTS_SCHEMA_ID,
    schemaVersion: RESULTS_SCHEMA_VERSION,
    createdAt: new Date().toISOString(),
    tool: { name: 'tensorrt-node', version: '0.1.0', command: [] },
    environment,
    model: null,
    options: {},
    overhead: null,
    runs,
  };
}

async function workloadRuns(stepsPerSample: number): Promise<BenchRunResult[]> {
  const point = {
    backend: 'cpu' as const,
    precision: 'fp32' as const,
    device: null,
    cudaGraph: true,
    transfers: true,
    batcher: false,
  };
  const points = [1, 4].flatMap((batch) => [1, 2].map((concurrency) => ({ ...point, batch, concurrency })));
  return runSweep(workloadFactory(stepsPerSample), points, {
    warmupMs: 0,
    durationMs: 0,
    minIterations: 30,
    percentiles: [90, 99, 99.9],
  });
}

describe('bench report', () => {
  it('merges files into one comparison with ratios against the first run of each group', async () => {
    const light = resultsFile(await workloadRuns(1000), 'host-a');
    const heavy = resultsFile(await workloadRuns(3000), 'host-b');
    const model = buildReportModel([
      { file: 'a.json', results: light },
      { file: 'b.json', results: heavy },
    ]);
    expect(model.rows).toHaveLength(8);
    expect(model.percentiles).toEqual([90, 99, 99.9]);
    const [first, , , , fifth] = model.rows;
    expect(first!.baseline).toBeNull();
    expect(fifth!.baseline).toBe(first);
    expect(fifth!.throughputRatio).toBeCloseTo(fifth!.qps! / first!.qps!, 12);
    expect(fifth!.latencyRatio).toBeCloseTo(fifth!.medianMs! / first!.medianMs!, 12);

    const flipped = buildReportModel(
      [
        { file: 'a.json', results: light },
        { file: 'b.json', results: heavy },
      ],
      'host=host-b',
    );
    expect(flipped.rows[0]!.baseline).toBe(flipped.rows[4]);
    expect(flipped.rows[4]!.baseline).toBeNull();
  });

  it('pairs a trtexec run with a tensorrt-node run of the same engine to show the overhead', () => {
    // Constructed input for the pairing arithmetic: the log import relabelled as a tensorrt-node run.
    const trtexec = importTrtexecFile(join(fixtures, 'exportTimes-10.json'));
    const node = { ...importTrtexecFile(join(fixtures, 'trtexec-10.log')), source: 'tensorrt-node' as const };
    node.target = { ...node.target!, backend: 'tensorrt' };
    const model = buildReportModel([{ file: 'x.json', results: resultsFile([trtexec, node]) }]);
    expect(model.trtexec).toHaveLength(1);
    expect(model.trtexec[0]!.medianOverheadMs).toBeCloseTo(2.16187 - 0.925, 9);
    expect(model.trtexec[0]!.medianRatio).toBeCloseTo(2.16187 / 0.925, 9);
    expect(model.unpairedTrtexec).toEqual([]);
  });

  it('writes HTML with tables and inline SVG charts and no scripts or external resources, and Markdown tables', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'bench-report-'));
    const file = join(folder, 'results.json');
    writeFileSync(
      file,
      serializeResults(resultsFile([importTrtexecFile(join(fixtures, 'trtexec-10.log')), ...(await workloadRuns(1000))])),
    );
    const { html, markdown } = await buildReport([file], { html: true, markdown: true, title: 'Report <test>' });
    expect(html).toContain('<title>Report &lt;test&gt;</title>');
    expect(html).toContain('<table class="report-table">');
    expect(html).toContain('<section id="latency-vs-batch">');
    expect(html).toContain('<section id="throughput-vs-concurrency">');
    // Charts only where there is a curve: latency vs batch for cpu-workload (batches 1 and 4; the
    // trtexec run is one point at batch 8, so no chart), throughput vs concurrency for batches 1 and 4.
    expect(html!.match(/<figure class="chart"/g)).toHaveLength(3);
    expect(html!.match(/<svg /g)).toHaveLength(3);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|\ssrc=|url\((?!#)/i);
    expect(html!.replace(/http:\/\/www\.w3\.org\/[^"]*/g, '')).not.toMatch(/https?:\/\//);
    expect(markdown).toContain('## Runs compared');
    expect(markdown).toContain(
      '| # | Device | Backend | Precision | Batch | Concurrency | Throughput (qps) | Samples/s | Latency median (ms) | p90 (ms) | p95 (ms) | p99 (ms) | p99.9 (ms) | GPU compute median (ms) | Throughput vs baseline | Latency vs baseline | Status |',
    );
    expect(markdown).toContain(
      '| 1 | NVIDIA A100-SXM4-40GB | trtexec | - | 8 | 1 | 461.57 | 3692.56 | 2.16187 | 2.17358 | 2.17773 | 2.2229 | - | 1.73462 | baseline | baseline | ok, 1 warning |',
    );
    expect(markdown).toContain('## Environments');
    expect(markdown).toContain(
      '#1 trtexec: no tensorrt-node run on the tensorrt backend of the same engine at batch 8 to compare with',
    );
  });

  it('BAD CALL - a baseline that matches no run, or is malformed', async () => {
    const results = resultsFile(await workloadRuns(500));
    expectErrorSync(
      () => buildReportModel([{ file: 'a.json', results }], 'backend=tensorrt'),
      ArgumentRangeError,
      ErrorCode.INVALID_ARGUMENT,
      /^Expected a --baseline that matches at least one run but received "backend=tensorrt" of type string \(backends: cpu-workload; precisions: fp32; devices: .+; hosts: bench-host\)$/,
    );
    expectErrorSync(
      () => buildReportModel([{ file: 'a.json', results }], 'gpu'),
      ArgumentRangeError,
      ErrorCode.INVALID_ARGUMENT,
      'Expected key=value conditions with keys host, device, backend, precision, source, file, model for --baseline but received "gpu" of type string',
    );
  });
});

describe('report headline, labels, charts and overhead (what the numbers mean)', () => {
  const startCpu = join(packageRoot, 'benchmarks', 'results', 'start-cpu', 'results.json');

  it('says where it ran, how the backend was chosen and why there was no GPU, and what fp16 on the cpu backend means', async () => {
    const { markdown, html, model } = await buildReport([startCpu], { html: true, markdown: true });
    const headline = reportHeadline(model);
    expect(headline).toEqual([
      'Ran on the cpu backend (chosen by --backend auto) on AMD EPYC (2 cores); no GPU: no NVIDIA driver is installed (libcuda.so.1 is missing).',
      'fp16 on the cpu backend reproduces fp16 numerics (the graph converted as for TensorRT) to check accuracy; it is not faster than fp32 there, and its speed says nothing of fp16 on a GPU.',
    ]);
    expect(markdown!.split('\n').slice(0, 5)).toEqual(['# tensorrt-node benchmark report', '', headline[0], '', headline[1]]);
    expect(html).toContain(`<p class="headline">${headline[0]}</p>`);
    // --backend auto runs are not "asked for by name" (files written before bench said so included).
    expect(markdown).not.toContain('asked for by name');
    expect(markdown).toContain('- #1 cpu: InferenceSession: chosen by --backend auto; 1 context(s)');
  });

  it('the harness overhead is a share of a request with its noise band; a negative ratio is noise, never "-1.9%"', async () => {
    const { markdown } = await buildReport([startCpu], { markdown: true });
    const row = markdown!.split('\n').find((line) => line.startsWith(`| ${startCpu} | cpu (`))!;
    expect(row.endsWith('| below the noise of this run (95% band -5.5% to 1.2% over 10 rounds) |')).toBe(true);
    const measurable = overheadShare({
      overheadFraction: 0.02,
      roundOverheadFractions: [0.02, 0.021, 0.019, 0.02, 0.022, 0.018],
    });
    expect(measurable.withinNoise).toBe(false);
    expect(measurable.share).toBeCloseTo(0.02 / 1.02, 4);
    expect(formatOverheadShare(measurable)).toBe('2% of each request (95% band 1.8% to 2.1% over 6 rounds)');
    // A band wholly below 0 (seen on a loaded CI machine: -3.9% to -0.99%) is the run's bias, not a saving.
    const biased = overheadShare({ overheadFraction: -0.024, roundOverheadFractions: [-0.03, -0.02, -0.025, -0.022, -0.028] });
    expect(biased.withinNoise).toBe(true);
    expect(formatOverheadShare(biased)).toMatch(/^below the noise of this run \(95% band -[\d.]+% to -[\d.]+% over 5 rounds\)$/);
  });

  it('draws no one-point charts, and says why there are none', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'bench-report-'));
    const file = join(folder, 'one-point.json');
    const point = {
      backend: 'cpu' as const,
      precision: 'fp32' as const,
      batch: 1,
      concurrency: 1,
      device: null,
      cudaGraph: true,
      transfers: true,
      batcher: false,
    };
    writeFileSync(
      file,
      serializeResults(
        resultsFile(
          await runSweep(workloadFactory(500), [point], { warmupMs: 0, durationMs: 0, minIterations: 10, percentiles: [99] }),
        ),
      ),
    );
    const { html } = await buildReport([file], { html: true });
    expect(html).not.toContain('<svg ');
    expect(html).toContain(NO_CURVES);
  });

  it("why no GPU, from a results file's environment: no driver, a kernel driver without libcuda, a driver too old, no device", () => {
    const environment = environmentFrom(capabilitiesWithoutGpu());
    expect(whyNoGpu(environment)).toBe('no NVIDIA driver is installed (libcuda.so.1 is missing)');
    expect(whyNoGpu({ ...environment, driver: { version: '580.65.06' } })).toBe(
      'the NVIDIA kernel driver 580.65.06 is loaded but its CUDA library (libcuda.so.1) is missing',
    );
    expect(
      whyNoGpu({ ...environment, driver: { version: '550.54.15' }, cuda: { runtimeVersion: '13.0', driverVersion: '12.4' } }),
    ).toBe('the NVIDIA driver 550.54.15 supports CUDA up to 12.4, older than the CUDA 13.0 of tensorrt-node');
    expect(
      whyNoGpu({ ...environment, driver: { version: '580.65.06' }, cuda: { runtimeVersion: '13.0', driverVersion: '13.0' } }),
    ).toBe('the NVIDIA driver sees no GPU');
  });
});
