/** `tensorrt-node cache` as users run it: the compiled CLI in a child process. */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';

const base = mkdtempSync(join(tmpdir(), 'e2e-cache-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('tensorrt-node cache (compiled CLI)', () => {
  it('lists an empty cache it creates owner-only, from $TENSORRT_NODE_CACHE_DIR', () => {
    const dir = join(base, 'cache');
    const listed = runCli(['cache', 'ls', '--json'], { env: { TENSORRT_NODE_CACHE_DIR: dir } });
    expect(listed.stderr).toBe('');
    expect(listed.status).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual({ dir, maxBytes: 10 * 1024 ** 3, totalBytes: 0, entries: [] });
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it('is listed in --help and has its own help', () => {
    expect(runCli(['--help']).stdout).toMatch(/^ {2}cache +List, prune or clear the engine cache/m);
    const help = runCli(['cache', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: tensorrt-node cache ls|prune|clear');
  });

  it('BAD CALL - a malformed size exits 2 with the typed error', () => {
    const result = runCli(['cache', 'prune', '--max-size', 'lots', '--dir', join(base, 'other')]);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(
      'tensorrt-node cache: Expected a byte size such as 512MiB, 2GiB, 1.5GB or 1000000 for --max-size but received "lots" of type string [ERR_INVALID_ARGUMENT]\n',
    );
  });
});
