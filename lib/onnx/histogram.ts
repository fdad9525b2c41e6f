/**
 * Statistics of |x| for one activation tensor across calibration batches, and the three ways to
 * turn them into an amax (the clipping threshold a symmetric INT8 scale is amax / 127):
 *
 * - `max`: the largest |x| seen. Exact, but one outlier wastes most of the 255 levels.
 * - `percentile`: the |x| below which `percentile` % of all values fall (default 99.99).
 * - `entropy`: the threshold whose 128-level quantized distribution has the least KL divergence
 *   from the observed one (Migacz, "8-bit Inference with TensorRT", GTC 2017; TensorRT's entropy
 *   calibrator and pytorch-quantization's HistogramCalibrator follow the same idea).
 *
 * The histogram has a fixed number of bins over [0, range). The range is set by the first batch and
 * doubles (merging neighbouring bins, which is exact) whenever a later batch exceeds it, so one pass
 * over the data suffices and memory stays constant.
 */

/**
 * How calibration chooses each activation's clipping threshold (amax): `max` (the largest |x| seen),
 * `percentile` (of |x|, 99.99 by default), `entropy` (least KL divergence between the clipped 8-bit
 * and the observed distributions) or `mse` (least squared quantization error).
 */
export type CalibrationMethod = 'max' | 'percentile' | 'entropy' | 'mse';

export const HISTOGRAM_BINS = 2048;
/** Quantized levels on one side of zero for symmetric INT8 (-127..127). */
const QUANTIZED_LEVELS = 128;

export class AbsHistogram {
  readonly bins = new Float64Array(HISTOGRAM_BINS);
  /** Width of one bin; 0 until a non-zero value has been seen. */
  binWidth = 0;
  /** Largest |x| seen. */
  max = 0;
  /** Values seen (NaN excluded). */
  count = 0;
  /** Zeros seen before the first non-zero value fixed the range. */
  #pendingZeros = 0;

  add(values: ArrayLike<number>): void {
    let batchMax = 0;
    for (let index = 0; index < values.length; index++) {
      const magnitude = Math.abs(values[index]!);
      if (magnitude > batchMax) batchMax = magnitude;
    }
    if (!Number.isFinite(batchMax)) batchMax = this.#finiteMax(values);
    if (batchMax > this.max) this.max = batchMax;
    if (this.binWidth === 0) {
      if (batchMax === 0) {
        this.#pendingZeros += this.#countNumbers(values);
        this.count += this.#countNumbers(values);
        return;
      }
      this.binWidth = batchMax / HISTOGRAM_BINS;
      this.bins[0] = this.bins[0]! + this.#pendingZeros;
      this.#pendingZeros = 0;
    }
    while (batchMax > this.binWidth * HISTOGRAM_BINS) this.#doubleRange();
    const scale = 1 / this.binWidth;
    const bins = this.bins;
    const last = HISTOGRAM_BINS - 1;
    for (let index = 0; index < values.length; index++) {
      const magnitude = Math.abs(values[index]!);
      if (Number.isNaN(magnitude)) continue;
      const bin = magnitude === Infinity ? last : Math.min(Math.floor(magnitude * scale), last);
      bins[bin] = bins[bin]! + 1;
      this.count++;
    }
  }

  #countNumbers(values: ArrayLike<number>): number {
    let count = 0;
    for (let index = 0; index < values.length; index++) if (!Number.isNaN(values[index]!)) count++;
    return count;
  }

  #finiteMax(values: ArrayLike<number>): number {
    let max = 0;
    for (let index = 0; index < values.length; index++) {
      const magnitude = Math.abs(values[index]!);
      if (Number.isFinite(magnitude) && magnitude > max) max = magnitude;
    }
    return max;
  }

  #doubleRange(): void {
    const bins = this.bins;
    for (let index = 0; index < HISTOGRAM_BINS / 2; index++) bins[index] = bins[2 * index]! + bins[2 * index + 1]!;
    bins.fill(0, HISTOGRAM_BINS / 2);
    this.binWidth *= 2;
  }

  /** The amax by `method` (0 for a tensor that was all zeros). */
  amax(method: CalibrationMethod, percentile = 99.99): number {
    if (this.max === 0 || this.binWidth === 0) return 0;
    if (method === 'max') return this.max;
    if (method === 'percentile') return Math.min(this.max, percentileAmax(this.bins, this.binWidth, percentile));
    if (method === 'mse') return Math.min(this.max, mseAmax(this.bins, this.binWidth));
    return Math.min(this.max, entropyAmax(this.bins, this.binWidth));
  }
}

/** The upper edge of the first bin where the cumulative share reaches `percentile` %. */
export function percentileAmax(bins: Float64Array, binWidth: number, percentile: number): number {
  let total = 0;
  for (const count of bins) total += count;
  const target = (total * percentile) / 100;
  let cumulative = 0;
  for (let index = 0; index < bins.length; index++) {
    cumulative += bins[index]!;
    if (cumulative >= target) return (index + 1) * binWidth;
  }
  return bins.length * binWidth;
}

/** Normalizes `values[0..length)` in place and lends a little mass (eps) to empty bins so that KL stays finite. */
function smoothDistribution(values: Float64Array, length: number, eps = 1e-4): boolean {
  let total = 0;
  let zeros = 0;
  for (let index = 0; index < length; index++) {
    total += values[index]!;
    if (values[index] === 0) zeros++;
  }
  const nonZeros = length - zeros;
  if (total === 0 || nonZeros === 0) return false;
  const taken = (eps * zeros) / nonZeros;
  for (let index = 0; index < length; index++) values[index] = values[index] === 0 ? eps : values[index]! / total - taken;
  return true;
}

/**
 * KL-divergence threshold search. For each candidate i (QUANTIZED_LEVELS..bins), the reference P
 * is the first i bins with everything beyond folded into the last; Q merges those i bins into
 * QUANTIZED_LEVELS levels and spreads each level evenly over the bins where P is non-zero. Both are
 * smoothed (empty bins get a little mass) so that sparse histograms, such as those of 8-bit images,
 * still compare. The i with the smallest KL(P || Q) wins; amax is its upper edge. Bin 0's count is
 * replaced by bin 1's so that the spike of exact zeros after ReLU does not dominate.
 */
export function entropyAmax(histogram: Float64Array, binWidth: number): number {
  const bins = Float64Array.from(histogram);
  if (bins.length > 1) bins[0] = bins[1]!;
  const size = bins.length;
  const suffix = new Float64Array(size + 1);
  for (let index = size - 1; index >= 0; index--) suffix[index] = suffix[index + 1]! + bins[index]!;
  let best = size;
  let bestDivergence = Infinity;
  const reference = new Float64Array(size);
  const quantized = new Float64Array(size);
  for (let candidate = QUANTIZED_LEVELS; candidate <= size; candidate++) {
    reference.set(bins.subarray(0, candidate));
    reference[candidate - 1] = reference[candidate - 1]! + suffix[candidate]!;
    for (let level = 0; level < QUANTIZED_LEVELS; level++) {
      const start = Math.floor((level * candidate) / QUANTIZED_LEVELS);
      const end = Math.floor(((level + 1) * candidate) / QUANTIZED_LEVELS);
      let total = 0;
      let nonZero = 0;
      for (let index = start; index < end; index++) {
        total += bins[index]!;
        if (reference[index]! !== 0) nonZero++;
      }
      const share = nonZero > 0 ? total / nonZero : 0;
      for (let index = start; index < end; index++) quantized[index] = reference[index]! !== 0 ? share : 0;
    }
    if (!smoothDistribution(reference, candidate) || !smoothDistribution(quantized, candidate)) continue;
    let divergence = 0;
    for (let index = 0; index < candidate; index++) {
      const p = reference[index]!;
      divergence += p * Math.log(p / quantized[index]!);
    }
    if (divergence < bestDivergence) {
      bestDivergence = divergence;
      best = candidate;
    }
  }
  return best * binWidth;
}

/**
 * The amax that minimizes the expected squared quantization error over the histogram: values
 * inside [-amax, amax] cost the rounding error of a step amax / 127 (step^2 / 12), values beyond cost
 * their distance to amax squared.
 */
export function mseAmax(bins: Float64Array, binWidth: number): number {
  let best = bins.length;
  let bestError = Infinity;
  for (let candidate = 1; candidate <= bins.length; candidate++) {
    const amax = candidate * binWidth;
    const step = amax / 127;
    let error = 0;
    for (let index = 0; index < bins.length; index++) {
      const count = bins[index]!;
      if (count === 0) continue;
      const center = (index + 0.5) * binWidth;
      error += center <= amax ? (count * step * step) / 12 : count * (center - amax) ** 2;
    }
    if (error < bestError) {
      bestError = error;
      best = candidate;
    }
  }
  return best * binWidth;
}
