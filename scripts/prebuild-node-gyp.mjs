#!/usr/bin/env node
// Stands in for node-gyp when prebuildify builds (scripts/prebuild.ts passes it as --node-gyp):
// prebuildify has no cmake-js backend, so this turns its node-gyp call into a cmake-js build.
//
// prebuildify runs `<this> rebuild --target=<node version> --devdir=<cache> --arch=<arch> --release`
// in its working folder and then takes the .node file from `<cwd>/build/Release`. Of those flags only
// --debug/--release matter here: the addon is built for N-API 8 against the node-api-headers package,
// so the Node version is irrelevant (and must not reach cmake-js, whose --target names a CMake
// target), and cross-compiling is not supported. The CMake project folder and extra cmake-js
// arguments come from scripts/prebuild.ts through the environment.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';

function fail(message) {
  console.error(`prebuild-node-gyp: ${message}`);
  process.exit(1);
}

const [command, ...flags] = process.argv.slice(2);
if (command !== 'rebuild') fail(`expected "rebuild" from prebuildify, got ${JSON.stringify(command)}`);
const sourceDir = process.env.TENSORRT_NODE_PREBUILD_SOURCE_DIR;
if (!sourceDir) fail('TENSORRT_NODE_PREBUILD_SOURCE_DIR is not set: run this through `npm run prebuild:local`');
const extraArgs = JSON.parse(process.env.TENSORRT_NODE_PREBUILD_CMAKE_ARGS ?? '[]');

let debug = false;
for (const flag of flags) {
  const [name, value] = flag.split('=');
  if (name === '--debug') debug = true;
  else if (name === '--arch' && value !== process.arch)
    fail(`cross-compiling for ${value} on ${process.arch} is not supported; build on a ${value} host`);
  else if (!['--release', '--target', '--devdir', '--arch', '--build_v8_with_gn'].includes(name))
    fail(`unexpected flag from prebuildify: ${flag}`);
}

const require = createRequire(join(sourceDir, 'package.json'));
const args = [
  require.resolve('cmake-js/bin/cmake-js'),
  'rebuild',
  '--directory',
  sourceDir,
  '--out',
  join(process.cwd(), 'build'),
  ...(debug ? ['--debug'] : []),
  ...extraArgs,
];
console.log(`prebuild-node-gyp: cmake-js ${args.slice(1).join(' ')}`);
const build = spawnSync(process.execPath, args, { stdio: 'inherit' });
if (build.error) fail(build.error.message);
process.exit(build.status ?? 1);
