/**
 * Several backends of one model behind one Backend: N cpu backends (N worker threads, each with its
 * own onnxruntime session) become one backend that executes N runs at once. This is how a session's
 * `contexts` maps onto the cpu backend, whose members run one call at a time each.
 *
 * A run goes to an idle member; when all are busy it waits here, in call order. A member counts as
 * busy until its own promise settles; a run aborted while executing rejects at once (the member
 * does that, see ./backend.ts) and the member takes the next run when it is free.
 */
import { disposedError } from '../core/dispose.js';
import { ArgumentTypeError, ErrorCode, createError } from '../core/errors.js';
import { describeValue, expectOptions } from '../core/validate.js';
import { abortError } from '../core/abort.js';
import type { Backend, BackendKind, BoundTensors, BackendRunOptions } from './backend.js';
import type { TensorInfo, TensorMap } from '../core/tensors.js';

interface Waiter {
  grant: (member: Backend) => void;
  reject: (error: unknown) => void;
}

/**
 * Several backends of one model behind one {@link Backend} that runs as many calls at once as its
 * members together (N cpu backends: N runs at once). Runs go to an idle member, else wait here in
 * call order. Disposing the group disposes every member.
 */
export class BackendGroup implements Backend {
  readonly kind: BackendKind;
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  readonly concurrency: number;
  readonly bindingLocations: Backend['bindingLocations'];
  readonly #idle: Backend[];
  readonly #members: readonly Backend[];
  readonly #waiters: Waiter[] = [];
  #disposing: Promise<void> | null = null;

  constructor(members: readonly Backend[]) {
    if (!Array.isArray(members))
      throw new ArgumentTypeError(`Expected an array of backends for a BackendGroup but received ${describeValue(members)}`);
    if (members.length === 0) throw new ArgumentTypeError('Expected at least one backend for a BackendGroup but received none');
    members.forEach((member: unknown, index) => {
      const candidate = member as Partial<Backend> | null;
      if (
        typeof candidate !== 'object' ||
        candidate === null ||
        typeof candidate.run !== 'function' ||
        typeof candidate.dispose !== 'function' ||
        !Array.isArray(candidate.inputs) ||
        !Array.isArray(candidate.outputs)
      ) {
        throw new ArgumentTypeError(
          `Expected a Backend (from createCpuBackend() or createTensorRTBackend()) for members[${index}] of a BackendGroup but received ${describeValue(member)}`,
        );
      }
    });
    const first = members[0]!;
    this.kind = first.kind;
    this.inputs = first.inputs;
    this.outputs = first.outputs;
    this.bindingLocations = first.bindingLocations;
    this.concurrency = members.reduce((sum, member) => sum + (member.concurrency ?? 1), 0);
    this.#members = Object.freeze([...members]);
    // A member that runs k at once appears k times, so it gets up to k runs.
    this.#idle = members.flatMap((member) => Array.from({ length: member.concurrency ?? 1 }, () => member));
  }

  get disposed(): boolean {
    return this.#disposing !== null;
  }

  /** An idle member, now or when one frees up (in call order). */
  #acquire(signal: AbortSignal | undefined): Promise<Backend> {
    if (this.#disposing) return Promise.reject(disposedError('The backend group'));
    if (signal?.aborted) return Promise.reject(abortError('The run', signal));
    const member = this.#idle.shift();
    if (member) return Promise.resolve(member);
    return new Promise<Backend>((resolve, reject) => {
      const waiter: Waiter = {
        grant: (granted) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(granted);
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      const onAbort = () => {
        const index = this.#waiters.indexOf(waiter);
        if (index >= 0) this.#waiters.splice(index, 1);
        reject(abortError('The run', signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  #release(member: Backend): void {
    const waiter = this.#waiters.shift();
    if (waiter) waiter.grant(member);
    else this.#idle.push(member);
  }

  async run(feeds: Readonly<TensorMap>, options?: BackendRunOptions): Promise<TensorMap> {
    const signal = expectOptions<BackendRunOptions>(options).signal;
    if (signal !== undefined && !(signal instanceof AbortSignal))
      throw new ArgumentTypeError(`Expected an AbortSignal for options.signal but received ${describeValue(signal)}`);
    const member = await this.#acquire(signal);
    const running = member.run(feeds, options);
    // The member is free again when its own run settles, whatever the caller sees.
    running.then(
      () => this.#release(member),
      () => this.#release(member),
    );
    return running;
  }

  async runBinding(bound: BoundTensors): Promise<void> {
    const member = await this.#acquire(undefined);
    try {
      if (!member.runBinding) throw createError(ErrorCode.NOT_SUPPORTED, `The ${this.kind} backend has no runBinding()`);
      await member.runBinding(bound);
    } finally {
      this.#release(member);
    }
  }

  dispose(): Promise<void> {
    this.#disposing ??= (async () => {
      for (const waiter of this.#waiters.splice(0)) waiter.reject(disposedError('The backend group'));
      await Promise.all(this.#members.map((member) => member.dispose()));
    })();
    return this.#disposing;
  }

  /** `await using` support: the same as {@link dispose}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }
}
