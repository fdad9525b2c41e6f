/**
 * `npm run bench:leaks`: create/dispose cycles of everything that can be created and disposed, and
 * whether memory comes back. For each workload: a warm-up, a forced GC, the baseline (RSS, V8
 * external memory, heap), N cycles with samples along the way, a forced GC, and the final figures.
 * A leak shows as growth that keeps rising with the cycles; allocator noise does not. Bounds:
 * RSS growth under 5% of the baseline after 10,000 cycles (issue 10's goal for the cpu backend),
 * external memory back within 1 MiB of its baseline.
 *
 * Runs against dist/ (the cpu backend's worker then starts from compiled JS, as users run it); the
 * npm script builds first. Writes benchmarks/results/leaks.json with the machine and versions.
 *
 * Workloads that need what this machine lacks are listed as skipped with the reason: CUDA streams,
 * events, pinned and device tensors need a GPU; engines need TensorRT. InferenceSession, bindings and
 * execution contexts (issues 7 and 4) plug in as new entries of `workloads` below.
 *
 * Options: --cycles N (10000), --only <name substring>, --concurrency N (cpu backends created at
 * once, default 2: one per core), --out <file>.
 */
import { readFileSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import type * as Api from '../lib/index.js';
import { packageRoot } from '../lib/native.js';

// The compiled package, as users load it.
const api = (await import(join(packageRoot, 'dist', 'index.js'))) as typeof Api;
const { parseModel, serializeModel, convertToFp16, createCpuBackend, Tensor, EngineCache, cacheKey, Engine, cuda } = api;

const { values } = parseArgs({
  options: {
    cycles: { type: 'string', default: '10000' },
    only: { type: 'string' },
    concurrency: { type: 'string', default: '2' },
    out: { type: 'string', default: join(packageRoot, 'benchmarks', 'results', 'leaks.json') },
  },
});
const cycles = Number(values.cycles);
const concurrency = Number(values.concurrency);
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
const leakKey = (index: number) => cacheKey({ model: { sha256: index.toString(16).padStart(64, '0') }, transforms: [], build: {}, tensorrtVersion: '10.16.0', gpu: { uuid: 'GPU-leaks', computeCapability: '8.9' } });

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
        if ((error as { code?: string }).code !== 'ERR_CUDA_DRIVER' && (error as { code?: string }).code !== 'ERR_NOT_SUPPORTED') throw error;
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
        if (!['ERR_TENSORRT_NOT_FOUND', 'ERR_NOT_SUPPORTED', 'ERR_TENSORRT', 'ERR_ENGINE_INCOMPATIBLE'].includes((error as { code?: string }).code ?? '')) throw error;
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

async function settle(): Promise<NodeJS.MemoryUsage> {
  // Finalizers, worker exits and native threads finish on later turns: collect a few times.
  for (let round = 0; round < 4; round++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return process.memoryUsage();
}

async function runCycles(workload: Workload, count: number, offset: number, onProgress?: (done: number) => Promise<void>): Promise<void> {
  const parallel = workload.parallel ?? 1;
  for (let done = 0; done < count; ) {
    const batch = Math.min(parallel, count - done);
    await Promise.all(Array.from({ length: batch }, (_, index) => workload.cycle(offset + done + index)));
    done += batch;
    if (onProgress && (done % Math.max(1, Math.floor(count / 10)) < batch || done === count)) await onProgress(done);
  }
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
  const baseline = await settle();
  const samples: Sample[] = [];
  const started = performance.now();
  await runCycles(workload, cycles, warmup, async (done) => {
    const usage = await settle();
    samples.push({ cycle: done, rssMiB: mib(usage.rss), externalMiB: mib(usage.external), heapUsedMiB: mib(usage.heapUsed) });
    process.stderr.write(`\r${workload.name}: ${done}/${cycles}`);
  });
  const durationSeconds = (performance.now() - started) / 1000;
  const final = await settle();
  await workload.teardown?.();
  const rssGrowthPercent = ((final.rss - baseline.rss) / baseline.rss) * 100;
  const externalGrowthMiB = mib(final.external - baseline.external);
  // The trend over the second half: a leak keeps growing; a settled allocator does not.
  const half = samples.slice(Math.floor(samples.length / 2));
  const lateGrowthMiB = half.length > 1 ? Math.round((half.at(-1)!.rssMiB - half[0]!.rssMiB) * 100) / 100 : 0;
  const pass = rssGrowthPercent < 5 && Math.abs(externalGrowthMiB) <= 1;
  results.push({
    name: workload.name,
    cycles,
    warmupCycles: warmup,
    parallel: workload.parallel ?? 1,
    durationSeconds: Math.round(durationSeconds * 10) / 10,
    cyclesPerSecond: Math.round(cycles / durationSeconds),
    baseline: { rssMiB: mib(baseline.rss), externalMiB: mib(baseline.external), heapUsedMiB: mib(baseline.heapUsed) },
    final: { rssMiB: mib(final.rss), externalMiB: mib(final.external), heapUsedMiB: mib(final.heapUsed) },
    rssGrowthPercent: Math.round(rssGrowthPercent * 100) / 100,
    externalGrowthMiB,
    rssGrowthOverSecondHalfMiB: lateGrowthMiB,
    bound: 'RSS growth < 5% of the baseline, external memory within 1 MiB of it',
    pass,
    samples,
  });
  process.stderr.write(`\r${workload.name}: ${cycles} cycles in ${durationSeconds.toFixed(1)} s, RSS ${mib(baseline.rss)} -> ${mib(final.rss)} MiB (${rssGrowthPercent.toFixed(2)}%), external ${externalGrowthMiB} MiB: ${pass ? 'ok' : 'LEAK?'}\n`);
}
rmSync(scratch, { recursive: true, force: true });

const packageVersion = (name: string) => (JSON.parse(readFileSync(join(packageRoot, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
const capabilities = await api.capabilities();
const summary = {
  benchmark: 'leaks',
  createdAt: new Date().toISOString(),
  command: `npm run bench:leaks -- --cycles ${cycles} --concurrency ${concurrency}${values.only ? ` --only ${JSON.stringify(values.only)}` : ''}`,
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
    cuda: capabilities.cuda.usable ? capabilities.cuda.runtimeVersion : `unusable: ${capabilities.cuda.error?.name ?? 'not compiled'}`,
    tensorrt: capabilities.tensorrt.usable ? capabilities.tensorrt.version : 'not found',
  },
  workloads: results,
};
mkdirSync(dirname(values.out), { recursive: true });
writeFileSync(values.out, `${JSON.stringify(summary, null, 2)}\n`);
process.stderr.write(`Summary in ${values.out}\n`);
process.exit(summary.passed ? 0 : 1);
