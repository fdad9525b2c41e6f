import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../lib/addon/loader.js';

// `npm run lint:package` (scripts/lint-package.mjs) runs publint and attw on the packed tarball.
// These prove it passes the package as it is and fails one with a broken entry point, naming it.
// Like the rest of the e2e tier, they read the compiled dist/ (npm run build:ts).

function lintPackage(folder?: string) {
  return spawnSync(process.execPath, [join(packageRoot, 'scripts', 'lint-package.mjs'), ...(folder ? [folder] : [])], {
    encoding: 'utf8',
    timeout: 300_000,
    // CI sets CI=true, which turns colours on in picocolors even into a pipe: the script must print plain text anyway.
    env: { ...process.env, CI: 'true', FORCE_COLOR: '1' },
  });
}

type Manifest = { exports: Record<string, Record<string, string>>; scripts?: unknown };

const brokenPackages: { name: string; edit: (manifest: Manifest) => void; expected: string[] }[] = [
  {
    name: 'a subpath whose types file does not exist',
    edit: (manifest) => (manifest.exports['./bench']!.types = './dist/bench/missing.d.ts'),
    expected: [
      'publint error: pkg.exports["./bench"].types is ./dist/bench/missing.d.ts but the file does not exist.',
      '"tensorrt-node/bench"',
      'Used fallback condition',
    ],
  },
  {
    name: 'a subpath with its types condition after default (TypeScript never reaches it)',
    edit: (manifest) => (manifest.exports['./onnx'] = { default: './dist/onnx/index.js', types: './dist/onnx/index.d.ts' }),
    expected: [
      'publint error: pkg.exports["./onnx"].types should be the first in the object as conditions are order-sensitive so it can be resolved by TypeScript.',
      'publint error: pkg.exports["./onnx"].default should be the last in the object',
      'lint:package: 2 publint message(s); attw clean',
    ],
  },
];

describe('npm run lint:package: publint and attw on the packed tarball', () => {
  const copies: string[] = [];
  afterAll(() => {
    for (const copy of copies) rmSync(copy, { recursive: true, force: true });
  });

  it('the package as it is passes, every entry point checked', () => {
    const result = lintPackage();
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain(
      'lint:package: publint and attw (--profile node16 --ignore-rules cjs-resolves-to-esm) clean for ., ./onnx, ./precision, ./bench',
    );
  }, 300_000);

  it.each(brokenPackages)(
    'BAD CALL - $name fails, naming the entry point',
    ({ edit, expected }) => {
      const copy = mkdtempSync(join(tmpdir(), 'tensorrt-node-package-lint-'));
      copies.push(copy);
      cpSync(join(packageRoot, 'dist'), join(copy, 'dist'), { recursive: true });
      const manifest = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as Manifest;
      delete manifest.scripts; // only the files matter, and no install hook runs in a copy
      edit(manifest);
      writeFileSync(join(copy, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);

      const result = lintPackage(copy);
      expect(result.status).toBe(1);
      for (const text of expected) expect(result.stdout + result.stderr).toContain(text);
      expect(result.stderr).toContain('lint:package: ');
    },
    300_000,
  );
});
