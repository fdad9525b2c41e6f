/** The report as Markdown: the same tables as the HTML report, without the charts. */
import { reportHeadline } from './headline.js';
import type { ReportModel } from './model.js';
import { comparisonTable, environmentTable, loadTable, overheadTable, runNotes, trtexecTable, type Table } from './tables.js';

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function markdownTable(table: Table): string {
  return [
    `## ${table.title}`,
    '',
    table.caption,
    '',
    `| ${table.headers.map(cell).join(' | ')} |`,
    `| ${table.headers.map(() => '---').join(' | ')} |`,
    ...table.rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
    '',
  ].join('\n');
}

export function renderMarkdownReport(model: ReportModel, title: string): string {
  const parts = [
    `# ${title}`,
    '',
    ...reportHeadline(model).flatMap((line) => [line, '']),
    `${model.rows.length} runs from ${model.inputs.length} results file${model.inputs.length === 1 ? '' : 's'}. Times in milliseconds; percentiles by nearest rank, as trtexec computes them.`,
    '',
  ];
  parts.push(markdownTable(comparisonTable(model)));
  const load = loadTable(model);
  if (load) parts.push(markdownTable(load));
  if (model.trtexec.length > 0) parts.push(markdownTable(trtexecTable(model)));
  const overhead = overheadTable(model);
  if (overhead) parts.push(markdownTable(overhead));
  parts.push(markdownTable(environmentTable(model)));
  const notes = runNotes(model);
  if (notes.length > 0) parts.push('## Notes', '', ...notes.map((note) => `- ${note}`), '');
  return parts.join('\n');
}
