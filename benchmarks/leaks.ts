/**
 * `npm run bench:leaks`: create/dispose cycles of everything that can be created and disposed, and
 * whether memory comes back. For each workload: a warm-up, then rounds of: the process at rest
 * (idle workers let go, forced GCs, repeated until RSS holds still), the baseline (RSS, V8 external
 * memory, heap), N cycles with samples along the way, at rest again, the final figures. Bounds
 * (issue 10's goal for the cpu backend): RSS growth under 5% of the round's baseline after 10,000
 * cycles, external memory back within 1 MiB of it, judged on the median of the rounds (5 by
 * default), so that one round's allocator noise does not decide; a leak grows in every round. Each
 * round's figures and samples are kept in the result, so the growth over all rounds (first
 * baseline to last final) can be read too.
 *
 * "At rest" matters: an exited worker's memory leaves RSS some time after terminate() resolves,
 * and measured once, a round's final figure kept ~30 MiB that the next round's baseline (taken with
 * nothing run in between) no longer had.
 *
 * Runs against dist/ (the cpu backend's worker then starts from compiled JS, as users run it); the
 * npm script builds first. Writes benchmarks/results/leaks.json with the machine and versions.
 *
 * Workloads that need what this machine lacks are listed as skipped with the reason: CUDA streams,
 * events, pinned and device tensors need a GPU; engines need TensorRT (execution contexts plug in as
 * new entries of `workloads` below). onnxruntime-node's own session churn runs next to the cpu
 * backend as the reference: growth beyond it is ours.
 *
 * Options: --cycles N (10000), --rounds N (5), --only <name substring>, --concurrency N (cpu
 * backends created at once, default 2: one per core), --out <file>.
 */
import { readFileSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem, tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import type * as Api from '../lib/index.js';
import type * as OnnxApi from '../lib/onnx/index.js';
import { median } from '../lib/bench/statistics.js';
import type * as WorkerPool from '../lib/backends/cpu/worker-pool.js';
import type * as Ort from 'onnxruntime-node';
import { packageRoot } from '../lib/addon/loader.js';

// The compiled package, as users load it.
const api = (await import(join(packageRoot, 'dist', 'index.js'))) as typeof Api;
const { createCpuBackend, InferenceSession, Tensor, EngineCache, cacheKey, Engine, cuda } = api;
const { parseModel, serializeModel, convertToFp16 } = (await import(
  join(packageRoot, 'dist', 'onnx', 'index.js')
)) as typeof OnnxApi;
// The same module instance as the package's cpu backend uses (one URL): idle worker threads are let go before each measurement.
const { closeIdleCpuWorkers } = (await import(
  join(packageRoot, 'dist', 'backends', 'cpu', 'worker-pool.js')
)) as typeof WorkerPool;
const ort = createRequire(join(packageRoot, 'package.json'))('onnxruntime-node') as typeof Ort;

const { values } = parseArgs({
  options: {
    cycles: { type: 'string', default: '10000' },
    only: { type: 'string' },
    concurrency: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '5' },
    out: { type: 'string', default: join(packageRoot, 'benchmarks', 'results', 'leaks.json') },
  },
});
const cycles = Number(values.cycles);
const concurrency = Number(values.concurrency);
const rounds = Number(values.rounds);
if (!Number.isSafeInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a positive integer, got ${values.rounds}`);
if (!Number.isSafeInteger(cycles) || cycles < 100) throw new Error(`--cycles must be an integer >= 100, got ${values.cycles}`);
if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc (npm run bench:leaks does)');
const gc = globalThis.gc;

interface Workload {
  name: string;
  /** Why it cannot run here, or null. */
  skip: () => string | null;
  /** One create/use/dispose cycle; `index` counts cycles. */
  cycle: (index: number) => Promise<void> | void;
  /** Cycles run at once (cpu backends: one per core). */
  parallel?: number;
  setup?: () => Promise<void> | void;
  teardown?: () => Promise<void> | void;
}

const scratch = mkdtempSync(join(tmpdir(), 'tensorrt-node-leaks-'));
const mlpBytes = new Uint8Array(readFileSync(join(packageRoot, 'test', 'fixtures', 'models', 'mlp.onnx')));
const feeds = { x: { dtype: 'float32' as const, shape: [1, 16], data: new Float32Array(16).fill(0.5) } };
const noGpu = () => (cuda.isAvailable() ? null : 'needs a CUDA device (none here)');
let cache: Api.EngineCache | undefined;
const leakKey = (index: number) =>
  cacheKey({
    model: { sha256: index.toString(16).padStart(64, '0') },
    transforms: [],
    build: {},
    tensorrtVersion: '10.16.0',
    gpu: { uuid: 'GPU-leaks', computeCapability: '8.9' },
  });

const workloads: Workload[] = [
  {
    name: 'cpu backend: create (worker thread + onnxruntime session of mlp.onnx), one run, dispose',
    skip: () => null,
    parallel: concurrency,
    cycle: async () => {
      const backend = await createCpuBackend(mlpBytes, { intraOpNumThreads: 1 });
      await backend.run(feeds);
      await backend.dispose();
    },
  },
  {
    // The reference for the cpu backend, measured in the same run: onnxruntime-node's own session
    // churn, with no worker and nothing of ours. What the cpu backend grows beyond this is ours.
    name: 'onnxruntime-node alone (reference): InferenceSession.create from the same bytes on the main thread, one run, release',
    skip: () => null,
    cycle: async () => {
      const session = await ort.InferenceSession.create(mlpBytes, { intraOpNumThreads: 1, executionProviders: ['cpu'] });
      await session.run({ x: new ort.Tensor('float32', feeds.x.data, feeds.x.shape) });
      await session.release();
    },
  },
  {
    name: 'InferenceSession (cpu): create, run, batcher run, binding run, dispose',
    skip: () => null,
    parallel: concurrency,
    cycle: async () => {
      const session = await InferenceSession.create(mlpBytes, { backend: 'cpu', cpu: { intraOpNumThreads: 1 } });
      const binding = await session.createBinding({ shapes: { x: [1, 16] } });
      await Promise.all([session.run(feeds), session.batcher().run(feeds), binding.run()]);
      await session.dispose();
    },
  },
  {
    name: 'host tensors: allocate 64 KiB, fromArray, copy, dispose',
    skip: () => null,
    cycle: async () => {
      const a = Tensor.allocate('float32', [128, 128]);
      const b = await Tensor.fromArray(new Float32Array(128 * 128), { shape: [128, 128] });
      await api.copy(a, b);
      a.dispose();
      b.dispose();
    },
  },
  {
    name: 'pinned tensors without a driver: the refused allocation (ERR_CUDA_DRIVER) through the native layer',
    skip: () => (cuda.isAvailable() ? 'a GPU is present: the pinned workload below runs instead' : null),
    cycle: () => {
      try {
        Tensor.allocate('float32', [1024], { location: 'pinned' }).dispose();
      } catch (error) {
        if ((error as { code?: string }).code !== 'ERR_CUDA_DRIVER' && (error as { code?: string }).code !== 'ERR_NOT_SUPPORTED')
          throw error;
      }
    },
  },
  {
    name: 'pinned tensors: allocate 1 MiB, write, dispose',
    skip: noGpu,
    cycle: () => {
      const pinned = Tensor.allocate('float32', [256, 1024], { location: 'pinned' });
      (pinned.data as Float32Array).fill(1);
      pinned.dispose();
    },
  },
  {
    name: 'device tensors and streams: allocate 1 MiB, copy from pinned, dispose',
    skip: noGpu,
    cycle: async () => {
      const stream = cuda.createStream();
      const device = Tensor.allocate('float32', [256, 1024], { location: 'device', stream });
      const pinned = Tensor.allocate('float32', [256, 1024], { location: 'pinned' });
      await api.copy(device, pinned, { stream });
      device.dispose();
      pinned.dispose();
      stream.dispose();
    },
  },
  {
    name: 'Engine.load refused before deserializing (no TensorRT here): a native thread per call, error bridged back',
    skip: () => null,
    cycle: async () => {
      try {
        (await Engine.load(mlpBytes)).dispose();
      } catch (error) {
        if (
          !['ERR_TENSORRT_NOT_FOUND', 'ERR_NOT_SUPPORTED', 'ERR_TENSORRT', 'ERR_ENGINE_INCOMPATIBLE'].includes(
            (error as { code?: string }).code ?? '',
          )
        )
          throw error;
      }
    },
  },
  {
    // Every 20th cycle also stores (a put is fsynced twice: the disk, not memory, sets its pace).
    name: 'engine cache: open a handle, get a 64 KiB plan, list; put one every 20 cycles',
    skip: () => null,
    setup: async () => {
      cache = await EngineCache.open(join(scratch, 'cache'), { strict: true, maxBytes: 64 * 1024 * 64 });
      for (let index = 0; index < 32; index++) await cache.put(leakKey(index), new Uint8Array(64 * 1024).fill(index), { index });
    },
    cycle: async (index) => {
      const opened = await EngineCache.open(join(scratch, 'cache'), { strict: true, maxBytes: 64 * 1024 * 64 });
      const key = leakKey(index % 32);
      if (index % 20 === 0) await opened.put(key, new Uint8Array(64 * 1024).fill(index & 0xff), { index });
      const back = await opened.get(key);
      if (!back) throw new Error('a stored plan did not come back');
      await cache!.list();
    },
  },
  {
    name: 'ONNX: parse, convert to FP16, serialize (transient models)',
    skip: () => null,
    cycle: () => {
      serializeModel(convertToFp16(parseModel(mlpBytes)).model);
    },
  },
];

interface Sample {
  cycle: number;
  rssMiB: number;
  externalMiB: number;
  heapUsedMiB: number;
}

const mib = (bytes: number) => Math.round((bytes / 1024 ** 2) * 100) / 100;

async function settle({ releaseIdleWorkers = true } = {}): Promise<NodeJS.MemoryUsage> {
  // For the baseline and final figures, the cpu backends' idle workers would exit after their idle
  // timeout (lib/backends/cpu-worker-pool.ts); let them go now rather than wait. Samples along the
  // way keep them, as a service between requests would.
  if (releaseIdleWorkers) await closeIdleCpuWorkers();
  // Finalizers, worker exits and native threads finish on later turns: collect a few times.
  for (let round = 0; round < 4; round++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return process.memoryUsage();
}

/**
 * The process at rest: settle() until two in a row agree on RSS within 0.5 MiB (at most 6).
 * Memory of exited workers leaves RSS late: measured once, a round's final figure kept ~30 MiB
 * that the next settle() no longer saw.
 */
async function atRest(): Promise<NodeJS.MemoryUsage> {
  let usage = await settle();
  for (let attempt = 0; attempt < 5; attempt++) {
    const next = await settle();
    const agreed = Math.abs(next.rss - usage.rss) < 0.5 * 1024 ** 2;
    usage = next;
    if (agreed) break;
  }
  return usage;
}

async function runCycles(
  workload: Workload,
  count: number,
  offset: number,
  onProgress?: (done: number) => Promise<void>,
): Promise<void> {
  const parallel = workload.parallel ?? 1;
  for (let done = 0; done < count;) {
    const batch = Math.min(parallel, count - done);
    await Promise.all(Array.from({ length: batch }, (_, index) => workload.cycle(offset + done + index)));
    done += batch;
    if (onProgress && (done % Math.max(1, Math.floor(count / 10)) < batch || done === count)) await onProgress(done);
  }
}

const figures = (usage: NodeJS.MemoryUsage) => ({
  rssMiB: mib(usage.rss),
  externalMiB: mib(usage.external),
  heapUsedMiB: mib(usage.heapUsed),
});

interface Round {
  durationSeconds: number;
  baseline: ReturnType<typeof figures>;
  final: ReturnType<typeof figures>;
  rssGrowthPercent: number;
  externalGrowthMiB: number;
  /** The trend over the round's second half: a leak keeps growing; a settled allocator does not. */
  rssGrowthOverSecondHalfMiB: number;
  samples: Sample[];
}

/** One round: baseline, `cycles` cycles with samples along the way, final figures. */
async function measureRound(workload: Workload, offset: number, label: string): Promise<Round> {
  const baseline = await atRest();
  const samples: Sample[] = [];
  const started = performance.now();
  await runCycles(workload, cycles, offset, async (done) => {
    const usage = await settle({ releaseIdleWorkers: false });
    samples.push({ cycle: done, ...figures(usage) });
    process.stderr.write(`\r${label}: ${done}/${cycles}`);
  });
  const durationSeconds = (performance.now() - started) / 1000;
  const final = await atRest();
  const half = samples.slice(Math.floor(samples.length / 2));
  const rssGrowthPercent = Math.round(((final.rss - baseline.rss) / baseline.rss) * 10000) / 100;
  process.stderr.write(
    `\r${label}: ${cycles} cycles in ${durationSeconds.toFixed(1)} s, RSS ${mib(baseline.rss)} -> ${mib(final.rss)} MiB (${rssGrowthPercent}%)\n`,
  );
  return {
    durationSeconds: Math.round(durationSeconds * 10) / 10,
    baseline: figures(baseline),
    final: figures(final),
    rssGrowthPercent,
    externalGrowthMiB: mib(final.external - baseline.external),
    rssGrowthOverSecondHalfMiB: half.length > 1 ? Math.round((half.at(-1)!.rssMiB - half[0]!.rssMiB) * 100) / 100 : 0,
    samples,
  };
}

const results = [];
for (const workload of workloads.filter((candidate) => !values.only || candidate.name.includes(values.only))) {
  const reason = workload.skip();
  if (reason) {
    results.push({ name: workload.name, skipped: reason });
    process.stderr.write(`${workload.name}: skipped (${reason})\n`);
    continue;
  }
  await workload.setup?.();
  // Long enough for the allocator to reach its steady state (arenas, libuv threads), so the baseline includes it.
  const warmup = Math.max(100, Math.floor(cycles / 20));
  await runCycles(workload, warmup, 0);
  const measured: Round[] = [];
  for (let round = 0; round < rounds; round++)
    measured.push(await measureRound(workload, warmup + round * cycles, `${workload.name} (round ${round + 1}/${rounds})`));
  await workload.teardown?.();
  const rssGrowthPercent = median(measured.map((round) => round.rssGrowthPercent));
  const externalGrowthMiB = median(measured.map((round) => round.externalGrowthMiB));
  const pass = rssGrowthPercent < 5 && Math.abs(externalGrowthMiB) <= 1;
  const durationSeconds = measured.reduce((sum, round) => sum + round.durationSeconds, 0);
  results.push({
    name: workload.name,
    cycles,
    rounds,
    warmupCycles: warmup,
    parallel: workload.parallel ?? 1,
    cyclesPerSecond: Math.round((cycles * rounds) / durationSeconds),
    rssGrowthPercent,
    externalGrowthMiB,
    bound: `median over ${rounds} rounds of ${cycles} cycles: RSS growth < 5% of the round's baseline, external memory within 1 MiB of it`,
    pass,
    measurements: measured,
  });
  process.stderr.write(
    `${workload.name}: RSS growth per round ${measured.map((round) => `${round.rssGrowthPercent}%`).join(', ')} (median ${rssGrowthPercent}%), external ${externalGrowthMiB} MiB: ${pass ? 'ok' : 'LEAK?'}\n`,
  );
}
rmSync(scratch, { recursive: true, force: true });

const packageVersion = (name: string) =>
  (JSON.parse(readFileSync(join(packageRoot, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
const capabilities = await api.capabilities();
const summary = {
  benchmark: 'leaks',
  createdAt: new Date().toISOString(),
  command: `npm run bench:leaks -- --cycles ${cycles} --rounds ${rounds} --concurrency ${concurrency}${values.only ? ` --only ${JSON.stringify(values.only)}` : ''}`,
  passed: results.every((result) => !('pass' in result) || result.pass),
  environment: {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 1024 ** 3),
    kernel: release(),
    node: process.version,
    onnxruntime: packageVersion('onnxruntime-node'),
    package: api.version,
    gpu: capabilities.devices.map((device) => device.name),
    cuda: capabilities.cuda.usable
      ? capabilities.cuda.runtimeVersion
      : `unusable: ${capabilities.cuda.error?.name ?? 'not compiled'}`,
    tensorrt: capabilities.tensorrt.usable ? capabilities.tensorrt.version : 'not found',
    // glibc's allocator settings, when the run set any (they change how much freed memory RSS keeps).
    allocator: Object.fromEntries(
      Object.entries(process.env).filter(
        ([name]) => name.startsWith('MALLOC_') || name === 'GLIBC_TUNABLES' || name === 'LD_PRELOAD',
      ),
    ),
  },
  workloads: results,
};
mkdirSync(dirname(values.out), { recursive: true });
writeFileSync(values.out, `${JSON.stringify(summary, null, 2)}\n`);
process.stderr.write(`Summary in ${values.out}\n`);
process.exit(summary.passed ? 0 : 1);
