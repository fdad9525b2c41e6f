#!/usr/bin/env node
// gcov line coverage of native/ under the emulated device tier (issue 14): builds the emulated addon
// instrumented (build-emulated-coverage/), runs its GoogleTest suite and the vitest project
// `emulated` against it, then reads gcov's JSON (GCC >= 9, no other tool needed) and writes
// benchmarks/results/coverage/native.json with a per-file and a per-folder summary.
//
// The product code (native/core, cuda, kernels, napi, trt, addon.cc) is what the goal counts; the
// emulated device itself (native/emulated) and the tests are reported apart. Options: --no-build,
// --no-run (only summarize the .gcda files already there).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { projectRoot, run } from './lib/process.mjs';

const buildDir = join(projectRoot, 'build-emulated-coverage');
const goal = 75;

if (!process.argv.includes('--no-build')) {
  const cmakeJs = createRequire(join(projectRoot, 'package.json')).resolve('cmake-js/bin/cmake-js');
  run(process.execPath, [cmakeJs, 'configure', '--out', buildDir, '--CDTRT_NODE_EMULATED_DEVICE=ON', '--CDTRT_NODE_BUILD_TESTS=ON', '--CDTRT_NODE_COVERAGE=ON']);
  run(process.execPath, [cmakeJs, 'build', '--out', buildDir, '--parallel', '2']);
}

function files(folder, suffix) {
  return readdirSync(folder, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(suffix))
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name));
}

if (!process.argv.includes('--no-run')) {
  for (const stale of files(buildDir, '.gcda')) rmSync(stale);
  // Failures are reported but do not stop the summary: coverage of a failing run is still information.
  spawnSync('ctest', ['--test-dir', buildDir, '--parallel', '2'], { stdio: 'inherit', cwd: projectRoot });
  spawnSync(process.execPath, ['scripts/test-emulated.mjs', '--no-build', '--no-gtest'], {
    stdio: 'inherit',
    cwd: projectRoot,
    env: { ...process.env, TENSORRT_NODE_ADDON: join(buildDir, 'Release', 'tensorrt_node.node') },
  });
}

// gcov --json-format --stdout prints one JSON document per .gcda; lines of a header compiled into
// several objects are merged (a line counts as run if any object ran it).
const lines = new Map(); // file -> Map(line -> executed)
const gcdaFiles = files(buildDir, '.gcda');
for (let start = 0; start < gcdaFiles.length; start += 50) {
  const batch = gcdaFiles.slice(start, start + 50);
  const gcov = spawnSync('gcov', ['--json-format', '--stdout', ...batch], { cwd: buildDir, encoding: 'utf8', maxBuffer: 1 << 30 });
  for (const document of gcov.stdout.split('\n').filter((line) => line.startsWith('{'))) {
    const report = JSON.parse(document);
    for (const file of report.files ?? []) {
      const path = relative(projectRoot, resolve(buildDir, file.file));
      if (!path.startsWith('native/')) continue;
      const known = lines.get(path) ?? new Map();
      for (const line of file.lines ?? []) known.set(line.line_number, (known.get(line.line_number) ?? false) || line.count > 0);
      lines.set(path, known);
    }
  }
}

function group(path) {
  if (path.startsWith('native/tests/')) return 'tests';
  if (path.startsWith('native/emulated/')) return 'emulated';
  return 'product';
}
const perFile = [...lines.entries()]
  .map(([file, known]) => ({ file, lines: known.size, covered: [...known.values()].filter(Boolean).length }))
  .sort((a, b) => a.file.localeCompare(b.file));
const totals = {};
for (const entry of perFile) {
  const key = group(entry.file);
  totals[key] ??= { lines: 0, covered: 0 };
  totals[key].lines += entry.lines;
  totals[key].covered += entry.covered;
}
const percent = (part) => (part.lines === 0 ? 0 : Math.round((1000 * part.covered) / part.lines) / 10);
const folders = {};
for (const entry of perFile.filter((item) => group(item.file) === 'product')) {
  const folder = entry.file.split('/').slice(0, 2).join('/');
  folders[folder] ??= { lines: 0, covered: 0 };
  folders[folder].lines += entry.lines;
  folders[folder].covered += entry.covered;
}
const summary = {
  createdAt: new Date().toISOString(),
  command: 'npm run coverage:native',
  what: 'gcov line coverage of native/ while the emulated device tier runs (GoogleTest + test/emulated); emulation, not a GPU',
  goalPercent: goal,
  product: { ...totals.product, percent: percent(totals.product ?? { lines: 0, covered: 0 }) },
  emulatedDevice: totals.emulated ? { ...totals.emulated, percent: percent(totals.emulated) } : null,
  folders: Object.fromEntries(Object.entries(folders).map(([folder, part]) => [folder, { ...part, percent: percent(part) }])),
  files: perFile.filter((entry) => group(entry.file) !== 'tests').map((entry) => ({ ...entry, percent: percent(entry) })),
};
const outDir = join(projectRoot, 'benchmarks', 'results', 'coverage');
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'native.json'), `${JSON.stringify(summary, null, 2)}\n`);
console.log(`native/ line coverage under the emulated tier: ${summary.product.percent}% of ${summary.product.lines} product lines (goal ${goal}%)`);
for (const [folder, part] of Object.entries(summary.folders)) console.log(`  ${folder.padEnd(16)} ${String(part.percent).padStart(5)}%  (${part.covered}/${part.lines})`);
if (summary.emulatedDevice) console.log(`  (the emulated device itself: ${summary.emulatedDevice.percent}%)`);
console.log(`summary: ${relative(projectRoot, join(outDir, 'native.json'))}`);
