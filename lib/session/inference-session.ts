/**
 * InferenceSession: one typed API over the tensorrt and cpu backends, for services and batch jobs.
 *
 *   await using session = await InferenceSession.create('model.onnx', { contexts: 2 });
 *   const { y } = await session.run({ x: { data, shape: [1, 16] } }, { signal, timeoutMs: 100 });
 *   const batcher = session.batcher({ maxBatchSize: 32, maxDelayMs: 2 });     // dynamic batching
 *   const binding = await session.createBinding({ shapes: { x: [8, 16] } });   // zero-copy path
 *
 * Layers: the backend (picked through lib/backends/registry.ts: 'auto', 'tensorrt' or 'cpu') executes
 * up to `backend.concurrency` runs at once (`contexts`); the Scheduler (./session/scheduler.ts) queues
 * the rest with limits, deadlines and AbortSignal; the Batcher (./session/batcher.ts) stacks requests
 * above it; SessionMetrics counts everything. Nothing here blocks the event loop: loading, converting
 * and running happen in backends' threads.
 */
import type { Backend, BackendKind } from '../backends/backend.js';
import type { TensorInfo } from '../core/tensors.js';
import { cpuBackendFactory, ignoredOnCpu } from './factories/cpu.js';
import type { Precision } from '../core/precision.js';
import type { ProfileSpec } from '../tensorrt/profiles.js';
import { backendAvailability, backendFactory, decideBackend, registerBackendFactory, type BackendRequest } from './registry.js';
import { disposedError } from '../core/dispose.js';
import { withCallerStack } from '../core/errors.js';
import { expectBoolean, expectOptions, rejectUnknownOptions } from '../core/validate.js';
import { Batcher, type BatcherOptions } from './batcher.js';
import { Binding, type BindingOptions } from './binding.js';
import { batchRows, checkRunOptions, registerSessionCore, type SessionCore } from './core.js';
import { normalizeFeeds } from './feeds.js';
import { SessionMetrics, formatPrometheus, type SessionMetricsSnapshot } from './metrics.js';
import { classifyModel, defaultSessionName, validateSessionOptions, type ModelInput, type SessionOptions } from './options.js';
import { checkProfiles, validateProfiles } from './profiles.js';
import { Scheduler } from './scheduler.js';
import { checkSignature } from './signature.js';
import type { AnySignature, Feeds, ModelSignature, OutputName, Results, SessionRunOptions } from './types.js';

registerBackendFactory('cpu', cpuBackendFactory);
// Loaded on first use: the builder, the engine cache and the addon are not needed by cpu sessions.
registerBackendFactory('tensorrt', {
  create: async (request) => (await import('./factories/tensorrt.js')).tensorrtBackendFactory.create(request),
});

/** Options of {@link InferenceSession.dispose}. */
export interface DisposeOptions {
  /**
   * false (default): queued requests and batchers' pending requests reject with ERR_DISPOSED; runs
   * already executing finish. true: new requests reject with ERR_DISPOSED, everything already
   * accepted runs to completion first (graceful shutdown).
   */
  drain?: boolean;
}

/**
 * One typed API over the `tensorrt` and `cpu` backends for services and batch jobs: a queue in front
 * of `contexts` concurrent executors, deadlines and AbortSignal per request, dynamic batching
 * ({@link batcher}), zero-copy bindings ({@link createBinding}) and metrics. `backend: 'auto'` (the
 * default) takes tensorrt where TensorRT is usable and cpu elsewhere, and says why in
 * `backendReason`, so one configuration serves every host.
 *
 * @example
 * ```ts
 * // The signature types feeds and results, and is checked against the model at create.
 * const signature = { inputs: { x: 'float32' }, outputs: { y: 'float32' } } as const;
 * await using session = await InferenceSession.create('scorer.onnx', { signature, contexts: 2, timeoutMs: 100 });
 * const { y } = await session.run({ x: { data: features, shape: [1, 256] } }); // y.data: Float32Array
 * ```
 */
export class InferenceSession<S extends ModelSignature = AnySignature> implements AsyncDisposable {
  /** The backend that runs the model. */
  readonly backend: BackendKind;
  /** Why that backend: "asked for by name", or what 'auto' found (and options it ignored). */
  readonly backendReason: string;
  /** The model's name in metrics and services. */
  readonly name: string;
  /** The precision the model runs in (on cpu: the numerics of the transformed graph). */
  readonly precision: Precision;
  /** Runs executed at once. */
  readonly contexts: number;
  /** Every input in model order; -1 marks a dynamic dim. */
  readonly inputs: readonly TensorInfo[];
  /** Every output in model order. */
  readonly outputs: readonly TensorInfo[];
  /** The optimization profiles requests must fit (enforced on every backend), if any were given. */
  readonly profiles: readonly ProfileSpec[] | undefined;
  readonly #core: SessionCore;
  readonly #backend: Backend;
  readonly #batchers = new Set<Batcher<S>>();
  readonly #bindings = new Set<Binding<S>>();
  #state: 'open' | 'disposing' | 'disposed' = 'open';
  #disposing: Promise<void> | null = null;

  private constructor(
    backend: Backend,
    reason: string,
    name: string,
    precision: Precision,
    profiles: readonly ProfileSpec[] | undefined,
    maxQueue: number,
    timeoutMs: number | undefined,
  ) {
    this.#backend = backend;
    this.backend = backend.kind;
    this.backendReason = reason;
    this.name = name;
    this.precision = precision;
    this.contexts = backend.concurrency ?? 1;
    this.inputs = backend.inputs;
    this.outputs = backend.outputs;
    this.profiles = profiles;
    const scheduler = new Scheduler(this.contexts, maxQueue);
    this.#core = registerSessionCore({
      name,
      backend,
      inputs: backend.inputs,
      outputs: backend.outputs,
      scheduler,
      metrics: new SessionMetrics(),
      profiles,
      maxQueue,
      timeoutMs,
      checkOpen: () => {
        if (this.#state !== 'open') throw disposedError('The InferenceSession');
      },
    });
  }

  /**
   * Loads `model` (an .onnx path, ONNX bytes or an OnnxModel; a TensorRT engine path or bytes for
   * the tensorrt backend) on the backend `options.backend` picks. `options.signature` declares the
   * model's input and output dtypes: feeds and results are typed from it (the session's type is
   * inferred), and it is checked against the model here, so a wrong name or dtype fails at create
   * with the model's real inputs and outputs (see {@link ModelSignature}).
   *
   * @example
   * ```ts
   * const session = await InferenceSession.create('scorer.onnx', { signature: { inputs: { x: 'float32' }, outputs: { y: 'float32' } } });
   * const { y } = await session.run({ x: { data: features, shape: [1, 256] } }); // y.data: Float32Array
   * ```
   */
  static create<const S extends ModelSignature>(
    model: ModelInput,
    options: SessionOptions & { signature: S },
  ): Promise<InferenceSession<S>>;
  /** Loads `model` without a declared signature: any input name and dtype type-check, and run() checks them. */
  static create(model: ModelInput, options?: SessionOptions): Promise<InferenceSession>;
  static async create(model: ModelInput, options?: SessionOptions): Promise<InferenceSession<ModelSignature>> {
    return withCallerStack(async () => {
      const opts = validateSessionOptions(options);
      const sessionModel = classifyModel(model, opts.modelFormat);
      const decision = decideBackend(opts.backend, await backendAvailability(opts.backend));
      if (decision.kind === null) throw decision.error;
      const factory = backendFactory(decision.kind)!;
      const request: BackendRequest = {
        model: sessionModel,
        precision: opts.precision,
        calibration: opts.calibration,
        // Checked against the model's inputs once it is loaded; the factory gets them as given.
        profiles: opts.profiles as ProfileSpec[] | undefined,
        cacheDir: opts.cacheDir,
        device: opts.device,
        contexts: opts.contexts,
        cudaGraph: opts.cudaGraph,
        backendOptions: decision.kind === 'cpu' ? opts.cpu : opts.tensorrt,
        explicit: opts.backend === decision.kind,
      };
      let reason = decision.reason;
      if (decision.kind === 'cpu' && !request.explicit) {
        const ignored = ignoredOnCpu(request);
        if (ignored.length > 0) reason += `; ignored on cpu: ${ignored.map((name) => `options.${name}`).join(', ')}`;
      }
      const backend = await factory.create(request);
      try {
        if (opts.signature) checkSignature(opts.signature, backend.inputs, backend.outputs, sessionModel.label);
        const profiles = validateProfiles(opts.profiles, backend.inputs);
        return new InferenceSession(
          backend,
          reason,
          opts.name ?? defaultSessionName(sessionModel),
          opts.precision,
          profiles,
          opts.maxQueue,
          opts.timeoutMs,
        );
      } catch (error) {
        await backend.dispose();
        throw error;
      }
    });
  }

  /** True once dispose() has been called (even while it drains). */
  get disposed(): boolean {
    return this.#state !== 'open';
  }

  /** Requests waiting (the session's queue and every batcher's pending requests). */
  get queueLength(): number {
    let pending = this.#core.scheduler.queued;
    for (const batcher of this.#batchers) pending += batcher.pending;
    return pending;
  }

  /**
   * Runs the model once. Resolves with a fresh HostTensor per requested output (the caller owns
   * them); rejects with ERR_QUEUE_FULL, ERR_TIMEOUT, ERR_ABORTED, ERR_DISPOSED or a validation error
   * (ERR_INVALID_ARGUMENT, ERR_DTYPE, ERR_SHAPE). Feeds are never modified and may be reused once the
   * promise settles.
   */
  run<O extends OutputName<S> = OutputName<S>>(feeds: Feeds<S>, options?: SessionRunOptions<O>): Promise<Results<S, O>> {
    const arrivedMs = performance.now();
    const core = this.#core;
    return withCallerStack(async () => {
      try {
        core.checkOpen();
        const { signal, timeoutMs, outputs } = checkRunOptions(core, options);
        const normalized = normalizeFeeds(core.inputs, feeds);
        const hostFeeds = normalized instanceof Promise ? await normalized : normalized;
        checkProfiles(core.profiles, hostFeeds);
        const rows = batchRows(core.inputs, hostFeeds);
        const results = await core.scheduler.submit(
          async (runSignal) => {
            const started = performance.now();
            try {
              return await this.#backend.run(hostFeeds, { signal: runSignal, outputs });
            } finally {
              core.metrics.recordExecution(rows, performance.now() - started);
            }
          },
          { signal, timeoutMs, onStart: () => core.metrics.recordQueue(performance.now() - arrivedMs) },
        );
        core.metrics.recordRequest(arrivedMs, undefined);
        return results as Results<S, O>;
      } catch (error) {
        core.metrics.recordRequest(arrivedMs, error);
        throw error;
      }
    });
  }

  /**
   * A dynamic batcher over this session: `batcher.run(feeds)` as run(), with concurrent requests
   * stacked along dim 0. See {@link Batcher} for when batches go and how errors stay per request.
   */
  batcher(options?: BatcherOptions): Batcher<S> {
    this.#core.checkOpen();
    const batcher = new Batcher<S>(this.#core, options, (disposed) => this.#batchers.delete(disposed));
    this.#batchers.add(batcher);
    return batcher;
  }

  /** Inputs and outputs allocated once, for the zero-copy path. See {@link Binding}. */
  async createBinding(options?: BindingOptions): Promise<Binding<S>> {
    return withCallerStack(async () => {
      this.#core.checkOpen();
      const binding = await Binding.create<S>(this.#core, options, (disposed) => this.#bindings.delete(disposed));
      if (this.#state !== 'open') {
        await binding.dispose();
        throw disposedError('The InferenceSession');
      }
      this.#bindings.add(binding);
      return binding;
    });
  }

  /** The session's counters and histograms. */
  metrics(): SessionMetricsSnapshot {
    return this.#core.metrics.snapshot(this.name, this.backend, this.queueLength, this.#core.scheduler.running);
  }

  /** The same in Prometheus text format (serve it at /metrics; combine sessions with formatPrometheus()). */
  prometheusMetrics(): string {
    return formatPrometheus([this.metrics()]);
  }

  /**
   * Stops the session and releases the backend (threads, memory). Idempotent: every call returns
   * the same promise. See DisposeOptions for what happens to requests already accepted.
   */
  dispose(options?: DisposeOptions): Promise<void> {
    if (!this.#disposing) {
      const opts = expectOptions<DisposeOptions>(options);
      rejectUnknownOptions(opts, ['drain']);
      const drain = opts.drain === undefined ? false : expectBoolean(opts.drain, 'options.drain');
      this.#state = 'disposing';
      this.#disposing = this.#release(drain);
    }
    return this.#disposing;
  }

  async #release(drain: boolean): Promise<void> {
    const scheduler = this.#core.scheduler;
    const error = () => disposedError('The InferenceSession');
    if (drain) {
      // Batchers first: they still submit their pending requests to the scheduler.
      await Promise.all([...this.#batchers].map((batcher) => batcher.drain()));
      scheduler.close(error, { rejectQueued: false });
    } else {
      scheduler.close(error, { rejectQueued: true });
      await Promise.all([...this.#batchers].map((batcher) => batcher.dispose()));
    }
    await scheduler.whenIdle();
    await Promise.all([...this.#bindings].map((binding) => binding.dispose()));
    try {
      await this.#backend.dispose();
    } finally {
      this.#state = 'disposed';
    }
  }

  /** `await using` support: the same as {@link dispose} without options. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }
}
