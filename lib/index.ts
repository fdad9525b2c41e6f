/**
 * tensorrt-node: NVIDIA TensorRT and CUDA for Node.js.
 * The public API; everything else in lib/ is an implementation detail.
 */
export * from './errors.js';
export { capabilities, type Capabilities, type CapabilitiesOptions, type DeviceInfo, type Problem } from './capabilities.js';
export { packageVersion as version } from './native.js';
export type { BuildInfo } from './native.js';
export { Engine, type EngineLoadOptions } from './engine.js';
export type { EngineMetadata, EngineTensorInfo, EngineProfile, ProfileBounds } from './engine-metadata.js';
export { diagnoseEngineLoadFailure, type EngineIncompatibility } from './engine-diagnosis.js';
export * from './dtypes.js';
export {
  EngineCache,
  cacheKey,
  hashFile,
  CacheWarning,
  defaultCacheDirectory,
  ENGINE_BUILD_OPTION_NAMES,
  NON_ENGINE_BUILD_OPTION_NAMES,
  type EngineCacheOptions,
  type CacheKey,
  type CacheKeyParts,
  type CacheEntryInfo,
  type CacheWarningReason,
  type TimingCacheFile,
  type BuiltEngine,
  type GetOrBuildResult,
} from './cache.js';
