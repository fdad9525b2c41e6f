/**
 * `npm run stress:cache`: the engine cache's crash and concurrency scenarios, many times in a row
 * (issue 10: "SIGKILL-during-write and concurrent-builder tests pass 100 times in a row").
 *
 * Each iteration runs, in a fresh cache folder:
 * - a writer SIGKILLed at one step of writing an entry (cycling through every step of
 *   test/helpers/cache-scenarios.ts killPoints, plus kills at a random time within 1.1x an
 *   undisturbed write, measured first), after which this
 *   process checks that no corrupt entry is ever loaded, the engine is rebuilt or served whole, and
 *   nothing the dead writer left survives;
 * - `--racers` processes asking for one engine at the same instant: exactly one may build.
 *
 * Workers run against dist/ (bare node starts in a tenth of tsx's time; the npm script builds first).
 * Writes a JSON summary with the machine and versions to benchmarks/results/cache-stress.json and
 * exits 1 if any iteration failed.
 *
 * Options: --iterations N (100), --racers N (4), --dir <folder> (os.tmpdir(); put it on the file
 * system to test), --runtime dist|source, --out <file>.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { packageRoot } from '../lib/addon/loader.js';
import {
  distRuntime,
  killDuringWrite,
  killPoints,
  raceBuilders,
  sourceRuntime,
  timeUndisturbedWrite,
} from '../test/helpers/cache-scenarios.js';

const { values } = parseArgs({
  options: {
    iterations: { type: 'string', default: '100' },
    racers: { type: 'string', default: '4' },
    dir: { type: 'string', default: tmpdir() },
    runtime: { type: 'string', default: 'dist' },
    out: { type: 'string', default: join(packageRoot, 'benchmarks', 'results', 'cache-stress.json') },
  },
});
const iterations = Number(values.iterations);
const racers = Number(values.racers);
if (!Number.isSafeInteger(iterations) || iterations < 1)
  throw new Error(`--iterations must be a positive integer, got ${values.iterations}`);
if (!Number.isSafeInteger(racers) || racers < 2) throw new Error(`--racers must be an integer >= 2, got ${values.racers}`);
if (values.runtime !== 'dist' && values.runtime !== 'source')
  throw new Error(`--runtime must be dist or source, got ${values.runtime}`);
const runtime = values.runtime === 'dist' ? distRuntime : sourceRuntime;

const base = mkdtempSync(join(values.dir, 'tensorrt-node-cache-stress-'));
const fileSystem = spawnSync('stat', ['-f', '-c', '%T', base], { encoding: 'utf8' }).stdout.trim() || 'unknown';
// Every exact step once per cycle, and random times three times as often (they land anywhere, including between steps).
const killKinds = [...Object.keys(killPoints), 'random', 'random', 'random'];

interface Failure {
  iteration: number;
  scenario: string;
  problems: string[];
}

const failures: Failure[] = [];
const byKillPoint: Record<string, { runs: number; passed: number; entrySurvived: number; writerFinishedFirst: number }> = {};
const race = { runs: 0, passed: 0, builds: 0, hits: 0 };
// Random kills are aimed over the whole write: from its start to a little past its usual end.
const writeTimes: number[] = [];
for (let run = 0; run < 3; run++)
  writeTimes.push(await timeUndisturbedWrite({ runtime, dir: join(base, `calibrate-${run}`), seed: -1 - run }));
// The fastest of three: noise (cold caches, other processes) only ever slows a write down, and a
// window aimed too late mostly kills writers that already finished.
const randomKillWindowMs = Math.ceil(Math.min(...writeTimes) * 1.1);
let passedInARow = 0;
let longestRun = 0;
const started = performance.now();

for (let iteration = 0; iteration < iterations; iteration++) {
  const kind = killKinds[iteration % killKinds.length]!;
  const stats = (byKillPoint[kind] ??= { runs: 0, passed: 0, entrySurvived: 0, writerFinishedFirst: 0 });
  let iterationPassed = true;
  const record = (scenario: string, problems: string[]) => {
    if (problems.length === 0) return true;
    failures.push({ iteration, scenario, problems });
    iterationPassed = false;
    return false;
  };
  try {
    const killed = await killDuringWrite({
      runtime,
      dir: join(base, `kill-${iteration}`),
      seed: iteration,
      ...(kind === 'random' ? { killAfterMs: Math.floor(Math.random() * randomKillWindowMs) } : { pauseAt: kind }),
    });
    stats.runs++;
    if (killed.entrySurvived) stats.entrySurvived++;
    if (killed.killedAt === 'completed') stats.writerFinishedFirst++;
    if (record(`kill at ${kind}`, killed.problems)) stats.passed++;
  } catch (error) {
    stats.runs++;
    record(`kill at ${kind}`, [String(error)]);
  }
  try {
    const raced = await raceBuilders({ runtime, dir: join(base, `race-${iteration}`), racers, seed: 1_000_000 + iteration });
    race.runs++;
    race.builds += raced.builds;
    race.hits += raced.hits;
    if (record('concurrent builders', raced.problems)) race.passed++;
  } catch (error) {
    race.runs++;
    record('concurrent builders', [String(error)]);
  }
  passedInARow = iterationPassed ? passedInARow + 1 : 0;
  longestRun = Math.max(longestRun, passedInARow);
  rmSync(join(base, `kill-${iteration}`), { recursive: true, force: true });
  rmSync(join(base, `race-${iteration}`), { recursive: true, force: true });
  process.stdout.write(
    `${iteration + 1}/${iterations} kill at ${kind}: ${stats.runs === stats.passed ? 'ok' : 'FAILED'}; ${racers} racers: ${race.runs === race.passed ? 'ok' : 'FAILED'}\n`,
  );
}
rmSync(base, { recursive: true, force: true });

const packageJson = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string };
const summary = {
  suite: 'cache-stress',
  date: new Date().toISOString(),
  passed: failures.length === 0,
  iterations,
  longestRunOfPassingIterations: longestRun,
  durationSeconds: Math.round((performance.now() - started) / 100) / 10,
  killDuringWrite: {
    runs: Object.values(byKillPoint).reduce((sum, point) => sum + point.runs, 0),
    passed: Object.values(byKillPoint).reduce((sum, point) => sum + point.passed, 0),
    randomKillWindowMs,
    undisturbedWriteMs: writeTimes.map((time) => Math.round(time)),
    checks:
      'after the SIGKILL: get() never returns a corrupt or foreign plan and never reports a corrupt entry; getOrBuild rebuilds (or serves the complete entry); no temporary file, orphaned plan or lock survives the next write (or prune)',
    byKillPoint,
  },
  concurrentBuilders: {
    ...race,
    racersPerRun: racers,
    checks: 'exactly one build per run, every other racer hits, all receive the same plan, no warnings, no leftovers',
  },
  failures,
  environment: {
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      kernel: release(),
      cacheFileSystem: fileSystem,
    },
    node: process.version,
    package: packageJson.version,
    workerRuntime: values.runtime,
  },
};
mkdirSync(dirname(values.out), { recursive: true });
writeFileSync(values.out, `${JSON.stringify(summary, null, 2)}\n`);
process.stdout.write(
  `${summary.passed ? 'PASSED' : 'FAILED'}: ${iterations} iterations, longest passing run ${longestRun}, ${summary.durationSeconds} s; summary in ${values.out}\n`,
);
if (!summary.passed) process.exitCode = 1;
