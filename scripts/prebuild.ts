/**
 * Builds this machine's prebuilt variant into prebuilds/<platform>-<arch>/ with prebuildify (N-API,
 * stripped), driving cmake-js through scripts/prebuild-node-gyp.mjs.
 *
 *   npm run prebuild:local                                   # CUDA from nvcc on PATH, no TensorRT
 *   TENSORRT_INCLUDE_DIR=.deps/tensorrt-v11.1/include npm run prebuild:local   # CUDA + TensorRT 11
 *   npm run prebuild:local -- --max-glibc 2.28               # release CI: refuse a higher glibc floor
 *   npm run prebuild:local -- --tegra                        # on Jetson (L4T toolkit): the .tegra variant
 *
 * The variant's tags (lib/addon/variants.ts) come from the toolchain before building (nvcc's CUDA
 * major, the headers' TensorRT major) and are checked against the built binary's buildInfo() after,
 * so a file name never claims what the binary lacks. TensorRT is compiled in only when headers are
 * given explicitly: headers found by accident under .deps/ or /usr/include must not change the variant.
 * The build happens in build-prebuild/<variant>/, leaving a developer's build/ alone.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { variantFileName, variantId } from '../lib/addon/variants.js';
import { compareVersions, elfRequirements } from './lib/elf-requirements.js';
import { tensorrtHeaderVersion } from './lib/tensorrt-headers.mjs';

const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(projectRoot, 'package.json'));

function fail(message: string): never {
  console.error(`prebuild: ${message}`);
  process.exit(1);
}

const { values: options } = parseArgs({
  options: {
    'tensorrt-include': { type: 'string' },
    tegra: { type: 'boolean', default: false },
    'max-glibc': { type: 'string' },
    out: { type: 'string' },
  },
});

function cudaToolkitMajor(): number {
  if (/^(1|true|yes|on)$/i.test(process.env.TENSORRT_NODE_DISABLE_CUDA ?? '')) {
    fail('TENSORRT_NODE_DISABLE_CUDA is set, but prebuilt binaries are for GPU hosts (the cpu backend needs no addon at all)');
  }
  const nvcc = spawnSync('nvcc', ['--version'], { encoding: 'utf8' });
  const release = nvcc.stdout?.match(/release (\d+)\.(\d+)/);
  if (nvcc.error || !release) fail('no CUDA toolkit: nvcc is not on PATH (prebuilt binaries always include the CUDA layer)');
  return Number(release[1]);
}

const cudaMajor = cudaToolkitMajor();
const includeDirOption = options['tensorrt-include'] ?? process.env.TENSORRT_INCLUDE_DIR;
const tensorrtInclude = includeDirOption ? resolve(includeDirOption) : null;
let tensorrtMajor: number | null = null;
if (tensorrtInclude) {
  if (!existsSync(join(tensorrtInclude, 'NvInfer.h'))) fail(`no NvInfer.h in ${tensorrtInclude}`);
  tensorrtMajor = Number(tensorrtHeaderVersion(tensorrtInclude).split('.')[0]);
}
const tegra = options.tegra ?? false;
const id = variantId(cudaMajor, tensorrtMajor, tegra);
const fileName = variantFileName(cudaMajor, tensorrtMajor, tegra);
const stage = join(projectRoot, 'build-prebuild', id);
const outRoot = resolve(options.out ?? projectRoot);
const output = join(outRoot, 'prebuilds', `${process.platform}-${process.arch}`, fileName);

// prebuildify reads the name from --name and looks for the result in <cwd>/build/Release.
rmSync(stage, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });
writeFileSync(join(stage, 'package.json'), `${JSON.stringify({ name: 'tensorrt-node', private: true })}\n`);
const cmakeArgs = [
  '--CDTRT_NODE_CUDA=ON',
  tensorrtInclude ? '--CDTRT_NODE_TENSORRT=ON' : '--CDTRT_NODE_TENSORRT=OFF',
  ...(tensorrtInclude ? [`--CDTENSORRT_INCLUDE_DIR=${tensorrtInclude}`] : []),
];
const prebuildName = fileName.replace(/\.glibc\.node$/, '');

console.log(`prebuild: building variant ${id} -> ${relative(process.cwd(), output)}`);
const build = spawnSync(
  process.execPath,
  [
    require.resolve('prebuildify/bin.js'),
    '--napi',
    '--strip',
    '--tag-libc',
    '--name',
    prebuildName,
    '--target',
    `node@${process.versions.node}`,
    '--node-gyp',
    join(projectRoot, 'scripts', 'prebuild-node-gyp.mjs'),
    '--cwd',
    stage,
    '--out',
    outRoot,
  ],
  {
    stdio: 'inherit',
    env: {
      ...process.env,
      TENSORRT_NODE_PREBUILD_SOURCE_DIR: projectRoot,
      TENSORRT_NODE_PREBUILD_CMAKE_ARGS: JSON.stringify(cmakeArgs),
      ...(tensorrtInclude ? { TENSORRT_INCLUDE_DIR: tensorrtInclude } : {}),
    },
  },
);
if (build.status !== 0) fail(`prebuildify failed (${build.error?.message ?? `exit code ${build.status}`})`);
if (!existsSync(output)) fail(`prebuildify finished but ${output} is missing`);

// The name must tell the truth: ask the binary what it was compiled with (in a child process, so a
// binary that cannot load here fails this script instead of crashing it).
const probe = spawnSync(
  process.execPath,
  ['-e', `process.stdout.write(JSON.stringify(require(${JSON.stringify(output)}).buildInfo()))`],
  { encoding: 'utf8' },
);
if (probe.status !== 0) fail(`the prebuilt binary does not load: ${probe.stderr}`);
const info = JSON.parse(probe.stdout) as {
  cuda: { compiled: boolean; toolkitVersion: string | null };
  tensorrt: { compiled: boolean; headersMajor: number | null };
};
const builtCudaMajor = info.cuda.compiled ? Number(info.cuda.toolkitVersion?.split('.')[0]) : null;
const builtTensorrtMajor = info.tensorrt.compiled ? info.tensorrt.headersMajor : null;
if (builtCudaMajor !== cudaMajor || builtTensorrtMajor !== tensorrtMajor) {
  rmSync(output);
  fail(
    `the binary was built with CUDA ${builtCudaMajor} and TensorRT ${builtTensorrtMajor}, not the ${id} its name would claim; removed it`,
  );
}

const requirements = elfRequirements(output);
const linked = requirements.needed.filter((library) => /nvinfer|nvonnxparser|cudart|libcuda\./.test(library));
if (linked.length > 0) {
  rmSync(output);
  fail(
    `the binary links ${linked.join(', ')} dynamically (TensorRT is opened with dlopen and the CUDA runtime is static); removed it`,
  );
}
const maxGlibc = options['max-glibc'];
if (maxGlibc && requirements.glibc && compareVersions(requirements.glibc, maxGlibc) > 0) {
  rmSync(output);
  fail(
    `the binary needs glibc ${requirements.glibc}, above the allowed ${maxGlibc} (build it in an older-glibc image); removed it`,
  );
}
const megabytes = (statSync(output).size / 2 ** 20).toFixed(2);
console.log(
  `prebuild: ${relative(process.cwd(), output)}: variant ${id}, ${megabytes} MiB, needs glibc >= ${requirements.glibc ?? '?'} and libstdc++ GLIBCXX_${requirements.glibcxx ?? '?'}`,
);
