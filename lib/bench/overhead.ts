/**
 * The harness's own cost: the same target driven for the same number of requests by a bare loop
 * (driver.rawLoop) and by the harness (driver.measure, with its recorder, event-loop monitor and
 * CPU accounting), alternating the order every round so that drift (frequency scaling, JIT, caches)
 * falls on both alike. The ratio comes from one process, one target, one run of this function.
 */
import { performance } from 'node:perf_hooks';
import { measure, rawLoop } from './driver.js';
import type { HarnessOverhead } from './results.js';
import type { BenchTarget } from './target.js';

export interface OverheadOptions {
  iterationsPerRound: number;
  rounds: number;
  concurrency: number;
}

export async function measureHarnessOverhead(target: BenchTarget, options: OverheadOptions): Promise<HarnessOverhead> {
  const description = target.describe();
  const { iterationsPerRound, rounds, concurrency } = options;
  const harnessRound = async (): Promise<number> => {
    const start = performance.now();
    const measurement = await measure(target, {
      warmupMs: 0,
      durationMs: 0,
      minIterations: iterationsPerRound,
      concurrency,
      withPhases: description.measuresPhases,
    });
    const elapsed = performance.now() - start;
    if (measurement.failure !== undefined) throw measurement.failure;
    return elapsed;
  };
  // One untimed round of each first, so that neither pays for the JIT or first-touch memory.
  await rawLoop(target, iterationsPerRound, concurrency);
  await harnessRound();

  let rawTotal = 0;
  let harnessTotal = 0;
  const roundOverheadFractions: number[] = [];
  let bestRaw = Infinity;
  let bestHarness = Infinity;
  for (let round = 0; round < rounds; round++) {
    let raw: number;
    let harness: number;
    if (round % 2 === 0) {
      raw = await rawLoop(target, iterationsPerRound, concurrency);
      harness = await harnessRound();
    } else {
      harness = await harnessRound();
      raw = await rawLoop(target, iterationsPerRound, concurrency);
    }
    rawTotal += raw;
    harnessTotal += harness;
    bestRaw = Math.min(bestRaw, raw);
    bestHarness = Math.min(bestHarness, harness);
    roundOverheadFractions.push(harness / raw - 1);
  }
  const total = iterationsPerRound * rounds;
  return {
    target: description,
    iterationsPerRound,
    rounds,
    concurrency,
    rawMsPerIteration: rawTotal / total,
    harnessMsPerIteration: harnessTotal / total,
    overheadFraction: harnessTotal / rawTotal - 1,
    roundOverheadFractions,
    bestRoundOverheadFraction: bestHarness / bestRaw - 1,
  };
}

/**
 * The harness's overhead as a share of each measured request, with its noise band. A ratio of two
 * noisy timings can come out negative ("-5.49%") when other processes slow the raw rounds; that is
 * noise, not a harness that saves time. So each round's share (harness - raw) / harness is taken,
 * and their mean with a 95% band (mean +- 2 standard errors over the rounds) is reported; when the
 * band holds 0, the overhead is below what this run can measure, and is said so. A band wholly
 * below 0 says the same: the raw rounds were slowed by something else (other processes, the order
 * of the rounds), since a harness cannot make a request faster than the session alone.
 */
export interface OverheadShare {
  /** Mean over the rounds of (harness - raw) / harness: 0.01 is 1% of each measured request. */
  share: number;
  /** The 95% band of that mean. */
  low: number;
  high: number;
  /** True when the band reaches 0 or below: no overhead measurable above the noise. */
  withinNoise: boolean;
  rounds: number;
}

export function overheadShare(overhead: Pick<HarnessOverhead, 'roundOverheadFractions' | 'overheadFraction'>): OverheadShare {
  const fractions = overhead.roundOverheadFractions.length > 0 ? overhead.roundOverheadFractions : [overhead.overheadFraction];
  // harness / raw - 1 = f, so (harness - raw) / harness = f / (1 + f).
  const shares = fractions.map((fraction) => fraction / (1 + fraction));
  const mean = shares.reduce((sum, value) => sum + value, 0) / shares.length;
  const variance = shares.length > 1 ? shares.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (shares.length - 1) : 0;
  const halfBand = 2 * Math.sqrt(variance / shares.length);
  return {
    share: mean,
    low: mean - halfBand,
    high: mean + halfBand,
    withinNoise: mean - halfBand <= 0,
    rounds: shares.length,
  };
}

const percent = (value: number) => `${Number((value * 100).toPrecision(2)).toString()}%`;

/** "1.2% of each request (95% band 0.4% to 2%, 10 rounds)", or "below the noise (...)". */
export function formatOverheadShare(share: OverheadShare): string {
  const band = `95% band ${percent(share.low)} to ${percent(share.high)} over ${share.rounds} rounds`;
  return share.withinNoise ? `below the noise of this run (${band})` : `${percent(share.share)} of each request (${band})`;
}
