// Devices, streams and events on real GPUs.
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copy, cuda, Tensor, TensorRTNodeError } from '../../dist/index.js';
import { disposeTracked, skip, track } from './gpu.mjs';

describe('devices', { skip }, () => {
  test('cuda.devices() describes every device', () => {
    const devices = cuda.devices();
    assert.equal(devices.length, cuda.deviceCount());
    for (const [index, device] of devices.entries()) {
      assert.equal(device.index, index);
      assert.ok(device.name.length > 0);
      assert.match(device.uuid, /^GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      assert.match(device.computeCapability, /^\d+\.\d+$/);
      assert.match(device.pciBusId, /^[0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.[0-9A-Fa-f]$/);
      assert.ok(device.multiProcessorCount > 0 && device.totalMemoryBytes > 0 && device.clockRateKHz > 0);
      assert.ok(device.memoryBusWidthBits > 0);
      assert.equal(
        device.theoreticalBandwidthBytesPerSecond,
        2 * device.memoryClockRateKHz * 1000 * (device.memoryBusWidthBits / 8),
      );
      const memory = cuda.memoryInfo(index);
      assert.ok(memory.freeBytes > 0 && memory.freeBytes <= memory.totalBytes);
    }
  });
});

describe('streams and events', { skip }, () => {
  afterEach(disposeTracked);

  test('priorities map onto the device range', () => {
    const range = cuda.streamPriorityRange(0);
    const high = track(cuda.createStream({ priority: 'high' }));
    const normal = track(cuda.createStream());
    assert.equal(high.priority, range.greatest);
    assert.equal(normal.priority, range.least);
    assert.throws(() => cuda.createStream({ priority: range.greatest - 1 }), {
      name: 'ArgumentRangeError',
      message: `Expected an integer between ${range.greatest} and ${range.least} (lower runs first) for options.priority but received ${range.greatest - 1} of type number`,
    });
  });

  test('elapsedTime() measures the GPU time between two events', async () => {
    const stream = track(cuda.createStream());
    const start = track(cuda.createEvent());
    const end = track(cuda.createEvent());
    const src = track(Tensor.allocate('uint8', [256 << 20], { location: 'pinned' }));
    const dst = track(Tensor.allocate('uint8', [256 << 20], { location: 'device' }));
    start.record(stream);
    const copied = copy(dst, src, { stream });
    end.record(stream);
    await copied;
    await end.synchronize();
    assert.equal(end.query(), true);
    const milliseconds = start.elapsedTime(end);
    // 256 MiB over any PCIe or NVLink takes between 5 us and 1 s.
    assert.ok(milliseconds > 0.005 && milliseconds < 1000, `${milliseconds} ms`);
  });

  test('synchronize() resolves after everything submitted before it; pending counts in-flight work', async () => {
    const stream = track(cuda.createStream());
    const src = track(Tensor.allocate('uint8', [64 << 20], { location: 'pinned' }));
    const dst = track(Tensor.allocate('uint8', [64 << 20], { location: 'device' }));
    let copiedFirst = false;
    const copied = copy(dst, src, { stream }).then(() => (copiedFirst = true));
    assert.ok(stream.pending >= 1);
    await stream.synchronize();
    assert.equal(copiedFirst, true);
    await copied;
    assert.equal(stream.pending, 0);
  });

  test('Symbol.asyncDispose waits for submitted work, then disposes', async () => {
    const stream = cuda.createStream();
    const src = track(Tensor.allocate('uint8', [32 << 20], { location: 'pinned' }));
    const dst = track(Tensor.allocate('uint8', [32 << 20], { location: 'device' }));
    let copied = false;
    const copying = copy(dst, src, { stream }).then(() => (copied = true));
    await stream[Symbol.asyncDispose]();
    assert.equal(stream.disposed, true);
    await copying;
    assert.equal(copied, true);
  });

  test('BAD CALL - elapsedTime needs two recorded timing events', () => {
    const stream = track(cuda.createStream());
    const timed = track(cuda.createEvent());
    const untimed = track(cuda.createEvent({ timing: false }));
    assert.throws(() => timed.elapsedTime(untimed), {
      message: 'Expected an event created with { timing: true } for end but received an event created with { timing: false }',
    });
    assert.throws(() => timed.elapsedTime(timed), {
      message: 'Expected a recorded event for the start event but received an event that was never recorded',
    });
    timed.record(stream);
    assert.throws(() => timed.elapsedTime('later'), {
      name: 'ArgumentTypeError',
      message: 'Expected a CudaEvent for end but received "later" of type string',
    });
  });

  test('BAD CALL - disposed events and streams throw ERR_DISPOSED; dispose is idempotent', async () => {
    const stream = cuda.createStream();
    const event = cuda.createEvent();
    event.dispose();
    event.dispose();
    stream.dispose();
    stream.dispose();
    assert.throws(
      () => event.query(),
      (error) =>
        error instanceof TensorRTNodeError &&
        error.code === 'ERR_DISPOSED' &&
        error.message === 'The event was disposed and can no longer be used',
    );
    assert.throws(
      () => cuda.createEvent().record(stream),
      (error) =>
        error.code === 'ERR_DISPOSED' && error.message === 'The stream given as stream was disposed and can no longer be used',
    );
    await assert.rejects(
      stream.synchronize(),
      (error) => error.code === 'ERR_DISPOSED' && error.message === 'The stream was disposed and can no longer be used',
    );
  });
});
