import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BenchResultsFile } from '../../lib/bench/results.js';
import { packageRoot } from '../../lib/native.js';
import { runCli } from '../helpers/cli.js';

const fixtures = join(packageRoot, 'test', 'fixtures', 'trtexec');

describe('tensorrt-node bench and report', () => {
  const folder = mkdtempSync(join(tmpdir(), 'cli-bench-'));

  it('imports trtexec runs into a results file, and reports it as HTML and Markdown', () => {
    const results = join(folder, 'results.json');
    const bench = runCli(['bench', '--trtexec', join(fixtures, 'trtexec-10.log'), '--trtexec', join(fixtures, 'exportTimes-10.json'), '--json', results]);
    expect(bench.stderr).toBe('');
    expect(bench.status).toBe(0);
    expect(bench.stdout).toContain('=== Performance summary ===\nThroughput: 461.57 qps\n');
    expect(bench.stdout).toContain(`Results written to ${results}`);
    const written = JSON.parse(readFileSync(results, 'utf8')) as BenchResultsFile;
    expect(written.runs.map((run) => run.source)).toEqual(['trtexec', 'trtexec']);
    expect(written.tool.command).toEqual(['bench', '--trtexec', join(fixtures, 'trtexec-10.log'), '--trtexec', join(fixtures, 'exportTimes-10.json'), '--json', results]);

    const report = runCli(['report', results, '--html', join(folder, 'report.html'), '--md', join(folder, 'report.md')]);
    expect(report.status).toBe(0);
    expect(report.stdout).toBe(`HTML report written to ${join(folder, 'report.html')}\nMarkdown report written to ${join(folder, 'report.md')}\n`);
    expect(readFileSync(join(folder, 'report.html'), 'utf8')).toContain('<svg ');
    expect(readFileSync(join(folder, 'report.md'), 'utf8')).toContain('## Runs compared');
    expect(runCli(['report', results]).stdout).toMatch(/^# tensorrt-node benchmark report\n/);
  });

  it('BAD CALL - benchmarking a model says that no backend is available yet, before writing anything', () => {
    const model = join(folder, 'model.onnx');
    writeFileSync(model, 'never read: no backend exists to read it');
    const json = join(folder, 'never.json');
    const result = runCli(['bench', model, '--backend', 'cpu', '--json', json]);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(`tensorrt-node bench: Cannot benchmark ${model}: no backend available yet (InferenceSession and its cpu and tensorrt backends have not landed in this build). Import a trtexec run meanwhile with \`tensorrt-node bench --trtexec <exportTimes.json or log>\`. [ERR_NOT_SUPPORTED]\n`);
    expect(existsSync(json)).toBe(false);
  });

  it('BAD CALL - bad option values exit with 2 and the typed error', () => {
    const duration = runCli(['bench', '--trtexec', join(fixtures, 'trtexec-10.log'), '--duration', '3']);
    expect(duration.status).toBe(2);
    expect(duration.stderr).toBe('tensorrt-node bench: Expected a duration such as 200ms, 3s or 1m for --duration but received "3" of type string [ERR_INVALID_ARGUMENT]\n');
    const percentile = runCli(['bench', '--trtexec', join(fixtures, 'trtexec-10.log'), '--percentile', '99,100.5']);
    expect(percentile.stderr).toBe('tensorrt-node bench: Expected percentiles between 0 and 100 (comma-separated) for --percentile but received "100.5" of type string [ERR_INVALID_ARGUMENT]\n');
    const unknown = runCli(['bench', '--concurency', '4']);
    expect(unknown.stderr).toMatch(/^tensorrt-node bench: Unknown option --concurency for `tensorrt-node bench` \(did you mean --concurrency\?\)/);
  });

  it('BAD CALL - report refuses corrupted results and other schema versions, naming the file', () => {
    const corrupted = join(folder, 'corrupted.json');
    writeFileSync(corrupted, '{"schema": "tensorrt-node/bench-results", "schemaVersion": 1, "runs": [');
    const result = runCli(['report', corrupted]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`^tensorrt-node report: Cannot read results file ${corrupted}: it is not valid JSON \\(.+\\); the file may be truncated or corrupted \\[ERR_RESULTS_SCHEMA\\]\\n$`));
    const future = join(folder, 'future.json');
    writeFileSync(future, JSON.stringify({ schema: 'tensorrt-node/bench-results', schemaVersion: 7, runs: [] }));
    expect(runCli(['report', future]).stderr).toBe(`tensorrt-node report: Cannot read results file ${future}: it has results schema version 7, but this tensorrt-node reads version 1; re-run the benchmark, or report it with the tensorrt-node version that wrote it [ERR_RESULTS_SCHEMA]\n`);
    expect(runCli(['report']).stderr).toBe('tensorrt-node report: Expected at least one results file for results but received undefined [ERR_INVALID_ARGUMENT]\n');
  });
});
