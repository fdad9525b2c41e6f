/**
 * The CI share of the fuzzing (~2,000 cases, a fixed seed so a failure reproduces); the long run is
 * `npm run fuzz` (100,000 cases, see ./run.ts). Every property must hold on every case.
 */
import { describe, expect, it } from 'vitest';
import { allocate, runProperty } from './harness.js';
import { properties } from './properties/index.js';

const budget = Number(process.env.TENSORRT_NODE_FUZZ_BUDGET ?? 2000);
const seed = Number(process.env.TENSORRT_NODE_FUZZ_SEED ?? 20261128);
const runs = allocate(properties, budget);

describe(`fuzzing (${budget} cases, seed ${seed})`, () => {
  for (const property of properties) {
    it(property.name, { timeout: 120_000 }, async () => {
      const outcome = await runProperty(property, runs.get(property.name)!, seed);
      expect(outcome.failure).toBeNull();
      expect(outcome.runs).toBe(runs.get(property.name));
    });
  }
});
