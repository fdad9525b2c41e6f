/**
 * The engine cache: TensorRT plans stored by a key that covers everything that changes an engine,
 * written atomically, locked against concurrent builders, checked on every load, with LRU eviction
 * and per-version/per-GPU timing caches. The implementation is split by job under ./cache/.
 */
export {
  EngineCache,
  DEFAULT_MAX_BYTES,
  DEFAULT_LOCK_TIMEOUT_MS,
  DEFAULT_STALE_LOCK_MS,
  type EngineCacheOptions,
  type CachedEngine,
  type BuiltEngine,
  type GetOrBuildResult,
  type WaitOptions,
  type PruneOptions,
  type PruneResult,
  type ClearResult,
} from './store.js';
export type { CacheEntryInfo } from './entries.js';
export type { RemovedEntry, StrayPath } from './maintenance.js';
export {
  cacheKey,
  hashFile,
  ENGINE_BUILD_OPTION_NAMES,
  NON_ENGINE_BUILD_OPTION_NAMES,
  type CacheKey,
  type CacheKeyParts,
  type CanonicalKeyParts,
  type ModelFingerprint,
  type ExternalDataFile,
  type TransformStep,
} from './key.js';
export { defaultCacheDirectory } from './directory.js';
export type { TimingCacheFile } from './timing-cache.js';
export { CacheWarning, type CacheWarningReason, type CacheWarningHandler } from './warnings.js';
