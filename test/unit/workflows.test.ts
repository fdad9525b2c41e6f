import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { addonCandidates, packageRoot } from '../../lib/addon/loader.js';
import { parseVariantFile, variantFileName, variantId, type HostLibraries } from '../../lib/addon/variants.js';

// The release workflow cannot run here. actionlint checks its syntax, expressions, matrix keys and
// action inputs (`npm run lint:workflows`, test/e2e/workflows-actionlint.test.ts). These tests check
// that what it runs exists and fits together with the project: npm scripts, files, the prebuild
// script's options, the variant names the loader understands, the artifacts the package ships, and
// the path filters that decide when it runs.

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  needs?: string | string[];
  env?: Record<string, string>;
  strategy?: { matrix: { include: Record<string, string>[] } };
  steps: Step[];
}
interface Workflow {
  on: { pull_request?: { paths?: string[] } };
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}

const workflowFolder = join(packageRoot, '.github', 'workflows');
const workflows = readdirSync(workflowFolder)
  .filter((file) => /\.ya?ml$/.test(file))
  .map((file) => ({ file, workflow: parse(readFileSync(join(workflowFolder, file), 'utf8')) as Workflow }));
const steps = workflows.flatMap(({ file, workflow }) =>
  Object.entries(workflow.jobs).flatMap(([job, { steps }]) => steps.map((step) => ({ where: `${file} ${job}`, step }))),
);
const runScripts = steps.filter(({ step }) => step.run).map(({ where, step }) => ({ where, run: step.run! }));

const packageJson = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
  files: string[];
};
const trackedFiles = execFileSync('git', ['ls-files', '-z'], { cwd: packageRoot, encoding: 'utf8' }).split('\0').filter(Boolean);

/** GitHub's path filter glob (`*` within a segment, `**` across) as a RegExp. */
function globToRegExp(glob: string): RegExp {
  const pattern = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*\*/g, '\0')
    .replace(/\*/g, '[^/]*')
    .replace(/\0/g, '.*');
  return new RegExp(`^${pattern}$`);
}

/** A step's command with a matrix entry's values put in for `${{ matrix.<key> }}`. */
function withMatrix(command: string, entry: Record<string, string>): string {
  return command.replace(/\$\{\{\s*matrix\.([\w-]+)\s*\}\}/g, (_, key: string) => entry[key] ?? '');
}

// The TENSORRT_NODE_* variables that jobs and steps set: each must still mean something to the project.
const envSwitches = workflows
  .flatMap(({ file, workflow }) =>
    Object.entries(workflow.jobs).flatMap(([job, { env, steps }]) =>
      [env, ...steps.map((step) => step.env)].flatMap((vars) =>
        Object.keys(vars ?? {}).map((name) => ({ where: `${file} ${job}`, name })),
      ),
    ),
  )
  .filter(({ name }) => name.startsWith('TENSORRT_NODE_'));

/** The prebuild file name of a variant id such as "cuda12-trt10-tegra" (what TENSORRT_NODE_VARIANT names). */
function variantFile(id: string): string {
  const [, cuda, tensorrt, tegra] = /^cuda(\d+)(?:-trt(\d+))?(-tegra)?$/.exec(id)!;
  return variantFileName(Number(cuda), tensorrt ? Number(tensorrt) : null, Boolean(tegra));
}

describe('what the workflows run exists', () => {
  const npmRuns = runScripts.flatMap(({ where, run }) =>
    [...run.matchAll(/\bnpm run ([\w:-]+)/g)].map((match) => ({ where, script: match[1]! })),
  );
  const nodeFiles = runScripts.flatMap(({ where, run }) =>
    [...run.matchAll(/\bnode ((?:\.\/)?[\w./-]+\.[cm]?js)\b/g)].map((match) => ({ where, file: normalize(match[1]!) })),
  );

  it('finds the commands to check', () => {
    expect(npmRuns.length).toBeGreaterThan(0);
    expect(nodeFiles.length).toBeGreaterThan(0);
    expect(envSwitches.length).toBeGreaterThan(0);
  });

  it.each(npmRuns)('$where: `npm run $script` is a script of package.json', ({ script }) => {
    expect(Object.keys(packageJson.scripts)).toContain(script);
  });

  it.each(nodeFiles)('$where: `node $file` runs a file that exists (dist/ files: their lib/ source)', ({ file }) => {
    const source = file.startsWith('dist/') ? file.replace(/^dist\//, 'lib/').replace(/\.js$/, '.ts') : file;
    expect(existsSync(join(packageRoot, source)), source).toBe(true);
  });

  it.each(envSwitches)('$where: the switch $name is one the project reads', ({ name }) => {
    const readers = spawnSync('git', ['grep', '-l', '-w', name, '--', 'lib', 'scripts', ':!*.md'], {
      cwd: packageRoot,
      encoding: 'utf8',
    }).stdout.trim();
    expect(readers, `nothing in lib/ or scripts/ reads ${name}`).not.toBe('');
  });
});

// Which pushes and pull requests run the (long, GPU-toolkit) release workflow.
const pathFilters = workflows.flatMap(({ file, workflow }) =>
  (workflow.on.pull_request?.paths ?? []).map((pattern) => ({ file, pattern })),
);

/** The repository's files that `file` imports, and theirs (relative specifiers only). */
function localImports(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const text = readFileSync(join(packageRoot, file), 'utf8');
  for (const [, specifier] of text.matchAll(/\bfrom '(\.{1,2}\/[^']+)'/g)) {
    const target = normalize(join(dirname(file), specifier!));
    const candidates = [target, target.replace(/\.js$/, '.ts'), target.replace(/\.mjs$/, '.mts')];
    const found = candidates.find((candidate) => existsSync(join(packageRoot, candidate)));
    if (found) localImports(found, seen);
  }
  return seen;
}

describe('when the release workflow runs', () => {
  it.each(pathFilters)('$file: the pull_request path filter $pattern matches a file of the repository', ({ pattern }) => {
    expect(trackedFiles.some((file) => globToRegExp(pattern).test(file))).toBe(true);
  });

  const prebuildInputs = [
    ...new Set(
      [
        'scripts/prebuild.ts',
        'scripts/prebuild-node-gyp.mjs',
        'scripts/install.mjs',
        'lib/addon/loader.ts',
        'lib/addon/variants.ts',
      ].flatMap((root) => [...localImports(root)]),
    ),
  ].filter((file) => file.startsWith('scripts/') || file.startsWith('lib/addon/'));
  it.each(prebuildInputs)('a pull request that changes %s (which builds, names or picks the prebuilds) runs it', (file) => {
    const prebuilds = pathFilters.filter(({ file: workflow }) => workflow === 'prebuilds.yml');
    expect(prebuilds.some(({ pattern }) => globToRegExp(pattern).test(file))).toBe(true);
  });
});

describe('the prebuild matrix fits the project', () => {
  const prebuildJob = workflows.find(({ file }) => file === 'prebuilds.yml')!.workflow.jobs.prebuild!;
  const matrix = prebuildJob.strategy!.matrix.include;
  const buildStep = prebuildJob.steps.find((step) => step.run?.includes('npm run prebuild:local'))!;
  /** The options the build step passes to scripts/prebuild.ts for one matrix entry. */
  const prebuildOptions = (entry: Record<string, string>): string[] => {
    const command = withMatrix(buildStep.run!, entry)
      .split('\n')
      .find((line) => line.includes('npm run prebuild:local'))!;
    return [...command.split('npm run prebuild:local --')[1]!.matchAll(/"([^"]*)"|(\S+)/g)].map((match) => match[1] ?? match[2]!);
  };

  it.each(matrix)(
    '$arch $variant: the name is what prebuild.ts calls a build with that toolkit, TensorRT headers and flags',
    (entry) => {
      const tensorrtMajor = Number(/^v(\d+)\./.exec(entry['tensorrt-ref']!)?.[1]);
      const tegra = prebuildOptions(entry).includes('--tegra');
      // Without a CUDA version the job uses the image's own toolkit (JetPack), whose major only the name states.
      const cudaMajor = entry.cuda ? Number(entry.cuda.split('.')[0]) : parseVariantFile(variantFile(entry.variant!))!.cudaMajor;
      expect(variantId(cudaMajor, tensorrtMajor, tegra)).toBe(entry.variant);
    },
  );

  it.each(matrix.filter((entry) => /manylinux_(\d+)_(\d+)/.test(entry.image!)))(
    "$arch $variant: the glibc floor it enforces is the build image's glibc",
    (entry) => {
      const [, major, minor] = /manylinux_(\d+)_(\d+)/.exec(entry.image!)!;
      expect(entry['max-glibc']).toBe(`${major}.${minor}`);
      expect(prebuildOptions(entry).join(' ')).toContain(`--max-glibc ${major}.${minor}`);
    },
  );

  // Entries that pass the same options are probed once.
  const optionSets = [...new Set(matrix.map((entry) => JSON.stringify(prebuildOptions(entry))))].map((options) => ({
    options: JSON.parse(options) as string[],
  }));

  // parseArgs (strict) stops at the first option it does not know, before anything is built; so a
  // run that names the workflow's options and then a made-up one shows the workflow's are accepted.
  it.each(optionSets)(
    'scripts/prebuild.ts accepts the options a job passes: $options',
    ({ options }) => {
      expect(options).toContain('--max-glibc');
      const tsx = join(packageRoot, 'node_modules', 'tsx', 'dist', 'cli.mjs');
      const probe = spawnSync(
        process.execPath,
        [tsx, join(packageRoot, 'scripts', 'prebuild.ts'), ...options, '--not-a-prebuild-option'],
        { cwd: packageRoot, encoding: 'utf8', timeout: 60_000 },
      );
      expect(probe.status).not.toBe(0);
      expect(probe.stderr).toContain("Unknown option '--not-a-prebuild-option'");
    },
    60_000,
  );

  const fakeRoot = mkdtempSync(join(tmpdir(), 'tensorrt-node-workflow-'));
  afterAll(() => rmSync(fakeRoot, { recursive: true, force: true }));
  it.each(matrix)(
    "$arch $variant: the test step's TENSORRT_NODE_VARIANT makes the loader pick exactly that prebuild",
    (entry) => {
      const testStep = prebuildJob.steps.find((step) => step.env?.TENSORRT_NODE_VARIANT)!;
      const requested = withMatrix(testStep.env!.TENSORRT_NODE_VARIANT!, entry);
      const folder = join(fakeRoot, 'prebuilds', `${process.platform}-${process.arch}`);
      mkdirSync(folder, { recursive: true });
      for (const other of matrix) writeFileSync(join(folder, variantFile(other.variant!)), '');
      // A host that would rank the variants otherwise (no driver, no TensorRT): the variable decides.
      const host: HostLibraries = {
        libc: 'glibc',
        driver: { version: null, maxCudaMajor: null, tegraRelease: null, source: 'test' },
        tensorrt: [],
      };
      const eligible = addonCandidates(fakeRoot, { TENSORRT_NODE_VARIANT: requested }, () => host).filter(
        (candidate) => candidate.eligible,
      );
      expect(eligible.map((candidate) => candidate.variant)).toEqual([entry.variant]);
    },
  );
});

describe('the package job ships what the prebuild jobs built', () => {
  const { prebuild, package: pack } = workflows.find(({ file }) => file === 'prebuilds.yml')!.workflow.jobs;
  const upload = prebuild!.steps.find((step) => step.uses?.startsWith('actions/upload-artifact@'))!;
  const download = pack!.steps.find((step) => step.uses?.startsWith('actions/download-artifact@'))!;
  const matrix = prebuild!.strategy!.matrix.include;

  it('the artifacts are downloaded to where they were uploaded from, a folder package.json "files" ships', () => {
    expect(download.with!.path).toBe(upload.with!.path);
    expect(packageJson.files).toContain(upload.with!.path);
    expect(download.with!['merge-multiple']).toBe(true); // one prebuilds/ folder, not one per artifact
  });

  it('every matrix entry uploads under its own name (upload-artifact v4 refuses a name twice), and the download pattern takes them all', () => {
    const names = matrix.map((entry) => withMatrix(String(upload.with!.name), entry));
    expect(new Set(names).size).toBe(matrix.length);
    for (const name of names) expect(name).toMatch(globToRegExp(String(download.with!.pattern)));
  });

  it('the package job waits for the prebuild jobs, and packs the tarball', () => {
    expect([pack!.needs].flat()).toContain('prebuild');
    expect(pack!.steps.some((step) => /\bnpm pack\b/.test(step.run ?? ''))).toBe(true);
    expect(upload.with!['if-no-files-found']).toBe('error'); // a job that built nothing fails instead of shipping less
  });
});
