/**
 * The report's charts as SVG strings (./svg-line-chart.ts draws them: no DOM, no browser, no scripts
 * in the output). Imported lazily by the report, so that nothing else pays for it.
 */
import { renderLineChart as drawLineChart, type LineSeries } from './svg-line-chart.js';
import { latencyPercentile, seriesLabel, type ReportModel, type ReportRow } from './model.js';

export interface Chart {
  title: string;
  svg: string;
}

const WIDTH = 760;
const HEIGHT = 380;

type Series = LineSeries & { points: [string, number][] };

function renderLineChart(title: string, xName: string, yName: string, categories: string[], series: Series[]): string {
  return drawLineChart({ title, xName, yName, categories, series, width: WIDTH, height: HEIGHT });
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}

const numericSort = (values: number[]) => [...new Set(values)].sort((a, b) => a - b);

/**
 * Latency percentiles against batch size, one chart per host/device/backend/precision, at the
 * lowest concurrency measured (where latency means most).
 */
export function latencyVsBatchCharts(model: ReportModel): Chart[] {
  const multipleHosts = new Set(model.rows.map((row) => row.host)).size > 1;
  const measured = model.rows.filter((row) => row.run.metrics !== null && row.batch !== null);
  const charts: Chart[] = [];
  for (const rows of groupBy(measured, (row) => seriesLabel(row, true)).values()) {
    const lowest = Math.min(...rows.map((row) => row.concurrency ?? 1));
    const atLowest = rows.filter((row) => (row.concurrency ?? 1) === lowest);
    const batches = numericSort(atLowest.map((row) => row.batch!)).map(String);
    const byBatch = (batch: string) => atLowest.find((row) => String(row.batch) === batch);
    const series: Series[] = [{ name: 'median', points: batches.map((batch) => [batch, byBatch(batch)!.medianMs!]) }];
    for (const percentile of model.percentiles) {
      const points = batches.flatMap((batch): [string, number][] => {
        const value = latencyPercentile(byBatch(batch)!, percentile);
        return value === null ? [] : [[batch, value]];
      });
      if (points.length > 0) series.push({ name: `p${percentile}`, points });
    }
    const title = `Latency vs batch size: ${seriesLabel(rows[0]!, multipleHosts)} (concurrency ${lowest})`;
    charts.push({ title, svg: renderLineChart(title, 'batch size', 'latency (ms)', batches, series) });
  }
  return charts;
}

/** Throughput against concurrency, one chart per batch size, one line per host/device/backend/precision. */
export function throughputVsConcurrencyCharts(model: ReportModel): Chart[] {
  const multipleHosts = new Set(model.rows.map((row) => row.host)).size > 1;
  const measured = model.rows.filter((row) => row.qps !== null && row.concurrency !== null && row.run.source === 'tensorrt-node');
  const charts: Chart[] = [];
  for (const [batchKey, rows] of groupBy(measured, (row) => String(row.batch ?? '?'))) {
    const concurrencies = numericSort(rows.map((row) => row.concurrency!)).map(String);
    const series: Series[] = [...groupBy(rows, (row) => seriesLabel(row, multipleHosts))].map(([name, group]) => ({
      name,
      points: group.map((row: ReportRow): [string, number] => [String(row.concurrency), row.samplesPerSecond ?? row.qps!]),
    }));
    const title = `Throughput vs concurrency (batch ${batchKey})`;
    charts.push({ title, svg: renderLineChart(title, 'requests in flight', 'samples / s', concurrencies, series) });
  }
  return charts;
}
