#!/usr/bin/env node
// What measuring coverage adds to `npm test` (issue 14), on this machine, in one run of each:
//
//   emulated tier, fresh build + GoogleTest: build-emulated/ (Release) against build-emulated-coverage/
//     (-O0 --coverage, what .ci/run builds instead);
//   vitest, every project: `vitest run` on build-emulated/ against `vitest run --coverage` on the
//     instrumented build (V8 coverage of lib/ in the test processes, NODE_V8_COVERAGE in the processes
//     they start, gcov counters), then scripts/coverage-summary.mjs --save (the committed summary).
//
// Wall time depends on whoever else uses the machine: CPU seconds (user + sys of the whole process
// tree, from /usr/bin/time) are the steadier figure. Writes benchmarks/results/coverage/overhead.json
// and appends its table to benchmarks/results/coverage/README.md. Options: --skip-builds (reuse both
// builds; only the vitest runs), --only-coverage (the coverage run and the summary, nothing to compare).
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { projectRoot } from '../scripts/lib/process.mjs';

const outDir = join(projectRoot, 'benchmarks', 'results', 'coverage');
const vitest = join(projectRoot, 'node_modules', 'vitest', 'vitest.mjs');
const plainEnv = { ...process.env, TENSORRT_NODE_NATIVE_COVERAGE: '0' };
const coverageEnv = { ...process.env, TENSORRT_NODE_NATIVE_COVERAGE: '1' };

/** Runs a command under /usr/bin/time: wall and CPU seconds of its whole process tree, exit status, vitest's counts. */
function timed(name, args, env) {
  const timeFile = join(tmpdir(), `coverage-overhead-${process.pid}.time`);
  console.error(`\n== ${name}\n$ ${args.join(' ')}`);
  const load = loadavg()[0];
  const result = spawnSync('/usr/bin/time', ['-f', '%e %U %S', '-o', timeFile, ...args], {
    cwd: projectRoot,
    env,
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  const output = stripVTControlCharacters(`${result.stdout}${result.stderr}`);
  process.stderr.write(output.split('\n').slice(-12).join('\n'));
  const [wall, user, system] = readFileSync(timeFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
  rmSync(timeFile, { force: true });
  const tests = /Tests\s+(.*)\n/.exec(output)?.[1]?.trim() ?? null;
  return {
    name,
    command: args.join(' '),
    exitCode: result.status,
    wallSeconds: wall,
    cpuSeconds: Math.round((user + system) * 10) / 10,
    loadAverageAtStart: Math.round(load * 10) / 10,
    tests,
  };
}

const steps = [];
const onlyCoverage = process.argv.includes('--only-coverage');
if (!process.argv.includes('--skip-builds') && !onlyCoverage) {
  for (const [dir, env, name] of [
    ['build-emulated', plainEnv, 'emulated tier: fresh Release build + GoogleTest'],
    ['build-emulated-coverage', coverageEnv, 'emulated tier: fresh instrumented build + GoogleTest'],
  ]) {
    rmSync(join(projectRoot, dir), { recursive: true, force: true });
    steps.push(timed(name, [process.execPath, join(projectRoot, 'scripts', 'test-emulated.mjs'), '--no-vitest'], env));
  }
}
// The instrumented build's counters start from zero for the coverage run.
steps.push(
  timed(
    'emulated tier: GoogleTest on the instrumented build (counters reset)',
    [process.execPath, join(projectRoot, 'scripts', 'test-emulated.mjs'), '--no-vitest', '--no-build'],
    coverageEnv,
  ),
);
steps.push(
  timed(
    'vitest run --coverage (every project, instrumented emulated build)',
    [process.execPath, vitest, 'run', '--coverage'],
    coverageEnv,
  ),
);
steps.push(
  timed(
    'coverage summary (V8 children traced, gcov read)',
    [process.execPath, join(projectRoot, 'scripts', 'coverage-summary.mjs'), '--save'],
    coverageEnv,
  ),
);
if (!onlyCoverage)
  steps.push(timed('vitest run (every project, Release emulated build)', [process.execPath, vitest, 'run'], plainEnv));

const find = (prefix) => steps.find((step) => step.name.startsWith(prefix));
const ratio = (a, b) => (a && b ? Math.round((100 * a) / b) / 100 : null);
const withCoverage = find('vitest run --coverage');
const plain = find('vitest run (every');
const summaryStep = find('coverage summary');
const builds = { plain: find('emulated tier: fresh Release'), instrumented: find('emulated tier: fresh instrumented') };
const result = {
  createdAt: new Date().toISOString(),
  command: `node benchmarks/coverage-overhead.mjs ${process.argv.slice(2).join(' ')}`.trim(),
  machine: {
    os: `${process.platform} ${release()}`,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    note: 'shared with other users: wall times vary with their load, CPU seconds less',
  },
  versions: {
    node: process.version,
    vitest: JSON.parse(readFileSync(join(projectRoot, 'node_modules', 'vitest', 'package.json'), 'utf8')).version,
  },
  steps,
  ratios: {
    vitestCpu: ratio(withCoverage?.cpuSeconds + (summaryStep?.cpuSeconds ?? 0), plain?.cpuSeconds),
    vitestWall: ratio(withCoverage?.wallSeconds + (summaryStep?.wallSeconds ?? 0), plain?.wallSeconds),
    emulatedBuildCpu: ratio(builds.instrumented?.cpuSeconds, builds.plain?.cpuSeconds),
    emulatedBuildWall: ratio(builds.instrumented?.wallSeconds, builds.plain?.wallSeconds),
  },
};
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'overhead.json'), `${JSON.stringify(result, null, 2)}\n`);
const rows = steps.map(
  (step) => `| ${step.name} | ${step.wallSeconds} | ${step.cpuSeconds} | ${step.loadAverageAtStart} | ${step.exitCode} |`,
);
appendFileSync(
  join(outDir, 'README.md'),
  [
    '',
    '## What measuring it costs',
    '',
    `\`${result.command}\`, one run of each on the same machine (shared: the load average of the other users is in the table). CPU seconds cover the whole process tree.`,
    '',
    '| step | wall s | CPU s | load avg | exit |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
    `Coverage run + summary against the plain run: CPU x${result.ratios.vitestCpu ?? '-'}, wall x${result.ratios.vitestWall ?? '-'}; instrumented emulated build against Release: CPU x${result.ratios.emulatedBuildCpu ?? '-'}, wall x${result.ratios.emulatedBuildWall ?? '-'}.`,
    '',
  ].join('\n'),
);
console.log(JSON.stringify(result.ratios));
