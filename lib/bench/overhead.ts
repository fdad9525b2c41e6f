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
    const measurement = await measure(target, { warmupMs: 0, durationMs: 0, minIterations: iterationsPerRound, concurrency, withPhases: description.measuresPhases });
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
