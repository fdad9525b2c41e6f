/** Tensor, copy(), the preprocessing operations and the cuda namespace's argument checks. */
import { cuda, Tensor, copy, preprocessImageCpu, imagePreprocessParams } from '../../../lib/index.js';
import { convertFloat, memset, preprocessImage } from '../../../lib/cuda/index.js';
import { ArgumentRangeError, ArgumentTypeError, TensorRTNodeError } from '../../../lib/core/errors.js';
import { row, type MatrixContext, type MatrixTable } from '../matrix.js';

const T = ArgumentTypeError;
const R = ArgumentRangeError;
const never = <V>(value: unknown) => value as V;

function host(context: MatrixContext, dtype: 'float32' | 'float16' | 'uint8' | 'int32' = 'float32', shape = [2, 3]): Tensor {
  return context.once(`host-${dtype}-${shape.join('x')}`, () => Tensor.allocate(dtype, shape));
}

function disposed(context: MatrixContext): Tensor {
  return context.once('disposed-tensor', () => {
    const tensor = Tensor.allocate('float32', [2, 3]);
    tensor.dispose();
    tensor.dispose(); // idempotent
    return tensor;
  });
}

export const tensorTable: MatrixTable = {
  surface: 'Tensor',
  rows: [
    row('allocate() with an unknown dtype', () => Tensor.allocate(never<'float32'>('float33'), [1]), [
      R,
      'ERR_DTYPE',
      'Expected one of "float32", "float16", "bfloat16", "float64", "int8", "uint8", "int32", "int64", "bool", "fp8e4m3" for dtype but received "float33" of type string',
    ]),
    row('allocate() with a number for dtype', () => Tensor.allocate(never<'float32'>(1), [1]), [
      T,
      'ERR_DTYPE',
      'Expected one of "float32", "float16", "bfloat16", "float64", "int8", "uint8", "int32", "int64", "bool", "fp8e4m3" for dtype but received 1 of type number',
    ]),
    row('allocate() with a string for shape', () => Tensor.allocate('float32', never('2x3')), [
      T,
      'ERR_SHAPE',
      'Expected an array of dimensions for shape but received "2x3" of type string',
    ]),
    row('allocate() with a negative dim', () => Tensor.allocate('float32', [2, -3]), [
      R,
      'ERR_SHAPE',
      'Expected a non-negative integer for shape[1] but received -3 of type number',
    ]),
    row('allocate() with a fractional dim', () => Tensor.allocate('float32', [2.5]), [
      R,
      'ERR_SHAPE',
      'Expected a non-negative integer for shape[0] but received 2.5 of type number',
    ]),
    row('allocate() with a NaN dim', () => Tensor.allocate('float32', [NaN]), [
      R,
      'ERR_SHAPE',
      'Expected a non-negative integer for shape[0] but received NaN of type number',
    ]),
    row('allocate() with an Infinity dim', () => Tensor.allocate('float32', [Infinity]), [
      R,
      'ERR_SHAPE',
      'Expected a non-negative integer for shape[0] but received Infinity of type number',
    ]),
    row('allocate() whose element count overflows', () => Tensor.allocate('float32', [2 ** 27, 2 ** 27]), [
      R,
      'ERR_SHAPE',
      'The element count of shape [134217728, 134217728] overflows',
    ]),
    row('allocate() whose byte length overflows', () => Tensor.allocate('float64', [2 ** 51]), [
      R,
      'ERR_SHAPE',
      'The byte length of shape [2251799813685248] (float64) overflows',
    ]),
    // V8's own reason for the refused allocation differs under AddressSanitizer: matched loosely.
    row('allocate() of 4 TiB of host memory', () => Tensor.allocate('float32', [2 ** 40]), [
      TensorRTNodeError,
      'ERR_OUT_OF_MEMORY',
      /^Could not allocate 4398046511104 bytes of host memory for a float32 tensor: .+$/,
    ]),
    row('allocate() with a number for options', () => Tensor.allocate('float32', [1], never(7)), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected an object for options but received 7 of type number',
    ]),
    row('allocate() with a misspelled option', () => Tensor.allocate('float32', [1], never({ locaton: 'host' })), [
      R,
      'ERR_UNKNOWN_OPTION',
      'Unknown option "locaton" in options (did you mean "location"?); known options: location, device, stream',
    ]),
    row('allocate() with an unknown location', () => Tensor.allocate('float32', [1], never({ location: 'gpu' })), [
      R,
      'ERR_INVALID_ARGUMENT',
      'Expected one of "host", "pinned", "device" for options.location but received "gpu" of type string',
    ]),
    row('allocate() with a misspelled location', () => Tensor.allocate('float32', [1], never({ location: 'pined' })), [
      R,
      'ERR_INVALID_ARGUMENT',
      'Expected one of "host", "pinned", "device" for options.location but received "pined" of type string (did you mean "pinned"?)',
    ]),
    row('allocate() of a host tensor with a device', () => Tensor.allocate('float32', [1], { location: 'host', device: 0 }), [
      R,
      'ERR_INVALID_ARGUMENT',
      'options.device and options.stream apply to device tensors only, but options.location is "host"',
    ]),
    row('allocate() with a negative device', () => Tensor.allocate('float32', [1], { location: 'device', device: -1 }), [
      R,
      'ERR_INVALID_ARGUMENT',
      'Expected an integer >= 0 for options.device but received -1 of type number',
    ]),
    row('allocate() with a fractional device', () => Tensor.allocate('float32', [1], { location: 'device', device: 0.5 }), [
      R,
      'ERR_INVALID_ARGUMENT',
      'Expected an integer >= 0 for options.device but received 0.5 of type number',
    ]),
    row(
      'allocate() with a plain object for options.stream',
      () => Tensor.allocate('float32', [1], never({ location: 'device', stream: {} })),
      [T, 'ERR_INVALID_ARGUMENT', 'Expected a CudaStream for options.stream but received an object'],
    ),
    row('fromArray() of a plain array', () => Tensor.fromArray(never([1, 2, 3])), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected a TypedArray for data but received an array of length 3',
    ]),
    row('fromArray() of a DataView', () => Tensor.fromArray(never(new DataView(new ArrayBuffer(4)))), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected a TypedArray for data but received a DataView of length 4',
    ]),
    row('fromArray() of a Uint16Array without a dtype', () => Tensor.fromArray(never(new Uint16Array(2))), [
      T,
      'ERR_DTYPE',
      'Expected options.dtype ("float16" or "bfloat16") for data, a Uint16Array, whose element type is ambiguous',
    ]),
    row('fromArray() of a Uint32Array', () => Tensor.fromArray(never(new Uint32Array(2))), [
      T,
      'ERR_DTYPE',
      'Expected a TypedArray of a supported dtype (Float32Array, Float64Array, Int8Array, Uint8Array, Int32Array, BigInt64Array, or Uint16Array with options.dtype) for data but received a Uint32Array of length 2',
    ]),
    row(
      'fromArray() with a dtype its array cannot hold',
      () => Tensor.fromArray(never(new Float32Array(2)), { dtype: 'int32' }),
      [T, 'ERR_DTYPE', 'Expected an Int32Array for data (options.dtype is int32) but received a Float32Array of length 2'],
    ),
    row('fromArray() with a shape of another element count', () => Tensor.fromArray(new Float32Array(6), { shape: [2, 2] }), [
      R,
      'ERR_SHAPE',
      'Expected 4 elements for data (shape [2, 2]) but received a Float32Array of length 6',
    ]),
    row('fromArray() with a negative dim in its shape', () => Tensor.fromArray(new Float32Array(6), { shape: [-2, -3] }), [
      R,
      'ERR_SHAPE',
      'Expected a non-negative integer for options.shape[0] but received -2 of type number',
    ]),
    row(
      'fromArray() with a misspelled option',
      () => Tensor.fromArray(new Float32Array(6), never<{ shape: number[] }>({ shap: [6] })),
      [
        R,
        'ERR_UNKNOWN_OPTION',
        'Unknown option "shap" in options (did you mean "shape"?); known options: location, device, stream, dtype, shape',
      ],
    ),
    row('.data of a disposed tensor', (context) => disposed(context).data, [
      TensorRTNodeError,
      'ERR_DISPOSED',
      'The tensor was disposed and can no longer be used',
    ]),
    row('.zeroCopy of a disposed tensor', (context) => disposed(context).zeroCopy, [
      TensorRTNodeError,
      'ERR_DISPOSED',
      'The tensor was disposed and can no longer be used',
    ]),
    row('toArray() of a disposed tensor', (context) => disposed(context).toArray(), [
      TensorRTNodeError,
      'ERR_DISPOSED',
      'The tensor was disposed and can no longer be used',
    ]),
    row('toArray() with a misspelled option', (context) => host(context).toArray(never({ straem: null })), [
      R,
      'ERR_UNKNOWN_OPTION',
      'Unknown option "straem" in options (did you mean "stream"?); known options: stream',
    ]),
    row('toArray() with a string for options.stream', (context) => host(context).toArray(never({ stream: 'default' })), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected a CudaStream for options.stream but received "default" of type string',
    ]),
  ],
};

export const tensorOperationsTable: MatrixTable = {
  surface: 'copy, preprocessImage, convertFloat, memset',
  rows: [
    row('copy() into a plain object', (context) => copy(never({}), host(context)), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected a Tensor for dst but received an object',
    ]),
    row('copy() from a TypedArray', (context) => copy(host(context), never(new Float32Array(6))), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected a Tensor for src but received a Float32Array of length 6',
    ]),
    row('copy() between dtypes', (context) => copy(host(context), host(context, 'int32')), [
      T,
      'ERR_DTYPE',
      'Expected a float32 tensor for src (the dtype of dst) but received an int32 tensor',
    ]),
    row('copy() between byte lengths', (context) => copy(host(context), host(context, 'float32', [3])), [
      R,
      'ERR_SHAPE',
      'Expected a tensor of 24 bytes for src (the byte length of dst) but received a tensor of 12 bytes',
    ]),
    row('copy() from a disposed tensor', (context) => copy(host(context), disposed(context)), [
      TensorRTNodeError,
      'ERR_DISPOSED',
      'Tensor src was disposed and can no longer be used',
    ]),
    row('copy() into a disposed tensor', (context) => copy(disposed(context), host(context)), [
      TensorRTNodeError,
      'ERR_DISPOSED',
      'Tensor dst was disposed and can no longer be used',
    ]),
    row('copy() with a misspelled option', (context) => copy(host(context), host(context), never({ streem: 1 })), [
      R,
      'ERR_UNKNOWN_OPTION',
      'Unknown option "streem" in options (did you mean "stream"?); known options: stream',
    ]),
    row(
      'preprocessImage() from a float32 image',
      (context) => preprocessImage(host(context, 'float32', [1, 3, 2, 2]), host(context, 'float32', [2, 2, 3])),
      [T, 'ERR_DTYPE', 'Expected a uint8 tensor for src but received a float32 tensor'],
    ),
    row(
      'preprocessImage() into an int32 tensor',
      (context) => preprocessImage(host(context, 'int32', [3, 2, 2]), host(context, 'uint8', [2, 2, 3])),
      [T, 'ERR_DTYPE', 'Expected a float32 or float16 tensor for dst but received an int32 tensor'],
    ),
    row(
      'preprocessImage() from a 2-dimensional image',
      (context) => preprocessImage(host(context, 'float32', [1, 3, 2, 2]), host(context, 'uint8', [2, 6])),
      [
        R,
        'ERR_SHAPE',
        'Expected a shape [height, width, channels] or [batch, height, width, channels] for src but received [2, 6]',
      ],
    ),
    row(
      'preprocessImage() from a 5-channel image',
      (context) => preprocessImage(host(context, 'float32', [1, 3, 2, 2]), host(context, 'uint8', [2, 2, 5])),
      [R, 'ERR_SHAPE', 'Expected 3 or 4 channels in the last dimension of src but received 5'],
    ),
    row(
      'preprocessImage() with an inputFormat of other channels',
      (context) =>
        preprocessImage(host(context, 'float32', [1, 3, 2, 2]), host(context, 'uint8', [2, 2, 3]), { inputFormat: 'rgba' }),
      [R, 'ERR_SHAPE', 'Expected 4 channels (options.inputFormat "rgba") in the last dimension of src but received 3'],
    ),
    row(
      'preprocessImage() into the wrong shape',
      (context) => preprocessImage(host(context, 'float32', [1, 3, 3, 3]), host(context, 'uint8', [2, 2, 3])),
      [R, 'ERR_SHAPE', 'Expected shape [1, 3, 2, 2] for dst (NCHW of src [2, 2, 3]) but received [1, 3, 3, 3]'],
    ),
    row(
      'preprocessImage() with a zero std',
      (context) => preprocessImage(host(context, 'float32', [1, 3, 2, 2]), host(context, 'uint8', [2, 2, 3]), { std: [1, 0, 1] }),
      [R, 'ERR_INVALID_ARGUMENT', 'Expected an array of 3 non-zero finite numbers for options.std but received [1, 0, 1]'],
    ),
    row(
      'preprocessImage() with a NaN mean',
      (context) =>
        preprocessImage(host(context, 'float32', [1, 3, 2, 2]), host(context, 'uint8', [2, 2, 3]), { mean: [0, NaN, 0] }),
      [R, 'ERR_INVALID_ARGUMENT', 'Expected an array of 3 finite numbers for options.mean but received [0, NaN, 0]'],
    ),
    row(
      'preprocessImage() with two means',
      (context) =>
        preprocessImage(host(context, 'float32', [1, 3, 2, 2]), host(context, 'uint8', [2, 2, 3]), never({ mean: [0, 0] })),
      [R, 'ERR_INVALID_ARGUMENT', 'Expected an array of 3 finite numbers for options.mean but received [0, 0]'],
    ),
    row(
      'preprocessImage() with a zero scale',
      (context) => preprocessImage(host(context, 'float32', [1, 3, 2, 2]), host(context, 'uint8', [2, 2, 3]), { scale: 0 }),
      [R, 'ERR_INVALID_ARGUMENT', 'Expected a non-zero finite number for options.scale but received 0 of type number'],
    ),
    row(
      'preprocessImage() with an Infinity scale',
      (context) =>
        preprocessImage(host(context, 'float32', [1, 3, 2, 2]), host(context, 'uint8', [2, 2, 3]), { scale: Infinity }),
      [R, 'ERR_INVALID_ARGUMENT', 'Expected a finite number for options.scale but received Infinity of type number'],
    ),
    row(
      'preprocessImage() with an unknown output format',
      (context) =>
        preprocessImage(
          host(context, 'float32', [1, 3, 2, 2]),
          host(context, 'uint8', [2, 2, 3]),
          never({ outputFormat: 'rgba' }),
        ),
      [
        R,
        'ERR_INVALID_ARGUMENT',
        'Expected one of "rgb", "bgr" for options.outputFormat but received "rgba" of type string (did you mean "rgb"?)',
      ],
    ),
    row(
      'preprocessImage() with a misspelled option',
      (context) =>
        preprocessImage(host(context, 'float32', [1, 3, 2, 2]), host(context, 'uint8', [2, 2, 3]), never({ meen: [0, 0, 0] })),
      [
        R,
        'ERR_UNKNOWN_OPTION',
        'Unknown option "meen" in options (did you mean "mean"?); known options: inputFormat, outputFormat, mean, std, scale, stream',
      ],
    ),
    row('preprocessImageCpu() of null', () => preprocessImageCpu(never(null), imagePreprocessParams([2, 2, 3], 'float32')), [
      T,
      'ERR_DTYPE',
      'Expected a Uint8Array for src but received null',
    ]),
    row(
      'preprocessImageCpu() of a source too short for its params',
      () => preprocessImageCpu(new Uint8Array(5), imagePreprocessParams([2, 2, 3], 'float32')),
      [R, 'ERR_SHAPE', 'Expected at least 12 bytes for src (1 x 2 x 2 x 3) but received a Uint8Array of length 5'],
    ),
    row(
      'preprocessImageCpu() with 5 source channels in params',
      () => preprocessImageCpu(new Uint8Array(20), { ...imagePreprocessParams([2, 2, 3], 'float32'), srcChannels: never(5) }),
      [R, 'ERR_INVALID_ARGUMENT', 'Expected 3 or 4 for params.srcChannels but received 5 of type number'],
    ),
    row(
      'preprocessImageCpu() with a channel map past the channels',
      () => preprocessImageCpu(new Uint8Array(12), { ...imagePreprocessParams([2, 2, 3], 'float32'), channelMap: [0, 1, 3] }),
      [R, 'ERR_INVALID_ARGUMENT', 'Expected an array of 3 channel indices below 3 for params.channelMap but received [0, 1, 3]'],
    ),
    row(
      'preprocessImageCpu() with a NaN height',
      () => preprocessImageCpu(new Uint8Array(12), { ...imagePreprocessParams([2, 2, 3], 'float32'), height: NaN }),
      [R, 'ERR_INVALID_ARGUMENT', 'Expected an integer >= 0 for params.height but received NaN of type number'],
    ),
    row(
      'preprocessImageCpu() into an out of the wrong type',
      () => preprocessImageCpu(new Uint8Array(12), imagePreprocessParams([2, 2, 3], 'float16'), new Float32Array(12)),
      [T, 'ERR_DTYPE', 'Expected a Uint16Array for out (outputType float16) but received a Float32Array of length 12'],
    ),
    row('convertFloat() between float32 and int32', (context) => convertFloat(host(context, 'int32'), host(context)), [
      T,
      'ERR_DTYPE',
      'Expected a float32 src with a float16 dst, or a float16 src with a float32 dst, but received a float32 src and an int32 dst',
    ]),
    row('convertFloat() float32 to float32', (context) => convertFloat(host(context), host(context)), [
      T,
      'ERR_DTYPE',
      'Expected a float32 src with a float16 dst, or a float16 src with a float32 dst, but received a float32 src and a float32 dst',
    ]),
    row('convertFloat() between element counts', (context) => convertFloat(host(context, 'float16', [5]), host(context)), [
      R,
      'ERR_SHAPE',
      'Expected a tensor of 6 elements for dst (the element count of src) but received a tensor of 5 elements',
    ]),
    row('convertFloat() from a disposed tensor', (context) => convertFloat(host(context, 'float16'), disposed(context)), [
      TensorRTNodeError,
      'ERR_DISPOSED',
      'Tensor src was disposed and can no longer be used',
    ]),
    row('memset() with 256', (context) => memset(host(context), 256), [
      R,
      'ERR_INVALID_ARGUMENT',
      'Expected an integer between 0 and 255 for value but received 256 of type number',
    ]),
    row('memset() with -1', (context) => memset(host(context), -1), [
      R,
      'ERR_INVALID_ARGUMENT',
      'Expected an integer between 0 and 255 for value but received -1 of type number',
    ]),
    row('memset() with a string value', (context) => memset(host(context), never('0')), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected an integer for value but received "0" of type string',
    ]),
    row('memset() of a disposed tensor', (context) => memset(disposed(context), 0), [
      TensorRTNodeError,
      'ERR_DISPOSED',
      'Tensor dst was disposed and can no longer be used',
    ]),
    row('memset() with a misspelled option', (context) => memset(host(context), 0, never({ steam: undefined })), [
      R,
      'ERR_UNKNOWN_OPTION',
      'Unknown option "steam" in options (did you mean "stream"?); known options: stream',
    ]),
  ],
};

export const cudaTable: MatrixTable = {
  surface: 'cuda namespace (checks before any CUDA call)',
  rows: [
    row('memoryInfo() with a string device', () => cuda.memoryInfo(never('0')), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected an integer for device but received "0" of type string',
    ]),
    row('memoryInfo() with a negative device', () => cuda.memoryInfo(-1), [
      R,
      'ERR_INVALID_ARGUMENT',
      'Expected an integer >= 0 for device but received -1 of type number',
    ]),
    row('streamPriorityRange() with a fractional device', () => cuda.streamPriorityRange(1.5), [
      R,
      'ERR_INVALID_ARGUMENT',
      'Expected an integer >= 0 for device but received 1.5 of type number',
    ]),
    row('streamPriorityRange() with a NaN device', () => cuda.streamPriorityRange(NaN), [
      R,
      'ERR_INVALID_ARGUMENT',
      'Expected an integer >= 0 for device but received NaN of type number',
    ]),
    row('createStream() with a misspelled option', () => cuda.createStream(never({ devcie: 0 })), [
      R,
      'ERR_UNKNOWN_OPTION',
      'Unknown option "devcie" in options (did you mean "device"?); known options: device, priority',
    ]),
    row('createStream() with an unknown priority name', () => cuda.createStream(never({ priority: 'low' })), [
      R,
      'ERR_INVALID_ARGUMENT',
      'Expected "high", "normal" or an integer for options.priority but received "low" of type string',
    ]),
    row('createStream() with an object for priority', () => cuda.createStream(never({ priority: {} })), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected "high", "normal" or an integer for options.priority but received an object',
    ]),
    row('createStream() with a fractional priority', () => cuda.createStream({ priority: 0.5 }), [
      R,
      'ERR_INVALID_ARGUMENT',
      'Expected an integer for options.priority but received 0.5 of type number',
    ]),
    row('createStream() with a huge device', () => cuda.createStream({ device: 2 ** 60 }), [
      R,
      'ERR_INVALID_ARGUMENT',
      'Expected an integer >= 0 for options.device but received 1152921504606847000 of type number',
    ]),
    row('createEvent() with a string for timing', () => cuda.createEvent(never({ timing: 'yes' })), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected a boolean for options.timing but received "yes" of type string',
    ]),
    row('createEvent() with an array for options', () => cuda.createEvent(never([])), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected an object for options but received an array of length 0',
    ]),
  ],
};

// Misuse that needs live CUDA objects: written for real, run on GPU hosts (skipped here otherwise).
const noGpu = cuda.isAvailable() ? false : 'needs a CUDA device';

function disposedStream(context: MatrixContext) {
  return context.once('disposed-stream', () => {
    const stream = cuda.createStream();
    stream.dispose();
    return stream;
  });
}

export const cudaObjectsTable: MatrixTable = {
  surface: 'CUDA streams, events and pinned tensors (GPU hosts)',
  rows: [
    row(
      'synchronize() of a disposed stream',
      (context) => disposedStream(context).synchronize(),
      [TensorRTNodeError, 'ERR_DISPOSED', 'The stream was disposed and can no longer be used'],
      noGpu,
    ),
    row(
      'waitFor() of a plain object',
      (context) =>
        context
          .once(
            'stream',
            () => cuda.createStream(),
            (stream) => stream.dispose(),
          )
          .waitFor(never({})),
      [T, 'ERR_INVALID_ARGUMENT', 'Expected a CudaEvent for event but received an object'],
      noGpu,
    ),
    row(
      'record() on a disposed stream',
      (context) => cuda.createEvent().record(disposedStream(context)),
      [TensorRTNodeError, 'ERR_DISPOSED', 'The stream given as stream was disposed and can no longer be used'],
      noGpu,
    ),
    row(
      'elapsedTime() of events never recorded',
      () => cuda.createEvent().elapsedTime(cuda.createEvent()),
      [R, 'ERR_INVALID_ARGUMENT', 'Expected a recorded event for the start event but received an event that was never recorded'],
      noGpu,
    ),
    row(
      'elapsedTime() of an untimed event',
      () => cuda.createEvent({ timing: false }).elapsedTime(cuda.createEvent()),
      [
        R,
        'ERR_INVALID_ARGUMENT',
        'Expected an event created with { timing: true } for the start event but received an event created with { timing: false }',
      ],
      noGpu,
    ),
    row(
      '.data of a disposed pinned tensor',
      () => {
        const pinned = Tensor.allocate('float32', [4], { location: 'pinned' });
        pinned.dispose();
        return pinned.data;
      },
      [TensorRTNodeError, 'ERR_DISPOSED', 'The tensor was disposed and can no longer be used'],
      noGpu,
    ),
  ],
};
