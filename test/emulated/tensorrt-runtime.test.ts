// The whole runtime stack (lib -> N-API -> native/trt -> CUDA layer) on the EMULATED device with the
// FAKE TensorRT (native/emulated/tensorrt), through the public API only: engines the fake builds
// from tiny ONNX models, contexts, runs with TypedArrays, pinned and device tensors, bound outputs,
// CUDA graphs, profiles, profileLayers, float16, data-dependent outputs, host shape tensors and a
// refused non-linear format, each checked against the fake engine's exact results and the fake's
// call log. Emulation proves plumbing and protocol, not GPU numerics or speed (test/gpu does that).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEngine, capabilities, Engine, Tensor, TensorRTNodeError } from '../../lib/index.js';
import {
  affine,
  affineModel,
  batchProfiles,
  emulatedSkipReason,
  fakeTensorRTDir,
  findLine,
  float16Model,
  nonZeroModel,
  reshapeModel,
  sequence,
  useFakeTensorRTLog,
} from '../helpers/fake-tensorrt-engines.js';

const log = useFakeTensorRTLog();

async function fakePlan(model: Uint8Array, options: Parameters<typeof buildEngine>[1] = {}): Promise<Uint8Array> {
  const built = await buildEngine(model, { libraryPath: fakeTensorRTDir, cacheDir: false, timingCache: false, ...options });
  return built.plan;
}

async function loadFake(model: Uint8Array, options: Parameters<typeof buildEngine>[1] = {}): Promise<Engine> {
  return Engine.load(await fakePlan(model, options), { libraryPath: fakeTensorRTDir });
}

describe.skipIf(emulatedSkipReason !== null)('fake TensorRT on the emulated device: engines and runs', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await loadFake(affineModel(), { profiles: batchProfiles([1, 4], [5, 16]) });
  });
  afterAll(() => engine?.dispose());

  it('the build says it is emulated, and capabilities() lists no GPU for it', async () => {
    const caps = await capabilities();
    expect(caps.cuda.emulated).toBe(true);
    expect(caps.cuda.deviceCount).toBe(0);
  });

  it('loads a plan the fake built, with its tensors and both optimization profiles', () => {
    expect(
      engine.metadata.tensors.map((tensor) => [tensor.name, tensor.mode, tensor.dtype, tensor.shape, tensor.location]),
    ).toEqual([
      ['x', 'input', 'float32', [-1, 4], 'device'],
      ['y', 'output', 'float32', [-1, 4], 'device'],
    ]);
    expect(engine.metadata.profiles.map((profile) => profile.inputs.x)).toEqual([
      { min: [1, 4], opt: [4, 4], max: [4, 4] },
      { min: [5, 4], opt: [16, 4], max: [16, 4] },
    ]);
    expect(engine.metadata.tensors[0]!.format).toContain('kLINEAR');
  });

  it('run() with TypedArrays returns the exact results in fresh arrays', async () => {
    await using context = await engine.createContext({ cudaGraph: false });
    const x = sequence(12, -1);
    const { outputs, cudaGraph } = await context.run({ x: { data: x, shape: [3, 4] } });
    expect(cudaGraph).toBe('plain');
    expect(outputs.y!.shape).toEqual([3, 4]);
    expect(outputs.y!.data).toEqual(affine(x));
  });

  it('pinned and device tensors in; device, pinned and host tensors bound as outputs', async () => {
    await using context = await engine.createContext({ cudaGraph: false });
    const x = sequence(8, 3);
    const pinnedIn = await Tensor.fromArray(x, { shape: [2, 4], location: 'pinned' });
    const deviceIn = await Tensor.fromArray(x, { shape: [2, 4], location: 'device' });
    const deviceOut = Tensor.allocate('float32', [2, 4], { location: 'device' });
    const pinnedOut = Tensor.allocate('float32', [2, 4], { location: 'pinned' });
    const hostOut = Tensor.allocate('float32', [2, 4]);
    try {
      const fromPinned = await context.run({ x: pinnedIn }, { outputTensors: { y: deviceOut } });
      expect(fromPinned.bound.y!.shape).toEqual([2, 4]);
      expect(await deviceOut.toArray()).toEqual(affine(x));
      await context.run({ x: deviceIn }, { outputTensors: { y: pinnedOut } });
      expect(pinnedOut.data).toEqual(affine(x));
      await context.run({ x: deviceIn }, { outputTensors: { y: hostOut } });
      expect(hostOut.data).toEqual(affine(x));
    } finally {
      for (const tensor of [pinnedIn, deviceIn, deviceOut, pinnedOut, hostOut]) tensor.dispose();
    }
  });

  it('CUDA graphs: a warm-up, a capture, then replays, each with fresh data', async () => {
    await using context = await engine.createContext({ cudaGraph: 'auto' });
    const uses: string[] = [];
    for (let run = 0; run < 4; run++) {
      const x = sequence(8, run * 10);
      const result = await context.run({ x: { data: x, shape: [2, 4] } });
      expect(result.outputs.y!.data).toEqual(affine(x));
      uses.push(result.cudaGraph);
    }
    expect(uses).toEqual(['plain', 'captured', 'replayed', 'replayed']);
    expect(context.cudaGraphs).toMatchObject({ active: true, captures: 1, replays: 2 });
  });

  // Issue 14, defect 2, through the public API: shapes A/B/A/B through graphs equal cudaGraph: false.
  it('alternating shapes A/B/A/B with fresh data through graphs give the plain results', async () => {
    await using graphs = await engine.createContext({ cudaGraph: 'auto' });
    await using plain = await engine.createContext({ cudaGraph: false });
    const mark = log.mark();
    // A A (A's graph is captured), then B A B A ...: no A may replay A's graph on a context that ran at B.
    const batches = [2, 2, 3, 2, 3, 2, 3, 2, 3, 2];
    for (const [run, batch] of batches.entries()) {
      const x = sequence(batch * 4, run * 7);
      const viaGraphs = await graphs.run({ x: { data: x, shape: [batch, 4] } });
      const viaPlain = await plain.run({ x: { data: x, shape: [batch, 4] } });
      expect(viaGraphs.outputs.y!.data).toEqual(viaPlain.outputs.y!.data);
      expect(viaGraphs.outputs.y!.data).toEqual(affine(x));
    }
    expect(graphs.cudaGraphs).toMatchObject({ active: true, captures: 2, replays: 6 });
    expect(plain.cudaGraphs).toMatchObject({ active: false, captures: 0 });
    expect(log.since(mark).filter((line) => line.includes(' VIOLATION '))).toEqual([]);
  });

  it('a context at profile 1 runs shapes of profile 1 (and the profile is selected before any shape)', async () => {
    const mark = log.mark();
    await using context = await engine.createContext({ profile: 1 });
    const x = sequence(6 * 4, 1);
    expect((await context.run({ x: { data: x, shape: [6, 4] } })).outputs.y!.data).toEqual(affine(x));
    await expect(context.run({ x: { data: sequence(8), shape: [2, 4] } })).rejects.toMatchObject({ code: 'ERR_SHAPE' });
    const lines = log.since(mark);
    expect(findLine(lines, ['setOptimizationProfileAsync 1'])).toBeGreaterThanOrEqual(0);
    expect(findLine(lines, ['setOptimizationProfileAsync 1'])).toBeLessThan(findLine(lines, ['setInputShape x']));
  });

  it('profileLayers() reports the fake engine layers', async () => {
    await using context = await engine.createContext();
    const profile = await context.profileLayers({ x: { data: sequence(4), shape: [1, 4] } }, { iterations: 3 });
    expect(profile.iterations).toBe(3);
    expect(profile.layers.map((layer) => [layer.name, layer.calls])).toEqual([
      ['Mul', 3],
      ['Add', 3],
    ]);
  });

  it('float16 inputs travel as their bits (Uint16Array) and the engine casts them', async () => {
    const fp16 = await loadFake(float16Model(), { profiles: batchProfiles([1, 4]) });
    try {
      await using context = await fp16.createContext();
      // 1.5, -2, 0.25, 1024 as float16 bits
      const bits = Uint16Array.from([0x3e00, 0xc000, 0x3400, 0x6400]);
      const { outputs } = await context.run({ x: { data: bits, shape: [1, 4], dtype: 'float16' } });
      expect(outputs.y!.data).toEqual(Float32Array.from([4, -3, 1.5, 2049]));
    } finally {
      fp16.dispose();
    }
  });

  it('data-dependent outputs come back with their inferred shape; graphs go off and say why', async () => {
    const nonzero = await loadFake(nonZeroModel());
    try {
      await using context = await nonzero.createContext({ cudaGraph: 'auto' });
      const x = Float32Array.from([0, 1.5, 0, -2, 3, 0, 0, 4]);
      const { outputs } = await context.run({ x });
      expect(outputs.indices!.shape).toEqual([2, 4]);
      expect(outputs.indices!.data).toEqual(BigInt64Array.from([0n, 0n, 1n, 1n, 1n, 3n, 0n, 3n]));
      expect(outputs.y!.data).toEqual(Float32Array.from([0, 1.5, 0, 0, 3, 0, 0, 4]));
      expect(context.cudaGraphs.active).toBe(false);
      expect(context.cudaGraphs.disabledReason).toContain('data-dependent');
    } finally {
      nonzero.dispose();
    }
  });

  it('host shape tensors: built with their values in the profile, bound before shapes are inferred', async () => {
    const reshape = await loadFake(reshapeModel(), {
      profiles: {
        x: { min: [1], opt: [6], max: [16] },
        shape: { min: [2], opt: [2], max: [2], values: { min: [1, 1], opt: [2, 3], max: [4, 4] } },
      },
    });
    try {
      expect(reshape.metadata.tensors.find((tensor) => tensor.name === 'shape')).toMatchObject({
        location: 'host',
        isShapeTensor: true,
      });
      await using context = await reshape.createContext();
      const x = sequence(6, 1);
      const mark = log.mark();
      const first = await context.run({ x: { data: x, shape: [6] }, shape: { data: BigInt64Array.from([2n, 3n]), shape: [2] } });
      expect(first.outputs.y!.shape).toEqual([2, 3]);
      expect(first.outputs.y!.data).toEqual(x);
      const second = await context.run({ x: { data: x, shape: [6] }, shape: { data: BigInt64Array.from([3n, 2n]), shape: [2] } });
      expect(second.outputs.y!.shape).toEqual([3, 2]);
      expect(context.cudaGraphs.active).toBe(false);
      const lines = log.since(mark);
      expect(findLine(lines, ['setTensorAddress shape set'])).toBeLessThan(findLine(lines, ['getTensorShape y']));
    } finally {
      reshape.dispose();
    }
  });

  // Issue 14, defect 3: kHWC reports no vectorized dimension and was bound as if row-major.
  it('BAD CALL - a context of an engine whose output is kHWC is refused with ERR_NOT_SUPPORTED', async () => {
    const hwc = await loadFake(affineModel({ metadata: { 'fake-tensorrt:format:y': 'kHWC' } }), {
      profiles: batchProfiles([1, 4]),
    });
    try {
      await expect(hwc.createContext()).rejects.toSatisfy(
        (error: unknown) =>
          error instanceof TensorRTNodeError && error.code === 'ERR_NOT_SUPPORTED' && error.message.includes('kHWC'),
      );
    } finally {
      hwc.dispose();
    }
  });

  it('nothing above broke the protocol the fake checks', () => {
    expect(log.violations()).toEqual([]);
  });
});
