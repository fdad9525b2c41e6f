/**
 * The text summary of a run, laid out like trtexec's (samples/common/sampleReporting.cpp,
 * printProlog/printEpilog) so that people who read trtexec output read this at a glance, followed
 * by what only a Node harness knows (event-loop delay, host CPU use) and the warnings.
 */
import type { MetricSummary } from './statistics.js';
import type { BenchRunResult } from './results.js';

/** Six significant digits, as C++ streams print floats by default. */
export function formatMs(value: number): string {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? 'nan' : value > 0 ? 'inf' : '-inf';
  return String(Number(value.toPrecision(6)));
}

export function formatMetric(summary: MetricSummary): string {
  const parts = [
    `min = ${formatMs(summary.min)} ms`,
    `max = ${formatMs(summary.max)} ms`,
    `mean = ${formatMs(summary.mean)} ms`,
    `median = ${formatMs(summary.median)} ms`,
  ];
  for (const { percentile, value } of summary.percentiles) parts.push(`percentile(${percentile}%) = ${formatMs(value)} ms`);
  return parts.join(', ');
}

function describeRun(run: BenchRunResult): string {
  const point = run.point;
  const what = run.source === 'trtexec' ? 'trtexec' : `${run.target?.backend ?? point.backend}`;
  const parts = [
    what,
    point.precision ?? undefined,
    point.batch !== null ? `batch ${point.batch}` : undefined,
    point.concurrency !== null ? `concurrency ${point.concurrency}` : undefined,
  ];
  const device = run.target?.device;
  if (device) parts.push(`GPU ${device.index} (${device.name})`);
  return parts.filter(Boolean).join(', ');
}

/** A run as trtexec prints its performance summary (throughput, latency percentiles, phases, warnings), for a terminal. */
export function formatRunSummary(run: BenchRunResult): string {
  const lines: string[] = [`=== Run: ${describeRun(run)} ===`];
  if (run.warmup) lines.push(`Warmup completed ${run.warmup.iterations} queries over ${formatMs(run.warmup.durationMs)} ms`);
  lines.push(`Timing trace has ${run.measurement.iterations} queries over ${formatMs(run.measurement.walltimeMs / 1000)} s`);
  if (run.status === 'failed' && run.error) {
    lines.push(
      `Run failed${run.measurement.iterations > 0 ? ' midway (the iterations measured before the failure are kept)' : ''}: ${run.error.message}${run.error.code ? ` [${run.error.code}]` : ''}`,
    );
  }
  const metrics = run.metrics;
  if (metrics) {
    lines.push('', '=== Performance summary ===');
    if (run.throughput) {
      lines.push(`Throughput: ${formatMs(run.throughput.qps)} qps`);
      if (run.throughput.samplesPerSecond !== null && (run.point.batch ?? 1) > 1)
        lines.push(`Samples per second: ${formatMs(run.throughput.samplesPerSecond)} (batch ${run.point.batch})`);
    }
    lines.push(`Latency: ${formatMetric(metrics.latency)}`);
    if (metrics.endToEnd) lines.push(`End-to-End Host Latency: ${formatMetric(metrics.endToEnd)}`);
    const phases: [string, MetricSummary | undefined][] = [
      ['Enqueue Time', metrics.enqueue],
      ['H2D Latency', metrics.h2d],
      ['GPU Compute Time', metrics.compute],
      ['D2H Latency', metrics.d2h],
    ];
    if (phases.some(([, summary]) => summary)) {
      for (const [name, summary] of phases) if (summary) lines.push(`${name}: ${formatMetric(summary)}`);
    } else {
      lines.push(
        `Enqueue Time, H2D Latency, GPU Compute Time, D2H Latency: not measured (${run.target?.backend ?? 'this backend'} reports end-to-end latency only)`,
      );
    }
    lines.push(`Total Host Walltime: ${formatMs(run.measurement.walltimeMs / 1000)} s`);
    lines.push(
      run.totalGpuComputeTimeMs === null
        ? 'Total GPU Compute Time: not measured'
        : `Total GPU Compute Time: ${formatMs(run.totalGpuComputeTimeMs / 1000)} s`,
    );
    const variation = (metrics.compute ?? metrics.latency).coefficientOfVariation;
    if (variation !== null)
      lines.push(`Coefficient of variation (${metrics.compute ? 'GPU Compute Time' : 'Latency'}): ${formatMs(variation)}%`);
    if (run.eventLoopDelay) {
      const delay = run.eventLoopDelay;
      lines.push(
        `Event Loop Delay: min = ${formatMs(delay.minMs)} ms, max = ${formatMs(delay.maxMs)} ms, mean = ${formatMs(delay.meanMs)} ms, median = ${formatMs(delay.p50Ms)} ms, percentile(99%) = ${formatMs(delay.p99Ms)} ms (${delay.samples} samples every ${delay.resolutionMs} ms)`,
      );
    }
    if (run.hostCpu)
      lines.push(
        `Host CPU: ${formatMs(run.hostCpu.percentOfOneCore)}% of one core (user ${formatMs(run.hostCpu.userMs / 1000)} s, system ${formatMs(run.hostCpu.systemMs / 1000)} s)`,
      );
  }
  if (run.warnings.length > 0) lines.push('', ...run.warnings.map((warning) => warning.message));
  return `${lines.join('\n')}\n`;
}
