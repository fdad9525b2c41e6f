import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../lib/addon/loader.js';

// The layers of lib/ are declared once, in .dependency-cruiser.cjs, and `npm run lint` runs
// dependency-cruiser over lib/ with it. These tests show that the rule really fails an import that
// breaks the layering (naming the rule), that it covers every folder, and that ARCHITECTURE.md,
// which explains the layers to people, says what the config enforces.

interface ForbiddenRule {
  name: string;
  from: { path: string };
  to: { path?: string; circular?: boolean };
}
const require = createRequire(import.meta.url);
const config = require(join(packageRoot, '.dependency-cruiser.cjs')) as { forbidden: ForbiddenRule[] };
const layerRules = config.forbidden.filter((rule) => rule.name.startsWith('layer-'));
const configFolders = layerRules.map((rule) => rule.name.slice('layer-'.length));

/** What the config lets `folder` import, found by asking its rule about a file in every other folder. */
function allowedByConfig(folder: string): string[] {
  const rule = layerRules.find((candidate) => candidate.name === `layer-${folder}`)!;
  return configFolders.filter((other) => other !== folder && !new RegExp(rule.to.path!).test(`lib/${other}/file.ts`));
}

/** ARCHITECTURE.md's "folder | may import" table, its phrases read into folder lists. */
function allowedByArchitectureDoc(): Map<string, string[]> {
  const text = readFileSync(join(packageRoot, 'ARCHITECTURE.md'), 'utf8');
  const rows = [...text.matchAll(/^\|\s*`([a-z]+)`\s*\|\s*([^|]+?)\s*\|$/gm)].map((match) => ({
    folder: match[1]!,
    phrase: match[2]!.trim(),
  }));
  const folders = rows.map((row) => row.folder);
  const allowed = new Map<string, string[]>();
  const list = (names: string) => names.split(',').map((name) => name.trim());
  for (const { folder, phrase } of rows) {
    const others = folders.filter((other) => other !== folder);
    let imports: string[];
    let match: RegExpExecArray | null;
    if (phrase === 'nothing') imports = [];
    else if (phrase === 'everything') imports = others;
    else if ((match = /^(\w+) only$/.exec(phrase))) imports = [match[1]!];
    else if ((match = /^everything above except (.+)$/.exec(phrase)))
      imports = others.filter((other) => !list(match![1]!).includes(other));
    else if ((match = /^(\w+) and everything below it$/.exec(phrase))) imports = [match[1]!, ...(allowed.get(match[1]!) ?? [])];
    else if (/^\w+(, \w+)*$/.test(phrase)) imports = list(phrase);
    else
      throw new Error(
        `ARCHITECTURE.md: cannot read "${phrase}" (the row of ${folder}); write a list of folders or extend this reader`,
      );
    // "besides itself and core, which everything may import"
    allowed.set(folder, [...new Set(folder === 'core' ? imports : ['core', ...imports])]);
  }
  return allowed;
}

const libFolders = readdirSync(join(packageRoot, 'lib'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

/** Every folder under lib/, nested ones included (`backends/cpu`), relative to lib/. */
const allFolders = readdirSync(join(packageRoot, 'lib'), { withFileTypes: true, recursive: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => relative(join(packageRoot, 'lib'), join(entry.parentPath, entry.name)));

describe('the layout of lib/', () => {
  it('the top level holds only index.ts (the public API) and folders', () => {
    const files = readdirSync(join(packageRoot, 'lib'), { withFileTypes: true }).filter((entry) => !entry.isDirectory());
    expect(files.map((entry) => entry.name)).toEqual(['index.ts']);
  });

  it.each(allFolders)('lib/%s/ has its entry file, index.ts, inside it', (folder) => {
    expect(readdirSync(join(packageRoot, 'lib', folder))).toContain('index.ts');
  });

  it('every folder of lib/ has a layer rule in .dependency-cruiser.cjs (an unlisted folder would escape the rules)', () => {
    expect([...configFolders].sort()).toEqual([...libFolders].sort());
  });

  it.each(configFolders)('ARCHITECTURE.md and the config agree on what lib/%s/ may import', (folder) => {
    const documented = allowedByArchitectureDoc();
    expect([...documented.keys()].sort()).toEqual([...configFolders].sort());
    expect([...documented.get(folder)!].sort()).toEqual(allowedByConfig(folder).sort());
  });
});

// Imports that break the layering, each written into its own new file of a copy of lib/.
const violations = [
  {
    rule: 'layer-core',
    file: 'core/upward.ts',
    imports: '../session/batcher.js',
    from: 'lib/core/upward.ts',
    to: 'lib/session/batcher.ts',
  },
  {
    rule: 'layer-onnx',
    file: 'onnx/sideways.ts',
    imports: '../cache/key.js',
    from: 'lib/onnx/sideways.ts',
    to: 'lib/cache/key.ts',
  },
  {
    rule: 'layer-cuda',
    file: 'cuda/two-up.ts',
    imports: '../tensorrt/engine.js',
    from: 'lib/cuda/two-up.ts',
    to: 'lib/tensorrt/engine.ts',
  },
  {
    rule: 'only-index-imports-index',
    file: 'session/public.ts',
    imports: '../index.js',
    from: 'lib/session/public.ts',
    to: 'lib/index.ts',
  },
  { rule: 'no-circular', file: 'cuda/ring-a.ts', imports: './ring-b.js', from: 'lib/cuda/ring-a.ts', to: 'lib/cuda/ring-b.ts' },
];

function depcruise(cwd: string) {
  const cli = join(packageRoot, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
  // The same command line as `npm run lint:layers`.
  return spawnSync(process.execPath, [cli, 'lib', '--config', '.dependency-cruiser.cjs', '--output-type', 'err'], {
    cwd,
    encoding: 'utf8',
    timeout: 120_000,
  });
}

describe('dependency-cruiser enforces the layers', () => {
  let copy: string;
  let result: ReturnType<typeof depcruise>;

  beforeAll(() => {
    copy = mkdtempSync(join(tmpdir(), 'tensorrt-node-layers-'));
    cpSync(join(packageRoot, 'lib'), join(copy, 'lib'), { recursive: true });
    for (const file of ['.dependency-cruiser.cjs', 'tsconfig.json', 'package.json'])
      cpSync(join(packageRoot, file), join(copy, file));
    symlinkSync(join(packageRoot, 'node_modules'), join(copy, 'node_modules'));
    for (const { file, imports } of violations) {
      mkdirSync(dirname(join(copy, 'lib', file)), { recursive: true });
      writeFileSync(join(copy, 'lib', file), `import * as imported from '${imports}';\nexport const reached = imported;\n`);
    }
    writeFileSync(
      join(copy, 'lib', 'cuda', 'ring-b.ts'),
      `import * as imported from './ring-a.js';\nexport const reached = imported;\n`,
    );
    result = depcruise(copy);
  }, 120_000);
  afterAll(() => rmSync(copy, { recursive: true, force: true }));

  it('lib/ as it is passes', () => {
    const clean = depcruise(packageRoot);
    expect(clean.status, clean.stdout + clean.stderr).toBe(0);
    expect(clean.stdout).toContain('no dependency violations found');
  }, 120_000);

  it.each(violations)('BAD CALL - $from importing $to fails, naming the rule $rule', ({ rule, from, to }) => {
    expect(result.status, result.stderr).not.toBe(0);
    expect(result.stdout).toMatch(new RegExp(`error ${rule}: ${from} →\\s+${to}`));
  });

  it('names nothing but the deliberate violations', () => {
    const errors = [...result.stdout.matchAll(/error ([\w-]+): (\S+)/g)].map((match) => `${match[1]} ${match[2]}`);
    const expected = violations.map(({ rule, from }) => `${rule} ${from}`);
    expect(errors.filter((error) => !expected.includes(error) && error !== 'no-circular lib/cuda/ring-b.ts')).toEqual([]);
    expect(result.stdout).toContain(`x ${errors.length} dependency violations (${errors.length} errors, 0 warnings)`);
  });
});
