/**
 * The load generator without a server: arrival schedules, the open loop measuring from intended send
 * times (a server stall shows in every request scheduled during it, where a closed loop hides it),
 * failures counted by code without stopping the run, the server-side split from Triton's counters,
 * `bench --url` options, and load runs in the results file (schema and report).
 */
import { describe, expect, it } from 'vitest';
import { ArgumentRangeError, ArgumentTypeError } from '../../lib/core/errors.js';
import { arrivalGaps } from '../../lib/bench/load/arrivals.js';
import { LoadFailure } from '../../lib/bench/load/clients.js';
import { runClosedLoop, runOpenLoop, type LoadTarget } from '../../lib/bench/load/drivers.js';
import { parseRemoteBenchOptions } from '../../lib/bench/load/options.js';
import { buildLoadRun } from '../../lib/bench/load/remote-bench.js';
import { parseTritonCounters, summarizeServerSide } from '../../lib/bench/load/server-metrics.js';
import { checkResults, RESULTS_SCHEMA_ID, RESULTS_SCHEMA_VERSION, type BenchResultsFile } from '../../lib/bench/results.js';
import { buildReportModel } from '../../lib/bench/report/model.js';
import { loadTable } from '../../lib/bench/report/tables.js';
import { expectErrorSync } from '../helpers/expect-error.js';

/** A server that answers in ~1 ms, except that requests sent while `stalled` wait until the stall ends. */
function stallingTarget(stallAfterMs: number, stallForMs: number): LoadTarget {
  const start = performance.now();
  const stallEnd = start + stallAfterMs + stallForMs;
  return {
    infer: () => {
      const now = performance.now();
      const wait = now >= start + stallAfterMs && now < stallEnd ? stallEnd - now : 1;
      return new Promise((resolve) => setTimeout(resolve, wait));
    },
  };
}

describe('arrivals', () => {
  it('Poisson gaps average 1/rate and are seeded; constant gaps are exact', () => {
    const poisson = arrivalGaps('poisson', 500, 3);
    const gaps = Array.from({ length: 50_000 }, poisson);
    const mean = gaps.reduce((total, gap) => total + gap, 0) / gaps.length;
    expect(mean).toBeGreaterThan(1.96);
    expect(mean).toBeLessThan(2.04);
    expect(Array.from({ length: 5 }, arrivalGaps('poisson', 500, 3))).toEqual(gaps.slice(0, 5));
    expect(Array.from({ length: 3 }, arrivalGaps('constant', 250))).toEqual([4, 4, 4]);
  });
});

describe('open and closed loop', () => {
  it('the open loop counts a stall against every request scheduled during it; the closed loop sees one slow request', async () => {
    const open = await runOpenLoop(stallingTarget(300, 1000), {
      ratePerSecond: 100,
      arrival: 'constant',
      durationMs: 1500,
      maxInFlight: 10_000,
      seed: 1,
    });
    const openLatencies = Array.from(open.recorder.series().latency);
    expect(open.succeeded).toBe(open.sent);
    expect(open.sent).toBeGreaterThanOrEqual(140);
    // Requests intended during the first half of the stall waited at least half of it.
    expect(openLatencies.filter((latency) => latency >= 500).length).toBeGreaterThanOrEqual(40);
    const closed = await runClosedLoop(stallingTarget(300, 1000), { concurrency: 1, durationMs: 1500 });
    const closedLatencies = Array.from(closed.recorder.series().latency);
    expect(closedLatencies.filter((latency) => latency >= 500).length).toBeLessThanOrEqual(2);
  });

  it('failures are counted by code and do not stop the run', async () => {
    let calls = 0;
    const flaky: LoadTarget = {
      infer: () => {
        calls++;
        if (calls % 3 === 0) return Promise.reject(new LoadFailure('http_503', 'busy'));
        if (calls % 5 === 0) return Promise.reject(Object.assign(new Error('reset'), { code: 'ECONNRESET' }));
        return Promise.resolve();
      },
    };
    const result = await runOpenLoop(flaky, {
      ratePerSecond: 200,
      arrival: 'poisson',
      durationMs: 300,
      maxInFlight: 100,
      seed: 2,
    });
    const failed = Object.values(result.failuresByCode).reduce((total, count) => total + count, 0);
    expect(result.succeeded + failed).toBe(result.sent);
    expect(Object.keys(result.failuresByCode).sort()).toEqual(['ECONNRESET', 'http_503']);
    expect(result.recorder.count).toBe(result.succeeded);
  });

  it('past maxInFlight the client drops requests (client_overload) instead of growing without bound', async () => {
    const never: LoadTarget = { infer: () => new Promise((resolve) => setTimeout(resolve, 400)) };
    const result = await runOpenLoop(never, {
      ratePerSecond: 200,
      arrival: 'constant',
      durationMs: 200,
      maxInFlight: 5,
      seed: 1,
    });
    expect(result.succeeded).toBe(5);
    expect(result.failuresByCode.client_overload).toBe(result.sent - 5);
  });
});

describe('server-side counters', () => {
  const text = (success: number, queueUs: number) => `# HELP nv_inference_request_success x
# TYPE nv_inference_request_success counter
nv_inference_request_success{model="m",version="1"} ${success}
nv_inference_request_success{model="other",version="1"} 99
nv_inference_request_failure{model="m",version="1",reason="REJECTED"} 2
nv_inference_count{model="m",version="1"} ${success * 2}
nv_inference_exec_count{model="m",version="1"} ${success / 2}
nv_inference_request_duration_us{model="m",version="1"} ${queueUs * 3}
nv_inference_queue_duration_us{model="m",version="1"} ${queueUs}
nv_inference_compute_infer_duration_us{model="m",version="1"} ${queueUs * 2}
`;

  it('Triton counters of one model are differenced over the run into per-request times', () => {
    const before = parseTritonCounters(text(100, 10_000), 'm', undefined);
    const after = parseTritonCounters(text(300, 50_000), 'm', '1');
    expect(summarizeServerSide('http://x/metrics', before, after)).toEqual({
      source: 'http://x/metrics',
      requests: 200,
      failures: 0,
      inferences: 400,
      executions: 100,
      averageBatch: 4,
      meanQueueMs: 0.2,
      meanComputeMs: 0.4,
      meanRequestMs: 0.6,
    });
    expect(parseTritonCounters(text(1, 1), 'm', '2').nv_inference_request_success).toBe(0);
  });
});

describe('bench --url options', () => {
  it("defaults: REST, closed loop at concurrency 1 unless request rates are given, the server's /metrics scraped", () => {
    expect(parseRemoteBenchOptions({ url: 'localhost:8000', model: 'm' }, [])).toMatchObject({
      url: 'http://localhost:8000',
      protocol: 'rest',
      binary: false,
      requestRates: null,
      concurrencies: [1],
      metricsUrl: 'http://localhost:8000/metrics',
      durationMs: 10_000,
      percentiles: [50, 90, 95, 99, 99.9],
    });
    expect(
      parseRemoteBenchOptions(
        { url: 'grpc://h:9000', model: 'm', protocol: 'grpc', 'request-rate': '10,20.5', arrival: 'constant' },
        [],
      ),
    ).toMatchObject({ url: 'h:9000', requestRates: [10, 20.5], concurrencies: null, arrival: 'constant', metricsUrl: null });
  });

  it('BAD CALL - local options, both modes, --binary over gRPC, a model file, bad rates', () => {
    expectErrorSync(
      () => parseRemoteBenchOptions({ url: 'h:1', model: 'm', precision: 'fp16' }, []),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected no --precision with --url (it applies to local runs; the server decides how it runs the model) but received "fp16"',
    );
    expectErrorSync(
      () => parseRemoteBenchOptions({ url: 'h:1', model: 'm', 'request-rate': '5', concurrency: '2' }, []),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected --request-rate (open loop) or --concurrency (closed loop) but received both',
    );
    expectErrorSync(
      () => parseRemoteBenchOptions({ url: 'h:1', model: 'm', protocol: 'grpc', binary: true }, []),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected --binary with --protocol rest only (gRPC always sends raw tensor contents) but received --protocol grpc',
    );
    expectErrorSync(
      () => parseRemoteBenchOptions({ url: 'h:1', model: 'm' }, ['model.onnx']),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected no model file with --url (name the served model with --model) but received "model.onnx"',
    );
    expectErrorSync(
      () => parseRemoteBenchOptions({ url: 'h:1' }, []),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      "Expected the served model's name for --model (with --url) but received undefined",
    );
    expectErrorSync(
      () => parseRemoteBenchOptions({ url: 'h:1', model: 'm', 'request-rate': '10,-1' }, []),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected request rates between 0 and 1000000 per second (comma-separated) for --request-rate but received "-1" of type string',
    );
    expectErrorSync(
      () => parseRemoteBenchOptions({ url: 'ftp://h', model: 'm' }, []),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a http(s)://host:port URL for --url but received "ftp://h" of type string',
    );
  });
});

describe('load runs in the results file', () => {
  it("validate against the results schema and appear in the report's load table", async () => {
    const measurement = await runOpenLoop(
      { infer: () => Promise.resolve() },
      { ratePerSecond: 100, arrival: 'poisson', durationMs: 200, maxInFlight: 10, seed: 1 },
    );
    const options = parseRemoteBenchOptions({ url: 'http://h:8000', model: 'm', 'request-rate': '100' }, []);
    const run = buildLoadRun(
      options,
      { mode: 'open-loop', rate: 100 },
      { name: 'triton', version: '2.60.0' },
      measurement,
      { iterations: 0, durationMs: 0 },
      null,
    );
    expect(run).toMatchObject({
      id: 'rest-json-r100',
      status: 'ok',
      point: { backend: 'remote', batch: 1 },
      load: { serverName: 'triton', offeredRate: 100, mode: 'open-loop', failed: 0 },
    });
    const file = {
      schema: RESULTS_SCHEMA_ID,
      schemaVersion: RESULTS_SCHEMA_VERSION,
      createdAt: new Date().toISOString(),
      tool: { name: 'tensorrt-node', version: '0.1.0', command: [] },
      environment: {
        host: {
          hostname: 'h',
          platform: 'linux',
          arch: 'x64',
          osRelease: '6',
          cpuModel: 'cpu',
          cpuCores: 2,
          memoryBytes: 1,
          glibc: null,
          loadAverage: [0, 0, 0],
        },
        node: { version: 'v20', napiVersion: 9, v8: '11' },
        packages: { 'tensorrt-node': '0.1.0', 'onnxruntime-node': null },
        driver: { version: null },
        cuda: { runtimeVersion: null, driverVersion: null },
        tensorrt: { version: null, headersVersion: null, path: null },
        gpus: [],
      },
      model: null,
      options: {},
      overhead: null,
      runs: [run],
    } as unknown as BenchResultsFile;
    expect(() => checkResults(JSON.parse(JSON.stringify(file)), 'load.json')).not.toThrow();
    const table = loadTable(buildReportModel([{ file: 'load.json', results: file }]));
    expect(table!.rows[0]!.slice(0, 7)).toEqual(['1', 'triton 2.60.0 @ h:8000', 'rest-json', 'm', '1', 'open (poisson)', '100']);
  });
});
