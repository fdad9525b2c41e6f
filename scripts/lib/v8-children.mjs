// What child processes and worker threads ran of lib/, from the raw V8 coverage that Node writes
// when NODE_V8_COVERAGE is set (vitest.config.ts sets it for the processes that tests start).
//
// vitest's own V8 coverage sees only the test processes: the CLI that the e2e tier runs from dist/
// in child processes, the cpu backend's and the server's worker threads, and scripts that tests run
// with tsx are invisible to it. Node writes their coverage with the source map of every module
// that has one (dist/ from tsc, lib/*.ts from tsx), so each executed position can be traced back
// to lib/*.ts. The result is a set of executed source positions per file, which
// scripts/coverage-summary.mjs matches against the statements of vitest's report: a statement
// counts as run by a child when the position where it starts (or the first mapped one after it on
// its line) ran. Modules without a source map (the packed tarball's dist/ ships none) cannot be
// traced and are left out.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BASE64 = new Map(
  [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'].map((char, index) => [char, index]),
);

/** Source map "mappings" as [generatedLine, generatedColumn, sourceIndex, originalLine, originalColumn] (0-based). */
export function decodeMappings(mappings) {
  const segments = [];
  let sourceIndex = 0;
  let originalLine = 0;
  let originalColumn = 0;
  let generatedLine = 0;
  for (const line of mappings.split(';')) {
    let generatedColumn = 0;
    for (const segment of line.split(',')) {
      if (segment.length === 0) continue;
      const fields = [];
      let value = 0;
      let shift = 0;
      for (const char of segment) {
        const digit = BASE64.get(char);
        if (digit === undefined) throw new Error(`invalid base64 VLQ character ${JSON.stringify(char)} in a source map`);
        value += (digit & 31) << shift;
        if (digit & 32) {
          shift += 5;
        } else {
          fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      generatedColumn += fields[0];
      if (fields.length < 4) continue; // a generated position with no source
      sourceIndex += fields[1];
      originalLine += fields[2];
      originalColumn += fields[3];
      segments.push([generatedLine, generatedColumn, sourceIndex, originalLine, originalColumn]);
    }
    generatedLine += 1;
  }
  return segments;
}

/**
 * V8's block coverage (nested ranges, the innermost one deciding) as a piecewise-constant count:
 * `starts[i]` is where `counts[i]` begins, up to the next start.
 */
export function flattenRanges(functions) {
  const ranges = functions.flatMap((fn) => fn.ranges).sort((a, b) => a.startOffset - b.startOffset || b.endOffset - a.endOffset);
  const starts = [];
  const counts = [];
  const mark = (offset, count) => {
    if (starts.length > 0 && starts[starts.length - 1] === offset) counts[counts.length - 1] = count;
    else {
      starts.push(offset);
      counts.push(count);
    }
  };
  const open = [];
  const close = () => {
    const done = open.pop();
    mark(done.endOffset, open.length > 0 ? open[open.length - 1].count : 0);
  };
  for (const range of ranges) {
    while (open.length > 0 && open[open.length - 1].endOffset <= range.startOffset) close();
    mark(range.startOffset, range.count);
    open.push(range);
  }
  while (open.length > 0) close();
  return { starts, counts };
}

function countAt({ starts, counts }, offset) {
  let low = 0;
  let high = starts.length - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (starts[middle] <= offset) {
      found = middle;
      low = middle + 1;
    } else high = middle - 1;
  }
  return found < 0 ? 0 : counts[found];
}

/**
 * Reads every coverage file in `dumpDir` and returns, for each source file under `sourceRoot`
 * (absolute path), Map(line (1-based) -> Map(column (0-based) -> ran)) of the positions its source
 * maps name, with how many modules and processes were traced.
 */
export function readChildCoverage(dumpDir, sourceRoot) {
  const positions = new Map();
  const decoded = new Map(); // mappings text -> segments, shared by every process that loaded the same module
  let dumps = 0;
  let modules = 0;
  let files;
  try {
    files = readdirSync(dumpDir).filter((name) => name.startsWith('coverage-') && name.endsWith('.json'));
  } catch {
    return { positions, dumps, modules };
  }
  const rootUrl = `file://${sourceRoot.endsWith('/') ? sourceRoot : `${sourceRoot}/`}`;
  for (const name of files) {
    let report;
    try {
      report = JSON.parse(readFileSync(join(dumpDir, name), 'utf8'));
    } catch {
      continue; // a process killed while writing leaves a partial file: nothing to trace
    }
    dumps += 1;
    const sourceMaps = report['source-map-cache'] ?? {};
    for (const script of report.result ?? []) {
      const sourceMap = sourceMaps[script.url];
      if (!sourceMap?.data?.mappings || !Array.isArray(sourceMap.lineLengths)) continue;
      const sources = sourceMap.data.sources ?? [];
      if (!sources.some((source) => typeof source === 'string' && source.startsWith(rootUrl))) continue;
      modules += 1;
      let segments = decoded.get(sourceMap.data.mappings);
      if (!segments) {
        segments = decodeMappings(sourceMap.data.mappings);
        decoded.set(sourceMap.data.mappings, segments);
      }
      const lineStarts = [0];
      for (const length of sourceMap.lineLengths) lineStarts.push(lineStarts[lineStarts.length - 1] + length + 1);
      const blocks = flattenRanges(script.functions);
      const sourcePaths = sources.map((source) =>
        typeof source === 'string' && source.startsWith(rootUrl) ? fileURLToPath(source) : null,
      );
      for (const [generatedLine, generatedColumn, sourceIndex, originalLine, originalColumn] of segments) {
        const path = sourcePaths[sourceIndex];
        if (!path || generatedLine >= lineStarts.length) continue;
        const ran = countAt(blocks, lineStarts[generatedLine] + generatedColumn) > 0;
        let lines = positions.get(path);
        if (!lines) positions.set(path, (lines = new Map()));
        let columns = lines.get(originalLine + 1);
        if (!columns) lines.set(originalLine + 1, (columns = new Map()));
        columns.set(originalColumn, (columns.get(originalColumn) ?? false) || ran);
      }
    }
  }
  return { positions, dumps, modules };
}

/**
 * Whether a child ran the statement of an istanbul statement map entry: the mapped position where
 * it starts, else the first mapped position after its start on the same line (and inside it).
 */
export function childRanStatement(lines, statement) {
  const columns = lines?.get(statement.start.line);
  if (!columns) return false;
  const exact = columns.get(statement.start.column);
  if (exact !== undefined) return exact;
  let best;
  for (const column of columns.keys()) {
    if (column < statement.start.column) continue;
    if (statement.end.line === statement.start.line && column >= statement.end.column) continue;
    if (best === undefined || column < best) best = column;
  }
  return best === undefined ? false : columns.get(best);
}
