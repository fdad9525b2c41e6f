import { describe, expect, it } from 'vitest';
import { cudaAddonOf } from '../../lib/cuda/addon.js';
import { TensorRTNodeError } from '../../lib/core/errors.js';
import type { BuildInfo, NativeAddon } from '../../lib/addon/types.js';
import { expectErrorSync } from '../helpers/expect-error.js';

// An addon object as a CPU-only build exports it: no CUDA members, and buildInfo() saying why.
function cpuOnlyAddon(missingReason: string | null): NativeAddon {
  const buildInfo = {
    cuda: { compiled: false, toolkitVersion: null, architectures: null, missingReason },
  } as unknown as BuildInfo;
  return { buildInfo: () => buildInfo } as unknown as NativeAddon;
}

describe('the CUDA layer in a build without CUDA', () => {
  it('BAD CALL - every CUDA call fails with ERR_NOT_SUPPORTED naming why CUDA was left out', () => {
    const error = expectErrorSync(
      () => cudaAddonOf(cpuOnlyAddon('CUDA was disabled by the TENSORRT_NODE_DISABLE_CUDA environment variable')),
      TensorRTNodeError,
      'ERR_NOT_SUPPORTED',
      'CUDA is not available in this build of tensorrt-node: CUDA was disabled by the TENSORRT_NODE_DISABLE_CUDA environment variable. Install the CUDA toolkit (nvcc on PATH) and run `npm rebuild tensorrt-node`.',
    ) as TensorRTNodeError;
    expect(error.details).toEqual({ missingReason: 'CUDA was disabled by the TENSORRT_NODE_DISABLE_CUDA environment variable' });
  });
});
