/**
 * `npm run bench:session`: InferenceSession throughput and latency (p50/p99) at concurrency 1, 8 and
 * 32, with and without the dynamic batcher, on models with a dynamic batch dim, measured with the
 * bench harness's driver (lib/bench: warm-up, time-bounded runs, trtexec's percentiles). Goal of
 * issue 7: the batcher gives >= 1.8x the throughput at concurrency 32. Every configuration is
 * measured ROUNDS times, interleaved (without, with, without, ...) so that load drifting on a shared
 * host hits both alike; the median round is reported and the ratios come from those medians.
 *
 * Models (generated, seeded):
 * - "mlp": the test fixture, x [batch, 16] -> 32 -> 8 (~1 kFLOP per row): per-request overhead only;
 * - "scorer": x [batch, 256] -> Gemm 512 -> Relu -> Gemm 512 -> Relu -> Gemm 16 (~0.8 MFLOP per row),
 *   a tabular scoring model whose rows cost real compute.
 *
 * Writes benchmarks/results/session-batcher.json with the machine, versions and every run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { collectEnvironment } from '../lib/bench/environment.js';
import { runPoint } from '../lib/bench/sweep.js';
import type { BenchTarget, SweepPoint } from '../lib/bench/target.js';
import { percentileValue } from '../lib/bench/statistics.js';
import { generateFeeds } from '../lib/precision/calibration-data.js';
import { serializeModel, type OnnxModel } from '../lib/onnx/model.js';
import { createRandom } from '../lib/onnx/random.js';
import { makeNode } from '../lib/onnx/graph.js';
import { DataType } from '../lib/onnx/proto.js';
import { InferenceSession } from '../lib/session/inference-session.js';
import { GraphBuilder, buildModel, intAttribute, mlpModel } from '../test/helpers/onnx-fixtures.js';

const CONCURRENCIES = [1, 8, 32];
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const DURATION_MS = Number(process.env.DURATION_MS ?? 3000);
const here = dirname(fileURLToPath(import.meta.url));

function scorerModel(): OnnxModel {
  const random = createRandom(7);
  const graph = new GraphBuilder('scorer');
  let current = graph.input('x', DataType.FLOAT, ['batch', 256]);
  const widths = [256, 512, 512, 16];
  for (let layer = 0; layer < 3; layer++) {
    const [inputs, outputs] = [widths[layer]!, widths[layer + 1]!];
    const weight = graph.initializer(
      `fc${layer}.weight`,
      [outputs, inputs],
      Float32Array.from({ length: outputs * inputs }, () => random.normal() / Math.sqrt(inputs)),
    );
    const bias = graph.initializer(
      `fc${layer}.bias`,
      [outputs],
      Float32Array.from({ length: outputs }, () => random.normal() * 0.1),
    );
    const name = layer === 2 ? 'score' : `fc${layer}_out`;
    graph.nodes.push(makeNode('Gemm', [current, weight, bias], [name], `fc${layer}`, [intAttribute('transB', 1)]));
    current = layer === 2 ? name : graph.node('Relu', [name], [], 1, `relu${layer}`)[0]!;
  }
  graph.output('score', DataType.FLOAT, ['batch', 16]);
  return buildModel(graph.build());
}

interface Measured {
  model: string;
  concurrency: number;
  batcher: boolean;
  round: number;
  qps: number;
  p50Ms: number;
  p99Ms: number;
  averageBatch: number;
  eventLoopMaxMs: number | null;
}

/** A target over one session, like lib/bench/model-targets.ts, that also reports the batch sizes reached. */
async function target(path: string, point: SweepPoint, onMetrics: (averageBatch: number) => void): Promise<BenchTarget> {
  const session = await InferenceSession.create(path, { backend: 'cpu', maxQueue: 4096 });
  const feeds = generateFeeds(
    session.inputs,
    { random: 1, seed: 1 },
    { [session.inputs[0]!.name]: [1, session.inputs[0]!.shape[1]!] },
  ).next().value!;
  const batcher = point.batcher ? session.batcher({ maxBatchSize: point.concurrency, maxDelayMs: 0 }) : null;
  return {
    describe: () => ({
      backend: 'cpu',
      precision: 'fp32',
      batch: 1,
      device: null,
      versions: {},
      measuresPhases: false,
      notes: [],
    }),
    run: async () => {
      await (batcher ?? session).run(feeds);
      return undefined;
    },
    dispose: async () => {
      const metrics = session.metrics();
      onMetrics(metrics.inferenceCount / Math.max(1, metrics.executionCount));
      await session.dispose();
    },
  };
}

async function main(): Promise<void> {
  const folder = join(tmpdir(), `trtnode-bench-session-${process.pid}`);
  mkdirSync(folder, { recursive: true });
  const models = { mlp: mlpModel(), scorer: scorerModel() };
  const runs: Measured[] = [];
  for (const [name, model] of Object.entries(models)) {
    const path = join(folder, `${name}.onnx`);
    writeFileSync(path, serializeModel(model));
    for (let round = 0; round < ROUNDS; round++) {
      for (const concurrency of CONCURRENCIES) {
        const order = round % 2 === 0 ? [false, true] : [true, false];
        for (const batcher of order) {
          const point: SweepPoint = {
            backend: 'cpu',
            precision: 'fp32',
            batch: 1,
            concurrency,
            device: null,
            cudaGraph: false,
            transfers: false,
            batcher,
          };
          let averageBatch = 1;
          const { result } = await runPoint((sweepPoint) => target(path, sweepPoint, (value) => (averageBatch = value)), point, {
            warmupMs: 300,
            durationMs: DURATION_MS,
            minIterations: 50,
            percentiles: [50, 99],
          });
          if (result.status !== 'ok' || !result.metrics || !result.throughput)
            throw new Error(`${name} c${concurrency} batcher=${batcher}: ${result.error?.message ?? 'no metrics'}`);
          const measured: Measured = {
            model: name,
            concurrency,
            batcher,
            round,
            qps: result.throughput.qps,
            p50Ms: result.metrics.latency.median,
            p99Ms: percentileValue(result.metrics.latency, 99)!,
            averageBatch,
            eventLoopMaxMs: result.eventLoopDelay?.maxMs ?? null,
          };
          runs.push(measured);
          console.log(
            `${name} c=${concurrency} ${batcher ? 'batcher' : 'direct '} round ${round}: ${measured.qps.toFixed(0)} qps, p50 ${measured.p50Ms.toFixed(3)} ms, p99 ${measured.p99Ms.toFixed(3)} ms, average batch ${averageBatch.toFixed(1)}`,
          );
        }
      }
    }
  }
  const medianRun = (model: string, concurrency: number, batcher: boolean): Measured => {
    const matching = runs
      .filter((run) => run.model === model && run.concurrency === concurrency && run.batcher === batcher)
      .sort((a, b) => a.qps - b.qps);
    return matching[Math.floor(matching.length / 2)]!;
  };
  const summary = Object.keys(models).flatMap((model) =>
    CONCURRENCIES.map((concurrency) => {
      const direct = medianRun(model, concurrency, false);
      const batched = medianRun(model, concurrency, true);
      return {
        model,
        concurrency,
        direct: { qps: direct.qps, p50Ms: direct.p50Ms, p99Ms: direct.p99Ms },
        batcher: { qps: batched.qps, p50Ms: batched.p50Ms, p99Ms: batched.p99Ms, averageBatch: batched.averageBatch },
        throughputRatio: batched.qps / direct.qps,
      };
    }),
  );
  for (const row of summary)
    console.log(`${row.model} c=${row.concurrency}: batcher/direct throughput ${row.throughputRatio.toFixed(2)}x`);
  const goal = summary
    .filter((row) => row.concurrency === 32)
    .map((row) => ({ model: row.model, ratio: row.throughputRatio, met: row.throughputRatio >= 1.8 }));
  const file = join(here, 'results', 'session-batcher.json');
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        benchmark: 'session-batcher',
        createdAt: new Date().toISOString(),
        goal: { description: 'batcher throughput >= 1.8x direct runs at concurrency 32 (issue 7)', results: goal },
        settings: {
          backend: 'cpu',
          contexts: 1,
          batch: 1,
          rounds: ROUNDS,
          durationMs: DURATION_MS,
          warmupMs: 300,
          batcher: { maxBatchSize: 'the concurrency', maxDelayMs: 0 },
          reported: 'median round per configuration',
        },
        environment: await collectEnvironment(),
        summary,
        runs,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`written to ${file}`);
}

await main();
