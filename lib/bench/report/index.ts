/** `tensorrt-node report`'s engine: results files in, HTML and Markdown out. */
import { loadResultsFile } from '../results.js';
import { renderHtmlReport } from './html.js';
import { renderMarkdownReport } from './markdown.js';
import { buildReportModel, type ReportModel } from './model.js';

/** What {@link buildReport} produced: the rows it compared, and the documents asked for. */
export interface ReportOutputs {
  /** The merged runs, baselines and trtexec pairings the documents are drawn from. */
  model: ReportModel;
  /** A self-contained HTML page with SVG charts and no scripts (with `html: true`). */
  html?: string;
  /** The same tables in Markdown (with `markdown: true`). */
  markdown?: string;
}

/** The title of a report when none is given. */
export const DEFAULT_REPORT_TITLE = 'tensorrt-node benchmark report';

/**
 * Merges results files (several hosts, GPUs, precisions, backends, trtexec imports) into comparison
 * tables and charts. `baseline` ("backend=cpu,precision=fp32"; keys host, device, backend,
 * precision, source, file, model) names the run every other run is compared with. Throws
 * ERR_RESULTS_SCHEMA for a file of another schema version.
 */
export async function buildReport(
  files: string[],
  options: { baseline?: string | null; html?: boolean; markdown?: boolean; title?: string } = {},
): Promise<ReportOutputs> {
  const inputs = files.map((file) => ({ file, results: loadResultsFile(file) }));
  const model = buildReportModel(inputs, options.baseline ?? null);
  const title = options.title ?? DEFAULT_REPORT_TITLE;
  const outputs: ReportOutputs = { model };
  if (options.html) {
    // The chart code is loaded only when charts are drawn.
    const { latencyVsBatchCharts, offeredLoadCharts, throughputVsConcurrencyCharts } = await import('./charts.js');
    outputs.html = renderHtmlReport(model, title, {
      latencyVsBatch: latencyVsBatchCharts(model),
      throughputVsConcurrency: throughputVsConcurrencyCharts(model),
      offeredLoad: offeredLoadCharts(model),
    });
  }
  if (options.markdown) outputs.markdown = renderMarkdownReport(model, title);
  return outputs;
}
