// The completion mechanism every GPU operation goes through (native/core/submit_queue.h and
// native/napi/completion.h), exercised for real without a GPU: the test hook uses the same queue
// threads and the same thread-safe delivery, with a host fence (a sleep) standing in for the CUDA
// event. Ordering, errors, liveness of the event loop, process exit and worker teardown.
import { spawnSync } from 'node:child_process';
import { createHook } from 'node:async_hooks';
import { describe, expect, it } from 'vitest';
import { CudaError, TensorRTNodeError } from '../../lib/core/errors.js';
import { packageRoot } from '../../lib/addon/loader.js';
import { type NativeCompletionQueueForTest } from '../../lib/addon/types.js';
import { expectErrorSync } from '../helpers/expect-error.js';
import { addon, slowdown } from '../helpers/machine.js';

const addonPath = `${packageRoot}/build/Release/tensorrt_node.node`;

function newQueue(): NativeCompletionQueueForTest {
  return new addon!.CompletionQueueForTest();
}

function runNode(script: string, timeoutMs = 30_000) {
  timeoutMs *= slowdown;
  const started = Date.now();
  const result = spawnSync(process.execPath, ['-e', script], {
    encoding: 'utf8',
    timeout: timeoutMs,
    env: { ...process.env, TENSORRT_NODE_ADDON: addonPath },
  });
  return { ...result, elapsedMs: Date.now() - started };
}

describe.skipIf(addon === null)('completion delivery', () => {
  it("settles promises in submission order, from the queue's own threads, whatever each job takes", async () => {
    const queue = newQueue();
    const results = await Promise.all([queue.submit(40), queue.submit(0), queue.submit(15), queue.submit(0)]);
    expect(results.map((result) => result.order)).toEqual([0, 1, 2, 3]);
    for (const result of results) {
      expect(result.submitThread).toBe('trt-test-submit');
      expect(result.completionThread).toBe('trt-test-done');
    }
    expect(queue.inFlight).toBe(0);
    expect(queue.pendingPromises).toBe(0);
    queue.close();
  });

  it('rejects with the typed error of a failed enqueue or a failed completion, and later jobs still succeed', async () => {
    const queue = newQueue();
    const outcomes = await Promise.allSettled([
      queue.submit(5, 'enqueue', 'launch failed'),
      queue.submit(0, 'done', 'illegal memory access'),
      queue.submit(0),
    ]);
    const [enqueueFailure, doneFailure, success] = outcomes;
    expect(enqueueFailure!.status).toBe('rejected');
    const launchError = (enqueueFailure as PromiseRejectedResult).reason as CudaError;
    expect(launchError).toBeInstanceOf(CudaError);
    expect(launchError.code).toBe('ERR_CUDA');
    expect(launchError.message).toBe('launch failed');
    expect(launchError.cudaError).toEqual({ code: 700, name: 'cudaErrorIllegalAddress' });
    expect((doneFailure as PromiseRejectedResult).reason).toBeInstanceOf(CudaError);
    expect(((doneFailure as PromiseRejectedResult).reason as Error).message).toBe('illegal memory access');
    expect((success as PromiseFulfilledResult<{ order: number }>).value.order).toBe(2);
    queue.close();
  });

  it('BAD CALL - a closed queue refuses work synchronously with ERR_DISPOSED; accepted work still settles', async () => {
    const queue = newQueue();
    const accepted = queue.submit(20);
    queue.close();
    expectErrorSync(() => queue.submit(0), TensorRTNodeError, 'ERR_DISPOSED', 'The stream was disposed and accepts no more work');
    await expect(accepted).resolves.toMatchObject({ order: 0 });
    expect(queue.pendingPromises).toBe(0);
  });

  it('never blocks the event loop while work is in flight', async () => {
    const queue = newQueue();
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const submittedAt = performance.now();
    const work = queue.submit(300);
    const submitCost = performance.now() - submittedAt;
    await work;
    clearInterval(timer);
    expect(submitCost).toBeLessThan(50);
    // 300 ms of "GPU" work: a blocked loop would have ticked at most once.
    expect(ticks).toBeGreaterThanOrEqual(20);
    queue.close();
  });

  it('gives each operation its own async resource, named after it', async () => {
    const types: string[] = [];
    const hook = createHook({ init: (_id, type) => types.push(type) }).enable();
    const queue = newQueue();
    await queue.submit(0);
    hook.disable();
    expect(types).toContain('CompletionQueueForTest.submit');
    queue.close();
  });

  it('an idle addon does not keep the process alive; pending work does, until it settles', () => {
    const idle = runNode(`const a = require(process.env.TENSORRT_NODE_ADDON); const q = new a.CompletionQueueForTest();
      q.submit(0).then(() => console.log('settled'));`);
    expect(idle.status, idle.stderr).toBe(0);
    expect(idle.stdout.trim()).toBe('settled');

    const pending = runNode(`const a = require(process.env.TENSORRT_NODE_ADDON); const q = new a.CompletionQueueForTest();
      const t = Date.now(); q.submit(400); process.on('exit', () => console.log('exit after', Date.now() - t >= 380));`);
    expect(pending.status, pending.stderr).toBe(0);
    expect(pending.stdout.trim()).toBe('exit after true');
  });

  it('a worker torn down with work in flight leaves the process healthy', () => {
    const result = runNode(`
      const { Worker } = require('node:worker_threads');
      const workerCode = "const a = require(process.env.TENSORRT_NODE_ADDON); const q = new a.CompletionQueueForTest();" +
        "for (let i = 0; i < 20; i++) q.submit(50); require('node:worker_threads').parentPort.postMessage('submitted');";
      let rounds = 0;
      const round = () => {
        const worker = new Worker(workerCode, { eval: true, env: process.env });
        worker.on('message', () => worker.terminate());
        worker.on('exit', () => {
          if (++rounds < 3) return round();
          const a = require(process.env.TENSORRT_NODE_ADDON);
          new a.CompletionQueueForTest().submit(0).then((r) => console.log('main thread still works', r.order));
        });
      };
      round();`);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe('main thread still works 0');
  });
});
