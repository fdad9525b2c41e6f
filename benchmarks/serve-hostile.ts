/**
 * /v2/health/live latency while `tensorrt-node serve` receives hostile bodies: ten concurrent 8 MiB
 * JSON bodies (half empty arrays, refused by the bounds check; half a million tiny rows, which must
 * be parsed before they are refused), in waves. The probe runs in its own process, one new
 * connection per probe as the kubelet does, every 20 ms; the goal is p99 under 100 ms (the old
 * example took 2.6 s, enough to fail a liveness probe). Baseline: the same probe with no load.
 *
 *   npm run build:ts && npm run bench:serve-hostile      (writes benchmarks/results/serve-hostile.json)
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { serializeModel } from '../lib/onnx/model.js';
import { mlpModel } from '../test/helpers/onnx-fixtures.js';
import { repositoryWith, root, startServe } from './serve-process.js';

const WAVES = Number(process.env.BENCH_WAVES ?? 3);
function send(url: string, body: Buffer): Promise<number> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        method: 'POST',
        path: '/v2/models/mlp/infer',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': body.byteLength },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function summary(latencies: number[]) {
  const sorted = [...latencies].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
  return { count: sorted.length, p50Ms: rank(50), p99Ms: rank(99), maxMs: sorted.at(-1)! };
}

const size = 8 * 1024 * 1024;
const body = (data: string) => Buffer.from(`{"inputs":[{"name":"x","shape":[1,16],"datatype":"FP32","data":${data}}]}`);
const emptyArrays = body(`[${'[],'.repeat(size / 3 - 40)}[]]`);
const numbers = body(`[${'[0.125],'.repeat(size / 8 - 40)}[0.125]]`);

const server = await startServe(repositoryWith('mlp', serializeModel(mlpModel()), { backend: 'cpu' }), [
  '--backend',
  'cpu',
  '--max-body',
  '16MiB',
]);
const prober = fork(join(root, 'benchmarks', 'serve-probe.mjs'), [server.urls.http], {
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
const windows: { phase: string; from: number; to: number }[] = [];
const waves: { statuses: number[]; ms: number }[] = [];
try {
  let from = Date.now();
  await new Promise((resolve) => setTimeout(resolve, 5000));
  windows.push({ phase: 'idle', from, to: Date.now() });
  for (let wave = 0; wave < WAVES; wave++) {
    from = Date.now();
    const start = performance.now();
    const statuses = await Promise.all(
      Array.from({ length: 10 }, (_, index) => send(server.urls.http, index % 2 === 0 ? emptyArrays : numbers)),
    );
    waves.push({ statuses, ms: performance.now() - start });
    windows.push({ phase: 'hostile', from, to: Date.now() });
    console.log(`wave ${wave + 1}: ${statuses.join(',')} in ${(performance.now() - start).toFixed(0)} ms`);
  }
} finally {
  prober.send('stop');
}
const [samples] = (await once(prober, 'message')) as [[number, number, number][]];
const exitCode = await server.stop();
const inPhase = (phase: string) =>
  samples.filter(([at]) => windows.some((window) => window.phase === phase && at >= window.from && at <= window.to));
const result = {
  benchmark:
    'serve-hostile: /v2/health/live latency (new connection per probe, every 20 ms, separate process) while ten concurrent 8 MiB hostile JSON bodies arrive',
  goal: 'health p99 < 100 ms while the hostile bodies are in flight',
  createdAt: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, loadAverage: loadavg(), node: process.version },
  bodies: { emptyArraysBytes: emptyArrays.byteLength, numbersBytes: numbers.byteLength, perWave: 10, waves: WAVES },
  idle: summary(inPhase('idle').map(([, latency]) => latency)),
  hostile: summary(inPhase('hostile').map(([, latency]) => latency)),
  healthFailures: samples.filter(([, , status]) => status !== 200).length,
  waves,
  serveExitCode: exitCode,
};
console.log(JSON.stringify(result, null, 2));
writeFileSync(join(root, 'benchmarks/results/serve-hostile.json'), `${JSON.stringify(result, null, 2)}\n`);
