import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BenchResultsFile } from '../../lib/bench/results.js';
import { packageRoot } from '../../lib/addon/loader.js';
import { runCli } from '../helpers/cli.js';
import { serializeModel } from '../../lib/onnx/model.js';
import { DataType } from '../../lib/onnx/proto.js';
import { GraphBuilder, buildModel, mlpModel } from '../helpers/onnx-fixtures.js';

const fixtures = join(packageRoot, 'test', 'fixtures', 'trtexec');

describe('tensorrt-node bench and report', () => {
  const folder = mkdtempSync(join(tmpdir(), 'cli-bench-'));

  it('imports trtexec runs into a results file, and reports it as HTML and Markdown', () => {
    const results = join(folder, 'results.json');
    const bench = runCli([
      'bench',
      '--trtexec',
      join(fixtures, 'trtexec-10.log'),
      '--trtexec',
      join(fixtures, 'exportTimes-10.json'),
      '--json',
      results,
    ]);
    expect(bench.stderr).toBe('');
    expect(bench.status).toBe(0);
    expect(bench.stdout).toContain('=== Performance summary ===\nThroughput: 461.57 qps\n');
    expect(bench.stdout).toContain(`Results written to ${results}`);
    const written = JSON.parse(readFileSync(results, 'utf8')) as BenchResultsFile;
    expect(written.runs.map((run) => run.source)).toEqual(['trtexec', 'trtexec']);
    expect(written.tool.command).toEqual([
      'bench',
      '--trtexec',
      join(fixtures, 'trtexec-10.log'),
      '--trtexec',
      join(fixtures, 'exportTimes-10.json'),
      '--json',
      results,
    ]);

    const report = runCli(['report', results, '--html', join(folder, 'report.html'), '--md', join(folder, 'report.md')]);
    expect(report.status).toBe(0);
    expect(report.stdout).toBe(
      `HTML report written to ${join(folder, 'report.html')}\nMarkdown report written to ${join(folder, 'report.md')}\n`,
    );
    // Two trtexec runs, each one point: no one-point charts, and the report says why there are none.
    expect(readFileSync(join(folder, 'report.html'), 'utf8')).not.toContain('<svg ');
    expect(readFileSync(join(folder, 'report.html'), 'utf8')).toContain(
      'No charts: every series was measured at one batch size and one concurrency',
    );
    expect(readFileSync(join(folder, 'report.md'), 'utf8')).toContain('## Runs compared');
    expect(runCli(['report', results]).stdout).toMatch(/^# tensorrt-node benchmark report\n/);
  });

  it('benchmarks an ONNX model through InferenceSession on the cpu backend, with and without the batcher', () => {
    const model = join(folder, 'mlp.onnx');
    writeFileSync(model, serializeModel(mlpModel()));
    const json = join(folder, 'mlp.json');
    for (const batcher of [false, true]) {
      const result = runCli([
        'bench',
        model,
        '--backend',
        'cpu',
        '--concurrency',
        '1,4',
        '--duration',
        '200ms',
        '--warmup',
        '50ms',
        ...(batcher ? ['--batcher'] : []),
        '--json',
        json,
      ]);
      expect(result.status).toBe(0);
      expect(result.stdout).not.toMatch(/insufficient|ran synchronously/i);
      const written = JSON.parse(readFileSync(json, 'utf8')) as BenchResultsFile;
      expect(written.runs.map((run) => [run.status, run.point.concurrency, run.point.batcher, run.target?.backend])).toEqual([
        ['ok', 1, batcher, 'cpu'],
        ['ok', 4, batcher, 'cpu'],
      ]);
      expect(written.runs[1]!.target!.notes).toContain(
        batcher ? 'dynamic batcher: maxBatchSize 4, maxDelayMs 0' : 'no batcher: one execution per request',
      );
    }
  });

  it("BAD CALL - a model no backend can read fails its runs with the loader's error (exit 1), and the results say so", () => {
    const model = join(folder, 'model.onnx');
    writeFileSync(model, 'not an onnx model');
    const json = join(folder, 'failed.json');
    const result = runCli(['bench', model, '--backend', 'cpu', '--duration', '100ms', '--json', json]);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain(
      `Run failed: Expected an ONNX model (ModelProto protobuf) for ${model} but received bytes that are not valid protobuf`,
    );
    const written = JSON.parse(readFileSync(json, 'utf8')) as BenchResultsFile;
    expect(written.runs.map((run) => [run.status, run.error?.code])).toEqual([['failed', 'ERR_ONNX']]);
  });

  it('BAD CALL - bad option values exit with 2 and the typed error', () => {
    const duration = runCli(['bench', '--trtexec', join(fixtures, 'trtexec-10.log'), '--duration', '3']);
    expect(duration.status).toBe(2);
    expect(duration.stderr).toBe(
      'tensorrt-node bench: Expected a duration such as 250ms, 3s, 1.5m or 1h30m for --duration but received "3" of type string [ERR_INVALID_ARGUMENT]\n',
    );
    const percentile = runCli(['bench', '--trtexec', join(fixtures, 'trtexec-10.log'), '--percentile', '99,100.5']);
    expect(percentile.stderr).toBe(
      'tensorrt-node bench: Expected percentiles between 0 and 100 (comma-separated) for --percentile but received "100.5" of type string [ERR_INVALID_ARGUMENT]\n',
    );
    const unknown = runCli(['bench', '--concurency', '4']);
    expect(unknown.stderr).toMatch(
      /^tensorrt-node bench: Unknown option --concurency for `tensorrt-node bench` \(did you mean --concurrency\?\)/,
    );
  });

  it('BAD CALL - a model that needs --shape: an argument error (exit 2) naming the flag before anything runs or is written', () => {
    const model = join(folder, 'detector.onnx');
    // An image model whose height and width are dynamic, as detectors are: x [N, 3, H, W] -> Relu.
    const graph = new GraphBuilder('detector');
    graph.input('x', DataType.FLOAT, ['batch', 3, 'height', 'width']);
    graph.node('Relu', ['x'], [], 1, 'relu');
    graph.output('relu_out', DataType.FLOAT, ['batch', 3, 'height', 'width']);
    writeFileSync(model, serializeModel(buildModel(graph.build())));
    const json = join(folder, 'never.json');
    const result = runCli(['bench', model, '--backend', 'cpu', '--duration', '100ms', '--json', json]);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe(''); // no timing trace, no summary
    expect(result.stderr).toMatch(
      /^tensorrt-node bench: Expected --shape x:Nx3xNxN \(each N a size; a dynamic leading dim follows --batch\) for input "x" of .*detector\.onnx, whose dims \[-1, 3, -1, -1\] are dynamic beyond the batch dim, but received none \[ERR_INVALID_ARGUMENT\]\n$/,
    );
    expect(existsSync(json)).toBe(false);
    const wrong = runCli(['bench', model, '--backend', 'cpu', '--shape', 'images:1x3x8x8']);
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toContain('Expected --shape for inputs of');
  });

  it('BAD CALL - report refuses corrupted results and other schema versions, naming the file', () => {
    const corrupted = join(folder, 'corrupted.json');
    writeFileSync(corrupted, '{"schema": "tensorrt-node/bench-results", "schemaVersion": 1, "runs": [');
    const result = runCli(['report', corrupted]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(
      new RegExp(
        `^tensorrt-node report: Cannot read results file ${corrupted}: it is not valid JSON \\(.+\\); the file may be truncated or corrupted \\[ERR_RESULTS_SCHEMA\\]\\n$`,
      ),
    );
    const future = join(folder, 'future.json');
    writeFileSync(future, JSON.stringify({ schema: 'tensorrt-node/bench-results', schemaVersion: 7, runs: [] }));
    expect(runCli(['report', future]).stderr).toBe(
      `tensorrt-node report: Cannot read results file ${future}: it has results schema version 7, but this tensorrt-node reads version 1; re-run the benchmark, or report it with the tensorrt-node version that wrote it [ERR_RESULTS_SCHEMA]\n`,
    );
    expect(runCli(['report']).stderr).toBe(
      'tensorrt-node report: Expected at least one results file for results but received undefined [ERR_INVALID_ARGUMENT]\n',
    );
  });
});
