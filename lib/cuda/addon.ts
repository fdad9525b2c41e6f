/**
 * The CUDA half of the native addon, or the reason there is none. Internal to lib/: cuda.ts,
 * tensor.ts and preprocess.ts call `cudaAddon()` before touching anything on the GPU.
 */
import { ErrorCode, TensorRTNodeError } from '../core/errors.js';
import { loadAddon } from '../addon/loader.js';
import { type NativeAddon } from '../addon/types.js';

type CudaMembers =
  | 'cudaDeviceCount'
  | 'cudaDevice'
  | 'cudaMemoryInfo'
  | 'cudaStreamPriorityRange'
  | 'cudaPointerKind'
  | 'cudaAddressOf'
  | 'cudaAllocationStats'
  | 'StreamWrap'
  | 'EventWrap'
  | 'PinnedBufferWrap'
  | 'DeviceBufferWrap';

/** An addon built with CUDA: every CUDA member is present. */
export type CudaAddon = NativeAddon & Required<Pick<NativeAddon, CudaMembers>>;

/** `addon` when it has the CUDA layer; ERR_NOT_SUPPORTED naming why it was left out otherwise. */
export function cudaAddonOf(addon: NativeAddon): CudaAddon {
  const cuda = addon.buildInfo().cuda;
  if (!cuda.compiled || addon.StreamWrap === undefined) {
    throw new TensorRTNodeError(
      ErrorCode.NOT_SUPPORTED,
      `CUDA is not available in this build of tensorrt-node: ${cuda.missingReason ?? 'the addon has no CUDA layer'}. Install the CUDA toolkit (nvcc on PATH) and run \`npm rebuild tensorrt-node\`.`,
      { details: { missingReason: cuda.missingReason } },
    );
  }
  return addon as CudaAddon;
}

/** The loaded addon's CUDA layer. Throws NativeLoadError (no addon) or ERR_NOT_SUPPORTED (no CUDA). */
export function cudaAddon(): CudaAddon {
  return cudaAddonOf(loadAddon().addon);
}
