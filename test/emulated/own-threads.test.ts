// Issue 14, defect 4: native work on threads of its own (engine builds and loads use
// napi/thread_promise.h) must not outlive the environment that started it. A worker terminated
// mid-operation tears its environment down; the thread then settles through freed N-API state
// unless teardown waits for it. The mechanism is shared, so a test hook (ownThreadForTest) stands in
// for the TensorRT paths.
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { addonPath, rawAddon } from './emulated.js';

describe("emulated device: threads of the addon's own", () => {
  it('emulated device: settles a promise from an own thread', async () => {
    await expect(rawAddon().ownThreadForTest(5)).resolves.toBe(5);
  });

  it('emulated device: terminating a worker mid-operation waits for its own threads (none outlives the worker)', async () => {
    const addon = rawAddon();
    const before = addon.ownThreadsRunningForTest();
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
       const addon = require(${JSON.stringify(addonPath)});
       addon.ownThreadForTest(400).then(() => parentPort.postMessage('settled'));
       parentPort.postMessage('started');`,
      { eval: true },
    );
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(addon.ownThreadsRunningForTest()).toBe(before + 1);
    await worker.terminate();
    expect(addon.ownThreadsRunningForTest()).toBe(before);
    // The process is still healthy afterwards: own threads in this environment still settle.
    await expect(addon.ownThreadForTest(1)).resolves.toBe(1);
  });
});
