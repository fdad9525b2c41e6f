/**
 * Dynamic batching: concurrent requests are stacked along dim 0 (the batch dim, dynamic in every
 * input and output), run as one execution, and split back, so a model that costs a fixed overhead
 * per run (a kernel launch, a worker hop) serves many requests for the price of one.
 *
 * When a batch goes: requests wait for a free context (while every context is busy, the batch
 * grows), and then for one of: the rows pending for the oldest request reach `maxBatchSize`, or the
 * largest of `preferredBatchSizes`, or the oldest request has waited `maxDelayMs` (default 0: go as
 * soon as a context is free; batches then form only under load, which costs no latency when idle).
 * A batch takes requests in arrival order; requests whose other dims (or requested outputs) differ
 * from the oldest one's wait for a batch of their own. With `preferredBatchSizes`, a batch is cut to
 * the largest preferred size that a prefix of its requests fills exactly, when one does.
 *
 * Errors stay per request: bad feeds reject that request alone before it joins a batch; a request
 * aborted or timed out leaves its batch (its rows are computed and dropped); and when an execution
 * of several requests fails, each is run again alone, so that one request whose data the model
 * refuses (an index out of range, say) fails alone and the others get their results.
 */
import type { TensorMap } from '../core/tensors.js';
import { disposedError } from '../core/dispose.js';
import { abortError } from '../core/abort.js';
import { ArgumentRangeError, ArgumentTypeError, ErrorCode, TensorRTNodeError, isTensorRTNodeError } from '../core/errors.js';
import { describeValue, expectInteger, expectOptions, expectPositiveInteger, rejectUnknownOptions } from '../core/validate.js';
import { expectDurationMs } from '../core/units.js';
import { validateOutputNames } from '../core/feeds.js';
import { checkRunOptions, expectSessionCore, type CheckedRunOptions, type SessionCore } from './core.js';
import { normalizeFeeds } from './feeds.js';
import { expectTimeout } from './options.js';
import { checkProfiles, profileMaxBatch } from './profiles.js';
import { queueFullError, timeoutError } from './scheduler.js';
import { splitOutputs, stackFeeds } from './stacking.js';
import type { AnySignature, Feeds, ModelSignature, OutputName, Results, SessionRunOptions } from './types.js';

/** Options of `session.batcher()`: when a batch goes, and the batcher's own queue limit and deadline. */
export interface BatcherOptions {
  /** Most rows in one execution (default 32). A request with more rows is refused (ERR_SHAPE). */
  maxBatchSize?: number;
  /** Longest time the oldest request waits for others once a context is free (default 0; at most 2^31-1 ms, the timer range). */
  maxDelayMs?: number;
  /** Batch sizes to aim for (e.g. the sizes an engine was tuned for); each <= maxBatchSize. */
  preferredBatchSizes?: number[];
  /** Most requests waiting here before ERR_QUEUE_FULL (default: the session's maxQueue). */
  maxQueue?: number;
  /** Default deadline of every request (default: the session's timeoutMs). */
  timeoutMs?: number;
}

export const batcherOptionNames = ['maxBatchSize', 'maxDelayMs', 'preferredBatchSizes', 'maxQueue', 'timeoutMs'] as const;

/** One execution's requests. Nothing stops an execution whose callers all left: neither backend can stop a computation, and it started at once (batches go only to idle contexts). */
interface Batch {
  requests: BatchRequest[];
}

interface BatchRequest {
  feeds: TensorMap;
  rows: number;
  /** Requests with equal keys can share a batch: same dims beyond dim 0, same outputs. */
  key: string;
  outputs: readonly string[];
  arrivedMs: number;
  state: 'pending' | 'running' | 'settled';
  /** Whether its queue time was recorded (a request retried alone counts once). */
  queueRecorded: boolean;
  resolve: (results: TensorMap) => void;
  reject: (error: unknown) => void;
  /** Its deadline's timer (options.timeoutMs), cleared when it settles. */
  timer: NodeJS.Timeout | undefined;
  /** Its AbortSignal and the listener to remove when it settles. */
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/** The dims beyond dim 0 of every feed, as a string: part of a request's batch key. */
function rowShapesKey(feeds: TensorMap): string {
  let key = '';
  for (const name in feeds) {
    const shape = feeds[name]!.shape;
    for (let axis = 1; axis < shape.length; axis++) key += `${shape[axis]}x`;
    key += ';';
  }
  return key;
}

/**
 * A dynamic batcher over a session (from `session.batcher()`): concurrent requests are stacked along
 * dim 0, run as one execution and split back, so a model with a fixed cost per run serves many
 * requests for the price of one. A batch goes when a context is free and the oldest request's rows
 * reach `maxBatchSize` (or the largest preferred size), or it waited `maxDelayMs`. Errors stay per
 * request. Needs a dynamic dim 0 on every input and output.
 *
 * @example
 * ```ts
 * const batcher = session.batcher({ maxBatchSize: 64, maxDelayMs: 2 });
 * const { y } = await batcher.run({ x: { data: row, shape: [1, 256] } });
 * ```
 */
export class Batcher<S extends ModelSignature = AnySignature> implements AsyncDisposable {
  readonly maxBatchSize: number;
  readonly maxDelayMs: number;
  readonly preferredBatchSizes: readonly number[];
  readonly maxQueue: number;
  readonly #core: SessionCore;
  readonly #timeoutMs: number | undefined;
  /**
   * Requests waiting for a batch, oldest first. One that is aborted or times out while waiting stays
   * here, settled, until a batch is formed past it: removing it at once would cost a scan of the
   * whole list per abort, quadratic when thousands wait.
   */
  #pending: BatchRequest[] = [];
  /** Requests in #pending still waiting. */
  #waiting = 0;
  readonly #inFlight = new Set<Batch>();
  readonly #stopListening: () => void;
  readonly #onDisposed: (batcher: Batcher<S>) => void;
  #timer: NodeJS.Timeout | null = null;
  #timerDue = Infinity;
  #state: 'open' | 'draining' | 'disposed' = 'open';
  #idleWaiters: (() => void)[] = [];
  /**
   * Whether the model fixes every input's dims beyond dim 0: validated feeds then all share them,
   * and a request's batch key depends only on its outputs (no string is built per request).
   */
  readonly #staticRowShapes: boolean;
  readonly #allOutputs: readonly string[];
  readonly #allOutputsKey: string;
  /** One deadline handler for every request (setTimeout passes the request), rather than a closure each. */
  readonly #onDeadline = (request: BatchRequest, timeoutMs: number) =>
    this.#fail(request, timeoutError(timeoutMs, request.state === 'pending' ? 'queued' : 'executing'));

  /** @internal Created by session.batcher(). */
  constructor(core: SessionCore, options: unknown, onDisposed: (batcher: Batcher<S>) => void) {
    expectSessionCore(core);
    const opts = expectOptions<BatcherOptions>(options);
    rejectUnknownOptions(opts, batcherOptionNames);
    const notBatchable = [
      ...core.inputs.map((info) => ['input', info] as const),
      ...core.outputs.map((info) => ['output', info] as const),
    ].find(([, info]) => info.shape.length === 0 || info.shape[0] !== -1);
    if (notBatchable) {
      const [role, info] = notBatchable;
      throw new TensorRTNodeError(
        ErrorCode.NOT_SUPPORTED,
        `Expected a dynamic dim 0 (the batch dim) in every input and output for session.batcher() but received ${role} ${JSON.stringify(info.name)} with shape [${info.shape.join(', ')}]`,
      );
    }
    this.maxBatchSize =
      opts.maxBatchSize === undefined
        ? Math.min(32, profileMaxBatch(core.profiles))
        : expectPositiveInteger(opts.maxBatchSize, 'options.maxBatchSize', 1 << 20);
    const profileMax = profileMaxBatch(core.profiles);
    if (this.maxBatchSize > profileMax) {
      throw new ArgumentRangeError(
        `Expected at most ${profileMax} (the largest dim 0 of options.profiles) for options.maxBatchSize but received ${this.maxBatchSize} of type number`,
      );
    }
    this.maxDelayMs = opts.maxDelayMs === undefined ? 0 : expectDurationMs(opts.maxDelayMs, 'options.maxDelayMs');
    if (opts.preferredBatchSizes !== undefined && !Array.isArray(opts.preferredBatchSizes)) {
      throw new ArgumentTypeError(
        `Expected an array of batch sizes for options.preferredBatchSizes but received ${describeValue(opts.preferredBatchSizes)}`,
      );
    }
    this.preferredBatchSizes = Object.freeze(
      [
        ...new Set(
          (opts.preferredBatchSizes ?? []).map((size, index) =>
            expectPositiveInteger(size, `options.preferredBatchSizes[${index}]`, this.maxBatchSize),
          ),
        ),
      ].sort((a, b) => a - b),
    );
    this.maxQueue = opts.maxQueue === undefined ? core.maxQueue : expectInteger(opts.maxQueue, 'options.maxQueue', { min: 0 });
    this.#timeoutMs = opts.timeoutMs === undefined ? core.timeoutMs : expectTimeout(opts.timeoutMs, 'options.timeoutMs');
    this.#core = core;
    this.#onDisposed = onDisposed;
    this.#staticRowShapes = core.inputs.every((info) => info.shape.every((dim, axis) => axis === 0 || dim >= 0));
    this.#allOutputs = validateOutputNames(core.outputs, undefined);
    this.#allOutputsKey = this.#allOutputs.join(',');
    this.#stopListening = core.scheduler.onSlotFree(() => this.#schedule());
  }

  /** Requests waiting for a batch. */
  get pending(): number {
    return this.#waiting;
  }

  /** True once it stopped taking requests (disposed or draining). */
  get disposed(): boolean {
    return this.#state !== 'open';
  }

  /**
   * Runs one request (of one or more rows) as part of a batch; resolves with its own rows of every
   * output. Never throws: bad input rejects. This is the per-request path of a service, so it is
   * synchronous up to the queue (unless a device tensor must be copied first) and allocates little:
   * one promise, one request record, a closure only for a signal.
   */
  run<O extends OutputName<S> = OutputName<S>>(feeds: Feeds<S>, options?: SessionRunOptions<O>): Promise<Results<S, O>> {
    const arrivedMs = performance.now();
    try {
      if (this.#state !== 'open') throw disposedError('The batcher');
      this.#core.checkOpen();
      const checked = checkRunOptions(this.#core, options, undefined, this.#timeoutMs);
      const normalized = normalizeFeeds(this.#core.inputs, feeds);
      if (!(normalized instanceof Promise)) return this.#enqueue(normalized, checked, arrivedMs) as Promise<Results<S, O>>;
      return normalized.then(
        (hostFeeds) => {
          try {
            return this.#enqueue(hostFeeds, checked, arrivedMs) as Promise<Results<S, O>>;
          } catch (error) {
            return this.#refuse(arrivedMs, error);
          }
        },
        (error: unknown) => this.#refuse(arrivedMs, error),
      );
    } catch (error) {
      return this.#refuse(arrivedMs, error);
    }
  }

  /** A request refused before it was queued: counted in the metrics, and rejected. */
  #refuse(arrivedMs: number, error: unknown): Promise<never> {
    this.#core.metrics.recordRequest(arrivedMs, error);
    return Promise.reject(error);
  }

  /** Admits validated feeds to the pending list (or throws why not); the promise settles through #settle, which records the request's metrics. */
  #enqueue(hostFeeds: TensorMap, { signal, timeoutMs, outputs }: CheckedRunOptions, arrivedMs: number): Promise<TensorMap> {
    const core = this.#core;
    const rows = this.#rowsOf(hostFeeds);
    checkProfiles(core.profiles, hostFeeds);
    if (signal?.aborted) throw abortError('The run', signal);
    if (this.#state !== 'open') throw disposedError('The batcher');
    // maxQueue bounds the backlog: a request arriving when nothing waits and a context is free is always taken.
    if (this.#waiting >= this.maxQueue && !(this.#waiting === 0 && core.scheduler.hasIdleSlot))
      throw queueFullError(this.maxQueue);
    const outputsKey = outputs === this.#allOutputs ? this.#allOutputsKey : outputs.join(',');
    const request: BatchRequest = {
      feeds: hostFeeds,
      rows,
      key: this.#staticRowShapes ? outputsKey : `${rowShapesKey(hostFeeds)}|${outputsKey}`,
      outputs,
      arrivedMs,
      state: 'pending',
      queueRecorded: false,
      resolve: undefined!,
      reject: undefined!,
      timer: undefined,
      signal,
      onAbort: undefined,
    };
    const settled = new Promise<TensorMap>((resolve, reject) => {
      request.resolve = resolve;
      request.reject = reject;
    });
    if (signal) {
      request.onAbort = () => this.#fail(request, abortError('The run', signal));
      signal.addEventListener('abort', request.onAbort, { once: true });
    }
    if (timeoutMs !== undefined) request.timer = setTimeout(this.#onDeadline, timeoutMs, request, timeoutMs);
    this.#pending.push(request);
    this.#waiting++;
    this.#schedule();
    return settled;
  }

  /** The request's batch size: dim 0, the same in every input, between 1 and maxBatchSize. */
  #rowsOf(feeds: TensorMap): number {
    const [first, ...rest] = this.#core.inputs;
    const rows = feeds[first!.name]!.shape[0]!;
    for (const info of rest) {
      const shape = feeds[info.name]!.shape;
      if (shape[0] !== rows) {
        throw new ArgumentRangeError(
          `Expected the same dim 0 (batch size) in every input of one request for input ${JSON.stringify(info.name)} but received [${shape.join(', ')}] while input ${JSON.stringify(first!.name)} has ${rows} rows`,
          ErrorCode.SHAPE,
        );
      }
    }
    if (rows < 1 || rows > this.maxBatchSize) {
      throw new ArgumentRangeError(
        `Expected between 1 and ${this.maxBatchSize} rows (maxBatchSize) at dim 0 for input ${JSON.stringify(first!.name)} but received [${feeds[first!.name]!.shape.join(', ')}]`,
        ErrorCode.SHAPE,
      );
    }
    return rows;
  }

  #settle(request: BatchRequest, outcome: TensorMap | Error): void {
    if (request.state === 'settled') return;
    request.state = 'settled';
    if (request.timer) clearTimeout(request.timer);
    if (request.onAbort) request.signal!.removeEventListener('abort', request.onAbort);
    const failed = outcome instanceof Error;
    this.#core.metrics.recordRequest(request.arrivedMs, failed ? outcome : undefined);
    if (failed) request.reject(outcome);
    else request.resolve(outcome);
  }

  #fail(request: BatchRequest, error: Error): void {
    if (request.state === 'pending') this.#waiting--;
    this.#settle(request, error);
    this.#notifyIdle();
  }

  /** Forms and sends batches while a context is free and a batch is due; else arms the delay timer. */
  #schedule(): void {
    const scheduler = this.#core.scheduler;
    while (this.#waiting > 0 && scheduler.hasIdleSlot) {
      let head = 0;
      while (this.#pending[head]!.state !== 'pending') head++;
      if (head > 0) this.#pending.splice(0, head);
      const oldest = this.#pending[0]!;
      const group: BatchRequest[] = [];
      let rows = 0;
      let full = false;
      for (const request of this.#pending) {
        if (request.state !== 'pending' || request.key !== oldest.key) continue;
        if (rows + request.rows > this.maxBatchSize) {
          full = true;
          break;
        }
        group.push(request);
        rows += request.rows;
      }
      full ||= rows >= this.maxBatchSize;
      const preferredReached =
        this.preferredBatchSizes.length > 0 && rows >= this.preferredBatchSizes[this.preferredBatchSizes.length - 1]!;
      const waited = performance.now() - oldest.arrivedMs;
      if (!full && !preferredReached && waited < this.maxDelayMs && this.#state === 'open') {
        this.#armTimer(oldest.arrivedMs + this.maxDelayMs);
        return;
      }
      const batch = this.#cutToPreferred(group);
      this.#take(batch);
      this.#execute(batch, true);
    }
  }

  /** Removes `batch` (and settled requests before its last one) from the pending list in one pass. */
  #take(batch: readonly BatchRequest[]): void {
    this.#waiting -= batch.length;
    const taken = new Set(batch);
    const last = this.#pending.indexOf(batch[batch.length - 1]!);
    let contiguous = true;
    for (let index = 0; index <= last && contiguous; index++) {
      const request = this.#pending[index]!;
      contiguous = taken.has(request) || request.state !== 'pending';
    }
    if (contiguous) this.#pending.splice(0, last + 1);
    else this.#pending = this.#pending.filter((request) => !taken.has(request) && request.state === 'pending');
  }

  /** The longest prefix whose rows are a preferred size, when there is one; else the whole group. */
  #cutToPreferred(group: BatchRequest[]): BatchRequest[] {
    if (this.preferredBatchSizes.length === 0) return group;
    let rows = 0;
    let cut = 0;
    group.forEach((request, index) => {
      rows += request.rows;
      if (this.preferredBatchSizes.includes(rows)) cut = index + 1;
    });
    return cut > 0 ? group.slice(0, cut) : group;
  }

  #armTimer(dueMs: number): void {
    if (this.#timer && this.#timerDue <= dueMs) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timerDue = dueMs;
    this.#timer = setTimeout(
      () => {
        this.#timer = null;
        this.#timerDue = Infinity;
        this.#schedule();
      },
      Math.max(0, dueMs - performance.now()),
    );
  }

  /** Runs `requests` as one execution; `isolateOnFailure`: a failed batch of several is retried one by one. */
  #execute(requests: BatchRequest[], isolateOnFailure: boolean): void {
    const core = this.#core;
    const batch: Batch = { requests };
    for (const request of requests) request.state = 'running';
    this.#inFlight.add(batch);
    const outputs = requests[0]!.outputs;
    core.scheduler
      .submit(
        async (signal) => {
          const started = performance.now();
          for (const request of requests) {
            if (request.state !== 'running' || request.queueRecorded) continue;
            request.queueRecorded = true;
            core.metrics.recordQueue(started - request.arrivedMs);
          }
          const live = requests.filter((request) => request.state === 'running');
          const feeds = stackFeeds(core.inputs, live);
          try {
            return { results: await core.backend.run(feeds, { signal, outputs }), live };
          } finally {
            core.metrics.recordExecution(
              live.reduce((sum, request) => sum + request.rows, 0),
              performance.now() - started,
            );
          }
        },
        { admitted: true },
      )
      .then(
        ({ results, live }) => {
          let split: TensorMap[];
          try {
            split = splitOutputs(
              results,
              outputs,
              live.map((request) => request.rows),
            );
          } catch (error) {
            this.#failBatch(live, error as Error, isolateOnFailure);
            return;
          }
          live.forEach((request, index) => this.#settle(request, split[index]!));
        },
        (error: Error) => this.#failBatch(requests, error, isolateOnFailure),
      )
      .finally(() => {
        this.#inFlight.delete(batch);
        this.#notifyIdle();
      });
  }

  #failBatch(requests: BatchRequest[], error: Error, isolate: boolean): void {
    const live = requests.filter((request) => request.state === 'running');
    const code = isTensorRTNodeError(error) ? error.code : null;
    if (isolate && live.length > 1 && code !== ErrorCode.DISPOSED && code !== ErrorCode.ABORTED) {
      for (const request of live) this.#execute([request], false);
      return;
    }
    for (const request of live) this.#settle(request, error);
  }

  #notifyIdle(): void {
    if (this.#waiting === 0 && this.#inFlight.size === 0) for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  #whenIdle(): Promise<void> {
    if (this.#waiting === 0 && this.#inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Stops taking requests, sends every pending one without waiting for maxDelayMs, and resolves when all settled. @internal */
  async drain(): Promise<void> {
    if (this.#state === 'open') this.#state = 'draining';
    this.#schedule();
    await this.#whenIdle();
    await this.dispose();
  }

  /**
   * Rejects pending requests with ERR_DISPOSED, lets executing batches finish (their callers get
   * results), and stops. Idempotent; the session disposes its batchers too.
   */
  async dispose(): Promise<void> {
    if (this.#state !== 'disposed') {
      this.#state = 'disposed';
      if (this.#timer) clearTimeout(this.#timer);
      this.#timer = null;
      this.#stopListening();
      for (const request of this.#pending.splice(0)) {
        if (request.state === 'pending') this.#settle(request, disposedError('The batcher'));
      }
      this.#waiting = 0;
      this.#onDisposed(this);
    }
    await this.#whenIdle();
  }

  /** `await using` support: the same as {@link dispose}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }
}
