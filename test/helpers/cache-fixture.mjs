/** What the cache workers build, shared by the workers (JS) and the tests and stress script (TS). */
import { createHash } from 'node:crypto';

/** The plan a given process builds for a seed: deterministic, and different per builder pid. */
export function planFor(seed, builderPid, bytes) {
  const block = createHash('sha256').update(`${seed}:${builderPid}`).digest();
  const plan = Buffer.alloc(bytes);
  for (let offset = 0; offset < bytes; offset += block.length) block.copy(plan, offset);
  return plan;
}

/** The cache key parts of the engine the workers of one scenario ask for. */
export function keyPartsFor(seed) {
  return {
    model: { bytes: Buffer.from(`model ${seed}`) },
    build: { precision: 'fp16' },
    tensorrtVersion: '10.16.0',
    gpu: { uuid: 'GPU-stress', computeCapability: '8.9' },
  };
}
