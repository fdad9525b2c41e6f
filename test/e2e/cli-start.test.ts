// `npm start`, the main job: the default model benchmarked on the backend --backend auto picks (the
// cpu backend on a machine without a usable GPU, with the reason printed), the harness overhead
// measured, results and both reports written. Shortened with --duration so the test stays quick.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BenchResultsFile } from '../../lib/bench/results.js';
import { capabilities } from '../../lib/addon/capabilities.js';
import { runCli } from '../helpers/cli.js';

describe('tensorrt-node start', () => {
  it('benchmarks the PP-OCRv4 detector with --backend auto, prints trtexec-style summaries and writes results, HTML and Markdown', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'cli-start-')), 'report');
    const result = runCli(['start', '--duration', '300ms', '--out', out]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const tensorrt = (await capabilities()).backends.tensorrt;
    const backend = tensorrt.available ? 'tensorrt' : 'cpu';
    if (!tensorrt.available)
      expect(result.stdout).toContain(`--backend auto: using cpu, because TensorRT is not usable here: ${tensorrt.reason}`);
    expect(result.stdout.match(/=== Performance summary ===/g)).toHaveLength(4);
    // One wording for a machine without a driver (doctor's), never CUDA's "driver version is insufficient";
    // and the cpu backend runs off the loop, so no "ran synchronously on the JS thread" nor a tensorrt recommendation.
    expect(result.stdout).not.toMatch(/insufficient|ran synchronously|\(tensorrt\) avoids/i);
    // The overhead as a share of a request with its noise band: never a bare negative percentage.
    expect(result.stdout).toMatch(
      new RegExp(
        `Harness overhead on the same ${backend} session: (below the noise of this run|\\d[\\d.]*% of each request) \\(95% band -?[\\d.]+% to -?[\\d.]+% over 10 rounds\\)`,
      ),
    );
    expect(result.stdout).toContain(`Report: ${join(out, 'report.html')}`);

    const written = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as BenchResultsFile;
    expect(written.runs.map((run) => [run.status, run.target?.backend, run.point.precision, run.point.batch])).toEqual([
      ['ok', backend, 'fp32', 1],
      ['ok', backend, 'fp32', 4],
      ['ok', backend, 'fp16', 1],
      ['ok', backend, 'fp16', 4],
    ]);
    expect(written.overhead?.rounds).toBe(10);
    expect(written.tool.command[0]).toBe('start');
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('<svg ');
    expect(html).toContain('tensorrt-node start: PP-OCRv4 detector');
    // --backend auto chose the backend: the results and the report say so, not "asked for by name".
    expect(written.runs[0]!.target!.notes[0]).toMatch(
      tensorrt.available
        ? /^InferenceSession: chosen by --backend auto: TensorRT is usable here;/
        : /^InferenceSession: chosen by --backend auto: TensorRT is not usable here \(/,
    );
    expect(html).not.toContain('asked for by name');
    expect(html).toContain('<p class="headline">Ran on the');
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toMatch(/^# tensorrt-node start: PP-OCRv4 detector\n/);
  });
});
