/**
 * The two multi-process scenarios of the engine cache, shared by the vitest tests (one run each)
 * and `npm run stress:cache` (a hundred in a row): several real processes racing to build one key,
 * and a writer SIGKILLed at an exact step of writing an entry (or after a random delay). Each returns
 * what happened and a list of broken expectations (empty when the cache behaved).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EngineCache, cacheKey, type CacheWarning } from '../../lib/cache/index.js';
import { packageRoot } from '../../lib/addon/loader.js';
import { keyPartsFor, planFor } from './cache-fixture.mjs';

/** How worker processes load the cache: the TypeScript sources (tsx) or the compiled dist/. */
export interface WorkerRuntime {
  lib: string;
  ext: 'ts' | 'js';
  execArgv: string[];
}

export const sourceRuntime: WorkerRuntime = { lib: join(packageRoot, 'lib'), ext: 'ts', execArgv: ['--import', 'tsx'] };
export const distRuntime: WorkerRuntime = { lib: join(packageRoot, 'dist'), ext: 'js', execArgv: [] };

const workerPath = join(packageRoot, 'test', 'helpers', 'cache-worker.mjs');

interface WorkerMessage {
  type: 'ready' | 'paused' | 'warning' | 'done';
  [field: string]: unknown;
}

export interface PausePoint {
  op: 'open' | 'writeChunk' | 'fsync' | 'rename' | 'link';
  /** A regular expression over the path. */
  match: string;
  nth: number;
}

/** Every step of writing an entry where a SIGKILL can land, in the order they happen. */
export const killPoints: Record<string, PausePoint> = {
  'lock-link': { op: 'link', match: '\\.lock$', nth: 1 },
  'plan-open': { op: 'open', match: '\\.plan\\.[^/]*\\.tmp$', nth: 1 },
  'plan-half-written': { op: 'writeChunk', match: '\\.plan\\.[^/]*\\.tmp$', nth: 2 },
  'plan-fsync': { op: 'fsync', match: '\\.plan\\.[^/]*\\.tmp$', nth: 1 },
  'plan-rename': { op: 'rename', match: '\\.plan$', nth: 1 },
  'metadata-open': { op: 'open', match: '\\.json\\.[^/]*\\.tmp$', nth: 1 },
  'metadata-written': { op: 'writeChunk', match: '\\.json\\.[^/]*\\.tmp$', nth: 1 },
  'metadata-rename': { op: 'rename', match: '\\.json$', nth: 1 },
  'after-commit': { op: 'fsync', match: '/engines$', nth: 2 },
};

class Worker {
  readonly child: ChildProcess;
  readonly messages: WorkerMessage[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr = '';
  #waiters: Array<() => void> = [];

  constructor(runtime: WorkerRuntime, config: Record<string, unknown>) {
    this.child = fork(workerPath, [JSON.stringify({ lib: runtime.lib, ext: runtime.ext, ...config })], {
      execArgv: runtime.execArgv,
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.child.on('message', (message: WorkerMessage) => {
      this.messages.push(message);
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
    void this.exited.then(() => {
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  /** The first message of one of `types`; rejects if the worker exits first or after `timeoutMs`. */
  async waitFor(types: WorkerMessage['type'][], timeoutMs = 60_000): Promise<WorkerMessage> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const found = this.messages.find((message) => types.includes(message.type));
      if (found) return found;
      if (this.child.exitCode !== null || this.child.signalCode !== null)
        throw new Error(`worker ${this.child.pid} exited before sending ${types.join('/')}: ${this.stderr}`);
      if (Date.now() > deadline)
        throw new Error(`worker ${this.child.pid} sent no ${types.join('/')} within ${timeoutMs} ms: ${this.stderr}`);
      await new Promise<void>((resolve) => {
        // A cleared timer: a pending one would keep the process alive until the deadline.
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  warnings(): string[] {
    return this.messages
      .filter((message) => message.type === 'warning')
      .map((message) => `${String(message.reason)}: ${String(message.message)}`);
  }
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Files in the cache that should not be there once it is clean: anything but one entry's two files. */
export function leftoverFiles(dir: string): string[] {
  const list = (folder: string) => {
    try {
      return readdirSync(join(dir, folder)).map((name) => `${folder}/${name}`);
    } catch {
      return [];
    }
  };
  const engines = list('engines');
  const referenced = new Set<string>();
  for (const name of engines.filter((file) => /^engines\/[0-9a-f]{64}\.json$/.test(file))) {
    referenced.add(name);
    try {
      referenced.add(`engines/${(JSON.parse(readFileSync(join(dir, name), 'utf8')) as { plan: { file: string } }).plan.file}`);
    } catch {
      // an unparsable metadata file names no plan
    }
  }
  return [...engines.filter((file) => !referenced.has(file)), ...list('locks'), ...list('timing')];
}

export interface RaceOutcome {
  builds: number;
  hits: number;
  distinctPlans: number;
  warnings: string[];
  problems: string[];
}

/** `racers` processes call getOrBuild on one key at the same instant: exactly one may build. */
export async function raceBuilders({
  runtime,
  dir,
  racers,
  seed,
  buildMs = 200,
  planBytes = 1 << 20,
}: {
  runtime: WorkerRuntime;
  dir: string;
  racers: number;
  seed: number;
  buildMs?: number;
  planBytes?: number;
}): Promise<RaceOutcome> {
  const buildLog = `${dir}.builds-${seed}.log`;
  const workers = Array.from(
    { length: racers },
    () => new Worker(runtime, { dir, seed, planBytes, mode: 'race', buildMs, buildLog }),
  );
  try {
    await Promise.all(workers.map((worker) => worker.waitFor(['ready'])));
    for (const worker of workers) worker.child.send('go');
    const results = await Promise.all(workers.map((worker) => worker.waitFor(['done'])));
    const exits = await Promise.all(workers.map((worker) => worker.exited));
    const builders = readFileSync(buildLog, 'utf8').split('\n').filter(Boolean);
    const outcome: RaceOutcome = {
      builds: builders.length,
      hits: results.filter((result) => result.hit === true).length,
      distinctPlans: new Set(results.map((result) => result.sha256)).size,
      warnings: workers.flatMap((worker) => worker.warnings()),
      problems: [],
    };
    if (outcome.builds !== 1)
      outcome.problems.push(`${outcome.builds} processes built the engine (pids ${builders.join(', ')}), expected exactly 1`);
    if (outcome.hits !== racers - 1)
      outcome.problems.push(`${outcome.hits} of ${racers} got a cache hit, expected ${racers - 1}`);
    if (outcome.distinctPlans !== 1) outcome.problems.push(`the racers received ${outcome.distinctPlans} different plans`);
    const builderPid = Number(builders[0]);
    const expected = sha256(planFor(seed, builderPid, planBytes));
    if (results.some((result) => result.sha256 !== expected || result.builder !== builderPid))
      outcome.problems.push('a racer received a plan other than the one built');
    if (exits.some((exit) => exit.code !== 0))
      outcome.problems.push(`worker exit codes ${exits.map((exit) => exit.code).join(', ')}`);
    if (outcome.warnings.length > 0) outcome.problems.push(`unexpected warnings: ${outcome.warnings.join('; ')}`);
    const leftovers = leftoverFiles(dir);
    if (leftovers.length > 0) outcome.problems.push(`files left behind: ${leftovers.join(', ')}`);
    return outcome;
  } finally {
    for (const worker of workers) worker.child.kill('SIGKILL');
  }
}

/** Milliseconds from a writer's "ready" to its entry being written, undisturbed (to aim random kills). */
export async function timeUndisturbedWrite({
  runtime,
  dir,
  seed,
  planBytes = 10 << 20,
}: {
  runtime: WorkerRuntime;
  dir: string;
  seed: number;
  planBytes?: number;
}): Promise<number> {
  const worker = new Worker(runtime, { dir, seed, planBytes, mode: 'write' });
  try {
    await worker.waitFor(['ready']);
    const started = performance.now();
    await worker.waitFor(['done']);
    return performance.now() - started;
  } finally {
    worker.child.kill('SIGKILL');
    await worker.exited;
  }
}

export interface KillOutcome {
  /** The step the writer was stopped at, or "random" / "completed" (the writer finished before the kill). */
  killedAt: string;
  /** Whether the killed writer's entry was complete and served afterwards. */
  entrySurvived: boolean;
  warnings: string[];
  problems: string[];
}

/**
 * A writer is SIGKILLed at `pauseAt` (or after `killAfterMs`), then this process checks that no
 * corrupt entry is ever loaded, that getOrBuild rebuilds (or serves the complete entry), and that
 * nothing the dead writer left behind survives the next write (or prune).
 */
export async function killDuringWrite({
  runtime,
  dir,
  seed,
  pauseAt,
  killAfterMs = 0,
  planBytes = 10 << 20,
}: {
  runtime: WorkerRuntime;
  dir: string;
  seed: number;
  pauseAt?: string;
  killAfterMs?: number;
  planBytes?: number;
}): Promise<KillOutcome> {
  const point = pauseAt === undefined ? undefined : killPoints[pauseAt];
  if (pauseAt !== undefined && !point) throw new Error(`unknown kill point ${pauseAt}`);
  const worker = new Worker(runtime, { dir, seed, planBytes, mode: 'write', pauseAt: point });
  let killedAt = pauseAt ?? 'random';
  try {
    await worker.waitFor(['ready']);
    if (point) await worker.waitFor(['paused']);
    else await sleep(killAfterMs);
  } finally {
    worker.child.kill('SIGKILL');
  }
  const exit = await worker.exited;
  if (exit.signal !== 'SIGKILL') killedAt = 'completed';
  const problems: string[] = [];
  const warnings: CacheWarning[] = [];
  const cache = await EngineCache.open(dir, { onWarning: (warning) => warnings.push(warning) });
  const key = cacheKey(keyPartsFor(seed));
  const writerPlan = sha256(planFor(seed, worker.child.pid!, planBytes));
  const found = await cache.get(key);
  if (found && sha256(found.plan) !== writerPlan)
    problems.push('get() returned a plan other than the one the killed writer built');
  const ourPlan = planFor(seed, process.pid, planBytes);
  const result = await cache.getOrBuild(key, async () => ({ plan: ourPlan, metadata: { builder: process.pid } }));
  if (result.hit !== Boolean(found))
    problems.push(`getOrBuild hit=${result.hit} after get() ${found ? 'found' : 'missed'} the entry`);
  if (sha256(result.plan) !== (found ? writerPlan : sha256(ourPlan))) problems.push('getOrBuild returned the wrong plan');
  // A miss means getOrBuild wrote the entry, and every write cleans up after dead writers; a hit writes nothing, so prune does.
  if (found) await cache.prune();
  const leftovers = leftoverFiles(dir);
  if (leftovers.length > 0) problems.push(`files left behind after ${found ? 'prune' : 'the rebuild'}: ${leftovers.join(', ')}`);
  const again = await cache.get(key);
  if (!again || sha256(again.plan) !== sha256(result.plan)) problems.push('the entry is not served after the rebuild');
  const corrupt = warnings.filter((warning) => warning.details.reason === 'corrupt-entry');
  if (corrupt.length > 0) problems.push(`a corrupt entry was seen: ${corrupt.map((warning) => warning.message).join('; ')}`);
  const unexpected = warnings.filter((warning) => warning.details.reason !== 'stale-lock-broken');
  if (unexpected.length > 0) problems.push(`unexpected warnings: ${unexpected.map((warning) => warning.message).join('; ')}`);
  return {
    killedAt,
    entrySurvived: Boolean(found),
    warnings: warnings.map((warning) => `${warning.details.reason}: ${warning.message}`),
    problems,
  };
}
