#!/usr/bin/env node
// npm "install" hook. Never fails the install and never downloads anything:
//   1. a prebuilt binary that the loader picks for this host, and that loads, wins;
//   2. else build from source with cmake (CUDA and TensorRT headers used when found);
//   3. else install without the addon and say why: the cpu backend still works, and
//      `npx tensorrt-node doctor` explains what is missing and how to fix it.
// TENSORRT_NODE_SKIP_BUILD=1 skips steps 1-2 (e.g. for images that only use the cpu backend);
// TENSORRT_NODE_BUILD_FROM_SOURCE=1 skips step 1 (e.g. to compile against your TensorRT headers).
//
// npm >= 11.19 runs this only when the consumer approved it (allowScripts), so the prebuilt
// binaries must work without it: the loader (dist/addon/loader.js) picks among them at run time too.
//
// What the user sees: npm shows an install script's output only with --foreground-scripts (or when
// it fails, which this one never does), so a source build used to look like a 90 s hang. Lines
// about a source build (why, how long, progress) therefore also go to the terminal itself
// (/dev/tty) when there is one; a prebuilt binary that fits says nothing there (stdout only).
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, closeSync, constants, existsSync, openSync, readdirSync, rmSync, statSync, writeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { delimiter, dirname, join, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const platform = `${process.platform}-${process.arch}`;
const log = (line) => console.log(`tensorrt-node: ${line}`);

/** The user's terminal when npm hides this script's stdout (no --foreground-scripts); null otherwise. */
function openTerminal() {
  if (process.stdout.isTTY) return null; // --foreground-scripts in a terminal: stdout already shows
  try {
    return openSync('/dev/tty', 'w');
  } catch {
    return null; // no controlling terminal (CI, Docker builds): stdout goes to their logs
  }
}

let terminal;
/** A line the user should see even while npm hides install output: stdout, and the terminal if there is one. */
function tell(line) {
  log(line);
  terminal ??= openTerminal();
  if (terminal === null) return;
  try {
    writeSync(terminal, `\r\x1b[2Ktensorrt-node: ${line}\n`); // over npm's spinner
  } catch {
    terminal = null;
  }
}

function minutes(ms) {
  const seconds = Math.round(ms / 1000);
  return seconds < 60 ? `${seconds} s` : `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
}

function truthy(value) {
  return /^(1|true|yes|on)$/i.test(value ?? '');
}

function hasPrebuilds() {
  const folder = join(root, 'prebuilds', platform);
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
    tell('dist/ is not built yet (a git checkout): prebuilt binaries are not considered');
    return null;
  }
  const env = { ...process.env };
  delete env.TENSORRT_NODE_ADDON;
  const probe = spawnSync(process.execPath, ['--input-type=module', '-e', childScript, pathToFileURL(loader).href, root], {
    encoding: 'utf8',
    env,
    timeout: 60_000,
  });
  const line = probe.stdout?.trim().split('\n').pop();
  let answer;
  try {
    answer = JSON.parse(line ?? '');
  } catch {
    tell(
      `checking the prebuilt binaries crashed (${probe.error?.message ?? `exit code ${probe.status}, signal ${probe.signal}`})`,
    );
    return null;
  }
  if (answer.error) {
    tell(`no prebuilt binary for ${platform} fits this host:`);
    for (const candidate of answer.candidates) tell(`  ${candidate.variant ?? candidate.path}: ${candidate.outcome}`);
    return null;
  }
  return answer;
}

/** The CUDA compiler cmake would find (CUDACXX, PATH, /usr/local/cuda), or null: it decides how long a build takes. */
function findNvcc() {
  return [process.env.CUDACXX, onPath('nvcc'), '/usr/local/cuda/bin/nvcc'].find((path) => path && existsSync(path)) ?? null;
}

/**
 * What a source build will take, said before it starts. Measured on a 2-core VM shared with other
 * jobs (load average 14): CPU-only 64 s, CUDA for all 7 GPU generations 4 min 44 s (75 s of CPU
 * time); an idle machine is quicker.
 */
function expectedDuration(nvcc) {
  const cpuOnly = 'a CPU-only addon (the cpu backend and host tensors): usually 1-2 minutes';
  if (truthy(process.env.TENSORRT_NODE_DISABLE_CUDA)) return `TENSORRT_NODE_DISABLE_CUDA is set, so ${cpuOnly}`;
  if (nvcc === null) return `no CUDA toolkit found, so ${cpuOnly}`;
  const narrowed = process.env.TENSORRT_NODE_CUDA_ARCHITECTURES;
  return narrowed
    ? `with CUDA (${nvcc}) for GPU architectures ${narrowed}: usually 1-3 minutes`
    : `with CUDA (${nvcc}) for every supported GPU generation: usually 2-5 minutes (TENSORRT_NODE_CUDA_ARCHITECTURES=89-real, for example, builds for one)`;
}

/** An executable on PATH, or null. */
function onPath(name) {
  for (const folder of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const path = join(folder, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * cmake's configure and build commands, as cmake-js (the developers' build, `npm run build:native`)
 * runs them on Linux: the same CMAKE_JS_* variables that CMakeLists.txt reads, Node's headers from
 * node-api-headers (N-API 8: no download, one build for every Node line). cmake is called directly
 * so that an app's install does not carry cmake-js and its 20 dependencies (~5 MB) for this one step.
 */
function cmakeCommands(cmake) {
  const build = join(root, 'build');
  const nodeApiHeaders = require('node-api-headers').include_dir;
  const nodeAddonApi = require('node-addon-api').include_dir;
  const generator = onPath('ninja') ? 'Ninja' : 'Unix Makefiles';
  const configure = [
    '-S',
    root,
    '-B',
    build,
    '-G',
    generator,
    '--no-warn-unused-cli',
    `-DCMAKE_JS_VERSION=${process.env.npm_package_version ?? 'install.mjs'}`,
    '-DCMAKE_BUILD_TYPE=Release',
    `-DCMAKE_LIBRARY_OUTPUT_DIRECTORY=${join(build, 'Release')}`,
    `-DCMAKE_JS_INC=${[nodeApiHeaders, nodeAddonApi].join(';')}`,
    '-DCMAKE_JS_SRC=',
    '-DCMAKE_JS_LIB=',
    '-DNODE_RUNTIME=node',
    `-DNODE_RUNTIMEVERSION=${process.versions.node}`,
    `-DNODE_ARCH=${process.arch}`,
    '-DCMAKE_CXX_FLAGS=-DBUILDING_NODE_EXTENSION',
  ];
  return [
    [cmake, configure],
    [cmake, ['--build', build, '--config', 'Release', '--parallel', String(availableParallelism())]],
  ];
}

/** Runs the build, saying every 30 s that it is still at work (cmake's own output goes to npm's log). */
function compile(commands) {
  const started = Date.now();
  const heartbeat = setInterval(() => tell(`still building the addon (${minutes(Date.now() - started)} so far)`), 30_000);
  const runOne = ([command, args]) =>
    new Promise((resolveStep) => {
      const child = spawn(command, args, { cwd: root, stdio: 'inherit' });
      child.on('error', (error) => resolveStep({ status: null, error }));
      child.on('exit', (code) => resolveStep({ status: code, error: null }));
    });
  return (async () => {
    let outcome = { status: 0, error: null };
    for (const step of commands) {
      outcome = await runOne(step);
      if (outcome.status !== 0) break;
    }
    clearInterval(heartbeat);
    return { ...outcome, ms: Date.now() - started };
  })();
}

function folderBytes(path) {
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.size;
  return readdirSync(path).reduce((total, name) => total + folderBytes(join(path, name)), 0);
}

/**
 * In an app's node_modules, nothing but the addon itself is used again: the object files and
 * cmake's cache (~15 MB) would only make every install heavier. A git checkout keeps them, so
 * that rebuilds stay incremental.
 */
function pruneBuild() {
  if (!root.split(sep).includes('node_modules')) return;
  const build = join(root, 'build');
  const keep = join('Release', 'tensorrt_node.node');
  let freed = 0;
  for (const name of readdirSync(build)) {
    if (name === 'Release') {
      for (const file of readdirSync(join(build, name))) {
        if (join(name, file) === keep) continue;
        freed += folderBytes(join(build, name, file));
        rmSync(join(build, name, file), { recursive: true, force: true });
      }
      continue;
    }
    freed += folderBytes(join(build, name));
    rmSync(join(build, name), { recursive: true, force: true });
  }
  log(`removed the build's intermediate files (${(freed / 2 ** 20).toFixed(1)} MiB); build/Release/tensorrt_node.node stays`);
}

async function main() {
  if (truthy(process.env.TENSORRT_NODE_SKIP_BUILD)) {
    log('TENSORRT_NODE_SKIP_BUILD is set: installing without the native addon (the cpu backend still works).');
    return;
  }
  if (truthy(process.env.TENSORRT_NODE_BUILD_FROM_SOURCE)) {
    tell('TENSORRT_NODE_BUILD_FROM_SOURCE is set: not using prebuilt binaries');
  } else if (hasPrebuilds()) {
    const prebuilt = choosePrebuilt();
    if (prebuilt) {
      // Quiet: nothing to wait for, nothing to do (stdout shows with --foreground-scripts only).
      log(`using the prebuilt binary ${prebuilt.variant} (${prebuilt.path}): ${prebuilt.reason}`);
      return;
    }
  } else {
    tell(
      `this package has no prebuilt binary for ${platform} (release packages carry them for linux-x64 and linux-arm64; a development tarball or git checkout does not)`,
    );
  }

  const cmake = onPath('cmake');
  if (!cmake) {
    tell('cmake is not on PATH, so the addon cannot be built from source.');
    return explainMissingAddon();
  }
  tell(`building the addon from source with cmake: ${expectedDuration(findNvcc())}.`);
  tell(
    '(compiler output: npm install --foreground-scripts; to skip the build and use only the cpu backend: TENSORRT_NODE_SKIP_BUILD=1)',
  );
  const build = await compile(cmakeCommands(cmake));
  if (build.status === 0) {
    tell(`native addon built in ${minutes(build.ms)} (run \`npx tensorrt-node doctor\` to see what it can use)`);
    pruneBuild();
    return;
  }
  tell(
    `building the addon from source failed after ${minutes(build.ms)} (${build.error ? build.error.message : `exit code ${build.status}`}).`,
  );
  explainMissingAddon();
}

function explainMissingAddon() {
  tell('the package is installed WITHOUT its native addon. The cpu backend (onnxruntime-node) works;');
  tell('the tensorrt backend and CUDA tensors need the addon. To build it, install cmake (>= 3.24),');
  tell('a C++20 compiler and, for GPU support, the CUDA toolkit (nvcc on PATH), then run');
  tell('`npm rebuild tensorrt-node`. `npx tensorrt-node doctor` lists what is missing.');
}

try {
  await main();
} catch (error) {
  // Never fail the install: the package works without its addon, and doctor says what is missing.
  tell(`the install script stopped on an unexpected error: ${error instanceof Error ? error.message : String(error)}`);
  explainMissingAddon();
}
if (terminal) closeSync(terminal);
