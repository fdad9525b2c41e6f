/** What a session's batchers and bindings share with it (internal to lib/session). */
import type { Backend } from '../backends/backend.js';
import type { TensorInfo, TensorMap } from '../core/tensors.js';
import type { ProfileSpec } from '../tensorrt/profiles.js';
import { ArgumentTypeError } from '../core/errors.js';
import { describeValue, expectOptions, rejectUnknownOptions } from '../core/validate.js';
import { validateOutputNames } from '../core/feeds.js';
import type { SessionMetrics } from './metrics.js';
import { expectTimeout } from './options.js';
import type { Scheduler } from './scheduler.js';

export interface SessionCore {
  readonly name: string;
  readonly backend: Backend;
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  readonly scheduler: Scheduler;
  readonly metrics: SessionMetrics;
  readonly profiles: readonly ProfileSpec[] | undefined;
  readonly maxQueue: number;
  readonly timeoutMs: number | undefined;
  /** Throws ERR_DISPOSED once the session is disposing or disposed. */
  checkOpen(): void;
}

/** Cores made by InferenceSession: a Batcher is only ever made over one (session.batcher()). */
const sessionCores = new WeakSet<object>();

/** Marks `core` as a session's own (InferenceSession's constructor calls this). */
export function registerSessionCore<T extends SessionCore>(core: T): T {
  sessionCores.add(core);
  return core;
}

/** Throws a TypeError for anything but a session's core (`new Batcher({}, {})` from user code). */
export function expectSessionCore(value: unknown): asserts value is SessionCore {
  if (typeof value !== 'object' || value === null || !sessionCores.has(value)) {
    throw new ArgumentTypeError(
      `Expected a session's internals for new Batcher() but received ${describeValue(value)}; create a Batcher with session.batcher(options)`,
    );
  }
}

export interface CheckedRunOptions {
  signal: AbortSignal | undefined;
  timeoutMs: number | undefined;
  outputs: readonly string[];
}

const runOptionNames = ['signal', 'timeoutMs', 'outputs'] as const;

/** Checks `{ signal, timeoutMs, outputs }` (the names in `allowed`); `defaultTimeoutMs` applies when none is given. */
export function checkRunOptions(
  core: SessionCore,
  options: unknown,
  allowed: readonly string[] = runOptionNames,
  defaultTimeoutMs = core.timeoutMs,
): CheckedRunOptions {
  if (options === undefined)
    return { signal: undefined, timeoutMs: defaultTimeoutMs, outputs: validateOutputNames(core.outputs, undefined) };
  const opts = expectOptions<{ signal: unknown; timeoutMs: unknown; outputs: unknown }>(options);
  rejectUnknownOptions(opts, allowed);
  const signal = opts.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal))
    throw new ArgumentTypeError(`Expected an AbortSignal for options.signal but received ${describeValue(signal)}`);
  const timeoutMs = opts.timeoutMs === undefined ? defaultTimeoutMs : expectTimeout(opts.timeoutMs, 'options.timeoutMs');
  return { signal, timeoutMs, outputs: validateOutputNames(core.outputs, opts.outputs) };
}

/** Samples in a request: dim 0 when every input's dim 0 is dynamic (the batch dim), else 1. */
export function batchRows(inputs: readonly TensorInfo[], feeds: TensorMap): number {
  if (inputs.length === 0 || !inputs.every((info) => info.shape.length > 0 && info.shape[0] === -1)) return 1;
  return feeds[inputs[0]!.name]!.shape[0]!;
}
