// Pinned and device memory on real GPUs: a pinned tensor's .data IS the pinned memory (no copy),
// dispose() is deterministic and idempotent, finalizers free what was never disposed, memory in
// use by the GPU outlives dispose() until the work completed, and V8 is told about all of it.
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copy, cuda, Tensor, TensorRTNodeError } from '../../dist/index.js';
import { nativeMemoryOf } from '../../dist/cuda/tensor.js';
import { addon, collectGarbage, disposeTracked, eventually, random, skip, track } from './gpu.mjs';

const stats = () => cuda.allocationStats();

describe('pinned memory is zero-copy', { skip }, () => {
  afterEach(disposeTracked);

  test('.data is backed by the pinned allocation itself: same address, and CUDA calls it pinned', () => {
    const tensor = track(Tensor.allocate('float32', [1024], { location: 'pinned' }));
    assert.equal(tensor.zeroCopy, true);
    assert.equal(addon.cudaAddressOf(tensor.data), nativeMemoryOf(tensor, 'the tensor').address());
    assert.equal(addon.cudaPointerKind(tensor.data), 'pinned');
    assert.equal(addon.cudaPointerKind(new Float32Array(1024)), 'pageable');
  });

  test('what JS writes into .data is what the GPU reads, and what the GPU writes shows in .data with no extra step', async () => {
    const next = random(1);
    const input = track(Tensor.allocate('float32', [1 << 16], { location: 'pinned' }));
    for (let i = 0; i < input.data.length; i++) input.data[i] = next();
    const expected = input.data.slice();
    const device = track(Tensor.allocate('float32', [1 << 16], { location: 'device' }));
    await copy(device, input);
    const output = track(Tensor.allocate('float32', [1 << 16], { location: 'pinned' }));
    const view = output.data; // taken before the copy: the same memory, updated in place by the GPU
    await copy(output, device);
    assert.deepEqual(view, expected);
  });

  test('where external buffers are refused, pinned tensors fall back to copying and stay correct', async () => {
    process.env.TENSORRT_NODE_FORCE_COPYING_PINNED = '1';
    let pinned;
    try {
      pinned = track(Tensor.allocate('int32', [4096], { location: 'pinned' }));
    } finally {
      delete process.env.TENSORRT_NODE_FORCE_COPYING_PINNED;
    }
    assert.equal(pinned.zeroCopy, false);
    assert.equal(addon.cudaPointerKind(pinned.data), 'pageable');
    pinned.data.set(Int32Array.from({ length: 4096 }, (_, i) => i * 3));
    const device = track(Tensor.allocate('int32', [4096], { location: 'device' }));
    await copy(device, pinned);
    pinned.data.fill(0);
    await copy(pinned, device);
    assert.deepEqual(
      pinned.data,
      Int32Array.from({ length: 4096 }, (_, i) => i * 3),
    );
  });
});

describe('dispose and finalizers', { skip }, () => {
  afterEach(disposeTracked);

  test('dispose() twice is harmless; every later use throws ERR_DISPOSED; old views become empty', async () => {
    const before = stats();
    const tensor = Tensor.allocate('float32', [1 << 20], { location: 'pinned' });
    const view = tensor.data;
    assert.equal(view.length, 1 << 20);
    tensor.dispose();
    tensor.dispose();
    assert.equal(view.length, 0, 'the ArrayBuffer is detached, so JS can never touch freed memory');
    assert.throws(
      () => tensor.data,
      (error) =>
        error instanceof TensorRTNodeError &&
        error.code === 'ERR_DISPOSED' &&
        error.message === 'The tensor was disposed and can no longer be used',
    );
    await assert.rejects(
      copy(track(Tensor.allocate('float32', [1 << 20], { location: 'device' })), tensor),
      (error) => error.code === 'ERR_DISPOSED' && error.message === 'Tensor src was disposed and can no longer be used',
    );
    assert.ok(await eventually(() => stats().pinnedBuffers === before.pinnedBuffers), 'the pinned buffer was freed');
  });

  test('disposing tensors while the GPU still copies them frees them only after the copy completed', async () => {
    const before = stats();
    const data = Float32Array.from({ length: 16 << 20 }, (_, i) => i % 1000);
    const src = await Tensor.fromArray(data, { location: 'pinned' });
    const device = Tensor.allocate('float32', [data.length], { location: 'device' });
    const copied = copy(device, src);
    src.dispose();
    const back = Tensor.allocate('float32', [data.length], { location: 'pinned' });
    const returned = copy(back, device);
    device.dispose();
    await copied;
    await returned;
    assert.deepEqual(back.data, data);
    back.dispose();
    assert.ok(
      await eventually(() => stats().pinnedBuffers === before.pinnedBuffers && stats().deviceBuffers === before.deviceBuffers),
    );
  });

  test('tensors that are never disposed are freed by their finalizers', async () => {
    const before = stats();
    (() => {
      for (let i = 0; i < 8; i++) {
        Tensor.allocate('uint8', [1 << 20], { location: 'pinned' });
        Tensor.allocate('uint8', [1 << 20], { location: 'device' });
      }
    })();
    assert.equal(stats().pinnedBuffers, before.pinnedBuffers + 8);
    const freed = await eventually(() => {
      collectGarbage();
      return stats().pinnedBuffers === before.pinnedBuffers && stats().deviceBuffers === before.deviceBuffers;
    }, 10_000);
    assert.ok(freed, `still allocated: ${JSON.stringify(stats())}`);
  });

  test('a pinned .data view kept after its tensor was collected keeps the memory valid', async () => {
    const view = (() => {
      const tensor = Tensor.allocate('uint8', [4096], { location: 'pinned' });
      tensor.data.fill(42);
      return tensor.data;
    })();
    collectGarbage();
    await new Promise((resolve) => setTimeout(resolve, 50));
    collectGarbage();
    assert.equal(view.length, 4096);
    assert.ok(view.every((byte) => byte === 42));
  });

  test('V8 is told about pinned and device memory, and told again when it goes', () => {
    const bytes = 256 << 20;
    const before = process.memoryUsage().external;
    const pinned = Tensor.allocate('uint8', [bytes], { location: 'pinned' });
    const device = Tensor.allocate('uint8', [bytes], { location: 'device' });
    const during = process.memoryUsage().external;
    assert.ok(during - before >= 2 * bytes * 0.99, `external grew by ${during - before}`);
    pinned.dispose();
    device.dispose();
    // The drop is immediate (V8's own ArrayBuffer accounting may lag until the next GC: not measured).
    const after = process.memoryUsage().external;
    assert.ok(during - after >= 2 * bytes * 0.99, `external shrank by ${during - after}`);
  });
});
