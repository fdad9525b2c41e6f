/**
 * The server's own view of a load run: Triton's nv_inference_* counters (which `tensorrt-node
 * serve` exposes under the same names) scraped from its /metrics before and after the run, so that
 * the report splits the latency a client saw into queueing and computing on the server. Works
 * against Triton (its metrics port, 8002 by default) and against `serve` alike.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

const COUNTERS = [
  'nv_inference_request_success',
  'nv_inference_request_failure',
  'nv_inference_count',
  'nv_inference_exec_count',
  'nv_inference_request_duration_us',
  'nv_inference_queue_duration_us',
  'nv_inference_compute_infer_duration_us',
] as const;
type Counter = (typeof COUNTERS)[number];

export type CounterValues = Record<Counter, number>;

/** What the server reported for the run (differences of its counters across the run). */
export interface ServerSideSummary {
  /** Where the counters were read. */
  source: string;
  requests: number;
  failures: number;
  inferences: number;
  executions: number;
  /** inferences / executions: the average batch the server formed. */
  averageBatch: number | null;
  /** Per successful request: time queued, computing (Triton: per request; serve: per execution, see lib/serve/metrics.ts) and end to end, in ms. */
  meanQueueMs: number | null;
  meanComputeMs: number | null;
  meanRequestMs: number | null;
}

function unescapeLabel(value: string): string {
  return value.replace(/\\(["\\n])/g, (_match, character: string) => (character === 'n' ? '\n' : character));
}

/** Sums the Triton counters of `model` (and `version` when given) in Prometheus text. */
export function parseTritonCounters(text: string, model: string, version: string | undefined): CounterValues {
  const values = Object.fromEntries(COUNTERS.map((name) => [name, 0])) as CounterValues;
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.length === 0) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match || !(COUNTERS as readonly string[]).includes(match[1]!)) continue;
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[label[1]!] = unescapeLabel(label[2]!);
    if (labels.model !== model || (version !== undefined && labels.version !== version)) continue;
    const value = Number(match[3]);
    if (Number.isFinite(value)) values[match[1] as Counter] += value;
  }
  return values;
}

export function summarizeServerSide(source: string, before: CounterValues, after: CounterValues): ServerSideSummary {
  const delta = (name: Counter) => Math.max(0, after[name] - before[name]);
  const requests = delta('nv_inference_request_success');
  const perRequest = (name: Counter) => (requests > 0 ? delta(name) / requests / 1000 : null);
  const executions = delta('nv_inference_exec_count');
  return {
    source,
    requests,
    failures: delta('nv_inference_request_failure'),
    inferences: delta('nv_inference_count'),
    executions,
    averageBatch: executions > 0 ? delta('nv_inference_count') / executions : null,
    meanQueueMs: perRequest('nv_inference_queue_duration_us'),
    meanComputeMs: perRequest('nv_inference_compute_infer_duration_us'),
    meanRequestMs: perRequest('nv_inference_request_duration_us'),
  };
}

/** GETs a metrics URL; rejects on any failure (the caller reports the run without a server-side split). */
export function fetchMetricsText(url: string, headers: Record<string, string> = {}, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const request = (target.protocol === 'https:' ? httpsRequest : httpRequest)(
      target,
      { method: 'GET', headers, timeout: timeoutMs },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          response.statusCode === 200
            ? resolve(Buffer.concat(chunks).toString('utf8'))
            : reject(new Error(`GET ${url} answered ${response.statusCode}`)),
        );
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`GET ${url} timed out`)));
    request.on('error', reject);
    request.end();
  });
}
