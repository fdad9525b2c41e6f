// Lifetimes and failures of the TensorRT runtime on the EMULATED device with the FAKE TensorRT,
// through the public API: dispose() while runs are in flight, where engines are released, the
// destruction order, worker threads terminated mid-load and mid-build, a throwing onProgress, the
// standard plugins and their opt-out, and a sticky device error. Whatever can kill or poison the
// process runs in a child process (dist/, the emulated addon). Emulation proves lifetimes and
// protocol, not GPU behaviour.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildEngine, Engine } from '../../lib/index.js';
import {
  affine,
  affineModel,
  batchProfiles,
  emulatedAddonPath,
  emulatedSkipReason,
  fakeTensorRTDir,
  findLine,
  projectRoot,
  sequence,
  useFakeTensorRTLog,
} from '../helpers/fake-tensorrt-engines.js';
import { slowdown } from '../helpers/machine.js';

const log = useFakeTensorRTLog();
const distIndex = join(projectRoot, 'dist', 'index.js');
const folder = mkdtempSync(join(tmpdir(), 'fake-trt-lifetimes-'));

async function fakePlan(model: Uint8Array, options: Parameters<typeof buildEngine>[1] = {}): Promise<Uint8Array> {
  return (await buildEngine(model, { libraryPath: fakeTensorRTDir, cacheDir: false, timingCache: false, ...options })).plan;
}

/** Runs an ES module in a child node on the emulated addon; its last stdout line is JSON. */
function child(
  source: string,
  timeoutMs = 30_000,
): { status: number | null; signal: NodeJS.Signals | null; result: unknown; output: string } {
  const script = join(folder, `child-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(script, source);
  const run = spawnSync(process.execPath, [script], {
    encoding: 'utf8',
    timeout: timeoutMs * slowdown,
    env: {
      ...process.env,
      TENSORRT_NODE_ADDON: emulatedAddonPath,
      TRT_NODE_FAKE_TENSORRT_LOG: join(folder, `${Math.random().toString(36).slice(2)}.log`),
    },
  });
  const lines = run.stdout.trim().split('\n');
  let result: unknown;
  try {
    result = JSON.parse(lines[lines.length - 1] ?? 'null');
  } catch {
    result = null;
  }
  return { status: run.status, signal: run.signal, result, output: `${run.stdout}\n${run.stderr}` };
}

const childSkip = emulatedSkipReason ?? (existsSync(distIndex) ? null : `${distIndex} is missing (npm run build:ts)`);

describe.skipIf(emulatedSkipReason !== null)('fake TensorRT on the emulated device: lifetimes', () => {
  let slowPlan: Uint8Array;
  beforeAll(async () => {
    // Each inference holds the emulated stream for 40 ms: work is truly in flight when dispose() comes.
    slowPlan = await fakePlan(affineModel({ metadata: { 'fake-tensorrt:kernel-us': '40000' } }), {
      profiles: batchProfiles([1, 8]),
    });
  });

  // Issue 14, defect 1 (context part): dispose() dropped the last reference while runs were still on
  // the GPU, destroying the IExecutionContext (and the engine) under them.
  it('dispose() resolves after in-flight runs finished, and only then is the IExecutionContext destroyed', async () => {
    const engine = await Engine.load(slowPlan, { libraryPath: fakeTensorRTDir });
    const context = await engine.createContext({ cudaGraph: false });
    engine.dispose(); // the context keeps the engine alive
    const mark = log.mark();
    const x = sequence(8, 5);
    const inFlight = context.run({ x: { data: x, shape: [2, 4] } });
    // Let the submit thread enqueue it: the 40 ms inference is then on the (emulated) GPU.
    await new Promise((resolve) => setTimeout(resolve, 10 * slowdown));
    const queued = context.run({ x: { data: x, shape: [2, 4] } }).then(
      (result) => ({ data: result.outputs.y!.data, code: null }),
      (error: { code?: string }) => ({ data: null, code: error.code ?? 'unknown' }),
    );
    await context.dispose();
    const lines = log.since(mark);
    expect(lines.filter((line) => line.includes(' VIOLATION '))).toEqual([]);
    const destroyed = findLine(lines, ['context#', ' destroy ']);
    expect(destroyed).toBeGreaterThanOrEqual(0);
    expect(lines[destroyed]).toContain('pending=0');
    // The engine (its handle disposed) goes with the context's last reference, on the releaser thread.
    await expect
      .poll(() => findLine(log.since(mark), ['engine#', ' destroy ']), { timeout: 5000 * slowdown })
      .toBeGreaterThan(destroyed);
    expect((await inFlight).outputs.y!.data).toEqual(affine(x));
    // A run that had not started when dispose() came is refused, never half-run.
    const second = await queued;
    if (second.code !== null) expect(second.code).toBe('ERR_DISPOSED');
    else expect(second.data).toEqual(affine(x));
    expect(context.disposed).toBe(true);
  });

  // Issue 14, defect 1 (context part): dispose() used to queue an empty job and leave the
  // IExecutionContext to whichever thread dropped the last reference (the releaser thread, behind
  // anything else it was releasing), so the promise could resolve with the context still alive. The
  // fix destroys it in dispose()'s own job, after the stream drained: ordering, not timing, decides.
  it('dispose() resolves only after its IExecutionContext was destroyed, even while another release keeps the releaser busy', async () => {
    const engine = await Engine.load(slowPlan, { libraryPath: fakeTensorRTDir });
    const busy = await engine.createContext({ cudaGraph: false });
    const context = await engine.createContext({ cudaGraph: false });
    engine.dispose();
    const x = sequence(4, 1);
    await context.run({ x: { data: x, shape: [1, 4] } });
    const mark = log.mark();
    // Several 40 ms inferences on the other context: releasing its stream waits for them.
    const busyRuns = [1, 2, 3, 4, 5].map(() => busy.run({ x: { data: x, shape: [1, 4] } }));
    await new Promise((resolve) => setTimeout(resolve, 10 * slowdown));
    const busyDisposed = busy.dispose();
    await context.dispose();
    const lines = log.since(mark);
    const destroyed = lines.filter((line) => line.includes('context#') && line.includes(' destroy '));
    // This context (idle, nothing pending) is gone; the busy one is still finishing its runs.
    expect(destroyed).toHaveLength(1);
    expect(destroyed[0]).toContain('thread=other');
    expect(destroyed[0]).toContain('pending=0');
    await busyDisposed;
    await Promise.allSettled(busyRuns);
    // The engine and its runtime go with the last context: wait, so that later tests see only their own.
    await expect
      .poll(() => findLine(log.since(mark), ['runtime#', ' destroy ']), { timeout: 5000 * slowdown })
      .toBeGreaterThanOrEqual(0);
    expect(log.violations()).toEqual([]);
  });

  it('contexts go before their engine, the engine before its runtime, with balanced recorder references', async () => {
    const mark = log.mark();
    const engine = await Engine.load(slowPlan, { libraryPath: fakeTensorRTDir });
    const context = await engine.createContext();
    await context.run({ x: { data: sequence(4), shape: [1, 4] } });
    await context.dispose();
    engine.dispose();
    await expect
      .poll(() => findLine(log.since(mark), ['runtime#', ' destroy ']), { timeout: 5000 * slowdown })
      .toBeGreaterThanOrEqual(0);
    const lines = log.since(mark);
    const contextDestroyed = findLine(lines, ['context#', ' destroy ']);
    const engineDestroyed = findLine(lines, ['engine#', ' destroy ']);
    const runtimeDestroyed = findLine(lines, ['runtime#', ' destroy ']);
    expect(contextDestroyed).toBeGreaterThanOrEqual(0);
    expect(contextDestroyed).toBeLessThan(engineDestroyed);
    expect(engineDestroyed).toBeLessThan(runtimeDestroyed);
    expect(lines.filter((line) => line.includes('recorder.incRefCount')).length).toBe(
      lines.filter((line) => line.includes('recorder.decRefCount')).length,
    );
    expect(log.violations()).toEqual([]);
  });

  // Issue 14, defect 8: EngineWrap freed the engine (and its runtime, which frees device memory) on the JS thread.
  it('Engine.dispose() of the last reference releases the engine off the JavaScript thread', async () => {
    const engine = await Engine.load(slowPlan, { libraryPath: fakeTensorRTDir });
    const mark = log.mark();
    engine.dispose(); // no context: this handle holds the only reference
    await expect
      .poll(() => findLine(log.since(mark), ['engine#', ' destroy ']), { timeout: 5000 * slowdown })
      .toBeGreaterThanOrEqual(0);
    const lines = log.since(mark);
    expect(lines[findLine(lines, ['engine#', ' destroy '])]).toContain('thread=other');
    expect(lines[findLine(lines, ['runtime#', ' destroy '])]).toContain('thread=other');
  });
});

describe.skipIf(childSkip !== null)('fake TensorRT on the emulated device: in a child process', () => {
  let slowLoadPlan: string;
  let slowBuildModel: string;
  let pluginModel: string;
  beforeAll(async () => {
    slowLoadPlan = join(folder, 'slow-load.plan');
    writeFileSync(
      slowLoadPlan,
      await fakePlan(affineModel({ metadata: { 'fake-tensorrt:load-ms': '1500' } }), { profiles: batchProfiles([1, 8]) }),
    );
    slowBuildModel = join(folder, 'slow-build.onnx');
    writeFileSync(slowBuildModel, affineModel({ metadata: { 'fake-tensorrt:build-ms': '600' } }));
    pluginModel = join(folder, 'plugin.onnx');
    writeFileSync(pluginModel, affineModel({ extraNode: 'EfficientNMS_TRT' }));
  });

  // Issue 14, defect 4: the load thread outlived the worker's environment and touched it.
  it('worker.terminate() while Engine.load runs in the worker leaves the process healthy', () => {
    const run = child(`
      import { Worker } from 'node:worker_threads';
      const worker = new Worker(\`
        import('${distIndex}').then(async ({ Engine }) => {
          const { parentPort } = await import('node:worker_threads');
          parentPort.postMessage('loading');
          await Engine.load(${JSON.stringify(slowLoadPlan)}, { libraryPath: ${JSON.stringify(fakeTensorRTDir)} });
        });
      \`, { eval: true });
      await new Promise((resolve) => worker.once('message', resolve));
      await new Promise((resolve) => setTimeout(resolve, 200));
      await worker.terminate();
      await new Promise((resolve) => setTimeout(resolve, 2500)); // the load finishes on its own thread meanwhile
      console.log(JSON.stringify({ alive: true }));
    `);
    expect(run.signal, run.output).toBeNull();
    expect(run.status, run.output).toBe(0);
    expect(run.result).toEqual({ alive: true });
  });

  // Issue 14, defect 4: the build thread and its progress function outlived the worker's environment.
  it('worker.terminate() while buildEngine runs in the worker (with onProgress) leaves the process healthy', () => {
    const run = child(`
      import { Worker } from 'node:worker_threads';
      const worker = new Worker(\`
        import('${distIndex}').then(async ({ buildEngine }) => {
          const { parentPort } = await import('node:worker_threads');
          await buildEngine(${JSON.stringify(slowBuildModel)}, {
            libraryPath: ${JSON.stringify(fakeTensorRTDir)}, cacheDir: false, timingCache: false,
            profiles: { x: { min: [1, 4], opt: [4, 4], max: [8, 4] } },
            onProgress: (event) => parentPort.postMessage(event.kind),
          });
        });
      \`, { eval: true });
      await new Promise((resolve) => worker.once('message', resolve));
      await worker.terminate();
      await new Promise((resolve) => setTimeout(resolve, 2500));
      console.log(JSON.stringify({ alive: true }));
    `);
    expect(run.signal, run.output).toBeNull();
    expect(run.status, run.output).toBe(0);
    expect(run.result).toEqual({ alive: true });
  });

  // Issue 14, defect 5: a throwing onProgress escaped a thread-safe-function callback and ended the process.
  it('an onProgress that throws stops the build with ERR_ABORTED naming the error; the process lives on', () => {
    const run = child(`
      const { buildEngine } = await import('${distIndex}');
      let calls = 0;
      const outcome = await buildEngine(${JSON.stringify(slowBuildModel)}, {
        libraryPath: ${JSON.stringify(fakeTensorRTDir)}, cacheDir: false, timingCache: false,
        profiles: { x: { min: [1, 4], opt: [4, 4], max: [8, 4] } },
        onProgress: () => { calls++; throw new Error('progress handler failed'); },
      }).then(() => ({ built: true }), (error) => ({ code: error.code, message: error.message }));
      console.log(JSON.stringify({ ...outcome, calls }));
    `);
    expect(run.signal, run.output).toBeNull();
    expect(run.status, run.output).toBe(0);
    expect(run.result).toMatchObject({ code: 'ERR_ABORTED', calls: 1 });
    expect((run.result as { message: string }).message).toContain('progress handler failed');
  });

  // Issue 14, defect 7: the standard plugins were never loaded, so models using them could not build.
  it('models using a standard plugin build and run; plugins: false opts out', () => {
    const run = child(`
      const { buildEngine, Engine } = await import('${distIndex}');
      const options = { libraryPath: ${JSON.stringify(fakeTensorRTDir)}, cacheDir: false, timingCache: false, profiles: { x: { min: [1, 4], opt: [4, 4], max: [8, 4] } } };
      const optedOut = await buildEngine(${JSON.stringify(pluginModel)}, { ...options, plugins: false }).then(() => 'built', (error) => error.code);
      const built = await buildEngine(${JSON.stringify(pluginModel)}, options);
      const engine = await Engine.load(built.plan, { libraryPath: options.libraryPath });
      const context = await engine.createContext();
      const { outputs } = await context.run({ x: { data: Float32Array.from([1, 2, 3, 4]), shape: [1, 4] } });
      await context.dispose();
      engine.dispose();
      console.log(JSON.stringify({ optedOut, boxes: Array.from(outputs.boxes.data) }));
    `);
    expect(run.status, run.output).toBe(0);
    expect(run.result).toEqual({ optedOut: 'ERR_ONNX', boxes: Array.from(affine([1, 2, 3, 4])) });
  });

  it('a sticky device error fails the run with ERR_CUDA_STICKY, and later runs fail at once', () => {
    const run = child(`
      import { createRequire } from 'node:module';
      const { Engine } = await import('${distIndex}');
      const device = createRequire(import.meta.url)(${JSON.stringify(emulatedAddonPath)}).emulatedDevice;
      const engine = await Engine.load(${JSON.stringify(slowLoadPlan)}, { libraryPath: ${JSON.stringify(fakeTensorRTDir)} });
      const context = await engine.createContext({ cudaGraph: false });
      const x = { data: Float32Array.from([1, 2, 3, 4]), shape: [1, 4] };
      const healthy = (await context.run({ x })).outputs.y.data[0];
      device.failOperation(0, 700, 1);
      const first = await context.run({ x }).then(() => 'ok', (error) => error.code);
      const later = await context.run({ x }).then(() => 'ok', (error) => error.code);
      console.log(JSON.stringify({ healthy, first, later }));
    `);
    expect(run.status, run.output).toBe(0);
    expect(run.result).toEqual({ healthy: 3, first: 'ERR_CUDA_STICKY', later: 'ERR_CUDA_STICKY' });
  });
});
