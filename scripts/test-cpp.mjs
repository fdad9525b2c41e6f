#!/usr/bin/env node
// Builds and runs the GoogleTest suite for the native core (no Node, no GPU needed) in build-tests/.
// Without GoogleTest (Debian: libgtest-dev) it skips with a message, unless
// TENSORRT_NODE_REQUIRE_GTEST=1 (set by .ci/run), where a skip would hide a broken CI machine.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot, run } from './lib/process.mjs';

const sanitize = process.argv.includes('--sanitize') ? 'ON' : 'OFF';
// Sanitized objects cannot be mixed with plain ones: each flavour keeps its own build folder.
const buildDir = join(projectRoot, sanitize === 'ON' ? 'build-tests-asan' : 'build-tests');
const gtestInstalled = [
  '/usr/lib/x86_64-linux-gnu/cmake/GTest',
  '/usr/lib/aarch64-linux-gnu/cmake/GTest',
  '/usr/lib/cmake/GTest',
  '/usr/local/lib/cmake/GTest',
].some(existsSync);
if (!gtestInstalled) {
  const message = 'GoogleTest is not installed (Debian/Ubuntu: apt-get install libgtest-dev); native core tests skipped';
  if (/^(1|true)$/i.test(process.env.TENSORRT_NODE_REQUIRE_GTEST ?? '')) {
    console.error(`test:cpp: ${message}, but TENSORRT_NODE_REQUIRE_GTEST is set`);
    process.exit(1);
  }
  console.warn(`test:cpp: ${message}.`);
  process.exit(0);
}

run('cmake', [
  '-S',
  projectRoot,
  '-B',
  buildDir,
  '-DTRT_NODE_BUILD_TESTS=ON',
  `-DTRT_NODE_SANITIZE=${sanitize}`,
  '-DCMAKE_BUILD_TYPE=Debug',
  '-Wno-dev',
  '--log-level=WARNING',
]);
run('cmake', ['--build', buildDir, '--parallel', '2', '--target', 'tensorrt_node_tests']);
const ctest = spawnSync('ctest', ['--test-dir', buildDir, '--output-on-failure'], { stdio: 'inherit' });
process.exit(ctest.status ?? 1);
