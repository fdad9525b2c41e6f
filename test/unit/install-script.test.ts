/**
 * scripts/install.mjs, run by node as npm runs it, in a package folder laid out for each case: a
 * prebuilt binary that fits (quiet), none shipped or none fitting (a source build that says why and
 * how long), a failing build (the install still succeeds). cmake-js and the loader are stand-ins
 * here; test/e2e/packaging.test.ts runs the real ones from the packed tarball.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../lib/addon/loader.js';

const work = mkdtempSync(join(tmpdir(), 'install-script-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const platform = `${process.platform}-${process.arch}`;

// Writes build/ as cmake-js would (an addon, object files, cmake's cache), or fails with FAKE_CMAKE_EXIT.
const fakeCmakeJs = `
const { mkdirSync, writeFileSync } = require('node:fs');
if (process.env.FAKE_CMAKE_EXIT) process.exit(Number(process.env.FAKE_CMAKE_EXIT));
mkdirSync('build/Release', { recursive: true });
mkdirSync('build/CMakeFiles/tensorrt_node.dir', { recursive: true });
writeFileSync('build/Release/tensorrt_node.node', 'addon');
writeFileSync('build/Release/tensorrt_node.exp', 'x');
writeFileSync('build/CMakeFiles/tensorrt_node.dir/addon.cc.o', Buffer.alloc(2 ** 20));
writeFileSync('build/CMakeCache.txt', 'cache');
console.log('[10/10] Linking CXX shared module Release/tensorrt_node.node');
`;

// The loader's two calls, answering as the real one does for a prebuild that loads or none that does.
const fakeLoader = (fits: boolean) => `
export const addonCandidates = () => [{ path: 'prebuilds/${platform}/tensorrt-node.cuda13.trt11.node', source: 'prebuild', variant: 'cuda13-trt11', eligible: true, reason: 'the driver supports CUDA 13.0' }];
export function loadAddonFrom(candidates) {
  ${fits ? "return { path: candidates[0].path, candidates: [{ ...candidates[0], status: 'loaded' }] };" : "throw Object.assign(new Error('no addon'), { details: { candidates: [{ variant: 'cuda13-trt11', outcome: 'needs an NVIDIA driver (libcuda.so.1 was not found)' }] } });"}
}`;

interface Layout {
  /** Inside an app's node_modules (pruned after a build) or a git checkout (kept). */
  inNodeModules?: boolean;
  prebuild?: 'fits' | 'does not fit';
  cmakeJs?: boolean;
}

function packageFolder(name: string, layout: Layout): string {
  const root = layout.inNodeModules === false ? join(work, name) : join(work, name, 'node_modules', 'tensorrt-node');
  mkdirSync(join(root, 'scripts'), { recursive: true });
  writeFileSync(join(root, 'package.json'), '{"name":"tensorrt-node","version":"0.1.0","type":"module"}\n');
  copyFileSync(join(packageRoot, 'scripts', 'install.mjs'), join(root, 'scripts', 'install.mjs'));
  if (layout.cmakeJs !== false) {
    mkdirSync(join(root, 'node_modules', 'cmake-js', 'bin'), { recursive: true });
    writeFileSync(join(root, 'node_modules', 'cmake-js', 'package.json'), '{"name":"cmake-js","version":"8.0.0"}\n');
    writeFileSync(join(root, 'node_modules', 'cmake-js', 'bin', 'cmake-js'), fakeCmakeJs);
  }
  if (layout.prebuild) {
    mkdirSync(join(root, 'prebuilds', platform), { recursive: true });
    writeFileSync(join(root, 'prebuilds', platform, 'tensorrt-node.cuda13.trt11.node'), 'prebuilt');
    mkdirSync(join(root, 'dist', 'addon'), { recursive: true });
    writeFileSync(join(root, 'dist', 'addon', 'loader.js'), fakeLoader(layout.prebuild === 'fits'));
  }
  return root;
}

function install(root: string, env: NodeJS.ProcessEnv = {}) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('TENSORRT_NODE_') && name !== 'CUDACXX'));
  // No CUDA compiler on PATH: a case gives one with CUDACXX (/usr/local/cuda is looked at too, so a
  // case that needs none sets TENSORRT_NODE_DISABLE_CUDA).
  const result = spawnSync(process.execPath, ['scripts/install.mjs'], { cwd: root, encoding: 'utf8', env: { ...clean, PATH: '/nonexistent', ...env } });
  return { status: result.status, stderr: result.stderr, lines: result.stdout.split('\n').filter(Boolean) };
}

describe('scripts/install.mjs (the npm install hook)', () => {
  it('with a prebuilt binary that fits, says one line (shown only with --foreground-scripts) and builds nothing', () => {
    const root = packageFolder('prebuilt', { prebuild: 'fits' });
    const result = install(root);
    expect(result.status, result.stderr).toBe(0);
    expect(result.lines).toEqual([`tensorrt-node: using the prebuilt binary cuda13-trt11 (prebuilds/${platform}/tensorrt-node.cuda13.trt11.node): the driver supports CUDA 13.0`]);
    expect(existsSync(join(root, 'build'))).toBe(false);
  });

  it('without prebuilt binaries, says why it builds from source and how long that takes, then keeps only the addon of the build', () => {
    const root = packageFolder('no-prebuilds', {});
    const result = install(root, { TENSORRT_NODE_DISABLE_CUDA: '1' });
    expect(result.status, result.stderr).toBe(0);
    expect(result.lines[0]).toBe(`tensorrt-node: this package has no prebuilt binary for ${platform} (release packages carry them for linux-x64 and linux-arm64; a development tarball or git checkout does not)`);
    expect(result.lines[1]).toBe('tensorrt-node: building the addon from source with cmake-js: TENSORRT_NODE_DISABLE_CUDA is set, so a CPU-only addon (the cpu backend and host tensors): usually 1-2 minutes.');
    expect(result.lines[2]).toBe('tensorrt-node: (compiler output: npm install --foreground-scripts; to skip the build and use only the cpu backend: TENSORRT_NODE_SKIP_BUILD=1)');
    expect(result.lines).toContain('[10/10] Linking CXX shared module Release/tensorrt_node.node');
    expect(result.lines.at(-2)).toMatch(/^tensorrt-node: native addon built in \d+ s \(run `npx tensorrt-node doctor` to see what it can use\)$/);
    expect(result.lines.at(-1)).toBe("tensorrt-node: removed the build's intermediate files (1.0 MiB); build/Release/tensorrt_node.node stays");
    expect(readdirSync(join(root, 'build'))).toEqual(['Release']);
    expect(readdirSync(join(root, 'build', 'Release'))).toEqual(['tensorrt_node.node']);
  });

  it('in a git checkout the build keeps its intermediate files, so that rebuilds stay incremental', () => {
    const root = packageFolder('checkout', { inNodeModules: false });
    const result = install(root);
    expect(result.status, result.stderr).toBe(0);
    expect(result.lines.at(-1)).toMatch(/^tensorrt-node: native addon built in/);
    expect(readdirSync(join(root, 'build')).sort()).toEqual(['CMakeCache.txt', 'CMakeFiles', 'Release']);
  });

  it('when no prebuilt binary fits, lists each with the reason before building; with CUDA it names the compiler and the architectures', () => {
    const root = packageFolder('no-fit', { prebuild: 'does not fit' });
    const nvcc = join(work, 'nvcc');
    writeFileSync(nvcc, '');
    const result = install(root, { CUDACXX: nvcc, TENSORRT_NODE_CUDA_ARCHITECTURES: '89-real' });
    expect(result.status, result.stderr).toBe(0);
    expect(result.lines.slice(0, 3)).toEqual([
      `tensorrt-node: no prebuilt binary for ${platform} fits this host:`,
      'tensorrt-node:   cuda13-trt11: needs an NVIDIA driver (libcuda.so.1 was not found)',
      `tensorrt-node: building the addon from source with cmake-js: with CUDA (${nvcc}) for GPU architectures 89-real: usually 1-3 minutes.`,
    ]);
    const all = install(packageFolder('no-fit-all-archs', { prebuild: 'does not fit' }), { CUDACXX: nvcc });
    expect(all.lines[2]).toBe(`tensorrt-node: building the addon from source with cmake-js: with CUDA (${nvcc}) for every supported GPU generation: usually 2-5 minutes (TENSORRT_NODE_CUDA_ARCHITECTURES=89-real, for example, builds for one).`);
  });

  it('a failed build or a missing cmake-js still installs (exit 0), without the addon, and says how to get it', () => {
    const failed = install(packageFolder('build-fails', {}), { FAKE_CMAKE_EXIT: '2' });
    expect(failed.status, failed.stderr).toBe(0);
    expect(failed.lines).toContainEqual(expect.stringMatching(/^tensorrt-node: building the addon from source failed after \d+ s \(exit code 2\)\.$/));
    expect(failed.lines.at(-1)).toBe('tensorrt-node: `npm rebuild tensorrt-node`. `npx tensorrt-node doctor` lists what is missing.');

    const noCmake = install(packageFolder('no-cmake-js', { cmakeJs: false }));
    expect(noCmake.status, noCmake.stderr).toBe(0);
    expect(noCmake.lines[1]).toBe('tensorrt-node: cmake-js is not installed, so the addon cannot be built from source.');
  });

  it('TENSORRT_NODE_SKIP_BUILD installs without the addon and without trying anything', () => {
    const root = packageFolder('skip', {});
    const result = install(root, { TENSORRT_NODE_SKIP_BUILD: '1' });
    expect(result.lines).toEqual(['tensorrt-node: TENSORRT_NODE_SKIP_BUILD is set: installing without the native addon (the cpu backend still works).']);
    expect(existsSync(join(root, 'build'))).toBe(false);
  });
});
