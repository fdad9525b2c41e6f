/**
 * The tensorrt backend: one deserialized Engine run through N execution contexts, behind the
 * Backend contract (./backend.ts) that InferenceSession, the batcher and the bench harness use.
 *
 * Each of the N "slots" runs one request at a time on execution contexts of its own (one CUDA
 * stream each, see lib/execution-context.ts); a BackendGroup hands requests to idle slots in call
 * order, so N requests execute at once. A slot creates the context of an optimization profile the
 * first time a request needs that profile (TensorRT 10+ lets contexts share a profile), so an engine
 * with one profile costs exactly N contexts.
 *
 * Feeds are validated with the same checks and messages as the cpu backend (./feeds.ts) before
 * anything reaches native code; the engine's own profile bounds are checked by the context.
 * Engines whose I/O has types JavaScript cannot hold (int4, fp4, e8m0) are refused when created.
 */
import type { DType } from '../../core/dtypes.js';
import { dtypes } from '../../core/dtypes.js';
import { Engine } from '../../tensorrt/engine.js';
import type { EngineMetadata, EngineTensorInfo } from '../../addon/types.js';
import { unbindableTensors } from '../../tensorrt/validation.js';
import { ErrorCode, TensorRTNodeError, createError, withCallerStack } from '../../core/errors.js';
import { expectPositiveInteger, invalidType } from '../../core/validate.js';
import type { ContextOptions, ExecutionContext } from '../../tensorrt/execution-context.js';
import { disposedError } from '../../core/dispose.js';
import { profileHolds } from '../../tensorrt/profiles.js';
import { abortError } from '../../core/abort.js';
import type { Backend, BoundTensors, BackendRunOptions } from '../backend.js';
import { setEntry, type TensorInfo, type TensorMap } from '../../core/tensors.js';
import { checkRunCall } from '../run-call.js';
import { BackendGroup } from '../group.js';

/**
 * What every slot's contexts are created with (the profile is chosen per request).
 * @inline
 */
export type SlotContextOptions = Omit<ContextOptions, 'profile'>;

function toTensorInfo(tensor: EngineTensorInfo): TensorInfo {
  return Object.freeze({ name: tensor.name, dtype: tensor.dtype as DType, shape: Object.freeze([...tensor.shape]) });
}

/** Refuses engines whose I/O JavaScript cannot hold, naming every such tensor. */
function checkBindable(metadata: EngineMetadata): void {
  const unbindable = unbindableTensors(metadata, dtypes);
  if (unbindable.length === 0) return;
  throw new TensorRTNodeError(
    ErrorCode.NOT_SUPPORTED,
    `The engine has inputs or outputs the tensorrt backend cannot exchange with JavaScript: ${unbindable.map((tensor) => `${JSON.stringify(tensor.name)} (${tensor.reason})`).join(', ')}. Keep such types inside the network (cast at its edges) and rebuild the engine.`,
  );
}

/** The first profile whose bounds hold every fed shape (0 when the engine has none or nothing fits: the context then says why). */
export function profileFor(metadata: EngineMetadata, feeds: Readonly<Record<string, { shape: readonly number[] }>>): number {
  const index = metadata.profiles.findIndex((profile) => profileHolds(profile.inputs, feeds));
  return index < 0 ? 0 : index;
}

/** One request at a time on contexts of its own; the unit a BackendGroup schedules. */
class ContextSlot implements Backend {
  readonly kind = 'tensorrt' as const;
  readonly concurrency = 1;
  readonly bindingLocations = Object.freeze(['pinned', 'device'] as const);
  readonly #engine: Engine;
  readonly #options: SlotContextOptions;
  /** Contexts by profile index, created on first use. */
  readonly #contexts = new Map<number, Promise<ExecutionContext>>();
  #disposing: Promise<void> | null = null;

  constructor(
    engine: Engine,
    options: SlotContextOptions,
    readonly inputs: readonly TensorInfo[],
    readonly outputs: readonly TensorInfo[],
  ) {
    this.#engine = engine;
    this.#options = options;
  }

  get disposed(): boolean {
    return this.#disposing !== null;
  }

  /** The context for `profile`, created once; a failed creation is forgotten so a later request may retry. */
  context(profile: number): Promise<ExecutionContext> {
    if (this.#disposing) return Promise.reject(disposedError('The tensorrt backend'));
    let context = this.#contexts.get(profile);
    if (!context) {
      context = this.#engine.createContext({ ...this.#options, profile });
      this.#contexts.set(profile, context);
      context.catch(() => this.#contexts.delete(profile));
    }
    return context;
  }

  async run(feeds: Readonly<TensorMap>, options?: BackendRunOptions): Promise<TensorMap> {
    const { signal, outputs: wanted, feeds: checked } = checkRunCall(this, feeds, options);
    const context = await this.context(profileFor(this.#engine.metadata, checked));
    const running = context.run(checked, signal ? { signal } : undefined);
    const result = await (signal ? settleOrAbort(running, signal) : running);
    const outputs: TensorMap = {};
    for (const name of wanted) setEntry(outputs, name, result.outputs[name]!);
    return outputs;
  }

  async runBinding(bound: BoundTensors): Promise<void> {
    const context = await this.context(profileFor(this.#engine.metadata, bound.inputs));
    const result = await context.run(bound.inputs, { outputTensors: bound.outputs });
    for (const [name, written] of Object.entries(result.bound)) {
      const expected = bound.outputs[name]!.shape;
      if (written.shape.length !== expected.length || written.shape.some((dim, axis) => dim !== expected[axis])) {
        throw createError(
          ErrorCode.SHAPE,
          `Expected the engine to write output ${JSON.stringify(name)} with the binding's shape [${expected.join(', ')}] but it produced [${written.shape.join(', ')}]`,
        );
      }
    }
  }

  dispose(): Promise<void> {
    this.#disposing ??= (async () => {
      const created = await Promise.allSettled(this.#contexts.values());
      await Promise.all(created.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value.dispose() : undefined)));
    })();
    return this.#disposing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }
}

/**
 * Rejects with ERR_ABORTED as soon as `signal` fires (the contract's "promptly"); the context
 * finishes the run on the GPU regardless and its result is dropped.
 */
function settleOrAbort<T>(running: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError('The run', signal));
    signal.addEventListener('abort', onAbort, { once: true });
    running.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** The group of slots, which also releases the engine handle once every slot is disposed. */
class TensorRTBackend extends BackendGroup {
  readonly #engine: Engine;

  constructor(engine: Engine, slots: ContextSlot[]) {
    super(slots);
    this.#engine = engine;
  }

  override dispose(): Promise<void> {
    return super.dispose().finally(() => this.#engine.dispose());
  }
}

/**
 * A Backend over `engine` with `contexts` slots. Takes ownership of the engine handle (disposed with
 * the backend, or at once when this fails). The first slot's profile-0 context is created here, so
 * an engine that cannot run (no memory, unbindable I/O) fails now rather than on the first request.
 */
export async function createTensorRTBackend(engine: Engine, contexts: number, options: SlotContextOptions): Promise<Backend> {
  // Checked before anything else: the clean-up below disposes `engine`, which must be one.
  if (!(engine instanceof Engine)) throw invalidType('an Engine (from Engine.load())', 'engine', engine);
  expectPositiveInteger(contexts, 'contexts', 64);
  return withCallerStack(async () => {
    const slots: ContextSlot[] = [];
    try {
      checkBindable(engine.metadata);
      const inputs = Object.freeze(engine.inputs.map(toTensorInfo));
      const outputs = Object.freeze(engine.outputs.map(toTensorInfo));
      for (let index = 0; index < contexts; index++) {
        const slot = new ContextSlot(engine, options, inputs, outputs);
        slots.push(slot);
        await slot.context(0);
      }
      return new TensorRTBackend(engine, slots);
    } catch (error) {
      await Promise.all(slots.map((slot) => slot.dispose()));
      engine.dispose();
      throw error;
    }
  });
}
