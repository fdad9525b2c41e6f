/**
 * The cpu backends' worker threads are reused: a disposed backend's worker, its session released,
 * serves the next backend (no new thread, no state carried over), idle ones never keep the process
 * alive and exit after a while, and a worker in doubt is never reused.
 */
import { readdirSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createCpuBackend } from '../../lib/backends/cpu/backend.js';
import {
  IDLE_TIMEOUT_MS,
  MAX_IDLE,
  closeIdleCpuWorkers,
  idleCpuWorkers,
  prestartCpuWorker,
} from '../../lib/backends/cpu/worker-pool.js';
import { OnnxError } from '../../lib/core/errors.js';
import { InferenceSession } from '../../lib/session/inference-session.js';
import { expectError } from '../helpers/expect-error.js';
import { chainModel, mlpModel, randomTensor } from '../helpers/onnx-fixtures.js';

const threads = (): number => readdirSync('/proc/self/task').length;

describe.runIf(process.platform === 'linux')('cpu worker pool', () => {
  // Threads the process starts once, on first use (libuv's thread pool, onnxruntime's), are not the pool's: start them first.
  beforeAll(async () => {
    const warm = await Promise.all([
      createCpuBackend(mlpModel(), { intraOpNumThreads: 1 }),
      createCpuBackend(mlpModel(), { intraOpNumThreads: 1 }),
    ]);
    await Promise.all(warm.map((backend) => backend.run({ x: randomTensor([1, 16], 0) }).then(() => backend.dispose())));
  });

  afterEach(async () => {
    vi.useRealTimers();
    await closeIdleCpuWorkers();
  });

  it("a disposed backend's worker serves the next backend: no new thread, and nothing of the old session is left in it", async () => {
    await closeIdleCpuWorkers();
    const first = await createCpuBackend(mlpModel(), { intraOpNumThreads: 1 });
    const firstBinding = { inputs: { x: randomTensor([2, 16], 1) }, outputs: {} };
    expect((await first.run(firstBinding.inputs)).y!.shape).toEqual([2, 8]);
    await first.dispose();
    expect(idleCpuWorkers()).toBe(1);
    const before = threads();

    // Another model with the same input and output names, other shapes: the worker's reused buffers must not leak across.
    const second = await createCpuBackend(chainModel({ width: 16, layers: 2 }), { intraOpNumThreads: 1 });
    expect(idleCpuWorkers()).toBe(0);
    expect(threads()).toBe(before);
    const result = await second.run({ x: randomTensor([3, 16], 2) });
    expect(result.y!.shape).toEqual([3, 16]);
    await second.dispose();
    expect(idleCpuWorkers()).toBe(1);
  });

  it('a worker whose load failed is clean and reused; sessions over reused workers give the same results as fresh ones', async () => {
    await closeIdleCpuWorkers();
    await expectError(() => createCpuBackend(new Uint8Array([1, 2, 3, 4]), { intraOpNumThreads: 1 }), OnnxError, 'ERR_ONNX', /./);
    expect(idleCpuWorkers()).toBe(1);
    const input = randomTensor([4, 16], 3);
    await using freshBackend = await createCpuBackend(mlpModel(), { intraOpNumThreads: 1 });
    const fresh = await freshBackend.run({ x: input });
    await using session = await InferenceSession.create(mlpModel(), {
      backend: 'cpu',
      contexts: 2,
      cpu: { intraOpNumThreads: 1 },
    });
    expect((await session.run({ x: input })).y!.data).toEqual(fresh.y!.data);
  });

  it(`keeps at most ${MAX_IDLE} idle workers; the rest exit when their backends are disposed`, async () => {
    await closeIdleCpuWorkers();
    const baseline = threads();
    const backends = await Promise.all(
      Array.from({ length: MAX_IDLE + 2 }, () => createCpuBackend(mlpModel(), { intraOpNumThreads: 1 })),
    );
    // A worker is a few OS threads (its own, and its event loop's helpers).
    const perWorker = (threads() - baseline) / (MAX_IDLE + 2);
    expect(perWorker).toBeGreaterThanOrEqual(1);
    await Promise.all(backends.map((backend) => backend.dispose()));
    expect(idleCpuWorkers()).toBe(MAX_IDLE);
    // A worker's OS threads are joined a moment after its exit event.
    await vi.waitFor(() => expect(threads()).toBe(baseline + MAX_IDLE * perWorker), { timeout: 5000 });
    await closeIdleCpuWorkers();
    await vi.waitFor(() => expect(threads()).toBe(baseline), { timeout: 5000 });
  });

  it(`idle workers exit after ${IDLE_TIMEOUT_MS} ms unused`, async () => {
    await closeIdleCpuWorkers();
    const baseline = threads();
    const backend = await createCpuBackend(mlpModel(), { intraOpNumThreads: 1 });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    await backend.dispose();
    expect(idleCpuWorkers()).toBe(1);
    vi.advanceTimersByTime(IDLE_TIMEOUT_MS - 1);
    expect(idleCpuWorkers()).toBe(1);
    vi.advanceTimersByTime(1);
    expect(idleCpuWorkers()).toBe(0);
    vi.useRealTimers();
    await vi.waitFor(() => expect(threads()).toBe(baseline), { timeout: 5000 });
  });

  it('a prestarted worker waits idle and serves the next backend; prestarting again while one waits starts nothing', async () => {
    await closeIdleCpuWorkers();
    const baseline = threads();
    // The threads of one backend on a worker of its own, for comparison.
    const alone = await createCpuBackend(mlpModel(), { intraOpNumThreads: 1 });
    const oneBackend = threads() - baseline;
    await alone.dispose();
    await closeIdleCpuWorkers();
    await vi.waitFor(() => expect(threads()).toBe(baseline), { timeout: 5000 });

    prestartCpuWorker();
    prestartCpuWorker();
    expect(idleCpuWorkers()).toBe(1);
    await using backend = await createCpuBackend(mlpModel(), { intraOpNumThreads: 1 });
    expect(idleCpuWorkers()).toBe(0);
    expect(threads() - baseline).toBe(oneBackend); // one worker: the prestarted one
    expect((await backend.run({ x: randomTensor([1, 16], 4) })).y!.shape).toEqual([1, 8]);
  });

  it('a session with backend "auto" boots a cpu worker while it first probes for TensorRT, and runs on it when it falls back to cpu', async () => {
    // Fresh modules: the probe runs once per process, and only the first one prestarts a worker.
    vi.resetModules();
    const pool = await import('../../lib/backends/cpu/worker-pool.js');
    const { InferenceSession: FreshSession } = await import('../../lib/session/inference-session.js');
    const { backendAvailability } = await import('../../lib/session/registry.js');
    try {
      const availability = await backendAvailability('auto');
      expect(pool.idleCpuWorkers()).toBe(1);
      if (availability.tensorrt.available) return; // a GPU host: auto picks tensorrt, the worker just waits
      await using session = await FreshSession.create(mlpModel(), { cpu: { intraOpNumThreads: 1 } });
      expect(session.backend).toBe('cpu');
      expect(pool.idleCpuWorkers()).toBe(0);
      await backendAvailability('auto');
      expect(pool.idleCpuWorkers()).toBe(0); // probed already: nothing more is started
    } finally {
      await pool.closeIdleCpuWorkers();
    }
  });
});
