/** The cpu backend: creation, feeds, run options, disposal and misuse while runs are in flight. */
import { join } from 'node:path';
import { createCpuBackend, type CpuBackend, type HostTensor } from '../../../lib/index.js';
import { ArgumentRangeError, ArgumentTypeError, OnnxError, TensorRTNodeError } from '../../../lib/core/errors.js';
import { packageRoot } from '../../../lib/addon/loader.js';
import { row, type MatrixContext, type MatrixTable } from '../matrix.js';

const T = ArgumentTypeError;
const R = ArgumentRangeError;
const never = <V>(value: unknown) => value as V;
const mlp = join(packageRoot, 'test', 'fixtures', 'models', 'mlp.onnx');
const x = (batch = 2): HostTensor => ({ dtype: 'float32', shape: [batch, 16], data: new Float32Array(batch * 16) });

/** One live backend for the run (mlp: x [batch, 16] -> y [batch, 8]). */
function backend(context: MatrixContext): Promise<CpuBackend> {
  return context.once(
    'cpu-backend',
    () => createCpuBackend(mlp, { intraOpNumThreads: 1 }),
    (live) => live.dispose(),
  );
}

function disposedBackend(context: MatrixContext): Promise<CpuBackend> {
  return context.once('cpu-backend-disposed', async () => {
    const gone = await createCpuBackend(mlp, { intraOpNumThreads: 1 });
    await Promise.all([gone.dispose(), gone.dispose()]); // idempotent, even concurrently
    return gone;
  });
}

/** dispose() while one run executes and another waits: the waiting one is refused. */
async function runQueuedBehindDispose(): Promise<unknown> {
  const victim = await createCpuBackend(mlp, { intraOpNumThreads: 1 });
  const running = victim.run({ x: x(64) });
  const queued = victim.run({ x: x() });
  const disposing = victim.dispose();
  try {
    return await queued;
  } finally {
    await running; // the executing run still delivers its result
    await disposing;
  }
}

/** A run aborted while it waits behind another run. */
async function abortWhileQueued(context: MatrixContext): Promise<unknown> {
  const live = await backend(context);
  const controller = new AbortController();
  const first = live.run({ x: x(64) });
  const second = live.run({ x: x() }, { signal: controller.signal });
  controller.abort(new Error('deadline passed'));
  try {
    return await second;
  } finally {
    await first;
  }
}

export const cpuBackendTable: MatrixTable = {
  surface: 'cpu backend',
  rows: [
    row('create() of a number', () => createCpuBackend(never(1)), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected a model path, bytes or an OnnxModel for model but received 1 of type number',
    ]),
    row('create() of an empty path', () => createCpuBackend(''), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected a model path, bytes or an OnnxModel for model but received "" of type string',
    ]),
    row('create() of bytes that are not a model', () => createCpuBackend(new Uint8Array([8, 1])), [
      OnnxError,
      'ERR_ONNX',
      'Expected an ONNX model (ModelProto protobuf) for <bytes> but received a protobuf message with no graph',
    ]),
    row('create() of a path that does not exist', (context) => createCpuBackend(join(context.folder, 'gone.onnx')), [
      OnnxError,
      'ERR_IO',
      /^Expected a readable ONNX model file for \/.*\/gone\.onnx but received a path that does not exist$/,
    ]),
    row('create() with a misspelled option', () => createCpuBackend(mlp, never({ intraOpThreads: 1 })), [
      R,
      'ERR_UNKNOWN_OPTION',
      'Unknown option "intraOpThreads" in options (did you mean "intraOpNumThreads"?); known options: intraOpNumThreads, interOpNumThreads, graphOptimizationLevel, executionMode, enableCpuMemArena, spinWait, niceness',
    ]),
    row('create() with -1 threads', () => createCpuBackend(mlp, { intraOpNumThreads: -1 }), [
      R,
      'ERR_INVALID_ARGUMENT',
      'Expected an integer between 0 and 1024 for options.intraOpNumThreads but received -1 of type number',
    ]),
    row('create() with 2000 threads', () => createCpuBackend(mlp, { interOpNumThreads: 2000 }), [
      R,
      'ERR_INVALID_ARGUMENT',
      'Expected an integer between 0 and 1024 for options.interOpNumThreads but received 2000 of type number',
    ]),
    row('create() with a fractional thread count', () => createCpuBackend(mlp, { intraOpNumThreads: 1.5 }), [
      R,
      'ERR_INVALID_ARGUMENT',
      'Expected an integer between 0 and 1024 for options.intraOpNumThreads but received 1.5 of type number',
    ]),
    row('create() with a misspelled optimization level', () => createCpuBackend(mlp, never({ graphOptimizationLevel: 'al' })), [
      R,
      'ERR_INVALID_ARGUMENT',
      'Expected one of "disabled", "basic", "extended", "all" for options.graphOptimizationLevel but received "al" of type string (did you mean "all"?)',
    ]),
    row('create() with niceness 20', () => createCpuBackend(mlp, { niceness: 20 }), [
      R,
      'ERR_INVALID_ARGUMENT',
      'Expected an integer between 0 and 19 for options.niceness but received 20 of type number',
    ]),
    row('create() with a string for spinWait', () => createCpuBackend(mlp, never({ spinWait: 'no' })), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected a boolean for options.spinWait but received "no" of type string',
    ]),
    row('run() with null feeds', async (context) => (await backend(context)).run(never(null)), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected an object mapping input names to tensors for feeds but received null',
    ]),
    row('run() with an array of feeds', async (context) => (await backend(context)).run(never([x()])), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected an object mapping input names to tensors for feeds but received an array of length 1',
    ]),
    row('run() with a misspelled input name', async (context) => (await backend(context)).run(never({ X: x() })), [
      R,
      'ERR_INVALID_ARGUMENT',
      'Expected only input names of the model ("x") in feeds but received "X" (did you mean "x"?)',
    ]),
    row('run() without its input', async (context) => (await backend(context)).run({}), [
      R,
      'ERR_INVALID_ARGUMENT',
      'Expected a tensor for every input of the model ("x") in feeds but received none for "x"',
    ]),
    row(
      'run() with a bare TypedArray as a tensor',
      async (context) => (await backend(context)).run(never({ x: new Float32Array(32) })),
      [
        T,
        'ERR_INVALID_ARGUMENT',
        'Expected a tensor ({ dtype, shape, data }) for input "x" but received a Float32Array of length 32',
      ],
    ),
    row(
      'run() with a wrong dtype',
      async (context) => (await backend(context)).run({ x: { ...x(), dtype: 'float64', data: new Float64Array(32) } }),
      [T, 'ERR_DTYPE', 'Expected dtype "float32" for input "x" but received "float64" of type string'],
    ),
    row(
      'run() with a Float64Array for a float32 input',
      async (context) => (await backend(context)).run(never({ x: { ...x(), data: new Float64Array(32) } })),
      [T, 'ERR_DTYPE', 'Expected a Float32Array for input "x" (float32) but received a Float64Array of length 32'],
    ),
    row('run() with a wrong rank', async (context) => (await backend(context)).run({ x: { ...x(), shape: [32] } }), [
      R,
      'ERR_SHAPE',
      'Expected a shape of rank 2 (model shape [-1, 16]) for input "x" but received [32]',
    ]),
    row('run() with a wrong fixed dim', async (context) => (await backend(context)).run({ x: { ...x(), shape: [1, 32] } }), [
      R,
      'ERR_SHAPE',
      'Expected 16 at dim 1 (model shape [-1, 16]) for input "x" but received [1, 32]',
    ]),
    row('run() with a NaN dim', async (context) => (await backend(context)).run({ x: { ...x(), shape: [NaN, 16] } }), [
      R,
      'ERR_SHAPE',
      'Expected a non-negative integer at dim 0 for input "x" but received NaN of type number',
    ]),
    row('run() with a negative dim', async (context) => (await backend(context)).run({ x: { ...x(), shape: [-2, 16] } }), [
      R,
      'ERR_SHAPE',
      'Expected a non-negative integer at dim 0 for input "x" but received -2 of type number',
    ]),
    row('run() with a fractional dim', async (context) => (await backend(context)).run({ x: { ...x(), shape: [1.5, 16] } }), [
      R,
      'ERR_SHAPE',
      'Expected a non-negative integer at dim 0 for input "x" but received 1.5 of type number',
    ]),
    row(
      'run() with fewer elements than its shape',
      async (context) => (await backend(context)).run({ x: { ...x(), shape: [3, 16] } }),
      [R, 'ERR_SHAPE', 'Expected 48 elements (shape [3, 16]) for input "x" but received a Float32Array of length 32'],
    ),
    row(
      'run() with an empty batch of the wrong length',
      async (context) => (await backend(context)).run({ x: { ...x(), shape: [0, 16] } }),
      [R, 'ERR_SHAPE', 'Expected 0 elements (shape [0, 16]) for input "x" but received a Float32Array of length 32'],
    ),
    row(
      'run() with a misspelled option',
      async (context) => (await backend(context)).run({ x: x() }, never({ outptus: ['y'] })),
      [R, 'ERR_UNKNOWN_OPTION', 'Unknown option "outptus" in options (did you mean "outputs"?); known options: signal, outputs'],
    ),
    row('run() with an empty outputs list', async (context) => (await backend(context)).run({ x: x() }, { outputs: [] }), [
      R,
      'ERR_INVALID_ARGUMENT',
      'Expected at least one output name for options.outputs but received an empty array',
    ]),
    row('run() with a misspelled output', async (context) => (await backend(context)).run({ x: x() }, { outputs: ['yy'] }), [
      R,
      'ERR_INVALID_ARGUMENT',
      'Expected only output names of the model ("y") in options.outputs but received "yy" (did you mean "y"?)',
    ]),
    row('run() with a string for outputs', async (context) => (await backend(context)).run({ x: x() }, never({ outputs: 'y' })), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected an array of output names for options.outputs but received "y" of type string',
    ]),
    row(
      'run() with a plain object for signal',
      async (context) => (await backend(context)).run({ x: x() }, never({ signal: { aborted: true } })),
      [T, 'ERR_INVALID_ARGUMENT', 'Expected an AbortSignal for options.signal but received an object'],
    ),
    row(
      'run() with an aborted signal',
      async (context) => (await backend(context)).run({ x: x() }, { signal: AbortSignal.abort(new Error('user left')) }),
      [TensorRTNodeError, 'ERR_ABORTED', 'The run was aborted (user left)'],
    ),
    row('run() aborted while queued behind another run', abortWhileQueued, [
      TensorRTNodeError,
      'ERR_ABORTED',
      'The run was aborted (deadline passed)',
    ]),
    row('run() queued when dispose() is called', () => runQueuedBehindDispose(), [
      TensorRTNodeError,
      'ERR_DISPOSED',
      'Expected a cpu backend that is not disposed for run() but received a disposed one',
    ]),
    row('run() after dispose()', async (context) => (await disposedBackend(context)).run({ x: x() }), [
      TensorRTNodeError,
      'ERR_DISPOSED',
      'Expected a cpu backend that is not disposed for run() but received a disposed one',
    ]),
  ],
};
