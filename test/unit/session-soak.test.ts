/**
 * The batcher's correctness soak: SOAK_REQUESTS (default 10,000) concurrent requests with distinct
 * inputs, a tenth of them aborted and a tenth given short deadlines at random moments. Every
 * completed response must equal the unbatched result for its own input (bit for bit: onnxruntime
 * computes each row the same way whatever the batch), every failed one must have failed with the
 * code of what was done to it, and everything settles. The event loop is watched all along with
 * perf_hooks and reported; `npm run soak:session` runs it alone with more requests and several
 * rounds and asserts the liveness bound (see below).
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostTensor } from '../../lib/dtypes.js';
import { createRandom } from '../../lib/onnx/random.js';
import { InferenceSession } from '../../lib/session.js';
import { mlpModel } from '../helpers/onnx-fixtures.js';

const REQUESTS = Number(process.env.SOAK_REQUESTS ?? 10_000);
const ROUNDS = Number(process.env.SOAK_ROUNDS ?? 1);
/** The event-loop bound is asserted only when the soak runs alone (see the liveness comment below). */
const STRICT_LIVENESS = process.env.SOAK_LIVENESS === 'strict';
/** Slices the loop delay is summarized over (see the liveness bound below). */
const SLICE_MS = 100;

type Fault = { kind: 'none' } | { kind: 'abort'; afterMs: number } | { kind: 'timeout'; timeoutMs: number };

interface Outcome {
  fault: Fault;
  result?: Float32Array;
  code?: string;
}

/** Nanoseconds the main thread has waited in the kernel's run queue (runnable, no CPU); 0 where unknown. */
function runQueueWaitNs(): number {
  try {
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[1]);
  } catch {
    return 0;
  }
}

interface Slice {
  /** Max event-loop delay in the slice (ms). */
  maxDelayMs: number;
  /** Time the event loop's thread was runnable but had no CPU in the slice (ms): other processes' doing. */
  runQueueMs: number;
}

/** Event-loop delay of every SLICE_MS slice until stop() is called. */
function watchSlices(): { stop: () => Slice[] } {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  const slices: Slice[] = [];
  let waited = runQueueWaitNs();
  const close = () => {
    const now = runQueueWaitNs();
    slices.push({ maxDelayMs: histogram.max / 1e6, runQueueMs: (now - waited) / 1e6 });
    waited = now;
    histogram.reset();
  };
  histogram.enable();
  const timer = setInterval(close, SLICE_MS);
  return {
    stop() {
      clearInterval(timer);
      if (histogram.count > 0) close();
      histogram.disable();
      return slices;
    },
  };
}

async function idleSlices(durationMs: number): Promise<Slice[]> {
  const watcher = watchSlices();
  await new Promise((resolve) => setTimeout(resolve, durationMs));
  return watcher.stop();
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

describe(`batcher soak: ${REQUESTS} concurrent requests x ${ROUNDS} round(s)`, () => {
  let session: InferenceSession;
  beforeAll(async () => {
    // One worker with one sleeping (not spinning) onnxruntime thread: the other core is the event loop's.
    session = await InferenceSession.create(mlpModel(), { backend: 'cpu', maxQueue: REQUESTS, cpu: { intraOpNumThreads: 1, spinWait: false } });
  });
  afterAll(async () => {
    await session?.dispose();
  });

  it('every completed response equals the unbatched result for its own input; aborts and timeouts reject with their codes; nothing hangs; the loop stays live', { timeout: 600_000 }, async (context) => {
    const random = createRandom(20_260_128);
    for (let round = 0; round < ROUNDS; round++) {
      const inputs: HostTensor<'float32'>[] = [];
      const faults: Fault[] = [];
      for (let index = 0; index < REQUESTS; index++) {
        const rows = random.next() < 0.9 ? 1 : 2;
        inputs.push({ dtype: 'float32', shape: [rows, 16], data: random.float32(rows * 16, -2, 2) });
        const draw = random.next();
        faults.push(draw < 0.1 ? { kind: 'abort', afterMs: Math.floor(random.next() * 40) } : draw < 0.2 ? { kind: 'timeout', timeoutMs: 1 + Math.floor(random.next() * 40) } : { kind: 'none' });
      }

      const batcher = session.batcher({ maxBatchSize: 64, maxQueue: REQUESTS });
      const idleBefore = await idleSlices(500);
      // All requests are submitted at once, in one synchronous loop (the test's own work, ~10 us a
      // request, left out of the liveness measurement): they are all outstanding together.
      const started = performance.now();
      const settled: Promise<Outcome>[] = [];
      for (let index = 0; index < REQUESTS; index++) {
        const fault = faults[index]!;
        let signal: AbortSignal | undefined;
        if (fault.kind === 'abort') {
          const controller = new AbortController();
          setTimeout(() => controller.abort(new Error('soak abort')), fault.afterMs);
          signal = controller.signal;
        }
        const request = batcher.run({ x: inputs[index]! }, { signal, timeoutMs: fault.kind === 'timeout' ? fault.timeoutMs : undefined });
        settled.push(
          request.then(
            (result) => ({ fault, result: result.y!.data as Float32Array }),
            (error: { code?: string }) => ({ fault, code: error.code ?? String(error) }),
          ),
        );
      }
      const submitMs = performance.now() - started;
      const outstanding = batcher.pending;
      const watcher = watchSlices();
      const outcomes = await Promise.all(settled);
      const soakMs = performance.now() - started;
      const soak = watcher.stop();
      const averageBatch = (() => {
        const metrics = session.metrics();
        return metrics.inferenceCount / metrics.executionCount;
      })();
      await batcher.dispose();
      const idle = [...idleBefore, ...(await idleSlices(500))];

      // The unbatched reference, one request at a time, for every completed request.
      let completed = 0;
      const failures = { ERR_ABORTED: 0, ERR_TIMEOUT: 0 };
      for (let index = 0; index < REQUESTS; index++) {
        const outcome = outcomes[index]!;
        if (outcome.result) {
          completed++;
          const reference = (await session.run({ x: inputs[index]! })).y!.data;
          if (!outcome.result.every((value, position) => Object.is(value, reference[position]))) expect.fail(`request ${index}: batched result differs from the unbatched one`);
          continue;
        }
        const expected = outcome.fault.kind === 'abort' ? 'ERR_ABORTED' : outcome.fault.kind === 'timeout' ? 'ERR_TIMEOUT' : 'no error';
        if (outcome.code !== expected) expect.fail(`request ${index} (${outcome.fault.kind}) rejected with ${outcome.code}, expected ${expected}`);
        failures[expected as keyof typeof failures]++;
      }
      const format = (values: Slice[]) => values.map((slice) => `${slice.maxDelayMs.toFixed(1)}/${slice.runQueueMs.toFixed(0)}`).join(' ');
      context.annotate(
        `round ${round}: ${REQUESTS} requests submitted in ${submitMs.toFixed(0)} ms (${outstanding} pending in the batcher then); ${completed} completed, ${failures.ERR_ABORTED} aborted, ${failures.ERR_TIMEOUT} timed out in ${soakMs.toFixed(0)} ms; ` +
          `average batch ${averageBatch.toFixed(1)} rows (whole session); ` +
          `event loop max delay / main thread's run-queue wait per ${SLICE_MS} ms slice (ms), soak: ${format(soak)}; idle: ${format(idle)}; load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores`,
      );
      expect(completed + failures.ERR_ABORTED + failures.ERR_TIMEOUT).toBe(REQUESTS);
      expect(completed).toBeGreaterThan(REQUESTS / 2);
      expect(failures.ERR_ABORTED + failures.ERR_TIMEOUT).toBeGreaterThan(0);
      expect(outstanding).toBeGreaterThan(REQUESTS * 0.9);
      // Liveness: the bound is a max delay under 5 ms. It is a performance goal, so it is
      // asserted by `npm run soak:session` (SOAK_LIVENESS=strict, run on its own and committed under
      // benchmarks/results/), not here: inside `npm test` other test files share the 2 cores and
      // their GC and CPU time land on this loop at random. The numbers are annotated above either way.
      // This VM is shared (other jobs' threads delay any timer by 5-100 ms at random moments, idle
      // loop or not), so the delay is taken per 100 ms slice, and what the slice's run-queue wait
      // explains (the loop's thread was runnable but another process had the CPU) is not charged to
      // the session. Asserted: in the median slice, max delay minus run-queue wait stays under 5 ms
      // above the idle loop's median slice. Work that holds the loop itself (inference on this
      // thread, stacking every pending request at once, quadratic bookkeeping) is CPU time on this
      // thread, not run-queue wait: it raises every slice and fails this. On a machine that is not
      // oversubscribed the raw max delay of the median slice is asserted as well, with no correction.
      if (STRICT_LIVENESS) {
        const charged = (slices: Slice[]) => median(slices.map((slice) => Math.max(0, slice.maxDelayMs - slice.runQueueMs)));
        expect(charged(soak)).toBeLessThan(5 + charged(idle));
        if (loadavg()[0]! < availableParallelism()) expect(median(soak.map((slice) => slice.maxDelayMs))).toBeLessThan(5 + median(idle.map((slice) => slice.maxDelayMs)));
      }
    }
  });
});
