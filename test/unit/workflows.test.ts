import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { packageRoot } from '../../lib/addon/loader.js';

// The release workflow cannot run here. actionlint checks its syntax, expressions and action inputs
// (`npm run lint:workflows`, and test/e2e/workflows-actionlint.test.ts); these tests check that it
// does what the release needs.
const workflowPath = join(packageRoot, '.github', 'workflows', 'prebuilds.yml');
const source = readFileSync(workflowPath, 'utf8');

interface Step { uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, string> }
interface Job { needs?: string | string[]; 'runs-on': string; container?: string; strategy?: { matrix: { include: Record<string, string>[] } }; steps: Step[]; env?: Record<string, string> }
const workflow = parse(source) as { jobs: Record<string, Job> };

describe('release workflow (.github/workflows/prebuilds.yml)', () => {
  it('builds every architecture x (CUDA 12 + TensorRT 10, CUDA 13 + TensorRT 11), plus Jetson', () => {
    const matrix = workflow.jobs.prebuild!.strategy!.matrix.include;
    expect(matrix.map((entry) => `${entry.arch} ${entry.variant}`)).toEqual(['x64 cuda12-trt10', 'x64 cuda13-trt11', 'arm64 cuda12-trt10', 'arm64 cuda13-trt11', 'arm64 cuda12-trt10-tegra']);
    for (const entry of matrix) {
      expect(entry['tensorrt-ref']).toMatch(entry.variant!.includes('trt10') ? /^v10\./ : /^v11\./);
      if (entry.cuda) expect(entry.cuda.split('.')[0]).toBe(entry.variant!.slice(4, 6));
      expect(entry.runner).toBe(entry.arch === 'arm64' ? 'ubuntu-24.04-arm' : 'ubuntu-24.04');
    }
  });

  it('builds in old-glibc images and enforces the glibc floor on the binary', () => {
    const matrix = workflow.jobs.prebuild!.strategy!.matrix.include;
    expect(workflow.jobs.prebuild!.container).toBe('${{ matrix.image }}');
    for (const entry of matrix.filter((candidate) => !candidate.variant!.endsWith('tegra'))) {
      expect(entry.image).toMatch(/manylinux_2_28_(x86_64|aarch64)$/);
      expect(entry['max-glibc']).toBe('2.28');
    }
    const build = workflow.jobs.prebuild!.steps.find((step) => step.run?.includes('npm run prebuild:local'));
    expect(build?.run).toContain('--max-glibc "${{ matrix.max-glibc }}"');
  });

  it('runs the CPU test tiers against the prebuilt binary, uploads it, and packs the tarball', () => {
    const steps = workflow.jobs.prebuild!.steps;
    const tests = steps.find((step) => step.run?.includes('npm run test:native'));
    expect(tests?.run).toContain('npm run test:unit');
    expect(tests?.env?.TENSORRT_NODE_VARIANT).toBe('${{ matrix.variant }}');
    expect(steps.find((step) => step.uses?.startsWith('actions/upload-artifact@'))?.with).toMatchObject({ path: 'prebuilds/', 'if-no-files-found': 'error' });

    const pack = workflow.jobs.package!;
    expect(pack.needs).toBe('prebuild');
    expect(pack.steps.find((step) => step.uses?.startsWith('actions/download-artifact@'))?.with).toMatchObject({ pattern: 'prebuild-*', path: 'prebuilds/', 'merge-multiple': true });
    expect(pack.steps.some((step) => step.run?.includes('npm pack'))).toBe(true);
  });
});
