/**
 * Serving metrics in the spirit of Triton's (docs: user_guide/metrics.md): requests that succeeded
 * or failed (by error code), the inference count (samples, i.e. batch rows, inferred) and the
 * execution count (backend runs), whose ratio is the average batch size the batcher achieved, and
 * histograms of the time requests waited in the queue, of the time executions computed and of the
 * time requests took end to end. Exposed as a plain object (snapshot()) and as Prometheus text.
 */
import { ArgumentTypeError } from '../core/errors.js';
import { describeValue } from '../core/validate.js';

/** Upper bounds of the duration buckets, in seconds: 50 us to 10 s, roughly x2.5 apart. */
export const DURATION_BUCKETS_SECONDS: readonly number[] = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** A duration histogram as Prometheus has it: cumulative buckets, a count and a sum. */
export interface HistogramSnapshot {
  /** Upper bounds (seconds) and how many observations were <= each (cumulative, as Prometheus has them). */
  buckets: { le: number; count: number }[];
  count: number;
  sumSeconds: number;
}

export class DurationHistogram {
  readonly #counts = new Array<number>(DURATION_BUCKETS_SECONDS.length).fill(0);
  #count = 0;
  #sum = 0;

  observe(seconds: number): void {
    this.#count++;
    this.#sum += seconds;
    for (let index = 0; index < DURATION_BUCKETS_SECONDS.length; index++) {
      if (seconds <= DURATION_BUCKETS_SECONDS[index]!) {
        this.#counts[index]!++;
        return;
      }
    }
  }

  snapshot(): HistogramSnapshot {
    let cumulative = 0;
    const buckets = DURATION_BUCKETS_SECONDS.map((le, index) => ({ le, count: (cumulative += this.#counts[index]!) }));
    return { buckets, count: this.#count, sumSeconds: this.#sum };
  }
}

/**
 * A session's counters and histograms, in Triton's spirit (`tensorrt_node_request_success_total`,
 * `..._queue_duration_seconds`, ...): `session.metrics()` returns it, `formatPrometheus` renders it.
 */
export interface SessionMetricsSnapshot {
  /** The model label (session name). */
  model: string;
  backend: string;
  requestSuccess: number;
  /** Failed requests, total and by error code (ERR_TIMEOUT, ERR_ABORTED, ERR_QUEUE_FULL, ...). */
  requestFailure: number;
  requestFailureByCode: Record<string, number>;
  /** Samples inferred: the batch rows of every executed request. */
  inferenceCount: number;
  /** Backend runs; inferenceCount / executionCount is the average batch size. */
  executionCount: number;
  /** Requests waiting now (the session's queue plus every batcher's pending requests). */
  queueLength: number;
  /** Executions running now. */
  executionsInFlight: number;
  /** Arrival to the start of the execution that served the request. */
  queueDuration: HistogramSnapshot;
  /** One backend run, per execution (a batch counts once). */
  computeDuration: HistogramSnapshot;
  /** Arrival to settlement, per request, failures included. */
  requestDuration: HistogramSnapshot;
}

export class SessionMetrics {
  requestSuccess = 0;
  requestFailure = 0;
  readonly requestFailureByCode: Record<string, number> = {};
  inferenceCount = 0;
  executionCount = 0;
  readonly queueDuration = new DurationHistogram();
  readonly computeDuration = new DurationHistogram();
  readonly requestDuration = new DurationHistogram();

  /** A request settled; `startedMs` is its arrival on the performance.now() clock. */
  recordRequest(startedMs: number, error: unknown): void {
    this.requestDuration.observe((performance.now() - startedMs) / 1000);
    if (error === undefined) {
      this.requestSuccess++;
      return;
    }
    this.requestFailure++;
    const code =
      typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string'
        ? (error as { code: string }).code
        : 'ERR_INTERNAL';
    this.requestFailureByCode[code] = (this.requestFailureByCode[code] ?? 0) + 1;
  }

  /** An execution of `rows` samples finished (successfully or not) after `computeMs`. */
  recordExecution(rows: number, computeMs: number): void {
    this.executionCount++;
    this.inferenceCount += rows;
    this.computeDuration.observe(computeMs / 1000);
  }

  recordQueue(waitedMs: number): void {
    this.queueDuration.observe(waitedMs / 1000);
  }

  snapshot(model: string, backend: string, queueLength: number, executionsInFlight: number): SessionMetricsSnapshot {
    return {
      model,
      backend,
      requestSuccess: this.requestSuccess,
      requestFailure: this.requestFailure,
      requestFailureByCode: { ...this.requestFailureByCode },
      inferenceCount: this.inferenceCount,
      executionCount: this.executionCount,
      queueLength,
      executionsInFlight,
      queueDuration: this.queueDuration.snapshot(),
      computeDuration: this.computeDuration.snapshot(),
      requestDuration: this.requestDuration.snapshot(),
    };
  }
}

function isHistogram(value: unknown): boolean {
  const histogram = value as Partial<HistogramSnapshot> | null;
  return (
    typeof histogram === 'object' &&
    histogram !== null &&
    Array.isArray(histogram.buckets) &&
    typeof histogram.count === 'number' &&
    typeof histogram.sumSeconds === 'number'
  );
}

/** What formatPrometheus reads of a snapshot, so a wrong object is a TypeError naming it, not a crash inside. */
function isSnapshot(value: unknown): value is SessionMetricsSnapshot {
  const snapshot = value as Partial<SessionMetricsSnapshot> | null;
  return (
    typeof snapshot === 'object' &&
    snapshot !== null &&
    typeof snapshot.model === 'string' &&
    typeof snapshot.backend === 'string' &&
    typeof snapshot.requestFailureByCode === 'object' &&
    snapshot.requestFailureByCode !== null &&
    isHistogram(snapshot.queueDuration) &&
    isHistogram(snapshot.computeDuration) &&
    isHistogram(snapshot.requestDuration)
  );
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labels(pairs: Record<string, string>): string {
  return `{${Object.entries(pairs)
    .map(([key, value]) => `${key}="${escapeLabel(value)}"`)
    .join(',')}}`;
}

/**
 * Prometheus text exposition format (version 0.0.4) of one or more sessions' metrics, one series per
 * model: serve it at /metrics with content type `text/plain; version=0.0.4`.
 */
export function formatPrometheus(snapshots: readonly SessionMetricsSnapshot[]): string {
  if (!Array.isArray(snapshots))
    throw new ArgumentTypeError(
      `Expected an array of session.metrics() snapshots for snapshots but received ${describeValue(snapshots)}`,
    );
  snapshots.forEach((snapshot: unknown, index) => {
    if (!isSnapshot(snapshot))
      throw new ArgumentTypeError(
        `Expected a snapshot from session.metrics() for snapshots[${index}] but received ${describeValue(snapshot)}`,
      );
  });
  const lines: string[] = [];
  const family = (
    name: string,
    type: 'counter' | 'gauge' | 'histogram',
    help: string,
    body: (snapshot: SessionMetricsSnapshot, base: Record<string, string>) => string[],
  ) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const snapshot of snapshots) lines.push(...body(snapshot, { model: snapshot.model, backend: snapshot.backend }));
  };
  const histogram =
    (name: string, pick: (snapshot: SessionMetricsSnapshot) => HistogramSnapshot) =>
    (snapshot: SessionMetricsSnapshot, base: Record<string, string>) => {
      const value = pick(snapshot);
      return [
        ...value.buckets.map((bucket) => `${name}_bucket${labels({ ...base, le: String(bucket.le) })} ${bucket.count}`),
        `${name}_bucket${labels({ ...base, le: '+Inf' })} ${value.count}`,
        `${name}_sum${labels(base)} ${value.sumSeconds}`,
        `${name}_count${labels(base)} ${value.count}`,
      ];
    };
  family('tensorrt_node_request_success_total', 'counter', 'Requests that completed successfully.', (s, base) => [
    `tensorrt_node_request_success_total${labels(base)} ${s.requestSuccess}`,
  ]);
  family('tensorrt_node_request_failure_total', 'counter', 'Requests that failed, by error code.', (s, base) =>
    Object.entries(s.requestFailureByCode).map(
      ([code, count]) => `tensorrt_node_request_failure_total${labels({ ...base, code })} ${count}`,
    ),
  );
  family('tensorrt_node_inference_count_total', 'counter', 'Samples (batch rows) inferred.', (s, base) => [
    `tensorrt_node_inference_count_total${labels(base)} ${s.inferenceCount}`,
  ]);
  family(
    'tensorrt_node_execution_count_total',
    'counter',
    'Backend executions; inference_count / execution_count is the average batch size.',
    (s, base) => [`tensorrt_node_execution_count_total${labels(base)} ${s.executionCount}`],
  );
  family('tensorrt_node_queue_length', 'gauge', 'Requests waiting for an execution.', (s, base) => [
    `tensorrt_node_queue_length${labels(base)} ${s.queueLength}`,
  ]);
  family('tensorrt_node_executions_in_flight', 'gauge', 'Executions running now.', (s, base) => [
    `tensorrt_node_executions_in_flight${labels(base)} ${s.executionsInFlight}`,
  ]);
  family(
    'tensorrt_node_queue_duration_seconds',
    'histogram',
    "Time from a request's arrival to the start of the execution that served it.",
    histogram('tensorrt_node_queue_duration_seconds', (s) => s.queueDuration),
  );
  family(
    'tensorrt_node_compute_duration_seconds',
    'histogram',
    'Time of one backend execution (a batch counts once).',
    histogram('tensorrt_node_compute_duration_seconds', (s) => s.computeDuration),
  );
  family(
    'tensorrt_node_request_duration_seconds',
    'histogram',
    "Time from a request's arrival to its result or error.",
    histogram('tensorrt_node_request_duration_seconds', (s) => s.requestDuration),
  );
  return `${lines.join('\n')}\n`;
}
