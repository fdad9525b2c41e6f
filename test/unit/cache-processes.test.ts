/**
 * The engine cache with real processes: several racing to build one key, and writers SIGKILLed at
 * each critical step of a write. `npm run stress:cache` runs the same scenarios a hundred times.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killDuringWrite, raceBuilders, sourceRuntime } from '../helpers/cache-scenarios.js';

const base = mkdtempSync(join(tmpdir(), 'cache-processes-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('EngineCache across processes', () => {
  it('four processes asking for one engine at the same instant build it exactly once', async () => {
    const outcome = await raceBuilders({ runtime: sourceRuntime, dir: join(base, 'race'), racers: 4, seed: 1 });
    expect(outcome.problems).toEqual([]);
    expect(outcome).toMatchObject({ builds: 1, hits: 3, distinctPlans: 1 });
  }, 60_000);

  // The steps where a crash is most interesting; the stress script covers every step and random times.
  it.each([['plan-half-written'], ['metadata-open'], ['metadata-rename'], ['after-commit']])(
    'a writer SIGKILLed at %s never leaves a corrupt entry, and its leftovers are cleaned',
    async (killPoint) => {
      const outcome = await killDuringWrite({ runtime: sourceRuntime, dir: join(base, killPoint), seed: 2, pauseAt: killPoint });
      expect(outcome.problems).toEqual([]);
      expect(outcome.killedAt).toBe(killPoint);
      // Only a writer killed after its metadata rename leaves a complete entry behind.
      expect(outcome.entrySurvived).toBe(killPoint === 'after-commit');
    },
    60_000,
  );
});
