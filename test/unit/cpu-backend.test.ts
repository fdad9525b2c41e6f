import ort from 'onnxruntime-node';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCpuBackend, type CpuBackend } from '../../lib/backends/cpu/backend.js';
import { ArgumentRangeError, ArgumentTypeError, OnnxError, TensorRTNodeError } from '../../lib/core/errors.js';
import { serializeModel } from '../../lib/onnx/model.js';
import type { HostTensor } from '../../lib/core/dtypes.js';
import { expectError } from '../helpers/expect-error.js';
import { chainModel, mlpModel, randomTensor, temporaryFolder } from '../helpers/onnx-fixtures.js';

describe('cpu backend', () => {
  let mlp: CpuBackend;
  let chain: CpuBackend;
  let rawSession: ort.InferenceSession;

  beforeAll(async () => {
    mlp = await createCpuBackend(mlpModel(), { intraOpNumThreads: 1 });
    chain = await createCpuBackend(chainModel(), { intraOpNumThreads: 1 });
    rawSession = await ort.InferenceSession.create(serializeModel(mlpModel()), { intraOpNumThreads: 1 });
  });
  afterAll(async () => {
    await mlp?.dispose();
    await chain?.dispose();
    await rawSession?.release();
  });

  it('describes inputs and outputs, with dynamic dims as -1 and their symbolic names', () => {
    expect(mlp.kind).toBe('cpu');
    expect(mlp.inputs).toEqual([{ name: 'x', dtype: 'float32', shape: [-1, 16], dimNames: ['batch', null] }]);
    expect(mlp.outputs).toEqual([{ name: 'y', dtype: 'float32', shape: [-1, 8], dimNames: ['batch', null] }]);
    expect(Object.isFrozen(mlp.inputs)).toBe(true);
  });

  it('gives the same results as onnxruntime-node run directly', async () => {
    const x = randomTensor([3, 16], 11);
    const ours = await mlp.run({ x });
    const theirs = await rawSession.run({ x: new ort.Tensor('float32', x.data.slice(), [3, 16]) });
    expect(ours.y!.shape).toEqual([3, 8]);
    expect(ours.y!.dtype).toBe('float32');
    expect(ours.y!.data).toEqual(theirs.y!.data);
  });

  it('loads from a path, bytes and an OnnxModel alike', async () => {
    const folder = temporaryFolder();
    writeFileSync(join(folder, 'mlp.onnx'), serializeModel(mlpModel()));
    const x = randomTensor([1, 16], 12);
    const expected = (await mlp.run({ x })).y!.data;
    for (const source of [join(folder, 'mlp.onnx'), serializeModel(mlpModel())]) {
      await using backend = await createCpuBackend(source);
      expect((await backend.run({ x })).y!.data).toEqual(expected);
    }
  });

  it('queues concurrent runs and gives each caller its own result', async () => {
    const inputs = Array.from({ length: 6 }, (_, index) => randomTensor([2, 16], 100 + index));
    const expected: Float32Array[] = [];
    for (const x of inputs) expected.push((await mlp.run({ x })).y!.data as Float32Array);
    const concurrent = await Promise.all(inputs.map((x) => mlp.run({ x })));
    concurrent.forEach((result, index) => expect(result.y!.data).toEqual(expected[index]));
  });

  it("never touches the caller's arrays, and takes SharedArrayBuffer feeds without a copy on this thread", async () => {
    const x = randomTensor([2, 16], 13);
    const before = x.data.slice();
    const result = await mlp.run({ x });
    expect(x.data.byteLength).toBe(before.byteLength);
    expect(x.data).toEqual(before);
    const shared = new Float32Array(new SharedArrayBuffer(x.data.byteLength));
    shared.set(x.data);
    expect((await mlp.run({ x: { dtype: 'float32', shape: [2, 16], data: shared } })).y!.data).toEqual(result.y!.data);
  });

  it('returns only the outputs asked for', async () => {
    const model = mlpModel();
    model.proto.graph!.output.push({ ...model.proto.graph!.valueInfo[0]! });
    await using backend = await createCpuBackend(model);
    expect(backend.outputs.map((output) => output.name)).toEqual(['y', 'fc1_out']);
    const result = await backend.run({ x: randomTensor([1, 16], 14) }, { outputs: ['fc1_out'] });
    expect(Object.keys(result)).toEqual(['fc1_out']);
    expect(result.fc1_out!.shape).toEqual([1, 32]);
  });

  it('aborts: before start (no work), while queued (removed), while running (prompt rejection, backend stays usable)', async () => {
    const aborted = AbortSignal.abort(new Error('user gave up'));
    await expectError(
      () => chain.run({ x: randomTensor([4, 256], 1) }, { signal: aborted }),
      TensorRTNodeError,
      'ERR_ABORTED',
      'The run was aborted (user gave up)',
    );

    const big = randomTensor([4096, 256], 2);
    const bigStarted = performance.now();
    const running = chain.run({ x: big }).then((result) => ({ result, milliseconds: performance.now() - bigStarted }));
    const controller = new AbortController();
    const queued = chain.run({ x: randomTensor([4, 256], 3) }, { signal: controller.signal });
    controller.abort('not needed');
    await expectError(() => queued, TensorRTNodeError, 'ERR_ABORTED', 'The run was aborted (not needed)');
    const { result, milliseconds: fullRun } = await running;
    expect(result.y!.shape).toEqual([4096, 256]);

    const inFlight = new AbortController();
    const started = performance.now();
    const slow = chain.run({ x: big }, { signal: inFlight.signal });
    setTimeout(() => inFlight.abort(new Error('timeout')), 5);
    await expectError(() => slow, TensorRTNodeError, 'ERR_ABORTED', 'The run was aborted (timeout)');
    const rejectedAfter = performance.now() - started;
    // Rejected long before the worker could have finished the run it was busy with.
    expect(rejectedAfter).toBeLessThan(fullRun / 2);
    const after = await chain.run({ x: randomTensor([4, 256], 4) });
    expect(after.y!.shape).toEqual([4, 256]);
  });

  it('disposes: the running call completes, queued calls get ERR_DISPOSED, dispose is idempotent, later runs get ERR_DISPOSED', async () => {
    const backend = await createCpuBackend(chainModel(), { intraOpNumThreads: 1 });
    const running = backend.run({ x: randomTensor([2048, 256], 5) });
    const queued = backend.run({ x: randomTensor([4, 256], 6) });
    const queuedOutcome = queued.then(
      () => 'resolved',
      (error: TensorRTNodeError) => `${error.code}: ${error.message}`,
    );
    const disposing = backend.dispose();
    expect(backend.disposed).toBe(true);
    expect(backend.dispose()).toBe(disposing);
    expect((await running).y!.shape).toEqual([2048, 256]);
    expect(await queuedOutcome).toBe(
      'ERR_DISPOSED: Expected a cpu backend that is not disposed for run() but received a disposed one',
    );
    await disposing;
    await backend.dispose();
    await expectError(
      () => backend.run({ x: randomTensor([1, 256], 7) }),
      TensorRTNodeError,
      'ERR_DISPOSED',
      'Expected a cpu backend that is not disposed for run() but received a disposed one',
    );
  });

  it.runIf(process.platform === 'linux')(
    'niceness lowers the priority of the inference threads and never of the event loop',
    async () => {
      const niceValues = () =>
        new Map(
          readdirSync('/proc/self/task').map((tid) => {
            const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
            return [Number(tid), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])] as const;
          }),
        );
      const atSeven = () => [...niceValues()].filter(([, nice]) => nice === 7).length;
      expect(atSeven()).toBe(0);
      const backend = await createCpuBackend(mlpModel(), { niceness: 7, intraOpNumThreads: 2 });
      await backend.run({ x: randomTensor([1, 16], 1) });
      expect(niceValues().get(process.pid)).toBe(0);
      // The worker thread and onnxruntime's pool thread run at 7.
      expect(atSeven()).toBeGreaterThanOrEqual(2);
      // Such a worker is not kept for another backend (its priority cannot be raised back): it exits.
      await backend.dispose();
      expect(atSeven()).toBe(0);
    },
  );

  describe('BAD CALL - feeds', () => {
    const x = (): HostTensor => randomTensor([2, 16], 1);
    it('an unknown input name gets a suggestion', async () => {
      await expectError(
        () => mlp.run({ x: x(), xx: x() }),
        ArgumentRangeError,
        'ERR_INVALID_ARGUMENT',
        'Expected only input names of the model ("x") in feeds but received "xx" (did you mean "x"?)',
      );
    });
    it('a missing input', async () => {
      await expectError(
        () => mlp.run({}),
        ArgumentRangeError,
        'ERR_INVALID_ARGUMENT',
        'Expected a tensor for every input of the model ("x") in feeds but received none for "x"',
      );
    });
    it('feeds that are not an object, a tensor that is a bare TypedArray', async () => {
      await expectError(
        () => mlp.run(null as never),
        ArgumentTypeError,
        'ERR_INVALID_ARGUMENT',
        'Expected an object mapping input names to tensors for feeds but received null',
      );
      await expectError(
        () => mlp.run({ x: new Float32Array(32) } as never),
        ArgumentTypeError,
        'ERR_INVALID_ARGUMENT',
        'Expected a tensor ({ dtype, shape, data }) for input "x" but received a Float32Array of length 32',
      );
    });
    it('the wrong dtype, and a Float64Array for a float32 input', async () => {
      await expectError(
        () => mlp.run({ x: { ...x(), dtype: 'float16' } as never }),
        ArgumentTypeError,
        'ERR_DTYPE',
        'Expected dtype "float32" for input "x" but received "float16" of type string',
      );
      await expectError(
        () => mlp.run({ x: { dtype: 'float32', shape: [2, 16], data: new Float64Array(32) } as never }),
        ArgumentTypeError,
        'ERR_DTYPE',
        'Expected a Float32Array for input "x" (float32) but received a Float64Array of length 32',
      );
    });
    it('the wrong rank, a wrong fixed dim, the wrong element count, a negative dim', async () => {
      await expectError(
        () => mlp.run({ x: { dtype: 'float32', shape: [32], data: new Float32Array(32) } }),
        ArgumentRangeError,
        'ERR_SHAPE',
        'Expected a shape of rank 2 (model shape [-1, 16]) for input "x" but received [32]',
      );
      await expectError(
        () => mlp.run({ x: { dtype: 'float32', shape: [4, 8], data: new Float32Array(32) } }),
        ArgumentRangeError,
        'ERR_SHAPE',
        'Expected 16 at dim 1 (model shape [-1, 16]) for input "x" but received [4, 8]',
      );
      await expectError(
        () => mlp.run({ x: { dtype: 'float32', shape: [3, 16], data: new Float32Array(32) } }),
        ArgumentRangeError,
        'ERR_SHAPE',
        'Expected 48 elements (shape [3, 16]) for input "x" but received a Float32Array of length 32',
      );
      await expectError(
        () => mlp.run({ x: { dtype: 'float32', shape: [-2, 16], data: new Float32Array(32) } }),
        ArgumentRangeError,
        'ERR_SHAPE',
        'Expected a non-negative integer at dim 0 for input "x" but received -2 of type number',
      );
    });
    it('run options: unknown outputs, a non-signal, an unknown option', async () => {
      await expectError(
        () => mlp.run({ x: x() }, { outputs: ['logits'] }),
        ArgumentRangeError,
        'ERR_INVALID_ARGUMENT',
        'Expected only output names of the model ("y") in options.outputs but received "logits"',
      );
      await expectError(
        () => mlp.run({ x: x() }, { signal: 'stop' as never }),
        ArgumentTypeError,
        'ERR_INVALID_ARGUMENT',
        'Expected an AbortSignal for options.signal but received "stop" of type string',
      );
      await expectError(
        () => mlp.run({ x: x() }, { singal: 1 } as never),
        ArgumentRangeError,
        'ERR_UNKNOWN_OPTION',
        'Unknown option "singal" in options (did you mean "signal"?); known options: signal, outputs',
      );
    });
  });

  describe('BAD CALL - creation', () => {
    it('options of the wrong type or value', async () => {
      await expectError(
        () => createCpuBackend(mlpModel(), { intraOpNumThreads: -1 }),
        ArgumentRangeError,
        'ERR_INVALID_ARGUMENT',
        'Expected an integer between 0 and 1024 for options.intraOpNumThreads but received -1 of type number',
      );
      await expectError(
        () => createCpuBackend(mlpModel(), { graphOptimizationLevel: 'al' as never }),
        ArgumentRangeError,
        'ERR_INVALID_ARGUMENT',
        'Expected one of "disabled", "basic", "extended", "all" for options.graphOptimizationLevel but received "al" of type string (did you mean "all"?)',
      );
      await expectError(
        () => createCpuBackend(mlpModel(), { niceness: 20 }),
        ArgumentRangeError,
        'ERR_INVALID_ARGUMENT',
        'Expected an integer between 0 and 19 for options.niceness but received 20 of type number',
      );
      await expectError(
        () => createCpuBackend(mlpModel(), { spinWait: 1 } as never),
        ArgumentTypeError,
        'ERR_INVALID_ARGUMENT',
        'Expected a boolean for options.spinWait but received 1 of type number',
      );
      await expectError(
        () => createCpuBackend(mlpModel(), { threads: 2 } as never),
        ArgumentRangeError,
        'ERR_UNKNOWN_OPTION',
        /^Unknown option "threads" in options; known options: intraOpNumThreads/,
      );
      await expectError(
        () => createCpuBackend(42 as never),
        ArgumentTypeError,
        'ERR_INVALID_ARGUMENT',
        'Expected a model path, bytes or an OnnxModel for model but received 42 of type number',
      );
    });
    it('a file that is not a model, and a model onnxruntime refuses, reject with ERR_ONNX', async () => {
      const folder = temporaryFolder();
      writeFileSync(join(folder, 'garbage.onnx'), 'not a model');
      await expectError(
        () => createCpuBackend(join(folder, 'garbage.onnx')),
        OnnxError,
        'ERR_ONNX',
        /^Expected an ONNX model \(ModelProto protobuf\) for .*garbage\.onnx but received bytes that are not valid protobuf/,
      );
      const broken = mlpModel();
      broken.proto.graph!.node[0]!.opType = 'NoSuchOp';
      await expectError(() => createCpuBackend(broken), OnnxError, 'ERR_ONNX', /^onnxruntime could not load <mlp>: .*NoSuchOp/);
    });
  });
});
