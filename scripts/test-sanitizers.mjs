#!/usr/bin/env node
// Native memory safety runs (issue 10, part 4), writing their summaries to
// benchmarks/results/reliability/<tool>.json:
//
//   npm run test:asan       AddressSanitizer + UndefinedBehaviorSanitizer:
//     1. the GoogleTest suite built with -DTRT_NODE_SANITIZE=ON (build-tests-asan/), leak checking on;
//     2. the addon built the same way (build-asan/), loaded into node with GCC's libasan preloaded,
//        running the test/native tier, the native-argument fuzzer and the bad-input matrix.
//     3. the emulated device tier (scripts/test-emulated.mjs --sanitize, build-emulated-asan/): its
//        GoogleTest suite (leak checking on), then the vitest project `emulated` in node with libasan.
//        --emulated-only runs just this part.
//   npm run test:valgrind   memcheck:
//     1. the GoogleTest suite (build-tests/), full leak checking;
//     2. node with the normal addon (build/Release) running the test/native tier and the fuzzer.
//
// Anything reported counts as an error of ours unless a documented suppression below says it is
// node's or V8's own (sanitizers/*.supp). The run fails on any unsuppressed report.
//
// Options: --no-build (reuse existing builds), --fuzz-cases N (default 20000 under ASan, 2000
// under valgrind), --skip-matrix.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { projectRoot } from './lib/process.mjs';

const tool = process.argv[2];
if (tool !== 'asan' && tool !== 'valgrind') {
  console.error('Usage: node scripts/test-sanitizers.mjs asan|valgrind [--no-build] [--fuzz-cases N] [--skip-matrix]');
  process.exit(2);
}
const option = (name) => {
  const index = process.argv.indexOf(name);
  return index < 0 ? undefined : process.argv[index + 1];
};
const build = !process.argv.includes('--no-build');
const fuzzCases = Number(option('--fuzz-cases') ?? (tool === 'asan' ? 20000 : 2000));
const logs = mkdtempSync(join(tmpdir(), `tensorrt-node-${tool}-`));
const suppressionsDir = join(projectRoot, 'scripts', 'sanitizers');
const steps = [];

function execute(name, command, args, env = {}) {
  process.stderr.write(`\n== ${name}\n$ ${command} ${args.join(' ')}\n`);
  const started = performance.now();
  const result = spawnSync(command, args, {
    cwd: projectRoot,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  process.stderr.write(output.split('\n').slice(-15).join('\n'));
  const step = {
    name,
    command: [command, ...args].join(' '),
    exitCode: result.status,
    signal: result.signal,
    durationSeconds: Math.round((performance.now() - started) / 100) / 10,
  };
  steps.push(step);
  return { ...step, output };
}

/** Counts per kind of report in the sanitizer or valgrind log files written under `prefix`. */
function scanLogs(prefix) {
  const reports = [];
  for (const file of readdirSync(logs).filter((name) => name.startsWith(prefix))) {
    const text = readFileSync(join(logs, file), 'utf8');
    for (const match of text.matchAll(/^(?:==\d+==ERROR: (AddressSanitizer: [^\n]+)|.*?: runtime error: ([^\n]+))/gm))
      reports.push({ file, report: match[1] ?? `UndefinedBehaviorSanitizer: ${match[2]}` });
    const summary = /ERROR SUMMARY: (\d+) errors from (\d+) contexts \(suppressed: (\d+) from (\d+)\)/.exec(text);
    if (summary && Number(summary[1]) > 0) reports.push({ file, report: summary[0] });
  }
  return reports;
}

function vitestCounts(output) {
  const plain = stripVTControlCharacters(output);
  const tests = /Tests\s+(?:\S+\s+)?(\d+) passed(?:\S*\s*\|\s*(\d+) skipped)?/.exec(plain);
  const failed = /(\d+) failed/.exec(plain);
  return {
    passed: tests ? Number(tests[1]) : 0,
    skipped: tests?.[2] ? Number(tests[2]) : 0,
    failed: failed ? Number(failed[1]) : 0,
  };
}

const results = { gtest: null, native: null, fuzz: null, matrix: null, emulatedGtest: null, emulated: null };
const emulatedOnly = process.argv.includes('--emulated-only');

if (tool === 'asan' && emulatedOnly) {
  results.gtest = undefined;
  results.native = undefined;
  results.fuzz = undefined;
  results.matrix = undefined;
}

// GCC's ASan runtime, preloaded into node (both ASan tiers below).
const libasan = tool === 'asan' ? spawnSync('g++', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).stdout.trim() : '';

if (tool === 'asan' && !emulatedOnly) {
  // GoogleTest binary: ours entirely, so leak checking stays on.
  const gtest = execute(
    'GoogleTest suite under ASan+UBSan (leak checking on)',
    process.execPath,
    ['scripts/test-cpp.mjs', '--sanitize'],
    {
      ASAN_OPTIONS: `detect_leaks=1:halt_on_error=1:log_path=${join(logs, 'gtest-asan')}`,
      UBSAN_OPTIONS: `print_stacktrace=1:halt_on_error=1:log_path=${join(logs, 'gtest-ubsan')}`,
    },
  );
  const ctest = /(\d+)% tests passed, (\d+) tests failed out of (\d+)/.exec(gtest.output);
  results.gtest = {
    exitCode: gtest.exitCode,
    tests: ctest ? Number(ctest[3]) : 0,
    failed: ctest ? Number(ctest[2]) : null,
    reports: scanLogs('gtest-'),
  };

  if (build) {
    execute(
      'addon built with -DTRT_NODE_SANITIZE=ON',
      'npx',
      ['cmake-js', 'compile', '--out', 'build-asan', '--CDTRT_NODE_SANITIZE=ON'],
      { TENSORRT_NODE_CUDA_ARCHITECTURES: process.env.TENSORRT_NODE_CUDA_ARCHITECTURES ?? '80-real' },
    );
  }
  // In node: libasan must come first (preloaded); LeakSanitizer is off because node and V8 keep
  // their heaps until exit on purpose (see scripts/sanitizers/README.md), and everything else is on.
  const env = {
    LD_PRELOAD: libasan,
    ASAN_OPTIONS: `detect_leaks=0:halt_on_error=1:detect_stack_use_after_return=0:suppressions=${join(suppressionsDir, 'asan.supp')}:log_path=${join(logs, 'node-asan')}`,
    UBSAN_OPTIONS: `print_stacktrace=1:halt_on_error=1:suppressions=${join(suppressionsDir, 'ubsan.supp')}:log_path=${join(logs, 'node-ubsan')}`,
    TENSORRT_NODE_ADDON: join(projectRoot, 'build-asan', 'Release', 'tensorrt_node.node'),
    TENSORRT_NODE_TEST_SLOWDOWN: '4',
  };
  const native = execute('test/native tier, addon under ASan+UBSan', 'npx', ['vitest', 'run', '--project', 'native'], env);
  results.native = { exitCode: native.exitCode, ...vitestCounts(native.output) };
  const fuzz = execute(
    `native-argument fuzzer (${fuzzCases} cases) under ASan+UBSan`,
    process.execPath,
    ['--import', 'tsx', 'test/fuzz/native-child.ts', String(fuzzCases), '20261128'],
    env,
  );
  results.fuzz = {
    exitCode: fuzz.exitCode,
    ...(() => {
      try {
        const report = JSON.parse(fuzz.output.slice(fuzz.output.indexOf('{')));
        return { runs: report.runs, failure: report.failure };
      } catch {
        return { runs: 0, failure: fuzz.output.slice(-2000) };
      }
    })(),
  };
  if (!process.argv.includes('--skip-matrix')) {
    const matrix = execute(
      'bad-input matrix, untrusted files and the CI fuzz share, addon under ASan+UBSan',
      'npx',
      ['vitest', 'run', '--project', 'matrix'],
      env,
    );
    results.matrix = { exitCode: matrix.exitCode, ...vitestCounts(matrix.output) };
  }
  results.nodeReports = scanLogs('node-');
}

if (tool === 'asan') {
  // The emulated device tier: the CUDA layer, the kernels and (with TensorRT headers) the TensorRT
  // wrapper running for real on the emulated device, so use after free by queued work shows here.
  const gtest = execute(
    'emulated tier: build-emulated-asan/ and its GoogleTest suite under ASan+UBSan (leak checking on)',
    process.execPath,
    ['scripts/test-emulated.mjs', '--sanitize', '--no-vitest', ...(build ? [] : ['--no-build'])],
    {
      ASAN_OPTIONS: `detect_leaks=1:halt_on_error=1:log_path=${join(logs, 'emulated-gtest-asan')}`,
      UBSAN_OPTIONS: `print_stacktrace=1:halt_on_error=1:log_path=${join(logs, 'emulated-gtest-ubsan')}`,
    },
  );
  const ctest = /(\d+)% tests passed, (\d+) tests failed out of (\d+)/.exec(gtest.output);
  results.emulatedGtest = {
    exitCode: gtest.exitCode,
    tests: ctest ? Number(ctest[3]) : 0,
    failed: ctest ? Number(ctest[2]) : null,
    reports: scanLogs('emulated-gtest-'),
  };
  const emulated = execute(
    'emulated tier: vitest project emulated, addon under ASan+UBSan',
    'npx',
    ['vitest', 'run', '--project', 'emulated'],
    {
      LD_PRELOAD: libasan,
      ASAN_OPTIONS: `detect_leaks=0:halt_on_error=1:detect_stack_use_after_return=0:suppressions=${join(suppressionsDir, 'asan.supp')}:log_path=${join(logs, 'emulated-node-asan')}`,
      UBSAN_OPTIONS: `print_stacktrace=1:halt_on_error=1:suppressions=${join(suppressionsDir, 'ubsan.supp')}:log_path=${join(logs, 'emulated-node-ubsan')}`,
      TENSORRT_NODE_ADDON: join(projectRoot, 'build-emulated-asan', 'Release', 'tensorrt_node.node'),
      TENSORRT_NODE_TEST_SLOWDOWN: '4',
    },
  );
  results.emulated = { exitCode: emulated.exitCode, ...vitestCounts(emulated.output), reports: scanLogs('emulated-node-') };
} else {
  const valgrind = ['--tool=memcheck', '--error-exitcode=99'];
  if (build) execute('GoogleTest suite (build-tests/)', process.execPath, ['scripts/test-cpp.mjs']);
  const gtest = execute('GoogleTest suite under valgrind (full leak checking)', 'valgrind', [
    ...valgrind,
    '--leak-check=full',
    '--show-leak-kinds=definite,indirect',
    '--errors-for-leak-kinds=definite,indirect',
    `--log-file=${join(logs, 'gtest-vg.%p.log')}`,
    join('build-tests', 'native', 'tests', 'tensorrt_node_tests'),
  ]);
  results.gtest = {
    exitCode: gtest.exitCode,
    tests: Number(/\[ {2}PASSED {2}\] (\d+) tests/.exec(gtest.output)?.[1] ?? 0),
    reports: scanLogs('gtest-vg'),
  };
  if (build) execute('addon and dist/', 'npm', ['run', 'build']);
  // node under memcheck: V8's JIT code and its conservative stack scanning read memory memcheck
  // cannot follow; those reports are node's own and suppressed (scripts/sanitizers/node.supp).
  const nodeValgrind = [
    ...valgrind,
    '--leak-check=no',
    `--suppressions=${join(suppressionsDir, 'node.supp')}`,
    '--trace-children=yes',
    '--trace-children-skip=*esbuild*,*/sh,*/bash,*/ldconfig*,*/cc,*/cc1,*/gcc,*/as,*/ld,*/collect2,*/ld.bfd',
    `--log-file=${join(logs, 'node-vg.%p.log')}`,
  ];
  // Every node (vitest's forks, the children the tests spawn) runs under memcheck, 20-50x slower.
  const slow = { TENSORRT_NODE_TEST_SLOWDOWN: '30' };
  const native = execute(
    'test/native tier in node under valgrind',
    'valgrind',
    [
      ...nodeValgrind,
      process.execPath,
      'node_modules/vitest/vitest.mjs',
      'run',
      '--project',
      'native',
      '--pool=forks',
      '--testTimeout=900000',
      '--hookTimeout=900000',
    ],
    slow,
  );
  results.native = { exitCode: native.exitCode, ...vitestCounts(native.output) };
  const fuzz = execute(`native-argument fuzzer (${fuzzCases} cases) in node under valgrind`, 'valgrind', [
    ...nodeValgrind,
    process.execPath,
    '--import',
    'tsx',
    'test/fuzz/native-child.ts',
    String(fuzzCases),
    '20261128',
  ]);
  results.fuzz = {
    exitCode: fuzz.exitCode,
    ...(() => {
      try {
        const report = JSON.parse(fuzz.output.slice(fuzz.output.indexOf('{"runs"')));
        return { runs: report.runs, failure: report.failure };
      } catch {
        return { runs: 0, failure: fuzz.output.slice(-2000) };
      }
    })(),
  };
  results.nodeReports = scanLogs('node-vg');
}

const errors = [
  ...(results.gtest?.reports ?? []),
  ...(results.nodeReports ?? []),
  ...(results.emulatedGtest?.reports ?? []),
  ...(results.emulated?.reports ?? []),
];
const testsFailed = steps.some((step) => step.exitCode !== 0 || step.signal);
const versions = {
  node: process.version,
  compiler: spawnSync('g++', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0],
  valgrind: tool === 'valgrind' ? spawnSync('valgrind', ['--version'], { encoding: 'utf8' }).stdout.trim() : undefined,
};
const summary = {
  tool: tool === 'asan' ? 'AddressSanitizer + UndefinedBehaviorSanitizer (GCC)' : 'valgrind memcheck',
  createdAt: new Date().toISOString(),
  command: `npm run test:${tool}${emulatedOnly ? ' -- --emulated-only' : ''}`,
  clean: errors.length === 0 && !testsFailed,
  errors: errors.length,
  reports: errors,
  results,
  steps,
  suppressions: readFileSync(join(suppressionsDir, tool === 'asan' ? 'asan.supp' : 'node.supp'), 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('# WHY:'))
    .map((line) => line.slice('# WHY:'.length).trim()),
  environment: {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 1024 ** 3),
    kernel: release(),
    ...versions,
  },
};
const outDir = join(projectRoot, 'benchmarks', 'results', 'reliability');
mkdirSync(outDir, { recursive: true });
// --emulated-only is a partial run: it must not replace the full run's summary.
const summaryName = `${tool}${emulatedOnly ? '-emulated' : ''}.json`;
writeFileSync(join(outDir, summaryName), `${JSON.stringify(summary, null, 2)}\n`);
if (summary.clean) rmSync(logs, { recursive: true, force: true });
process.stderr.write(
  `\n${summary.tool}: ${
    summary.clean
      ? 'clean'
      : `${errors.length} reports, failed steps: ${steps
          .filter((step) => step.exitCode !== 0)
          .map((step) => step.name)
          .join('; ')}; logs kept in ${logs}`
  }; summary in ${join(outDir, summaryName)}\n`,
);
process.exit(summary.clean ? 0 : 1);
