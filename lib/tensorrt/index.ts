/**
 * lib/tensorrt: the TensorRT runtime: engines (load, metadata, diagnosis of load failures), execution
 * contexts (runs, bindings, CUDA graphs, phase timing, layer profiles), optimization profiles and
 * TensorRT's log.
 */
export { Engine, type EngineLoadOptions } from './engine.js';
export {
  ExecutionContext,
  type ContextOptions,
  type ContextRunOptions,
  type ContextRunResult,
  type BoundOutput,
  type LayerProfile,
  type LayerProfileOptions,
  type LayerTime,
  type CudaGraphStatus,
} from './execution-context.js';
export type { ContextFeed, ContextFeeds } from './bindings.js';
export type { RunTiming } from './timing.js';
export type { ProfileSpec } from './profiles.js';
export {
  setTensorRTLogger,
  logSeverities,
  type LogSeverity,
  type TensorRTLogger,
  type TensorRTLogMessage,
  type TensorRTLoggerOptions,
} from './log.js';
export type { EngineIncompatibility } from './diagnosis.js';
