/**
 * The models a server holds: each version an InferenceSession (and a dynamic batcher in front of it
 * when the model is batchable), with its state as Triton's repository index reports it. Loading
 * another version set of a served model (reload) loads the new sessions first and swaps them in, so
 * requests never see the model missing; the old sessions drain (every accepted request is answered)
 * before they are released.
 */
import { resolve } from 'node:path';
import type { TensorInfo } from '../core/tensors.js';
import { isTensorRTNodeError } from '../core/errors.js';
import { InferenceSession } from '../session/inference-session.js';
import type { Batcher } from '../session/batcher.js';
import type { SessionOptions } from '../session/options.js';
import type { SessionMetricsSnapshot } from '../session/metrics.js';
import type { AnySignature, Feeds, Results, SessionRunOptions } from '../session/types.js';
import { notFound, unavailable } from './errors.js';
import type { Logger } from './logger.js';
import type { ModelConfig } from './model-config.js';
import type { ModelSource, ModelVersionSource } from './repository.js';

/** Server-wide defaults under each model's config (the CLI's --backend, --cache-dir, --timeout, ...). */
export interface ModelDefaults {
  backend?: 'auto' | 'tensorrt' | 'cpu';
  cacheDir?: string;
  contexts?: number;
  maxQueue?: number;
  timeoutMs?: number;
  device?: number;
}

export type ModelState = 'LOADING' | 'READY' | 'UNLOADING' | 'UNAVAILABLE';

/** One served version of a model. */
export class ServedModel {
  readonly name: string;
  readonly version: string;
  readonly session: InferenceSession;
  readonly batcher: Batcher | null;
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  /** Triton's platform names, so that its clients read the metadata as they expect. */
  readonly platform: 'tensorrt_plan' | 'onnxruntime_onnx';

  constructor(name: string, version: string, session: InferenceSession, batcher: Batcher | null) {
    this.name = name;
    this.version = version;
    this.session = session;
    this.batcher = batcher;
    this.inputs = session.inputs;
    this.outputs = session.outputs;
    this.platform = session.backend === 'tensorrt' ? 'tensorrt_plan' : 'onnxruntime_onnx';
  }

  run(feeds: Feeds<AnySignature>, options: SessionRunOptions): Promise<Results<AnySignature>> {
    return this.batcher ? this.batcher.run(feeds, options) : this.session.run(feeds, options);
  }

  metrics(): SessionMetricsSnapshot {
    return this.session.metrics();
  }
}

interface ModelEntry {
  name: string;
  state: ModelState;
  /** Why the model is UNAVAILABLE (its load failed), for the repository index. */
  reason: string;
  /** Served versions by version string; empty while the first load runs. */
  versions: Map<string, ServedModel>;
  /** Version strings in ascending order; the last one answers requests that name no version. */
  order: string[];
}

function batchable(inputs: readonly TensorInfo[], outputs: readonly TensorInfo[]): boolean {
  return [...inputs, ...outputs].every((info) => info.shape.length > 0 && info.shape[0] === -1);
}

/** A version's session options: the model's config over the server's defaults. */
export function sessionOptionsFor(
  name: string,
  source: ModelSource,
  version: ModelVersionSource,
  defaults: ModelDefaults,
): SessionOptions {
  const config: ModelConfig = source.config;
  const calibration =
    typeof config.calibration === 'string' && source.folder ? resolve(source.folder, config.calibration) : config.calibration;
  const options: SessionOptions = {
    name,
    backend: config.backend ?? defaults.backend ?? 'auto',
    modelFormat: version.format,
    maxQueue: config.maxQueue ?? defaults.maxQueue,
    timeoutMs: config.timeoutMs ?? defaults.timeoutMs,
    contexts: config.contexts ?? defaults.contexts,
    device: config.device ?? defaults.device,
    cacheDir: defaults.cacheDir,
  };
  if (config.precision !== undefined) options.precision = config.precision;
  if (calibration !== undefined) options.calibration = calibration;
  if (config.profiles !== undefined) options.profiles = config.profiles;
  if (config.cudaGraph !== undefined) options.cudaGraph = config.cudaGraph;
  if (config.cpu !== undefined) options.cpu = config.cpu;
  if (config.tensorrt !== undefined) options.tensorrt = config.tensorrt;
  for (const key of Object.keys(options) as (keyof SessionOptions)[]) if (options[key] === undefined) delete options[key];
  return options;
}

export class ModelRegistry {
  readonly #models = new Map<string, ModelEntry>();
  readonly #defaults: ModelDefaults;
  readonly #logger: Logger;
  /** Loads and unloads of one model run one after the other. */
  readonly #pending = new Map<string, Promise<void>>();

  constructor(defaults: ModelDefaults, logger: Logger) {
    this.#defaults = defaults;
    this.#logger = logger;
  }

  /** Runs `operation` after every operation already queued for model `name`. */
  #serialize(name: string, operation: () => Promise<void>): Promise<void> {
    const previous = this.#pending.get(name) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(operation);
    this.#pending.set(name, next);
    const forget = () => {
      if (this.#pending.get(name) === next) this.#pending.delete(name);
    };
    next.then(forget, forget);
    return next;
  }

  /** Loads every selected version of `source` (or reloads: the new sessions replace the old ones once all loaded). */
  load(source: ModelSource): Promise<void> {
    return this.#serialize(source.name, () => this.#load(source));
  }

  async #load(source: ModelSource): Promise<void> {
    const name = source.name;
    let entry = this.#models.get(name);
    if (!entry) {
      entry = { name, state: 'LOADING', reason: '', versions: new Map(), order: [] };
      this.#models.set(name, entry);
    } else if (entry.versions.size === 0) {
      entry.state = 'LOADING';
    }
    const loaded: ServedModel[] = [];
    const started = performance.now();
    try {
      for (const version of source.versions) {
        const session = await InferenceSession.create(version.path, sessionOptionsFor(name, source, version, this.#defaults));
        try {
          const wantsBatcher =
            source.config.batcher !== false &&
            (source.config.batcher !== undefined || batchable(session.inputs, session.outputs));
          const batcherConfig = source.config.batcher || {};
          const batcher = wantsBatcher ? session.batcher({ ...batcherConfig }) : null;
          loaded.push(new ServedModel(name, String(version.version), session, batcher));
        } catch (error) {
          await session.dispose();
          throw error;
        }
      }
    } catch (error) {
      await Promise.all(loaded.map((model) => model.session.dispose()));
      if (entry.versions.size === 0) {
        entry.state = 'UNAVAILABLE';
        entry.reason = isTensorRTNodeError(error) ? error.message : 'load failed';
      }
      this.#logger.error('model.load_failed', { model: name, error });
      throw error;
    }
    const previous = [...entry.versions.values()];
    entry.versions = new Map(loaded.map((model) => [model.version, model]));
    entry.order = loaded.map((model) => model.version);
    entry.state = 'READY';
    entry.reason = '';
    for (const model of loaded) {
      this.#logger.info('model.loaded', {
        model: name,
        version: model.version,
        backend: model.session.backend,
        reason: model.session.backendReason,
        batcher: model.batcher ? { maxBatchSize: model.batcher.maxBatchSize, maxDelayMs: model.batcher.maxDelayMs } : null,
        ms: Math.round(performance.now() - started),
      });
    }
    // Requests that reached the old sessions are answered before they go.
    await Promise.all(previous.map((model) => model.session.dispose({ drain: true })));
  }

  /** Stops serving `name`: new requests get 404 at once, accepted ones are answered, then the sessions are released. */
  unload(name: string): Promise<void> {
    return this.#serialize(name, async () => {
      const entry = this.#models.get(name);
      if (!entry) throw notFound(`Unknown model "${name}"`);
      this.#models.delete(name);
      entry.state = 'UNLOADING';
      await Promise.all([...entry.versions.values()].map((model) => model.session.dispose({ drain: true })));
      this.#logger.info('model.unloaded', { model: name });
    });
  }

  /** The version that serves a request: the named one, or the highest. 404 for unknown models and versions, 503 while loading. */
  get(name: string, version: string | undefined): ServedModel {
    const entry = this.#models.get(name);
    if (!entry) throw notFound(`Unknown model "${name}"; this server serves ${this.#names()}`);
    if (entry.versions.size === 0)
      throw unavailable(`Model "${name}" is ${entry.state === 'LOADING' ? 'loading' : 'not available'}`);
    const chosen = version === undefined || version === '' ? entry.order.at(-1)! : version;
    const model = entry.versions.get(chosen);
    if (!model)
      throw notFound(
        `Unknown version "${chosen}" of model "${name}"; it serves version${entry.order.length > 1 ? 's' : ''} ${entry.order.join(', ')}`,
      );
    return model;
  }

  #names(): string {
    const names = [...this.#models.keys()];
    return names.length === 0 ? 'no models' : names.map((name) => `"${name}"`).join(', ');
  }

  /** Served versions of `name`, ascending. */
  versions(name: string): string[] {
    return this.#models.get(name)?.order ?? [];
  }

  /** Every model with its state, as Triton's POST /v2/repository/index lists them. */
  index(): { name: string; version?: string; state: ModelState; reason?: string }[] {
    return [...this.#models.values()].flatMap(
      (entry): { name: string; version?: string; state: ModelState; reason?: string }[] =>
        entry.versions.size === 0
          ? [{ name: entry.name, state: entry.state, ...(entry.reason ? { reason: entry.reason } : {}) }]
          : entry.order.map((version) => ({ name: entry.name, version, state: entry.state })),
    );
  }

  /** Every served version (for metrics). */
  served(): ServedModel[] {
    return [...this.#models.values()].flatMap((entry) => entry.order.map((version) => entry.versions.get(version)!));
  }

  /** True when every model is READY (and there is at least one). */
  allReady(): boolean {
    return this.#models.size > 0 && [...this.#models.values()].every((entry) => entry.state === 'READY');
  }

  /** Drains and releases every model (graceful shutdown). */
  async close(): Promise<void> {
    await Promise.allSettled([...this.#pending.values()]);
    const entries = [...this.#models.values()];
    this.#models.clear();
    await Promise.all(
      entries.flatMap((entry) => [...entry.versions.values()].map((model) => model.session.dispose({ drain: true }))),
    );
  }
}
