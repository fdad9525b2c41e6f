/**
 * The seam between the benchmark harness and whatever it measures. The harness knows nothing of
 * sessions, engines or backends: it drives a BenchTarget, created per sweep point by a
 * BenchTargetFactory. InferenceSession-backed targets (tensorrt, cpu) plug in here; so does the
 * in-process CPU workload that measures the harness itself (targets/cpu-workload.ts).
 *
 * Contract for implementers:
 * - `create(point)` does all the expensive set-up (load the model, build or deserialize the engine,
 *   allocate and fill inputs) so that none of it is measured. It rejects with a family error when
 *   the point cannot run here (ERR_NOT_SUPPORTED, ERR_NO_CUDA_DEVICE, ...); the sweep records that
 *   failure and goes on with the next point.
 * - `run()` performs exactly one request of `point.batch` samples and resolves when its outputs are
 *   available to JS. The harness keeps `point.concurrency` calls in flight at once, so a target must
 *   accept that many concurrent calls (a session with a context pool does).
 * - `run()` resolves to PhaseTimings when the target can measure phases (tensorrt, from CUDA
 *   events), else to undefined; the harness always measures the end-to-end latency seen from JS.
 * - `dispose()` releases everything; the harness calls it once per target, also after a failure.
 */
import type { Precision } from '../core/precision.js';
import type { BackendChoice } from '../session/registry.js';

export type { BackendChoice, Precision };

/** One combination of the sweep: what a target is created for. */
export interface SweepPoint {
  /** The backend asked for ('auto' is resolved by the factory; describe() says what ran). */
  backend: BackendChoice;
  precision: Precision;
  /** Samples per request (the leading dimension of the inputs). */
  batch: number;
  /** Requests kept in flight at once. */
  concurrency: number;
  /** CUDA device index; null where no device applies (the cpu backend). */
  device: number | null;
  /** tensorrt: capture and replay a CUDA graph per input shape. */
  cudaGraph: boolean;
  /** tensorrt: include host-to-device and device-to-host copies in each request. */
  transfers: boolean;
  /** Send requests through the dynamic batcher instead of straight to the session. */
  batcher: boolean;
}

/** What actually ran, recorded with every result. */
export interface TargetDescription {
  /** The backend that ran the requests ('tensorrt', 'cpu', or 'cpu-workload' for the harness's own workload). */
  backend: string;
  precision: string;
  batch: number;
  /** The GPU the requests ran on, when there is one. */
  device: { index: number; name: string; uuid: string; computeCapability: string } | null;
  /** Versions of what did the work, e.g. { tensorrt: '10.16.0' } or { 'onnxruntime-node': '1.30.0' }. */
  versions: Record<string, string>;
  /** Whether run() resolves to PhaseTimings (so enqueue/H2D/compute/D2H are reported). */
  measuresPhases: boolean;
  /** Facts worth keeping with the numbers: a CUDA graph fallback and its reason, thread counts, ... */
  notes: string[];
}

/**
 * Times of one request's phases, all in milliseconds on the performance.now() clock. A GPU backend
 * maps its CUDA event times onto that clock (record an origin event, note performance.now() at that
 * moment, add cudaEventElapsedTime from the origin), as trtexec pairs its cpuStart and gpuStart.
 * Without data transfers, the H2D times equal computeStartMs and the D2H times computeEndMs, as in
 * trtexec.
 */
import type { PhaseTimings } from '../tensorrt/timing.js';

export type { PhaseTimings };

/**
 * What the harness measures: one request per `run()`, set up beforehand by its factory so that no
 * set-up is measured. It must accept `point.concurrency` calls in flight at once.
 */
export interface BenchTarget {
  /** What actually runs (backend, precision, device, versions), recorded with the result. */
  describe(): TargetDescription;
  /** One request of `point.batch` samples; resolves to its phase times when `describe().measuresPhases`, else undefined. */
  run(): Promise<PhaseTimings | undefined>;
  /** Releases everything; called once per target, also after a failure. */
  dispose(): Promise<void>;
}

/** Creates the target of one sweep point; rejects with a family error (ERR_NOT_SUPPORTED, ...) when the point cannot run here. */
export type BenchTargetFactory = (point: SweepPoint) => Promise<BenchTarget>;
