// Tensors and the GPU operations of the CUDA layer on the emulated device (EMULATION, NOT A GPU):
// every byte survives every path, streams order work, and the kernels compute what the TypeScript
// references compute (the same per-element functions run on a GPU; this proves the plumbing).
import { afterEach, describe, expect, it } from 'vitest';
import {
  copy,
  cuda,
  float16BitsToFloat32,
  float32ToFloat16Bits,
  imagePreprocessParams,
  preprocessImageCpu,
  Tensor,
  type TensorLocation,
} from '../../lib/index.js';

const { convertFloat, memset, preprocessImage } = cuda;
import { emulatedDevice } from './emulated.js';

const locations: TensorLocation[] = ['host', 'pinned', 'device'];
const tracked: Tensor[] = [];
function track<T extends Tensor>(tensor: T): T {
  tracked.push(tensor);
  return tensor;
}

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function sampleFloats(length: number, seed: number): Float32Array {
  const next = random(seed);
  return Float32Array.from({ length }, () => next() * 2000 - 1000);
}

afterEach(() => {
  for (const tensor of tracked.splice(0)) tensor.dispose();
  emulatedDevice().setLatencyMicroseconds(0);
});

describe('emulated device: tensors and copies', () => {
  for (const from of locations) {
    for (const to of locations) {
      it(`emulated device: copy ${from} -> ${to} keeps every byte`, async () => {
        const data = sampleFloats(10_007, 11);
        const src = track(await Tensor.fromArray(data, { location: from }));
        const dst = track(Tensor.allocate('float32', [data.length], { location: to }));
        await copy(dst, src);
        expect(await dst.toArray()).toEqual(data);
      });
    }
  }

  it('emulated device: pinned tensors are zero copy and device tensors never enter JS memory', () => {
    const pinned = track(Tensor.allocate('float32', [16], { location: 'pinned' }));
    expect(pinned.zeroCopy).toBe(true);
    pinned.data[3] = 1.5;
    expect(pinned.data[3]).toBe(1.5);
    const device = track(Tensor.allocate('float32', [16], { location: 'device' }));
    expect(device.device).toBe(0);
    expect(() => device.data).toThrow();
  });

  it('emulated device: work on one stream runs in submission order with no await in between', async () => {
    emulatedDevice().setLatencyMicroseconds(2_000);
    const stream = cuda.createStream();
    const chain = Array.from({ length: 6 }, () => track(Tensor.allocate('float32', [4096], { location: 'device', stream })));
    const first = sampleFloats(4096, 3);
    const source = track(await Tensor.fromArray(first, { location: 'pinned' }));
    const pending = [copy(chain[0]!, source, { stream })];
    for (let i = 1; i < chain.length; i++) pending.push(copy(chain[i]!, chain[i - 1]!, { stream }));
    const result = chain.at(-1)!.toArray({ stream });
    expect(stream.pending).toBeGreaterThan(0);
    await Promise.all(pending);
    expect(await result).toEqual(first);
    stream.dispose();
  });

  it('emulated device: a stream waits for an event recorded on another stream', async () => {
    emulatedDevice().setLatencyMicroseconds(10_000);
    const producer = cuda.createStream();
    const consumer = cuda.createStream({ priority: 'high' });
    const data = sampleFloats(1 << 14, 5);
    const host = track(await Tensor.fromArray(data, { location: 'pinned' }));
    const shared = track(Tensor.allocate('float32', [data.length], { location: 'device', stream: producer }));
    const out = track(Tensor.allocate('float32', [data.length], { location: 'pinned' }));
    const ready = cuda.createEvent({ timing: false });
    const produced = copy(shared, host, { stream: producer });
    ready.record(producer);
    consumer.waitFor(ready);
    await copy(out, shared, { stream: consumer });
    await produced;
    expect(out.data).toEqual(data);
    ready.dispose();
    producer.dispose();
    consumer.dispose();
  });

  it('emulated device: memset sets every byte of pinned and device memory', async () => {
    for (const location of ['pinned', 'device'] as const) {
      const tensor = track(Tensor.allocate('uint8', [1000], { location }));
      await memset(tensor, 0xab);
      expect(await tensor.toArray()).toEqual(new Uint8Array(1000).fill(0xab));
    }
  });
});

describe('emulated device: kernels against the TypeScript references', () => {
  it('emulated device: float16 -> float32 of all 65,536 patterns matches lib/dtypes', async () => {
    const patterns = Uint16Array.from({ length: 65_536 }, (_, index) => index);
    const src = track(await Tensor.fromArray(patterns, { location: 'device', dtype: 'float16' }));
    const dst = track(Tensor.allocate('float32', [patterns.length], { location: 'device' }));
    await convertFloat(dst, src);
    const kernel = await dst.toArray();
    for (let bits = 0; bits < 65_536; bits++) {
      const expected = float16BitsToFloat32(bits);
      if (Number.isNaN(expected)) expect(Number.isNaN(kernel[bits])).toBe(true);
      else if (kernel[bits] !== expected || Object.is(kernel[bits], -0) !== Object.is(expected, -0))
        expect([bits, kernel[bits]]).toEqual([bits, expected]);
    }
  });

  it('emulated device: float32 -> float16 of a stratified subset matches lib/dtypes (NaN payloads aside)', async () => {
    // Every sign and exponent, 64 mantissa tops, and the low bits that decide rounding.
    const lows = [0x0000, 0x0001, 0x0fff, 0x1000, 0x1001, 0x1fff, 0x0800, 0x1800];
    const bits = new Uint32Array(2 * 256 * 64 * lows.length);
    let index = 0;
    for (let sign = 0; sign < 2; sign++) {
      for (let exponent = 0; exponent < 256; exponent++) {
        for (let top = 0; top < 64; top++) {
          for (const low of lows) bits[index++] = ((sign << 31) | (exponent << 23) | ((top * 16 + (top & 15)) << 13) | low) >>> 0;
        }
      }
    }
    const values = new Float32Array(bits.buffer);
    const src = track(await Tensor.fromArray(values, { location: 'pinned' }));
    const dst = track(Tensor.allocate('float16', [values.length], { location: 'pinned' }));
    await convertFloat(dst, src);
    const mismatches: string[] = [];
    for (let i = 0; i < values.length; i++) {
      const expected = float32ToFloat16Bits(values[i]!);
      const actual = dst.data[i]!;
      const bothNaN =
        (expected & 0x7c00) === 0x7c00 && (expected & 0x3ff) !== 0 && (actual & 0x7c00) === 0x7c00 && (actual & 0x3ff) !== 0;
      if (actual !== expected && !bothNaN)
        mismatches.push(`${bits[i]!.toString(16)}: ${actual.toString(16)} != ${expected.toString(16)}`);
    }
    expect(mismatches.slice(0, 10)).toEqual([]);
  });

  for (const outputType of ['float32', 'float16'] as const) {
    it(`emulated device: preprocessImage to ${outputType} matches preprocessImageCpu bit for bit`, async () => {
      const shape = [2, 7, 9, 4];
      const pixels = Uint8Array.from({ length: 2 * 7 * 9 * 4 }, (_, i) => (i * 37 + 11) % 256);
      const options = { inputFormat: 'bgra', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], scale: 1 / 255 } as const;
      const src = track(await Tensor.fromArray(pixels, { location: 'device', shape }));
      const dst = track(Tensor.allocate(outputType, [2, 3, 7, 9], { location: 'device' }));
      await preprocessImage(dst, src, options);
      const expected = preprocessImageCpu(pixels, imagePreprocessParams(shape, outputType, options));
      expect(await dst.toArray()).toEqual(expected);
    });
  }
});
