// scripts/gpu-check.mjs must run on any machine with only Node.js, the addon and dist/: here (no
// GPU) it writes a JSON report that says honestly that nothing could be measured, and exits 0.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot, packageVersion } from '../../lib/addon/loader.js';
import { hasGpu, hasNoDriver } from '../helpers/machine.js';

const script = join(packageRoot, 'scripts', 'gpu-check.mjs');

describe('scripts/gpu-check.mjs', () => {
  const out = mkdtempSync(join(tmpdir(), 'gpu-check-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it("imports nothing but node: builtins, the compiled dist/ and the GPU tier's plain-JS helpers", () => {
    const source = readFileSync(script, 'utf8');
    const specifiers = [...source.matchAll(/(?:from\s+|import\s*\(\s*)['"]([^'"]+)['"]/g)].map((match) => match[1]!);
    expect(specifiers.length).toBeGreaterThan(5);
    // ../test/gpu and ../test/helpers hold plain-JS helpers without dependencies (the GPU tier it runs needs them anyway).
    for (const specifier of specifiers)
      expect(specifier).toMatch(/^(node:|\.\.\/dist\/|\.\.\/test\/(gpu|helpers)\/[\w-]+\.mjs$)/);
  });

  it('runs the GPU tier and writes one JSON report with the environment', () => {
    const run = spawnSync(process.execPath, [script, '--out', out, '--quick'], {
      cwd: packageRoot,
      encoding: 'utf8',
      timeout: 900_000,
    });
    expect(run.status, run.stderr + run.stdout).toBe(0);
    const files = readdirSync(out);
    expect(files).toHaveLength(1);
    expect(run.stdout).toContain(`gpu-check: wrote ${join(out, files[0]!)}`);
    const report = JSON.parse(readFileSync(join(out, files[0]!), 'utf8'));
    expect(report.schema).toBe('tensorrt-node/gpu-check@1');
    expect(report.environment.package).toEqual({ name: 'tensorrt-node', version: packageVersion });
    expect(report.environment.node).toBe(process.version);
    expect(report.tests).toMatchObject({ command: 'node --test test/gpu/', exitCode: 0, fail: 0 });
    expect(report.tests.pass).toBeGreaterThanOrEqual(1);
    expect(report.gpuAvailable).toBe(hasGpu);
    if (hasGpu) {
      expect(report.results.transfers.length).toBeGreaterThan(0);
      expect(report.goals.length).toBeGreaterThanOrEqual(3);
      expect(['ok', 'not run']).toContain(report.tensorrtRun.status);
      return;
    }
    // No GPU: say why, measure nothing, and show that the GPU suites were skipped for that reason.
    expect(files[0]).toMatch(/^gpu-check-no-gpu-.*\.json$/);
    expect(report.results).toBeNull();
    expect(report.goals).toEqual([]);
    expect(report.environment.gpu).toBeNull();
    expect(report.tests.skippedSuitesAndTests.length).toBeGreaterThanOrEqual(5);
    if (hasNoDriver) {
      expect(report.reason).toBe('No NVIDIA driver is installed (libcuda.so.1 is missing)');
      expect(report.environment.cuda.error).toEqual({
        code: 35,
        name: 'cudaErrorInsufficientDriver',
        message: 'CUDA driver version is insufficient for CUDA runtime version',
      });
      // The suites skipped for the GPU say why in doctor's words; none says "insufficient".
      const forTheGpu = report.tests.skippedSuitesAndTests.filter((skipped: { reason: string }) =>
        skipped.reason.startsWith('no usable GPU'),
      );
      expect(forTheGpu.length).toBeGreaterThanOrEqual(5);
      for (const skipped of forTheGpu)
        expect(skipped.reason).toContain('(CUDA error 35): No NVIDIA driver is installed (libcuda.so.1 is missing)');
      for (const skipped of report.tests.skippedSuitesAndTests) expect(skipped.reason).not.toMatch(/insufficient/i);
    }
    expect(run.stdout).toContain(`gpu-check: no GPU measurements: ${report.reason}`);
    // The TensorRT run benchmark (ours minus trtexec) says it did not run, and why.
    expect(report.tensorrtRun).toEqual({ status: 'not run', reason: `no GPU/TensorRT: ${report.reason}` });
    expect(run.stdout).toContain(`gpu-check: TensorRT run benchmark not run: no GPU/TensorRT: ${report.reason}`);
  });

  it('BAD CALL - without --out it prints its usage and exits 2', () => {
    const run = spawnSync(process.execPath, [script], { cwd: packageRoot, encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stdout).toContain('usage: node scripts/gpu-check.mjs --out <dir> [--quick] [--skip-tests]');
  });
});
