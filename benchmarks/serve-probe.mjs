// The health probe of benchmarks/serve-hostile.ts, in its own process: GET /v2/health/live on a new
// connection every 20 ms (as the kubelet probes), until told to stop; then sends back
// [Date.now() at start, latency ms, status] for every probe.
import { request } from 'node:http';

const url = new URL(process.argv[2]);
const samples = [];
let running = true;
process.on('message', (message) => {
  if (message === 'stop') running = false;
});

function probe() {
  return new Promise((resolve) => {
    const req = request({ host: url.hostname, port: url.port, path: '/v2/health/live', agent: false, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

(async () => {
  while (running) {
    const at = Date.now();
    const start = performance.now();
    const status = await probe();
    samples.push([at, performance.now() - start, status]);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  process.send(samples, () => process.exit(0));
})();
