#!/usr/bin/env node
// npm "install" hook. Never fails the install and never downloads anything:
//   1. a prebuilt binary that the loader picks for this host, and that loads, wins;
//   2. else build from source with cmake-js (CUDA and TensorRT headers used when found);
//   3. else install without the addon and say why: the cpu backend still works, and
//      `npx tensorrt-node doctor` explains what is missing and how to fix it.
// TENSORRT_NODE_SKIP_BUILD=1 skips steps 1-2 (e.g. for images that only use the cpu backend);
// TENSORRT_NODE_BUILD_FROM_SOURCE=1 skips step 1 (e.g. to compile against your TensorRT headers).
//
// npm >= 11.19 runs this only when the consumer approved it (allowScripts), so the prebuilt
// binaries must work without it: the loader (dist/addon/loader.js) picks among them at run time too.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const log = (line) => console.log(`tensorrt-node: ${line}`);

function truthy(value) {
  return /^(1|true|yes|on)$/i.test(value ?? '');
}

function hasPrebuilds() {
  const folder = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
  return existsSync(folder) && readdirSync(folder).some((name) => name.endsWith('.node'));
}

// Asks the package's own loader, in a child process, which prebuilt binary it would use here and
// whether it loads: the same ranking as at run time, and a binary that crashes on load (wrong glibc,
// wrong CPU) cannot take the installer down with it. Source builds are left out: this decides
// whether to make one.
const childScript = `
const { addonCandidates, loadAddonFrom } = await import(process.argv[1]);
const candidates = addonCandidates(process.argv[2]).filter((candidate) => candidate.source === 'prebuild');
try {
  const loaded = loadAddonFrom(candidates);
  const chosen = loaded.candidates.find((candidate) => candidate.status === 'loaded');
  console.log(JSON.stringify({ path: loaded.path, variant: chosen.variant, reason: chosen.reason }));
} catch (error) {
  console.log(JSON.stringify({ error: error.message, candidates: error.details?.candidates ?? [] }));
}`;

function choosePrebuilt() {
  const loader = join(root, 'dist', 'addon', 'loader.js');
  if (!existsSync(loader)) {
    log('dist/ is not built yet (a git checkout): prebuilt binaries are not considered');
    return null;
  }
  const env = { ...process.env };
  delete env.TENSORRT_NODE_ADDON;
  const probe = spawnSync(process.execPath, ['--input-type=module', '-e', childScript, pathToFileURL(loader).href, root], { encoding: 'utf8', env, timeout: 60_000 });
  const line = probe.stdout?.trim().split('\n').pop();
  let answer;
  try {
    answer = JSON.parse(line ?? '');
  } catch {
    log(`checking the prebuilt binaries crashed (${probe.error?.message ?? `exit code ${probe.status}, signal ${probe.signal}`})`);
    return null;
  }
  if (answer.error) {
    log('no prebuilt binary fits this host:');
    for (const candidate of answer.candidates) log(`  ${candidate.variant ?? candidate.path}: ${candidate.outcome}`);
    return null;
  }
  return answer;
}

function main() {
  if (truthy(process.env.TENSORRT_NODE_SKIP_BUILD)) {
    log('TENSORRT_NODE_SKIP_BUILD is set: installing without the native addon (the cpu backend still works).');
    return;
  }
  if (truthy(process.env.TENSORRT_NODE_BUILD_FROM_SOURCE)) {
    log('TENSORRT_NODE_BUILD_FROM_SOURCE is set: not using prebuilt binaries');
  } else if (hasPrebuilds()) {
    const prebuilt = choosePrebuilt();
    if (prebuilt) {
      log(`using the prebuilt binary ${prebuilt.variant} (${prebuilt.path}): ${prebuilt.reason}`);
      return;
    }
  }

  let cmakeJs;
  try {
    cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  } catch {
    log('cmake-js is not installed, so the addon cannot be built from source.');
    return explainMissingAddon();
  }
  log('building the addon from source with cmake-js');
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
