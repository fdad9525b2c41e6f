/// <reference types="node" preserve="true" />
/**
 * `tensorrt-node/bench`: the benchmark harness that reports like trtexec: measure a target
 * (latency, throughput, phases, event-loop delay), sweep backends x precisions x batch sizes x
 * concurrency, write and check results files, import trtexec runs, and build HTML/Markdown reports
 * that compare them.
 *
 * @module tensorrt-node/bench
 */
export { measure, type MeasureOptions, type Measurement } from './driver.js';
export { expandSweep, runSweep, type SweepAxes, type SweepRunOptions } from './sweep.js';
export type { BenchTarget, BenchTargetFactory, SweepPoint, TargetDescription } from './target.js';
export { createModelTargetFactory, type ModelTargetOptions } from './model-targets.js';
export { summarize, DEFAULT_PERCENTILES, type MetricSummary, type PercentileValue } from './statistics.js';
export { detectWarnings, type BenchWarning, type BenchWarningCode } from './warnings.js';
export { collectEnvironment, type BenchEnvironment } from './environment.js';
export {
  RESULTS_SCHEMA_ID,
  RESULTS_SCHEMA_VERSION,
  checkResults,
  loadResultsFile,
  writeResultsFile,
  type BenchResultsFile,
  type BenchRunResult,
  type RunMetrics,
  type RunPoint,
} from './results.js';
export { importTrtexecFile } from './trtexec-import.js';
export { buildReport, DEFAULT_REPORT_TITLE, type ReportOutputs } from './report/index.js';
export { formatRunSummary } from './summary.js';
export {
  runRemoteBench,
  parseRemoteBenchOptions,
  runOpenLoop,
  runClosedLoop,
  type RemoteBenchOptions,
  type RemoteBenchValues,
  type RemoteBenchDependencies,
  type LoadMeasurement,
  type LoadTarget,
  type OpenLoopOptions,
  type ClosedLoopOptions,
  type ArrivalKind,
  type Protocol,
  type ServerSideSummary,
} from './load/index.js';
export type { LoadRunInfo } from './results.js';
