/**
 * The load generator: drives any Open Inference Protocol server (tensorrt-node serve, Triton, KServe
 * runtimes) over REST (JSON or binary) or gRPC, open loop at fixed request rates or closed loop at
 * fixed concurrency, and records the runs in the bench results file (`bench --url`).
 */
export { runRemoteBench, buildLoadRun, type RemoteBenchDependencies } from './remote-bench.js';
export { parseRemoteBenchOptions, type RemoteBenchOptions, type RemoteBenchValues } from './options.js';
export {
  runOpenLoop,
  runClosedLoop,
  type LoadMeasurement,
  type LoadTarget,
  type OpenLoopOptions,
  type ClosedLoopOptions,
} from './drivers.js';
export { arrivalGaps, type ArrivalKind } from './arrivals.js';
export { RestClient, GrpcClient, createClient, generateInputs, LoadFailure, type InferClient, type Protocol } from './clients.js';
export { parseTritonCounters, summarizeServerSide, type ServerSideSummary } from './server-metrics.js';
