/**
 * The queue in front of a session's backend: at most `concurrency` jobs execute at once (the
 * backend's contexts or workers), the rest wait in call order, up to `maxQueue` of them
 * (ERR_QUEUE_FULL beyond). Each job can have a deadline (ERR_TIMEOUT) and an AbortSignal
 * (ERR_ABORTED), both honoured while queued (the job is removed, no work is done) and while
 * executing (the caller's promise rejects at once; the work is told through the signal it was given
 * and its result is dropped). A slot is free again only when the work itself settles, because
 * neither onnxruntime nor TensorRT can stop a computation midway: the scheduler never has more than
 * `concurrency` computations running, whatever callers gave up on.
 *
 * Jobs start in submission order and every promise settles with its own job's result, so no caller
 * ever receives another's result, and one caller's runs start in the order it made them.
 */
import { ErrorCode, TensorRTNodeError } from '../core/errors.js';
import { abortError } from '../core/abort.js';

export interface JobOptions {
  signal?: AbortSignal | undefined;
  /** Deadline from submission, queue time included; undefined for none. */
  timeoutMs?: number | undefined;
  /** Called when the work starts (after its queue time). */
  onStart?: (() => void) | undefined;
  /** Work already admitted elsewhere (a batcher's requests): never refused for a full queue. */
  admitted?: boolean;
}

type Work<T> = (signal: AbortSignal) => Promise<T>;

interface Job {
  work: Work<unknown>;
  state: 'queued' | 'running' | 'settled';
  controller: AbortController;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  cleanup: () => void;
  onStart: (() => void) | undefined;
}

export function timeoutError(timeoutMs: number, phase: 'queued' | 'executing'): TensorRTNodeError {
  return new TensorRTNodeError(ErrorCode.TIMEOUT, `The run timed out after ${timeoutMs} ms (options.timeoutMs) while ${phase}`, {
    details: { timeoutMs, phase },
  });
}

export function queueFullError(maxQueue: number): TensorRTNodeError {
  return new TensorRTNodeError(
    ErrorCode.QUEUE_FULL,
    `The run queue is full (options.maxQueue: ${maxQueue} runs waiting); retry later or raise maxQueue`,
    { details: { maxQueue } },
  );
}

export class Scheduler {
  readonly concurrency: number;
  readonly maxQueue: number;
  readonly #queue: Job[] = [];
  #running = 0;
  #closed: (() => Error) | null = null;
  readonly #slotListeners = new Set<() => void>();
  readonly #idleWaiters: (() => void)[] = [];

  constructor(concurrency: number, maxQueue: number) {
    this.concurrency = concurrency;
    this.maxQueue = maxQueue;
  }

  /** Jobs waiting for a slot. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Computations executing now (including ones whose callers gave up). */
  get running(): number {
    return this.#running;
  }

  /** Whether a job submitted now would start at once. */
  get hasIdleSlot(): boolean {
    return this.#running < this.concurrency && this.#queue.length === 0 && this.#closed === null;
  }

  /** `listener` runs whenever a computation finishes (the batcher forms its next batch then). */
  onSlotFree(listener: () => void): () => void {
    this.#slotListeners.add(listener);
    return () => this.#slotListeners.delete(listener);
  }

  submit<T>(work: Work<T>, options: JobOptions = {}): Promise<T> {
    const { signal, timeoutMs, onStart, admitted } = options;
    if (this.#closed) return Promise.reject(this.#closed());
    if (signal?.aborted) return Promise.reject(abortError('The run', signal));
    if (!admitted && this.#queue.length >= this.maxQueue && this.#running >= this.concurrency)
      return Promise.reject(queueFullError(this.maxQueue));
    return new Promise<T>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => this.#fail(job, abortError('The run', signal!));
      const job: Job = {
        work: work as Work<unknown>,
        state: 'queued',
        controller: new AbortController(),
        resolve: resolve as (value: unknown) => void,
        reject,
        onStart,
        cleanup: () => {
          if (timer) clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      if (timeoutMs !== undefined)
        timer = setTimeout(
          () => this.#fail(job, timeoutError(timeoutMs, job.state === 'queued' ? 'queued' : 'executing')),
          timeoutMs,
        );
      this.#queue.push(job);
      this.#pump();
    });
  }

  /** Settles a job's caller with `error` now: out of the queue if waiting, its work told to stop if executing. */
  #fail(job: Job, error: Error): void {
    if (job.state === 'settled') return;
    if (job.state === 'queued') {
      const index = this.#queue.indexOf(job);
      if (index >= 0) this.#queue.splice(index, 1);
    } else {
      job.controller.abort(error);
    }
    this.#settle(job, error, false);
  }

  #settle(job: Job, outcome: unknown, ok: boolean): void {
    if (job.state === 'settled') return;
    job.state = 'settled';
    job.cleanup();
    if (ok) job.resolve(outcome);
    else job.reject(outcome);
  }

  #pump(): void {
    while (this.#running < this.concurrency && this.#queue.length > 0) {
      const job = this.#queue.shift()!;
      job.state = 'running';
      this.#running++;
      job.onStart?.();
      let running: Promise<unknown>;
      try {
        running = job.work(job.controller.signal);
      } catch (error) {
        running = Promise.reject(error);
      }
      running.then(
        (value) => this.#finish(job, value, true),
        (error: unknown) => this.#finish(job, error, false),
      );
    }
    if (this.#running === 0 && this.#queue.length === 0) for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  #finish(job: Job, outcome: unknown, ok: boolean): void {
    this.#running--;
    this.#settle(job, outcome, ok);
    this.#pump();
    for (const listener of this.#slotListeners) listener();
  }

  /** Resolves once nothing is queued or executing. */
  whenIdle(): Promise<void> {
    if (this.#running === 0 && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** From now on every submission rejects with `error()`; with `rejectQueued`, waiting jobs do too. */
  close(error: () => Error, { rejectQueued }: { rejectQueued: boolean }): void {
    this.#closed ??= error;
    if (rejectQueued) for (const job of this.#queue.splice(0)) this.#settle(job, error(), false);
    this.#pump();
  }
}
