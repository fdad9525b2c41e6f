/**
 * Bindings: inputs and outputs allocated once, for the zero-copy path. Write into
 * `binding.inputs.x.data`, `await binding.run()`, read `binding.outputs.y.data`.
 *
 * - `binding.outputs.*.data` holds the results of the last completed run and stays valid until the
 *   binding's next run starts (that run overwrites it in place). Copy what must outlive it.
 * - One run at a time per binding (its memory serves one run): a second run() while one is in
 *   flight rejects with ERR_QUEUE_FULL. Create one binding per concurrent caller.
 * - Runs go through the session's queue like run(): limits, timeouts and AbortSignal apply. A run
 *   that is aborted or times out while executing rejects at once, but the backend may still be
 *   writing the outputs: the binding's next run waits for that before it starts, and the outputs of
 *   an aborted run are unspecified.
 * - Memory: on the cpu backend host memory (SharedArrayBuffer, which the worker thread reads and
 *   writes in place: no allocation and no copy on the event loop per run); the tensorrt backend binds
 *   pinned or device memory through the same API (`location`).
 */
import type { TensorInfo, TensorMap } from '../core/tensors.js';
import { disposedError } from '../core/dispose.js';
import { allocateTypedArray, dtypeSize, elementCount, type AnyTypedArray, type DType } from '../core/dtypes.js';
import { ArgumentTypeError, ErrorCode, TensorRTNodeError, withCallerStack } from '../core/errors.js';
import { Tensor, copy, tensorLocations, type TensorLocation } from '../cuda/tensor.js';
import { expectOneOf, expectOptions, rejectUnknownOptions } from '../core/validate.js';
import { checkInputName, checkShape, formatShape } from '../core/feeds.js';
import { checkRunOptions, type SessionCore } from './core.js';
import { checkProfiles } from './profiles.js';
import type { AnySignature, InputName, ModelSignature, OutputName } from './types.js';

/** Options of `session.createBinding()`: the shapes to allocate for, and where. */
export interface BindingOptions {
  /** Concrete shapes of inputs with dynamic dims (inputs with static shapes need none). */
  shapes?: Record<string, readonly number[]>;
  /** Where the memory lives (default: the backend's preference: 'host' on cpu, 'pinned' on tensorrt). */
  location?: TensorLocation;
}

/** Options of {@link Binding.run}. */
export interface BindingRunOptions {
  /** Aborts the run (ERR_ABORTED); the outputs are then unspecified. */
  signal?: AbortSignal;
  /** Deadline from the call, queue time included (ERR_TIMEOUT); default: the session's timeoutMs. */
  timeoutMs?: number;
}

/** An input's binding shape: given in options.shapes when the model's has dynamic dims, checked. */
function inputShape(info: TensorInfo, shapes: Record<string, readonly number[]> | undefined): number[] {
  const given = shapes?.[info.name];
  const label = `options.shapes.${info.name}`;
  if (given === undefined) {
    if (info.shape.some((dim) => dim < 0)) {
      throw new ArgumentTypeError(
        `Expected a concrete shape for ${label} (the model's shape ${formatShape(info.shape)} has dynamic dims) but received undefined`,
        ErrorCode.SHAPE,
      );
    }
    return [...info.shape];
  }
  checkShape(info, given, label);
  return [...given];
}

/** Output shapes from the dims' symbolic names ('batch' in x [batch, 16] and y [batch, 8]); null where unknown. */
function derivedOutputShapes(core: SessionCore, inputShapes: Record<string, number[]>): Record<string, number[] | null> {
  const named = new Map<string, number>();
  for (const info of core.inputs) {
    info.dimNames?.forEach((name, axis) => {
      if (name !== null && info.shape[axis]! < 0) named.set(name, inputShapes[info.name]![axis]!);
    });
  }
  const shapes: Record<string, number[] | null> = {};
  for (const info of core.outputs) {
    const shape = info.shape.map((dim, axis) => (dim >= 0 ? dim : (named.get(info.dimNames?.[axis] ?? '') ?? -1)));
    shapes[info.name] = shape.includes(-1) ? null : shape;
  }
  return shapes;
}

/** A tensor of `dtype` and `shape` at `location`; host memory is a SharedArrayBuffer so the cpu worker can use it in place. */
async function allocate(dtype: DType, shape: number[], location: TensorLocation): Promise<Tensor> {
  if (location !== 'host') return Tensor.allocate(dtype, shape, { location });
  const count = elementCount(shape);
  const Constructor = allocateTypedArray(dtype, 0).constructor as new (buffer: SharedArrayBuffer) => AnyTypedArray;
  const data = new Constructor(new SharedArrayBuffer(count * dtypeSize(dtype)));
  return Tensor.fromArray(data as never, { dtype, shape });
}

/**
 * Inputs and outputs allocated once, for the zero-copy path (from `session.createBinding()`): write
 * `binding.inputs.x.data`, `await binding.run()`, read `binding.outputs.y.data`. The outputs stay
 * valid until the binding's next run starts (it overwrites them in place): copy what must outlive
 * it. One run at a time per binding (ERR_QUEUE_FULL otherwise): make one per concurrent caller.
 *
 * @example
 * ```ts
 * await using binding = await session.createBinding({ shapes: { x: [8, 256] } });
 * binding.inputs.x.data.set(features);
 * await binding.run({ timeoutMs: 50 });
 * use(binding.outputs.y.data);
 * ```
 */
export class Binding<S extends ModelSignature = AnySignature> implements AsyncDisposable {
  /** One tensor per input, allocated for the binding's shapes: write its `.data`. */
  readonly inputs: Readonly<{ [K in InputName<S>]: Tensor<S['inputs'][K]> }>;
  /** One tensor per output: the last completed run's results, valid until the next run starts. */
  readonly outputs: Readonly<{ [K in OutputName<S>]: Tensor<S['outputs'][K]> }>;
  /** Where the memory lives: 'host' (SharedArrayBuffer) on cpu, 'pinned' or 'device' on tensorrt. */
  readonly location: TensorLocation;
  readonly #core: SessionCore;
  readonly #onDisposed: (binding: Binding<S>) => void;
  #userRun: boolean = false;
  /** The backend's work of the last run, which may outlive an aborted caller. */
  #backendWork: Promise<unknown> = Promise.resolve();
  #disposed = false;

  private constructor(
    core: SessionCore,
    inputs: Record<string, Tensor>,
    outputs: Record<string, Tensor>,
    location: TensorLocation,
    onDisposed: (binding: Binding<S>) => void,
  ) {
    this.#core = core;
    this.inputs = Object.freeze(inputs) as Binding<S>['inputs'];
    this.outputs = Object.freeze(outputs) as Binding<S>['outputs'];
    this.location = location;
    this.#onDisposed = onDisposed;
  }

  /** @internal Created by session.createBinding(). */
  static async create<S extends ModelSignature>(
    core: SessionCore,
    options: unknown,
    onDisposed: (binding: Binding<S>) => void,
  ): Promise<Binding<S>> {
    const opts = expectOptions<BindingOptions>(options);
    rejectUnknownOptions(opts, ['shapes', 'location']);
    const supported = core.backend.bindingLocations ?? ['host'];
    const location =
      opts.location === undefined ? supported[0]! : expectOneOf(opts.location, 'options.location', tensorLocations);
    if (!supported.includes(location)) {
      throw new TensorRTNodeError(
        ErrorCode.NOT_SUPPORTED,
        `Expected one of ${supported.map((item) => JSON.stringify(item)).join(', ')} for options.location (what the ${core.backend.kind} backend binds) but received ${JSON.stringify(location)}`,
      );
    }
    const shapes =
      opts.shapes === undefined
        ? undefined
        : (expectOptions<Record<string, readonly number[]>>(opts.shapes, 'options.shapes') as Record<string, readonly number[]>);
    for (const name of Object.keys(shapes ?? {})) checkInputName(core.inputs, name, 'options.shapes');
    const inputShapes: Record<string, number[]> = {};
    for (const info of core.inputs) inputShapes[info.name] = inputShape(info, shapes);
    const probe: TensorMap = {};
    for (const info of core.inputs)
      probe[info.name] = {
        dtype: info.dtype,
        shape: inputShapes[info.name]!,
        data: allocateTypedArray(info.dtype, 0),
      } as TensorMap[string];
    checkProfiles(core.profiles, probe);

    const inputs: Record<string, Tensor> = {};
    const outputs: Record<string, Tensor> = {};
    try {
      for (const info of core.inputs) inputs[info.name] = await allocate(info.dtype, inputShapes[info.name]!, location);
      const outputShapes = derivedOutputShapes(core, inputShapes);
      if (Object.values(outputShapes).includes(null)) {
        // Output shapes the dim names do not give: run the model once on the (zeroed) inputs to learn them.
        const feeds: TensorMap = {};
        for (const info of core.inputs)
          feeds[info.name] = {
            dtype: info.dtype,
            shape: inputShapes[info.name]!,
            data:
              location === 'device'
                ? allocateTypedArray(info.dtype, elementCount(inputShapes[info.name]!))
                : inputs[info.name]!.data,
          } as TensorMap[string];
        const results = await core.scheduler.submit((signal) => core.backend.run(feeds, { signal }));
        for (const info of core.outputs) outputShapes[info.name] ??= results[info.name]!.shape;
      }
      for (const info of core.outputs) outputs[info.name] = await allocate(info.dtype, outputShapes[info.name]!, location);
    } catch (error) {
      for (const tensor of [...Object.values(inputs), ...Object.values(outputs)]) tensor.dispose();
      throw error;
    }
    return new Binding<S>(core, inputs, outputs, location, onDisposed);
  }

  /** True once dispose() has been called. */
  get disposed(): boolean {
    return this.#disposed;
  }

  /** Runs the model on `inputs`, writing `outputs` in place. See the file comment for the rules. */
  run(options?: BindingRunOptions): Promise<void> {
    const arrivedMs = performance.now();
    const core = this.#core;
    return withCallerStack(async () => {
      try {
        if (this.#disposed) throw disposedError('The binding');
        core.checkOpen();
        const { signal, timeoutMs } = checkRunOptions(core, options, ['signal', 'timeoutMs']);
        if (this.#userRun) {
          throw new TensorRTNodeError(
            ErrorCode.QUEUE_FULL,
            "binding.run() was called while the binding's previous run is in flight: a binding's memory serves one run at a time; await the previous run, or create one binding per concurrent caller",
          );
        }
        this.#userRun = true;
        try {
          await core.scheduler.submit(
            () => {
              const started = performance.now();
              const work = this.#backendWork.then(() => this.#execute());
              this.#backendWork = work.catch(() => undefined);
              return work.finally(() => core.metrics.recordExecution(this.#rows(), performance.now() - started));
            },
            { signal, timeoutMs, onStart: () => core.metrics.recordQueue(performance.now() - arrivedMs) },
          );
        } finally {
          this.#userRun = false;
        }
        core.metrics.recordRequest(arrivedMs, undefined);
      } catch (error) {
        core.metrics.recordRequest(arrivedMs, error);
        throw error;
      }
    });
  }

  #rows(): number {
    const first = this.#core.inputs[0];
    if (!first || !this.#core.inputs.every((info) => info.shape[0] === -1)) return 1;
    return (this.inputs as Record<string, Tensor>)[first.name]!.shape[0]!;
  }

  async #execute(): Promise<void> {
    const { backend } = this.#core;
    const inputs = this.inputs as Record<string, Tensor>;
    const outputs = this.outputs as Record<string, Tensor>;
    if (backend.runBinding) return backend.runBinding({ inputs, outputs });
    // A backend without bindings: an ordinary run, results copied into the bound outputs.
    const feeds: TensorMap = {};
    for (const [name, tensor] of Object.entries(inputs)) {
      feeds[name] = {
        dtype: tensor.dtype,
        shape: [...tensor.shape],
        data: tensor.location === 'device' ? await tensor.toArray() : tensor.data,
      } as TensorMap[string];
    }
    const results = await backend.run(feeds);
    for (const [name, target] of Object.entries(outputs)) {
      const result = results[name]!;
      if (result.shape.join(',') !== target.shape.join(',')) {
        throw new TensorRTNodeError(
          ErrorCode.SHAPE,
          `Expected output ${JSON.stringify(name)} of shape [${target.shape.join(', ')}] (the binding's) but the model produced [${result.shape.join(', ')}]`,
        );
      }
      if (target.location === 'device')
        await copy(target, await Tensor.fromArray(result.data as never, { dtype: result.dtype, shape: result.shape }));
      else (target.data as Float32Array).set(result.data as Float32Array);
    }
  }

  /** Frees the memory once the backend is done with it. Idempotent; the session disposes its bindings too. */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#onDisposed(this);
    await this.#backendWork;
    for (const tensor of [...Object.values(this.inputs), ...Object.values(this.outputs)] as Tensor[]) tensor.dispose();
  }

  /** `await using` support: the same as {@link dispose}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }
}
