/**
 * The load generator: drives any Open Inference Protocol server (tensorrt-node serve, Triton, KServe
 * runtimes) over REST (JSON or binary) or gRPC, open loop at fixed request rates or closed loop at
 * fixed concurrency, and records the runs in the bench results file (`bench --url`). What the public
 * './bench' entry (../index.ts) exports of it.
 */
export { runRemoteBench, type RemoteBenchDependencies } from './remote-bench.js';
export { parseRemoteBenchOptions, type RemoteBenchOptions, type RemoteBenchValues } from './options.js';
export {
  runOpenLoop,
  runClosedLoop,
  type LoadMeasurement,
  type LoadTarget,
  type OpenLoopOptions,
  type ClosedLoopOptions,
} from './drivers.js';
export type { ArrivalKind } from './arrivals.js';
export type { Protocol } from './clients.js';
export type { ServerSideSummary } from './server-metrics.js';
