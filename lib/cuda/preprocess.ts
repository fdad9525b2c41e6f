/**
 * Image preprocessing, float32 <-> float16 conversion and memset for tensors, on the GPU for
 * pinned and device tensors (native/kernels) and on the CPU for host tensors, with the same math:
 *
 *   out[n][c][y][x] = fmaf(in[n][y][x][channel of c], alpha[c], beta[c])
 *   alpha[c] = float32(scale / std[c]), beta[c] = float32(-mean[c] / std[c])
 *
 * i.e. (in * scale - mean) / std with one rounding, float16 outputs rounded to nearest even from
 * that float32. The CPU path is bit-exact with the GPU kernel (fmaFloat32 below), so the GPU tests
 * compare them exactly.
 */
import { defaultStream, expectStream, nativeStream, type CudaStream } from './streams.js';
import { float16BitsToFloat32, float32ToFloat16Bits } from '../core/dtypes.js';
import { ArgumentRangeError, ArgumentTypeError, ErrorCode, withCallerStack } from '../core/errors.js';
import type { NativeGpuMemory, NativeImagePreprocessParams } from '../addon/types.js';
import { expectTensor, nativeMemoryOf, type Tensor } from './tensor.js';
import {
  describeValue,
  expectInteger,
  expectNumber,
  expectOneOf,
  expectOptions,
  invalidType,
  rejectUnknownOptions,
  withArticle,
} from '../core/validate.js';

/**
 * The preprocessing kernel's parameters (from {@link imagePreprocessParams}): what {@link preprocessImageCpu} takes.
 * @interface
 */
export type ImagePreprocessParams = NativeImagePreprocessParams;

export const imageInputFormats = ['rgb', 'bgr', 'rgba', 'bgra'] as const;
export const imageOutputFormats = ['rgb', 'bgr'] as const;

/**
 * Options of GPU operations on tensors: the stream they are ordered on.
 * @inline
 */
export interface StreamOptionsOnly {
  /** The stream the GPU work is ordered on (default: the device's default stream). Ignored for host tensors. */
  stream?: CudaStream;
}

/** Options of `cuda.preprocessImage`: channel orders, normalization, and the stream. */
export interface ImagePreprocessOptions extends StreamOptionsOnly {
  /** Channel order of src (default: 'rgb' for 3 channels, 'rgba' for 4; the alpha channel is ignored). */
  inputFormat?: (typeof imageInputFormats)[number];
  /** Order of the 3 output planes (default 'rgb'). */
  outputFormat?: (typeof imageOutputFormats)[number];
  /** Per output plane, subtracted after scaling (default [0, 0, 0]). */
  mean?: readonly [number, number, number];
  /** Per output plane, divided by after subtracting the mean (default [1, 1, 1]). */
  std?: readonly [number, number, number];
  /** Multiplies the uint8 input first (default 1/255, so mean/std are in 0..1 as torchvision has them). */
  scale?: number;
}

// ------------------------------------------------------------------------------------------------
// The math, shared by the CPU implementation and the GPU parameters
// ------------------------------------------------------------------------------------------------

const bits = new DataView(new ArrayBuffer(4));

function nextFloat32(value: number, towards: number): number {
  if (value === 0) return towards > 0 ? 2 ** -149 : -(2 ** -149);
  bits.setFloat32(0, value);
  const raw = bits.getUint32(0);
  bits.setUint32(0, value > 0 === towards > value ? raw + 1 : raw - 1);
  return bits.getFloat32(0);
}

/**
 * fmaf(x, a, b) in float32: x * a + b with a single rounding, as the GPU computes it. Exact when
 * x * a is exact in a double (here: x an integer 0..255 and a a float32). The double sum is
 * corrected with its TwoSum error where double rounding could differ from one rounding.
 */
export function fmaFloat32(x: number, a: number, b: number): number {
  const product = x * a;
  const sum = product + b;
  const bb = sum - product;
  const error = product - (sum - bb) + (b - bb);
  const rounded = Math.fround(sum);
  if (error === 0 || rounded === sum || !Number.isFinite(rounded)) return rounded;
  // Double rounding goes wrong only when `sum` landed exactly halfway between two float32 values.
  const neighbour = nextFloat32(rounded, sum);
  if ((rounded + neighbour) / 2 !== sum) return rounded;
  return error > 0 === neighbour > rounded ? neighbour : rounded;
}

function channelIndex(format: string, channel: 'r' | 'g' | 'b'): number {
  return format.indexOf(channel);
}

/** Kernel parameters for an image of `srcShape` ([H, W, C] or [N, H, W, C]) and validated options. */
export function imagePreprocessParams(
  srcShape: readonly number[],
  outputType: 'float32' | 'float16',
  options: ImagePreprocessOptions = {},
): ImagePreprocessParams {
  const [batch, height, width, channels] = srcShape.length === 3 ? [1, ...srcShape] : srcShape;
  const inputFormat = options.inputFormat ?? (channels === 4 ? 'rgba' : 'rgb');
  const outputFormat = options.outputFormat ?? 'rgb';
  const mean = options.mean ?? [0, 0, 0];
  const std = options.std ?? [1, 1, 1];
  const scale = options.scale ?? 1 / 255;
  const planes = [...outputFormat] as ('r' | 'g' | 'b')[];
  return {
    batch: batch!,
    height: height!,
    width: width!,
    srcChannels: channels as 3 | 4,
    channelMap: planes.map((channel) => channelIndex(inputFormat, channel)) as [number, number, number],
    alpha: std.map((deviation) => Math.fround(scale / deviation)) as [number, number, number],
    beta: std.map((deviation, c) => Math.fround(-mean[c]! / deviation)) as [number, number, number],
    outputType,
  };
}

/** Checks kernel parameters made by hand rather than by imagePreprocessParams(). */
function checkParams(params: unknown): ImagePreprocessParams {
  const checked = expectOptions<ImagePreprocessParams>(params, 'params');
  if (params === undefined) throw invalidType('an object', 'params', params);
  for (const key of ['batch', 'height', 'width'] as const) expectInteger(checked[key], `params.${key}`, { min: 0 });
  if (checked.srcChannels !== 3 && checked.srcChannels !== 4)
    throw new ArgumentRangeError(`Expected 3 or 4 for params.srcChannels but received ${describeValue(checked.srcChannels)}`);
  const channels = checked.srcChannels;
  const triple = (value: unknown, name: string, check: (item: unknown) => boolean, what: string) => {
    if (!Array.isArray(value) || value.length !== 3 || !value.every(check)) {
      const received = Array.isArray(value)
        ? `[${value.map((item) => (typeof item === 'number' ? String(item) : describeValue(item))).join(', ')}]`
        : describeValue(value);
      throw new ArgumentRangeError(`Expected an array of 3 ${what} for ${name} but received ${received}`);
    }
  };
  triple(
    checked.channelMap,
    'params.channelMap',
    (item) => Number.isInteger(item) && (item as number) >= 0 && (item as number) < channels,
    `channel indices below ${channels}`,
  );
  triple(checked.alpha, 'params.alpha', (item) => typeof item === 'number', 'numbers');
  triple(checked.beta, 'params.beta', (item) => typeof item === 'number', 'numbers');
  expectOneOf(checked.outputType, 'params.outputType', ['float32', 'float16'] as const);
  return checked as ImagePreprocessParams;
}

/**
 * The CPU implementation of the preprocessing kernel: NHWC uint8 in, NCHW float32 (Float32Array)
 * or float16 bits (Uint16Array) out. Bit-exact with the GPU.
 */
export function preprocessImageCpu(
  src: Uint8Array,
  params: ImagePreprocessParams,
  out?: Float32Array | Uint16Array,
): Float32Array | Uint16Array {
  if (!(src instanceof Uint8Array))
    throw new ArgumentTypeError(`Expected a Uint8Array for src but received ${describeValue(src)}`, ErrorCode.DTYPE);
  const { batch, height, width, srcChannels, channelMap, alpha, beta, outputType } = checkParams(params);
  const planeSize = height * width;
  const total = batch * 3 * planeSize;
  const needed = batch * planeSize * srcChannels;
  if (src.length < needed) {
    throw new ArgumentRangeError(
      `Expected at least ${needed} bytes for src (${batch} x ${height} x ${width} x ${srcChannels}) but received a Uint8Array of length ${src.length}`,
      ErrorCode.SHAPE,
    );
  }
  if (out !== undefined) {
    const expected = outputType === 'float16' ? Uint16Array : Float32Array;
    if (!(out instanceof expected))
      throw new ArgumentTypeError(
        `Expected ${withArticle(expected.name)} for out (outputType ${outputType}) but received ${describeValue(out)}`,
        ErrorCode.DTYPE,
      );
    if (out.length !== total)
      throw new ArgumentRangeError(
        `Expected ${total} elements for out but received ${withArticle(expected.name)} of length ${out.length}`,
        ErrorCode.SHAPE,
      );
  }
  const result = out ?? (outputType === 'float16' ? new Uint16Array(total) : new Float32Array(total));
  // 256 possible inputs per plane: compute each once, exactly, then look them up.
  const tables = [0, 1, 2].map((c) => {
    const table = outputType === 'float16' ? new Uint16Array(256) : new Float32Array(256);
    for (let x = 0; x < 256; x++) {
      const value = fmaFloat32(x, alpha[c]!, beta[c]!);
      table[x] = outputType === 'float16' ? float32ToFloat16Bits(value) : value;
    }
    return table;
  });
  for (let image = 0; image < batch; image++) {
    const inBase = image * planeSize * srcChannels;
    const outBase = image * 3 * planeSize;
    for (let c = 0; c < 3; c++) {
      const table = tables[c]!;
      const channel = channelMap[c]!;
      const outPlane = outBase + c * planeSize;
      for (let pixel = 0; pixel < planeSize; pixel++)
        result[outPlane + pixel] = table[src[inBase + pixel * srcChannels + channel]!]!;
    }
  }
  return result;
}

// ------------------------------------------------------------------------------------------------
// Tensor operations
// ------------------------------------------------------------------------------------------------

/** Where the work runs: both host -> CPU; both pinned/device -> GPU; mixed is an error. */
function placement(dst: Tensor, src: Tensor): 'cpu' | 'gpu' {
  const dstHost = dst.location === 'host';
  const srcHost = src.location === 'host';
  if (dstHost && srcHost) return 'cpu';
  if (!dstHost && !srcHost) return 'gpu';
  const [hostName, gpuName, gpu] = dstHost ? ['dst', 'src', src] : ['src', 'dst', dst];
  throw new ArgumentRangeError(
    `Expected a pinned or device tensor for ${hostName} (${gpuName} is a ${gpu.location} tensor) but received a host tensor; copy it first or use host tensors for both`,
  );
}

function gpuStream(dst: Tensor, src: Tensor, stream: CudaStream | undefined): CudaStream {
  const device = dst.device ?? src.device ?? stream?.device ?? 0;
  for (const [name, tensor] of [
    ['dst', dst],
    ['src', src],
  ] as const) {
    if (tensor.device !== null && tensor.device !== device) {
      throw new ArgumentRangeError(
        `Expected a tensor of device ${device} for ${name} but received a tensor of device ${tensor.device}`,
      );
    }
  }
  if (stream && stream.device !== device) {
    throw new ArgumentRangeError(
      `Expected a stream of device ${device} (where the tensors are) for options.stream but received a stream of device ${stream.device}`,
    );
  }
  return stream ?? defaultStream(device);
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

function expectTriple(value: unknown, name: string, nonZero: boolean): readonly [number, number, number] {
  const what = `an array of 3 ${nonZero ? 'non-zero ' : ''}finite numbers`;
  if (!Array.isArray(value)) throw invalidType(what, name, value);
  if (value.length !== 3 || value.some((item) => typeof item !== 'number' || !Number.isFinite(item) || (nonZero && item === 0))) {
    throw new ArgumentRangeError(
      `Expected ${what} for ${name} but received [${value.map((item) => (typeof item === 'number' ? String(item) : describeValue(item))).join(', ')}]`,
    );
  }
  return value as unknown as readonly [number, number, number];
}

function checkImageOptions(options: unknown): ImagePreprocessOptions {
  const opts = expectOptions<ImagePreprocessOptions>(options);
  rejectUnknownOptions(opts, ['inputFormat', 'outputFormat', 'mean', 'std', 'scale', 'stream']);
  if (opts.inputFormat !== undefined) expectOneOf(opts.inputFormat, 'options.inputFormat', imageInputFormats);
  if (opts.outputFormat !== undefined) expectOneOf(opts.outputFormat, 'options.outputFormat', imageOutputFormats);
  if (opts.mean !== undefined) expectTriple(opts.mean, 'options.mean', false);
  if (opts.std !== undefined) expectTriple(opts.std, 'options.std', true);
  if (opts.scale !== undefined) {
    expectNumber(opts.scale, 'options.scale');
    if (opts.scale === 0)
      throw new ArgumentRangeError('Expected a non-zero finite number for options.scale but received 0 of type number');
  }
  if (opts.stream !== undefined) expectStream(opts.stream, 'options.stream');
  return opts;
}

/**
 * uint8 HWC ([H, W, C]) or NHWC ([N, H, W, C]) images, C = 3 or 4, into float32 or float16 NCHW
 * ([N, 3, H, W]; [3, H, W] also accepted for one HWC image) with per-channel normalization.
 * Host tensors are processed on the CPU; pinned and device tensors on the GPU, ordered on
 * `options.stream`. Resolves once the output is written.
 */
export async function preprocessImage(dst: Tensor, src: Tensor, options?: ImagePreprocessOptions): Promise<void> {
  expectTensor(dst, 'dst');
  expectTensor(src, 'src');
  const opts = checkImageOptions(options);
  const dstMemory = nativeMemoryOf(dst, 'dst');
  const srcMemory = nativeMemoryOf(src, 'src');
  if (src.dtype !== 'uint8')
    throw new ArgumentTypeError(`Expected a uint8 tensor for src but received ${withArticle(src.dtype)} tensor`, ErrorCode.DTYPE);
  if (dst.dtype !== 'float32' && dst.dtype !== 'float16') {
    throw new ArgumentTypeError(
      `Expected a float32 or float16 tensor for dst but received ${withArticle(dst.dtype)} tensor`,
      ErrorCode.DTYPE,
    );
  }
  if (src.shape.length !== 3 && src.shape.length !== 4) {
    throw new ArgumentRangeError(
      `Expected a shape [height, width, channels] or [batch, height, width, channels] for src but received ${shapeText(src.shape)}`,
      ErrorCode.SHAPE,
    );
  }
  const channels = src.shape[src.shape.length - 1]!;
  const expectedChannels = opts.inputFormat === undefined ? undefined : opts.inputFormat.length;
  if ((expectedChannels !== undefined && channels !== expectedChannels) || (channels !== 3 && channels !== 4)) {
    const expected =
      expectedChannels === undefined
        ? '3 or 4 channels'
        : `${expectedChannels} channels (options.inputFormat ${JSON.stringify(opts.inputFormat)})`;
    throw new ArgumentRangeError(`Expected ${expected} in the last dimension of src but received ${channels}`, ErrorCode.SHAPE);
  }
  const [batch, height, width] =
    src.shape.length === 3 ? [1, src.shape[0]!, src.shape[1]!] : [src.shape[0]!, src.shape[1]!, src.shape[2]!];
  const expectedShape = [batch, 3, height, width];
  const matches = (shape: readonly number[]) =>
    shape.length === expectedShape.length && shape.every((dim, index) => dim === expectedShape[index]);
  if (!matches(dst.shape) && !(src.shape.length === 3 && shapeText(dst.shape) === shapeText([3, height, width]))) {
    throw new ArgumentRangeError(
      `Expected shape ${shapeText(expectedShape)} for dst (NCHW of src ${shapeText(src.shape)}) but received ${shapeText(dst.shape)}`,
      ErrorCode.SHAPE,
    );
  }
  const params = imagePreprocessParams(src.shape, dst.dtype, opts);
  if (placement(dst, src) === 'cpu') {
    preprocessImageCpu(src.data as Uint8Array, params, dst.data as Float32Array | Uint16Array);
    return;
  }
  const native = nativeStream(gpuStream(dst, src, opts.stream), 'options.stream');
  await withCallerStack(() => native.preprocessImage(dstMemory as NativeGpuMemory, srcMemory as NativeGpuMemory, params));
}

/**
 * float32 -> float16 or float16 -> float32 (round to nearest even), element by element, between
 * tensors of the same element count: on the CPU for host tensors, on the GPU otherwise.
 */
export async function convertFloat(dst: Tensor, src: Tensor, options?: StreamOptionsOnly): Promise<void> {
  expectTensor(dst, 'dst');
  expectTensor(src, 'src');
  const opts = expectOptions<StreamOptionsOnly>(options);
  rejectUnknownOptions(opts, ['stream']);
  const stream = opts.stream === undefined ? undefined : expectStream(opts.stream, 'options.stream');
  const dstMemory = nativeMemoryOf(dst, 'dst');
  const srcMemory = nativeMemoryOf(src, 'src');
  const direction =
    src.dtype === 'float32' && dst.dtype === 'float16'
      ? 'float32-to-float16'
      : src.dtype === 'float16' && dst.dtype === 'float32'
        ? 'float16-to-float32'
        : null;
  if (direction === null) {
    throw new ArgumentTypeError(
      `Expected a float32 src with a float16 dst, or a float16 src with a float32 dst, but received ${withArticle(src.dtype)} src and ${withArticle(dst.dtype)} dst`,
      ErrorCode.DTYPE,
    );
  }
  if (dst.elementCount !== src.elementCount) {
    throw new ArgumentRangeError(
      `Expected a tensor of ${src.elementCount} elements for dst (the element count of src) but received a tensor of ${dst.elementCount} elements`,
      ErrorCode.SHAPE,
    );
  }
  if (placement(dst, src) === 'cpu') {
    if (direction === 'float32-to-float16') {
      const input = src.data as Float32Array;
      const output = dst.data as Uint16Array;
      for (let index = 0; index < input.length; index++) output[index] = float32ToFloat16Bits(input[index]!);
    } else {
      const input = src.data as Uint16Array;
      const output = dst.data as Float32Array;
      for (let index = 0; index < input.length; index++) output[index] = float16BitsToFloat32(input[index]!);
    }
    return;
  }
  const native = nativeStream(gpuStream(dst, src, stream), 'options.stream');
  await withCallerStack(() =>
    native.convertFloat(dstMemory as NativeGpuMemory, srcMemory as NativeGpuMemory, src.elementCount, direction),
  );
}

/** Sets every byte of `dst` to `value` (0..255): at once for host tensors, ordered on a stream otherwise. */
export async function memset(dst: Tensor, value: number, options?: StreamOptionsOnly): Promise<void> {
  expectTensor(dst, 'dst');
  expectInteger(value, 'value', { min: 0, max: 255 });
  const opts = expectOptions<StreamOptionsOnly>(options);
  rejectUnknownOptions(opts, ['stream']);
  const stream = opts.stream === undefined ? undefined : expectStream(opts.stream, 'options.stream');
  const memory = nativeMemoryOf(dst, 'dst');
  if (dst.location === 'host') {
    const view = dst.data;
    new Uint8Array(view.buffer, view.byteOffset, view.byteLength).fill(value);
    return;
  }
  const native = nativeStream(gpuStream(dst, dst, stream), 'options.stream');
  await withCallerStack(() => native.memset(memory as NativeGpuMemory, 0, value, dst.byteLength));
}
