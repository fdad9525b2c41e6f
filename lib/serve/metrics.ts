/**
 * /metrics in Prometheus text format (0.0.4): every served model version's counters under the
 * existing tensorrt_node_* names and under Triton's nv_* names for the same quantities, so that
 * Triton dashboards, alerts and KEDA queries work unchanged, plus GPU series where NVML answers and
 * the server's own connection and response counters.
 *
 * Triton's duration metrics are cumulative counters in microseconds (nv_inference_queue_duration_us
 * and friends); they are the histogram sums here. The usual autoscaling signal, average queue time,
 * is rate(nv_inference_queue_duration_us[1m]) / rate(nv_inference_request_success[1m]). One
 * difference: nv_inference_compute_infer_duration_us counts each execution once (a batch of eight
 * requests adds its compute time once), where Triton adds it to each request of the batch.
 */
import type { HistogramSnapshot, SessionMetricsSnapshot } from '../session/metrics.js';
import { failureStatus } from './errors.js';
import type { GpuSample } from './gpu-metrics.js';

export interface ModelMetrics {
  model: string;
  version: string;
  snapshot: SessionMetricsSnapshot;
}

export interface ServerCounters {
  /** Open HTTP connections by listener. */
  connections: Record<string, number>;
  /** Responses written, by HTTP status. */
  responses: Record<string, number>;
  /** Connections or requests refused before a handler ran, by reason (connection-cap, header-timeout, body-timeout, body-too-large). */
  refused: Record<string, number>;
}

type Labels = Record<string, string>;

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelText(labels: Labels): string {
  const entries = Object.entries(labels);
  return entries.length === 0 ? '' : `{${entries.map(([key, value]) => `${key}="${escapeLabel(value)}"`).join(',')}}`;
}

/** Triton's failure reasons (nv_inference_request_failure{reason}) for this library's error codes. */
export function tritonFailureReason(code: string): 'REJECTED' | 'CANCELED' | 'BACKEND' | 'OTHER' {
  switch (failureStatus(code)) {
    case 503:
    case 504:
      return 'REJECTED';
    case 499:
      return 'CANCELED';
    case 400:
      return 'OTHER';
    default:
      return 'BACKEND';
  }
}

class Exposition {
  readonly lines: string[] = [];

  family(name: string, type: 'counter' | 'gauge' | 'histogram', help: string, samples: [Labels, number][]): void {
    if (samples.length === 0) return;
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) this.lines.push(`${name}${labelText(labels)} ${value}`);
  }

  histogram(name: string, help: string, series: [Labels, HistogramSnapshot][]): void {
    if (series.length === 0) return;
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
    for (const [labels, value] of series) {
      for (const bucket of value.buckets)
        this.lines.push(`${name}_bucket${labelText({ ...labels, le: String(bucket.le) })} ${bucket.count}`);
      this.lines.push(
        `${name}_bucket${labelText({ ...labels, le: '+Inf' })} ${value.count}`,
        `${name}_sum${labelText(labels)} ${value.sumSeconds}`,
        `${name}_count${labelText(labels)} ${value.count}`,
      );
    }
  }

  text(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

const micros = (seconds: number) => Math.round(seconds * 1e6);

export function formatServerMetrics(models: readonly ModelMetrics[], gpus: readonly GpuSample[], server: ServerCounters): string {
  const out = new Exposition();
  const own = (m: ModelMetrics): Labels => ({ model: m.model, version: m.version, backend: m.snapshot.backend });
  const triton = (m: ModelMetrics): Labels => ({ model: m.model, version: m.version });
  const each = (labels: (m: ModelMetrics) => Labels, value: (s: SessionMetricsSnapshot) => number): [Labels, number][] =>
    models.map((m) => [labels(m), value(m.snapshot)]);

  out.family(
    'tensorrt_node_request_success_total',
    'counter',
    'Requests that completed successfully.',
    each(own, (s) => s.requestSuccess),
  );
  out.family(
    'tensorrt_node_request_failure_total',
    'counter',
    'Requests that failed, by error code.',
    models.flatMap((m) =>
      Object.entries(m.snapshot.requestFailureByCode).map(([code, count]): [Labels, number] => [{ ...own(m), code }, count]),
    ),
  );
  out.family(
    'tensorrt_node_inference_count_total',
    'counter',
    'Samples (batch rows) inferred.',
    each(own, (s) => s.inferenceCount),
  );
  out.family(
    'tensorrt_node_execution_count_total',
    'counter',
    'Backend executions; inference_count / execution_count is the average batch size.',
    each(own, (s) => s.executionCount),
  );
  out.family(
    'tensorrt_node_queue_length',
    'gauge',
    'Requests waiting for an execution.',
    each(own, (s) => s.queueLength),
  );
  out.family(
    'tensorrt_node_executions_in_flight',
    'gauge',
    'Executions running now.',
    each(own, (s) => s.executionsInFlight),
  );
  out.histogram(
    'tensorrt_node_queue_duration_seconds',
    "Time from a request's arrival to the start of the execution that served it.",
    models.map((m) => [own(m), m.snapshot.queueDuration]),
  );
  out.histogram(
    'tensorrt_node_compute_duration_seconds',
    'Time of one backend execution (a batch counts once).',
    models.map((m) => [own(m), m.snapshot.computeDuration]),
  );
  out.histogram(
    'tensorrt_node_request_duration_seconds',
    "Time from a request's arrival to its result or error.",
    models.map((m) => [own(m), m.snapshot.requestDuration]),
  );

  out.family(
    'nv_inference_request_success',
    'counter',
    'Number of successful inference requests, all batch sizes',
    each(triton, (s) => s.requestSuccess),
  );
  out.family(
    'nv_inference_request_failure',
    'counter',
    'Number of failed inference requests, all batch sizes',
    models.flatMap((m) => {
      const byReason: Record<string, number> = { REJECTED: 0, CANCELED: 0, BACKEND: 0, OTHER: 0 };
      for (const [code, count] of Object.entries(m.snapshot.requestFailureByCode)) byReason[tritonFailureReason(code)]! += count;
      return Object.entries(byReason).map(([reason, count]): [Labels, number] => [{ ...triton(m), reason }, count]);
    }),
  );
  out.family(
    'nv_inference_count',
    'counter',
    'Number of inferences performed (does not include cached requests)',
    each(triton, (s) => s.inferenceCount),
  );
  out.family(
    'nv_inference_exec_count',
    'counter',
    'Number of model executions performed (does not include cached requests)',
    each(triton, (s) => s.executionCount),
  );
  out.family(
    'nv_inference_request_duration_us',
    'counter',
    'Cumulative inference request duration in microseconds (includes cached requests)',
    each(triton, (s) => micros(s.requestDuration.sumSeconds)),
  );
  out.family(
    'nv_inference_queue_duration_us',
    'counter',
    'Cumulative inference queuing duration in microseconds (includes cached requests)',
    each(triton, (s) => micros(s.queueDuration.sumSeconds)),
  );
  out.family(
    'nv_inference_compute_infer_duration_us',
    'counter',
    'Cumulative compute inference duration in microseconds (does not include cached requests)',
    each(triton, (s) => micros(s.computeDuration.sumSeconds)),
  );
  out.family(
    'nv_inference_pending_request_count',
    'gauge',
    'Instantaneous number of pending requests awaiting execution per-model.',
    each(triton, (s) => s.queueLength),
  );

  const gpu = (sample: GpuSample): Labels => ({ gpu_uuid: sample.uuid });
  out.family(
    'nv_gpu_utilization',
    'gauge',
    'GPU utilization rate [0.0 - 1.0)',
    gpus.map((sample) => [gpu(sample), sample.utilization]),
  );
  out.family(
    'nv_gpu_memory_total_bytes',
    'gauge',
    'GPU total memory, in bytes',
    gpus.map((sample) => [gpu(sample), sample.memoryTotalBytes]),
  );
  out.family(
    'nv_gpu_memory_used_bytes',
    'gauge',
    'GPU used memory, in bytes',
    gpus.map((sample) => [gpu(sample), sample.memoryUsedBytes]),
  );
  out.family(
    'nv_gpu_power_usage',
    'gauge',
    'GPU power usage in watts',
    gpus.flatMap((sample): [Labels, number][] => (sample.powerWatts === null ? [] : [[gpu(sample), sample.powerWatts]])),
  );

  out.family(
    'tensorrt_node_server_connections',
    'gauge',
    'Open connections, by listener.',
    Object.entries(server.connections).map(([listener, count]) => [{ listener }, count]),
  );
  out.family(
    'tensorrt_node_http_responses_total',
    'counter',
    'HTTP responses written, by status.',
    Object.entries(server.responses).map(([status, count]) => [{ status }, count]),
  );
  out.family(
    'tensorrt_node_server_refused_total',
    'counter',
    'Connections and requests refused before a handler ran, by reason.',
    Object.entries(server.refused).map(([reason, count]) => [{ reason }, count]),
  );
  return out.text();
}
