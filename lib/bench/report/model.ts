/**
 * What a report shows, independent of its format: the runs of several results files (devices,
 * hosts, precisions, backends) merged into rows, each compared with a baseline run of the same
 * model, batch and concurrency, and trtexec imports paired with tensorrt-node runs of the same
 * engine so that the overhead shows directly.
 */
import { ArgumentRangeError, ErrorCode } from '../../core/errors.js';
import { transportName, type BenchResultsFile, type BenchRunResult } from '../results.js';
import { percentileValue } from '../statistics.js';

export interface ReportInput {
  file: string;
  results: BenchResultsFile;
}

export interface ReportRow {
  /** Position in the merged list, stable across formats. */
  index: number;
  file: string;
  run: BenchRunResult;
  host: string;
  /** The GPU's name, or the CPU model for CPU runs. */
  device: string;
  backend: string;
  precision: string;
  model: string;
  batch: number | null;
  concurrency: number | null;
  qps: number | null;
  samplesPerSecond: number | null;
  medianMs: number | null;
  /** The comparison baseline of this row (null when this row is the baseline or has none). */
  baseline: ReportRow | null;
  throughputRatio: number | null;
  latencyRatio: number | null;
}

export interface TrtexecComparison {
  trtexec: ReportRow;
  node: ReportRow;
  /** tensorrt-node median latency - trtexec median latency, in ms. */
  medianOverheadMs: number;
  medianRatio: number;
  throughputRatio: number | null;
}

export interface ReportModel {
  inputs: ReportInput[];
  rows: ReportRow[];
  baselineSelector: string | null;
  percentiles: number[];
  trtexec: TrtexecComparison[];
  /** trtexec runs with no tensorrt-node run of the same engine to compare with. */
  unpairedTrtexec: ReportRow[];
}

/** The --backend values a results file's bench was asked for ('auto', 'cpu', ...); [] when it does not say. */
export function askedBackends(results: BenchResultsFile): string[] {
  const backends = results.options.backends;
  return Array.isArray(backends) ? backends.filter((backend): backend is string => typeof backend === 'string') : [];
}

export const BASELINE_KEYS = ['host', 'device', 'backend', 'precision', 'source', 'file', 'model'] as const;
type BaselineKey = (typeof BASELINE_KEYS)[number];

/** "backend=cpu,precision=fp32" -> matcher; values compare case-insensitively, device/file/model by substring. */
export function parseBaselineSelector(selector: string): (row: ReportRow) => boolean {
  const conditions = selector.split(',').map((part) => part.trim());
  const parsed = conditions.map((condition) => {
    const match = /^([a-z]+)=(.+)$/.exec(condition);
    if (!match || !BASELINE_KEYS.includes(match[1] as BaselineKey)) {
      throw new ArgumentRangeError(
        `Expected key=value conditions with keys ${BASELINE_KEYS.join(', ')} for --baseline but received ${JSON.stringify(selector)} of type string`,
      );
    }
    return { key: match[1] as BaselineKey, value: match[2]!.toLowerCase() };
  });
  return (row) =>
    parsed.every(({ key, value }) => {
      const actual = (key === 'source' ? row.run.source : row[key]).toLowerCase();
      return key === 'device' || key === 'file' || key === 'model' ? actual.includes(value) : actual === value;
    });
}

/** A load run's server as a device name ("tensorrt-node 0.1.0 @ host:port") and its transport as a backend ("rest-binary"). */
function remoteLabels(run: BenchRunResult): { device: string; backend: string } | null {
  const load = run.load;
  if (!load) return null;
  const address = load.url.replace(/^[a-z]+:\/\//, '');
  return {
    device: `${load.serverName} ${load.serverVersion} @ ${address}`,
    backend: transportName(load),
  };
}

function rowFor(input: ReportInput, run: BenchRunResult, index: number): ReportRow {
  const environment = input.results.environment;
  const remote = remoteLabels(run);
  const backend =
    remote?.backend ?? (run.source === 'trtexec' ? 'trtexec' : (run.target?.backend ?? run.point.backend ?? 'unknown'));
  const device =
    remote?.device ?? run.target?.device?.name ?? (run.source === 'trtexec' ? 'unknown GPU' : environment.host.cpuModel);
  return {
    index,
    file: input.file,
    run,
    host: environment.host.hostname,
    device,
    backend,
    precision: run.point.precision ?? (run.target && run.target.precision !== 'unknown' ? run.target.precision : '-'),
    model: input.results.model?.name ?? run.load?.model ?? '-',
    batch: run.point.batch,
    concurrency: run.point.concurrency,
    qps: run.throughput?.qps ?? null,
    samplesPerSecond: run.throughput?.samplesPerSecond ?? null,
    medianMs: run.metrics?.latency.median ?? null,
    baseline: null,
    throughputRatio: null,
    latencyRatio: null,
  };
}

/** Rows that compare with each other: same model, batch and concurrency (and offered load, for open-loop runs). */
function comparisonKey(row: ReportRow): string {
  return JSON.stringify([row.model, row.batch, row.concurrency, row.run.load?.offeredRate ?? null]);
}

export function buildReportModel(inputs: ReportInput[], baselineSelector: string | null = null): ReportModel {
  const rows: ReportRow[] = [];
  for (const input of inputs) for (const run of input.results.runs) rows.push(rowFor(input, run, rows.length));
  const isBaseline = baselineSelector ? parseBaselineSelector(baselineSelector) : null;
  if (isBaseline && rows.length > 0 && !rows.some(isBaseline)) {
    const seen = (key: 'backend' | 'precision' | 'device' | 'host') => [...new Set(rows.map((row) => row[key]))].join(', ');
    throw new ArgumentRangeError(
      `Expected a --baseline that matches at least one run but received ${JSON.stringify(baselineSelector)} of type string (backends: ${seen('backend')}; precisions: ${seen('precision')}; devices: ${seen('device')}; hosts: ${seen('host')})`,
      ErrorCode.INVALID_ARGUMENT,
    );
  }
  const groups = new Map<string, ReportRow[]>();
  for (const row of rows) {
    if (row.run.status !== 'ok' || row.medianMs === null) continue;
    const key = comparisonKey(row);
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  for (const group of groups.values()) {
    const baseline = isBaseline ? group.find(isBaseline) : group[0];
    if (!baseline) continue;
    for (const row of group) {
      if (row === baseline) continue;
      row.baseline = baseline;
      row.throughputRatio = row.qps !== null && baseline.qps ? row.qps / baseline.qps : null;
      row.latencyRatio = row.medianMs !== null && baseline.medianMs ? row.medianMs / baseline.medianMs : null;
    }
  }

  const trtexec: TrtexecComparison[] = [];
  const unpairedTrtexec: ReportRow[] = [];
  for (const imported of rows.filter((row) => row.run.source === 'trtexec')) {
    const sameEngine = (row: ReportRow) =>
      row.run.source === 'tensorrt-node' &&
      row.backend === 'tensorrt' &&
      row.run.status === 'ok' &&
      row.medianMs !== null &&
      (row.file === imported.file || (row.model !== '-' && row.model === imported.model)) &&
      (imported.batch === null || row.batch === imported.batch) &&
      (imported.concurrency === null || row.concurrency === imported.concurrency);
    const matches = rows.filter(sameEngine);
    if (matches.length === 0 || imported.medianMs === null) unpairedTrtexec.push(imported);
    for (const node of matches) {
      trtexec.push({
        trtexec: imported,
        node,
        medianOverheadMs: node.medianMs! - imported.medianMs!,
        medianRatio: node.medianMs! / imported.medianMs!,
        throughputRatio: node.qps !== null && imported.qps ? node.qps / imported.qps : null,
      });
    }
  }

  const percentiles = [
    ...new Set(rows.flatMap((row) => row.run.metrics?.latency.percentiles.map((entry) => entry.percentile) ?? [])),
  ].sort((a, b) => a - b);
  return { inputs, rows, baselineSelector, percentiles, trtexec, unpairedTrtexec };
}

export function latencyPercentile(row: ReportRow, percentile: number): number | null {
  const summary = row.run.metrics?.latency;
  return summary ? (percentileValue(summary, percentile) ?? null) : null;
}

/** One line naming a row in charts and tables: "host / device / backend precision". */
export function seriesLabel(row: ReportRow, multipleHosts: boolean): string {
  return `${multipleHosts ? `${row.host} / ` : ''}${row.device} / ${row.backend} ${row.precision}`;
}
