#!/usr/bin/env node
// gcov line coverage of native/ under the emulated device tier alone (issue 14): the tier of
// scripts/test-emulated.mjs (its GoogleTest suite and the vitest project `emulated`) on the
// gcov-instrumented build (build-emulated-coverage/), then scripts/coverage-summary.mjs's native/ part.
// `npm test` under .ci/run measures the same on the way (TENSORRT_NODE_NATIVE_COVERAGE=1); this is
// the quick way to see native/ alone. Options: --no-build, --no-run (only summarize the counters
// already there), --save (write the committed summary too).
//
// Test failures are reported but do not stop the summary (coverage of a failing run is still
// information); the exit status is the tests'.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from './lib/process.mjs';

const env = { ...process.env, TENSORRT_NODE_NATIVE_COVERAGE: '1' };
let status = 0;
if (!process.argv.includes('--no-run')) {
  const tier = spawnSync(
    process.execPath,
    [join(projectRoot, 'scripts', 'test-emulated.mjs'), ...(process.argv.includes('--no-build') ? ['--no-build'] : [])],
    { stdio: 'inherit', cwd: projectRoot, env },
  );
  status = tier.status ?? 1;
}
const summary = spawnSync(
  process.execPath,
  [join(projectRoot, 'scripts', 'coverage-summary.mjs'), '--native-only', ...(process.argv.includes('--save') ? ['--save'] : [])],
  { stdio: 'inherit', cwd: projectRoot, env },
);
process.exit(status || (summary.status ?? 1));
