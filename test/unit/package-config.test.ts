/**
 * The repository's npm setup, as a developer meets it: npm commands run without warnings (no
 * unknown .npmrc keys), onnxruntime-node's CUDA download is denied without one, the install hint
 * users get is the environment variable npm does not warn about, `engines` names the supported Node
 * lines, CI tests each of them, and nothing at run time needs the build-only or report-only packages.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../lib/addon/loader.js';
import { onnxRuntimeInstallHint } from '../../lib/addon/system/onnxruntime-package.js';

const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as {
  engines: { node: string };
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  allowScripts: Record<string, boolean>;
};

describe('the npm setup', () => {
  it('npm commands in the repository print no warnings: no .npmrc with keys npm does not know', () => {
    expect(existsSync(join(packageRoot, '.npmrc'))).toBe(false);
    // The user's and the global npmrc are someone else's business: only the project's counts here.
    const folder = mkdtempSync(join(tmpdir(), 'npmrc-'));
    for (const name of ['user', 'global']) writeFileSync(join(folder, name), '');
    // (and the npm_config_* that `npm exec vitest` passes down are left out, as a shell would not have them)
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));
    const env = {
      ...inherited,
      npm_config_update_notifier: 'false',
      npm_config_userconfig: join(folder, 'user'),
      npm_config_globalconfig: join(folder, 'global'),
    };
    const result = spawnSync('npm', ['pkg', 'get', 'name'], { cwd: packageRoot, encoding: 'utf8', env });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe('"tensorrt-node"');
    expect(result.stderr).toBe('');
  });

  it("onnxruntime-node's CUDA download is denied by allowScripts, and users are told the environment variable its script reads", () => {
    expect(pkg.allowScripts['onnxruntime-node']).toBe(false);
    expect(onnxRuntimeInstallHint).toBe('ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node');
    expect(readFileSync(join(packageRoot, '.ci', 'run'), 'utf8')).toContain('export ONNXRUNTIME_NODE_INSTALL=skip');
  });

  it('engines names the supported Node lines (require() of ES modules without a flag), and CI runs the fast tiers on 22, 24 and 26', () => {
    expect(pkg.engines.node).toBe('^20.19.0 || ^22.12.0 || >=24.0.0');
    expect(readFileSync(join(packageRoot, '.ci', 'run'), 'utf8')).toMatch(/^bash scripts\/test-node-lines\.sh 22 24 26$/m);
  });

  it('the runtime dependencies are what the package needs once installed: no chart library, no build driver', () => {
    expect(Object.keys(pkg.dependencies)).not.toContain('echarts');
    expect(Object.keys(pkg.dependencies)).not.toContain('cmake-js');
    expect(pkg.devDependencies['cmake-js']).toBeDefined(); // the developers' build and the prebuilds
    // A source build at install compiles against these headers (scripts/install.mjs).
    expect(Object.keys(pkg.dependencies)).toEqual(expect.arrayContaining(['node-addon-api', 'node-api-headers']));
  });
});
