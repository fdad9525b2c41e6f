/**
 * The session's queue on plain async jobs (no model involved): start order, the concurrency limit,
 * queue limits, deadlines and aborts while queued and while executing, and slots held until the
 * work itself settles.
 */
import { describe, expect, it } from 'vitest';
import { TensorRTNodeError } from '../../lib/core/errors.js';
import { Scheduler } from '../../lib/session/scheduler.js';
import { expectError } from '../helpers/expect-error.js';

/** A job whose completion the test controls. */
function gate<T = string>(value: T) {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const started: { signal: AbortSignal | null } = { signal: null };
  const work = async (signal: AbortSignal) => {
    started.signal = signal;
    await opened;
    return value;
  };
  return { work, open, started };
}

describe('session scheduler', () => {
  it('starts jobs in submission order, at most `concurrency` at once, and gives each its own result', async () => {
    const scheduler = new Scheduler(2, 10);
    const order: number[] = [];
    const gates = Array.from({ length: 5 }, (_, index) => gate(`result ${index}`));
    const results = gates.map((g, index) => scheduler.submit((signal) => (order.push(index), g.work(signal))));
    expect(scheduler.running).toBe(2);
    expect(scheduler.queued).toBe(3);
    gates[1]!.open();
    await results[1];
    expect(order).toEqual([0, 1, 2]);
    gates.forEach((g) => g.open());
    expect(await Promise.all(results)).toEqual(gates.map((_, index) => `result ${index}`));
    expect(order).toEqual([0, 1, 2, 3, 4]);
  });

  it('BAD CALL - flooding beyond maxQueue rejects with ERR_QUEUE_FULL and keeps serving', async () => {
    const scheduler = new Scheduler(1, 2);
    const blocker = gate('first');
    const running = scheduler.submit(blocker.work);
    const queued = [scheduler.submit(async () => 'a'), scheduler.submit(async () => 'b')];
    await expectError(
      () => scheduler.submit(async () => 'c'),
      TensorRTNodeError,
      'ERR_QUEUE_FULL',
      'The run queue is full (options.maxQueue: 2 runs waiting); retry later or raise maxQueue',
    );
    blocker.open();
    expect(await running).toBe('first');
    expect(await Promise.all(queued)).toEqual(['a', 'b']);
    expect(await scheduler.submit(async () => 'd')).toBe('d');
  });

  it('BAD CALL - aborting before, while queued (no work done) and while executing (prompt rejection, slot held until the work ends)', async () => {
    const scheduler = new Scheduler(1, 10);
    await expectError(
      () => scheduler.submit(async () => 'x', { signal: AbortSignal.abort('too late') }),
      TensorRTNodeError,
      'ERR_ABORTED',
      'The run was aborted (too late)',
    );

    const blocker = gate('first');
    const controller = new AbortController();
    const running = scheduler.submit(blocker.work, { signal: controller.signal });
    let queuedWorkRan = false;
    const queuedController = new AbortController();
    const queued = scheduler.submit(async () => (queuedWorkRan = true), { signal: queuedController.signal });
    queuedController.abort(new Error('not needed'));
    await expectError(() => queued, TensorRTNodeError, 'ERR_ABORTED', 'The run was aborted (not needed)');
    expect(scheduler.queued).toBe(0);

    controller.abort('user left');
    await expectError(() => running, TensorRTNodeError, 'ERR_ABORTED', 'The run was aborted (user left)');
    // The work was told, and still holds its slot: the next job waits for it.
    expect(blocker.started.signal?.aborted).toBe(true);
    expect(scheduler.running).toBe(1);
    const next = scheduler.submit(async () => 'next');
    expect(scheduler.queued).toBe(1);
    blocker.open();
    expect(await next).toBe('next');
    expect(queuedWorkRan).toBe(false);
  });

  it('BAD CALL - deadlines: ERR_TIMEOUT while queued and while executing, counted from submission', async () => {
    const scheduler = new Scheduler(1, 10);
    const blocker = gate('first');
    const executing = scheduler.submit(blocker.work, { timeoutMs: 30 });
    const queued = scheduler.submit(async () => 'never', { timeoutMs: 10 });
    await expectError(
      () => queued,
      TensorRTNodeError,
      'ERR_TIMEOUT',
      'The run timed out after 10 ms (options.timeoutMs) while queued',
    );
    await expectError(
      () => executing,
      TensorRTNodeError,
      'ERR_TIMEOUT',
      'The run timed out after 30 ms (options.timeoutMs) while executing',
    );
    blocker.open();
    expect(await scheduler.submit(async () => 'after', { timeoutMs: 1000 })).toBe('after');
  });

  it('close(): queued jobs reject (or run, when draining), later submissions reject, whenIdle() waits for running work', async () => {
    const disposed = () => new TensorRTNodeError('ERR_DISPOSED', 'gone');
    const scheduler = new Scheduler(1, 10);
    const blocker = gate('first');
    const running = scheduler.submit(blocker.work);
    const queued = scheduler.submit(async () => 'queued');
    scheduler.close(disposed, { rejectQueued: true });
    await expectError(() => queued, TensorRTNodeError, 'ERR_DISPOSED', 'gone');
    await expectError(() => scheduler.submit(async () => 'late'), TensorRTNodeError, 'ERR_DISPOSED', 'gone');
    let idle = false;
    const idled = scheduler.whenIdle().then(() => (idle = true));
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(idle).toBe(false);
    blocker.open();
    expect(await running).toBe('first');
    await idled;

    const draining = new Scheduler(1, 10);
    const first = gate('one');
    const results = [draining.submit(first.work), draining.submit(async () => 'two')];
    draining.close(disposed, { rejectQueued: false });
    first.open();
    expect(await Promise.all(results)).toEqual(['one', 'two']);
  });
});
