/**
 * The batcher's correctness soak: SOAK_REQUESTS (default 10,000) concurrent requests with distinct
 * inputs (submitted as a service receives them, SUBMIT_CHUNK per event-loop turn, none waiting for
 * another), a tenth of them aborted and a tenth given short deadlines at random moments. Every
 * completed response must equal the unbatched result for its own input (bit for bit: onnxruntime
 * computes each row the same way whatever the batch), every failed one must have failed with the
 * code of what was done to it, and everything settles. The event loop is watched all along with
 * perf_hooks and reported; `npm run soak:session` runs it alone with more requests and several
 * rounds and asserts the liveness bound, `npm run soak:session:raw` the literal bound (see below).
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import {
  PerformanceObserver,
  monitorEventLoopDelay,
  type PerformanceEntry,
  type PerformanceObserverEntryList,
} from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostTensor } from '../../lib/core/dtypes.js';
import { createRandom } from '../../lib/onnx/random.js';
import { InferenceSession } from '../../lib/session/inference-session.js';
import { mlpModel } from '../helpers/onnx-fixtures.js';

const REQUESTS = Number(process.env.SOAK_REQUESTS ?? 10_000);
const ROUNDS = Number(process.env.SOAK_ROUNDS ?? 1);
/** 'strict' or 'raw': the event-loop bound asserted when the soak runs alone (see the liveness comment below). */
const LIVENESS = process.env.SOAK_LIVENESS;
/** Slices the loop delay is summarized over (see the liveness bound below). */
const SLICE_MS = 100;
/** Requests submitted per event-loop turn (see the submission loop). */
const SUBMIT_CHUNK = Number(process.env.SOAK_CHUNK ?? 50);

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
  /** Longest garbage-collection pause that started in the slice (ms), from perf_hooks' gc entries. */
  gcMaxMs: number;
}

/** Event-loop delay of every SLICE_MS slice until stop() is called, with the run-queue wait and GC pauses in each. */
function watchSlices(): { stop: () => Promise<Slice[]> } {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  const slices: (Slice & { startMs: number; endMs: number })[] = [];
  const pauses: { startMs: number; durationMs: number }[] = [];
  const record = (list: PerformanceObserverEntryList | PerformanceEntry[]) => {
    for (const entry of Array.isArray(list) ? list : list.getEntries())
      pauses.push({ startMs: entry.startTime, durationMs: entry.duration });
  };
  const observer = new PerformanceObserver(record);
  observer.observe({ entryTypes: ['gc'] });
  let waited = runQueueWaitNs();
  let startMs = performance.now();
  const close = () => {
    const now = runQueueWaitNs();
    const endMs = performance.now();
    slices.push({ maxDelayMs: histogram.max / 1e6, runQueueMs: (now - waited) / 1e6, gcMaxMs: 0, startMs, endMs });
    waited = now;
    startMs = endMs;
    histogram.reset();
  };
  histogram.enable();
  const timer = setInterval(close, SLICE_MS);
  return {
    async stop() {
      clearInterval(timer);
      if (histogram.count > 0) close();
      histogram.disable();
      // Node creates gc entries on a later turn than the pause itself.
      await new Promise(setImmediate);
      record(observer.takeRecords());
      observer.disconnect();
      // A pause counts in the slice it started in and in the one it ended in: the loop delay it
      // causes is recorded by whichever timer runs first after it, on either side of a slice's end.
      for (const pause of pauses) {
        for (const at of [pause.startMs, pause.startMs + pause.durationMs]) {
          const slice = slices.find((candidate) => at >= candidate.startMs && at < candidate.endMs);
          if (slice) slice.gcMaxMs = Math.max(slice.gcMaxMs, pause.durationMs);
        }
      }
      return slices.map(({ maxDelayMs, runQueueMs, gcMaxMs }) => ({ maxDelayMs, runQueueMs, gcMaxMs }));
    },
  };
}

async function idleSlices(durationMs: number): Promise<Slice[]> {
  const watcher = watchSlices();
  await new Promise((resolve) => setTimeout(resolve, durationMs));
  return await watcher.stop();
}

describe(`batcher soak: ${REQUESTS} concurrent requests x ${ROUNDS} round(s)`, () => {
  let session: InferenceSession;
  beforeAll(async () => {
    // One worker with one sleeping (not spinning) onnxruntime thread: the other core is the event loop's.
    session = await InferenceSession.create(mlpModel(), {
      backend: 'cpu',
      maxQueue: REQUESTS,
      cpu: { intraOpNumThreads: 1, spinWait: false },
    });
  });
  afterAll(async () => {
    await session?.dispose();
  });

  it(
    'every completed response equals the unbatched result for its own input; aborts and timeouts reject with their codes; nothing hangs; the loop stays live',
    { timeout: 600_000 },
    async (context) => {
      const random = createRandom(20_260_128);
      for (let round = 0; round < ROUNDS; round++) {
        const inputs: HostTensor<'float32'>[] = [];
        const faults: Fault[] = [];
        for (let index = 0; index < REQUESTS; index++) {
          const rows = random.next() < 0.9 ? 1 : 2;
          inputs.push({ dtype: 'float32', shape: [rows, 16], data: random.float32(rows * 16, -2, 2) });
          const draw = random.next();
          faults.push(
            draw < 0.1
              ? { kind: 'abort', afterMs: Math.floor(random.next() * 40) }
              : draw < 0.2
                ? { kind: 'timeout', timeoutMs: 1 + Math.floor(random.next() * 40) }
                : { kind: 'none' },
          );
        }

        const batcher = session.batcher({ maxBatchSize: 64, maxQueue: REQUESTS });
        const idleBefore = await idleSlices(500);
        const before = session.metrics();
        // Requests arrive as a service receives them: SUBMIT_CHUNK per event-loop turn, the next chunk
        // after whatever completions and timers are due, never waiting for earlier requests to settle.
        // (One synchronous loop over all 10,000 would hold the loop ~230 ms by itself, the test's own
        // work; every abort and deadline would then be overdue at once.) Faults count from each
        // request's own submission. The whole soak is watched, submission included.
        const watcher = watchSlices();
        const started = performance.now();
        const settled: Promise<Outcome>[] = [];
        let done = 0;
        let peakInFlight = 0;
        let peakPending = 0;
        for (let index = 0; index < REQUESTS; index++) {
          const fault = faults[index]!;
          let signal: AbortSignal | undefined;
          if (fault.kind === 'abort') {
            const controller = new AbortController();
            setTimeout(() => controller.abort(new Error('soak abort')), fault.afterMs);
            signal = controller.signal;
          }
          const request = batcher.run(
            { x: inputs[index]! },
            { signal, timeoutMs: fault.kind === 'timeout' ? fault.timeoutMs : undefined },
          );
          settled.push(
            request
              .then(
                (result) => ({ fault, result: result.y!.data as Float32Array }),
                (error: { code?: string }) => ({ fault, code: error.code ?? String(error) }),
              )
              .finally(() => done++),
          );
          if ((index + 1) % SUBMIT_CHUNK === 0 || index + 1 === REQUESTS) {
            peakInFlight = Math.max(peakInFlight, index + 1 - done);
            peakPending = Math.max(peakPending, batcher.pending);
            await new Promise(setImmediate);
          }
        }
        const submitMs = performance.now() - started;
        const outcomes = await Promise.all(settled);
        const soakMs = performance.now() - started;
        const soak = await watcher.stop();
        const after = session.metrics();
        const averageBatch = (after.inferenceCount - before.inferenceCount) / (after.executionCount - before.executionCount);
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
            if (!outcome.result.every((value, position) => Object.is(value, reference[position])))
              expect.fail(`request ${index}: batched result differs from the unbatched one`);
            continue;
          }
          const expected =
            outcome.fault.kind === 'abort' ? 'ERR_ABORTED' : outcome.fault.kind === 'timeout' ? 'ERR_TIMEOUT' : 'no error';
          if (outcome.code !== expected)
            expect.fail(`request ${index} (${outcome.fault.kind}) rejected with ${outcome.code}, expected ${expected}`);
          failures[expected as keyof typeof failures]++;
        }
        const format = (values: Slice[]) =>
          values
            .map((slice) => `${slice.maxDelayMs.toFixed(1)}/${slice.runQueueMs.toFixed(0)}/${slice.gcMaxMs.toFixed(1)}`)
            .join(' ');
        const report =
          `round ${round}: ${REQUESTS} requests submitted in ${submitMs.toFixed(0)} ms, ${SUBMIT_CHUNK} per turn (at most ${peakInFlight} in flight, ${peakPending} waiting for a batch); ${completed} completed, ${failures.ERR_ABORTED} aborted, ${failures.ERR_TIMEOUT} timed out in ${soakMs.toFixed(0)} ms; ` +
          `average batch ${averageBatch.toFixed(1)} rows; ` +
          `event loop max delay / main thread's run-queue wait / longest GC pause per ${SLICE_MS} ms slice (ms), soak: ${format(soak)}; idle: ${format(idle)}; load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores`;
        context.annotate(report);
        // Run alone (soak:session), the numbers are the result: print them whether the run passes or not.
        if (LIVENESS) console.log(report);
        expect(completed + failures.ERR_ABORTED + failures.ERR_TIMEOUT).toBe(REQUESTS);
        expect(completed).toBeGreaterThan(REQUESTS / 2);
        expect(failures.ERR_ABORTED + failures.ERR_TIMEOUT).toBeGreaterThan(0);
        // The requests were concurrent: batches formed from them (a request that ran alone would make batches of ~1 row).
        expect(averageBatch).toBeGreaterThan(8);
        // Liveness: the bound is a max delay under 5 ms. It is a performance goal, so it is
        // asserted only when the soak runs alone (`npm run soak:session`, results committed under
        // benchmarks/results/), not inside `npm test`, where other test files share the cores.
        // SOAK_LIVENESS=raw asserts the literal bound: every slice's max delay under 5 ms. On this
        // 2-core VM that fails, and the slices say why: each stall beyond ~3 ms coincides with a V8
        // garbage-collection pause of the same length (scavenges copying the young objects of a
        // thousand or more requests in flight, 10-25 ms here), often lengthened by run-queue wait
        // (the worker thread and GC helpers compete for the two cores).
        // SOAK_LIVENESS=strict asserts what the session's own code controls: in every slice, the max
        // delay not explained by the slice's longest GC pause plus its run-queue wait stays under 5 ms. Work that holds the loop itself (inference on this thread,
        // stacking every pending request at once, quadratic bookkeeping, a burst of overdue timers)
        // is neither, and fails it.
        if (LIVENESS === 'raw') {
          expect(Math.max(...soak.map((slice) => slice.maxDelayMs))).toBeLessThan(5);
        }
        if (LIVENESS === 'strict') {
          const unexplained = soak.map((slice) => Math.max(0, slice.maxDelayMs - slice.gcMaxMs - slice.runQueueMs));
          expect(Math.max(...unexplained)).toBeLessThan(5);
        }
      }
    },
  );
});
