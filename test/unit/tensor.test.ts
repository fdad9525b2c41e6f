// Host tensors are plain memory: everything here runs without the addon or a GPU. The GPU
// locations are covered by test/native (no driver) and test/gpu (real devices).
import { describe, expect, it } from 'vitest';
import { ArgumentRangeError, ArgumentTypeError, TensorRTNodeError } from '../../lib/core/errors.js';
import { convertFloat, memset, preprocessImage } from '../../lib/cuda/preprocess.js';
import { copy, Tensor } from '../../lib/cuda/tensor.js';
import { float16BitsToFloat32, toFloat16Array } from '../../lib/core/dtypes.js';
import { expectError, expectErrorSync } from '../helpers/expect-error.js';

describe('host tensors', () => {
  it("allocate zero-filled memory of the dtype's TypedArray and know their size", () => {
    const tensor = Tensor.allocate('float16', [2, 3]);
    expect(tensor.dtype).toBe('float16');
    expect(tensor.shape).toEqual([2, 3]);
    expect(Object.isFrozen(tensor.shape)).toBe(true);
    expect(tensor.location).toBe('host');
    expect(tensor.device).toBeNull();
    expect(tensor.elementCount).toBe(6);
    expect(tensor.byteLength).toBe(12);
    expect(tensor.data).toBeInstanceOf(Uint16Array);
    expect(Array.from(tensor.data)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(Tensor.allocate('int64', []).data).toEqual(new BigInt64Array(1));
    expect(Tensor.allocate('bool', [0, 4]).byteLength).toBe(0);
    expect(String(tensor)).toBe('Tensor(float16, [2, 3], host)');
  });

  it('fromArray wraps the array (no copy), infers common dtypes and defaults the shape to its length', async () => {
    const values = new Float32Array([1, 2, 3, 4]);
    const tensor = await Tensor.fromArray(values, { shape: [2, 2] });
    expect(tensor.dtype).toBe('float32');
    expect(tensor.data).toBe(values);
    expect((await Tensor.fromArray(new BigInt64Array(3))).shape).toEqual([3]);
    expect((await Tensor.fromArray(new Uint16Array(2), { dtype: 'bfloat16' })).dtype).toBe('bfloat16');
    expect((await Tensor.fromArray(new Uint8Array(2), { dtype: 'bool' })).dtype).toBe('bool');
  });

  it('copy() between host tensors copies every element; toArray() returns a fresh copy', async () => {
    const src = await Tensor.fromArray(new Int32Array([5, 6, 7, 8]), { shape: [4] });
    const dst = Tensor.allocate('int32', [2, 2]);
    await copy(dst, src);
    expect(Array.from(dst.data)).toEqual([5, 6, 7, 8]);
    const snapshot = await dst.toArray();
    snapshot[0] = 99;
    expect(dst.data[0]).toBe(5);
  });

  it('dispose() is idempotent, works with `using`, and every later use throws ERR_DISPOSED', async () => {
    const tensor = Tensor.allocate('uint8', [4]);
    tensor.dispose();
    tensor.dispose();
    expect(tensor.disposed).toBe(true);
    expectErrorSync(() => tensor.data, TensorRTNodeError, 'ERR_DISPOSED', 'The tensor was disposed and can no longer be used');
    await expectError(
      () => tensor.toArray(),
      TensorRTNodeError,
      'ERR_DISPOSED',
      'The tensor was disposed and can no longer be used',
    );
    await expectError(
      () => copy(Tensor.allocate('uint8', [4]), tensor),
      TensorRTNodeError,
      'ERR_DISPOSED',
      'Tensor src was disposed and can no longer be used',
    );
    await expectError(
      () => copy(tensor, Tensor.allocate('uint8', [4])),
      TensorRTNodeError,
      'ERR_DISPOSED',
      'Tensor dst was disposed and can no longer be used',
    );
    let scoped: Tensor;
    {
      using inner = Tensor.allocate('float32', [1]);
      scoped = inner;
    }
    expect(scoped.disposed).toBe(true);
  });

  it('memset() and convertFloat() run on the CPU for host tensors', async () => {
    const bytes = Tensor.allocate('int32', [2]);
    await memset(bytes, 1);
    expect(Array.from(bytes.data)).toEqual([0x01010101, 0x01010101]);
    const float32 = await Tensor.fromArray(new Float32Array([0.5, -2, 65504, 1e-8]));
    const float16 = Tensor.allocate('float16', [4]);
    await convertFloat(float16, float32);
    expect(Array.from(float16.data)).toEqual(Array.from(toFloat16Array([0.5, -2, 65504, 1e-8])));
    const back = Tensor.allocate('float32', [4]);
    await convertFloat(back, float16);
    expect(Array.from(back.data)).toEqual(Array.from(float16.data, float16BitsToFloat32));
  });

  it('preprocessImage() runs on the CPU for host tensors (HWC to CHW, BGR to RGB)', async () => {
    const src = await Tensor.fromArray(Uint8Array.of(255, 0, 0, 0, 0, 255), { shape: [1, 2, 3] }); // two BGR pixels: blue, red
    const dst = Tensor.allocate('float32', [3, 1, 2]);
    await preprocessImage(dst, src, { inputFormat: 'bgr', scale: 1 });
    expect(Array.from(dst.data)).toEqual([0, 255, 0, 0, 255, 0]); // R plane, G plane, B plane
  });
});

describe('BAD CALL - tensors', () => {
  it('BAD CALL - an unknown dtype is ERR_DTYPE', () => {
    expectErrorSync(
      () => Tensor.allocate('float128' as never, [1]),
      ArgumentRangeError,
      'ERR_DTYPE',
      'Expected one of "float32", "float16", "bfloat16", "float64", "int8", "uint8", "int32", "int64", "bool", "fp8e4m3" for dtype but received "float128" of type string',
    );
    expectErrorSync(
      () => Tensor.allocate(7 as never, [1]),
      ArgumentTypeError,
      'ERR_DTYPE',
      'Expected one of "float32", "float16", "bfloat16", "float64", "int8", "uint8", "int32", "int64", "bool", "fp8e4m3" for dtype but received 7 of type number',
    );
  });

  it('BAD CALL - negative, fractional and overflowing dims are ERR_SHAPE', () => {
    expectErrorSync(
      () => Tensor.allocate('float32', [2, -1]),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected a non-negative integer for shape[1] but received -1 of type number',
    );
    expectErrorSync(
      () => Tensor.allocate('float32', [2.5]),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected a non-negative integer for shape[0] but received 2.5 of type number',
    );
    expectErrorSync(
      () => Tensor.allocate('float32', [2 ** 30, 2 ** 30, 2 ** 30]),
      ArgumentRangeError,
      'ERR_SHAPE',
      'The element count of shape [1073741824, 1073741824, 1073741824] overflows',
    );
    expectErrorSync(
      () => Tensor.allocate('float64', [2 ** 26, 2 ** 26]),
      ArgumentRangeError,
      'ERR_SHAPE',
      'The byte length of shape [67108864, 67108864] (float64) overflows',
    );
    expectErrorSync(
      () => Tensor.allocate('float32', 'x' as never),
      ArgumentTypeError,
      'ERR_SHAPE',
      'Expected an array of dimensions for shape but received "x" of type string',
    );
  });

  it('BAD CALL - host memory that cannot be allocated is ERR_OUT_OF_MEMORY, and the process goes on', () => {
    expectErrorSync(
      () => Tensor.allocate('float64', [2 ** 47]),
      TensorRTNodeError,
      'ERR_OUT_OF_MEMORY',
      /^Could not allocate 1125899906842624 bytes of host memory for a float64 tensor: /,
    );
    expect(Tensor.allocate('float64', [2]).byteLength).toBe(16);
  });

  it('BAD CALL - wrong options: unknown keys, locations, device options on host tensors', () => {
    expectErrorSync(
      () => Tensor.allocate('float32', [1], { locaton: 'device' } as never),
      ArgumentRangeError,
      'ERR_UNKNOWN_OPTION',
      'Unknown option "locaton" in options (did you mean "location"?); known options: location, device, stream',
    );
    expectErrorSync(
      () => Tensor.allocate('float32', [1], { location: 'gpu' as never }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected one of "host", "pinned", "device" for options.location but received "gpu" of type string',
    );
    expectErrorSync(
      () => Tensor.allocate('float32', [1], { device: 1 }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'options.device and options.stream apply to device tensors only, but options.location is "host"',
    );
    expectErrorSync(
      () => Tensor.allocate('float32', [1], { location: 'device', device: -1 }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected an integer >= 0 for options.device but received -1 of type number',
    );
    expectErrorSync(
      () => Tensor.allocate('float32', [1], { location: 'device', stream: {} as never }),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a CudaStream for options.stream but received an object',
    );
    expectErrorSync(
      () => Tensor.allocate('float32', [1], 'pinned' as never),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected an object for options but received "pinned" of type string',
    );
  });

  it('BAD CALL - fromArray with the wrong dtype or length', async () => {
    await expectError(
      () => Tensor.fromArray(new Float64Array(3) as never, { dtype: 'float32' as never }),
      ArgumentTypeError,
      'ERR_DTYPE',
      'Expected a Float32Array for data (options.dtype is float32) but received a Float64Array of length 3',
    );
    await expectError(
      () => Tensor.fromArray(new Uint16Array(3)),
      ArgumentTypeError,
      'ERR_DTYPE',
      'Expected options.dtype ("float16" or "bfloat16") for data, a Uint16Array, whose element type is ambiguous',
    );
    await expectError(
      () => Tensor.fromArray(new Uint32Array(3) as never),
      ArgumentTypeError,
      'ERR_DTYPE',
      'Expected a TypedArray of a supported dtype (Float32Array, Float64Array, Int8Array, Uint8Array, Int32Array, BigInt64Array, or Uint16Array with options.dtype) for data but received a Uint32Array of length 3',
    );
    await expectError(
      () => Tensor.fromArray([1, 2] as never),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a TypedArray for data but received an array of length 2',
    );
    await expectError(
      () => Tensor.fromArray(new Float32Array(10), { shape: [2, 3, 4] }),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected 24 elements for data (shape [2, 3, 4]) but received a Float32Array of length 10',
    );
    await expectError(
      () => Tensor.fromArray(new Float32Array(1), { shape: [-1] }),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected a non-negative integer for options.shape[0] but received -1 of type number',
    );
  });

  it('BAD CALL - copy between tensors of different byte size or dtype, or not tensors', async () => {
    const float32 = Tensor.allocate('float32', [4]);
    await expectError(
      () => copy(float32, Tensor.allocate('float32', [3])),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected a tensor of 16 bytes for src (the byte length of dst) but received a tensor of 12 bytes',
    );
    await expectError(
      () => copy(float32, Tensor.allocate('int32', [4])),
      ArgumentTypeError,
      'ERR_DTYPE',
      'Expected a float32 tensor for src (the dtype of dst) but received an int32 tensor',
    );
    await expectError(
      () => copy(float32, new Float32Array(4) as never),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a Tensor for src but received a Float32Array of length 4',
    );
    await expectError(
      () => copy(float32, float32, { steam: null } as never),
      ArgumentRangeError,
      'ERR_UNKNOWN_OPTION',
      'Unknown option "steam" in options (did you mean "stream"?); known options: stream',
    );
    await expectError(
      () => copy(float32, float32, { stream: 'default' as never }),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a CudaStream for options.stream but received "default" of type string',
    );
  });

  it('BAD CALL - device tensors have no .data and preprocess inputs are checked', async () => {
    const rgb = Tensor.allocate('uint8', [4, 5, 3]);
    const out = Tensor.allocate('float32', [1, 3, 4, 5]);
    await expectError(
      () => preprocessImage(out, Tensor.allocate('float32', [4, 5, 3])),
      ArgumentTypeError,
      'ERR_DTYPE',
      'Expected a uint8 tensor for src but received a float32 tensor',
    );
    await expectError(
      () => preprocessImage(Tensor.allocate('int32', [1, 3, 4, 5]), rgb),
      ArgumentTypeError,
      'ERR_DTYPE',
      'Expected a float32 or float16 tensor for dst but received an int32 tensor',
    );
    await expectError(
      () => preprocessImage(out, Tensor.allocate('uint8', [20, 3])),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected a shape [height, width, channels] or [batch, height, width, channels] for src but received [20, 3]',
    );
    await expectError(
      () => preprocessImage(out, Tensor.allocate('uint8', [4, 5, 2])),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected 3 or 4 channels in the last dimension of src but received 2',
    );
    await expectError(
      () => preprocessImage(out, rgb, { inputFormat: 'rgba' }),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected 4 channels (options.inputFormat "rgba") in the last dimension of src but received 3',
    );
    await expectError(
      () => preprocessImage(Tensor.allocate('float32', [1, 3, 5, 4]), rgb),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected shape [1, 3, 4, 5] for dst (NCHW of src [4, 5, 3]) but received [1, 3, 5, 4]',
    );
    await expectError(
      () => preprocessImage(out, rgb, { std: [1, 0, 1] }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected an array of 3 non-zero finite numbers for options.std but received [1, 0, 1]',
    );
    await expectError(
      () => preprocessImage(out, rgb, { mean: [1, 2] as never }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected an array of 3 finite numbers for options.mean but received [1, 2]',
    );
    await expectError(
      () => preprocessImage(out, rgb, { outputFormat: 'rgba' as never }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected one of "rgb", "bgr" for options.outputFormat but received "rgba" of type string (did you mean "rgb"?)',
    );
    await expectError(
      () => preprocessImage(out, rgb, { scale: 0 }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a non-zero finite number for options.scale but received 0 of type number',
    );
    await expectError(
      () => convertFloat(Tensor.allocate('float16', [3]), Tensor.allocate('float32', [4])),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected a tensor of 4 elements for dst (the element count of src) but received a tensor of 3 elements',
    );
    await expectError(
      () => convertFloat(Tensor.allocate('bfloat16', [4]), Tensor.allocate('float32', [4])),
      ArgumentTypeError,
      'ERR_DTYPE',
      'Expected a float32 src with a float16 dst, or a float16 src with a float32 dst, but received a float32 src and a bfloat16 dst',
    );
    await expectError(
      () => memset(out, 256),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected an integer between 0 and 255 for value but received 256 of type number',
    );
  });
});
