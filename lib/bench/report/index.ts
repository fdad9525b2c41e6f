/** `tensorrt-node report`'s engine: results files in, HTML and Markdown out. */
import { loadResultsFile } from '../results.js';
import { renderHtmlReport } from './html.js';
import { renderMarkdownReport } from './markdown.js';
import { buildReportModel, type ReportModel } from './model.js';

export interface ReportOutputs {
  model: ReportModel;
  html?: string;
  markdown?: string;
}

export const DEFAULT_REPORT_TITLE = 'tensorrt-node benchmark report';

export async function buildReport(files: string[], options: { baseline?: string | null; html?: boolean; markdown?: boolean; title?: string } = {}): Promise<ReportOutputs> {
  const inputs = files.map((file) => ({ file, results: loadResultsFile(file) }));
  const model = buildReportModel(inputs, options.baseline ?? null);
  const title = options.title ?? DEFAULT_REPORT_TITLE;
  const outputs: ReportOutputs = { model };
  if (options.html) {
    // ECharts is loaded only when charts are drawn.
    const { latencyVsBatchCharts, offeredLoadCharts, throughputVsConcurrencyCharts } = await import('./charts.js');
    outputs.html = renderHtmlReport(model, title, { latencyVsBatch: latencyVsBatchCharts(model), throughputVsConcurrency: throughputVsConcurrencyCharts(model), offeredLoad: offeredLoadCharts(model) });
  }
  if (options.markdown) outputs.markdown = renderMarkdownReport(model, title);
  return outputs;
}
