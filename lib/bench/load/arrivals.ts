/**
 * When an open-loop run sends its requests: a Poisson process (exponential gaps, the arrivals of many
 * independent clients) or a constant rate. Seeded, so that two runs (two servers, two protocols)
 * are offered the very same schedule.
 */
import { createRandom } from '../../onnx/random.js';

/** How an open-loop run spaces its requests: Poisson arrivals (random gaps, the default) or constant gaps. */
export type ArrivalKind = 'poisson' | 'constant';

/** The gaps between intended send times, in ms, for `ratePerSecond` requests per second. */
export function arrivalGaps(kind: ArrivalKind, ratePerSecond: number, seed = 1): () => number {
  const meanMs = 1000 / ratePerSecond;
  if (kind === 'constant') return () => meanMs;
  const random = createRandom(seed);
  // Inverse transform sampling; 1 - u keeps the logarithm's argument in (0, 1].
  return () => -Math.log(1 - random.next()) * meanMs;
}
