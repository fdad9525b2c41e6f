/**
 * REST with the binary tensor data extension vs REST JSON vs gRPC against `tensorrt-node serve`, on a
 * 1x3x320x320 float32 input (1.2 MB of tensor data per request; ~3.4 MB as JSON). The model only
 * averages each channel (GlobalAveragePool), so the transport's cost, not the model's, is measured.
 * Closed loop, 4 requests in flight; the protocols alternate over several rounds, so that load drift
 * on a shared machine hits all three alike, and the ratios compare the medians of their rounds.
 *
 *   npm run build:ts && npm run bench:serve-protocols   (writes benchmarks/results/serve-protocols/)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { capabilities } from '../lib/addon/capabilities.js';
import { parseRemoteBenchOptions, type RemoteBenchValues } from '../lib/bench/load/options.js';
import { runRemoteBench } from '../lib/bench/load/remote-bench.js';
import { writeResultsFile, type BenchResultsFile } from '../lib/bench/results.js';
import { buildReport } from '../lib/bench/report/index.js';
import { makeNode } from '../lib/onnx/graph.js';
import { serializeModel } from '../lib/onnx/model.js';
import { DataType } from '../lib/onnx/proto.js';
import { GraphBuilder, buildModel } from '../test/helpers/onnx-fixtures.js';
import { repositoryWith, root, startServe } from './serve-process.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION = process.env.BENCH_DURATION ?? '8s';
const out = join(root, 'benchmarks/results/serve-protocols');
mkdirSync(out, { recursive: true });

function channelMeanModel() {
  const graph = new GraphBuilder('channel_mean');
  graph.input('x', DataType.FLOAT, ['batch', 3, 320, 320]);
  graph.nodes.push(makeNode('GlobalAveragePool', ['x'], ['y'], 'pool'));
  graph.output('y', DataType.FLOAT, ['batch', 3, 1, 1]);
  return buildModel(graph.build());
}

const repository = repositoryWith('channel_mean', serializeModel(channelMeanModel()), {
  backend: 'cpu',
  batcher: false,
  contexts: 2,
  cpu: { intraOpNumThreads: 1 },
});
const server = await startServe(repository, ['--backend', 'cpu', '--max-body', '64MiB']);
const transports: [string, RemoteBenchValues][] = [
  ['rest-binary', { url: server.urls.http, binary: true }],
  ['rest-json', { url: server.urls.http }],
  ['grpc', { url: server.urls.grpc!, protocol: 'grpc', 'metrics-url': server.urls.metrics! }],
];
const caps = await capabilities();
let combined: BenchResultsFile | null = null;
const throughput: Record<string, number[]> = {};
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, values] of transports) {
      const options = parseRemoteBenchOptions(
        { ...values, model: 'channel_mean', concurrency: '4', duration: DURATION, warmup: '1s' },
        [],
      );
      const { results } = await runRemoteBench(options, {
        capabilities: caps,
        write: () => undefined,
        command: [
          'bench',
          '--url',
          '<serve>',
          '--model',
          'channel_mean',
          '--concurrency',
          '4',
          ...(values.binary ? ['--binary'] : []),
          ...(values.protocol ? ['--protocol', values.protocol] : []),
        ],
      });
      const run = results.runs[0]!;
      run.id = `${run.id}-round${round + 1}`;
      (throughput[name] ??= []).push(run.throughput?.qps ?? 0);
      console.log(
        `round ${round + 1} ${name}: ${run.throughput?.qps.toFixed(1)} req/s, median ${run.metrics?.latency.median.toFixed(2)} ms, failed ${run.load?.failed}`,
      );
      if (combined) combined.runs.push(run);
      else combined = results;
    }
  }
} finally {
  console.log(`serve exited with ${await server.stop()} after SIGTERM`);
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const medians = Object.fromEntries(Object.entries(throughput).map(([name, values]) => [name, median(values)]));
const summary = {
  input: 'x: float32 [1, 3, 320, 320] (1,228,800 bytes)',
  concurrency: 4,
  rounds: ROUNDS,
  durationPerRun: DURATION,
  throughputPerRound: throughput,
  medianThroughput: medians,
  ratios: {
    'rest-binary / rest-json': medians['rest-binary']! / medians['rest-json']!,
    'grpc / rest-json': medians.grpc! / medians['rest-json']!,
    'rest-binary / grpc': medians['rest-binary']! / medians.grpc!,
  },
};
console.log(JSON.stringify(summary, null, 2));
combined!.options = { ...combined!.options, summary };
const json = join(out, 'results.json');
writeResultsFile(json, combined!);
writeFileSync(join(out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
const report = await buildReport([json], {
  html: true,
  markdown: true,
  title: 'tensorrt-node serve: REST binary vs REST JSON vs gRPC, 1x3x320x320 float32',
});
writeFileSync(join(out, 'report.html'), report.html!);
writeFileSync(join(out, 'report.md'), report.markdown!);
