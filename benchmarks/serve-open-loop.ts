/**
 * Open-loop load against `tensorrt-node serve` on the cpu backend: the PP-OCRv4 text detector at
 * 1x3x320x320 (dynamically batched), offered at three request rates with Poisson arrivals over REST
 * (binary tensor data), latency counted from each request's intended send time. The report shows
 * latency against offered load: where it bends up is the server's capacity on this machine.
 *
 *   npm run build:ts && npm run bench:serve      (writes benchmarks/results/serve-open-loop/)
 *
 * BENCH_RATES (default 1,2,4 requests/s) and BENCH_DURATION (default 20s) adjust the runs. The
 * server runs in its own process; the load generator here.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { capabilities } from '../lib/addon/capabilities.js';
import { parseRemoteBenchOptions } from '../lib/bench/load/options.js';
import { runRemoteBench } from '../lib/bench/load/remote-bench.js';
import { buildReport } from '../lib/bench/report/index.js';
import { defaultModelPath } from '../lib/cli/commands/start.js';
import { repositoryWith, root, startServe } from './serve-process.js';

const RATES = process.env.BENCH_RATES ?? '1,2,4';
const DURATION = process.env.BENCH_DURATION ?? '20s';
const out = join(root, 'benchmarks/results/serve-open-loop');
mkdirSync(out, { recursive: true });

const repository = repositoryWith('detector', defaultModelPath(), { backend: 'cpu', batcher: { maxBatchSize: 8 } });
const server = await startServe(repository, ['--backend', 'cpu']);
try {
  const json = join(out, 'results.json');
  const options = parseRemoteBenchOptions(
    {
      url: server.urls.http,
      model: 'detector',
      binary: true,
      'request-rate': RATES,
      arrival: 'poisson',
      duration: DURATION,
      warmup: '3s',
      shape: ['x:1x3x320x320'],
      json,
    },
    [],
  );
  await runRemoteBench(options, {
    capabilities: await capabilities(),
    write: (text) => process.stdout.write(text),
    command: ['bench', '--url', '<serve>', '--model', 'detector', '--binary', '--request-rate', RATES, '--duration', DURATION],
  });
  const report = await buildReport([json], {
    html: true,
    markdown: true,
    title: 'tensorrt-node serve, open loop: PP-OCRv4 detector on the cpu backend',
  });
  writeFileSync(join(out, 'report.html'), report.html!);
  writeFileSync(join(out, 'report.md'), report.markdown!);
  console.log(`Report: ${join(out, 'report.html')}`);
} finally {
  console.log(`serve exited with ${await server.stop()} after SIGTERM`);
}
