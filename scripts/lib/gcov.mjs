// gcov line coverage of native/ from an instrumented build's .gcda files (GCC >= 9's JSON output,
// no other tool needed). Shared by scripts/coverage-native.mjs and scripts/coverage-summary.mjs.
//
// The product code (native/core, cuda, kernels, napi, trt, addon.cc) is what the goal counts; the
// emulated device and the fake TensorRT (native/emulated) and the tests are reported apart.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

/** Every file under `folder` (none when it does not exist) whose name ends with `suffix`. */
export function filesEndingWith(folder, suffix) {
  if (!existsSync(folder)) return [];
  return readdirSync(folder, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(suffix))
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name));
}

/** Deletes the counters of an earlier run, so that the next one counts alone. */
export function resetCounters(buildDir) {
  for (const stale of filesEndingWith(buildDir, '.gcda')) rmSync(stale);
}

function group(path) {
  if (path.startsWith('native/tests/')) return 'tests';
  if (path.startsWith('native/emulated/')) return 'emulated';
  return 'product';
}

export const percent = (part) => (part.lines === 0 ? 0 : Math.round((1000 * part.covered) / part.lines) / 10);
/** `part` with its percentage. */
export const withPercent = (part) => ({ ...part, percent: percent(part) });

/** Lines and covered lines of several parts, added up. */
export function sum(entries) {
  return entries.reduce((total, entry) => ({ lines: total.lines + entry.lines, covered: total.covered + entry.covered }), {
    lines: 0,
    covered: 0,
  });
}

/**
 * Reads the counters of `buildDir` (null when there are none) into totals per group, per folder of
 * the product code and per file. A line of a header compiled into several objects counts as run if
 * any object ran it.
 */
export function readNativeCoverage(buildDir, projectRoot) {
  const gcdaFiles = filesEndingWith(buildDir, '.gcda');
  if (gcdaFiles.length === 0) return null;
  const lines = new Map(); // file -> Map(line -> executed)
  for (let start = 0; start < gcdaFiles.length; start += 50) {
    const batch = gcdaFiles.slice(start, start + 50);
    const gcov = spawnSync('gcov', ['--json-format', '--stdout', ...batch], {
      cwd: buildDir,
      encoding: 'utf8',
      maxBuffer: 1 << 30,
    });
    if (gcov.error) throw new Error(`gcov: ${gcov.error.message}`);
    for (const document of gcov.stdout.split('\n').filter((line) => line.startsWith('{'))) {
      for (const file of JSON.parse(document).files ?? []) {
        const path = relative(projectRoot, resolve(buildDir, file.file));
        if (!path.startsWith('native/')) continue;
        const known = lines.get(path) ?? new Map();
        for (const line of file.lines ?? [])
          known.set(line.line_number, (known.get(line.line_number) ?? false) || line.count > 0);
        lines.set(path, known);
      }
    }
  }
  const perFile = [...lines.entries()]
    .map(([file, known]) => ({ file, lines: known.size, covered: [...known.values()].filter(Boolean).length }))
    .sort((a, b) => a.file.localeCompare(b.file));
  const product = perFile.filter((entry) => group(entry.file) === 'product');
  const folders = {};
  for (const entry of product) {
    const folder = entry.file.split('/').slice(0, 2).join('/');
    folders[folder] = sum([folders[folder] ?? { lines: 0, covered: 0 }, entry]);
  }
  // The CUDA side alone (what ran before the fake TensorRT existed): product code minus native/trt
  // and the TensorRT N-API files.
  const cudaSide = sum(
    product.filter((entry) => !entry.file.startsWith('native/trt/') && !/^native\/napi\/trt_/.test(entry.file)),
  );
  const emulated = sum(perFile.filter((entry) => group(entry.file) === 'emulated'));
  return {
    product: withPercent(sum(product)),
    cudaSide: withPercent(cudaSide),
    emulatedDevice: emulated.lines > 0 ? withPercent(emulated) : null,
    folders: Object.fromEntries(Object.entries(folders).map(([folder, part]) => [folder, withPercent(part)])),
    files: perFile.filter((entry) => group(entry.file) !== 'tests').map(withPercent),
  };
}
