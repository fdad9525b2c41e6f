import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArgumentRangeError, ArgumentTypeError, TensorRTNodeError } from '../../lib/core/errors.js';
import {
  cacheKey,
  defaultCacheDirectory,
  EngineCache,
  type BuiltEngine,
  type CacheKey,
  type CacheWarning,
  type EngineCacheOptions,
} from '../../lib/cache/index.js';
import { fileIo } from '../../lib/core/file-io.js';
import { FileLock } from '../../lib/cache/lock.js';
import { currentProcess, hostTagOf } from '../../lib/core/process-identity.js';
import { expectError } from '../helpers/expect-error.js';
import { leftoverFiles } from '../helpers/cache-scenarios.js';

const gpu = { uuid: 'GPU-test', computeCapability: '8.9' };
const base = mkdtempSync(join(tmpdir(), 'cache-store-'));
let folderCount = 0;
const newDir = () => join(base, `c${folderCount++}`);
const isRoot = process.getuid?.() === 0;

function keyFor(name: string | number, label?: string): CacheKey {
  return cacheKey({
    model: { bytes: Buffer.from(`model ${name}`) },
    build: { precision: 'fp16' },
    tensorrtVersion: '10.16.0',
    gpu,
    label,
  });
}

function plan(bytes: number, fill = 1): Buffer {
  return Buffer.alloc(bytes, fill);
}

async function openCache(dir = newDir(), options: EngineCacheOptions = {}) {
  const warnings: CacheWarning[] = [];
  const cache = await EngineCache.open(dir, { onWarning: (warning) => warnings.push(warning), ...options });
  return { cache, dir, warnings, reasons: () => warnings.map((warning) => warning.details.reason) };
}

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

function engineFiles(dir: string): string[] {
  return readdirSync(join(dir, 'engines')).sort();
}

/** A pid that belonged to a process that has exited and been reaped. */
function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
}

/** Mounts a tmpfs (root only; unavailable in unprivileged CI, where the injected-fault tests cover the same paths). */
const mounted: string[] = [];
function mountTmpfs(dir: string, options: string): boolean {
  mkdirSync(dir, { recursive: true });
  if (!isRoot || spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]).status !== 0) return false;
  mounted.push(dir);
  return true;
}
const canMount = (() => {
  const probe = join(base, 'mount-probe');
  if (!mountTmpfs(probe, 'size=64k')) return false;
  spawnSync('umount', [probe]);
  mounted.pop();
  return true;
})();

afterEach(() => {
  vi.restoreAllMocks();
});
afterAll(() => {
  for (const dir of mounted.reverse()) spawnSync('umount', ['-l', dir]);
  rmSync(base, { recursive: true, force: true });
});

describe('EngineCache: storing and loading', () => {
  it('round-trips a plan with its metadata, owner-only, and lists it', async () => {
    const { cache, dir, warnings } = await openCache();
    const key = keyFor('a', 'a.onnx');
    expect(await cache.get(key)).toBeUndefined();
    expect(await cache.put(key, plan(1000, 7), { layers: 3 })).toBe(true);
    const found = await cache.get<{ layers: number }>(key);
    expect(found?.plan.equals(plan(1000, 7))).toBe(true);
    expect(found?.metadata).toEqual({ layers: 3 });
    expect(found?.entry).toMatchObject({
      key: key.id,
      label: 'a.onnx',
      planBytes: 1000,
      createdAt: expect.any(String),
      problem: null,
      parts: key.parts,
    });
    expect((await cache.get(key.id))?.plan.equals(plan(1000, 7))).toBe(true); // by its id string too
    const [listed] = await cache.list();
    expect(listed).toMatchObject({ key: key.id, label: 'a.onnx', planBytes: 1000, sha256: found!.entry.sha256, problem: null });
    expect(listed!.bytes).toBeGreaterThan(1000);
    expect(mode(dir)).toBe(0o700);
    for (const folder of ['engines', 'locks', 'timing']) expect(mode(join(dir, folder))).toBe(0o700);
    for (const file of engineFiles(dir)) expect(mode(join(dir, 'engines', file))).toBe(0o600);
    expect(engineFiles(dir)).toEqual([`${key.id}.${found!.entry.sha256!.slice(0, 16)}.plan`, `${key.id}.json`].sort());
    expect(readFileSync(join(dir, 'CACHEDIR.TAG'), 'utf8')).toMatch(/^Signature: 8a477f597d28d172789f06886806bc55\n/);
    expect(warnings).toEqual([]);
  });

  it('replaces an entry: the new plan is served and the old plan file is gone', async () => {
    const { cache, dir } = await openCache();
    const key = keyFor('replace');
    await cache.put(key, plan(100, 1), { version: 1 });
    await cache.put(key, plan(200, 2), { version: 2 });
    expect((await cache.get(key))?.metadata).toEqual({ version: 2 });
    expect(engineFiles(dir).filter((file) => file.endsWith('.plan'))).toHaveLength(1);
  });

  it('serves the old or the new plan, never anything else, while another write replaces it', async () => {
    const { cache, warnings } = await openCache();
    const key = keyFor('readers');
    const oldPlan = plan(9 << 20, 1);
    const newPlan = plan(9 << 20, 2);
    await cache.put(key, oldPlan, { version: 1 });
    const writing = cache.put(key, newPlan, { version: 2 });
    const seen = new Set<number>();
    for (let read = 0; read < 20; read++) {
      const found = await cache.get<{ version: number }>(key);
      expect(found).toBeDefined();
      expect(found!.plan.equals(found!.metadata.version === 1 ? oldPlan : newPlan)).toBe(true);
      seen.add(found!.metadata.version);
    }
    await writing;
    expect((await cache.get<{ version: number }>(key))?.metadata.version).toBe(2);
    expect(warnings).toEqual([]);
  });

  it('records the last use on the metadata file without rewriting it', async () => {
    const { cache, dir } = await openCache();
    const key = keyFor('touch');
    await cache.put(key, plan(10), {});
    const metadataPath = join(dir, 'engines', `${key.id}.json`);
    const before = readFileSync(metadataPath, 'utf8');
    utimesSync(metadataPath, new Date('2020-01-01'), new Date('2020-01-01'));
    expect((await cache.list())[0]!.lastUsedAt).toBe('2020-01-01T00:00:00.000Z');
    await cache.get(key);
    expect(readFileSync(metadataPath, 'utf8')).toBe(before);
    expect(Date.now() - statSync(metadataPath).mtimeMs).toBeLessThan(60_000);
  });

  it('getOrBuild builds once, then hits', async () => {
    const { cache } = await openCache();
    const key = keyFor('gob');
    const build = vi.fn(async (signal: AbortSignal | undefined) => {
      expect(signal).toBeUndefined();
      return { plan: new Uint8Array([1, 2, 3]), metadata: { name: 'gob' } };
    });
    const first = await cache.getOrBuild(key, build);
    expect(first).toMatchObject({ hit: false, metadata: { name: 'gob' } });
    expect(Buffer.isBuffer(first.plan)).toBe(true);
    const second = await cache.getOrBuild(key, build);
    expect(second.hit).toBe(true);
    expect([...second.plan]).toEqual([1, 2, 3]);
    expect(build).toHaveBeenCalledTimes(1);
  });
});

describe('EngineCache: the folder', () => {
  it('resolves the default folder from the environment', () => {
    expect(defaultCacheDirectory({ TENSORRT_NODE_CACHE_DIR: '/srv/engines', XDG_CACHE_HOME: '/x' })).toBe('/srv/engines');
    expect(defaultCacheDirectory({ XDG_CACHE_HOME: '/var/cache/me' })).toBe('/var/cache/me/tensorrt-node');
    expect(defaultCacheDirectory({ XDG_CACHE_HOME: 'relative/ignored' })).toMatch(/\/\.cache\/tensorrt-node$/);
    expect(defaultCacheDirectory({})).toMatch(/\/\.cache\/tensorrt-node$/);
  });

  it('opens $TENSORRT_NODE_CACHE_DIR when no folder is given', async () => {
    const dir = newDir();
    vi.stubEnv('TENSORRT_NODE_CACHE_DIR', dir);
    try {
      expect((await EngineCache.open()).dir).toBe(dir);
      expect(mode(dir)).toBe(0o700);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('tightens an empty folder, and a tensorrt-node cache, that others could read', async () => {
    const empty = newDir();
    mkdirSync(empty);
    chmodSync(empty, 0o755);
    await openCache(empty);
    expect(mode(empty)).toBe(0o700);
    chmodSync(empty, 0o777);
    chmodSync(join(empty, 'engines'), 0o755);
    const { cache, warnings } = await openCache(empty);
    expect(cache.disabledReason).toBeNull();
    expect(mode(empty)).toBe(0o700);
    expect(mode(join(empty, 'engines'))).toBe(0o700);
    expect(warnings).toEqual([]);
  });

  it('BAD CALL - refuses, and leaves alone, a loose folder holding other files', async () => {
    const dir = newDir();
    mkdirSync(dir);
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    chmodSync(dir, 0o755);
    const message = `Expected an owner-only (0700) directory for the engine cache but received ${dir} with mode 0755; it holds files that are not a tensorrt-node cache, so it was left alone: run \`chmod 700 ${dir}\` or set TENSORRT_NODE_CACHE_DIR to another folder`;
    await expectError(() => EngineCache.open(dir, { strict: true }), TensorRTNodeError, 'ERR_CACHE', message);

    const { cache, warnings } = await openCache(dir);
    expect(cache.disabledReason).toBe(message);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toBeInstanceOf(TensorRTNodeError);
    expect(warnings[0]).toMatchObject({
      code: 'ERR_CACHE',
      message: `${message}. The engine cache is off: engines are built but not cached`,
      details: { reason: 'directory-unusable' },
    });
    const key = keyFor('off');
    expect(await cache.getOrBuild(key, async () => ({ plan: plan(5), metadata: {} }))).toMatchObject({ hit: false });
    expect(await cache.put(key, plan(5), {})).toBe(false);
    expect(await cache.get(key)).toBeUndefined();
    expect(await cache.list()).toEqual([]);
    expect(await cache.timingCache('10.16.0', gpu).write(plan(3))).toBe(false);
    expect(mode(dir)).toBe(0o755);
    expect(readdirSync(dir)).toEqual(['notes.txt']);
  });

  it('BAD CALL - refuses a folder owned by another user', async () => {
    let dir = '/';
    if (isRoot) {
      dir = newDir();
      mkdirSync(dir, { mode: 0o700 });
      chownSync(dir, 65534, 65534);
    }
    const owner = statSync(dir).uid;
    await expectError(
      () => EngineCache.open(dir, { strict: true }),
      TensorRTNodeError,
      'ERR_CACHE',
      `Expected a directory owned by this user (uid ${process.getuid!()}) for the engine cache but received ${dir}, owned by uid ${owner}; engines can run code when loaded, so a cache others control is not used`,
    );
  });

  it('BAD CALL - a file where the folder should be, or under its path', async () => {
    const file = join(base, `file-${folderCount++}`);
    writeFileSync(file, 'x');
    await expectError(
      () => EngineCache.open(file, { strict: true }),
      TensorRTNodeError,
      'ERR_CACHE',
      `Expected a directory for the engine cache but received ${file}, which is not a directory`,
    );
    await expectError(
      () => EngineCache.open(join(file, 'cache'), { strict: true }),
      TensorRTNodeError,
      'ERR_CACHE',
      `Cannot create the engine cache directory ${join(file, 'cache')} (ENOTDIR); set TENSORRT_NODE_CACHE_DIR to a writable folder`,
    );
  });
});

describe('EngineCache: damaged entries are detected, removed and rebuilt', () => {
  async function damaged(damage: (paths: { metadata: string; plan: string }) => void) {
    const opened = await openCache();
    const key = keyFor('damaged');
    await opened.cache.put(key, plan(4096, 5), { ok: true });
    const record = JSON.parse(readFileSync(join(opened.dir, 'engines', `${key.id}.json`), 'utf8')) as { plan: { file: string } };
    damage({ metadata: join(opened.dir, 'engines', `${key.id}.json`), plan: join(opened.dir, 'engines', record.plan.file) });
    return { ...opened, key };
  }

  it.each([
    [
      'a flipped byte in the plan',
      (paths: { plan: string }) => {
        const bytes = readFileSync(paths.plan);
        bytes[100] = bytes[100]! ^ 0xff;
        writeFileSync(paths.plan, bytes);
      },
      'the checksum of its plan does not match its metadata',
    ],
    [
      'a truncated plan',
      (paths: { plan: string }) => truncateSync(paths.plan, 1000),
      'its plan holds 1000 bytes but its metadata says 4096',
    ],
    ['a missing plan', (paths: { plan: string }) => rmSync(paths.plan), 'its plan file is missing'],
    [
      'unparsable metadata',
      (paths: { metadata: string }) => writeFileSync(paths.metadata, '{"format":1,'),
      'its metadata is not valid JSON',
    ],
    ['truncated metadata', (paths: { metadata: string }) => truncateSync(paths.metadata, 0), 'its metadata is not valid JSON'],
    [
      'metadata whose key parts were edited',
      (paths: { metadata: string }) => {
        const record = JSON.parse(readFileSync(paths.metadata, 'utf8')) as { parts: { tensorrtVersion: string } };
        record.parts.tensorrtVersion = '10.3.0';
        writeFileSync(paths.metadata, JSON.stringify(record));
      },
      'its key parts do not hash to its key',
    ],
    [
      'metadata of another format',
      (paths: { metadata: string }) => writeFileSync(paths.metadata, '{"format":2}'),
      'its metadata has format 2, expected 1',
    ],
  ])('%s', async (_name, damage, why) => {
    const { cache, dir, key, warnings } = await damaged(damage);
    expect((await cache.list())[0]?.problem ?? why).toBe(why);
    expect(await cache.get(key)).toBeUndefined();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({
      code: 'ERR_CACHE',
      message: `Engine cache entry ${key.id} in ${dir} is corrupt (${why}); it was removed, and the engine will be rebuilt`,
      details: { reason: 'corrupt-entry', key: key.id, why },
    });
    expect(engineFiles(dir)).toEqual([]);
    const rebuilt = await cache.getOrBuild(key, async () => ({ plan: plan(4096, 6), metadata: { ok: true } }));
    expect(rebuilt.hit).toBe(false);
    expect((await cache.get(key))?.plan.equals(plan(4096, 6))).toBe(true);
  });

  it('prune removes broken entries without reading them through get()', async () => {
    const { cache, dir, key } = await damaged((paths) => truncateSync(paths.plan, 10));
    const result = await cache.prune();
    expect(result.removed).toEqual([{ key: key.id, bytes: expect.any(Number), reason: 'broken' }]);
    expect(engineFiles(dir)).toEqual([]);
  });
});

describe('EngineCache: write failures never fail the build and leave nothing partial', () => {
  function failOn<K extends 'writeChunk' | 'rename' | 'link'>(
    method: K,
    shouldFail: (...args: Parameters<(typeof fileIo)[K]>) => boolean,
    code: string,
  ) {
    const original = fileIo[method] as (...args: unknown[]) => Promise<unknown>;
    return vi.spyOn(fileIo, method).mockImplementation((async (...args: Parameters<(typeof fileIo)[K]>) => {
      if (shouldFail(...args)) throw Object.assign(new Error(`${code}: injected failure, ${method}`), { code });
      return original.apply(fileIo, args);
    }) as never);
  }

  it('a disk that fills up half-way through the plan (injected ENOSPC)', async () => {
    const { cache, dir, warnings } = await openCache();
    const key = keyFor('enospc');
    failOn('writeChunk', (_handle, _chunk, position) => position > 0, 'ENOSPC');
    const built = await cache.getOrBuild(key, async () => ({ plan: plan(9 << 20, 3), metadata: {} }));
    expect(built.hit).toBe(false);
    expect(built.plan.equals(plan(9 << 20, 3))).toBe(true);
    expect(warnings.map((warning) => [warning.code, warning.details.reason, warning.message])).toEqual([
      [
        'ERR_CACHE',
        'write-failed',
        `The engine for key ${key.id} was not cached: writing to ${dir} failed (ENOSPC: injected failure, writeChunk)`,
      ],
    ]);
    expect(engineFiles(dir)).toEqual([]);
    expect(leftoverFiles(dir)).toEqual([]);
    vi.restoreAllMocks();
    expect(await cache.get(key)).toBeUndefined();
  });

  it('a failure between the plan and its metadata removes the plan again', async () => {
    const { cache, dir, reasons } = await openCache();
    failOn('rename', (_from, to) => String(to).endsWith('.json'), 'EIO');
    expect(await cache.put(keyFor('eio'), plan(100), {})).toBe(false);
    expect(reasons()).toEqual(['write-failed']);
    expect(engineFiles(dir)).toEqual([]);
    expect(leftoverFiles(dir)).toEqual([]);
  });

  it('a folder where the lock cannot be created (injected EACCES)', async () => {
    const { cache, dir, warnings } = await openCache();
    const key = keyFor('eacces');
    failOn('link', () => true, 'EACCES');
    const built = await cache.getOrBuild(key, async () => ({ plan: plan(10), metadata: { a: 1 } }));
    expect(built).toMatchObject({ hit: false, metadata: { a: 1 } });
    expect(warnings.map((warning) => [warning.code, warning.details.reason, warning.message])).toEqual([
      [
        'ERR_CACHE',
        'unwritable',
        `The engine cache ${dir} cannot be written (EACCES: injected failure, link); the engine is built but not cached`,
      ],
    ]);
    expect(leftoverFiles(dir)).toEqual([]);
  });

  it.skipIf(!canMount)('a real full disk (a 2 MiB tmpfs)', async () => {
    const dir = newDir();
    expect(mountTmpfs(dir, 'size=2m,mode=0700')).toBe(true);
    const { cache, warnings } = await openCache(dir);
    const key = keyFor('tmpfs-full');
    const built = await cache.getOrBuild(key, async () => ({ plan: plan(3 << 20, 4), metadata: {} }));
    expect(built.plan.equals(plan(3 << 20, 4))).toBe(true);
    expect(warnings.map((warning) => warning.details.reason)).toEqual(['write-failed']);
    expect(warnings[0]!.message).toMatch(
      /^The engine for key [0-9a-f]{64} was not cached: writing to .* failed \(ENOSPC: no space left on device/,
    );
    expect(engineFiles(dir)).toEqual([]);
    expect(leftoverFiles(dir)).toEqual([]);
    // The space is given back: a small engine still fits.
    expect(await cache.put(keyFor('small'), plan(1 << 20), {})).toBe(true);
  });

  it.skipIf(!canMount)('a real read-only folder (a tmpfs remounted read-only) still serves its engines', async () => {
    const dir = newDir();
    expect(mountTmpfs(dir, 'size=4m,mode=0700')).toBe(true);
    const writer = await openCache(dir);
    await writer.cache.put(keyFor('baked'), plan(100, 9), { baked: true });
    expect(spawnSync('mount', ['-o', 'remount,ro', dir]).status).toBe(0);
    const { cache, warnings } = await openCache(dir);
    expect(cache.disabledReason).toBeNull();
    expect((await cache.getOrBuild(keyFor('baked'), async () => ({ plan: plan(1), metadata: {} }))).hit).toBe(true);
    const built = await cache.getOrBuild(keyFor('new'), async () => ({ plan: plan(50, 2), metadata: {} }));
    expect(built).toMatchObject({ hit: false });
    expect(warnings.map((warning) => [warning.code, warning.details.reason])).toEqual([['ERR_CACHE', 'unwritable']]);
    expect(warnings[0]!.message).toBe(
      `The engine cache ${dir} cannot be written (EROFS: read-only file system, open '${warnings[0]!.message.match(/open '(.*)'/)![1]}'); the engine is built but not cached`,
    );
  });

  it.skipIf(isRoot)('a folder without write permission', async () => {
    const { cache, dir, reasons } = await openCache();
    chmodSync(join(dir, 'locks'), 0o500);
    try {
      expect((await cache.getOrBuild(keyFor('ro'), async () => ({ plan: plan(5), metadata: {} }))).hit).toBe(false);
      expect(reasons()).toEqual(['unwritable']);
    } finally {
      chmodSync(join(dir, 'locks'), 0o700);
    }
  });
});

describe('EngineCache: size limit and pruning', () => {
  it('evicts the least recently used entries beyond maxBytes', async () => {
    const { cache: measure, dir } = await openCache();
    const [a, b, c] = [keyFor('lru-a'), keyFor('lru-b'), keyFor('lru-c')];
    await measure.put(a, plan(700), {});
    const entryBytes = (await measure.list())[0]!.bytes;
    const { cache } = await openCache(dir, { maxBytes: Math.floor(entryBytes * 2.5) });
    await cache.put(b, plan(700), {});
    const setUsed = (key: CacheKey, iso: string) =>
      utimesSync(join(dir, 'engines', `${key.id}.json`), new Date(iso), new Date(iso));
    setUsed(a, '2024-01-01');
    setUsed(b, '2024-02-01');
    await cache.get(a); // a is now the most recently used
    await cache.put(c, plan(700), {});
    expect((await cache.list()).map((entry) => entry.key).sort()).toEqual([a.id, c.id].sort());
  });

  it('does not cache a plan larger than the whole limit', async () => {
    const { cache, warnings } = await openCache(newDir(), { maxBytes: 100 });
    const key = keyFor('huge');
    expect(await cache.put(key, plan(101), {})).toBe(false);
    expect(warnings.map((warning) => [warning.details.reason, warning.message])).toEqual([
      ['too-large', `The engine for key ${key.id} (101 B) is larger than the cache limit (100 B); it was not cached`],
    ]);
  });

  it('prunes by age and by size, skipping entries another process is writing', async () => {
    const { cache, dir } = await openCache();
    const [old, recent, busy] = [keyFor('old'), keyFor('recent'), keyFor('busy')];
    for (const key of [old, recent, busy]) await cache.put(key, plan(1000), {});
    const fortyDaysAgo = new Date(Date.now() - 40 * 86_400_000);
    utimesSync(join(dir, 'engines', `${old.id}.json`), fortyDaysAgo, fortyDaysAgo);
    utimesSync(join(dir, 'engines', `${busy.id}.json`), fortyDaysAgo, fortyDaysAgo);
    const held = await FileLock.tryAcquire(join(dir, 'locks', `${busy.id}.lock`), { staleAfterMs: 60_000 });
    try {
      const byAge = await cache.prune({ olderThanMs: 30 * 86_400_000 });
      expect(byAge.removed).toEqual([{ key: old.id, bytes: expect.any(Number), reason: 'older-than' }]);
      expect(byAge.skippedBusy).toEqual([busy.id]);
      expect(byAge.remainingEntries).toBe(2);
    } finally {
      await held.lock!.release();
    }
    const bySize = await cache.prune({ maxBytes: 0 });
    expect(bySize.removed.map((entry) => entry.reason)).toEqual(['size-limit', 'size-limit']);
    expect(bySize).toMatchObject({ remainingEntries: 0, remainingBytes: 0 });
    expect(engineFiles(dir)).toEqual([]);
  });

  it('clear removes every entry and timing cache', async () => {
    const { cache, dir } = await openCache();
    await cache.put(keyFor('x'), plan(10), {});
    await cache.timingCache('10.16.0', gpu).write(plan(20));
    const result = await cache.clear();
    expect(result).toMatchObject({
      removed: [{ key: keyFor('x').id, reason: 'cleared' }],
      timingCachesRemoved: 1,
      skippedBusy: [],
    });
    expect(engineFiles(dir)).toEqual([]);
    expect(readdirSync(join(dir, 'timing'))).toEqual([]);
  });

  it('removes what killed writers left behind, never what a live writer is writing', async () => {
    const { cache, dir } = await openCache();
    const self = currentProcess();
    const dead = deadPid();
    const deadTemp = join(dir, 'engines', `.x.plan.${self.hostTag}.${dead}.1.deadbeef.tmp`);
    const liveTemp = join(dir, 'engines', `.y.plan.${self.hostTag}.${process.pid}.${self.startTicks ?? 'x'}.cafef00d.tmp`);
    const foreignOld = join(dir, 'locks', `.z.lock.${hostTagOf('elsewhere')}.1234.5.00000000.tmp`);
    const orphanPlan = join(dir, 'engines', `${keyFor('orphan').id}.0123456789abcdef.plan`);
    for (const file of [deadTemp, liveTemp, foreignOld, orphanPlan]) writeFileSync(file, 'partial');
    utimesSync(foreignOld, new Date('2020-01-01'), new Date('2020-01-01'));
    await cache.put(keyFor('trigger'), plan(10), {});
    expect(existsSync(deadTemp)).toBe(false);
    expect(existsSync(foreignOld)).toBe(false);
    expect(existsSync(orphanPlan)).toBe(false);
    expect(existsSync(liveTemp)).toBe(true);
  });
});

describe('EngineCache: locks', () => {
  function writeLock(dir: string, key: CacheKey, holder: Record<string, unknown>, mtime?: Date) {
    const path = join(dir, 'locks', `${key.id}.lock`);
    writeFileSync(
      path,
      JSON.stringify({
        hostname: hostname(),
        hostTag: currentProcess().hostTag,
        startTicks: null,
        acquiredAt: '2024-01-01T00:00:00.000Z',
        nonce: 'n',
        ...holder,
      }),
    );
    if (mtime) utimesSync(path, mtime, mtime);
    return path;
  }

  it('breaks the lock of a dead process and builds', async () => {
    const { cache, dir, warnings } = await openCache();
    const key = keyFor('dead-holder');
    const pid = deadPid();
    const path = writeLock(dir, key, { pid });
    const built = await cache.getOrBuild(key, async () => ({ plan: plan(10), metadata: {} }));
    expect(built.hit).toBe(false);
    expect(warnings.map((warning) => warning.details.reason)).toEqual(['stale-lock-broken']);
    expect(warnings[0]!.message).toMatch(
      new RegExp(
        `^Broke the stale engine cache lock ${path} \\(pid ${pid} on ${hostname()}, taken 2024-01-01T00:00:00.000Z; its process is gone or silent for \\d+ s\\)$`,
      ),
    );
    expect(readdirSync(join(dir, 'locks'))).toEqual([]);
  });

  it('waits for a live lock of another host, times out with who holds it, and breaks it once its heartbeat is old', async () => {
    const { cache, dir } = await openCache(newDir(), { staleLockMs: 60_000 });
    const key = keyFor('foreign');
    const path = writeLock(dir, key, {
      pid: 4242,
      hostname: 'build-box',
      hostTag: hostTagOf('build-box'),
      acquiredAt: '2024-05-01T10:00:00.000Z',
    });
    await expectError(
      () => cache.getOrBuild(key, async () => ({ plan: plan(1), metadata: {} }), { timeoutMs: 150 }),
      TensorRTNodeError,
      'ERR_TIMEOUT',
      `EngineCache.getOrBuild timed out after 150ms waiting for the lock ${path}, held by pid 4242 on build-box since 2024-05-01T10:00:00.000Z`,
    );
    const old = new Date(Date.now() - 120_000);
    utimesSync(path, old, old);
    expect((await cache.getOrBuild(key, async () => ({ plan: plan(1), metadata: {} }), { timeoutMs: 150 })).hit).toBe(false);
  });

  it('BAD CALL - aborting while waiting for the lock rejects with ERR_ABORTED and builds nothing', async () => {
    const { cache } = await openCache();
    const key = keyFor('abort-wait');
    let finishFirst!: () => void;
    const firstBuild = cache.getOrBuild(
      key,
      () =>
        new Promise<BuiltEngine>((resolve) => (finishFirst = () => resolve({ plan: plan(10, 1), metadata: { first: true } }))),
    );
    await vi.waitFor(() => expect(finishFirst).toBeTypeOf('function'));
    const controller = new AbortController();
    const secondBuild = vi.fn(async () => ({ plan: plan(10, 2), metadata: {} }));
    const waiting = cache.getOrBuild(key, secondBuild, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('user gave up')), 60);
    const error = await expectError(
      () => waiting,
      TensorRTNodeError,
      'ERR_ABORTED',
      'EngineCache.getOrBuild was aborted (user gave up)',
    );
    expect((error.cause as Error).message).toBe('user gave up');
    finishFirst();
    expect(await firstBuild).toMatchObject({ hit: false, metadata: { first: true } });
    expect(secondBuild).not.toHaveBeenCalled();
    // A waiter that is not aborted gets the first builder's engine.
    expect(await cache.getOrBuild(key, secondBuild)).toMatchObject({ hit: true, metadata: { first: true } });
  });

  it('BAD CALL - an already aborted signal rejects before anything is read or built', async () => {
    const { cache } = await openCache();
    const build = vi.fn(async () => ({ plan: plan(1), metadata: {} }));
    await expectError(
      () => cache.getOrBuild(keyFor('pre-aborted'), build, { signal: AbortSignal.abort() }),
      TensorRTNodeError,
      'ERR_ABORTED',
      'EngineCache.getOrBuild was aborted',
    );
    expect(build).not.toHaveBeenCalled();
  });

  it('cancelling mid-build leaves no entry and releases the lock', async () => {
    const { cache, dir } = await openCache();
    const key = keyFor('abort-build');
    const controller = new AbortController();
    const building = cache.getOrBuild(
      key,
      (signal) =>
        new Promise<BuiltEngine>((_resolve, reject) => {
          signal!.addEventListener('abort', () => reject(new TensorRTNodeError('ERR_ABORTED', 'buildEngine was aborted')));
        }),
      { signal: controller.signal },
    );
    await vi.waitFor(() => expect(readdirSync(join(dir, 'locks'))).toEqual([`${key.id}.lock`]));
    controller.abort();
    await expectError(() => building, TensorRTNodeError, 'ERR_ABORTED', 'buildEngine was aborted');
    expect(leftoverFiles(dir)).toEqual([]);
    expect(engineFiles(dir)).toEqual([]);
    expect((await cache.getOrBuild(key, async () => ({ plan: plan(1), metadata: {} }), { timeoutMs: 100 })).hit).toBe(false);
  });

  it('a build that finishes after an abort is not cached, and a failing build leaves nothing', async () => {
    const { cache, dir } = await openCache();
    const controller = new AbortController();
    await expectError(
      () =>
        cache.getOrBuild(
          keyFor('late'),
          async () => {
            controller.abort();
            return { plan: plan(1), metadata: {} };
          },
          { signal: controller.signal },
        ),
      TensorRTNodeError,
      'ERR_ABORTED',
      'EngineCache.getOrBuild was aborted',
    );
    await expectError(
      () =>
        cache.getOrBuild(keyFor('fails'), async () => {
          throw new TensorRTNodeError('ERR_BUILD', 'parser rejected node 3');
        }),
      TensorRTNodeError,
      'ERR_BUILD',
      'parser rejected node 3',
    );
    expect(engineFiles(dir)).toEqual([]);
    expect(leftoverFiles(dir)).toEqual([]);
  });
});

describe('EngineCache: timing caches', () => {
  it('keeps one owner-only timing cache per TensorRT version and GPU', async () => {
    const { cache, warnings } = await openCache();
    const timing = cache.timingCache('10.16.0', gpu);
    expect(await timing.read()).toBeUndefined();
    expect(await timing.write(plan(300, 8))).toBe(true);
    expect((await timing.read())?.equals(plan(300, 8))).toBe(true);
    expect(mode(timing.path)).toBe(0o600);
    const others = [
      cache.timingCache('10.16.1', gpu),
      cache.timingCache('10.16.0', { ...gpu, uuid: 'GPU-other' }),
      cache.timingCache('10.16.0', { ...gpu, computeCapability: '9.0' }),
    ];
    expect(new Set([timing.path, ...others.map((other) => other.path)]).size).toBe(4);
    for (const other of others) expect(await other.read()).toBeUndefined();
    expect(warnings).toEqual([]);
  });

  it.each([
    [
      'a flipped byte',
      (bytes: Buffer) => {
        bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 1;
        return bytes;
      },
      'its checksum does not match',
    ],
    ['a truncated file', (bytes: Buffer) => bytes.subarray(0, bytes.length - 10), 'it holds 290 bytes but its header says 300'],
    [
      'a file that is not ours',
      () => Buffer.from('TRT timing blob'),
      'it does not start with the tensorrt-node timing cache header',
    ],
    ['a header cut short', (bytes: Buffer) => bytes.subarray(0, 40), 'its header is truncated'],
  ])('reports, removes and ignores %s', async (_name, damage, why) => {
    const { cache, warnings } = await openCache();
    const timing = cache.timingCache('10.16.0', gpu);
    await timing.write(plan(300, 8));
    writeFileSync(timing.path, damage(readFileSync(timing.path)));
    expect(await timing.read()).toBeUndefined();
    expect(existsSync(timing.path)).toBe(false);
    expect(warnings.map((warning) => [warning.code, warning.details.reason, warning.message])).toEqual([
      [
        'ERR_CACHE',
        'corrupt-timing-cache',
        `Timing cache ${timing.path} for TensorRT 10.16.0 on GPU-test is unusable (${why}); it was removed and a fresh one will be built`,
      ],
    ]);
  });

  it('discards a cache TensorRT rejected, and reports a write it could not make', async () => {
    const { cache, warnings } = await openCache();
    const timing = cache.timingCache('10.16.0', gpu);
    await timing.write(plan(30));
    await timing.discard('TensorRT could not deserialize it');
    expect(existsSync(timing.path)).toBe(false);
    vi.spyOn(fileIo, 'rename').mockRejectedValue(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }));
    expect(await timing.write(plan(30))).toBe(false);
    expect(warnings.map((warning) => warning.details.reason)).toEqual(['corrupt-timing-cache', 'write-failed']);
    expect(warnings[1]!.message).toBe(
      `Timing cache ${timing.path} was not saved (ENOSPC: no space left on device); the next build measures its tactics again`,
    );
  });
});

describe('EngineCache: bad calls', () => {
  it('BAD CALL - open() with wrong options', async () => {
    await expectError(
      () => EngineCache.open(42 as never),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a string for dir but received 42 of type number',
    );
    await expectError(
      () => EngineCache.open(newDir(), { maxByte: 1 } as never),
      ArgumentRangeError,
      'ERR_UNKNOWN_OPTION',
      /^Unknown option "maxByte" in options \(did you mean "maxBytes"\?\)/,
    );
    await expectError(
      () => EngineCache.open(newDir(), { maxBytes: -1 }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a non-negative integer or Infinity for options.maxBytes but received -1 of type number',
    );
    await expectError(
      () => EngineCache.open(newDir(), { maxBytes: '2GiB' as never }),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a non-negative integer or Infinity for options.maxBytes but received "2GiB" of type string',
    );
    await expectError(
      () => EngineCache.open(newDir(), { onWarning: 'log' as never }),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a function for options.onWarning but received "log" of type string',
    );
    await expectError(
      () => EngineCache.open(newDir(), { lockTimeoutMs: 0 }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a positive number of milliseconds up to 2147483647 (about 24.8 days, the longest a timer can wait) or Infinity for no limit for options.lockTimeoutMs but received 0 of type number',
    );
  });

  it('BAD CALL - get, put and getOrBuild with wrong arguments', async () => {
    const { cache } = await openCache();
    const key = keyFor('bad');
    await expectError(
      () => cache.get('abc'),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a CacheKey from cacheKey() or its id (64 lowercase hex digits) for key but received "abc" of type string',
    );
    await expectError(
      () => cache.get(`../${'a'.repeat(61)}`),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      /^Expected a CacheKey from cacheKey\(\) or its id \(64 lowercase hex digits\) for key but received "\.\.\/a/,
    );
    await expectError(
      () => cache.get(undefined as never),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a CacheKey from cacheKey() or its id (64 lowercase hex digits) for key but received undefined',
    );
    await expectError(
      () => cache.put(key.id as never, plan(1), {}),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      `Expected a CacheKey from cacheKey() for key but received "${key.id.slice(0, 40)}..." of type string`,
    );
    await expectError(
      () => cache.put(key, new Uint8Array(0), {}),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a non-empty Uint8Array for plan but received a Uint8Array of length 0',
    );
    await expectError(
      () => cache.put(key, [1] as never, {}),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a Uint8Array for plan but received an array of length 1',
    );
    await expectError(
      () => cache.put(key, plan(1), { size: 1n }),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected JSON-serializable data for metadata but received an object (Do not know how to serialize a BigInt)',
    );
    await expectError(
      () => cache.put(key, plan(1), {}, { signal: 'stop' } as never),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected an AbortSignal for options.signal but received "stop" of type string',
    );
    await expectError(
      () => cache.getOrBuild(key, 'build' as never),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a function for build but received "build" of type string',
    );
    await expectError(
      () => cache.getOrBuild(key, async () => ({ plan: 'x', metadata: {} }) as never),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a Uint8Array for the plan returned by build but received "x" of type string',
    );
    await expectError(
      () => cache.getOrBuild(key, async () => undefined as never),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected an object { plan, metadata } for the result of build but received undefined',
    );
    await expectError(
      () => cache.getOrBuild(key, async () => ({ plan: plan(1), metadata: {} }), { timeoutMs: -5 }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a positive number of milliseconds up to 2147483647 (about 24.8 days, the longest a timer can wait) or Infinity for no limit for options.timeoutMs but received -5 of type number',
    );
    expect(await cache.get(key)).toBeUndefined();
  });

  it('BAD CALL - prune and timingCache with wrong arguments', async () => {
    const { cache } = await openCache();
    await expectError(
      () => cache.prune({ maxBytes: 1.5 }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a non-negative integer or Infinity for options.maxBytes but received 1.5 of type number',
    );
    await expectError(
      () => cache.prune({ olderThan: 5 } as never),
      ArgumentRangeError,
      'ERR_UNKNOWN_OPTION',
      /^Unknown option "olderThan" in options \(did you mean "olderThanMs"\?\)/,
    );
    await expectError(
      () => cache.timingCache('10.16.0', { uuid: 'GPU-1', computeCapability: '89' }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a compute capability such as "8.9" for gpu.computeCapability but received "89" of type string',
    );
    await expectError(
      () => cache.timingCache(undefined as never, gpu),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a string for tensorrtVersion but received undefined',
    );
    await expectError(
      () => cache.timingCache('10.16.0', gpu).write('bytes' as never),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a Uint8Array for data but received "bytes" of type string',
    );
  });
});
