/**
 * Summary statistics of one metric over the iterations of a run, computed the way trtexec does
 * (NVIDIA TensorRT samples/common/sampleReporting.cpp), so that numbers from tensorrt-node and from
 * trtexec mean the same thing:
 * - percentiles by nearest rank: sort ascending, drop `floor((1 - p / 100) * n)` samples from the
 *   top, take the largest that remains. trtexec does that arithmetic in single precision, which at
 *   exact boundaries picks one rank higher than double precision would (p99 of 100 samples is the
 *   maximum in trtexec, not the 99th value); we reproduce it with Math.fround so the same samples
 *   give the same percentile.
 * - the median is the mean of the two middle values for an even count (not a nearest rank).
 * - the coefficient of variation is the population standard deviation over the mean, in percent.
 * Values themselves are kept in double precision: only the choice of rank must match trtexec.
 */

/** The percentiles reported when none are asked for: trtexec's 90, 95, 99, plus 99.9. */
export const DEFAULT_PERCENTILES: readonly number[] = [90, 95, 99, 99.9];

/** One percentile of a metric (nearest rank, as trtexec computes it). */
export interface PercentileValue {
  percentile: number;
  value: number;
}

/** The summary of one metric over a run's iterations, in the metric's unit (ms for times). */
export interface MetricSummary {
  count: number;
  min: number;
  max: number;
  mean: number;
  median: number;
  percentiles: PercentileValue[];
  /** Standard deviation / mean x 100 (trtexec's "coefficient of variance"); null when the mean is 0 (trtexec: inf). */
  coefficientOfVariation: number | null;
}

/** Index into an ascending array of `count` samples that trtexec reports as percentile `percentile`. */
export function nearestRankIndex(percentile: number, count: number): number {
  if (!(percentile >= 0 && percentile <= 100)) throw new RangeError(`percentile ${percentile} is not in [0, 100]`);
  const f = Math.fround;
  const keptFraction = f(1 - f(f(percentile) / 100));
  const excluded = Math.trunc(f(keptFraction * count));
  return Math.max(count - 1 - excluded, 0);
}

/** Percentile `percentile` of an ascending array (NaN when empty; trtexec prints inf there). */
export function percentileOfSorted(sorted: ArrayLike<number>, percentile: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[nearestRankIndex(percentile, sorted.length)]!;
}

export function medianOfSorted(sorted: ArrayLike<number>): number {
  const count = sorted.length;
  if (count === 0) return Number.NaN;
  const middle = Math.floor(count / 2);
  return count % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The median of `values` in any order (not modified); NaN when empty. */
export function median(values: ArrayLike<number>): number {
  return medianOfSorted(Float64Array.from(values).sort());
}

export function coefficientOfVariation(values: ArrayLike<number>, mean: number): number | null {
  if (values.length === 0) return 0;
  if (mean === 0) return null;
  let sumOfSquares = 0;
  for (let i = 0; i < values.length; i++) {
    const deviation = values[i]! - mean;
    sumOfSquares += deviation * deviation;
  }
  return (Math.sqrt(sumOfSquares / values.length) / mean) * 100;
}

/** Summarizes `values` (any order; not modified). Returns undefined for no values. */
export function summarize(
  values: ArrayLike<number>,
  percentiles: readonly number[] = DEFAULT_PERCENTILES,
): MetricSummary | undefined {
  if (values.length === 0) return undefined;
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (let i = 0; i < sorted.length; i++) sum += sorted[i]!;
  const mean = sum / sorted.length;
  return {
    count: sorted.length,
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    mean,
    median: medianOfSorted(sorted),
    percentiles: percentiles.map((percentile) => ({ percentile, value: percentileOfSorted(sorted, percentile) })),
    coefficientOfVariation: coefficientOfVariation(sorted, mean),
  };
}

/** The value of `percentile` in a summary, when it was computed. */
export function percentileValue(summary: MetricSummary, percentile: number): number | undefined {
  return summary.percentiles.find((entry) => entry.percentile === percentile)?.value;
}
