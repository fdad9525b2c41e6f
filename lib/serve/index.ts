/**
 * lib/serve: `tensorrt-node serve` as a library: a model repository served over the Open Inference
 * Protocol (REST with the binary tensor data extension, gRPC), Triton-compatible metrics, an API
 * key, hostile-client limits and a graceful drain (tensorrt-node/serve).
 */
export { InferenceServer, type ServerUrls, type CloseResult } from './server.js';
export { DEFAULT_LIMITS, DEFAULT_REQUEST_TIMEOUT_MS, type ServeOptions, type ServedFile, type ServerLimits } from './options.js';
export { loadModelConfig, checkModelConfig, type ModelConfig, type BatcherConfig } from './model-config.js';
export { readRepositoryModel, listRepository, type ModelSource, type ModelVersionSource } from './repository.js';
export { createJsonLogger, silentLogger, type Logger, type LogLevel } from './logger.js';
export type { ModelDefaults } from './models.js';
