/**
 * lib/session/factories: how a session request becomes a backend: cpu (onnxruntime-node workers) and
 * tensorrt (an engine built through the builder and the cache, or loaded from a file).
 */
export { cpuBackendFactory, ignoredOnCpu } from './cpu.js';
export { tensorrtBackendFactory, engineForRequest, type TensorRTBackendOptions } from './tensorrt.js';
