/**
 * The worker threads behind cpu backends, kept for reuse. A cpu backend's session lives in a worker
 * thread; starting one (a V8 isolate, Node's bootstrap, onnxruntime-node's native module) costs
 * ~100-250 ms and, under glibc, every new thread that allocates gets malloc arenas that fragment as
 * threads come and go (RSS grew ~3 KiB per create/dispose cycle, `npm run bench:leaks`). So a
 * disposed backend's worker, its session released, waits here for the next backend instead of
 * exiting: creating a cpu backend then costs the session load alone.
 *
 * Idle workers are unreferenced (they never keep the process alive) and exit after IDLE_TIMEOUT_MS
 * unused; at most MAX_IDLE wait. A worker is reused only in a known-clean state: its session
 * released in order (never after a failure or a crash), and its thread priority untouched (a
 * `niceness` cannot be undone without privileges, so such workers exit).
 */
import type { Worker } from 'node:worker_threads';
import { spawnModuleWorker } from './worker-exec-argv.js';

/** Most idle workers kept: enough for a few sessions' worth of backends created again. */
export const MAX_IDLE = 4;
/** An idle worker exits after this long unused. */
export const IDLE_TIMEOUT_MS = 10_000;

interface IdleWorker {
  worker: Worker;
  timer: NodeJS.Timeout;
  onExit: () => void;
  /** A worker that fails while idle (one still starting: onnxruntime-node would not load) just leaves the pool. */
  onError: () => void;
}

const idle: IdleWorker[] = [];

function removeIdle(entry: IdleWorker): void {
  const index = idle.indexOf(entry);
  if (index >= 0) idle.splice(index, 1);
  clearTimeout(entry.timer);
  entry.worker.off('exit', entry.onExit);
  entry.worker.off('error', entry.onError);
}

/** A worker with no session loaded: an idle one (most recently used first), else a new one. Referenced until released. */
export function acquireCpuWorker(): Worker {
  const entry = idle.pop();
  if (!entry) return spawnModuleWorker(import.meta.url, 'worker');
  removeIdle(entry);
  entry.worker.ref();
  return entry.worker;
}

/**
 * Hands a worker back once its backend is done with it. `reusable`: its session was released in
 * order and its priority untouched; anything else, or a full pool, ends the thread. Resolves when
 * the worker is parked or has exited.
 */
export async function releaseCpuWorker(worker: Worker, reusable: boolean): Promise<void> {
  if (!reusable || idle.length >= MAX_IDLE) {
    await worker.terminate();
    return;
  }
  worker.unref();
  const entry: IdleWorker = {
    worker,
    timer: setTimeout(() => {
      removeIdle(entry);
      void worker.terminate();
    }, IDLE_TIMEOUT_MS).unref(),
    onExit: () => removeIdle(entry),
    onError: () => {
      removeIdle(entry);
      void worker.terminate();
    },
  };
  worker.once('exit', entry.onExit);
  worker.once('error', entry.onError);
  idle.push(entry);
}

/**
 * Starts a worker thread now and parks it, so that the next cpu backend finds one that has booted
 * and loaded onnxruntime-node (~0.3 s of a cold create, on a 2-core VM). For a caller that will
 * probably create a cpu backend but first has other work to do: a session with backend 'auto'
 * starts one while it probes for TensorRT. Does nothing when a worker is idle already. Costs a
 * thread that exits after IDLE_TIMEOUT_MS when no backend comes.
 */
export function prestartCpuWorker(): void {
  if (idle.length > 0) return;
  void releaseCpuWorker(spawnModuleWorker(import.meta.url, 'worker'), true);
}

/** Idle workers waiting now (tests, diagnostics). */
export function idleCpuWorkers(): number {
  return idle.length;
}

/** Ends every idle worker now (tests; a process that wants no idle threads left). */
export async function closeIdleCpuWorkers(): Promise<void> {
  const entries = [...idle];
  for (const entry of entries) removeIdle(entry);
  await Promise.all(entries.map((entry) => entry.worker.terminate()));
}
