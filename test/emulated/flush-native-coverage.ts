/**
 * vitest setup file of the emulated project in a native coverage run (TENSORRT_NODE_NATIVE_COVERAGE=1):
 * after each test file, the gcov counters of the addon under test are written at once. gcov writes
 * them in exit handlers otherwise, and vitest ends its test processes by a signal, which runs none:
 * the counters of those processes were lost and CI's figure fell below what the tests exercise.
 */
import { afterAll } from 'vitest';
import { rawAddon } from './emulated.js';

afterAll(() => {
  rawAddon().emulatedDevice?.flushCoverage?.();
});
