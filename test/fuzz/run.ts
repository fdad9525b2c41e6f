/**
 * `npm run fuzz`: every property of test/fuzz/properties with a case budget (default 100,000), then
 * a JSON summary with per-property counts, the seed, the duration and the machine in
 * benchmarks/results/fuzz.json. Exits 1 on any crash or invariant failure, printing the
 * counterexample and the seed that replays it (`npm run fuzz -- --seed <seed> --only <name>`).
 *
 * Options: --budget N, --seed N (default: random), --only <substring of property names>, --out <file>.
 */
import fc from 'fast-check';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadAddon, packageRoot } from '../../lib/addon/loader.js';
import { allocate, runProperty, type PropertyOutcome } from './harness.js';
import { properties } from './properties/index.js';

const { values } = parseArgs({
  options: {
    budget: { type: 'string', default: '100000' },
    seed: { type: 'string' },
    only: { type: 'string' },
    out: { type: 'string', default: join(packageRoot, 'benchmarks', 'results', 'fuzz.json') },
  },
});
const budget = Number(values.budget);
if (!Number.isSafeInteger(budget) || budget < properties.length)
  throw new Error(`--budget must be an integer >= ${properties.length}, got ${values.budget}`);
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
const selected = properties.filter((property) => !values.only || property.name.includes(values.only));
const runs = allocate(properties, budget);

const started = performance.now();
const outcomes: PropertyOutcome[] = [];
for (const property of selected) {
  const numRuns = runs.get(property.name)!;
  process.stderr.write(`${property.name}: ${numRuns} cases... `);
  const outcome = await runProperty(property, numRuns, seed);
  outcomes.push(outcome);
  process.stderr.write(`${outcome.failures ? 'FAILED' : 'ok'} (${(outcome.durationMs / 1000).toFixed(1)} s)\n`);
  if (outcome.failure) process.stderr.write(`${outcome.failure}\n`);
}
const durationSeconds = (performance.now() - started) / 1000;

const packageVersion = (name: string) =>
  (JSON.parse(readFileSync(join(packageRoot, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
const summary = {
  benchmark: 'fuzz',
  createdAt: new Date().toISOString(),
  command: `npm run fuzz -- --budget ${budget} --seed ${seed}${values.only ? ` --only ${JSON.stringify(values.only)}` : ''}`,
  seed,
  budget,
  totalRuns: outcomes.reduce((sum, outcome) => sum + outcome.runs, 0),
  crashes: outcomes.filter((outcome) => outcome.failure?.includes('was killed by')).length,
  invariantFailures: outcomes.reduce((sum, outcome) => sum + outcome.failures, 0),
  durationSeconds: Math.round(durationSeconds * 10) / 10,
  machine: {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 1024 ** 3),
    os: `${process.platform} ${release()}`,
    node: process.version,
    fastCheck: fc.__version,
    onnxruntime: packageVersion('onnxruntime-node'),
    addon: loadAddon().addon.buildInfo(),
  },
  properties: outcomes.map((outcome) => ({ ...outcome, durationMs: Math.round(outcome.durationMs) })),
};
writeFileSync(values.out, `${JSON.stringify(summary, null, 2)}\n`);
process.stderr.write(
  `${summary.totalRuns} cases in ${summary.durationSeconds} s, ${summary.invariantFailures} failures (seed ${seed}); summary in ${values.out}\n`,
);
process.exit(summary.invariantFailures > 0 ? 1 : 0);
