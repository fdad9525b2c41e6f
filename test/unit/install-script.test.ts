/**
 * scripts/install.mjs, run by node as npm runs it, in a package folder laid out for each case: a
 * prebuilt binary that fits (quiet), none shipped or none fitting (a source build that says why and
 * how long), a failing build (the install still succeeds). cmake and the loader are stand-ins
 * here; test/e2e/packaging.test.ts runs the real ones from the packed tarball.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../lib/addon/loader.js';

const work = mkdtempSync(join(tmpdir(), 'install-script-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const platform = `${process.platform}-${process.arch}`;

// cmake on PATH: records its arguments; `--build` writes build/ as a real build would (an addon,
// object files, cmake's cache), or fails with FAKE_CMAKE_EXIT.
const fakeCmake = `#!${process.execPath}
const { appendFileSync, mkdirSync, writeFileSync } = require('node:fs');
appendFileSync(process.env.FAKE_CMAKE_LOG, JSON.stringify(process.argv.slice(2)) + '\\n');
if (process.argv[2] !== '--build') process.exit(0);
if (process.env.FAKE_CMAKE_EXIT) process.exit(Number(process.env.FAKE_CMAKE_EXIT));
mkdirSync('build/Release', { recursive: true });
mkdirSync('build/CMakeFiles/tensorrt_node.dir', { recursive: true });
writeFileSync('build/Release/tensorrt_node.node', 'addon');
writeFileSync('build/Release/tensorrt_node.exp', 'x');
writeFileSync('build/CMakeFiles/tensorrt_node.dir/addon.cc.o', Buffer.alloc(2 ** 20));
writeFileSync('build/CMakeCache.txt', 'cache');
console.log('[10/10] Linking CXX shared module Release/tensorrt_node.node');
`;
const toolFolder = join(work, 'bin');
mkdirSync(toolFolder);
writeFileSync(join(toolFolder, 'cmake'), fakeCmake, { mode: 0o755 });

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
  /** Whether cmake is on PATH. */
  cmake?: boolean;
}

function packageFolder(name: string, layout: Layout): string {
  const root = layout.inNodeModules === false ? join(work, name) : join(work, name, 'node_modules', 'tensorrt-node');
  mkdirSync(join(root, 'scripts'), { recursive: true });
  writeFileSync(join(root, 'package.json'), '{"name":"tensorrt-node","version":"0.1.0","type":"module"}\n');
  copyFileSync(join(packageRoot, 'scripts', 'install.mjs'), join(root, 'scripts', 'install.mjs'));
  // The packages the build takes headers from (dependencies of the real package).
  for (const name of ['node-api-headers', 'node-addon-api']) {
    mkdirSync(join(root, 'node_modules', name), { recursive: true });
    writeFileSync(join(root, 'node_modules', name, 'package.json'), `{"name":"${name}","version":"1.0.0","main":"index.js"}\n`);
    writeFileSync(join(root, 'node_modules', name, 'index.js'), `module.exports = { include_dir: '/headers/${name}' };\n`);
  }
  if (layout.prebuild) {
    mkdirSync(join(root, 'prebuilds', platform), { recursive: true });
    writeFileSync(join(root, 'prebuilds', platform, 'tensorrt-node.cuda13.trt11.node'), 'prebuilt');
    mkdirSync(join(root, 'dist', 'addon'), { recursive: true });
    writeFileSync(join(root, 'dist', 'addon', 'loader.js'), fakeLoader(layout.prebuild === 'fits'));
  }
  return root;
}

function install(root: string, env: NodeJS.ProcessEnv = {}, layout: { cmake?: boolean } = {}) {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('TENSORRT_NODE_') && name !== 'CUDACXX'),
  );
  const log = join(root, 'cmake-calls.jsonl');
  // No CUDA compiler on PATH: a case gives one with CUDACXX (/usr/local/cuda is looked at too, so a
  // case that needs none sets TENSORRT_NODE_DISABLE_CUDA).
  const path = layout.cmake === false ? '/nonexistent' : toolFolder;
  const result = spawnSync(process.execPath, ['scripts/install.mjs'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...clean, PATH: path, FAKE_CMAKE_LOG: log, ...env },
  });
  const cmakeCalls = existsSync(log)
    ? readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as string[])
    : [];
  return { status: result.status, stderr: result.stderr, lines: result.stdout.split('\n').filter(Boolean), cmakeCalls };
}

describe('scripts/install.mjs (the npm install hook)', () => {
  it('with a prebuilt binary that fits, says one line (shown only with --foreground-scripts) and builds nothing', () => {
    const root = packageFolder('prebuilt', { prebuild: 'fits' });
    const result = install(root);
    expect(result.status, result.stderr).toBe(0);
    expect(result.lines).toEqual([
      `tensorrt-node: using the prebuilt binary cuda13-trt11 (prebuilds/${platform}/tensorrt-node.cuda13.trt11.node): the driver supports CUDA 13.0`,
    ]);
    expect(existsSync(join(root, 'build'))).toBe(false);
  });

  it('without prebuilt binaries, says why it builds from source and how long that takes, then keeps only the addon of the build', () => {
    const root = packageFolder('no-prebuilds', {});
    const result = install(root, { TENSORRT_NODE_DISABLE_CUDA: '1' });
    expect(result.status, result.stderr).toBe(0);
    expect(result.lines[0]).toBe(
      `tensorrt-node: this package has no prebuilt binary for ${platform} (release packages carry them for linux-x64 and linux-arm64; a development tarball or git checkout does not)`,
    );
    expect(result.lines[1]).toBe(
      'tensorrt-node: building the addon from source with cmake: TENSORRT_NODE_DISABLE_CUDA is set, so a CPU-only addon (the cpu backend and host tensors): usually 1-2 minutes.',
    );
    expect(result.lines[2]).toBe(
      'tensorrt-node: (compiler output: npm install --foreground-scripts; to skip the build and use only the cpu backend: TENSORRT_NODE_SKIP_BUILD=1)',
    );
    expect(result.lines).toContain('[10/10] Linking CXX shared module Release/tensorrt_node.node');
    expect(result.lines.at(-2)).toMatch(
      /^tensorrt-node: native addon built in \d+ s \(run `npx tensorrt-node doctor` to see what it can use\)$/,
    );
    expect(result.lines.at(-1)).toBe(
      "tensorrt-node: removed the build's intermediate files (1.0 MiB); build/Release/tensorrt_node.node stays",
    );
    expect(readdirSync(join(root, 'build'))).toEqual(['Release']);
    expect(readdirSync(join(root, 'build', 'Release'))).toEqual(['tensorrt_node.node']);
    // cmake called as cmake-js calls it (the variables CMakeLists.txt reads), then built in parallel.
    const [configure, build] = result.cmakeCalls;
    expect(configure!.slice(0, 7)).toEqual([
      '-S',
      root,
      '-B',
      join(root, 'build'),
      '-G',
      'Unix Makefiles',
      '--no-warn-unused-cli',
    ]);
    expect(configure).toEqual(
      expect.arrayContaining([
        '-DCMAKE_BUILD_TYPE=Release',
        `-DCMAKE_LIBRARY_OUTPUT_DIRECTORY=${join(root, 'build', 'Release')}`,
        '-DCMAKE_JS_INC=/headers/node-api-headers;/headers/node-addon-api',
        '-DCMAKE_CXX_FLAGS=-DBUILDING_NODE_EXTENSION',
      ]),
    );
    expect(configure!.some((arg) => /^-DCMAKE_JS_VERSION=.+/.test(arg))).toBe(true);
    expect(build).toEqual(['--build', join(root, 'build'), '--config', 'Release', '--parallel', String(availableParallelism())]);
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
      `tensorrt-node: building the addon from source with cmake: with CUDA (${nvcc}) for GPU architectures 89-real: usually 1-3 minutes.`,
    ]);
    const all = install(packageFolder('no-fit-all-archs', { prebuild: 'does not fit' }), { CUDACXX: nvcc });
    expect(all.lines[2]).toBe(
      `tensorrt-node: building the addon from source with cmake: with CUDA (${nvcc}) for every supported GPU generation: usually 2-5 minutes (TENSORRT_NODE_CUDA_ARCHITECTURES=89-real, for example, builds for one).`,
    );
  });

  it('a failed build or a missing cmake still installs (exit 0), without the addon, and says how to get it', () => {
    const failed = install(packageFolder('build-fails', {}), { FAKE_CMAKE_EXIT: '2' });
    expect(failed.status, failed.stderr).toBe(0);
    expect(failed.lines).toContainEqual(
      expect.stringMatching(/^tensorrt-node: building the addon from source failed after \d+ s \(exit code 2\)\.$/),
    );
    expect(failed.lines.at(-1)).toBe(
      'tensorrt-node: `npm rebuild tensorrt-node`. `npx tensorrt-node doctor` lists what is missing.',
    );

    const noCmake = install(packageFolder('no-cmake', {}), {}, { cmake: false });
    expect(noCmake.status, noCmake.stderr).toBe(0);
    expect(noCmake.lines[1]).toBe('tensorrt-node: cmake is not on PATH, so the addon cannot be built from source.');
    expect(noCmake.cmakeCalls).toEqual([]);
  });

  it('TENSORRT_NODE_SKIP_BUILD installs without the addon and without trying anything', () => {
    const root = packageFolder('skip', {});
    const result = install(root, { TENSORRT_NODE_SKIP_BUILD: '1' });
    expect(result.lines).toEqual([
      'tensorrt-node: TENSORRT_NODE_SKIP_BUILD is set: installing without the native addon (the cpu backend still works).',
    ]);
    expect(existsSync(join(root, 'build'))).toBe(false);
  });
});
