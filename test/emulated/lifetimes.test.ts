// Lifetimes on the emulated device (EMULATION, NOT A GPU): memory a queued operation uses must live
// until that operation finished, whatever JS disposes in the meantime. The emulated device holds
// work in flight (a latency per operation) and catches any operation that touches freed memory
// (counter memoryViolations, and a sticky illegal address as a GPU would raise).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copy, cuda, Tensor } from '../../lib/index.js';
import { emulatedDevice } from './emulated.js';

const hooks = emulatedDevice();

async function settledStats(expected: { deviceBuffers: number; pinnedBuffers: number }): Promise<void> {
  // Frees run on the addon's releaser thread, after the jobs holding the memory finished.
  for (let attempt = 0; attempt < 400; attempt++) {
    const stats = cuda.allocationStats();
    if (stats.deviceBuffers === expected.deviceBuffers && stats.pinnedBuffers === expected.pinnedBuffers) break;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  expect(cuda.allocationStats()).toMatchObject(expected);
}

describe('emulated device: memory lives until the work using it finished', () => {
  beforeEach(() => hooks.setLatencyMicroseconds(30_000));
  afterEach(() => {
    hooks.setLatencyMicroseconds(0);
    expect(hooks.counter('memoryViolations')).toBe(0);
    expect(hooks.counter('stickyError')).toBe(0);
  });

  // Issue 14, defect 1: copy(dst, src) then src.dispose(), with src allocated (stream-ordered) on
  // stream A and the copy on stream B. cudaFreeAsync on A does not wait for B, so the buffer may go
  // only once B's copy completed.
  it('emulated device: disposing the source of a copy on another stream right after submitting it', async () => {
    const allocating = cuda.createStream();
    const copying = cuda.createStream();
    const data = Float32Array.from({ length: 4096 }, (_, i) => i * 0.5);
    const src = await Tensor.fromArray(data, { location: 'device', stream: allocating });
    const dst = Tensor.allocate('float32', [data.length], { location: 'pinned' });
    const copied = copy(dst, src, { stream: copying });
    src.dispose();
    await copied;
    expect(dst.data).toEqual(data);
    dst.dispose();
    allocating.dispose();
    copying.dispose();
  });

  it('emulated device: disposing the destination of a copy right after submitting it', async () => {
    const stream = cuda.createStream();
    const before = cuda.allocationStats();
    const src = await Tensor.fromArray(new Float32Array(2048).fill(3), { location: 'pinned' });
    const dst = Tensor.allocate('float32', [2048], { location: 'device', stream });
    const copied = copy(dst, src, { stream });
    dst.dispose();
    src.dispose();
    await copied;
    await settledStats({ deviceBuffers: before.deviceBuffers, pinnedBuffers: before.pinnedBuffers });
    stream.dispose();
  });

  it('emulated device: disposing a stream with work in flight lets that work finish', async () => {
    const stream = cuda.createStream();
    const src = await Tensor.fromArray(new Uint8Array(1000).fill(9), { location: 'pinned' });
    const dst = Tensor.allocate('uint8', [1000], { location: 'device', stream });
    const back = Tensor.allocate('uint8', [1000], { location: 'pinned' });
    const first = copy(dst, src, { stream });
    const second = copy(back, dst, { stream });
    stream.dispose();
    expect(stream.disposed).toBe(true);
    await Promise.all([first, second]);
    expect(back.data).toEqual(new Uint8Array(1000).fill(9));
    for (const tensor of [src, dst, back]) tensor.dispose();
  });

  it('emulated device: allocations are balanced once everything is disposed', async () => {
    // Every test of this file disposes what it allocated: once the releaser thread caught up, nothing is left.
    const stream = cuda.createStream();
    const tensors = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        Tensor.fromArray(new Float32Array(256).fill(i), i % 2 === 0 ? { location: 'device', stream } : { location: 'pinned' }),
      ),
    );
    expect(cuda.allocationStats().deviceBuffers).toBeGreaterThanOrEqual(10);
    const copies = tensors.slice(1).map((tensor, i) => copy(tensors[i]!, tensor, { stream }).catch(() => undefined));
    for (const tensor of tensors) tensor.dispose();
    await Promise.all(copies);
    stream.dispose();
    await settledStats({ deviceBuffers: 0, pinnedBuffers: 0 });
    const live = () => hooks.counter('liveDeviceAllocations') + hooks.counter('livePinnedAllocations');
    for (let attempt = 0; attempt < 400 && live() !== 0; attempt++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(live()).toBe(0);
  });
});
