import { describe, expect, it } from 'vitest';
import {
  coefficientOfVariation,
  median,
  medianOfSorted,
  nearestRankIndex,
  percentileOfSorted,
  summarize,
} from '../../lib/bench/statistics.js';

const oneTo = (n: number) => Float64Array.from({ length: n }, (_, i) => i + 1);

describe('bench statistics (trtexec sampleReporting.cpp semantics)', () => {
  it('summarizes five unsorted values by hand', () => {
    // sorted 1..5: mean 3, median 3, population sd sqrt(2), CoV sqrt(2)/3*100
    const summary = summarize([5, 1, 4, 2, 3], [50, 90, 99.9])!;
    expect(summary).toMatchObject({ count: 5, min: 1, max: 5, mean: 3, median: 3 });
    // p50: exclude floor(0.5*5)=2 -> index 2 -> 3; p90: exclude floor(0.1*5)=0 -> max
    expect(summary.percentiles).toEqual([
      { percentile: 50, value: 3 },
      { percentile: 90, value: 5 },
      { percentile: 99.9, value: 5 },
    ]);
    expect(summary.coefficientOfVariation).toBeCloseTo((Math.SQRT2 / 3) * 100, 12);
  });

  it("does not reorder the caller's values", () => {
    const values = [3, 1, 2];
    summarize(values);
    expect(values).toEqual([3, 1, 2]);
  });

  it('takes the median of an even count as the mean of the two middle values', () => {
    expect(medianOfSorted([1, 2, 3, 4])).toBe(2.5);
    expect(medianOfSorted([7])).toBe(7);
    expect(summarize([10, 1])!.median).toBe(5.5);
    const unsorted = [4, 1, 3, 2];
    expect(median(unsorted)).toBe(2.5);
    expect(unsorted).toEqual([4, 1, 3, 2]);
  });

  it('picks nearest ranks of 1..100 as trtexec does, including the single-precision edge at p99', () => {
    const values = oneTo(100);
    expect(percentileOfSorted(values, 90)).toBe(90);
    expect(percentileOfSorted(values, 95)).toBe(95);
    // (1 - 0.99f) * 100 = 0.99999905f in single precision -> nothing excluded -> the maximum.
    // Double precision would give 1.0000000000000009 -> the 99th value; trtexec reports 100.
    expect(percentileOfSorted(values, 99)).toBe(100);
    expect(percentileOfSorted(values, 50)).toBe(50);
  });

  it('p99.9 of 1000 samples is the maximum in trtexec (single precision), p99 is the 991st', () => {
    const values = oneTo(1000);
    expect(percentileOfSorted(values, 99.9)).toBe(1000);
    // (1 - 0.99f) * 1000 = 9.99999f -> exclude 9 -> index 990 -> 991
    expect(percentileOfSorted(values, 99)).toBe(991);
    expect(percentileOfSorted(values, 90)).toBe(900);
  });

  it('handles the bounds: p0 is the minimum, p100 the maximum, one sample is every percentile', () => {
    expect(nearestRankIndex(0, 10)).toBe(0);
    expect(nearestRankIndex(100, 10)).toBe(9);
    expect(nearestRankIndex(90, 10)).toBe(8);
    expect(nearestRankIndex(99.9, 1)).toBe(0);
    expect(summarize([4.25], [0, 50, 99.9])!.percentiles.map((entry) => entry.value)).toEqual([4.25, 4.25, 4.25]);
  });

  it('has nothing to say about no samples', () => {
    expect(summarize([])).toBeUndefined();
    expect(Number.isNaN(percentileOfSorted([], 90))).toBe(true);
    expect(Number.isNaN(medianOfSorted([]))).toBe(true);
    expect(coefficientOfVariation([], 0)).toBe(0);
  });

  it('gives a null coefficient of variation for a zero mean (trtexec: inf) and 0 for constant values', () => {
    expect(summarize([0, 0, 0])!.coefficientOfVariation).toBeNull();
    expect(summarize([2, 2, 2, 2])!.coefficientOfVariation).toBe(0);
  });

  it('BAD CALL - a percentile outside [0, 100] is a RangeError', () => {
    expect(() => nearestRankIndex(100.5, 10)).toThrow(new RangeError('percentile 100.5 is not in [0, 100]'));
    expect(() => nearestRankIndex(-1, 10)).toThrow(RangeError);
    expect(() => nearestRankIndex(Number.NaN, 10)).toThrow(RangeError);
  });
});
