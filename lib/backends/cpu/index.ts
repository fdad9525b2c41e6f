/**
 * lib/backends/cpu: the cpu backend: onnxruntime-node sessions in reused worker threads, so runs
 * never block the event loop; the FP32 reference that FP16/INT8 results are checked against.
 */
export { CpuBackend, createCpuBackend, cpuBackendOptionNames, type CpuBackendOptions } from './backend.js';
export { closeIdleCpuWorkers } from './worker-pool.js';
