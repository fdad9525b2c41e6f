/** The report's tables as plain cells, rendered by markdown.ts and html.ts alike. */
import { formatOverheadShare, overheadShare } from '../overhead.js';
import { formatMs } from '../summary.js';
import { askedBackends, latencyPercentile, type ReportModel, type ReportRow } from './model.js';

export interface Table {
  title: string;
  /** One sentence on how to read the table. */
  caption: string;
  headers: string[];
  rows: string[][];
}

const dash = '-';
const number = (value: number | null | undefined, digits = 4) =>
  value === null || value === undefined || !Number.isFinite(value) ? dash : String(Number(value.toPrecision(digits)));
const ms = (value: number | null | undefined) => (value === null || value === undefined ? dash : formatMs(value));
const ratio = (value: number | null) => (value === null ? dash : `${number(value, 3)}x`);

function baselineName(row: ReportRow): string {
  return `#${row.index + 1}`;
}

export function comparisonTable(model: ReportModel): Table {
  const multipleHosts = new Set(model.rows.map((row) => row.host)).size > 1;
  const headers = [
    '#',
    ...(multipleHosts ? ['Host'] : []),
    'Device',
    'Backend',
    'Precision',
    'Batch',
    'Concurrency',
    'Throughput (qps)',
    'Samples/s',
    'Latency median (ms)',
    ...model.percentiles.map((p) => `p${p} (ms)`),
    'GPU compute median (ms)',
    'Throughput vs baseline',
    'Latency vs baseline',
    'Status',
  ];
  const rows = model.rows.map((row) => [
    String(row.index + 1),
    ...(multipleHosts ? [row.host] : []),
    row.device,
    row.backend,
    row.precision,
    row.batch === null ? dash : String(row.batch),
    row.concurrency === null ? dash : String(row.concurrency),
    number(row.qps, 6),
    number(row.samplesPerSecond, 6),
    ms(row.medianMs),
    ...model.percentiles.map((p) => ms(latencyPercentile(row, p))),
    ms(row.run.metrics?.compute?.median),
    row.baseline ? `${ratio(row.throughputRatio)} of ${baselineName(row.baseline)}` : row.medianMs === null ? dash : 'baseline',
    row.baseline ? `${ratio(row.latencyRatio)} of ${baselineName(row.baseline)}` : row.medianMs === null ? dash : 'baseline',
    row.run.status === 'ok'
      ? row.run.warnings.length > 0
        ? `ok, ${row.run.warnings.length} warning${row.run.warnings.length > 1 ? 's' : ''}`
        : 'ok'
      : `failed: ${row.run.error?.code ?? row.run.error?.name ?? 'error'}`,
  ]);
  const baselineText = model.baselineSelector ? `the run matching --baseline ${model.baselineSelector}` : 'the first run listed';
  return {
    title: 'Runs compared',
    caption: `Each run is compared with ${baselineText} of the same model, batch size and concurrency. Throughput ratios above 1 and latency ratios below 1 are better than the baseline.`,
    headers,
    rows,
  };
}

export function trtexecTable(model: ReportModel): Table {
  return {
    title: 'tensorrt-node over trtexec',
    caption:
      'Median latency of tensorrt-node runs (as seen from JS, or GPU phases where measured) against trtexec runs of the same engine; the overhead is what tensorrt-node adds.',
    headers: [
      'trtexec #',
      'tensorrt-node #',
      'Device',
      'Batch',
      'trtexec median (ms)',
      'tensorrt-node median (ms)',
      'Overhead (ms)',
      'Latency ratio',
      'Throughput ratio',
    ],
    rows: model.trtexec.map((pair) => [
      String(pair.trtexec.index + 1),
      String(pair.node.index + 1),
      pair.node.device,
      pair.node.batch === null ? dash : String(pair.node.batch),
      ms(pair.trtexec.medianMs),
      ms(pair.node.medianMs),
      ms(pair.medianOverheadMs),
      ratio(pair.medianRatio),
      ratio(pair.throughputRatio),
    ]),
  };
}

export function environmentTable(model: ReportModel): Table {
  return {
    title: 'Environments',
    caption: 'Where each results file was measured.',
    headers: [
      'File',
      'Created',
      'Host',
      'CPU',
      'GPUs',
      'Driver',
      'CUDA runtime / driver',
      'TensorRT',
      'Node',
      'tensorrt-node',
      'onnxruntime-node',
      'Model (sha256)',
    ],
    rows: model.inputs.map(({ file, results }) => {
      const environment = results.environment;
      const gpus = environment.gpus
        .map((gpu) => `${gpu.index}: ${gpu.name} (cc ${gpu.computeCapability}, ${number(gpu.totalMemoryBytes / 2 ** 30, 3)} GiB)`)
        .join('; ');
      return [
        file,
        results.createdAt,
        environment.host.hostname,
        `${environment.host.cpuModel} (${environment.host.cpuCores} cores, load ${environment.host.loadAverage.map((load) => load.toFixed(2)).join(' ')})`,
        gpus || 'none',
        environment.driver.version ?? 'none',
        `${environment.cuda.runtimeVersion ?? dash} / ${environment.cuda.driverVersion ?? dash}`,
        environment.tensorrt.version ?? 'none',
        environment.node.version,
        environment.packages['tensorrt-node'],
        environment.packages['onnxruntime-node'] ?? dash,
        results.model ? `${results.model.name} (${results.model.sha256.slice(0, 12)})` : dash,
      ];
    }),
  };
}

export function overheadTable(model: ReportModel): Table | null {
  const measured = model.inputs.filter(({ results }) => results.overhead !== null);
  if (measured.length === 0) return null;
  return {
    title: 'Harness overhead',
    caption:
      "The same target driven by a bare loop and by the harness, alternating, in one process: what the harness's per-request bookkeeping adds, as a share of each measured request with its 95% noise band over the rounds (below the noise when the band holds 0).",
    headers: [
      'File',
      'Target',
      'Concurrency',
      'Requests',
      'Raw loop (ms/request)',
      'Harness (ms/request)',
      'Overhead (share of a request)',
    ],
    rows: measured.map(({ file, results }) => {
      const overhead = results.overhead!;
      const notes = honestNotes(overhead.target.notes, askedBackends(results), overhead.target.backend);
      return [
        file,
        `${overhead.target.backend} (${notes.join('; ')})`,
        String(overhead.concurrency),
        `${overhead.rounds} x ${overhead.iterationsPerRound}`,
        ms(overhead.rawMsPerIteration),
        ms(overhead.harnessMsPerIteration),
        formatOverheadShare(overheadShare(overhead)),
      ];
    }),
  };
}

/**
 * A run's notes as recorded, except that files written before bench said so record a backend that
 * `--backend auto` chose as "asked for by name" (the session was created with the resolved name).
 */
function honestNotes(notes: readonly string[], askedBackends: readonly string[], backend: string): string[] {
  const byAuto = askedBackends.includes('auto') && !askedBackends.includes(backend);
  return notes.map((note) =>
    byAuto ? note.replace('InferenceSession: asked for by name', 'InferenceSession: chosen by --backend auto') : note,
  );
}

/** Every warning and failure, one line each, for the notes section. */
export function runNotes(model: ReportModel): string[] {
  const notes: string[] = [];
  for (const row of model.rows) {
    if (row.run.error)
      notes.push(
        `#${row.index + 1} ${row.backend} ${row.precision} batch ${row.batch ?? dash}: failed after ${row.run.measurement.iterations} iterations: ${row.run.error.message}${row.run.error.code ? ` [${row.run.error.code}]` : ''}`,
      );
    for (const warning of row.run.warnings)
      notes.push(
        `#${row.index + 1} ${row.backend} ${row.precision} batch ${row.batch ?? dash}: ${warning.message.replace(/\n\s*/g, ' ')}`,
      );
    const input = model.inputs.find((candidate) => candidate.file === row.file);
    for (const note of honestNotes(row.run.target?.notes ?? [], input ? askedBackends(input.results) : [], row.backend))
      notes.push(`#${row.index + 1} ${row.backend}: ${note}`);
  }
  for (const row of model.unpairedTrtexec)
    notes.push(
      `#${row.index + 1} trtexec: no tensorrt-node run on the tensorrt backend of the same engine${row.batch !== null ? ` at batch ${row.batch}` : ''} to compare with`,
    );
  return notes;
}

/** Runs against a remote server (bench --url): offered and achieved load, failures, and the server's own queue/compute split. */
export function loadTable(model: ReportModel): Table | null {
  const rows = model.rows.filter((row) => row.run.load);
  if (rows.length === 0) return null;
  const percentiles = model.percentiles.filter((p) => p !== 50);
  return {
    title: 'Load runs against servers',
    caption:
      "Open loop: requests sent on a fixed schedule (the offered load), latency counted from each request's intended send time, so queueing delay shows in full. Server columns are the server's own counters over the run (Triton's nv_inference_* metrics), per successful request.",
    headers: [
      '#',
      'Server',
      'Transport',
      'Model',
      'Batch',
      'Mode',
      'Offered (req/s)',
      'Achieved (req/s)',
      'Succeeded',
      'Failed',
      'Median (ms)',
      ...percentiles.map((p) => `p${p} (ms)`),
      'Server queue (ms)',
      'Server compute (ms)',
      'Server batch',
      'Client send lag p99 (ms)',
    ],
    rows: rows.map((row) => {
      const load = row.run.load!;
      const failures = Object.entries(load.failuresByCode)
        .map(([code, count]) => `${code}: ${count}`)
        .join(', ');
      return [
        String(row.index + 1),
        row.device,
        row.backend,
        row.model,
        row.batch === null ? dash : String(row.batch),
        load.mode === 'open-loop' ? `open (${load.arrival})` : `closed (${load.concurrency} in flight)`,
        load.offeredRate === null ? dash : number(load.offeredRate, 6),
        number(load.achievedRate, 5),
        String(load.succeeded),
        load.failed === 0 ? '0' : `${load.failed} (${failures})`,
        ms(row.medianMs),
        ...percentiles.map((p) => ms(latencyPercentile(row, p))),
        ms(load.server?.meanQueueMs),
        ms(load.server?.meanComputeMs),
        number(load.server?.averageBatch, 3),
        ms(load.sendLag?.p99Ms),
      ];
    }),
  };
}
