import { describe, expect, it } from 'vitest';
import { float32ToFloat16Bits } from '../../lib/core/dtypes.js';
import { fmaFloat32, imagePreprocessParams, preprocessImageCpu } from '../../lib/cuda/preprocess.js';

/**
 * An independent reference for fmaf on float32 inputs: the exact value as a BigInt count of 2^-149
 * (the smallest float32 subnormal), rounded once to float32, to nearest even.
 */
function referenceFma32(x: number, a: number, b: number): number {
  const scaled = (value: number) => BigInt(value * 2 ** 149); // exact: every float32 is an integer multiple of 2^-149
  const exact = BigInt(x) * scaled(a) + scaled(b);
  const negative = exact < 0n;
  const magnitude = negative ? -exact : exact;
  const bitLength = magnitude.toString(2).length;
  let rounded = magnitude;
  let shift = 0;
  if (bitLength > 24) {
    shift = bitLength - 24;
    const quotient = magnitude >> BigInt(shift);
    const remainder = magnitude - (quotient << BigInt(shift));
    const half = 1n << BigInt(shift - 1);
    rounded = remainder > half || (remainder === half && (quotient & 1n) === 1n) ? quotient + 1n : quotient;
  }
  const value = Number(rounded) * 2 ** (shift - 149);
  return negative ? -value : value;
}

// Small deterministic generator so failures reproduce.
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe("fmaFloat32 (the CPU twin of the kernel's fmaf)", () => {
  it('equals a correctly rounded fused multiply-add for every uint8 input over many float32 constants', () => {
    const next = random(7);
    let checked = 0;
    for (let trial = 0; trial < 300; trial++) {
      const a = Math.fround((next() - 0.5) * 2 ** Math.floor(next() * 40 - 20));
      const b = Math.fround((next() - 0.5) * 2 ** Math.floor(next() * 60 - 30));
      for (let x = 0; x < 256; x++) {
        const expected = referenceFma32(x, a, b);
        const actual = fmaFloat32(x, a, b);
        if (!Object.is(actual, expected) && !(actual === 0 && expected === 0)) {
          expect({ x, a, b, actual }).toEqual({ x, a, b, actual: expected });
        }
        checked++;
      }
    }
    expect(checked).toBe(300 * 256);
  });

  it('rounds once where a double sum would round twice', () => {
    // 3 * (1 + 2^-23) = 3 + 2^-22 + 2^-23: exactly halfway between two float32 values. A tiny
    // negative addend puts the true value just below halfway, so fmaf rounds down; adding in a
    // double first would land on the midpoint and round to even (up).
    const a = 1 + 2 ** -23;
    const b = -(2 ** -100);
    expect(Math.fround(3 * a + b)).toBe(3 + 2 ** -21);
    expect(fmaFloat32(3, a, b)).toBe(3 + 2 ** -22);
    expect(referenceFma32(3, a, b)).toBe(3 + 2 ** -22);
    expect(fmaFloat32(3, a, -b)).toBe(3 + 2 ** -21);
  });
});

describe('imagePreprocessParams', () => {
  it('maps channels and folds scale, mean and std into float32 alpha/beta', () => {
    const params = imagePreprocessParams([2, 4, 5, 3], 'float16', {
      inputFormat: 'bgr',
      outputFormat: 'rgb',
      mean: [0.5, 0.25, 0],
      std: [0.5, 1, 2],
      scale: 1 / 255,
    });
    expect(params).toEqual({
      batch: 2,
      height: 4,
      width: 5,
      srcChannels: 3,
      channelMap: [2, 1, 0],
      alpha: [Math.fround(2 / 255), Math.fround(1 / 255), Math.fround(1 / 510)],
      beta: [-1, -0.25, -0],
      outputType: 'float16',
    });
    expect(imagePreprocessParams([4, 5, 4], 'float32').channelMap).toEqual([0, 1, 2]);
    expect(imagePreprocessParams([4, 5, 4], 'float32', { inputFormat: 'bgra', outputFormat: 'bgr' }).channelMap).toEqual([
      0, 1, 2,
    ]);
    expect(imagePreprocessParams([4, 5, 4], 'float32', { inputFormat: 'rgba', outputFormat: 'bgr' }).channelMap).toEqual([
      2, 1, 0,
    ]);
  });
});

describe('preprocessImageCpu', () => {
  const mean = [0.485, 0.456, 0.406] as const;
  const std = [0.229, 0.224, 0.225] as const;

  function image(batch: number, height: number, width: number, channels: number): Uint8Array {
    const next = random(batch * 1000 + height * 10 + width + channels);
    return Uint8Array.from({ length: batch * height * width * channels }, () => Math.floor(next() * 256));
  }

  it('writes NCHW planes with (x * scale - mean) / std per channel, in any channel order', () => {
    const [batch, height, width] = [2, 3, 4];
    const src = image(batch, height, width, 4);
    const params = imagePreprocessParams([batch, height, width, 4], 'float32', { inputFormat: 'bgra', mean, std });
    const out = preprocessImageCpu(src, params) as Float32Array;
    expect(out).toBeInstanceOf(Float32Array);
    expect(out.length).toBe(batch * 3 * height * width);
    for (let n = 0; n < batch; n++) {
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const pixel = ((n * height + y) * width + x) * 4;
          const rgb = [src[pixel + 2]!, src[pixel + 1]!, src[pixel]!]; // bgra -> r, g, b
          for (let c = 0; c < 3; c++) {
            const actual = out[((n * 3 + c) * height + y) * width + x]!;
            expect(actual).toBeCloseTo((rgb[c]! / 255 - mean[c]!) / std[c]!, 5);
            expect(actual).toBe(fmaFloat32(rgb[c]!, params.alpha[c]!, params.beta[c]!));
          }
        }
      }
    }
  });

  it('float16 output is the float32 result rounded to nearest even', () => {
    const src = image(1, 8, 8, 3);
    const params32 = imagePreprocessParams([8, 8, 3], 'float32', { mean, std });
    const params16 = imagePreprocessParams([8, 8, 3], 'float16', { mean, std });
    const out32 = preprocessImageCpu(src, params32) as Float32Array;
    const out16 = preprocessImageCpu(src, params16) as Uint16Array;
    expect(out16).toBeInstanceOf(Uint16Array);
    expect(Array.from(out16)).toEqual(Array.from(out32, (value) => float32ToFloat16Bits(value)));
  });

  it('writes into a given output array', () => {
    const out = new Float32Array(3);
    const result = preprocessImageCpu(Uint8Array.of(255, 0, 51), imagePreprocessParams([1, 1, 3], 'float32'), out);
    expect(result).toBe(out);
    expect(Array.from(out)).toEqual([1, 0, Math.fround(51 * Math.fround(1 / 255))]);
  });
});
