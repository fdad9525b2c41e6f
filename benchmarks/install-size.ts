/**
 * What `npm install tensorrt-node` puts on disk in an app, before and after a change, in one run:
 * each revision is packed (`npm pack`, as a release would be, from a clean copy of its files),
 * installed into a fresh app folder from the npm registry's cache (install scripts off: no source
 * build), and measured with `du`. onnxruntime-node, an optional peer dependency, is not installed.
 * With --source-build, each app then runs the package's install script with no prebuilt binary,
 * as a host where none fits would (CUDA for one GPU architecture, to keep it short), and is
 * measured again: what a source build leaves behind.
 *
 *   npm run bench:install-size -- [--baseline <git ref>] [--source-build]
 *
 * Writes benchmarks/results/install-size.json. The goal (issue 18): <= 25 MB without onnxruntime-node.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, type as osType, release } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const GOAL_BYTES = 25 * 1000 ** 2;
const { values: args } = parseArgs({
  options: { baseline: { type: 'string' }, 'source-build': { type: 'boolean', default: false } },
});

const work = mkdtempSync(join(tmpdir(), 'install-size-'));
const env: NodeJS.ProcessEnv = {
  ...process.env,
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
};
for (const name of Object.keys(env)) if (name.startsWith('TENSORRT_NODE_')) delete env[name];

function run(command: string, argv: string[], cwd: string, extraEnv: NodeJS.ProcessEnv = {}): string {
  const result = spawnSync(command, argv, { cwd, encoding: 'utf8', env: { ...env, ...extraEnv }, maxBuffer: 256 * 2 ** 20 });
  if (result.status !== 0)
    throw new Error(`${command} ${argv.join(' ')} failed in ${cwd} (exit ${result.status}):\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** The files of a revision as a fresh clone has them (the working tree: tracked and untracked-but-not-ignored). */
function checkout(ref: string | null, folder: string): void {
  mkdirSync(folder, { recursive: true });
  if (ref) {
    execFileSync('bash', ['-c', `git archive ${JSON.stringify(ref)} | tar -x -C ${JSON.stringify(folder)}`], { cwd: root });
    return;
  }
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], {
    cwd: root,
    encoding: 'utf8',
  })
    .split('\0')
    .filter(Boolean);
  for (const file of files) {
    try {
      mkdirSync(dirname(join(folder, file)), { recursive: true });
      cpSync(join(root, file), join(folder, file));
    } catch {
      // deleted in the working tree
    }
  }
}

/** `npm pack` of a revision: its dist/ compiled with this repository's TypeScript, no prebuilds (a development tarball). */
function pack(label: string, ref: string | null): { tarball: string; bytes: number; unpackedBytes: number; files: number } {
  const source = join(work, `source-${label}`);
  checkout(ref, source);
  symlinkSync(join(root, 'node_modules'), join(source, 'node_modules'));
  run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], source);
  const out = run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], source);
  const [info] = JSON.parse(out.slice(out.indexOf('['))) as {
    filename: string;
    size: number;
    unpackedSize: number;
    entryCount: number;
  }[];
  const tarball = join(work, `${label}.tgz`);
  cpSync(join(work, info!.filename), tarball);
  rmSync(join(work, info!.filename));
  return { tarball, bytes: info!.size, unpackedBytes: info!.unpackedSize, files: info!.entryCount };
}

/** Disk use as `du` counts it (blocks, what "how big is node_modules" means) and the bytes of the files. */
function du(path: string): { diskBytes: number; apparentBytes: number } {
  const disk = Number(run('du', ['-sk', path], work).split('\t')[0]) * 1024;
  const apparent = Number(run('du', ['-sb', path], work).split('\t')[0]);
  return { diskBytes: disk, apparentBytes: apparent };
}

/** The top-level packages of node_modules (scoped ones by their full name), largest first. */
function packageSizes(nodeModules: string): Record<string, number> {
  const names = readdirSync(nodeModules)
    .filter((name) => !name.startsWith('.'))
    .flatMap((name) => (name.startsWith('@') ? readdirSync(join(nodeModules, name)).map((inner) => `${name}/${inner}`) : [name]));
  const sizes = names.map((name) => [name, du(join(nodeModules, name)).diskBytes] as const);
  return Object.fromEntries(sizes.sort((a, b) => b[1] - a[1]));
}

interface Measured {
  revision: string;
  tarball: { bytes: number; unpackedBytes: number; files: number };
  install: { packages: number; diskBytes: number; apparentBytes: number; byPackage: Record<string, number> };
  sourceBuild?: { seconds: number; diskBytes: number; apparentBytes: number; buildFolderBytes: number };
}

function measure(label: string, ref: string | null): Measured {
  const revision = ref
    ? run('git', ['rev-parse', ref], root).trim()
    : `${run('git', ['rev-parse', 'HEAD'], root).trim()} + working tree`;
  console.log(`${label}: packing ${revision}`);
  const packed = pack(label, ref);
  const app = join(work, `app-${label}`);
  mkdirSync(app);
  writeFileSync(
    join(app, 'package.json'),
    `${JSON.stringify({ name: `app-${label}`, version: '1.0.0', private: true }, null, 2)}\n`,
  );
  console.log(`${label}: installing ${packed.tarball}`);
  run('npm', ['install', packed.tarball, '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], app);
  const nodeModules = join(app, 'node_modules');
  const lock = JSON.parse(readFileSync(join(app, 'package-lock.json'), 'utf8')) as { packages: Record<string, unknown> };
  const measured: Measured = {
    revision,
    tarball: { bytes: packed.bytes, unpackedBytes: packed.unpackedBytes, files: packed.files },
    install: {
      packages: Object.keys(lock.packages).filter((key) => key !== '').length,
      ...du(nodeModules),
      byPackage: packageSizes(nodeModules),
    },
  };
  if (args['source-build']) {
    console.log(`${label}: running the install script (a source build)`);
    const started = performance.now();
    run('npm', ['rebuild', 'tensorrt-node', '--foreground-scripts'], app, { TENSORRT_NODE_CUDA_ARCHITECTURES: '80-real' });
    const seconds = (performance.now() - started) / 1000;
    measured.sourceBuild = {
      seconds: Math.round(seconds),
      ...du(nodeModules),
      buildFolderBytes: du(join(nodeModules, 'tensorrt-node', 'build')).diskBytes,
    };
  }
  return measured;
}

function versionOf(command: string, argv: string[]): string | null {
  try {
    return execFileSync(command, argv, { encoding: 'utf8' }).trim().split('\n')[0]!;
  } catch {
    return null;
  }
}

try {
  const loadAverageBefore = loadavg().map((value) => Math.round(value * 100) / 100);
  const before = args.baseline ? measure('before', args.baseline) : null;
  const after = measure('after', null);
  const mb = (bytes: number) => `${(bytes / 1000 ** 2).toFixed(1)} MB`;
  const result = {
    benchmark: 'install-size',
    createdAt: new Date().toISOString(),
    command: `npm run bench:install-size --${args.baseline ? ` --baseline ${args.baseline}` : ''}${args['source-build'] ? ' --source-build' : ''}`,
    environment: {
      cpu: cpus()[0]?.model.trim() ?? 'unknown',
      cores: cpus().length,
      os: `${osType()} ${release()}`,
      node: process.version,
      npm: versionOf('npm', ['--version']),
      cmake: versionOf('cmake', ['--version']),
      nvcc: versionOf('bash', ['-c', 'nvcc --version | tail -1']),
      loadAverageBefore,
      loadAverageAfter: loadavg().map((value) => Math.round(value * 100) / 100),
    },
    method:
      'npm pack (no prebuilt binaries), npm install <tarball> --ignore-scripts into a fresh app (onnxruntime-node not installed), du -sk / du -sb of its node_modules; sourceBuild: npm rebuild tensorrt-node (the install script, CUDA for sm_80 only) in the same app, measured again',
    goal: { maxInstallBytes: GOAL_BYTES, withoutOnnxRuntime: true },
    before,
    after,
    ratio: before
      ? {
          installDisk: Math.round((after.install.diskBytes / before.install.diskBytes) * 1000) / 1000,
          ...(before.sourceBuild && after.sourceBuild
            ? { withSourceBuildDisk: Math.round((after.sourceBuild.diskBytes / before.sourceBuild.diskBytes) * 1000) / 1000 }
            : {}),
        }
      : null,
    meetsGoal: after.install.diskBytes <= GOAL_BYTES && (after.sourceBuild ? after.sourceBuild.diskBytes <= GOAL_BYTES : true),
  };
  const out = join(root, 'benchmarks', 'results', 'install-size.json');
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  for (const [label, measured] of [
    ['before', before],
    ['after', after],
  ] as const) {
    if (!measured) continue;
    console.log(
      `${label}: tarball ${mb(measured.tarball.bytes)}, installed ${mb(measured.install.diskBytes)} in ${measured.install.packages} packages${measured.sourceBuild ? `, ${mb(measured.sourceBuild.diskBytes)} after a ${measured.sourceBuild.seconds} s source build` : ''}`,
    );
    console.log(
      `  largest: ${Object.entries(measured.install.byPackage)
        .slice(0, 6)
        .map(([name, bytes]) => `${name} ${mb(bytes)}`)
        .join(', ')}`,
    );
  }
  console.log(`goal <= ${mb(GOAL_BYTES)}: ${result.meetsGoal ? 'met' : 'NOT met'}; written to ${out}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
