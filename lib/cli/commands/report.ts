import { writeFileAtomic } from '../../core/atomic-write.js';
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
    const outputs = await buildReport(positionals, {
      baseline: values.baseline ?? null,
      html: Boolean(values.html),
      markdown: Boolean(values.md) || toStdout,
      title: values.title,
    });
    if (values.html) {
      await writeFileAtomic(values.html, outputs.html!, { description: 'report' });
      stdout.write(`HTML report written to ${values.html}\n`);
    }
    if (values.md) {
      await writeFileAtomic(values.md, outputs.markdown!, { description: 'report' });
      stdout.write(`Markdown report written to ${values.md}\n`);
    }
    if (toStdout) stdout.write(outputs.markdown!);
    return 0;
  },
};
