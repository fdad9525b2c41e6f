/**
 * What sits in the cache folder that is not what its name says (issue 19 #6): a FIFO named like an
 * entry used to hang `cache ls`, `prune` and `clear` forever (a read blocks until a writer comes); a
 * folder at an entry's or a lock's path failed every `cache` command with an untyped EISDIR, and
 * `clear` could not repair the folder. Now nothing but regular files is opened, strays are reported
 * and left by ls/prune and the cache's own maintenance, and removed by clear.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cacheKey, EngineCache, type CacheKey } from '../../lib/cache/index.js';
import { main } from '../../lib/cli/index.js';

const base = mkdtempSync(join(tmpdir(), 'cache-strays-'));
let count = 0;
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** Stray tests must fail fast when something blocks: a hung read is the bug. */
const FAST = { timeout: 10_000 };

async function run(args: string[]) {
  let stdout = '';
  let stderr = '';
  const stream = (append: (text: string) => void) =>
    ({ write: (chunk: string) => (append(String(chunk)), true) }) as unknown as NodeJS.WritableStream;
  const code = await main(args, { stdout: stream((text) => (stdout += text)), stderr: stream((text) => (stderr += text)) });
  return { code, stdout, stderr };
}

function keyFor(name: string): CacheKey {
  return cacheKey({
    model: { bytes: Buffer.from(name) },
    build: { precision: 'fp16' },
    tensorrtVersion: '10.16.0',
    gpu: { uuid: 'GPU-1', computeCapability: '8.9' },
    label: `${name}.onnx`,
  });
}

/** A cache with one good entry ("good") and the id of a second key, not stored, to plant strays at. */
async function cacheWithStrayRoom(): Promise<{ dir: string; good: CacheKey; stray: string }> {
  const dir = join(base, `c${count++}`);
  const cache = await EngineCache.open(dir, { strict: true });
  const good = keyFor('good');
  await cache.put(good, Buffer.alloc(1000, 1), {});
  return { dir, good, stray: keyFor('stray').id };
}

const fifo = (path: string) => execFileSync('mkfifo', [path]);

describe('special files in the cache folder', () => {
  it("a FIFO named like an entry's metadata: ls lists it as broken, prune removes it, nothing hangs", FAST, async () => {
    const { dir, good, stray } = await cacheWithStrayRoom();
    fifo(join(dir, 'engines', `${stray}.json`));
    const listed = await run(['cache', 'ls', '--json', '--dir', dir]);
    expect(listed.code).toBe(0);
    const entries = (JSON.parse(listed.stdout) as { entries: { key: string; problem: string | null }[] }).entries;
    expect(entries.map((entry) => [entry.key, entry.problem]).sort()).toEqual(
      [
        [good.id, null],
        [stray, 'its metadata is a FIFO (named pipe), not a file'],
      ].sort(),
    );
    const pruned = await run(['cache', 'prune', '--dir', dir]);
    expect(pruned.code).toBe(0);
    expect(pruned.stdout).toMatch(/^Removed 1 entry \(0 B\) from .*: 1 broken\.\n1 entry \(.*\) remain\.\n$/);
    expect(existsSync(join(dir, 'engines', `${stray}.json`))).toBe(false);
    expect(await (await EngineCache.open(dir)).get(good)).toBeDefined();
  });

  it('a FIFO named like a plan, a lock and a timing cache: get() rebuilds, clear removes them, nothing hangs', FAST, async () => {
    const { dir, good } = await cacheWithStrayRoom();
    const plan = readdirSync(join(dir, 'engines')).find((name) => name.endsWith('.plan'))!;
    rmSync(join(dir, 'engines', plan));
    fifo(join(dir, 'engines', plan));
    fifo(join(dir, 'timing', `${'0'.repeat(16)}.timing`));
    const warnings: string[] = [];
    const cache = await EngineCache.open(dir, { onWarning: (warning) => warnings.push(warning.message) });
    expect(await cache.get(good)).toBeUndefined();
    expect(warnings).toEqual([
      expect.stringMatching(
        /^Engine cache entry [0-9a-f]{64} in .* is corrupt \(its plan is a FIFO \(named pipe\), not a file\); it was removed, and the engine will be rebuilt$/,
      ),
    ]);
    fifo(join(dir, 'locks', `${good.id}.lock`));
    const cleared = await run(['cache', 'clear', '--yes', '--dir', dir]);
    expect(cleared.code).toBe(0);
    expect(cleared.stdout).toContain(
      `${join(dir, 'locks', `${good.id}.lock`)}: a FIFO (named pipe) where the engine cache keeps a lock file`,
    );
    expect(cleared.stdout).toContain(
      `${join(dir, 'timing', `${'0'.repeat(16)}.timing`)}: a FIFO (named pipe) where the engine cache keeps a timing cache`,
    );
    for (const folder of ['engines', 'locks', 'timing']) expect(readdirSync(join(dir, folder))).toEqual([]);
  });

  it('a FIFO named CACHEDIR.TAG in a loose folder: open() refuses the folder, without hanging', FAST, async () => {
    const dir = join(base, `c${count++}`);
    mkdirSync(dir, { mode: 0o755 });
    execFileSync('chmod', ['755', dir]);
    writeFileSync(join(dir, 'other-file'), 'x');
    fifo(join(dir, 'CACHEDIR.TAG'));
    await expect(EngineCache.open(dir, { strict: true })).rejects.toMatchObject({
      code: 'ERR_CACHE',
      message: expect.stringMatching(/^Expected an owner-only \(0700\) directory for the engine cache/),
    });
  });
});

describe('folders in the cache folder', () => {
  it("a folder at an entry's metadata path: ls and prune report it and leave it, clear removes it", FAST, async () => {
    const { dir, good, stray } = await cacheWithStrayRoom();
    const metadata = join(dir, 'engines', `${stray}.json`);
    mkdirSync(metadata);
    writeFileSync(join(metadata, 'something.txt'), 'kept until clear');
    const listed = await run(['cache', 'ls', '--dir', dir]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(`${stray.slice(0, 12)}  0 B`);
    expect(listed.stdout).toContain('(broken: its metadata is a folder, not a file)');
    const pruned = await run(['cache', 'prune', '--dir', dir]);
    expect(pruned).toMatchObject({ code: 0, stderr: '' });
    expect(pruned.stdout).toContain(
      'Left 1 path(s) that do not hold what the cache keeps there (`tensorrt-node cache clear --yes` removes them):',
    );
    expect(pruned.stdout).toContain(`  ${metadata}: a folder where the engine cache keeps a file`);
    expect(existsSync(join(metadata, 'something.txt'))).toBe(true);
    expect(await (await EngineCache.open(dir)).get(good)).toBeDefined();
    const cleared = await run(['cache', 'clear', '--yes', '--json', '--dir', dir]);
    expect(cleared.code).toBe(0);
    expect((JSON.parse(cleared.stdout) as { removed: { key: string }[] }).removed.map((entry) => entry.key).sort()).toEqual(
      [good.id, stray].sort(),
    );
    expect(readdirSync(join(dir, 'engines'))).toEqual([]);
  });

  it("a folder at a lock's path: get() and put() warn and go on, prune reports it, clear repairs it", FAST, async () => {
    const { dir, good } = await cacheWithStrayRoom();
    const lock = join(dir, 'locks', `${good.id}.lock`);
    mkdirSync(lock);
    const warnings: string[] = [];
    const cache = await EngineCache.open(dir, { onWarning: (warning) => warnings.push(warning.message) });
    expect(await cache.get(good)).toBeDefined();
    expect(await cache.put(good, Buffer.alloc(10, 2), {})).toBe(false);
    expect(warnings).toEqual([
      `The engine cache ${dir} cannot be written (ERR_CACHE: The engine cache lock ${lock} is a folder, not a lock file; run \`tensorrt-node cache clear --yes\` to repair the cache folder); nothing was stored`,
    ]);
    const pruned = await run(['cache', 'prune', '--max-size', '0', '--json', '--dir', dir]);
    expect(pruned.code).toBe(0);
    expect((JSON.parse(pruned.stdout) as { strays: unknown[] }).strays).toEqual([
      { path: lock, problem: 'a folder where the engine cache keeps a lock file', removed: false },
    ]);
    const cleared = await run(['cache', 'clear', '--yes', '--dir', dir]);
    expect(cleared.code).toBe(0);
    expect(cleared.stdout).toMatch(
      /^Removed 1 entry \(.*\) and 0 timing cache\(s\) from .*\.\nRemoved 1 path\(s\) that do not hold what the cache keeps there:\n {2}.*\.lock: a folder where the engine cache keeps a lock file\n$/,
    );
    expect(readdirSync(join(dir, 'locks'))).toEqual([]);
    expect(await (await EngineCache.open(dir)).put(good, Buffer.alloc(10, 2), {})).toBe(true);
  });

  it(
    "a folder at a timing cache's path: clear removes it; a file where a sub-folder belongs: a typed ERR_CACHE",
    FAST,
    async () => {
      const { dir } = await cacheWithStrayRoom();
      mkdirSync(join(dir, 'timing', `${'a'.repeat(16)}.timing`));
      const cleared = await run(['cache', 'clear', '--yes', '--json', '--dir', dir]);
      expect(cleared.code).toBe(0);
      expect((JSON.parse(cleared.stdout) as { strays: unknown[] }).strays).toEqual([
        {
          path: join(dir, 'timing', `${'a'.repeat(16)}.timing`),
          problem: 'a folder where the engine cache keeps a timing cache',
          removed: true,
        },
      ]);
      rmSync(join(dir, 'locks'), { recursive: true });
      writeFileSync(join(dir, 'locks'), 'not a folder');
      const listed = await run(['cache', 'ls', '--dir', dir]);
      expect(listed.code).toBe(2);
      expect(listed.stderr).toBe(
        `tensorrt-node cache: Expected a folder at ${join(dir, 'locks')} (part of the engine cache) but received a regular file; remove it, or set TENSORRT_NODE_CACHE_DIR to another folder [ERR_CACHE]\n`,
      );
    },
  );
});
