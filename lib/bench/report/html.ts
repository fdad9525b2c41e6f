/**
 * The report as one self-contained HTML file: inline CSS, charts as inline SVG, no scripts, no
 * external resources (its Content-Security-Policy forbids loading any), so it opens anywhere,
 * offline, and can be attached to a ticket as is.
 */
import type { Chart } from './charts.js';
import { reportHeadline } from './headline.js';
import type { ReportModel } from './model.js';
import { comparisonTable, environmentTable, loadTable, overheadTable, runNotes, trtexecTable, type Table } from './tables.js';

/** Said instead of charts when every series is a single point. */
export const NO_CURVES =
  'No charts: every series was measured at one batch size and one concurrency, a single point the table shows; sweep --batch or --concurrency to draw curves.';

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const STYLE = `
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px; color: #1d1d1f; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 32px; }
p.caption { color: #555; max-width: 70em; }
p.headline { font-size: 15px; max-width: 70em; margin: 4px 0; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0 16px; }
th, td { border: 1px solid #d0d0d0; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td.number { text-align: right; font-variant-numeric: tabular-nums; }
figure { display: inline-block; margin: 8px 16px 16px 0; } figure svg { display: block; border: 1px solid #e4e4e4; }
ul.notes li { margin: 2px 0; font-size: 13px; }
`;

function htmlTable(table: Table, id: string): string {
  const isNumber = (text: string) => /^-?[\d.]+(e[-+]?\d+)?(x( of #\d+)?)?%?$/.test(text);
  return [
    `<section id="${id}">`,
    `<h2>${escapeHtml(table.title)}</h2>`,
    `<p class="caption">${escapeHtml(table.caption)}</p>`,
    `<table class="report-table"><thead><tr>${table.headers.map((header) => `<th>${escapeHtml(header)}</th>`).join('')}</tr></thead>`,
    `<tbody>${table.rows.map((row) => `<tr>${row.map((cell) => `<td${isNumber(cell) ? ' class="number"' : ''}>${escapeHtml(cell)}</td>`).join('')}</tr>`).join('\n')}</tbody></table>`,
    '</section>',
  ].join('\n');
}

function chartSection(title: string, id: string, charts: Chart[]): string {
  if (charts.length === 0) return '';
  // The SVG comes from ./svg-line-chart.ts, which escapes the texts it draws.
  return [
    `<section id="${id}">`,
    `<h2>${escapeHtml(title)}</h2>`,
    ...charts.map((chart) => `<figure class="chart" aria-label="${escapeHtml(chart.title)}">${chart.svg}</figure>`),
    '</section>',
  ].join('\n');
}

export function renderHtmlReport(
  model: ReportModel,
  title: string,
  charts: { latencyVsBatch: Chart[]; throughputVsConcurrency: Chart[]; offeredLoad?: Chart[] },
): string {
  const notes = runNotes(model);
  const overhead = overheadTable(model);
  const load = loadTable(model);
  const noCurves =
    charts.latencyVsBatch.length + charts.throughputVsConcurrency.length + (charts.offeredLoad?.length ?? 0) === 0 &&
    model.rows.some((row) => row.run.metrics !== null);
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    `<title>${escapeHtml(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head><body>',
    `<h1>${escapeHtml(title)}</h1>`,
    `<section id="headline">${reportHeadline(model)
      .map((line) => `<p class="headline">${escapeHtml(line)}</p>`)
      .join('\n')}</section>`,
    `<p class="caption">${model.rows.length} runs from ${model.inputs.length} results file${model.inputs.length === 1 ? '' : 's'}. Times in milliseconds; percentiles by nearest rank, as trtexec computes them.</p>`,
    htmlTable(comparisonTable(model), 'runs'),
    chartSection('Latency percentiles vs batch size', 'latency-vs-batch', charts.latencyVsBatch),
    chartSection('Throughput vs concurrency', 'throughput-vs-concurrency', charts.throughputVsConcurrency),
    load ? htmlTable(load, 'load') : '',
    chartSection('Latency vs offered load', 'latency-vs-offered-load', charts.offeredLoad ?? []),
    noCurves ? `<p class="caption">${escapeHtml(NO_CURVES)}</p>` : '',
    model.trtexec.length > 0 ? htmlTable(trtexecTable(model), 'trtexec') : '',
    overhead ? htmlTable(overhead, 'overhead') : '',
    htmlTable(environmentTable(model), 'environments'),
    notes.length > 0
      ? `<section id="notes"><h2>Notes</h2><ul class="notes">${notes.map((note) => `<li>${escapeHtml(note)}</li>`).join('\n')}</ul></section>`
      : '',
    '</body></html>',
    '',
  ].join('\n');
}
