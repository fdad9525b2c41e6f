/**
 * lib/backends: one interface (./backend.ts) over the engines that run models: `cpu`
 * (onnxruntime-node in worker threads, the FP32 reference) and `tensorrt` (execution contexts of an
 * Engine). BackendGroup turns N single-run backends into one that runs N at once.
 */
export type { Backend, BackendKind, BackendRunOptions, BoundTensors, Runner } from './backend.js';
export { BackendGroup } from './group.js';
export { CpuBackend, createCpuBackend, type CpuBackendOptions } from './cpu/backend.js';
export { createTensorRTBackend } from './tensorrt/backend.js';
