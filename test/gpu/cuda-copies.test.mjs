// Copies between every pair of locations, on real GPUs: contents survive every path, work on one
// stream stays ordered, streams order each other through events, and the event loop stays free.
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { copy, cuda, CudaError, ArgumentRangeError, Tensor, TensorRTNodeError } from '../../dist/index.js';
import { memset } from '../../dist/cuda/index.js';
import { disposeTracked, random, randomBytes, skip, track } from './gpu.mjs';

const locations = ['host', 'pinned', 'device'];

function sample(dtype, length, seed) {
  const next = random(seed);
  switch (dtype) {
    case 'float32':
      return Float32Array.from({ length }, () => next() * 2000 - 1000);
    case 'int64':
      return BigInt64Array.from({ length }, () => BigInt(Math.floor(next() * 2 ** 40)) - 2n ** 39n);
    case 'float16':
      return Uint16Array.from({ length }, () => Math.floor(next() * 65536));
    default:
      return randomBytes(length, seed);
  }
}

async function tensorOf(location, data, dtype) {
  return Tensor.fromArray(data, { location, dtype });
}

describe('copy() between locations', { skip }, () => {
  afterEach(disposeTracked);

  for (const from of locations) {
    for (const to of locations) {
      test(`${from} -> ${to} keeps every byte (float32, 1 MiB + 3 elements)`, async () => {
        const data = sample('float32', 262_147, 11);
        const src = track(await tensorOf(from, data));
        const dst = track(Tensor.allocate('float32', [data.length], { location: to }));
        await copy(dst, src);
        assert.deepEqual(await dst.toArray(), data);
      });
    }
  }

  for (const [dtype, length] of [
    ['int64', 1001],
    ['float16', 4097],
    ['uint8', 1],
    ['uint8', 0],
  ]) {
    test(`host -> device -> host round trip of ${dtype} x ${length}`, async () => {
      const data = sample(dtype, length, length);
      const onDevice = track(await Tensor.fromArray(data, { location: 'device', dtype }));
      assert.equal(onDevice.byteLength, data.byteLength);
      assert.deepEqual(await onDevice.toArray(), data);
    });
  }

  test('work on one stream runs in submission order (no await in between)', async () => {
    const stream = cuda.createStream();
    const chain = Array.from({ length: 8 }, () => Tensor.allocate('float32', [65_536], { location: 'device', stream }));
    const first = sample('float32', 65_536, 3);
    const pending = [copy(chain[0], await Tensor.fromArray(first), { stream })];
    for (let i = 1; i < chain.length; i++) pending.push(copy(chain[i], chain[i - 1], { stream }));
    const result = chain.at(-1).toArray({ stream });
    await Promise.all(pending);
    assert.deepEqual(await result, first);
    for (const tensor of chain) tensor.dispose();
    stream.dispose();
  });

  test('a stream waits for an event recorded on another stream', async () => {
    const producer = cuda.createStream();
    const consumer = cuda.createStream({ priority: 'high' });
    const data = sample('float32', 1 << 20, 5);
    const host = track(await Tensor.fromArray(data, { location: 'pinned' }));
    const shared = track(Tensor.allocate('float32', [data.length], { location: 'device', stream: producer }));
    const out = track(Tensor.allocate('float32', [data.length], { location: 'pinned' }));
    const ready = cuda.createEvent({ timing: false });
    const produced = copy(shared, host, { stream: producer });
    ready.record(producer);
    consumer.waitFor(ready);
    await copy(out, shared, { stream: consumer });
    await produced;
    assert.deepEqual(out.data, data);
    await consumer.synchronize();
    producer.dispose();
    consumer.dispose();
  });

  test('a device tensor allocated on one stream is usable on another right away', async () => {
    const allocating = cuda.createStream();
    const other = cuda.createStream();
    const data = sample('float32', 4096, 9);
    const device = track(Tensor.allocate('float32', [4096], { location: 'device', stream: allocating }));
    await copy(device, await Tensor.fromArray(data), { stream: other });
    assert.deepEqual(await device.toArray({ stream: other }), data);
    allocating.dispose();
    other.dispose();
  });

  test('memset() fills device and pinned memory', async () => {
    const device = track(Tensor.allocate('uint8', [1000], { location: 'device' }));
    const pinned = track(Tensor.allocate('uint8', [1000], { location: 'pinned' }));
    await memset(device, 0xab);
    await memset(pinned, 7);
    assert.ok((await device.toArray()).every((byte) => byte === 0xab));
    assert.ok(pinned.data.every((byte) => byte === 7));
  });

  test('the event loop keeps running while a stream of copies is in flight', async () => {
    const stream = cuda.createStream();
    const src = track(Tensor.allocate('uint8', [64 << 20], { location: 'pinned' }));
    const dst = track(Tensor.allocate('uint8', [64 << 20], { location: 'device' }));
    const delay = monitorEventLoopDelay({ resolution: 1 });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    delay.enable();
    const started = performance.now();
    const copies = [];
    for (let i = 0; i < 40; i++) copies.push(copy(dst, src, { stream }), copy(src, dst, { stream }));
    await Promise.all(copies);
    const elapsed = performance.now() - started;
    delay.disable();
    clearInterval(timer);
    // 5 GiB moved: if anything blocked the loop, the 1 ms timer could not have kept up.
    assert.ok(ticks >= elapsed / 4, `only ${ticks} timer ticks in ${elapsed.toFixed(0)} ms`);
    assert.ok(delay.percentile(99) / 1e6 < 20, `event-loop delay p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms`);
    stream.dispose();
  });

  test('BAD CALL - a device index out of range is a RangeError naming the valid range', () => {
    const count = cuda.deviceCount();
    assert.throws(
      () => cuda.createStream({ device: count }),
      (error) => {
        assert.ok(error instanceof ArgumentRangeError);
        assert.equal(error.code, 'ERR_INVALID_ARGUMENT');
        assert.equal(
          error.message,
          `Expected an integer between 0 and ${count - 1} for options.device but received ${count} of type number`,
        );
        return true;
      },
    );
  });

  test('BAD CALL - device memory larger than the GPU has is ERR_OUT_OF_MEMORY, and the GPU stays usable', async () => {
    const { totalBytes } = cuda.memoryInfo(0);
    assert.throws(
      () => Tensor.allocate('uint8', [totalBytes * 2], { location: 'device' }),
      (error) => {
        assert.ok(error instanceof CudaError);
        assert.equal(error.code, 'ERR_OUT_OF_MEMORY');
        assert.deepEqual(error.cudaError, { code: 2, name: 'cudaErrorMemoryAllocation' });
        return true;
      },
    );
    const small = track(await Tensor.fromArray(new Float32Array([1, 2, 3]), { location: 'device' }));
    assert.deepEqual(await small.toArray(), new Float32Array([1, 2, 3]));
  });

  test('BAD CALL - a disposed stream refuses work with ERR_DISPOSED; disposing twice is harmless', async () => {
    const stream = cuda.createStream();
    stream.dispose();
    stream.dispose();
    const a = track(Tensor.allocate('float32', [4], { location: 'pinned' }));
    const b = track(Tensor.allocate('float32', [4], { location: 'pinned' }));
    await assert.rejects(copy(a, b, { stream }), (error) => {
      assert.ok(error instanceof TensorRTNodeError);
      assert.equal(error.code, 'ERR_DISPOSED');
      assert.equal(error.message, 'The stream given as options.stream was disposed and can no longer be used');
      return true;
    });
  });
});
