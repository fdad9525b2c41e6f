#!/usr/bin/env node
// `--check` fails when a native source is not clang-formatted; `--fix` formats in place.
// Without clang-format it skips with a message, unless TENSORRT_NODE_REQUIRE_CLANG_FORMAT=1 (.ci/run).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { projectRoot } from './lib/process.mjs';

const fix = process.argv.includes('--fix');
const version = spawnSync('clang-format', ['--version'], { stdio: 'pipe' });
if (version.error || version.status !== 0) {
  const message = 'clang-format is not installed (Debian/Ubuntu: apt-get install clang-format); C++ format check skipped';
  if (/^(1|true)$/i.test(process.env.TENSORRT_NODE_REQUIRE_CLANG_FORMAT ?? '')) {
    console.error(`clang-format: ${message}, but TENSORRT_NODE_REQUIRE_CLANG_FORMAT is set`);
    process.exit(1);
  }
  console.warn(`clang-format: ${message}.`);
  process.exit(0);
}

function sources(folder) {
  return readdirSync(folder, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.(cc|h|cu|cuh)$/.test(entry.name))
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name));
}

const files = sources(join(projectRoot, 'native'));
const args = fix ? ['-i', ...files] : ['--dry-run', '--Werror', ...files];
const result = spawnSync('clang-format', args, { stdio: 'inherit', cwd: projectRoot });
if (result.status !== 0) {
  console.error(`clang-format: ${fix ? 'formatting failed' : 'native sources need formatting: run `npm run format`'}`);
  process.exit(result.status ?? 1);
}
console.log(
  `clang-format: ${files.length} native sources ${fix ? 'formatted' : 'are formatted'} (${relative(projectRoot, join(projectRoot, 'native'))}/)`,
);
