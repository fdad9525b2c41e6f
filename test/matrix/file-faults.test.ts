/**
 * Real file-system faults for every command and API that writes a file (issue 10, part 6): a
 * read-only file system and a full one (small tmpfs mounts; needs root, skipped otherwise). Each
 * writer must fail with a typed ERR_IO naming its output and the reason, leave nothing partial
 * behind (no temporary files) and leave a previous version of its output untouched.
 *
 * The engine cache's own crash tests (SIGKILL at every step, racing builders, injected ENOSPC and
 * EACCES) are in test/unit/cache-store.test.ts, cache-processes.test.ts and `npm run stress:cache`;
 * here the cache meets the same real mounts.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../lib/core/atomic-write.js';
import { cacheKey, EngineCache, type CacheWarning } from '../../lib/cache/index.js';
import { packageRoot } from '../../lib/addon/loader.js';
import { runMain } from '../helpers/cli.js';

const mlp = join(packageRoot, 'test', 'fixtures', 'models', 'mlp.onnx');
const results = join(packageRoot, 'benchmarks', 'results', 'harness-self-test.json');
const exportTimes = join(packageRoot, 'test', 'fixtures', 'trtexec', 'exportTimes-10.json');

const isRoot = process.getuid?.() === 0;
const root = mkdtempSync(join(tmpdir(), 'tensorrt-node-faults-'));
const readOnly = join(root, 'read-only');
const full = join(root, 'full');
let mounted = false;

function mount(args: string[]): boolean {
  return spawnSync('mount', args, { encoding: 'utf8' }).status === 0;
}

beforeAll(async () => {
  if (!isRoot) return;
  mkdirSync(readOnly);
  mkdirSync(full);
  mounted =
    mount(['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', readOnly]) && mount(['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', full]);
  if (!mounted) return;
  // Previous outputs, which a failed write must leave as they are.
  for (const folder of [readOnly, full])
    for (const name of ['out.onnx', 'q.onnx', 'r.html', 'r.md', 'results.json', 'engine.plan', 'y.npy'])
      writeFileSync(join(folder, name), `previous ${name}\n`);
  mkdirSync(join(readOnly, 'outputs'));
  mounted = mount(['-o', 'remount,ro', readOnly]);
  // An engine cache made while there was room, so the full disk meets a put, not a mkdir.
  await EngineCache.open(join(full, 'engine-cache'), { strict: true });
  // Fill the small one to the last byte (tmpfs counts pages: keep writing until it refuses).
  const filler = Buffer.alloc(4096, 1);
  try {
    for (let index = 0; ; index++) writeFileSync(join(full, `filler-${index}`), filler);
  } catch (error) {
    expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC');
  }
});

afterAll(() => {
  if (mounted) spawnSync('umount', [readOnly]);
  spawnSync('umount', [full]);
  rmSync(root, { recursive: true, force: true });
});

const faults = [
  { name: 'a read-only file system', folder: () => readOnly, reason: 'the file system is read-only (EROFS)', errno: 'EROFS' },
  { name: 'a full disk', folder: () => full, reason: 'no space left on the device (ENOSPC)', errno: 'ENOSPC' },
] as const;

/** The folder's names, without the filler files of the full disk. */
function listing(folder: string): string[] {
  return readdirSync(folder)
    .filter((name) => !name.startsWith('filler-'))
    .sort();
}

describe.skipIf(!isRoot)('writers on a read-only and a full file system', () => {
  for (const fault of faults) {
    describe(fault.name, () => {
      let before: string[] = [];
      beforeAll(() => {
        expect(mounted, 'the tmpfs mounts').toBe(true);
        before = listing(fault.folder());
      });
      const unchanged = (name: string) => expect(readFileSync(join(fault.folder(), name), 'utf8')).toBe(`previous ${name}\n`);
      const nothingNew = () => expect(listing(fault.folder())).toEqual(before);

      it('convert: ERR_IO naming the output, the previous model untouched, no temporary file', async () => {
        const out = join(fault.folder(), 'out.onnx');
        const { code, stderr } = await runMain(['convert', mlp, '-o', out]);
        expect(code).toBe(2);
        expect(stderr).toBe(`tensorrt-node convert: Cannot write ${out}: ${fault.reason} [ERR_IO]\n`);
        unchanged('out.onnx');
        nothingNew();
      });

      it('convert --external-data: neither the model nor its data file is written', async () => {
        const out = join(fault.folder(), 'out.onnx');
        const { code, stderr } = await runMain(['convert', mlp, '-o', out, '--external-data']);
        expect(code).toBe(2);
        expect(stderr).toMatch(
          new RegExp(
            `^tensorrt-node convert: Cannot write ${out.replaceAll('.', '\\.')}(\\.data)?: ${fault.reason.replace(/[()]/g, '\\$&')} \\[ERR_IO\\]\\n$`,
          ),
        );
        unchanged('out.onnx');
        nothingNew();
      });

      it('quantize (with --save-table): calibrates, then fails to write with ERR_IO and leaves nothing', async () => {
        const out = join(fault.folder(), 'q.onnx');
        const { code, stderr } = await runMain([
          'quantize',
          mlp,
          '-o',
          out,
          '--calibration',
          'random:2',
          '--shape',
          'x:1x16',
          '--threads',
          '1',
          '--save-table',
          join(fault.folder(), 't.json'),
        ]);
        expect(code).toBe(2);
        expect(stderr).toMatch(
          new RegExp(
            `tensorrt-node quantize: Cannot write ${out.replaceAll('.', '\\.')}: ${fault.reason.replace(/[()]/g, '\\$&')} \\[ERR_IO\\]\\n$`,
          ),
        );
        unchanged('q.onnx');
        nothingNew();
      });

      it('report --html --md: ERR_IO, neither report written', async () => {
        const html = join(fault.folder(), 'r.html');
        const { code, stderr } = await runMain(['report', results, '--html', html, '--md', join(fault.folder(), 'r.md')]);
        expect(code).toBe(2);
        expect(stderr).toBe(`tensorrt-node report: Cannot write report ${html}: ${fault.reason} [ERR_IO]\n`);
        unchanged('r.html');
        unchanged('r.md');
        nothingNew();
      });

      it('bench --json: ERR_IO before anything runs, the previous results file untouched', async () => {
        const json = join(fault.folder(), 'results.json');
        const { code, stderr } = await runMain(['bench', '--trtexec', exportTimes, '--json', json]);
        expect(code).toBe(2);
        expect(stderr).toBe(`tensorrt-node bench: Cannot write results file ${json}: ${fault.reason} [ERR_IO]\n`);
        unchanged('results.json');
        nothingNew();
      });

      it('run --output-dir: ERR_IO, no truncated .npy', async () => {
        const folder = fault.errno === 'EROFS' ? join(fault.folder(), 'outputs') : fault.folder();
        const { code, stderr } = await runMain(['run', mlp, '--shape', 'x:1x16', '--threads', '1', '--output-dir', folder]);
        expect(code).toBe(2);
        expect(stderr).toMatch(
          new RegExp(
            `^tensorrt-node run: Cannot write ${join(folder, 'y.npy').replaceAll('.', '\\.')}: ${fault.reason.replace(/[()]/g, '\\$&')} \\[ERR_IO\\]\\n$`,
          ),
        );
        if (fault.errno === 'ENOSPC') unchanged('y.npy');
        nothingNew();
      });

      it('the atomic writer behind build -o and --timing-cache: ERR_IO with the errno, the previous engine untouched, no temporary file', async () => {
        const plan = join(fault.folder(), 'engine.plan');
        await expect(writeFileAtomic(plan, new Uint8Array(64 * 1024), { description: 'the engine' })).rejects.toMatchObject({
          code: 'ERR_IO',
          message: `Cannot write the engine ${plan}: ${fault.reason}`,
          details: { file: plan, errno: fault.errno },
        });
        unchanged('engine.plan');
        nothingNew();
      });

      it('the engine cache: a put fails with a warning and stores nothing; strict open refuses the read-only folder', async () => {
        const warnings: CacheWarning[] = [];
        const dir = join(fault.folder(), 'engine-cache');
        const cache = await EngineCache.open(dir, { onWarning: (warning) => warnings.push(warning) });
        const key = cacheKey({
          model: { sha256: 'f'.repeat(64) },
          transforms: [],
          build: {},
          tensorrtVersion: '10.16.0',
          gpu: { uuid: 'GPU-faults', computeCapability: '8.9' },
        });
        expect(await cache.put(key, new Uint8Array(64 * 1024), {})).toBe(false);
        expect(await cache.get(key)).toBeUndefined();
        expect(warnings.map((warning) => warning.details.reason)).toEqual([
          fault.errno === 'EROFS' ? 'directory-unusable' : 'write-failed',
        ]);
        if (fault.errno === 'EROFS')
          await expect(EngineCache.open(dir, { strict: true })).rejects.toMatchObject({ code: 'ERR_CACHE' });
        else
          expect(
            readdirSync(dir, { recursive: true }).filter(
              (name) => String(name).endsWith('.tmp') || String(name).endsWith('.plan'),
            ),
            JSON.stringify(readdirSync(dir, { recursive: true })),
          ).toEqual([]);
      });
    });
  }
});
