#!/usr/bin/env node
// Prints the bin/ folder of a Node.js binary of the given major line (22, 24, 26), for CI to run the
// fast test tiers on the other supported Node lines. The binary comes from the npm registry's
// node-linux-<arch> package (the official build, repackaged; `npm pack` fetches it like any
// package: no other download) and is kept in a cache folder between runs:
//
//   node scripts/node-line.mjs 24        ->  ~/.cache/tensorrt-node-ci/node-v24.x.y-linux-x64/bin
//
// The newest release of the line is asked of the registry; offline, the newest one in the cache is
// used. TENSORRT_NODE_CI_CACHE overrides the cache folder.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

const major = process.argv[2];
if (!/^\d+$/.test(major ?? '')) {
  console.error('Usage: node scripts/node-line.mjs <major version, e.g. 24>');
  process.exit(2);
}
const pkg = `node-${process.platform}-${process.arch}`;
const cache =
  process.env.TENSORRT_NODE_CI_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'tensorrt-node-ci');
mkdirSync(cache, { recursive: true });
const folderOf = (version) => join(cache, `node-v${version}-${process.platform}-${process.arch}`);
const log = (line) => console.error(`node-line: ${line}`);

function newestOnRegistry() {
  try {
    const answer = JSON.parse(
      execFileSync('npm', ['view', `${pkg}@${major}`, 'version', '--json'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 60_000,
      }),
    );
    const versions = Array.isArray(answer) ? answer : [answer];
    return versions.sort((a, b) => b.localeCompare(a, undefined, { numeric: true }))[0] ?? null;
  } catch (error) {
    log(`could not ask the registry for ${pkg}@${major} (${error.message.split('\n')[0]}); looking in the cache`);
    return null;
  }
}

function newestCached() {
  const prefix = `node-v${major}.`;
  const cached = readdirSync(cache).filter((name) => name.startsWith(prefix) && existsSync(join(cache, name, 'bin', 'node')));
  const version = cached
    .map((name) => name.slice('node-v'.length).split('-')[0])
    .sort((a, b) => b.localeCompare(a, undefined, { numeric: true }))[0];
  return version ?? null;
}

const version = newestOnRegistry() ?? newestCached();
if (!version) {
  log(`no ${pkg}@${major} on the registry or in ${cache}`);
  process.exit(1);
}
const folder = folderOf(version);
if (!existsSync(join(folder, 'bin', 'node'))) {
  const scratch = mkdtempSync(join(tmpdir(), 'node-line-'));
  try {
    log(`fetching ${pkg}@${version} from the npm registry into ${cache}`);
    const packed = JSON.parse(
      execFileSync('npm', ['pack', `${pkg}@${version}`, '--json', '--pack-destination', scratch], {
        cwd: scratch,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      }),
    );
    execFileSync('tar', ['-xzf', join(scratch, packed[0].filename), '-C', scratch]);
    rmSync(folder, { recursive: true, force: true });
    renameSync(join(scratch, 'package'), folder);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
const reported = execFileSync(join(folder, 'bin', 'node'), ['--version'], { encoding: 'utf8' }).trim();
if (reported !== `v${version}`) {
  log(`${join(folder, 'bin', 'node')} reports ${reported}, not v${version}`);
  process.exit(1);
}
console.log(join(folder, 'bin'));
