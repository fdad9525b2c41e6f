/** Facts about the machine the tests run on, so tiers can skip honestly instead of faking. */
import { tryLoadAddon } from '../../lib/addon/loader.js';
import { NativeLoadError } from '../../lib/core/errors.js';

const loaded = tryLoadAddon();
export const addon = loaded instanceof NativeLoadError ? null : loaded.addon;
export const addonLoadError = loaded instanceof NativeLoadError ? loaded : null;
export const cudaCompiled = Boolean(addon?.buildInfo().cuda.compiled);
export const cudaProbe = addon?.cudaProbe?.() ?? null;
/** True only on a machine with a driver and at least one CUDA device. */
export const hasGpu = cudaProbe !== null && cudaProbe.error === null && cudaProbe.deviceCount > 0;
export const hasNoDriver = cudaProbe !== null && cudaProbe.driverVersion === 0;

/**
 * How much slower than normal this run is: scripts/test-sanitizers.mjs sets it for ASan and valgrind,
 * where every child node process runs instrumented. Timeouts of spawned processes scale with it.
 */
export const slowdown = Math.max(1, Number(process.env.TENSORRT_NODE_TEST_SLOWDOWN ?? 1) || 1);
