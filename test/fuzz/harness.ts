/**
 * Property-based fuzzing with fast-check: each property is an invariant over generated inputs
 * ("every reader either reads the bytes or throws a typed error", "FP16 keeps the graph valid and
 * runnable", ...). A run splits a case budget between the properties by weight; properties that run
 * models in onnxruntime take a fixed, modest share instead (`fixedRuns`).
 *
 * `npm run fuzz` (test/fuzz/run.ts) runs 100,000 cases and writes benchmarks/results/fuzz.json;
 * the normal test run (test/fuzz/fuzz.test.ts) runs about 2,000 with a fixed seed.
 */
import fc from 'fast-check';
import { isTensorRTNodeError } from '../../lib/core/errors.js';

export interface FuzzProperty {
  name: string;
  /** Share of the budget, relative to the other properties' weights. */
  weight: number;
  /** Runs per full (100,000) budget for properties too slow to scale with the budget; scaled down with it. */
  fixedRuns?: number;
  /** The property; `numRuns` cases of it run. Properties that run elsewhere (a child process) implement `runExternally` instead. */
  property?: () => fc.IAsyncPropertyWithHooks<unknown[]> | fc.IPropertyWithHooks<unknown[]>;
  /** What the run saw, for the summary (outcome counts and the like); read after the cases ran. */
  details?: () => Record<string, unknown>;
  /** For properties checked outside this process: runs `numRuns` cases with `seed`, returns the cases run and any failure. */
  runExternally?: (
    numRuns: number,
    seed: number,
  ) => Promise<{ runs: number; failure: string | null; details?: Record<string, unknown> }>;
}

export interface PropertyOutcome {
  name: string;
  runs: number;
  failures: number;
  durationMs: number;
  failure: string | null;
  details?: Record<string, unknown>;
}

/** How many runs each property gets out of `budget`. */
export function allocate(properties: readonly FuzzProperty[], budget: number, fullBudget = 100_000): Map<string, number> {
  const scale = budget / fullBudget;
  const fixed = new Map(
    properties
      .filter((property) => property.fixedRuns !== undefined)
      .map((property) => [property.name, Math.max(2, Math.round(property.fixedRuns! * scale))] as const),
  );
  const fixedTotal = [...fixed.values()].reduce((sum, runs) => sum + runs, 0);
  const weighted = properties.filter((property) => property.fixedRuns === undefined);
  const weightTotal = weighted.reduce((sum, property) => sum + property.weight, 0);
  const remaining = Math.max(0, budget - fixedTotal);
  const runs = new Map(fixed);
  let given = 0;
  weighted.forEach((property, index) => {
    const share = index === weighted.length - 1 ? remaining - given : Math.floor((remaining * property.weight) / weightTotal);
    runs.set(property.name, Math.max(1, share));
    given += share;
  });
  return runs;
}

/** Runs one property; a counterexample becomes `failure` (with fast-check's seed and path to replay it). */
export async function runProperty(property: FuzzProperty, numRuns: number, seed: number): Promise<PropertyOutcome> {
  const started = performance.now();
  if (property.runExternally) {
    const outcome = await property.runExternally(numRuns, seed);
    return {
      name: property.name,
      runs: outcome.runs,
      failures: outcome.failure ? 1 : 0,
      durationMs: performance.now() - started,
      failure: outcome.failure,
      ...(outcome.details ? { details: outcome.details } : {}),
    };
  }
  const details = await fc.check(property.property!() as fc.IAsyncPropertyWithHooks<unknown[]>, {
    numRuns,
    seed,
    endOnFailure: true,
  });
  const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  const failure = details.failed ? `${fc.defaultReportMessage(details) ?? 'failed'}\nGot: ${cause}` : null;
  const seen = property.details?.();
  return {
    name: property.name,
    runs: details.numRuns,
    failures: details.failed ? 1 : 0,
    durationMs: performance.now() - started,
    failure,
    ...(seen ? { details: seen } : {}),
  };
}

/** The invariant every reader of untrusted input keeps: it returns, or throws an error of the family. */
export async function returnsOrThrowsTyped(
  action: () => unknown,
): Promise<{ ok: true; value: unknown } | { ok: false; code: string }> {
  try {
    return { ok: true, value: await action() };
  } catch (error) {
    if (!isTensorRTNodeError(error))
      throw new Error(
        `untyped error: ${error instanceof Error ? `${error.name}: ${error.message}\n${error.stack}` : String(error)}`,
        { cause: error },
      );
    return { ok: false, code: error.code };
  }
}
