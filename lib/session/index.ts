/**
 * lib/session: InferenceSession for services and batch jobs: the backend choice ('auto', 'tensorrt',
 * 'cpu') through a registry of factories, a scheduler with queue limits, deadlines and aborts over N
 * contexts, the dynamic batcher, zero-copy bindings and Prometheus metrics.
 */
export { InferenceSession, type DisposeOptions } from './inference-session.js';
export { Batcher, type BatcherOptions } from './batcher.js';
export { Binding, type BindingOptions, type BindingRunOptions } from './binding.js';
export { formatPrometheus, type SessionMetricsSnapshot, type HistogramSnapshot } from './metrics.js';
export type { SessionOptions, ModelInput } from './options.js';
export type {
  AnySignature,
  Feeds,
  FeedValue,
  ModelSignature,
  PlainValues,
  Results,
  SessionRunOptions,
  TensorLike,
} from './types.js';
export {
  registerBackendFactory,
  type BackendFactory,
  type BackendRequest,
  type BackendChoice,
  type SessionModel,
} from './registry.js';
export type { TensorRTBackendOptions } from './factories/tensorrt.js';
