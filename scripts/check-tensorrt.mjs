#!/usr/bin/env node
// Compiles the whole addon with TensorRT enabled against the headers in TENSORRT_INCLUDE_DIR, in a
// build folder of its own (build-tensorrt-<version>/), then checks what the binary needs at run time:
// TensorRT must not be linked (it is opened with dlopen), and loading the addon must not need it.
//
//   TENSORRT_INCLUDE_DIR=$PWD/.deps/tensorrt-v11.1/include npm run check:tensorrt
//
// Headers of releases before 10.16 lack NvOnnxParser.h: set TENSORRT_PARSER_INCLUDE_DIR to a 10.16
// include folder (or keep one under .deps/, which is found automatically).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { projectRoot, run } from './lib/process.mjs';
import { tensorrtHeaderVersion } from './lib/tensorrt-headers.mjs';

function fail(message) {
  console.error(`check:tensorrt: ${message}`);
  process.exit(1);
}

const includeDir = process.env.TENSORRT_INCLUDE_DIR ? resolve(process.env.TENSORRT_INCLUDE_DIR) : '';
if (!includeDir) {
  fail(
    'TENSORRT_INCLUDE_DIR is not set. Point it at a TensorRT include/ folder, e.g.\n' +
      '  git --git-dir=<NVIDIA/TensorRT clone> archive v11.1 include | tar -x -C .deps/tensorrt-v11.1\n' +
      '  TENSORRT_INCLUDE_DIR=$PWD/.deps/tensorrt-v11.1/include npm run check:tensorrt',
  );
}
if (!existsSync(join(includeDir, 'NvInfer.h'))) fail(`no NvInfer.h in ${includeDir}`);

const headerVersion = tensorrtHeaderVersion;
const version = headerVersion(includeDir);

const env = { ...process.env, TENSORRT_INCLUDE_DIR: includeDir };
if (!existsSync(join(includeDir, 'NvOnnxParser.h')) && !env.TENSORRT_PARSER_INCLUDE_DIR) {
  const depsDir = join(projectRoot, '.deps');
  const donor =
    existsSync(depsDir) &&
    readdirSync(depsDir)
      .map((name) => join(depsDir, name, 'include'))
      .find((dir) => existsSync(join(dir, 'NvOnnxParser.h')) && headerVersion(dir).split('.')[0] === version.split('.')[0]);
  if (!donor)
    fail(`${includeDir} has no NvOnnxParser.h (TensorRT < 10.16): set TENSORRT_PARSER_INCLUDE_DIR to a 10.16 include folder`);
  env.TENSORRT_PARSER_INCLUDE_DIR = donor;
  console.log(`check:tensorrt: using NvOnnxParser.h from ${donor}`);
}

// One real architecture is enough to prove the TensorRT code compiles; the kernels are compiled for
// every architecture by the normal build.
env.TENSORRT_NODE_CUDA_ARCHITECTURES ??= '80-real';
const buildDir = `build-tensorrt-${version}`;
const require = createRequire(join(projectRoot, 'package.json'));
console.log(`check:tensorrt: building against TensorRT ${version} headers in ${includeDir} -> ${buildDir}/`);
run(
  process.execPath,
  [
    require.resolve('cmake-js/bin/cmake-js'),
    'compile',
    '--out',
    buildDir,
    '--CDTRT_NODE_TENSORRT=ON',
    '--CDTRT_NODE_CUDA=ON',
    `--CDTENSORRT_INCLUDE_DIR=${includeDir}`,
  ],
  { env },
);

const addon = join(projectRoot, buildDir, 'Release', 'tensorrt_node.node');
if (!existsSync(addon)) fail(`the build finished but ${addon} is missing`);

// What the binary needs from outside: only N-API (from node) and libc/libstdc++/libgcc.
const nm = spawnSync('nm', ['-D', '--undefined-only', addon], { encoding: 'utf8' });
if (nm.status !== 0) fail(`nm failed: ${nm.stderr}`);
// Only strong undefined symbols ("U") must be resolved at load time; weak ones ("w") may stay unset.
const foreign = nm.stdout
  .split('\n')
  .map((line) => line.trim().split(/\s+/))
  .filter((fields) => fields[0] === 'U')
  .map((fields) => fields[1])
  .filter(
    (symbol) => !symbol.startsWith('napi_') && !symbol.startsWith('node_api_') && !/@(GLIBC|GLIBCXX|CXXABI|GCC)_/.test(symbol),
  );
if (foreign.length > 0) fail(`the addon needs symbols that are neither N-API nor libc/libstdc++:\n  ${foreign.join('\n  ')}`);
const ldd = spawnSync('ldd', [addon], { encoding: 'utf8' });
if (/nvinfer|nvonnxparser|cudart/.test(ldd.stdout))
  fail(`the addon links TensorRT or the CUDA runtime dynamically:\n${ldd.stdout}`);

// Loading must work on a machine without TensorRT, and report the headers it was built with.
const probe = spawnSync(
  process.execPath,
  ['-e', `const a = require(${JSON.stringify(addon)}); console.log(JSON.stringify(a.buildInfo().tensorrt))`],
  { encoding: 'utf8' },
);
if (probe.status !== 0) fail(`the addon does not load: ${probe.stderr}`);
const info = JSON.parse(probe.stdout);
if (!info.compiled || info.headersVersion.split('.').slice(0, 3).join('.') !== version)
  fail(`buildInfo().tensorrt is ${probe.stdout.trim()}, expected headers ${version}`);
console.log(`check:tensorrt: OK against TensorRT ${version} headers (no TensorRT symbols linked; loads without TensorRT)`);
