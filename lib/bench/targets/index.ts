/**
 * lib/bench/targets: what the harness can measure besides a session: a TensorRT engine on its own
 * contexts with CUDA-event phases, and a synthetic CPU workload (the harness's self-test).
 */
export { createTensorRTEngineTarget, type EngineTargetOptions } from './tensorrt-engine.js';
export { createCpuWorkloadTarget, type CpuWorkloadOptions } from './cpu-workload.js';
