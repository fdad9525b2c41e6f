// The CUDA facade (cuda.*, buildInfo, capabilities) of the emulated build (EMULATION, NOT A GPU): the
// device answers, streams and events work, and nothing presents the emulated device as a GPU.
import { describe, expect, it } from 'vitest';
import { capabilities, cuda, CudaEvent, CudaStream, Tensor } from '../../lib/index.js';
import { emulatedDevice, rawAddon } from './emulated.js';

describe('emulated device: cuda namespace', () => {
  it('emulated device: buildInfo() says this is an emulated build', () => {
    expect(rawAddon().buildInfo().cuda.emulated).toBe(true);
    expect(emulatedDevice().name).toBe('tensorrt-node emulated device (no GPU)');
  });

  it('emulated device: devices() names it as emulation, compute capability 0.0', () => {
    expect(cuda.isAvailable()).toBe(true);
    expect(cuda.deviceCount()).toBe(1);
    const [device] = cuda.devices();
    expect(device).toMatchObject({
      index: 0,
      name: 'tensorrt-node emulated device (no GPU)',
      computeCapability: '0.0',
      pciBusId: 'ffff:ee:00.0',
      memoryPoolsSupported: true,
    });
    expect(cuda.memoryInfo(0).totalBytes).toBe(8 * 2 ** 30);
    expect(cuda.streamPriorityRange(0)).toEqual({ least: 0, greatest: -5 });
  });

  it('emulated device: capabilities() and doctor never list it as a GPU', async () => {
    const caps = await capabilities();
    expect(caps.cuda.emulated).toBe(true);
    expect(caps.cuda.usable).toBe(false);
    expect(caps.devices).toEqual([]);
    expect(caps.cuda.deviceCount).toBe(0);
    expect(caps.backends.tensorrt.available).toBe(false);
    expect(
      caps.problems.some((problem) => problem.area === 'cuda' && /emulated CUDA device \(no GPU\)/.test(problem.message)),
    ).toBe(true);
  });

  it('emulated device: streams and events order work and report completion later', async () => {
    const hooks = emulatedDevice();
    hooks.setLatencyMicroseconds(20_000);
    try {
      const stream = cuda.createStream({ priority: 'high' });
      expect(stream).toBeInstanceOf(CudaStream);
      const start = cuda.createEvent();
      const end = cuda.createEvent();
      expect(end).toBeInstanceOf(CudaEvent);
      expect(end.query()).toBe(true); // never recorded
      start.record(stream);
      const target = Tensor.allocate('uint8', [64], { location: 'device', stream });
      const work = cuda.memset(target, 7, { stream });
      end.record(stream);
      expect(end.query()).toBe(false); // the worker has not got there yet
      await work;
      await end.synchronize();
      expect(end.query()).toBe(true);
      expect(start.elapsedTime(end)).toBeGreaterThanOrEqual(15);
      expect(await target.toArray({ stream })).toEqual(new Uint8Array(64).fill(7));
      target.dispose();
      await stream.synchronize();
      stream.dispose();
      start.dispose();
      end.dispose();
    } finally {
      hooks.setLatencyMicroseconds(0);
    }
  });
});
