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
 * lowest concurrency measured (where latency means most). Only where there is a curve: a series
 * measured at one batch size is one point, which the tables already show.
 */
export function latencyVsBatchCharts(model: ReportModel): Chart[] {
  const multipleHosts = new Set(model.rows.map((row) => row.host)).size > 1;
  // Open-loop runs have no concurrency; their latency is charted against the offered load instead.
  const measured = model.rows.filter(
    (row) => row.run.metrics !== null && row.batch !== null && row.run.load?.mode !== 'open-loop',
  );
  const charts: Chart[] = [];
  for (const rows of groupBy(measured, (row) => seriesLabel(row, true)).values()) {
    const lowest = Math.min(...rows.map((row) => row.concurrency ?? 1));
    const atLowest = rows.filter((row) => (row.concurrency ?? 1) === lowest);
    const batches = numericSort(atLowest.map((row) => row.batch!)).map(String);
    if (batches.length < 2) continue;
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

/**
 * Throughput against concurrency, one chart per batch size, one line per host/device/backend/precision;
 * only lines of two points or more, and only charts with such a line.
 */
export function throughputVsConcurrencyCharts(model: ReportModel): Chart[] {
  const multipleHosts = new Set(model.rows.map((row) => row.host)).size > 1;
  const measured = model.rows.filter((row) => row.qps !== null && row.concurrency !== null && row.run.source === 'tensorrt-node');
  const charts: Chart[] = [];
  for (const [batchKey, rows] of groupBy(measured, (row) => String(row.batch ?? '?'))) {
    const concurrencies = numericSort(rows.map((row) => row.concurrency!)).map(String);
    const series: Series[] = [...groupBy(rows, (row) => seriesLabel(row, multipleHosts))]
      .map(([name, group]) => ({
        name,
        points: group.map((row: ReportRow): [string, number] => [String(row.concurrency), row.samplesPerSecond ?? row.qps!]),
      }))
      .filter((entry) => new Set(entry.points.map(([x]) => x)).size >= 2);
    if (series.length === 0) continue;
    const title = `Throughput vs concurrency (batch ${batchKey})`;
    charts.push({ title, svg: renderLineChart(title, 'requests in flight', 'samples / s', concurrencies, series) });
  }
  return charts;
}

/**
 * Open-loop runs (bench --url --request-rate): latency percentiles against the offered load, one
 * chart per server and transport, and achieved against offered throughput for all of them. Where
 * the latency curve bends up is the server's capacity; past it, queueing delay grows without bound.
 */
export function offeredLoadCharts(model: ReportModel): Chart[] {
  const multipleHosts = new Set(model.rows.map((row) => row.host)).size > 1;
  const measured = model.rows.filter(
    (row) => row.run.load?.offeredRate !== null && row.run.load?.offeredRate !== undefined && row.run.metrics !== null,
  );
  if (measured.length === 0) return [];
  const rate = (row: ReportRow) => String(Number(row.run.load!.offeredRate!.toPrecision(6)));
  const charts: Chart[] = [];
  const groups = groupBy(measured, (row) => `${seriesLabel(row, true)} / ${row.model} / batch ${row.batch ?? '?'}`);
  for (const rows of groups.values()) {
    const rates = numericSort(rows.map((row) => row.run.load!.offeredRate!)).map((value) => String(Number(value.toPrecision(6))));
    const byRate = (value: string) => rows.find((row) => rate(row) === value)!;
    const series: Series[] = [{ name: 'median', points: rates.map((value) => [value, byRate(value).medianMs!]) }];
    for (const percentile of model.percentiles.filter((p) => p !== 50)) {
      const points = rates.flatMap((value): [string, number][] => {
        const latency = latencyPercentile(byRate(value), percentile);
        return latency === null ? [] : [[value, latency]];
      });
      if (points.length > 0) series.push({ name: `p${percentile}`, points });
    }
    const title = `Latency vs offered load: ${seriesLabel(rows[0]!, multipleHosts)}, ${rows[0]!.model}`;
    charts.push({ title, svg: renderLineChart(title, 'offered load (requests / s)', 'latency (ms)', rates, series) });
  }
  const allRates = numericSort(measured.map((row) => row.run.load!.offeredRate!)).map((value) =>
    String(Number(value.toPrecision(6))),
  );
  const throughput: Series[] = [{ name: 'offered', points: allRates.map((value) => [value, Number(value)]) }];
  for (const [name, rows] of groupBy(measured, (row) => `${seriesLabel(row, multipleHosts)} / ${row.model}`)) {
    throughput.push({ name, points: rows.map((row): [string, number] => [rate(row), row.run.load!.achievedRate]) });
  }
  const title = 'Achieved vs offered throughput';
  charts.push({
    title,
    svg: renderLineChart(title, 'offered load (requests / s)', 'achieved (requests / s)', allRates, throughput),
  });
  return charts;
}
