/**
 * The benchmark harness measuring itself, on the in-process cpu-workload target (a deterministic
 * xorshift computation on the JS thread, not a model): a small sweep (batch x concurrency) and the
 * harness's overhead over a raw loop on the same target, in one process. Writes
 * results/harness-self-test.json and the HTML and Markdown reports next to it.
 *
 *   npm run bench:harness
 *
 * The overhead goal of issue 8 (<= 1% over a raw loop) is about the cpu backend's session; this
 * script measures the same bookkeeping on a cheaper request, where it weighs more.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { capabilities } from '../lib/addon/capabilities.js';
import { environmentFrom } from '../lib/bench/environment.js';
import { measureHarnessOverhead } from '../lib/bench/overhead.js';
import { buildReport } from '../lib/bench/report/index.js';
import { RESULTS_SCHEMA_ID, RESULTS_SCHEMA_VERSION, writeResultsFile, type BenchResultsFile } from '../lib/bench/results.js';
import { DEFAULT_PERCENTILES } from '../lib/bench/statistics.js';
import { formatRunSummary } from '../lib/bench/summary.js';
import { expandSweep, runSweep } from '../lib/bench/sweep.js';
import { createCpuWorkloadTarget } from '../lib/bench/targets/cpu-workload.js';
import { packageRoot, packageVersion } from '../lib/addon/loader.js';

const STEPS_PER_SAMPLE = 20_000;
const options = {
  target: 'cpu-workload',
  stepsPerSample: STEPS_PER_SAMPLE,
  batches: [1, 4, 16],
  concurrencies: [1, 4],
  warmupMs: 200,
  durationMs: 1000,
  minIterations: 10,
  percentiles: [...DEFAULT_PERCENTILES],
  overhead: { iterationsPerRound: 5000, rounds: 8, concurrency: 1 },
};

const folder = join(packageRoot, 'benchmarks', 'results');
mkdirSync(folder, { recursive: true });
const points = expandSweep({
  backends: ['cpu'],
  precisions: ['fp32'],
  batches: options.batches,
  concurrencies: options.concurrencies,
  devices: [],
  cudaGraph: false,
  transfers: false,
  batcher: false,
});
const runs = await runSweep(
  async (point) => createCpuWorkloadTarget({ stepsPerSample: STEPS_PER_SAMPLE, batch: point.batch }),
  points,
  {
    ...options,
    onRun: ({ result }, index, total) => void process.stdout.write(`[${index + 1}/${total}] ${formatRunSummary(result)}\n`),
  },
);
const overhead = await measureHarnessOverhead(createCpuWorkloadTarget({ stepsPerSample: STEPS_PER_SAMPLE }), options.overhead);
process.stdout.write(
  `Harness overhead over a raw loop: ${(overhead.overheadFraction * 100).toFixed(2)}% (${overhead.rawMsPerIteration.toFixed(5)} -> ${overhead.harnessMsPerIteration.toFixed(5)} ms per request)\n`,
);

const results: BenchResultsFile = {
  schema: RESULTS_SCHEMA_ID,
  schemaVersion: RESULTS_SCHEMA_VERSION,
  createdAt: new Date().toISOString(),
  tool: { name: 'tensorrt-node', version: packageVersion, command: ['npm', 'run', 'bench:harness'] },
  environment: environmentFrom(await capabilities()),
  model: null,
  options,
  overhead,
  runs,
};
const file = join(folder, 'harness-self-test.json');
await writeResultsFile(file, results);
const report = await buildReport([file], {
  html: true,
  markdown: true,
  title: 'Harness self-test: cpu-workload, a calibration workload (not a model)',
});
writeFileSync(join(folder, 'harness-self-test.html'), report.html!);
writeFileSync(join(folder, 'harness-self-test.md'), report.markdown!);
process.stdout.write(`Wrote ${file} and its .html and .md reports\n`);
