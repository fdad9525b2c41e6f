import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../lib/cli/index.js';
import { formatCacheListing, formatPruneReport } from '../../lib/cli/commands/cache.js';
import { cacheKey, EngineCache, type CacheEntryInfo, type CacheKey } from '../../lib/cache/index.js';

const base = mkdtempSync(join(tmpdir(), 'cli-cache-'));
let count = 0;
afterAll(() => rmSync(base, { recursive: true, force: true }));

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

/** A cache folder holding the engines `names`, 1000-byte plans each. */
async function populated(...names: string[]): Promise<{ dir: string; keys: CacheKey[] }> {
  const dir = join(base, `c${count++}`);
  const cache = await EngineCache.open(dir, { strict: true });
  const keys = names.map(keyFor);
  for (const key of keys) await cache.put(key, Buffer.alloc(1000, 1), {});
  return { dir, keys };
}

describe('tensorrt-node cache ls', () => {
  it('formats entries as a table, most recently used first', () => {
    const entry = (key: string, label: string | null, lastUsedAt: string, problem: string | null = null): CacheEntryInfo => ({
      key: key.repeat(64),
      label,
      bytes: 1536,
      planBytes: 1000,
      sha256: 'f'.repeat(64),
      createdAt: '2025-03-01T09:30:12.000Z',
      lastUsedAt,
      parts: {
        model: { sha256: 'e'.repeat(64) },
        transforms: [],
        build: { precision: 'int8' },
        tensorrtVersion: '10.16.0',
        gpu: { uuid: 'GPU-1', computeCapability: '8.9' },
      },
      problem,
    });
    expect(
      formatCacheListing('/c', 2 * 1024 ** 3, [
        entry('a', 'resnet50.onnx', '2025-03-02T10:00:59.000Z'),
        entry('b', null, '2025-03-01T10:00:00.000Z', 'its plan file is missing'),
      ]),
    ).toBe(
      [
        'Engine cache /c (limit 2.0 GiB)',
        'KEY           SIZE     LAST USED          CREATED            TENSORRT  GPU     PRECISION  LABEL',
        'aaaaaaaaaaaa  1.5 KiB  2025-03-02 10:00Z  2025-03-01 09:30Z  10.16.0   sm 8.9  int8       resnet50.onnx',
        'bbbbbbbbbbbb  1.5 KiB  2025-03-01 10:00Z  2025-03-01 09:30Z  10.16.0   sm 8.9  int8       -  (broken: its plan file is missing)',
        '2 entries, 3.0 KiB',
        '',
      ].join('\n'),
    );
    expect(formatCacheListing('/c', Infinity, [])).toBe('Engine cache /c (no size limit): empty\n');
  });

  it('lists a real cache, as text and as JSON', async () => {
    const { dir, keys } = await populated('detector', 'recognizer');
    const text = await run(['cache', 'ls', '--dir', dir]);
    expect(text).toMatchObject({ code: 0, stderr: '' });
    const lines = text.stdout.split('\n');
    expect(lines[0]).toBe(`Engine cache ${dir} (limit 10.0 GiB)`);
    expect(
      lines
        .slice(2, 4)
        .map((line) => line.slice(0, 12))
        .sort(),
    ).toEqual(keys.map((key) => key.id.slice(0, 12)).sort());
    expect(lines[2]).toMatch(
      /^[0-9a-f]{12} {2}1\.\d KiB {2}\d{4}-\d\d-\d\d \d\d:\d\dZ {2}\d{4}-\d\d-\d\d \d\d:\d\dZ {2}10\.16\.0 {3}sm 8\.9 {2}fp16 {7}(detector|recognizer)\.onnx$/,
    );
    expect(lines[4]).toMatch(/^2 entries, \d\.\d KiB$/);
    const json = await run(['cache', 'ls', '--json', '--dir', dir]);
    const parsed = JSON.parse(json.stdout) as { dir: string; maxBytes: number; totalBytes: number; entries: CacheEntryInfo[] };
    expect(parsed).toMatchObject({ dir, maxBytes: 10 * 1024 ** 3 });
    expect(parsed.entries.map((entry) => entry.label).sort()).toEqual(['detector.onnx', 'recognizer.onnx']);
    expect(parsed.totalBytes).toBe(parsed.entries.reduce((sum, entry) => sum + entry.bytes, 0));
  });

  it('uses $TENSORRT_NODE_CACHE_DIR when --dir is not given', async () => {
    const { dir } = await populated('env');
    process.env.TENSORRT_NODE_CACHE_DIR = dir;
    try {
      expect((await run(['cache', 'ls'])).stdout).toContain(`Engine cache ${dir} `);
    } finally {
      delete process.env.TENSORRT_NODE_CACHE_DIR;
    }
  });
});

describe('tensorrt-node cache prune and clear', () => {
  it('prunes entries unused for longer than --older-than', async () => {
    const { dir, keys } = await populated('old', 'new');
    const longAgo = new Date(Date.now() - 40 * 86_400_000);
    utimesSync(join(dir, 'engines', `${keys[0]!.id}.json`), longAgo, longAgo);
    const result = await run(['cache', 'prune', '--older-than', '30d', '--dir', dir]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      new RegExp(
        `^Removed 1 entry \\(\\d\\.\\d KiB\\) from ${dir}: 1 unused for too long\\.\\n1 entry \\(\\d\\.\\d KiB\\) remain\\.\\n$`,
      ),
    );
    const after = JSON.parse((await run(['cache', 'ls', '--json', '--dir', dir])).stdout) as { entries: CacheEntryInfo[] };
    expect(after.entries.map((entry) => entry.key)).toEqual([keys[1]!.id]);
  });

  it('prunes to --max-size, least recently used first, and reports as JSON', async () => {
    const { dir } = await populated('a', 'b', 'c');
    const result = await run(['cache', 'prune', '--max-size', '0', '--json', '--dir', dir]);
    const report = JSON.parse(result.stdout) as {
      maxBytes: number;
      olderThanMs: null;
      removed: Array<{ reason: string }>;
      remainingEntries: number;
    };
    expect(report).toMatchObject({ maxBytes: 0, olderThanMs: null, remainingEntries: 0 });
    expect(report.removed.map((entry) => entry.reason)).toEqual(['size-limit', 'size-limit', 'size-limit']);
    expect((await run(['cache', 'prune', '--dir', dir])).stdout).toBe(
      'Nothing to prune in ' + dir + '.\n0 entries (0 B) remain.\n',
    );
  });

  it('formats a prune that skipped busy entries and cleaned leftovers', () => {
    expect(
      formatPruneReport('/c', {
        removed: [
          { key: 'k', bytes: 2048, reason: 'broken' },
          { key: 'l', bytes: 1024, reason: 'size-limit' },
        ],
        freedBytes: 3072,
        remainingEntries: 1,
        remainingBytes: 10,
        skippedBusy: ['m'],
        leftoversRemoved: 2,
        strays: [],
      }),
    ).toBe(
      'Removed 2 entries (3.0 KiB) from /c: 1 broken, 1 beyond the size limit.\n1 entry (10 B) remain.\nSkipped 1 entry in use by another process.\nCleaned 2 leftover file(s) of interrupted writers.\n',
    );
  });

  it('clears only with --yes', async () => {
    const { dir } = await populated('x', 'y');
    const refused = await run(['cache', 'clear', '--dir', dir]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      new RegExp(
        `^tensorrt-node cache: Expected --yes to confirm \`tensorrt-node cache clear\`, which removes 2 entries \\(\\d\\.\\d KiB\\) and every timing cache in ${dir}, but received no --yes \\[ERR_INVALID_ARGUMENT\\]\\n$`,
      ),
    );
    expect(JSON.parse((await run(['cache', 'ls', '--json', '--dir', dir])).stdout).entries).toHaveLength(2);
    const cleared = await run(['cache', 'clear', '--yes', '--dir', dir]);
    expect(cleared.stdout).toMatch(
      new RegExp(`^Removed 2 entries \\(\\d\\.\\d KiB\\) and 0 timing cache\\(s\\) from ${dir}\\.\\n$`),
    );
    expect((await run(['cache', 'ls', '--dir', dir])).stdout).toBe(`Engine cache ${dir} (limit 10.0 GiB): empty\n`);
  });
});

describe('tensorrt-node cache: bad input', () => {
  const usage =
    'Usage: tensorrt-node cache ls|prune|clear [--dir <folder>] [--json] [--max-size <size>] [--older-than <duration>] [--yes]';

  it.each([
    [['cache'], `Expected a subcommand (one of "ls", "prune", "clear") for \`tensorrt-node cache\` but received none. ${usage}`],
    [
      ['cache', 'lst'],
      'Expected one of "ls", "prune", "clear" for the subcommand of `tensorrt-node cache` but received "lst" of type string (did you mean "ls"?)',
    ],
    [['cache', 'ls', 'extra'], `Unexpected argument "extra" after \`tensorrt-node cache ls\`. ${usage}`],
    [['cache', 'ls', '--yes'], 'Option --yes only applies to `tensorrt-node cache clear`, not `cache ls`'],
    [
      ['cache', 'clear', '--max-size', '1GiB'],
      'Option --max-size only applies to `tensorrt-node cache prune`, not `cache clear`',
    ],
    [
      ['cache', 'prune', '--max-size', '2XB'],
      'Expected a byte size such as 512MiB, 2GiB, 1.5GB or 1000000 for --max-size but received "2XB" of type string',
    ],
    [
      ['cache', 'prune', '--max-size=-1'],
      'Expected a byte size such as 512MiB, 2GiB, 1.5GB or 1000000 for --max-size but received "-1" of type string',
    ],
    [
      ['cache', 'prune', '--older-than', '30'],
      'Expected a duration such as 250ms, 3s, 1.5m or 1h30m for --older-than but received "30" of type string',
    ],
    [
      ['cache', 'prune', '--max-sise', '1G'],
      `Unknown option --max-sise for \`tensorrt-node cache\` (did you mean --max-size?). ${usage}`,
    ],
  ])('BAD CALL - %j', async (args, message) => {
    const { dir } = await populated('kept');
    const result = await run([...args, '--dir', dir]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^tensorrt-node cache: /);
    expect(result.stderr.replace(/^tensorrt-node cache: /, '').replace(/ \[ERR_[A-Z_]+\]\n$/, '')).toBe(message);
    expect(result.stdout).toBe('');
    // Nothing was removed by a rejected command.
    expect(JSON.parse((await run(['cache', 'ls', '--json', '--dir', dir])).stdout).entries).toHaveLength(1);
  });

  it('BAD CALL - a cache folder that is not safe to use is an ERR_CACHE error, not a silent fallback', async () => {
    const result = await run(['cache', 'ls', '--dir', '/']);
    if (process.getuid?.() === 0) {
      // As root, / is ours but loose and full of other files.
      expect(result.stderr).toBe(
        'tensorrt-node cache: Expected an owner-only (0700) directory for the engine cache but received / with mode 0755; it holds files that are not a tensorrt-node cache, so it was left alone: run `chmod 700 /` or set TENSORRT_NODE_CACHE_DIR to another folder [ERR_CACHE]\n',
      );
    } else {
      expect(result.stderr).toMatch(/^tensorrt-node cache: Expected a directory owned by this user .* \[ERR_CACHE\]\n$/);
    }
    expect(result.code).toBe(2);
  });
});
