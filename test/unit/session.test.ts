/**
 * InferenceSession on the cpu backend: backend choice, metadata, feeds in every accepted form, the
 * queue over N contexts, deadlines, aborts, disposal, bindings, precision, and bad input with class,
 * code and exact message.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbortError, ArgumentRangeError, ArgumentTypeError, TensorRTNodeError } from '../../lib/core/errors.js';
import { decideBackend, registerBackendFactory, type BackendAvailability } from '../../lib/session/registry.js';
import { serializeModel, writeModel } from '../../lib/onnx/model.js';
import { makeNode } from '../../lib/onnx/graph.js';
import { DataType } from '../../lib/onnx/proto.js';
import { InferenceSession } from '../../lib/session/inference-session.js';
import { Tensor } from '../../lib/cuda/tensor.js';
import { expectError } from '../helpers/expect-error.js';
import {
  buildModel,
  chainModel,
  convNetModel,
  GraphBuilder,
  mlpModel,
  randomTensor,
  temporaryFolder,
} from '../helpers/onnx-fixtures.js';

const threads = (): number => readdirSync('/proc/self/task').length;

describe('InferenceSession (cpu)', () => {
  let mlp: InferenceSession<{ inputs: { x: 'float32' }; outputs: { y: 'float32' } }>;
  let chain: InferenceSession;
  let folder: string;

  beforeAll(async () => {
    folder = temporaryFolder('trtnode-session-');
    writeFileSync(join(folder, 'mlp.onnx'), serializeModel(mlpModel()));
    mlp = await InferenceSession.create(join(folder, 'mlp.onnx'), {
      backend: 'cpu',
      cpu: { intraOpNumThreads: 1 },
      signature: { inputs: { x: 'float32' }, outputs: { y: 'float32' } },
    });
    chain = await InferenceSession.create(chainModel(), { backend: 'cpu', contexts: 2, cpu: { intraOpNumThreads: 1 } });
  });
  afterAll(async () => {
    await mlp?.dispose();
    await chain?.dispose();
  });

  it("reports its backend, why, and the model's inputs and outputs", () => {
    expect(mlp.backend).toBe('cpu');
    expect(mlp.backendReason).toBe('asked for by name');
    expect(mlp.name).toBe('mlp');
    expect(mlp.contexts).toBe(1);
    expect(chain.contexts).toBe(2);
    expect(mlp.inputs).toEqual([{ name: 'x', dtype: 'float32', shape: [-1, 16], dimNames: ['batch', null] }]);
    expect(mlp.outputs).toEqual([{ name: 'y', dtype: 'float32', shape: [-1, 8], dimNames: ['batch', null] }]);
  });

  it('backend "auto" falls back to cpu here and says why, ignoring TensorRT-only options', async () => {
    await using session = await InferenceSession.create(mlpModel(), { cudaGraph: true, device: 0 });
    expect(session.backend).toBe('cpu');
    expect(session.backendReason).toMatch(
      /^auto: TensorRT is not usable on this machine: .+; ignored on cpu: options\.cudaGraph, options\.device$/,
    );
  });

  it('BAD CALL - backend "tensorrt" without TensorRT fails with ERR_NOT_SUPPORTED naming why, and never runs anything else', async () => {
    await expectError(
      () => InferenceSession.create(mlpModel(), { backend: 'tensorrt' }),
      TensorRTNodeError,
      'ERR_NOT_SUPPORTED',
      /^The tensorrt backend cannot run here: TensorRT is not usable on this machine: .+\. Use backend "cpu" or "auto"\.$/,
    );
  });

  it('"auto" picks tensorrt only when TensorRT is usable and a factory is registered', () => {
    const base: BackendAvailability = {
      tensorrt: { available: true, reason: null },
      tensorrtFactory: true,
      cpu: { available: true, reason: null },
      cpuFactory: true,
    };
    expect(decideBackend('auto', base)).toEqual({ kind: 'tensorrt', reason: 'auto: TensorRT is usable on this machine' });
    expect(decideBackend('auto', { ...base, tensorrtFactory: false })).toEqual({
      kind: 'cpu',
      reason: 'auto: no factory is registered for the tensorrt backend',
    });
    expect(decideBackend('auto', { ...base, tensorrt: { available: false, reason: 'no GPU' } })).toEqual({
      kind: 'cpu',
      reason: 'auto: TensorRT is not usable on this machine: no GPU',
    });
    expect(decideBackend('tensorrt', base)).toEqual({ kind: 'tensorrt', reason: 'asked for by name' });
    const none = decideBackend('auto', {
      ...base,
      tensorrt: { available: false, reason: 'no GPU' },
      cpu: { available: false, reason: 'onnxruntime-node is not installed' },
    });
    expect(none.kind).toBeNull();
    expect((none as { error: Error }).error.message).toBe(
      'No backend can run here: TensorRT is not usable on this machine: no GPU; cpu: onnxruntime-node is not installed.',
    );
  });

  it('runs backends registered later through the same seam (a registered factory replaces the built-in one until unregistered)', async () => {
    const calls: string[] = [];
    const { cpuBackendFactory } = await import('../../lib/session/factories/cpu.js');
    const unregister = registerBackendFactory('cpu', {
      create: (request) => (calls.push(`${request.model.kind} contexts=${request.contexts}`), cpuBackendFactory.create(request)),
    });
    try {
      await using session = await InferenceSession.create(mlpModel(), { backend: 'cpu', contexts: 1 });
      expect((await session.run({ x: randomTensor([1, 16], 1) })).y!.shape).toEqual([1, 8]);
    } finally {
      unregister();
    }
    expect(calls).toEqual(['onnx contexts=1']);
  });

  it('takes feeds as HostTensors, { data, shape }, Tensors and plain arrays, with the same results', async () => {
    const x = randomTensor([2, 16], 3);
    const expected = (await mlp.run({ x })).y.data;
    expect((await mlp.run({ x: { data: x.data, shape: [2, 16] } })).y.data).toEqual(expected);
    expect((await mlp.run({ x: await Tensor.fromArray(x.data, { dtype: 'float32', shape: [2, 16] }) })).y.data).toEqual(expected);
    expect((await mlp.run({ x: { data: Array.from(x.data), shape: [2, 16] } })).y.data).toEqual(expected);
    await using conv = await InferenceSession.create(convNetModel(), { backend: 'cpu' });
    const image = randomTensor([1, 3, 16, 16], 4);
    const bare = await conv.run({ x: image.data }, { outputs: ['y'] });
    expect(Object.keys(bare)).toEqual(['y']);
    expect(bare.y!.data).toEqual((await conv.run({ x: image })).y!.data);
  });

  it('serves N contexts at once and queues the rest; every caller gets its own result', async () => {
    const inputs = Array.from({ length: 6 }, (_, index) => randomTensor([64, 256], 10 + index));
    const expected: Float32Array[] = [];
    for (const x of inputs) expected.push((await chain.run({ x })).y!.data as Float32Array);
    const running = inputs.map((x) => chain.run({ x }));
    const metrics = chain.metrics();
    expect(metrics.executionsInFlight).toBe(2);
    expect(metrics.queueLength).toBe(4);
    const results = await Promise.all(running);
    results.forEach((result, index) => expect(result.y!.data).toEqual(expected[index]));
  });

  it('BAD CALL - timeouts and aborts reject with their codes; the session keeps serving', async () => {
    await using session = await InferenceSession.create(chainModel(), {
      backend: 'cpu',
      cpu: { intraOpNumThreads: 1 },
      maxQueue: 1,
    });
    const big = randomTensor([4096, 256], 1);
    const running = session.run({ x: big });
    const queued = session.run({ x: big }, { timeoutMs: 1 });
    await expectError(
      () => queued,
      TensorRTNodeError,
      'ERR_TIMEOUT',
      'The run timed out after 1 ms (options.timeoutMs) while queued',
    );
    const controller = new AbortController();
    const abortedQueued = session.run({ x: big }, { signal: controller.signal });
    await expectError(
      () => session.run({ x: big }),
      TensorRTNodeError,
      'ERR_QUEUE_FULL',
      'The run queue is full (options.maxQueue: 1 runs waiting); retry later or raise maxQueue',
    );
    const why = new Error('user gave up');
    controller.abort(why);
    const aborted = await expectError(
      () => abortedQueued,
      TensorRTNodeError,
      'ERR_ABORTED',
      'The run was aborted (user gave up)',
    );
    // An abort looks like every abort in Node: name AbortError, the signal's reason as cause.
    expect(aborted.name).toBe('AbortError');
    expect(aborted).toBeInstanceOf(AbortError);
    expect(aborted.cause).toBe(why);
    await running;
    await expectError(
      () => session.run({ x: big }, { timeoutMs: 2 }),
      TensorRTNodeError,
      'ERR_TIMEOUT',
      'The run timed out after 2 ms (options.timeoutMs) while executing',
    );
    await expectError(
      () => session.run({ x: big }, { signal: AbortSignal.abort('before') }),
      TensorRTNodeError,
      'ERR_ABORTED',
      'The run was aborted (before)',
    );
    expect((await session.run({ x: randomTensor([1, 256], 2) })).y!.shape).toEqual([1, 256]);
    const metrics = session.metrics();
    expect(metrics.requestFailureByCode).toEqual({ ERR_TIMEOUT: 2, ERR_ABORTED: 2, ERR_QUEUE_FULL: 1 });
    expect(metrics.requestSuccess).toBe(2);
  });

  it('dispose(): queued runs reject with ERR_DISPOSED, the running one completes, later calls reject; drain: everything accepted completes', async () => {
    const session = await InferenceSession.create(chainModel(), { backend: 'cpu', cpu: { intraOpNumThreads: 1 } });
    const running = session.run({ x: randomTensor([1024, 256], 1) });
    const queued = session.run({ x: randomTensor([1, 256], 2) });
    const disposing = session.dispose();
    const queuedRejected = expectError(
      () => queued,
      TensorRTNodeError,
      'ERR_DISPOSED',
      'The InferenceSession was disposed and can no longer be used',
    );
    expect(session.dispose()).toBe(disposing);
    expect(session.disposed).toBe(true);
    expect((await running).y!.shape).toEqual([1024, 256]);
    await queuedRejected;
    await disposing;
    await expectError(
      () => session.run({ x: randomTensor([1, 256], 3) }),
      TensorRTNodeError,
      'ERR_DISPOSED',
      'The InferenceSession was disposed and can no longer be used',
    );
    expect(() => session.batcher()).toThrow('The InferenceSession was disposed and can no longer be used');

    const draining = await InferenceSession.create(chainModel(), { backend: 'cpu', cpu: { intraOpNumThreads: 1 } });
    const batcher = draining.batcher({ maxDelayMs: 10_000 });
    const accepted = [
      draining.run({ x: randomTensor([256, 256], 4) }),
      draining.run({ x: randomTensor([2, 256], 5) }),
      batcher.run({ x: randomTensor([1, 256], 6) }),
    ];
    const drained = draining.dispose({ drain: true });
    await expectError(
      () => draining.run({ x: randomTensor([1, 256], 7) }),
      TensorRTNodeError,
      'ERR_DISPOSED',
      'The InferenceSession was disposed and can no longer be used',
    );
    expect((await Promise.all(accepted)).map((result) => result.y!.shape[0])).toEqual([256, 2, 1]);
    await drained;
  });

  it('leaks nothing across create/dispose cycles (threads, handles)', async () => {
    const model = serializeModel(mlpModel());
    const warm = await InferenceSession.create(model, { backend: 'cpu', contexts: 2 });
    await warm.batcher().run({ x: randomTensor([1, 16], 1) });
    await warm.dispose();
    const baselineThreads = threads();
    const baselineHandles = process.getActiveResourcesInfo().filter((kind) => kind !== 'TTYWrap').length;
    for (let cycle = 0; cycle < 3; cycle++) {
      await using session = await InferenceSession.create(model, { backend: 'cpu', contexts: 2, timeoutMs: 5000 });
      const batcher = session.batcher({ maxDelayMs: 1 });
      const binding = await session.createBinding({ shapes: { x: [2, 16] } });
      await Promise.all([
        session.run({ x: randomTensor([1, 16], cycle) }, { signal: new AbortController().signal }),
        batcher.run({ x: randomTensor([1, 16], cycle) }),
        binding.run(),
      ]);
    }
    expect(threads()).toBeLessThanOrEqual(baselineThreads);
    expect(process.getActiveResourcesInfo().filter((kind) => kind !== 'TTYWrap').length).toBeLessThanOrEqual(baselineHandles);
  });

  describe('bindings', () => {
    it("runs in place: the same arrays every run, results equal run()'s, outputs overwritten by the next run", async () => {
      await using binding = await mlp.createBinding({ shapes: { x: [3, 16] } });
      expect(binding.location).toBe('host');
      expect(binding.inputs.x.shape).toEqual([3, 16]);
      expect(binding.outputs.y.shape).toEqual([3, 8]);
      const outputData = binding.outputs.y.data;
      expect(outputData.buffer).toBeInstanceOf(SharedArrayBuffer);
      for (const seed of [1, 2]) {
        const x = randomTensor([3, 16], seed);
        binding.inputs.x.data.set(x.data);
        await binding.run();
        expect(binding.outputs.y.data).toBe(outputData);
        expect(binding.outputs.y.data).toEqual((await mlp.run({ x })).y.data);
      }
    });

    it('learns output shapes the dim names do not give by running once', async () => {
      await using conv = await InferenceSession.create(convNetModel(), { backend: 'cpu' });
      await using binding = await conv.createBinding();
      expect(binding.outputs.y2!.shape).toEqual([1, 4, 16, 16]);
    });

    it('BAD CALL - a second run while one is in flight, missing shapes, memory the backend cannot bind, use after dispose', async () => {
      const binding = await mlp.createBinding({ shapes: { x: [1, 16] } });
      const first = binding.run();
      await expectError(
        () => binding.run(),
        TensorRTNodeError,
        'ERR_QUEUE_FULL',
        "binding.run() was called while the binding's previous run is in flight: a binding's memory serves one run at a time; await the previous run, or create one binding per concurrent caller",
      );
      await first;
      await binding.dispose();
      await expectError(
        () => binding.run(),
        TensorRTNodeError,
        'ERR_DISPOSED',
        'The binding was disposed and can no longer be used',
      );
      await expectError(
        () => mlp.createBinding(),
        ArgumentTypeError,
        'ERR_SHAPE',
        "Expected a concrete shape for options.shapes.x (the model's shape [-1, 16] has dynamic dims) but received undefined",
      );
      await expectError(
        () => mlp.createBinding({ shapes: { x: [1, 15] } }),
        ArgumentRangeError,
        'ERR_SHAPE',
        'Expected 16 at dim 1 (model shape [-1, 16]) for options.shapes.x but received [1, 15]',
      );
      await expectError(
        () => mlp.createBinding({ shapes: { xx: [1, 16] } }),
        ArgumentRangeError,
        'ERR_INVALID_ARGUMENT',
        'Expected only input names of the model ("x") in options.shapes but received "xx" (did you mean "x"?)',
      );
      await expectError(
        () => mlp.createBinding({ shapes: { x: [1, 16] }, location: 'pinned' }),
        TensorRTNodeError,
        'ERR_NOT_SUPPORTED',
        'Expected one of "host" for options.location (what the cpu backend binds) but received "pinned"',
      );
    });
  });

  it('runs models whose input or output is named __proto__ (session.run, the batcher, a path with external data)', async () => {
    const identity = (input: string, output: string) => {
      const graph = new GraphBuilder('proto');
      graph.input(input, DataType.FLOAT, ['batch', 2]);
      const weight = graph.initializer('w', [2], Float32Array.of(2, 3));
      graph.nodes.push(makeNode('Mul', [input, weight], [output], 'scale'));
      graph.output(output, DataType.FLOAT, ['batch', 2]);
      return buildModel(graph.build());
    };
    const feeds = (name: string, data: number[]) =>
      Object.fromEntries([[name, { data: Float32Array.from(data), shape: [data.length / 2, 2] }]]);
    {
      await using session = await InferenceSession.create(identity('__proto__', 'y'), { backend: 'cpu' });
      expect(session.inputs.map((info) => info.name)).toEqual(['__proto__']);
      expect([...(await session.run(feeds('__proto__', [1, 1]))).y!.data]).toEqual([2, 3]);
      const batcher = session.batcher({ maxDelayMs: 5 });
      const results = await Promise.all([batcher.run(feeds('__proto__', [1, 2])), batcher.run(feeds('__proto__', [3, 4]))]);
      expect(results.map((result) => [...result.y!.data])).toEqual([
        [2, 6],
        [6, 12],
      ]);
    }
    const path = join(folder, 'proto-out.onnx');
    await writeModel(identity('x', '__proto__'), path, { externalData: { threshold: 0 } });
    await using session = await InferenceSession.create(path, { backend: 'cpu' });
    const result = await session.run({ x: { data: Float32Array.of(1, 1), shape: [1, 2] } });
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(Object.keys(result)).toEqual(['__proto__']);
    expect([...Object.getOwnPropertyDescriptor(result, '__proto__')!.value.data]).toEqual([2, 3]);
  });

  it('precision fp16 and int8 run the transformed graphs on cpu (close to fp32, not equal)', async () => {
    const x = randomTensor([4, 16], 9);
    const reference = (await mlp.run({ x })).y.data;
    for (const [precision, tolerance] of [
      ['fp16', 0.01],
      ['int8', 0.1],
    ] as const) {
      const profiles = [{ x: { min: [1, 16], opt: [4, 16], max: [16, 16] } }];
      await using session = await InferenceSession.create(mlpModel(), {
        backend: 'cpu',
        precision,
        calibration: { random: 16, seed: 1 },
        profiles,
      });
      expect(session.precision).toBe(precision);
      const result = (await session.run({ x })).y!.data as Float32Array;
      expect(result).not.toEqual(reference);
      result.forEach((value, index) =>
        expect(Math.abs(value - reference[index]!)).toBeLessThan(tolerance * (1 + Math.abs(reference[index]!))),
      );
    }
  });

  describe('profiles', () => {
    it('refuse requests outside every profile on every backend (ERR_SHAPE), as TensorRT would', async () => {
      await using session = await InferenceSession.create(mlpModel(), {
        backend: 'cpu',
        profiles: [{ x: { min: [1, 16], opt: [4, 16], max: [8, 16] } }],
      });
      expect((await session.run({ x: randomTensor([8, 16], 1) })).y!.shape).toEqual([8, 8]);
      await expectError(
        () => session.run({ x: randomTensor([9, 16], 1) }),
        ArgumentRangeError,
        'ERR_SHAPE',
        'Expected shapes within one of options.profiles (profile 0: x [1, 16] to [8, 16]) for feeds but received x [9, 16]',
      );
      expect(session.batcher().maxBatchSize).toBe(8);
    });

    it('BAD CALL - profiles that do not fit the model', async () => {
      await expectError(
        () =>
          InferenceSession.create(mlpModel(), {
            backend: 'cpu',
            profiles: [{ x: { min: [4, 16], opt: [2, 16], max: [8, 16] } }],
          }),
        ArgumentRangeError,
        'ERR_SHAPE',
        'Expected min <= opt <= max in every dimension of options.profiles[0].x but dimension 0 has min 4, opt 2, max 8',
      );
      await expectError(
        () =>
          InferenceSession.create(mlpModel(), { backend: 'cpu', profiles: [{ y: { min: [1, 8], opt: [1, 8], max: [1, 8] } }] }),
        ArgumentRangeError,
        'ERR_INVALID_ARGUMENT',
        'Expected only input names of the model ("x") in options.profiles[0] but received "y" (did you mean "x"?)',
      );
      await expectError(
        () => InferenceSession.create(mlpModel(), { backend: 'cpu', profiles: [{}] }),
        ArgumentRangeError,
        'ERR_SHAPE',
        'Expected bounds for every dynamic input in options.profiles[0] but received none for "x" [-1, 16]',
      );
      await expectError(
        () =>
          InferenceSession.create(mlpModel(), { backend: 'cpu', profiles: [{ x: { min: [1, 8], opt: [1, 16], max: [1, 16] } }] }),
        ArgumentRangeError,
        'ERR_SHAPE',
        'Expected dimension 1 of options.profiles[0].x.min to be 16, as the model fixes it (input shape [-1, 16]), but received [1, 8]',
      );
    });
  });

  describe('BAD CALL - create', () => {
    it('unknown options get a suggestion', async () => {
      await expectError(
        () => InferenceSession.create(mlpModel(), { context: 2 } as never),
        ArgumentRangeError,
        'ERR_UNKNOWN_OPTION',
        /^Unknown option "context" in options \(did you mean "contexts"\?\); known options: backend, precision/,
      );
      await expectError(
        () => InferenceSession.create(mlpModel(), { backend: 'cpu', cpu: { intraOpThreads: 1 } } as never),
        ArgumentRangeError,
        'ERR_UNKNOWN_OPTION',
        /^Unknown option "intraOpThreads" in options.cpu \(did you mean "intraOpNumThreads"\?\)/,
      );
    });
    it('wrong values and types', async () => {
      await expectError(
        () => InferenceSession.create(mlpModel(), { backend: 'gpu' } as never),
        ArgumentRangeError,
        'ERR_INVALID_ARGUMENT',
        'Expected one of "auto", "tensorrt", "cpu" for options.backend but received "gpu" of type string (did you mean "cpu"?)',
      );
      await expectError(
        () => InferenceSession.create(mlpModel(), { contexts: 0 }),
        ArgumentRangeError,
        'ERR_INVALID_ARGUMENT',
        'Expected an integer between 1 and 64 for options.contexts but received 0 of type number',
      );
      await expectError(
        () => InferenceSession.create(42 as never),
        ArgumentTypeError,
        'ERR_INVALID_ARGUMENT',
        'Expected a model path, bytes or an OnnxModel for model but received 42 of type number',
      );
    });
    it('options the cpu backend cannot honour when asked for by name', async () => {
      await expectError(
        () => InferenceSession.create(mlpModel(), { backend: 'cpu', cudaGraph: true }),
        TensorRTNodeError,
        'ERR_NOT_SUPPORTED',
        'options.cudaGraph applies to the tensorrt backend only, but backend "cpu" was asked for by name (with backend "auto" it is ignored where TensorRT is not usable)',
      );
      await expectError(
        () => InferenceSession.create(mlpModel(), { backend: 'cpu', precision: 'int8' }),
        TensorRTNodeError,
        'ERR_INVALID_ARGUMENT',
        'Expected calibration data (options.calibration: feeds, a folder of samples or { random: N }) for precision "int8" but received undefined',
      );
      await expectError(
        () => InferenceSession.create('detector.engine', { backend: 'cpu' }),
        TensorRTNodeError,
        'ERR_NOT_SUPPORTED',
        'detector.engine is a TensorRT engine, which only the tensorrt backend runs; give the cpu backend the ONNX model it was built from',
      );
    });
  });

  describe('BAD CALL - run', () => {
    it('unknown, missing and extra feed names', async () => {
      await expectError(
        () => mlp.run({ xx: randomTensor([1, 16], 1) } as never),
        ArgumentRangeError,
        'ERR_INVALID_ARGUMENT',
        'Expected only input names of the model ("x") in feeds but received "xx" (did you mean "x"?)',
      );
      await expectError(
        () => mlp.run({} as never),
        ArgumentRangeError,
        'ERR_INVALID_ARGUMENT',
        'Expected a tensor for every input of the model ("x") in feeds but received none for "x"',
      );
      await expectError(
        () => mlp.run({ x: randomTensor([1, 16], 1), label: randomTensor([1], 1) } as never),
        ArgumentRangeError,
        'ERR_INVALID_ARGUMENT',
        'Expected only input names of the model ("x") in feeds but received "label"',
      );
    });
    it('wrong dtypes and sizes', async () => {
      await expectError(
        () => mlp.run({ x: { data: new Float64Array(16), shape: [1, 16] } } as never),
        ArgumentTypeError,
        'ERR_DTYPE',
        'Expected a Float32Array for input "x" (float32) but received a Float64Array of length 16',
      );
      await expectError(
        () => mlp.run({ x: { data: new Float32Array(15), shape: [1, 16] } }),
        ArgumentRangeError,
        'ERR_SHAPE',
        'Expected 16 elements (shape [1, 16]) for input "x" but received a Float32Array of length 15',
      );
      await expectError(
        () => mlp.run({ x: { data: new Float32Array(16), shape: [16] } }),
        ArgumentRangeError,
        'ERR_SHAPE',
        'Expected a shape of rank 2 (model shape [-1, 16]) for input "x" but received [16]',
      );
      await expectError(
        () => mlp.run({ x: { data: ['a'] as never, shape: [1, 1] } }),
        ArgumentTypeError,
        'ERR_DTYPE',
        'Expected numbers in the data of input "x" (float32) but received "a" of type string at index 0',
      );
      await expectError(
        () => mlp.run({ x: new Float32Array(16) }),
        ArgumentTypeError,
        'ERR_SHAPE',
        'Expected a Tensor or { data, shape } for input "x", whose model shape [-1, 16] has dynamic dims, but received a Float32Array of length 16 without a shape',
      );
      await expectError(
        () => mlp.run({ x: { dtype: 'float16', data: new Uint16Array(16), shape: [1, 16] } } as never),
        ArgumentTypeError,
        'ERR_DTYPE',
        'Expected dtype "float32" for input "x" but received "float16" of type string',
      );
    });
    it('bad options', async () => {
      await expectError(
        () => mlp.run({ x: randomTensor([1, 16], 1) }, { timeout: 5 } as never),
        ArgumentRangeError,
        'ERR_UNKNOWN_OPTION',
        /^Unknown option "timeout" in options \(did you mean "timeoutMs"\?\)/,
      );
      await expectError(
        () => mlp.run({ x: randomTensor([1, 16], 1) }, { timeoutMs: -1 }),
        ArgumentRangeError,
        'ERR_INVALID_ARGUMENT',
        'Expected a number of milliseconds up to 2147483647 (about 24.8 days, the longest a timer can wait) or Infinity for no limit for options.timeoutMs but received -1 of type number',
      );
      await expectError(
        () => mlp.run({ x: randomTensor([1, 16], 1) }, { signal: {} as AbortSignal }),
        ArgumentTypeError,
        'ERR_INVALID_ARGUMENT',
        'Expected an AbortSignal for options.signal but received an object',
      );
      await expectError(
        () => mlp.run({ x: randomTensor([1, 16], 1) }, { outputs: ['z'] as never }),
        ArgumentRangeError,
        'ERR_INVALID_ARGUMENT',
        'Expected only output names of the model ("y") in options.outputs but received "z" (did you mean "y"?)',
      );
    });
  });
});
