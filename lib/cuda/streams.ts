/**
 * CUDA streams and events from TypeScript. Public as the `cuda` namespace:
 *
 *   const stream = cuda.createStream({ priority: 'high' });
 *   const start = cuda.createEvent(), end = cuda.createEvent();
 *   start.record(stream); await copy(deviceTensor, pinnedTensor, { stream }); end.record(stream);
 *   await end.synchronize(); console.log(start.elapsedTime(end), 'ms');
 *
 * Every GPU operation is submitted to a stream's own native thread and settles its promise when the
 * GPU finished (see native/cuda/stream_executor.h): nothing waits on the GPU on the event loop.
 * Without CUDA in the build every function throws ERR_NOT_SUPPORTED; without a driver, CudaError
 * ERR_CUDA_DRIVER with `cudaError: { code: 35, name: 'cudaErrorInsufficientDriver' }`.
 */
import { cudaAddon } from './addon.js';
import { checkDevice } from './devices.js';
import { disposedError } from '../core/dispose.js';
import { ArgumentRangeError, withCallerStack } from '../core/errors.js';
import type { NativeEvent, NativeStream } from '../addon/types.js';
import {
  expectBoolean,
  expectInteger,
  expectOptions,
  invalidType,
  invalidValue,
  rejectUnknownOptions,
} from '../core/validate.js';

/** "Expected X for NAME but received Y" where Y describes a state rather than a value. */
function mismatch(expected: string, name: string, received: string): ArgumentRangeError {
  return new ArgumentRangeError(`Expected ${expected} for ${name} but received ${received}`);
}

/** Options of `cuda.createStream`. */
export interface StreamOptions {
  /** Device index (default 0). */
  device?: number;
  /**
   * 'normal' (default), 'high', or a CUDA priority within `cuda.streamPriorityRange(device)`
   * (lower numbers run first).
   */
  priority?: number | 'high' | 'normal';
}

const nativeStreams = new WeakMap<CudaStream, NativeStream>();
const nativeEvents = new WeakMap<CudaEvent, NativeEvent>();

/**
 * A CUDA stream: work submitted to it runs in order, on its own submit thread, and each operation's
 * promise settles when the GPU finished it. Reuse streams (creating one costs threads and a CUDA
 * stream); dispose() lets accepted work finish and frees the stream afterwards.
 */
export class CudaStream {
  readonly device: number;
  readonly priority: number;
  #disposed = false;

  /**
   * Use `cuda.createStream()`.
   * @internal
   */
  constructor(native: NativeStream) {
    nativeStreams.set(this, native);
    this.device = native.device;
    this.priority = native.priority;
  }

  /** True once dispose() has been called. */
  get disposed(): boolean {
    return this.#disposed;
  }

  /** Operations submitted and not yet delivered. */
  get pending(): number {
    return nativeStreams.get(this)!.inFlight;
  }

  /** Resolves once all work submitted so far has completed on the GPU (an empty job through the same queue). */
  async synchronize(): Promise<void> {
    const native = nativeStream(this, 'The stream');
    await withCallerStack(() => native.synchronize());
  }

  /** Makes later work on this stream wait until the GPU reached `event` (recorded on any stream of the device). */
  waitFor(event: CudaEvent): void {
    const native = nativeStream(this, 'The stream');
    if (!(event instanceof CudaEvent)) throw invalidType('a CudaEvent', 'event', event);
    if (event.device !== this.device)
      throw mismatch(`an event of device ${this.device}`, 'event', `an event of device ${event.device}`);
    native.waitEvent(nativeEvent(event, 'event'));
  }

  /** Stops intake: work already submitted still completes, then the stream is freed (off the JS thread). Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    nativeStreams.get(this)!.dispose();
  }

  /** `using` support: the same as dispose(). */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** `await using`: waits for the submitted work (reporting its failure, if any), then disposes. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#disposed) return;
    try {
      await this.synchronize();
    } finally {
      this.dispose();
    }
  }
}

/** The native stream behind `stream`; ERR_DISPOSED naming `what` once disposed. Internal to lib/. */
export function nativeStream(stream: CudaStream, what: string): NativeStream {
  if (stream.disposed) throw disposedError(what);
  return nativeStreams.get(stream)!;
}

/** Validates `options.stream`-style arguments. Internal to lib/. */
export function expectStream(value: unknown, name: string): CudaStream {
  if (!(value instanceof CudaStream)) throw invalidType('a CudaStream', name, value);
  if (value.disposed) throw disposedError(`The stream given as ${name}`);
  return value;
}

/** A new stream. */
export function createStream(options?: StreamOptions): CudaStream {
  const opts = expectOptions<StreamOptions>(options);
  rejectUnknownOptions(opts, ['device', 'priority']);
  const deviceOption = expectInteger(opts.device === undefined ? 0 : opts.device, 'options.device', { min: 0 });
  const priorityOption = opts.priority === undefined ? 'normal' : opts.priority;
  if (typeof priorityOption === 'number') expectInteger(priorityOption, 'options.priority');
  else if (priorityOption !== 'high' && priorityOption !== 'normal') {
    throw (typeof priorityOption === 'string' ? invalidValue : invalidType)(
      '"high", "normal" or an integer',
      'options.priority',
      priorityOption,
    );
  }
  const addon = cudaAddon();
  const device = checkDevice(addon, deviceOption, 'options.device');
  const range = addon.cudaStreamPriorityRange(device);
  let priority: number;
  if (priorityOption === 'high') priority = range.greatest;
  else if (priorityOption === 'normal') priority = range.least;
  else {
    priority = priorityOption;
    if (priority < range.greatest || priority > range.least) {
      throw invalidValue(
        `an integer between ${range.greatest} and ${range.least} (lower runs first)`,
        'options.priority',
        priority,
      );
    }
  }
  return new CudaStream(new addon.StreamWrap(device, priority));
}

// One default stream per device (per thread: modules are per isolate), for operations given no stream.
const defaultStreams = new Map<number, CudaStream>();

/** The stream operations use when given none: one per device, created on first use. */
export function defaultStream(device = 0): CudaStream {
  const existing = defaultStreams.get(device);
  if (existing && !existing.disposed) return existing;
  const stream = createStream({ device });
  defaultStreams.set(device, stream);
  return stream;
}

/** Options of `cuda.createEvent`. */
export interface EventOptions {
  /** Device index (default 0). */
  device?: number;
  /** Record timestamps for elapsedTime() (default true; untimed events are cheaper to record). */
  timing?: boolean;
}

/** A CUDA event: a point in a stream's work, for timing (elapsedTime) and for ordering streams (waitFor). */
export class CudaEvent {
  readonly device: number;
  readonly timing: boolean;
  #disposed = false;
  #recordedOn: CudaStream | null = null;

  /**
   * Use `cuda.createEvent()`.
   * @internal
   */
  constructor(native: NativeEvent, timing: boolean) {
    nativeEvents.set(this, native);
    this.device = native.device;
    this.timing = timing;
  }

  /** True once dispose() has been called. */
  get disposed(): boolean {
    return this.#disposed;
  }

  /** Records this event after the work submitted to `stream` so far (in the stream's submission order). */
  record(stream: CudaStream): void {
    const native = nativeEvent(this, 'The event');
    const target = expectStream(stream, 'stream');
    if (target.device !== this.device)
      throw mismatch(`a stream of device ${this.device}`, 'stream', `a stream of device ${target.device}`);
    nativeStream(target, 'stream').recordEvent(native);
    this.#recordedOn = target;
  }

  /** Resolves once the GPU has passed this event (waiting for the stream it was last recorded on). */
  async synchronize(): Promise<void> {
    nativeEvent(this, 'The event');
    if (this.#recordedOn === null) return;
    await this.#recordedOn.synchronize();
  }

  /** True once the GPU has passed this event (or it was never recorded). */
  query(): boolean {
    return nativeEvent(this, 'The event').query();
  }

  /** Milliseconds from this event to `end`; both must be timing events that completed. */
  elapsedTime(end: CudaEvent): number {
    const start = nativeEvent(this, 'The event');
    if (!(end instanceof CudaEvent)) throw invalidType('a CudaEvent', 'end', end);
    const finish = nativeEvent(end, 'The event given as end');
    if (!this.timing)
      throw mismatch('an event created with { timing: true }', 'the start event', 'an event created with { timing: false }');
    if (!end.timing) throw mismatch('an event created with { timing: true }', 'end', 'an event created with { timing: false }');
    if (this.#recordedOn === null) throw mismatch('a recorded event', 'the start event', 'an event that was never recorded');
    if (end.#recordedOn === null) throw mismatch('a recorded event', 'end', 'an event that was never recorded');
    return start.elapsedTime(finish);
  }

  /** Frees the event. Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    nativeEvents.get(this)!.dispose();
  }

  /** `using` support: the same as dispose(). */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** `await using`: waits until the GPU passed the event's last recording (if any), then disposes. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#disposed) return;
    try {
      await this.synchronize();
    } finally {
      this.dispose();
    }
  }
}

function nativeEvent(event: CudaEvent, what: string): NativeEvent {
  if (event.disposed) throw disposedError(what);
  return nativeEvents.get(event)!;
}

/** A new event. */
export function createEvent(options?: EventOptions): CudaEvent {
  const opts = expectOptions<EventOptions>(options);
  rejectUnknownOptions(opts, ['device', 'timing']);
  const timing = opts.timing === undefined ? true : expectBoolean(opts.timing, 'options.timing');
  const deviceOption = expectInteger(opts.device === undefined ? 0 : opts.device, 'options.device', { min: 0 });
  const addon = cudaAddon();
  const device = checkDevice(addon, deviceOption, 'options.device');
  return new CudaEvent(new addon.EventWrap(device, timing), timing);
}
