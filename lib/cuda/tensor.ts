/**
 * Tensors that know their dtype, shape and location:
 *   - 'host':   plain JS memory (a TypedArray); works everywhere, no CUDA needed;
 *   - 'pinned': page-locked host memory; `.data` is a TypedArray over that memory itself (no copy),
 *               and copies to and from the GPU are truly asynchronous;
 *   - 'device': GPU memory; never enters JS memory (no `.data`).
 *
 *   using input = Tensor.allocate('float32', [1, 3, 224, 224], { location: 'pinned' });
 *   input.data.set(pixels);
 *   using onGpu = Tensor.allocate('float32', input.shape, { location: 'device' });
 *   await copy(onGpu, input, { stream });
 *
 * All memory is reported to V8 as external memory, freed by dispose() (idempotent; afterwards every
 * use throws ERR_DISPOSED, and a pinned tensor's `.data` becomes empty rather than dangling), with a
 * finalizer as fallback. Memory an in-flight operation uses is freed only once it completed.
 */
import { constants as bufferConstants } from 'node:buffer';
import { cudaAddon } from './addon.js';
import { defaultStream, expectStream, nativeStream, type CudaStream } from './streams.js';
import { disposedError } from '../core/dispose.js';
import {
  allocateTypedArray,
  asDTypeArray,
  asFloat16Bits,
  dtypes,
  dtypeSize,
  elementCount,
  isDType,
  typedArrayConstructor,
  viewTypedArray,
  type AnyTypedArray,
  type DType,
  type Float16ArrayLike,
  type TypedArrayFor,
} from '../core/dtypes.js';
import { ArgumentRangeError, ArgumentTypeError, ErrorCode, TensorRTNodeError, withCallerStack } from '../core/errors.js';
import type { NativeDeviceBuffer, NativeMemory, NativePinnedBuffer } from '../addon/types.js';
import {
  describeValue,
  expectInteger,
  expectOneOf,
  expectOptions,
  invalidType,
  rejectUnknownOptions,
  withArticle,
} from '../core/validate.js';

/** Where a tensor's memory can live: `host` (a TypedArray), `pinned` (page-locked host memory), `device` (GPU memory). */
export const tensorLocations = ['host', 'pinned', 'device'] as const;
/** One of {@link tensorLocations}. */
export type TensorLocation = (typeof tensorLocations)[number];

/** Options of `Tensor.allocate`: where the memory lives. */
export interface TensorOptions {
  /** Where the memory lives (default 'host'). */
  location?: TensorLocation;
  /** Device of a 'device' tensor (default: the stream's device, else 0). */
  device?: number;
  /**
   * For 'device' tensors: the stream the allocation is ordered on (default: the device's default
   * stream). The tensor is usable on any stream; other streams wait for the allocation on first use.
   */
  stream?: CudaStream;
}

/** Options of `Tensor.fromArray`: where the memory lives, and how to read the array. */
export interface FromArrayOptions<D extends DType> extends TensorOptions {
  /** Needed for a Uint16Array ('float16' or 'bfloat16') and for bool/fp8e4m3 in a Uint8Array. */
  dtype?: D;
  /** Default: one dimension, the array's length. */
  shape?: readonly number[];
}

/** Options of operations that run on a stream (`copy`, `toArray`). */
export interface CopyOptions {
  /** The stream the copy is ordered on (default: the default stream of the device involved, else of device 0). */
  stream?: CudaStream;
}

type Storage =
  | { location: 'host'; data: TypedArrayFor<DType> }
  | { location: 'pinned'; native: NativePinnedBuffer; data: TypedArrayFor<DType> }
  | { location: 'device'; native: NativeDeviceBuffer };

const storages = new WeakMap<Tensor, Storage>();

// A pinned tensor's `.data` is one ArrayBuffer: Node's largest (buffer.constants.MAX_LENGTH).
const maxPinnedBytes = bufferConstants.MAX_LENGTH;

/**
 * A tensor that knows its dtype, shape and location: `host` (plain JS memory, works everywhere),
 * `pinned` (page-locked; `.data` is a TypedArray over that memory itself, and copies to and from the
 * GPU are truly asynchronous) or `device` (GPU memory; never enters JS memory, no `.data`). All of it
 * is reported to V8 as external memory and freed by `dispose()` (or `using`), with a finalizer as
 * fallback; a disposed pinned tensor's `.data` becomes empty rather than dangling.
 *
 * @example
 * ```ts
 * using input = Tensor.allocate('float32', [1, 3, 224, 224], { location: 'pinned' });
 * input.data.set(pixels);
 * using onGpu = Tensor.allocate('float32', input.shape, { location: 'device', stream });
 * await copy(onGpu, input, { stream });
 * ```
 */
export class Tensor<D extends DType = DType> {
  readonly dtype: D;
  readonly shape: readonly number[];
  readonly location: TensorLocation;
  /** The device of a 'device' tensor; null for host and pinned memory (usable with every device). */
  readonly device: number | null;
  readonly elementCount: number;
  readonly byteLength: number;
  #disposed = false;

  private constructor(dtype: D, shape: readonly number[], count: number, storage: Storage, device: number | null) {
    this.dtype = dtype;
    this.shape = Object.freeze([...shape]);
    this.location = storage.location;
    this.device = device;
    this.elementCount = count;
    this.byteLength = count * dtypeSize(dtype);
    storages.set(this, storage);
  }

  /** A zero-filled host tensor, or uninitialised pinned or device memory. */
  static allocate<D extends DType>(dtype: D, shape: readonly number[], options?: TensorOptions): Tensor<D> {
    const checkedDType = expectDType(dtype, 'dtype') as D;
    const { count, byteLength } = sizeOf(checkedDType, shape, 'shape');
    const opts = tensorOptions(options, ['location', 'device', 'stream']);
    switch (opts.location) {
      case 'host':
        return new Tensor(
          checkedDType,
          shape,
          count,
          { location: 'host', data: allocateHost(checkedDType, count, byteLength) },
          null,
        );
      case 'pinned': {
        if (byteLength > maxPinnedBytes) {
          throw new ArgumentRangeError(
            `Expected at most ${maxPinnedBytes} bytes (the largest ArrayBuffer of this Node.js) for a pinned tensor but received ${byteLength} bytes`,
            ErrorCode.SHAPE,
          );
        }
        const native = new (cudaAddon().PinnedBufferWrap)(byteLength, process.env.TENSORRT_NODE_FORCE_COPYING_PINNED === '1');
        const data = viewTypedArray(checkedDType, native.arrayBuffer(), 0, count);
        return new Tensor(checkedDType, shape, count, { location: 'pinned', native, data }, null);
      }
      case 'device': {
        const stream = opts.stream ?? defaultStream(opts.device ?? 0);
        const native = new (cudaAddon().DeviceBufferWrap)(byteLength, stream.device, nativeStream(stream, 'options.stream'));
        return new Tensor(checkedDType, shape, count, { location: 'device', native }, stream.device);
      }
    }
  }

  /**
   * A tensor holding `data`. A 'host' tensor wraps `data` itself (no copy: later changes to either
   * show in both); 'pinned' and 'device' tensors get a copy. A Float16Array (Node.js 24 on) makes a
   * float16 tensor whose `.data` is a Uint16Array view of its bits.
   */
  static async fromArray<D extends DType>(data: TypedArrayFor<D>, options?: FromArrayOptions<D>): Promise<Tensor<D>>;
  static async fromArray(data: Float16ArrayLike, options?: FromArrayOptions<'float16'>): Promise<Tensor<'float16'>>;
  static async fromArray<D extends DType>(
    given: TypedArrayFor<D> | Float16ArrayLike,
    options?: FromArrayOptions<D>,
  ): Promise<Tensor<D>> {
    const opts = tensorOptions(options, ['location', 'device', 'stream', 'dtype', 'shape']);
    const typed = typedData(given, (options as FromArrayOptions<D> | undefined)?.dtype);
    const dtype = typed.dtype as D;
    const data = typed.data as TypedArrayFor<D>;
    const shape = (options as FromArrayOptions<D> | undefined)?.shape ?? [data.length];
    const { count } = sizeOf(dtype, shape, 'options.shape');
    if (count !== data.length) {
      throw new ArgumentRangeError(
        `Expected ${count} elements for data (shape [${shape.join(', ')}]) but received ${withArticle(data.constructor.name)} of length ${data.length}`,
        ErrorCode.SHAPE,
      );
    }
    if (opts.location === 'host') return new Tensor(dtype, shape, count, { location: 'host', data }, null);
    const tensor = Tensor.allocate(dtype, shape, { location: opts.location, device: opts.device, stream: opts.stream });
    try {
      if (tensor.location === 'pinned') tensor.data.set(data as never);
      else
        await copyMemory(
          tensor,
          nativeMemoryOf(tensor, 'the new tensor'),
          data,
          opts.stream ?? defaultStream(tensor.device ?? 0),
        );
    } catch (error) {
      tensor.dispose();
      throw error;
    }
    return tensor;
  }

  /** True once dispose() has been called. */
  get disposed(): boolean {
    return this.#disposed;
  }

  /**
   * The elements, for 'host' and 'pinned' tensors. A pinned tensor's `.data` is the pinned memory
   * itself (see `zeroCopy`): write it, then copy the tensor to the GPU without any staging copy.
   */
  get data(): TypedArrayFor<D> {
    const storage = liveStorage(this, 'The tensor');
    if (storage.location === 'device') {
      throw new TensorRTNodeError(
        ErrorCode.NOT_SUPPORTED,
        'A device tensor has no .data: its memory never enters JavaScript. Copy it to a host or pinned tensor (copy(dst, src)) or read it with await tensor.toArray().',
      );
    }
    return storage.data as TypedArrayFor<D>;
  }

  /** For pinned tensors: whether `.data` is the pinned memory itself (false only where the runtime refuses external buffers). */
  get zeroCopy(): boolean {
    const storage = liveStorage(this, 'The tensor');
    return storage.location === 'pinned' ? storage.native.zeroCopy : storage.location === 'host';
  }

  /** A fresh host TypedArray with a copy of the elements (device tensors: copied on `options.stream`). */
  async toArray(options?: CopyOptions): Promise<TypedArrayFor<D>> {
    const storage = liveStorage(this, 'The tensor');
    const opts = expectOptions<CopyOptions>(options);
    rejectUnknownOptions(opts, ['stream']);
    const stream = opts.stream === undefined ? undefined : expectStream(opts.stream, 'options.stream');
    if (storage.location !== 'device') {
      if (stream) await stream.synchronize(); // work already submitted on that stream may still be writing
      return storage.data.slice() as TypedArrayFor<D>;
    }
    const result = allocateHost(this.dtype, this.elementCount, this.byteLength);
    await copyMemory(result, result, storage.native, stream ?? defaultStream(this.device ?? 0));
    return result as TypedArrayFor<D>;
  }

  /** Frees the memory (once in-flight operations using it completed). Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    const storage = storages.get(this)!;
    if (storage.location !== 'host') storage.native.dispose();
    storages.delete(this);
  }

  /** `using` support: the same as dispose(). */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** `await using`: the same as dispose() (memory in use by queued GPU work is freed once that work finished). */
  async [Symbol.asyncDispose](): Promise<void> {
    this.dispose();
  }

  /** `Tensor(float32, [1, 3, 224, 224], pinned)`: for logs and messages. */
  toString(): string {
    return `Tensor(${this.dtype}, [${this.shape.join(', ')}], ${this.location}${this.disposed ? ', disposed' : ''})`;
  }
}

/**
 * Copies all of `src` into `dst` (same dtype and byte length) between any two locations. Host to
 * host is a plain memory copy; anything involving pinned or device memory is ordered on a stream
 * and resolves once the GPU finished it.
 */
export async function copy(dst: Tensor, src: Tensor, options?: CopyOptions): Promise<void> {
  expectTensor(dst, 'dst');
  expectTensor(src, 'src');
  const opts = expectOptions<CopyOptions>(options);
  rejectUnknownOptions(opts, ['stream']);
  const stream = opts.stream === undefined ? undefined : expectStream(opts.stream, 'options.stream');
  const dstMemory = nativeMemoryOf(dst, 'dst');
  const srcMemory = nativeMemoryOf(src, 'src');
  if (dst.dtype !== src.dtype) {
    throw new ArgumentTypeError(
      `Expected ${withArticle(dst.dtype)} tensor for src (the dtype of dst) but received ${withArticle(src.dtype)} tensor`,
      ErrorCode.DTYPE,
    );
  }
  if (dst.byteLength !== src.byteLength) {
    throw new ArgumentRangeError(
      `Expected a tensor of ${dst.byteLength} bytes for src (the byte length of dst) but received a tensor of ${src.byteLength} bytes`,
      ErrorCode.SHAPE,
    );
  }
  if (dst.location === 'host' && src.location === 'host') {
    (dst.data as { set(array: ArrayLike<unknown>): void }).set(src.data as ArrayLike<unknown>);
    return;
  }
  await copyMemory(dst, dstMemory, srcMemory, stream ?? defaultStream(dst.device ?? src.device ?? 0));
}

function copyMemory(
  dst: { byteLength: number },
  dstMemory: NativeMemory,
  srcMemory: NativeMemory,
  stream: CudaStream,
): Promise<void> {
  const native = nativeStream(stream, 'options.stream');
  return withCallerStack(() => native.copy(dstMemory, 0, srcMemory, 0, dst.byteLength));
}

/**
 * What native code takes for this tensor: the pinned or device buffer wrap, or the host TypedArray.
 * Internal to lib/ (the TensorRT runtime binds these as engine inputs and outputs).
 */
export function nativeMemoryOf(tensor: Tensor, what: string): NativeMemory {
  const storage = liveStorage(tensor, what === 'The tensor' ? what : `Tensor ${what}`);
  return storage.location === 'host' ? storage.data : storage.native;
}

/** Throws ArgumentTypeError unless `value` is a Tensor. Internal to lib/. */
export function expectTensor(value: unknown, name: string): Tensor {
  if (!(value instanceof Tensor)) throw invalidType('a Tensor', name, value);
  return value;
}

function liveStorage(tensor: Tensor, what: string): Storage {
  const storage = storages.get(tensor);
  if (!storage || tensor.disposed) throw disposedError(what);
  return storage;
}

function expectDType(value: unknown, name: string): DType {
  if (isDType(value)) return value;
  const expected = `one of ${dtypes.map((dtype) => JSON.stringify(dtype)).join(', ')}`;
  if (typeof value !== 'string')
    throw new ArgumentTypeError(`Expected ${expected} for ${name} but received ${describeValue(value)}`, ErrorCode.DTYPE);
  throw new ArgumentRangeError(`Expected ${expected} for ${name} but received ${describeValue(value)}`, ErrorCode.DTYPE);
}

/** Element count and byte length of a shape, both checked (ERR_SHAPE for bad dims and overflow). */
function sizeOf(dtype: DType, shape: readonly number[], name: string): { count: number; byteLength: number } {
  const count = elementCount(shape, name);
  const byteLength = count * dtypeSize(dtype);
  if (!Number.isSafeInteger(byteLength)) {
    throw new ArgumentRangeError(`The byte length of ${name} [${shape.join(', ')}] (${dtype}) overflows`, ErrorCode.SHAPE);
  }
  return { count, byteLength };
}

interface CheckedTensorOptions {
  location: TensorLocation;
  device?: number;
  stream?: CudaStream;
}

function tensorOptions(options: unknown, known: readonly string[]): CheckedTensorOptions {
  const opts = expectOptions<TensorOptions>(options);
  rejectUnknownOptions(opts, known);
  const location = opts.location === undefined ? 'host' : expectOneOf(opts.location, 'options.location', tensorLocations);
  const device = opts.device === undefined ? undefined : expectInteger(opts.device, 'options.device', { min: 0 });
  const stream = opts.stream === undefined ? undefined : expectStream(opts.stream, 'options.stream');
  if (location !== 'device' && (device !== undefined || stream !== undefined)) {
    throw new ArgumentRangeError(
      `options.device and options.stream apply to device tensors only, but options.location is ${JSON.stringify(location)}`,
    );
  }
  if (device !== undefined && stream !== undefined && stream.device !== device) {
    throw new ArgumentRangeError(
      `Expected a stream of device ${device} for options.stream but received a stream of device ${stream.device}`,
    );
  }
  return { location, device, stream };
}

function allocateHost(dtype: DType, count: number, byteLength: number): TypedArrayFor<DType> {
  try {
    return allocateTypedArray(dtype, count);
  } catch (error) {
    throw new TensorRTNodeError(
      ErrorCode.OUT_OF_MEMORY,
      `Could not allocate ${byteLength} bytes of host memory for ${withArticle(dtype)} tensor: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}

const inferredDTypes = new Map<unknown, DType>([
  [Float32Array, 'float32'],
  [Float64Array, 'float64'],
  [Int8Array, 'int8'],
  [Uint8Array, 'uint8'],
  [Int32Array, 'int32'],
  [BigInt64Array, 'int64'],
]);

/** `data` with its dtype: options.dtype checked against it, else inferred from its class; a Float16Array as its bits' view. */
function typedData(data: unknown, dtype: unknown): { dtype: DType; data: AnyTypedArray } {
  if (!ArrayBuffer.isView(data) || data instanceof DataView) throw invalidType('a TypedArray', 'data', data);
  if (dtype !== undefined) {
    const checked = expectDType(dtype, 'options.dtype');
    const viewed = asDTypeArray(checked, data);
    if (!viewed) {
      throw new ArgumentTypeError(
        `Expected ${withArticle(typedArrayConstructor(checked).name)} for data (options.dtype is ${checked}) but received ${describeValue(data)}`,
        ErrorCode.DTYPE,
      );
    }
    return { dtype: checked, data: viewed };
  }
  const inferred = inferredDTypes.get(data.constructor);
  if (inferred) return { dtype: inferred, data: data as AnyTypedArray };
  const bits = asFloat16Bits(data);
  if (bits !== data) return { dtype: 'float16', data: bits as Uint16Array }; // a Float16Array
  if (data instanceof Uint16Array) {
    throw new ArgumentTypeError(
      'Expected options.dtype ("float16" or "bfloat16") for data, a Uint16Array, whose element type is ambiguous',
      ErrorCode.DTYPE,
    );
  }
  throw new ArgumentTypeError(
    `Expected a TypedArray of a supported dtype (Float32Array, Float64Array, Int8Array, Uint8Array, Int32Array, BigInt64Array, or Uint16Array with options.dtype) for data but received ${describeValue(data)}`,
    ErrorCode.DTYPE,
  );
}
