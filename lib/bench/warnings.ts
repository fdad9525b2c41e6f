/**
 * The warnings trtexec prints after its performance summary (samples/common/sampleReporting.cpp,
 * printEpilog), with the same thresholds, plus one trtexec has no need for: the JS event loop was
 * delayed during the run, so latencies seen from JS include waiting for it, and a service doing the
 * same would stall every other request meanwhile.
 *
 * What a warning says depends on what ran: the cpu and tensorrt backends both run inference off the
 * event loop (worker threads, native threads), so a delayed loop there means the JS thread waited
 * for something else (a core, garbage collection, copies), never "work ran on the JS thread"; only a
 * target that does its work on the JS thread (the harness's own cpu-workload) gets that verdict.
 */
import type { MetricSummary } from './statistics.js';

/**
 * What a warning is about, as trtexec would flag it: `enqueue-bound` (median enqueue > 0.8 x median
 * compute), `h2d-bound`/`d2h-bound` (a copy's median >= compute's), `unstable` (coefficient of
 * variation > 2.5%), `multiple-streams` (concurrency > 1: read throughput, not latency),
 * `event-loop-delay` (event-loop p99 delay > 10 ms: work ran on the JS thread), `client-behind` (an
 * open-loop load generator could not send at the offered rate: its latencies understate queueing).
 */
export type BenchWarningCode =
  'enqueue-bound' | 'h2d-bound' | 'd2h-bound' | 'unstable' | 'multiple-streams' | 'event-loop-delay' | 'client-behind';

/** A finding that qualifies a run's numbers. */
export interface BenchWarning {
  code: BenchWarningCode;
  /** What trtexec would print: the finding, then what may help, one line each. */
  message: string;
}

/** trtexec: enqueue-bound when the median enqueue time exceeds 0.8 x the median GPU compute time. */
export const ENQUEUE_BOUND_RATIO = 0.8;
/** trtexec: unstable when the GPU compute time's coefficient of variation exceeds 2.5%. */
export const UNSTABLE_COEFFICIENT_OF_VARIATION_PERCENT = 2.5;
/**
 * Event-loop delay p99 above which the loop counts as delayed. 10 ms is where a Node service starts
 * to miss timers and stall sockets visibly, and well above what a healthy loop shows (well under
 * 1 ms); a synchronous inference call blocks the loop for its whole duration and crosses it.
 */
export const EVENT_LOOP_DELAY_P99_MS = 10;

/**
 * The statistics {@link detectWarnings} reads.
 * @inline
 */
export interface WarningInputs {
  latency: MetricSummary;
  enqueue?: MetricSummary;
  h2d?: MetricSummary;
  compute?: MetricSummary;
  d2h?: MetricSummary;
  /** Requests in flight at once (trtexec: inference streams). */
  concurrency: number;
  /** Event-loop delay during the measurement, when it was monitored. */
  eventLoopDelay?: { p99Ms: number; maxMs: number } | null;
  /** The backend that ran the requests (TargetDescription.backend: 'tensorrt', 'cpu', 'cpu-workload', ...), when known. */
  backend?: string | null;
}

function formatNumber(value: number): string {
  return Number.isFinite(value) ? String(Number(value.toPrecision(6))) : String(value);
}

/** The warnings trtexec would print for these statistics, plus the event-loop one; empty when the run looks sound. */
export function detectWarnings(inputs: WarningInputs): BenchWarning[] {
  const warnings: BenchWarning[] = [];
  const { enqueue, h2d, compute, d2h } = inputs;
  if (enqueue && compute && enqueue.median > ENQUEUE_BOUND_RATIO * compute.median) {
    warnings.push({
      code: 'enqueue-bound',
      message:
        '* Throughput may be bound by Enqueue Time rather than GPU Compute and the GPU may be under-utilized.\n  If CUDA graphs are off (--cuda-graph off), turning them on may increase throughput.',
    });
  }
  if (h2d && compute && h2d.median >= compute.median) {
    warnings.push({
      code: 'h2d-bound',
      message:
        '* Throughput may be bound by host-to-device transfers for the inputs rather than GPU Compute and the GPU may be under-utilized.\n  Keeping inputs on the GPU, or --transfers off to measure without them, may increase throughput.',
    });
  }
  if (d2h && compute && d2h.median >= compute.median) {
    warnings.push({
      code: 'd2h-bound',
      message:
        '* Throughput may be bound by device-to-host transfers for the outputs rather than GPU Compute and the GPU may be under-utilized.\n  Keeping outputs on the GPU, or --transfers off to measure without them, may increase throughput.',
    });
  }
  // Without GPU phases (the cpu backend) the latency is the compute time there is.
  const stability = compute ?? inputs.latency;
  const variation = stability.coefficientOfVariation;
  if (variation !== null && variation > UNSTABLE_COEFFICIENT_OF_VARIATION_PERCENT) {
    const what = compute ? 'GPU compute time' : 'Latency';
    const hint = compute
      ? 'If not already in use, locking GPU clock frequency may improve the stability.'
      : 'Other processes on this host, CPU frequency scaling or garbage collection may be the cause; pinning the process or a quieter host may improve the stability.';
    warnings.push({
      code: 'unstable',
      message: `* ${what} is unstable, with coefficient of variance = ${formatNumber(variation)}%.\n  ${hint}`,
    });
  }
  if (inputs.concurrency > 1) {
    warnings.push({
      code: 'multiple-streams',
      message: `* Multiple requests are in flight (concurrency ${inputs.concurrency}). Latencies may not be accurate since inferences may run in parallel.\n  Please use "Throughput" as the performance metric instead.`,
    });
  }
  const delay = inputs.eventLoopDelay;
  if (delay && delay.p99Ms > EVENT_LOOP_DELAY_P99_MS) {
    warnings.push({ code: 'event-loop-delay', message: eventLoopDelayMessage(delay, inputs.backend ?? null) });
  }
  return warnings;
}

/** The event-loop warning in terms of what ran: a backend that works off the loop did not block it. */
function eventLoopDelayMessage(delay: { p99Ms: number; maxMs: number }, backend: string | null): string {
  const finding = `* The event loop was delayed (p99 ${formatNumber(delay.p99Ms)} ms, max ${formatNumber(delay.maxMs)} ms)`;
  const stall = 'latencies seen from JS include that wait, and a service on this host would stall as long';
  if (backend === 'cpu') {
    return (
      `${finding} although the cpu backend runs inference on worker threads: the JS thread waited for a core (onnxruntime's threads compete with it), for garbage collection or for copies of inputs and outputs; ${stall}.\n` +
      "  Fewer onnxruntime threads, threads that sleep between operators or run at a lower priority (the cpu backend's intraOpNumThreads, spinWait and niceness options) leave the event loop a core; so does a quieter host."
    );
  }
  if (backend === 'tensorrt') {
    return (
      `${finding} although the tensorrt backend runs requests off the event loop: something else in this process held the JS thread (garbage collection, copies of large inputs and outputs, other work); ${stall}.\n` +
      '  Bindings (session.createBinding) keep inputs and outputs in place and avoid per-request copies on the JS thread.'
    );
  }
  return `${finding}: work ran synchronously on the JS thread, so ${stall}.\n  The tensorrt and cpu backends run requests off the event loop.`;
}
