/**
 * `tensorrt-node bench --url ... --model m`: drives a remote Open Inference Protocol server (serve,
 * Triton, a KServe runtime) at each request rate (open loop) or concurrency (closed loop), and
 * writes the runs into the same results file as local runs, so that `report` sets servers, GPUs and
 * precisions side by side. Each run records what the client saw (latency percentiles from the
 * intended send time, throughput, failures by code), what the client itself cost (send lag,
 * event-loop delay, CPU), and the server's queue/compute split from its metrics.
 */
import { ErrorCode, TensorRTNodeError } from '../../core/errors.js';
import { packageVersion } from '../../addon/loader.js';
import type { Capabilities } from '../../addon/capabilities.js';
import { decodeRestInferResponse } from '../../protocol/response.js';
import { environmentFrom } from '../environment.js';
import {
  RESULTS_SCHEMA_ID,
  RESULTS_SCHEMA_VERSION,
  transportName,
  writeResultsFile,
  type BenchResultsFile,
  type BenchRunResult,
  type LoadRunInfo,
} from '../results.js';
import { completeRun, errorRecord, metricsFromSeries } from '../run-result.js';
import { formatMs, formatRunSummary } from '../summary.js';
import { createClient, generateInputs, GrpcClient, type RemoteModel, type RemoteServer, type RestClient } from './clients.js';
import { runClosedLoop, runOpenLoop, type LoadMeasurement } from './drivers.js';
import type { RemoteBenchOptions } from './options.js';
import { fetchMetricsText, parseTritonCounters, summarizeServerSide, type ServerSideSummary } from './server-metrics.js';

/** What {@link runRemoteBench} takes from its caller: the machine's capabilities (for the results' environment) and where progress goes. */
export interface RemoteBenchDependencies {
  capabilities: Capabilities;
  /** Where progress lines go (the CLI's stderr). */
  write: (text: string) => void;
  command?: string[];
}

/** Send lag (p99, ms) beyond which the client is said to have fallen behind its schedule. */
const SEND_LAG_WARNING_MS = 5;

type Point = { mode: 'open-loop'; rate: number } | { mode: 'closed-loop'; concurrency: number };

/** One request, decoded and checked, before any load: a misconfigured run fails here with the server's answer. */
async function checkOneRequest(client: RestClient | GrpcClient, model: RemoteModel): Promise<void> {
  if (client instanceof GrpcClient) {
    const response = await client.inferOnce();
    if (response.outputs.length === 0)
      throw new TensorRTNodeError(ErrorCode.IO, `The server answered an inference of "${model.name}" with no outputs`);
    return;
  }
  const response = await client.inferOnce();
  if (response.status !== 200)
    throw new TensorRTNodeError(
      ErrorCode.IO,
      `The server refused an inference of "${model.name}" with HTTP ${response.status}: ${response.body.toString('utf8').slice(0, 300)}`,
    );
  decodeRestInferResponse(response.body, response.headerLength);
}

async function scrape(options: RemoteBenchOptions): Promise<ReturnType<typeof parseTritonCounters> | null> {
  if (options.metricsUrl === null) return null;
  try {
    const text = await fetchMetricsText(options.metricsUrl, options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {});
    return parseTritonCounters(text, options.model, options.modelVersion ?? undefined);
  } catch {
    return null;
  }
}

function describeLoad(run: BenchRunResult): string {
  const load = run.load!;
  const offered =
    load.mode === 'open-loop'
      ? `offered ${formatMs(load.offeredRate!)} req/s (${load.arrival})`
      : `${load.concurrency} in flight`;
  const failures = Object.entries(load.failuresByCode)
    .map(([code, count]) => `${code} ${count}`)
    .join(', ');
  const server = load.server
    ? `; server per request: queue ${formatMs(load.server.meanQueueMs ?? NaN)} ms, compute ${formatMs(load.server.meanComputeMs ?? NaN)} ms, request ${formatMs(load.server.meanRequestMs ?? NaN)} ms (average batch ${formatMs(load.server.averageBatch ?? NaN)})`
    : '';
  const lag = load.sendLag ? `; client send lag p99 ${formatMs(load.sendLag.p99Ms)} ms` : '';
  return `Load: ${load.protocol}${load.binary ? ' binary' : ''} ${offered}: ${load.succeeded}/${load.sent} succeeded, ${formatMs(load.achievedRate)} req/s${failures ? ` (failed: ${failures})` : ''}${server}${lag}\n`;
}

export function buildLoadRun(
  options: RemoteBenchOptions,
  point: Point,
  server: RemoteServer,
  measurement: LoadMeasurement,
  warmup: { iterations: number; durationMs: number },
  serverSide: ServerSideSummary | null,
): BenchRunResult {
  const transport = transportName(options);
  const metrics =
    measurement.recorder.count > 0 ? (metricsFromSeries(measurement.recorder.series(), options.percentiles) ?? null) : null;
  const failed = measurement.succeeded === 0;
  const failedCount = Object.values(measurement.failuresByCode).reduce((total, count) => total + count, 0);
  const load: LoadRunInfo = {
    url: options.url,
    protocol: options.protocol,
    binary: options.binary,
    model: options.model,
    modelVersion: options.modelVersion,
    server: serverSide,
    serverName: server.name,
    serverVersion: server.version,
    mode: point.mode,
    arrival: point.mode === 'open-loop' ? options.arrival : null,
    offeredRate: point.mode === 'open-loop' ? point.rate : null,
    concurrency: point.mode === 'closed-loop' ? point.concurrency : null,
    durationMs: options.durationMs,
    sent: measurement.sent,
    succeeded: measurement.succeeded,
    failed: failedCount,
    failuresByCode: measurement.failuresByCode,
    achievedRate: measurement.elapsedMs > 0 ? (measurement.succeeded / measurement.elapsedMs) * 1000 : 0,
    sendLag: measurement.sendLag
      ? {
          p50Ms: measurement.sendLag.median,
          p99Ms: measurement.sendLag.percentiles.find((entry) => entry.percentile === 99)?.value ?? measurement.sendLag.max,
          maxMs: measurement.sendLag.max,
        }
      : null,
  };
  const run = completeRun(
    {
      id: `${transport}-${point.mode === 'open-loop' ? `r${point.rate}` : `c${point.concurrency}`}`,
      source: 'tensorrt-node',
      status: failed ? 'failed' : 'ok',
      error: failed ? errorRecord(measurement.firstFailure ?? new Error('no request was sent')) : null,
      point: {
        backend: 'remote',
        precision: null,
        batch: options.batch,
        concurrency: point.mode === 'closed-loop' ? point.concurrency : null,
        device: null,
        cudaGraph: null,
        transfers: null,
        batcher: null,
      },
      target: {
        backend: server.name,
        precision: 'unknown',
        batch: options.batch,
        device: null,
        versions: { [server.name]: server.version },
        measuresPhases: false,
        notes: [
          `${transport} at ${options.url}, model "${options.model}"${options.modelVersion ? ` version ${options.modelVersion}` : ''}`,
        ],
      },
      warmup,
      measurement: {
        iterations: measurement.recorder.count,
        walltimeMs: measurement.recorder.walltimeMs(),
        minIterations: null,
        durationMs: options.durationMs,
      },
      metrics,
      eventLoopDelay: measurement.eventLoopDelay,
      hostCpu: measurement.hostCpu,
    },
    options.batch,
  );
  run.load = load;
  // The harness's event-loop warning speaks of backends; here the loop is the client's, and its
  // lateness is what the send lag measures (client-behind below).
  run.warnings = run.warnings.filter((warning) => warning.code !== 'event-loop-delay');
  if (load.sendLag && load.sendLag.p99Ms > SEND_LAG_WARNING_MS) {
    run.warnings.push({
      code: 'client-behind',
      message: `The load generator sent late (send lag p99 ${formatMs(load.sendLag.p99Ms)} ms): part of the latency is the client's; run it on another machine or lower the rate.`,
    });
  }
  if ((load.failuresByCode.client_overload ?? 0) > 0) {
    run.warnings.push({
      code: 'client-behind',
      message: `${load.failuresByCode.client_overload} requests were dropped by the client (more than ${options.maxInFlight} outstanding): the server fell far behind the offered rate.`,
    });
  }
  return run;
}

/**
 * Benchmarks a running server: one point per request rate (open loop) or concurrency (closed loop),
 * with the server's own counters when its metrics are reachable; returns the results file's runs.
 */
export async function runRemoteBench(
  options: RemoteBenchOptions,
  deps: RemoteBenchDependencies,
): Promise<{ results: BenchResultsFile; allSucceeded: boolean }> {
  const { write } = deps;
  const client = await createClient(options.protocol, {
    url: options.url,
    model: options.model,
    version: options.modelVersion ?? undefined,
    binary: options.binary,
    apiKey: options.apiKey ?? undefined,
    timeoutMs: options.timeoutMs,
    connections: options.connections,
  });
  const { apiKey: _secret, ...recorded } = options;
  const results: BenchResultsFile = {
    schema: RESULTS_SCHEMA_ID,
    schemaVersion: RESULTS_SCHEMA_VERSION,
    createdAt: new Date().toISOString(),
    tool: { name: 'tensorrt-node', version: packageVersion, command: deps.command ?? [] },
    environment: environmentFrom(deps.capabilities),
    model: null,
    options: { ...recorded, remote: true },
    overhead: null,
    runs: [],
  };
  const save = () => {
    if (options.json) writeResultsFile(options.json, results);
  };
  try {
    let server: RemoteServer;
    let model: RemoteModel;
    try {
      server = await client.server();
      model = await client.model();
    } catch (error) {
      throw new TensorRTNodeError(
        ErrorCode.IO,
        `Cannot read the metadata of model "${options.model}" from ${options.url}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    client.prepare(generateInputs(model, options.batch, options.shapes, options.seed));
    await checkOneRequest(client, model);
    write(`Benchmarking "${model.name}" on ${server.name} ${server.version} at ${options.url} over ${transportName(options)}\n`);
    const points: Point[] = options.requestRates
      ? options.requestRates.map((rate) => ({ mode: 'open-loop', rate }))
      : options.concurrencies!.map((concurrency) => ({ mode: 'closed-loop', concurrency }));
    const drive = (point: Point, durationMs: number, seed: number): Promise<LoadMeasurement> =>
      point.mode === 'open-loop'
        ? runOpenLoop(client, {
            ratePerSecond: point.rate,
            arrival: options.arrival,
            durationMs,
            maxInFlight: options.maxInFlight,
            seed,
          })
        : runClosedLoop(client, { concurrency: point.concurrency, durationMs });
    for (const [index, point] of points.entries()) {
      const warmupStart = performance.now();
      let warmupIterations = 0;
      if (options.warmupMs > 0) {
        const warm = await drive(point, options.warmupMs, options.seed + 1000);
        warmupIterations = warm.sent;
      }
      const warmup = { iterations: warmupIterations, durationMs: performance.now() - warmupStart };
      const before = await scrape(options);
      const measurement = await drive(point, options.durationMs, options.seed);
      const after = await scrape(options);
      const serverSide = before && after ? summarizeServerSide(options.metricsUrl!, before, after) : null;
      const run = buildLoadRun(options, point, server, measurement, warmup, serverSide);
      results.runs.push(run);
      write(`[${index + 1}/${points.length}] ${formatRunSummary(run)}${describeLoad(run)}`);
      save();
    }
  } finally {
    client.close();
  }
  save();
  if (options.json) write(`Results written to ${options.json}\n`);
  return { results, allSucceeded: results.runs.every((run) => run.status === 'ok') };
}
