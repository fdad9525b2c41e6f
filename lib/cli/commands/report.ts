import { writeFileAtomicSync } from '../../bench/atomic-file.js';
import { ErrorCode, TensorRTNodeError } from '../../core/errors.js';
import { buildReport, DEFAULT_REPORT_TITLE } from '../../bench/report/index.js';
import { BASELINE_KEYS } from '../../bench/report/model.js';
import { invalidType } from '../../core/validate.js';
import type { Command } from '../command.js';

interface ReportValues {
  html?: string;
  md?: string;
  baseline?: string;
  title?: string;
}

function writeOutput(file: string, text: string): void {
  try {
    writeFileAtomicSync(file, text);
  } catch (error) {
    throw new TensorRTNodeError(ErrorCode.IO, `Cannot write report ${file}: ${(error as Error).message}`, { cause: error, details: { file } });
  }
}

export const reportCommand: Command<ReportValues> = {
  name: 'report',
  usage: 'report <results.json...> [--html out.html] [--md out.md] [--baseline key=value[,key=value]] [--title text]',
  help: `  <results.json...>   files written by \`tensorrt-node bench --json\`
  --html out.html      write one self-contained HTML file with tables and SVG charts
  --md out.md          write the tables as Markdown (without --html or --md, Markdown goes to stdout)
  --baseline k=v,...   compare every run with the run matching these conditions (keys: ${BASELINE_KEYS.join(', ')});
                       default: the first run of the same model, batch size and concurrency
  --title text         the report's title (default "${DEFAULT_REPORT_TITLE}")`,
  positionals: true,
  options: { html: { type: 'string' }, md: { type: 'string' }, baseline: { type: 'string' }, title: { type: 'string' } },
  async run(values, positionals, { stdout }) {
    if (positionals.length === 0) throw invalidType('at least one results file', 'results', undefined);
    const toStdout = !values.html && !values.md;
    const outputs = await buildReport(positionals, { baseline: values.baseline ?? null, html: Boolean(values.html), markdown: Boolean(values.md) || toStdout, title: values.title });
    if (values.html) {
      writeOutput(values.html, outputs.html!);
      stdout.write(`HTML report written to ${values.html}\n`);
    }
    if (values.md) {
      writeOutput(values.md, outputs.markdown!);
      stdout.write(`Markdown report written to ${values.md}\n`);
    }
    if (toStdout) stdout.write(outputs.markdown!);
    return 0;
  },
};
