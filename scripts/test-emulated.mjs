#!/usr/bin/env node
// The emulated device tier (issue 14): the real native code (N-API -> CUDA layer -> kernels, and
// TensorRT where its headers are present) on the emulated CUDA device of native/emulated/, which
// runs on the CPU. EMULATION, NOT A GPU: it proves plumbing, lifetimes and protocol, never GPU
// numerics or speed.
//
//   1. builds the addon with -DTRT_NODE_EMULATED_DEVICE=ON into build-emulated/ (no nvcc run), with
//      the GoogleTest suite of the emulated device, the CUDA layer and the kernels' math;
//   2. runs that suite (ctest);
//   3. runs the vitest project `emulated` (test/emulated/), which loads build-emulated's addon.
//
// Options: --no-build (reuse build-emulated/), --sanitize (ASan+UBSan build in build-emulated-asan/;
// used by scripts/test-sanitizers.mjs, which also sets up the environment node needs for it),
// --no-vitest (npm test runs the vitest project `emulated` in its one vitest run), --no-gtest.
//
// TENSORRT_NODE_NATIVE_COVERAGE=1 (.ci/run sets it): the same tier on a gcov-instrumented build
// (build-emulated-coverage/, -O0 --coverage) whose counters start from zero here, so that the run
// measures native/ line coverage on the way (scripts/coverage-summary.mjs reads it; vitest.config.ts
// points the `emulated` project at that build). Ignored with --sanitize.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { resetCounters } from './lib/gcov.mjs';
import { projectRoot, run } from './lib/process.mjs';

const sanitize = process.argv.includes('--sanitize');
const coverage = !sanitize && process.env.TENSORRT_NODE_NATIVE_COVERAGE === '1';
const buildDir = join(projectRoot, sanitize ? 'build-emulated-asan' : coverage ? 'build-emulated-coverage' : 'build-emulated');
const gtestInstalled = [
  '/usr/lib/x86_64-linux-gnu/cmake/GTest',
  '/usr/lib/aarch64-linux-gnu/cmake/GTest',
  '/usr/lib/cmake/GTest',
  '/usr/local/lib/cmake/GTest',
].some(existsSync);
const wantGtest = !process.argv.includes('--no-gtest');
if (wantGtest && !gtestInstalled) {
  const message =
    'GoogleTest is not installed (Debian/Ubuntu: apt-get install libgtest-dev); the emulated GoogleTest suite is skipped';
  if (/^(1|true)$/i.test(process.env.TENSORRT_NODE_REQUIRE_GTEST ?? '')) {
    console.error(`test:emulated: ${message}, but TENSORRT_NODE_REQUIRE_GTEST is set`);
    process.exit(1);
  }
  console.warn(`test:emulated: ${message}.`);
}
const gtest = wantGtest && gtestInstalled;

if (!process.argv.includes('--no-build')) {
  const require = createRequire(join(projectRoot, 'package.json'));
  const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  // configure every time (seconds): `compile` alone would keep the options of the first configuration.
  run(process.execPath, [
    cmakeJs,
    'configure',
    '--out',
    buildDir,
    '--CDTRT_NODE_EMULATED_DEVICE=ON',
    `--CDTRT_NODE_BUILD_TESTS=${gtest ? 'ON' : 'OFF'}`,
    `--CDTRT_NODE_SANITIZE=${sanitize ? 'ON' : 'OFF'}`,
    `--CDTRT_NODE_COVERAGE=${coverage ? 'ON' : 'OFF'}`,
  ]);
  run(process.execPath, [cmakeJs, 'build', '--out', buildDir, '--parallel', '2']);
}

if (coverage) resetCounters(buildDir);
let status = 0;
if (gtest) {
  const ctest = spawnSync('ctest', ['--test-dir', buildDir, '--output-on-failure', '--parallel', '2'], {
    stdio: 'inherit',
    cwd: projectRoot,
  });
  status = ctest.status ?? 1;
}
if (!process.argv.includes('--no-vitest')) {
  const vitest = spawnSync(
    process.execPath,
    [join(projectRoot, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--project', 'emulated'],
    {
      stdio: 'inherit',
      cwd: projectRoot,
      env: {
        ...process.env,
        TENSORRT_NODE_ADDON: join(buildDir, 'Release', 'tensorrt_node.node'),
        TENSORRT_NODE_NATIVE_COVERAGE: coverage ? '1' : '0',
      },
    },
  );
  if (status === 0) status = vitest.status ?? 1;
}
process.exit(status);
