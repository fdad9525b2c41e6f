// The CUDA layer on a machine without a GPU: every entry point fails with the exact CUDA reason
// (error 35 without a driver, worded as doctor words it), bad input is rejected before and after reaching native code, and the
// process stays healthy throughout. Real GPU behaviour is covered by test/gpu.
import { constants as bufferConstants } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import * as cuda from '../../lib/cuda/index.js';
import { ArgumentRangeError, ArgumentTypeError, CudaError, TensorRTNodeError } from '../../lib/core/errors.js';
import { copy, Tensor } from '../../lib/cuda/tensor.js';
import { expectError, expectErrorSync } from '../helpers/expect-error.js';
import { addon, cudaCompiled, hasNoDriver } from '../helpers/machine.js';

// CUDA's own text for error 35 ("driver version is insufficient") is what it says with no driver
// at all; the error bridge words it from the driver facts, as doctor does (addon/cuda-diagnosis.ts).
const driverMissing = (operation: string) =>
  `${operation} failed (CUDA error 35): No NVIDIA driver is installed (libcuda.so.1 is missing); run \`npx tensorrt-node doctor\` for the fix`;

function expectDriverError(error: Error): void {
  expect((error as CudaError).cudaError).toEqual({ code: 35, name: 'cudaErrorInsufficientDriver' });
}

describe.runIf(cudaCompiled && hasNoDriver)('CUDA without a driver', () => {
  it('cuda.isAvailable() says no without throwing', () => {
    expect(cuda.isAvailable()).toBe(false);
  });

  it('device queries throw CudaError ERR_CUDA_DRIVER carrying cudaError 35', () => {
    for (const call of [
      () => cuda.deviceCount(),
      () => cuda.devices(),
      () => cuda.memoryInfo(),
      () => cuda.streamPriorityRange(0),
    ]) {
      expectDriverError(expectErrorSync(call, CudaError, 'ERR_CUDA_DRIVER', driverMissing('cudaGetDeviceCount')));
    }
  });

  it('streams, events and the default stream throw ERR_CUDA_DRIVER', () => {
    expectDriverError(
      expectErrorSync(() => cuda.createStream(), CudaError, 'ERR_CUDA_DRIVER', driverMissing('cudaGetDeviceCount')),
    );
    expectDriverError(
      expectErrorSync(
        () => cuda.createStream({ device: 3, priority: 'high' }),
        CudaError,
        'ERR_CUDA_DRIVER',
        driverMissing('cudaGetDeviceCount'),
      ),
    );
    expectDriverError(
      expectErrorSync(
        () => cuda.createEvent({ timing: false }),
        CudaError,
        'ERR_CUDA_DRIVER',
        driverMissing('cudaGetDeviceCount'),
      ),
    );
    expectDriverError(
      expectErrorSync(() => cuda.defaultStream(), CudaError, 'ERR_CUDA_DRIVER', driverMissing('cudaGetDeviceCount')),
    );
  });

  it('pinned and device tensors cannot be allocated (sync) or created from arrays (async)', async () => {
    expectDriverError(
      expectErrorSync(
        () => Tensor.allocate('float32', [4], { location: 'pinned' }),
        CudaError,
        'ERR_CUDA_DRIVER',
        driverMissing('cudaGetDeviceCount'),
      ),
    );
    expectDriverError(
      expectErrorSync(
        () => Tensor.allocate('float32', [0], { location: 'pinned' }),
        CudaError,
        'ERR_CUDA_DRIVER',
        driverMissing('cudaGetDeviceCount'),
      ),
    );
    expectDriverError(
      expectErrorSync(
        () => Tensor.allocate('float32', [4], { location: 'device' }),
        CudaError,
        'ERR_CUDA_DRIVER',
        driverMissing('cudaGetDeviceCount'),
      ),
    );
    expectDriverError(
      await expectError(
        () => Tensor.fromArray(new Float32Array(4), { location: 'pinned' }),
        CudaError,
        'ERR_CUDA_DRIVER',
        driverMissing('cudaGetDeviceCount'),
      ),
    );
    expectDriverError(
      await expectError(
        () => Tensor.fromArray(new Float32Array(4), { location: 'device', device: 1 }),
        CudaError,
        'ERR_CUDA_DRIVER',
        driverMissing('cudaGetDeviceCount'),
      ),
    );
  });

  it('the native classes fail the same way when constructed directly, and leave nothing allocated', () => {
    const native = addon!;
    expectDriverError(
      expectErrorSync(() => new native.StreamWrap!(0, 0), CudaError, 'ERR_CUDA_DRIVER', driverMissing('cudaGetDeviceCount')),
    );
    expectDriverError(
      expectErrorSync(() => new native.EventWrap!(0, true), CudaError, 'ERR_CUDA_DRIVER', driverMissing('cudaGetDeviceCount')),
    );
    expectDriverError(
      expectErrorSync(() => new native.PinnedBufferWrap!(64), CudaError, 'ERR_CUDA_DRIVER', driverMissing('cudaGetDeviceCount')),
    );
    expectDriverError(
      expectErrorSync(
        () => new native.DeviceBufferWrap!(64, 0),
        CudaError,
        'ERR_CUDA_DRIVER',
        driverMissing('cudaGetDeviceCount'),
      ),
    );
    expectDriverError(
      expectErrorSync(
        () => native.cudaPointerKind!(new Uint8Array(8)),
        CudaError,
        'ERR_CUDA_DRIVER',
        driverMissing('cudaPointerGetAttributes'),
      ),
    );
    expect(native.cudaAllocationStats!()).toEqual({ pinnedBuffers: 0, pinnedBytes: 0, deviceBuffers: 0, deviceBytes: 0 });
  });

  it('the process stays healthy: host tensors still work and the same call fails the same way again', async () => {
    const src = await Tensor.fromArray(new Float32Array([1, 2, 3]));
    const dst = Tensor.allocate('float32', [3]);
    await copy(dst, src);
    expect(Array.from(dst.data)).toEqual([1, 2, 3]);
    expectDriverError(expectErrorSync(() => cuda.devices(), CudaError, 'ERR_CUDA_DRIVER', driverMissing('cudaGetDeviceCount')));
  });
});

describe.runIf(cudaCompiled)('BAD CALL - CUDA arguments are checked before any CUDA call', () => {
  it('BAD CALL - device indices and priorities of the wrong type or range', () => {
    expectErrorSync(
      () => cuda.createStream({ device: -1 }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected an integer >= 0 for options.device but received -1 of type number',
    );
    expectErrorSync(
      () => cuda.createStream({ device: '0' as never }),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected an integer for options.device but received "0" of type string',
    );
    expectErrorSync(
      () => cuda.createStream({ priority: 1.5 }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected an integer for options.priority but received 1.5 of type number',
    );
    expectErrorSync(
      () => cuda.createStream({ priority: 'urgent' as never }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected "high", "normal" or an integer for options.priority but received "urgent" of type string',
    );
    expectErrorSync(
      () => cuda.createStream({ priority: null as never }),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected "high", "normal" or an integer for options.priority but received null',
    );
    expectErrorSync(
      () => cuda.createStream({ devcie: 0 } as never),
      ArgumentRangeError,
      'ERR_UNKNOWN_OPTION',
      'Unknown option "devcie" in options (did you mean "device"?); known options: device, priority',
    );
    expectErrorSync(
      () => cuda.createEvent({ timing: 'yes' as never }),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a boolean for options.timing but received "yes" of type string',
    );
    expectErrorSync(
      () => cuda.createEvent({ device: 0.5 }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected an integer >= 0 for options.device but received 0.5 of type number',
    );
    expectErrorSync(
      () => cuda.memoryInfo(-2),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected an integer >= 0 for device but received -2 of type number',
    );
  });

  // Node 20's largest ArrayBuffer is 4 GiB; from Node 22 on it is 2^53 - 1 bytes, larger than any
  // tensor whose size is a safe integer (those are refused before, by the shape check).
  it.runIf(bufferConstants.MAX_LENGTH < Number.MAX_SAFE_INTEGER)(
    'BAD CALL - pinned tensors larger than an ArrayBuffer can be are refused before allocating',
    () => {
      const elements = Math.ceil((bufferConstants.MAX_LENGTH + 1) / 4);
      expectErrorSync(
        () => Tensor.allocate('float32', [elements], { location: 'pinned' }),
        ArgumentRangeError,
        'ERR_SHAPE',
        `Expected at most ${bufferConstants.MAX_LENGTH} bytes (the largest ArrayBuffer of this Node.js) for a pinned tensor but received ${elements * 4} bytes`,
      );
    },
  );

  it('BAD CALL - native re-checks reject what TypeScript would have, without crashing', () => {
    const native = addon!;
    expectErrorSync(
      () => new native.StreamWrap!('0' as never, 0),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected an integer for device',
    );
    expectErrorSync(
      () => new native.StreamWrap!(0.5, 0),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected an integer for device',
    );
    expectErrorSync(
      () => new native.PinnedBufferWrap!(-1),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a non-negative integer for byteLength',
    );
    expectErrorSync(
      () => new native.PinnedBufferWrap!(2 ** 53),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a non-negative integer for byteLength',
    );
    expectErrorSync(
      () => new native.DeviceBufferWrap!(NaN, 0),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a non-negative integer for byteLength',
    );
    expectErrorSync(
      () => new native.DeviceBufferWrap!(16, 0, {} as never),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a stream for stream',
    );
    expectErrorSync(
      () => native.cudaPointerKind!('memory' as never),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected an ArrayBuffer or a TypedArray for memory',
    );
    // Methods called on the wrong receiver are refused by V8 itself.
    expect(() => (native.StreamWrap!.prototype as { synchronize(): void }).synchronize.call({})).toThrow(
      new TypeError('Illegal invocation'),
    );
    expect(() => (native.PinnedBufferWrap!.prototype as { arrayBuffer(): void }).arrayBuffer.call({})).toThrow(
      new TypeError('Illegal invocation'),
    );
  });

  it('cudaAddressOf reports where JS memory lives (the zero-copy proof compares it with pinned addresses)', () => {
    const bytes = new Uint8Array(64);
    const base = addon!.cudaAddressOf!(bytes.buffer);
    expect(typeof base).toBe('bigint');
    expect(addon!.cudaAddressOf!(bytes.subarray(16))).toBe(base + 16n);
  });
});

describe('ERR_DISPOSED from TypeScript reads like the native one', () => {
  it('uses one message template', () => {
    const tensor = Tensor.allocate('float32', [1]);
    tensor.dispose();
    expectErrorSync(
      () => tensor.zeroCopy,
      TensorRTNodeError,
      'ERR_DISPOSED',
      'The tensor was disposed and can no longer be used',
    );
  });
});
