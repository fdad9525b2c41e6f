// Per-run phase timings (run(..., { timing: true })) on the EMULATED device with the FAKE TensorRT:
// CUDA events around the copies and the compute, mapped to the performance.now() clock through the
// native anchor (native/trt/run_timing.cc). Emulation proves the plumbing and the order of the
// phases, never GPU speed: no assertion here is about how long anything took.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEngine, Engine, Tensor, type RunTiming } from '../../lib/index.js';
import {
  affine,
  affineModel,
  batchProfiles,
  emulatedSkipReason,
  fakeTensorRTDir,
  sequence,
} from '../helpers/fake-tensorrt-engines.js';

function expectOrdered(timing: RunTiming, before: number, after: number): void {
  const gpuPhases = [
    timing.h2dStartMs,
    timing.h2dEndMs,
    timing.computeStartMs,
    timing.computeEndMs,
    timing.d2hStartMs,
    timing.d2hEndMs,
  ];
  for (const point of gpuPhases) expect(Number.isFinite(point)).toBe(true);
  for (let i = 1; i < gpuPhases.length; i++) expect(gpuPhases[i]).toBeGreaterThanOrEqual(gpuPhases[i - 1]!);
  // The enqueue is timed on the host clock by the submit thread: inside the run() call. (The GPU
  // phases are events placed on that clock through an anchor, which only approximates it: no bound.)
  // 0.5 ms of slack for the offset between the monotonic clock and performance.now(), measured once.
  expect(timing.enqueueStartMs).toBeGreaterThanOrEqual(before - 0.5);
  expect(timing.enqueueEndMs).toBeGreaterThanOrEqual(timing.enqueueStartMs);
  expect(timing.enqueueEndMs).toBeLessThanOrEqual(after + 0.5);
  expect(timing.computeMs).toBeCloseTo(timing.computeEndMs - timing.computeStartMs, 6);
  expect(timing.latencyMs).toBeCloseTo(timing.d2hEndMs - timing.h2dStartMs, 6);
}

describe.skipIf(emulatedSkipReason !== null)('fake TensorRT on the emulated device: run timings', () => {
  let engine: Engine;
  beforeAll(async () => {
    const built = await buildEngine(affineModel(), {
      libraryPath: fakeTensorRTDir,
      cacheDir: false,
      timingCache: false,
      profiles: batchProfiles([1, 8]),
    });
    engine = await Engine.load(built.plan, { libraryPath: fakeTensorRTDir });
  });
  afterAll(() => engine?.dispose());

  it('without timing: true a run reports no timing', async () => {
    await using context = await engine.createContext({ cudaGraph: false });
    const result = await context.run({ x: { data: sequence(4), shape: [1, 4] } });
    expect(result.timing).toBeNull();
  });

  it('host arrays: copies in, compute, copies out, in that order, the enqueue inside the call, through plain runs and graph replays', async () => {
    await using context = await engine.createContext({ cudaGraph: 'auto' });
    const uses: string[] = [];
    for (let run = 0; run < 4; run++) {
      const x = sequence(8, run);
      const before = performance.now();
      const result = await context.run({ x: { data: x, shape: [2, 4] } }, { timing: true });
      const after = performance.now();
      expect(result.outputs.y!.data).toEqual(affine(x));
      expectOrdered(result.timing!, before, after);
      uses.push(result.cudaGraph);
    }
    expect(uses).toEqual(['plain', 'captured', 'replayed', 'replayed']);
  });

  it('device tensors in and out: the phases keep their order with no copies in them', async () => {
    await using context = await engine.createContext({ cudaGraph: false });
    const x = sequence(8, 2);
    const input = await Tensor.fromArray(x, { shape: [2, 4], location: 'device' });
    const output = Tensor.allocate('float32', [2, 4], { location: 'device' });
    try {
      const before = performance.now();
      const result = await context.run({ x: input }, { outputTensors: { y: output }, timing: true });
      const after = performance.now();
      expectOrdered(result.timing!, before, after);
      expect(await output.toArray()).toEqual(affine(x));
    } finally {
      input.dispose();
      output.dispose();
    }
  });
});
