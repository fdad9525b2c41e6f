#!/usr/bin/env node
// npm "install" hook. Never fails the install and never downloads anything:
//   1. a prebuilt binary that loads on this machine wins;
//   2. else build from source with cmake-js (CUDA and TensorRT headers used when found);
//   3. else install without the addon and say why: the cpu backend still works, and
//      `npx tensorrt-node doctor` explains what is missing and how to fix it.
// TENSORRT_NODE_SKIP_BUILD=1 skips steps 1-2 (e.g. for images that only use the cpu backend).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const log = (line) => console.log(`tensorrt-node: ${line}`);

function truthy(value) {
  return /^(1|true|yes|on)$/i.test(value ?? '');
}

// Loads a candidate binary in a child process, so a binary that crashes on load (wrong glibc, wrong
// CPU) cannot take the installer down with it.
function loadsInChild(file) {
  const probe = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(file)})`], { stdio: 'pipe', timeout: 60_000 });
  return probe.status === 0;
}

function prebuiltCandidates() {
  const folder = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
  if (!existsSync(folder)) return [];
  return readdirSync(folder).filter((name) => name.endsWith('.node')).map((name) => join(folder, name));
}

function main() {
  if (truthy(process.env.TENSORRT_NODE_SKIP_BUILD)) {
    log('TENSORRT_NODE_SKIP_BUILD is set: installing without the native addon (the cpu backend still works).');
    return;
  }
  const prebuilt = prebuiltCandidates().find(loadsInChild);
  if (prebuilt) {
    log(`using the prebuilt binary ${prebuilt}`);
    return;
  }

  let cmakeJs;
  try {
    cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  } catch {
    log('cmake-js is not installed, so the addon cannot be built from source.');
    return explainMissingAddon();
  }
  log('no prebuilt binary fits this machine; building the addon from source with cmake-js');
  const build = spawnSync(process.execPath, [cmakeJs, 'compile', '--out', 'build'], { cwd: root, stdio: 'inherit' });
  if (build.status === 0) {
    log('native addon built (run `npx tensorrt-node doctor` to see what it can use)');
    return;
  }
  log(`building the addon from source failed (${build.error ? build.error.message : `exit code ${build.status}`}).`);
  explainMissingAddon();
}

function explainMissingAddon() {
  log('the package is installed WITHOUT its native addon. The cpu backend (onnxruntime-node) works;');
  log('the tensorrt backend and CUDA tensors need the addon. To build it, install cmake (>= 3.24),');
  log('a C++20 compiler and, for GPU support, the CUDA toolkit (nvcc on PATH), then run');
  log('`npm rebuild tensorrt-node`. `npx tensorrt-node doctor` lists what is missing.');
}

main();
