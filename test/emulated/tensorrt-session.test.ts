// InferenceSession's tensorrt backend on the EMULATED device with the FAKE TensorRT, through the
// public API: an engine file, two contexts, the batcher stacking concurrent requests (each result
// must be its own input's), and a pinned binding; every result is the fake engine's exact one.
// Emulation proves plumbing, not GPU numerics or speed.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEngine, InferenceSession } from '../../lib/index.js';
import {
  affine,
  affineModel,
  batchProfiles,
  emulatedSkipReason,
  fakeTensorRTDir,
  sequence,
  useFakeTensorRTLog,
} from '../helpers/fake-tensorrt-engines.js';

const log = useFakeTensorRTLog();

describe.skipIf(emulatedSkipReason !== null)('fake TensorRT on the emulated device: InferenceSession (tensorrt backend)', () => {
  let session: InferenceSession;
  beforeAll(async () => {
    const folder = mkdtempSync(join(tmpdir(), 'fake-trt-session-'));
    const built = await buildEngine(affineModel(), {
      libraryPath: fakeTensorRTDir,
      cacheDir: false,
      timingCache: false,
      profiles: batchProfiles([1, 64]),
    });
    const enginePath = join(folder, 'affine.engine');
    writeFileSync(enginePath, built.plan);
    session = await InferenceSession.create(enginePath, {
      backend: 'tensorrt',
      contexts: 2,
      tensorrt: { libraryPath: fakeTensorRTDir },
    });
  });
  afterAll(async () => {
    await session?.dispose();
  });

  it('runs an engine file on two contexts', async () => {
    expect(session.backend).toBe('tensorrt');
    expect(session.contexts).toBe(2);
    const x = sequence(12, -3);
    const { y } = await session.run({ x: { dtype: 'float32', shape: [3, 4], data: x } });
    expect(y!.shape).toEqual([3, 4]);
    expect(y!.data).toEqual(affine(x));
  });

  it('the batcher stacks concurrent requests and hands each its own rows', async () => {
    const batcher = session.batcher({ maxBatchSize: 32, maxDelayMs: 5 });
    try {
      const inputs = Array.from({ length: 100 }, (_, index) => sequence(4, index));
      const results = await Promise.all(inputs.map((x) => batcher.run({ x: { dtype: 'float32', shape: [1, 4], data: x } })));
      results.forEach((result, index) => expect(result.y!.data).toEqual(affine(inputs[index]!)));
    } finally {
      await batcher.dispose();
    }
    const metrics = session.metrics();
    expect(metrics.executionCount).toBeLessThan(metrics.requestSuccess);
  });

  it('a pinned binding runs in place with the results of run()', async () => {
    const binding = await session.createBinding({ shapes: { x: [8, 4] } });
    try {
      const x = sequence(32, 2);
      (binding.inputs.x!.data as Float32Array).set(x);
      await binding.run();
      expect(binding.outputs.y!.data).toEqual(affine(x));
    } finally {
      await binding.dispose();
    }
  });

  it('the fake saw no protocol violation', () => {
    expect(log.violations()).toEqual([]);
  });
});
