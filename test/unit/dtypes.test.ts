import { describe, expect, it } from 'vitest';
import { ArgumentRangeError, ArgumentTypeError } from '../../lib/core/errors.js';
import {
  allocateTypedArray,
  bfloat16BitsToFloat32,
  checkTypedArray,
  dtypeSize,
  elementCount,
  float16BitsToFloat32,
  float32ToBfloat16Bits,
  float32ToFloat16Bits,
  fromFloat16Array,
  toFloat16Array,
} from '../../lib/core/dtypes.js';
import { expectErrorSync } from '../helpers/expect-error.js';

const isNaNBits = (bits: number) => (bits & 0x7c00) === 0x7c00 && (bits & 0x3ff) !== 0;

describe('float16', () => {
  it('round-trips every one of the 65536 bit patterns exactly', () => {
    let checked = 0;
    for (let bits = 0; bits <= 0xffff; bits++) {
      const value = float16BitsToFloat32(bits);
      const back = float32ToFloat16Bits(value);
      if (isNaNBits(bits)) {
        expect(Number.isNaN(value)).toBe(true);
        expect(isNaNBits(back)).toBe(true);
        expect(back & 0x8000).toBe(bits & 0x8000);
        // Quiet NaNs keep their payload; signalling ones come back quiet with the same payload bits.
        expect(back | 0x200).toBe(bits | 0x200);
      } else {
        expect(back).toBe(bits);
      }
      checked++;
    }
    expect(checked).toBe(65536);
  });

  it('decodes known values', () => {
    expect(float16BitsToFloat32(0x3c00)).toBe(1);
    expect(float16BitsToFloat32(0xc000)).toBe(-2);
    expect(float16BitsToFloat32(0x7bff)).toBe(65504);
    expect(float16BitsToFloat32(0x0001)).toBe(2 ** -24);
    expect(float16BitsToFloat32(0x7c00)).toBe(Infinity);
    expect(Object.is(float16BitsToFloat32(0x8000), -0)).toBe(true);
  });

  it('rounds to nearest even, overflows to Infinity and underflows to zero', () => {
    expect(float32ToFloat16Bits(1 + 2 ** -11)).toBe(0x3c00); // halfway, even stays
    expect(float32ToFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // halfway, odd rounds up
    expect(float32ToFloat16Bits(65520)).toBe(0x7c00);
    expect(float32ToFloat16Bits(65519)).toBe(0x7bff);
    expect(float32ToFloat16Bits(2 ** -26)).toBe(0);
    expect(float32ToFloat16Bits(-(2 ** -26))).toBe(0x8000);
    expect(float32ToFloat16Bits(3 * 2 ** -26)).toBe(0x0001); // 0.75 of the smallest subnormal rounds up
    expect(float32ToFloat16Bits(-Infinity)).toBe(0xfc00);
  });

  it('converts arrays', () => {
    expect(Array.from(fromFloat16Array(toFloat16Array([0.5, -1.5, 1000])))).toEqual([0.5, -1.5, 1000]);
  });
});

describe('bfloat16', () => {
  it('round-trips every one of the 65536 bit patterns exactly (NaNs stay NaN)', () => {
    for (let bits = 0; bits <= 0xffff; bits++) {
      const value = bfloat16BitsToFloat32(bits);
      const back = float32ToBfloat16Bits(value);
      if (Number.isNaN(value)) expect(Number.isNaN(bfloat16BitsToFloat32(back))).toBe(true);
      else expect(back).toBe(bits);
    }
  });

  it('rounds to nearest even', () => {
    expect(float32ToBfloat16Bits(1)).toBe(0x3f80);
    expect(float32ToBfloat16Bits(1 + 2 ** -8)).toBe(0x3f80); // halfway, even
    expect(float32ToBfloat16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82); // halfway, odd rounds up
  });
});

describe('dtype helpers', () => {
  it('knows sizes and arrays', () => {
    expect(dtypeSize('float16')).toBe(2);
    expect(dtypeSize('int64')).toBe(8);
    expect(allocateTypedArray('int64', 2)).toBeInstanceOf(BigInt64Array);
    expect(allocateTypedArray('bool', 3)).toBeInstanceOf(Uint8Array);
  });

  it('BAD CALL - a Float64Array for a float32 input is ERR_DTYPE', () => {
    expectErrorSync(
      () => checkTypedArray('float32', new Float64Array(3), 'input "images"'),
      ArgumentTypeError,
      'ERR_DTYPE',
      'Expected a Float32Array for input "images" (float32) but received a Float64Array of length 3',
    );
    expectErrorSync(
      () => checkTypedArray('int64', [1, 2], 'input "ids"'),
      ArgumentTypeError,
      'ERR_DTYPE',
      'Expected a BigInt64Array for input "ids" (int64) but received an array of length 2',
    );
  });

  it('BAD CALL - negative, fractional, NaN and overflowing dims are ERR_SHAPE', () => {
    expect(elementCount([2, 3, 4])).toBe(24);
    expect(elementCount([])).toBe(1);
    expect(elementCount([0, 5])).toBe(0);
    expectErrorSync(
      () => elementCount([2, -1]),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected a non-negative integer for shape[1] but received -1 of type number',
    );
    expectErrorSync(
      () => elementCount([1.5]),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected a non-negative integer for shape[0] but received 1.5 of type number',
    );
    expectErrorSync(
      () => elementCount([NaN]),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected a non-negative integer for shape[0] but received NaN of type number',
    );
    expectErrorSync(
      () => elementCount([2 ** 30, 2 ** 30, 2 ** 30]),
      ArgumentRangeError,
      'ERR_SHAPE',
      'The element count of shape [1073741824, 1073741824, 1073741824] overflows',
    );
    expectErrorSync(
      () => elementCount('x' as unknown as number[]),
      ArgumentTypeError,
      'ERR_SHAPE',
      'Expected an array of dimensions for shape but received "x" of type string',
    );
  });
});
