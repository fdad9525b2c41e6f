/**
 * A copy of the repository as a fresh clone would have it: the files git tracks plus untracked ones
 * it does not ignore (so uncommitted work is tested too), and nothing built or installed.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { packageRoot } from '../../lib/addon/loader.js';

export function cleanClone(prefix = 'tensorrt-node-clone-'): string {
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], {
    cwd: packageRoot,
    encoding: 'utf8',
  })
    .split('\0')
    .filter(Boolean);
  const target = mkdtempSync(join(tmpdir(), prefix));
  for (const file of files) {
    mkdirSync(dirname(join(target, file)), { recursive: true });
    try {
      cpSync(join(packageRoot, file), join(target, file));
    } catch {
      // deleted in the working tree but still tracked: a fresh clone would have it, a commit would not
    }
  }
  return target;
}
