import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { variantFileName } from '../../lib/addon/variants.js';
import type { Capabilities } from '../../lib/addon/capabilities.js';
import { createCpuBackend } from '../../lib/backends/cpu/backend.js';
import { packageRoot } from '../../lib/addon/loader.js';
import { readModel, serializeModel } from '../../lib/onnx/model.js';
import { inspect } from '../../lib/onnx/inspect.js';
import { saveCalibrationTable } from '../../lib/onnx/calibration-table.js';
import { calibrate } from '../../lib/precision/calibrate.js';
import { quantizeInt8 } from '../../lib/precision/quantize.js';
import { summarize } from '../../lib/bench/statistics.js';
import { dtypeSize, float32ToFloat16Bits } from '../../lib/core/dtypes.js';
import { cleanClone } from '../helpers/clean-clone.js';
import { mlpModel, randomTensor } from '../helpers/onnx-fixtures.js';
import { runCli } from '../helpers/cli.js';
import { node, npm, userEnv } from '../helpers/npm.js';

// One clean clone serves every step, in order (2 cores: each npm install and build is paid once):
//   1. `npm ci` with CUDA switched off (TENSORRT_NODE_DISABLE_CUDA) builds the CPU-only addon;
//   2. `npm run prebuild:local` builds this machine's CUDA variant into prebuilds/;
//   3. `npm pack` with that prebuild, installed into a fresh project: nothing compiles;
//   4. `npm pack` without prebuilds, installed with install scripts blocked: no addon, doctor says
//      how to get one; then `npm rebuild tensorrt-node` (the script allowed) builds from source.
// Installs use only the npm registry (--prefer-offline); nothing else is downloaded.

const nvcc = spawnSync('nvcc', ['--version'], { encoding: 'utf8' });
const cudaMajor = Number(nvcc.stdout?.match(/release (\d+)\./)?.[1] ?? 0) || null;
const localPrebuild = cudaMajor === null ? null : variantFileName(cudaMajor, null, false);

function consumerProject(parent: string, name: string): string {
  const project = join(parent, name);
  mkdirSync(project, { recursive: true });
  // onnxruntime-node (the cpu backend) would download CUDA binaries in its install script: deny it,
  // as the README tells users to.
  writeFileSync(
    join(project, 'package.json'),
    `${JSON.stringify({ name, version: '1.0.0', private: true, allowScripts: { 'onnxruntime-node': false } }, null, 2)}\n`,
  );
  return project;
}

function pack(clone: string, destination: string, extraArgs: string[] = []): { tarball: string; size: number; files: string[] } {
  mkdirSync(destination, { recursive: true });
  const result = npm(['pack', '--json', '--pack-destination', destination, ...extraArgs], clone);
  expect(result.status, result.stderr).toBe(0);
  const [info] = JSON.parse(result.stdout.slice(result.stdout.indexOf('['))) as {
    filename: string;
    size: number;
    files: { path: string }[];
  }[];
  return { tarball: join(destination, info!.filename), size: info!.size, files: info!.files.map((file) => file.path) };
}

function doctorJson(project: string): Capabilities {
  const result = runCli(['doctor', '--json'], {
    cwd: project,
    cli: join(project, 'node_modules', 'tensorrt-node', 'dist', 'cli', 'index.js'),
    env: userEnv(),
  });
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as Capabilities;
}

describe('installing tensorrt-node: clean clone, prebuilt binary, npm tarball', () => {
  const clone = cleanClone();
  const work = mkdtempSync(join(tmpdir(), 'tensorrt-node-packaging-'));
  afterAll(() => {
    rmSync(clone, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  it('npm ci on a clean clone without CUDA builds a CPU-only addon, and doctor explains how to get CUDA', () => {
    const install = npm(['ci', '--prefer-offline'], clone, { TENSORRT_NODE_DISABLE_CUDA: '1' });
    expect(install.status, install.stderr + install.stdout).toBe(0);
    expect(existsSync(join(clone, 'build', 'Release', 'tensorrt_node.node'))).toBe(true);
    expect(existsSync(join(clone, 'dist', 'cli', 'index.js'))).toBe(true);

    const doctor = runCli(['doctor', '--json'], { cwd: clone, cli: join(clone, 'dist', 'cli', 'index.js'), env: userEnv() });
    expect(doctor.status, doctor.stderr).toBe(0);
    const caps = JSON.parse(doctor.stdout) as Capabilities;
    expect(caps.addon.loaded).toBe(true);
    expect(caps.addon.path).toBe(join(clone, 'build', 'Release', 'tensorrt_node.node'));
    expect(caps.addon.variant).toBeNull();
    expect(caps.addon.build?.cuda).toEqual({
      compiled: false,
      emulated: false,
      toolkitVersion: null,
      architectures: null,
      missingReason: 'CUDA was disabled by the TENSORRT_NODE_DISABLE_CUDA environment variable',
    });
    expect(caps.cuda.compiled).toBe(false);
    expect(caps.backends.cpu.available).toBe(true);
    expect(caps.backends.tensorrt.available).toBe(false);
    const cudaProblem = caps.problems.find((problem) => problem.area === 'cuda');
    expect(cudaProblem?.message).toBe(
      'The addon was built without CUDA: CUDA was disabled by the TENSORRT_NODE_DISABLE_CUDA environment variable.',
    );
    expect(cudaProblem?.fix).toContain('Install the CUDA toolkit 12.x or 13.x');

    const human = runCli(['doctor'], { cwd: clone, cli: join(clone, 'dist', 'cli', 'index.js'), env: userEnv() });
    expect(human.stdout).toContain(
      'no    compiled without CUDA: CUDA was disabled by the TENSORRT_NODE_DISABLE_CUDA environment variable',
    );
    expect(human.stdout).toContain('chosen because: a source build of this install comes before prebuilt binaries');

    // The CUDA API says why it is missing; host tensors and the completion machinery still work.
    const api = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `
      import { cuda, Tensor, copy } from './dist/index.js';
      import { loadAddon } from './dist/addon/loader.js';
      try { cuda.createStream(); } catch (error) { console.log(error.code, error.message); }
      const dst = Tensor.allocate('int32', [2]);
      await copy(dst, await Tensor.fromArray(new Int32Array([4, 2])));
      const done = await new (loadAddon().addon.CompletionQueueForTest)().submit(0);
      console.log(Array.from(dst.data).join(','), done.order);`,
      ],
      { cwd: clone, encoding: 'utf8' },
    );
    expect(api.status, api.stderr).toBe(0);
    expect(api.stdout).toBe(
      'ERR_NOT_SUPPORTED CUDA is not available in this build of tensorrt-node: CUDA was disabled by the TENSORRT_NODE_DISABLE_CUDA environment variable. Install the CUDA toolkit (nvcc on PATH) and run `npm rebuild tensorrt-node`.\n4,2 0\n',
    );
  });

  it('with no nvcc anywhere, configuring detects that by itself and leaves CUDA out', () => {
    const configure = spawnSync('cmake', ['-S', clone, '-B', join(clone, 'build-nocuda'), '-Wno-dev'], {
      encoding: 'utf8',
      env: { PATH: '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' },
    });
    expect(configure.status, configure.stderr).toBe(0);
    expect(configure.stdout).toContain('CUDA:     left out: no CUDA toolkit was found');
    expect(configure.stdout).toContain('TensorRT: left out: TensorRT needs the CUDA layer, which was not built');
  });

  it.runIf(localPrebuild)(
    'npm run prebuild:local writes a stripped linux prebuild that node-gyp-build loads from prebuilds/',
    () => {
      const sourceBuild = join(clone, 'build', 'Release', 'tensorrt_node.node');
      const sourceBuildTime = statSync(sourceBuild).mtimeMs;
      const build = npm(['run', 'prebuild:local'], clone, { TENSORRT_NODE_CUDA_ARCHITECTURES: '80-real' });
      expect(build.status, build.stderr + build.stdout).toBe(0);
      const file = join(clone, 'prebuilds', `${process.platform}-${process.arch}`, localPrebuild!);
      expect(build.stdout).toContain(
        `prebuild: prebuilds/${process.platform}-${process.arch}/${localPrebuild}: variant cuda${cudaMajor}`,
      );
      expect(existsSync(file)).toBe(true);
      expect(statSync(sourceBuild).mtimeMs).toBe(sourceBuildTime); // the developer's build/ is left alone

      const sections = spawnSync('readelf', ['-S', '-W', file], { encoding: 'utf8' });
      expect(sections.stdout).toContain('.dynsym');
      expect(sections.stdout).not.toContain('.symtab'); // stripped

      // node-gyp-build, told to ignore build/ (PREBUILDS_ONLY), finds it by prebuildify's tags.
      const script = `const load = require('node-gyp-build'); const path = load.path(${JSON.stringify(clone)}); const info = require(path).buildInfo(); console.log(JSON.stringify({ path, cuda: info.cuda.compiled, tensorrt: info.tensorrt.compiled }))`;
      const loaded = node(script, clone, 'commonjs', { PREBUILDS_ONLY: '1' });
      expect(loaded.status, loaded.stderr).toBe(0);
      expect(JSON.parse(loaded.stdout)).toEqual({ path: file, cuda: true, tensorrt: false });
    },
  );

  let withPrebuild: ReturnType<typeof pack> | null = null;

  it('npm pack ships the compiled JS, the native sources for the fallback and the prebuilds, and nothing else', () => {
    withPrebuild = pack(clone, join(work, 'with-prebuild'));
    const files = withPrebuild.files;
    for (const needed of [
      'package.json',
      'README.md',
      'CHANGELOG.md',
      'LICENSE',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/cli/index.js',
      'dist/addon/loader.js',
      'scripts/install.mjs',
      'CMakeLists.txt',
      'cmake/TensorRTNodeCuda.cmake',
      'native/addon.cc',
      'native/core/build_config.h.in',
      'native/napi/errors.cc',
      'native/trt/loader/library_search.cc',
      'vendor/kserve/grpc_predict_v2.proto',
      'vendor/kserve/LICENSE',
      'dist/serve/model-config.schema.json',
      'dist/serve/body-worker.js',
    ]) {
      expect(files, needed).toContain(needed);
    }
    if (localPrebuild) expect(files).toContain(`prebuilds/${process.platform}-${process.arch}/${localPrebuild}`);
    const unwanted = files.filter(
      (path) =>
        /^(test|lib|benchmarks|examples|\.github|\.ci|\.deps|build[^/]*|coverage)\//.test(path) ||
        path.startsWith('native/tests/') ||
        path.startsWith('native/emulated/') || // the emulated device tier is for our CI, not for users
        /\.(map|ts)$/.test(path.replace(/\.d\.ts$/, '')) ||
        /fixture/i.test(path) ||
        (path.startsWith('scripts/') && path !== 'scripts/install.mjs'),
    );
    expect(unwanted).toEqual([]);
    expect(withPrebuild.size).toBeLessThan(5 * 2 ** 20);
  });

  it.runIf(localPrebuild)(
    'installed from the tarball with a prebuild, nothing compiles; ESM and CommonJS load it; doctor names the prebuild',
    () => {
      const project = consumerProject(work, 'consumer-prebuilt');
      const install = npm(['install', withPrebuild!.tarball, '--prefer-offline', '--foreground-scripts'], project);
      expect(install.status, install.stderr + install.stdout).toBe(0);
      expect(install.stdout).toContain(`tensorrt-node: using the prebuilt binary cuda${cudaMajor}`); // the install script ran and chose it
      const installed = join(project, 'node_modules', 'tensorrt-node');
      expect(existsSync(join(installed, 'build'))).toBe(false); // no build folder: nothing was compiled

      const esm = node(
        `import { capabilities, version } from 'tensorrt-node'; const caps = await capabilities(); console.log(JSON.stringify({ version, variant: caps.addon.variant }));`,
        project,
        'module',
      );
      expect(esm.status, esm.stderr).toBe(0);
      expect(JSON.parse(esm.stdout)).toEqual({ version: '0.1.0', variant: `cuda${cudaMajor}` });
      // require() of the ESM package (Node >= 20.19): works only if no module in its graph uses top-level await.
      const cjs = node(
        `const trt = require('tensorrt-node'); console.log(JSON.stringify({ version: trt.version, error: typeof trt.TensorRTNodeError }));`,
        project,
        'commonjs',
      );
      expect(cjs.status, cjs.stderr).toBe(0);
      expect(JSON.parse(cjs.stdout)).toEqual({ version: '0.1.0', error: 'function' });
      expect(cjs.stderr).not.toContain('ERR_REQUIRE_ASYNC_MODULE');

      const caps = doctorJson(project);
      const prebuildPath = join(installed, 'prebuilds', `${process.platform}-${process.arch}`, localPrebuild!);
      expect(caps.addon).toMatchObject({ loaded: true, path: prebuildPath, variant: `cuda${cudaMajor}` });
      expect(caps.addon.candidates.map((candidate) => [candidate.source, candidate.status])).toEqual([
        ['source build', 'missing'],
        ['prebuild', 'loaded'],
      ]);
      // onnxruntime-node is an optional peer dependency: not installed, so no cpu backend, and doctor says how.
      expect(caps.backends.cpu).toEqual({
        available: false,
        reason: 'onnxruntime-node (an optional peer dependency) is not installed',
        version: null,
      });
      const human = runCli(['doctor'], { cwd: project, cli: join(installed, 'dist', 'cli', 'index.js'), env: userEnv() });
      expect(human.stdout).toContain(`loaded ${prebuildPath} (prebuilt variant cuda${cudaMajor}`);
      expect(human.stdout).toContain(`- ${join(installed, 'build', 'Release', 'tensorrt_node.node')} [source build]: not found`);
    },
  );

  // Each entry point of package.json "exports", loaded both ways a consumer can (import, and require() of
  // the ES module on Node >= 20.19: it fails if a module in its graph uses top-level await), with one
  // function of each called on the same inputs as the sources here. No addon: nothing here needs one.
  it('every entry point (tensorrt-node, /onnx, /precision, /bench) works from the installed tarball, imported and required', async () => {
    const project = consumerProject(work, 'consumer-entry-points');
    const install = npm(['install', withPrebuild!.tarball, '--prefer-offline', '--ignore-scripts'], project);
    expect(install.status, install.stderr + install.stdout).toBe(0);
    const modelPath = join(project, 'mlp.onnx');
    writeFileSync(modelPath, serializeModel(mlpModel()));
    const tablePath = join(project, 'mlp.calibration.json');
    await saveCalibrationTable(
      await calibrate(
        mlpModel(),
        [0, 1, 2].map((seed) => ({ x: randomTensor([2, 16], seed) })),
        { method: 'max' },
      ),
      tablePath,
    );

    const calls = (load: string) => `
      const [main, onnx, precision, bench] = await Promise.all(['tensorrt-node', 'tensorrt-node/onnx', 'tensorrt-node/precision', 'tensorrt-node/bench'].map(${load}));
      const quantized = await precision.quantizeInt8(await onnx.readModel(${JSON.stringify(modelPath)}), { calibrationTable: ${JSON.stringify(tablePath)} });
      console.log(JSON.stringify({
        main: { version: main.version, float16Bits: main.float32ToFloat16Bits(1.5), size: main.dtypeSize('bfloat16') },
        onnx: await onnx.inspect(${JSON.stringify(modelPath)}),
        precision: quantized.report,
        bench: bench.summarize([5, 1, 4, 2, 3]),
      }));`;
    const expected = JSON.parse(
      JSON.stringify({
        main: { version: '0.1.0', float16Bits: float32ToFloat16Bits(1.5), size: dtypeSize('bfloat16') },
        onnx: await inspect(modelPath),
        precision: (await quantizeInt8(await readModel(modelPath), { calibrationTable: tablePath })).report,
        bench: summarize([5, 1, 4, 2, 3]),
      }),
    ) as { precision: { quantized: Record<string, number> } };
    expect(expected.precision.quantized).toEqual({ Gemm: 1, MatMul: 1 }); // the calls do real work

    const esm = node(calls('(name) => import(name)'), project, 'module');
    expect(esm.status, esm.stderr).toBe(0);
    expect(JSON.parse(esm.stdout)).toEqual(expected);
    const cjs = node(
      `(async () => { ${calls('async (name) => require(name)')} })().catch((error) => { console.error(error); process.exitCode = 1; });`,
      project,
      'commonjs',
    );
    expect(cjs.status, cjs.stderr).toBe(0);
    expect(cjs.stderr).not.toContain('ERR_REQUIRE_ASYNC_MODULE');
    expect(JSON.parse(cjs.stdout)).toEqual(expected);
  });

  it('runs a cpu inference from the installed package once onnxruntime-node is added (without its CUDA download)', async () => {
    const project = consumerProject(work, 'consumer-cpu');
    const install = npm(['install', withPrebuild!.tarball, '--prefer-offline', '--ignore-scripts'], project);
    expect(install.status, install.stderr + install.stdout).toBe(0);
    const modelPath = join(project, 'mlp.onnx');
    writeFileSync(modelPath, serializeModel(mlpModel()));
    const input = randomTensor([2, 16], 7);
    const script = `import { createCpuBackend } from 'tensorrt-node';
      try {
        const backend = await createCpuBackend(${JSON.stringify(modelPath)});
        const { y } = await backend.run({ x: { dtype: 'float32', shape: [2, 16], data: new Float32Array(${JSON.stringify(Array.from(input.data))}) } });
        await backend.dispose();
        console.log(JSON.stringify({ shape: y.shape, data: Array.from(y.data) }));
      } catch (error) { console.log(JSON.stringify({ code: error.code, message: error.message })); }`;

    const without = node(script, project, 'module');
    expect(without.status, without.stderr).toBe(0);
    expect(JSON.parse(without.stdout)).toEqual({
      code: 'ERR_NOT_SUPPORTED',
      message:
        'The cpu backend needs onnxruntime-node, an optional peer dependency that is not installed. Install it (without its CUDA download): ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node',
    });

    const ortVersion = (
      JSON.parse(readFileSync(join(packageRoot, 'node_modules', 'onnxruntime-node', 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
    const addOrt = npm(['install', `onnxruntime-node@${ortVersion}`, '--prefer-offline'], project, {
      ONNXRUNTIME_NODE_INSTALL: 'skip',
    });
    expect(addOrt.status, addOrt.stderr + addOrt.stdout).toBe(0);
    expect(
      existsSync(
        join(
          project,
          'node_modules',
          'onnxruntime-node',
          'bin',
          'napi-v6',
          'linux',
          process.arch === 'x64' ? 'x64' : 'arm64',
          'libonnxruntime_providers_cuda.so',
        ),
      ),
    ).toBe(false); // nothing downloaded

    const withOrt = node(script, project, 'module');
    expect(withOrt.status, withOrt.stderr).toBe(0);
    const result = JSON.parse(withOrt.stdout) as { shape: number[]; data: number[] };
    const reference = await createCpuBackend(modelPath);
    const { y } = await reference.run({ x: input });
    await reference.dispose();
    expect(result.shape).toEqual([2, 8]);
    expect(result.data).toEqual(Array.from(y!.data as Float32Array));
  });

  it('without a prebuild and with install scripts blocked, the install succeeds without the addon; `npm rebuild` then builds it from source', () => {
    const prebuilds = join(clone, 'prebuilds');
    if (existsSync(prebuilds)) renameSync(prebuilds, join(work, 'prebuilds-aside'));
    const bare = pack(clone, join(work, 'bare'), ['--ignore-scripts']); // dist/ is already built
    expect(bare.files.some((path) => path.startsWith('prebuilds/'))).toBe(false);

    // --ignore-scripts stands for an install script the user has not approved (or denied).
    const project = consumerProject(work, 'consumer-source');
    const install = npm(['install', bare.tarball, '--prefer-offline', '--ignore-scripts'], project);
    expect(install.status, install.stderr + install.stdout).toBe(0);
    const installed = join(project, 'node_modules', 'tensorrt-node');
    expect(existsSync(join(installed, 'build'))).toBe(false);
    const before = doctorJson(project);
    expect(before.addon.loaded).toBe(false);
    expect(before.addon.candidates).toEqual([expect.objectContaining({ source: 'source build', status: 'missing' })]);
    expect(before.problems[0]).toMatchObject({ area: 'addon' });
    expect(before.problems[0]!.fix).toContain('npm install-scripts approve tensorrt-node');
    expect(before.problems[0]!.fix).toContain('npm rebuild tensorrt-node');
    expect(before.backends.cpu.available).toBe(false); // onnxruntime-node is an optional peer dependency

    // The approve-then-rebuild path: the install script runs and, with no prebuild, compiles.
    const rebuild = npm(['rebuild', 'tensorrt-node', '--foreground-scripts'], project, {
      TENSORRT_NODE_CUDA_ARCHITECTURES: '80-real',
    });
    expect(rebuild.status, rebuild.stderr + rebuild.stdout).toBe(0);
    expect(rebuild.stdout).toContain('tensorrt-node: building the addon from source with cmake:');
    expect(existsSync(join(installed, 'build', 'Release', 'tensorrt_node.node'))).toBe(true);
    const after = doctorJson(project);
    expect(after.addon).toMatchObject({
      loaded: true,
      path: join(installed, 'build', 'Release', 'tensorrt_node.node'),
      variant: null,
    });
    expect(after.addon.build?.cuda.compiled).toBe(cudaMajor !== null);
  });
});
