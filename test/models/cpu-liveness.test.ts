/**
 * The point of running onnxruntime in a worker thread: the event loop keeps ticking while a model
 * runs continuously. Measured with perf_hooks (monitorEventLoopDelay, eventLoopUtilization) during
 * back-to-back runs of the PP-OCRv4 detector at 1x3x320x320 (a ~15 ms model on an idle two-core
 * machine), and contrasted with onnxruntime-node called directly, which stalls the loop for each
 * whole run.
 *
 * Inside `npm test` only the contrast measured in one run is asserted (our loop is far less busy than
 * onnxruntime-node's); the absolute bounds are performance goals, asserted by `npm run liveness`
 * (LIVENESS=strict, run alone) because other test files share the cores during `npm test`.
 */
import ort from 'onnxruntime-node';
import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCpuBackend, type CpuBackend } from '../../lib/backends/cpu/backend.js';
import { median } from '../../lib/bench/statistics.js';
import { ppocr, randomTensor } from '../helpers/onnx-fixtures.js';

const DURATION_MS = 1500;
const STRICT = process.env.LIVENESS === 'strict';

interface LoopMeasurement {
  runs: number;
  meanRunMs: number;
  maxDelayMs: number;
  medianDelayMs: number;
  /** Share of wall time the event loop was busy (not waiting for events). */
  utilization: number;
}

async function measureLoop(runOnce: () => Promise<unknown>, durationMs = DURATION_MS): Promise<LoopMeasurement> {
  await runOnce(); // warm-up outside the measurement
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  const before = performance.eventLoopUtilization();
  histogram.enable();
  const started = performance.now();
  let runs = 0;
  while (performance.now() - started < durationMs) {
    await runOnce();
    runs++;
  }
  const elapsed = performance.now() - started;
  histogram.disable();
  return {
    runs,
    meanRunMs: elapsed / runs,
    maxDelayMs: histogram.max / 1e6,
    medianDelayMs: histogram.percentile(50) / 1e6,
    utilization: performance.eventLoopUtilization(before).utilization,
  };
}

describe('event-loop liveness of the cpu backend', () => {
  let backend: CpuBackend;
  const x = randomTensor([1, 3, 320, 320], 1, -2, 2);
  beforeAll(async () => {
    // One intra-op thread leaves the second core of a two-core machine to the event loop.
    backend = await createCpuBackend(ppocr.det, { intraOpNumThreads: 1 });
  });
  afterAll(async () => {
    await backend?.dispose();
  });

  it('keeps the event loop free while the detector runs back to back; onnxruntime-node alone keeps it busy for whole runs', async () => {
    const ours = await measureLoop(() => backend.run({ x }));
    const session = await ort.InferenceSession.create(ppocr.det, { intraOpNumThreads: 1 });
    const tensor = new ort.Tensor('float32', x.data, x.shape);
    const direct = await measureLoop(() => session.run({ x: tensor }));
    await session.release();
    expect(ours.runs).toBeGreaterThan(5);
    // The main thread only validates, copies 1.2 MB into a warm staging buffer and hands it over,
    // while onnxruntime-node holds it for every whole run.
    expect(ours.utilization).toBeLessThan(direct.utilization / 2);
    if (!STRICT) return;
    expect(ours.utilization).toBeLessThan(0.15);
    expect(ours.medianDelayMs).toBeLessThan(2);
    expect(direct.utilization).toBeGreaterThan(0.5);
    expect(direct.medianDelayMs).toBeGreaterThan(Math.min(direct.meanRunMs / 2, 10));
  });

  it('adds less than 5 ms to the max event-loop delay while the detector runs continuously (paired 0.5 s windows)', async (context) => {
    // On an idle machine this is "max loop delay under 5 ms". On a shared one, other processes
    // delay timers too, by different amounts from one moment to the next, so windows of the
    // detector running back to back alternate with windows of a loop that only sleeps, and the
    // median of (running max - sleeping max) over the pairs is what is asserted: a backend that
    // blocked the loop would add a whole run (15+ ms) to every window.
    const excess: number[] = [];
    const report: string[] = [];
    for (let window = 0; window < 7; window++) {
      const sleeping = (await measureLoop(() => new Promise((resolve) => setTimeout(resolve, 10)), 500)).maxDelayMs;
      const running = (await measureLoop(() => backend.run({ x }), 500)).maxDelayMs;
      excess.push(running - sleeping);
      report.push(`${running.toFixed(1)}/${sleeping.toFixed(1)}`);
    }
    context.annotate(
      `max loop delay per window, detector running / sleeping: ${report.join(', ')} ms (load average ${loadavg()[0]!.toFixed(1)})`,
    );
    const medianExcess = median(excess);
    context.annotate(`median added max delay: ${medianExcess.toFixed(1)} ms`);
    expect(excess).toHaveLength(7);
    if (STRICT) expect(medianExcess).toBeLessThan(5);
  });
});
