/**
 * Issue 19's classes as properties: graphs that grow subgraph counts and nesting, external data of
 * any declared size (sparse files), special files at every target of the atomic writer and at every
 * path of the cache folder. Each case either does the right thing or fails with a typed error, and
 * never hangs (a case that does not settle within its bound fails).
 */
import { toBinary } from '@bufbuild/protobuf';
import { create } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheKey, EngineCache } from '../../../lib/cache/index.js';
import { writeFileAtomic } from '../../../lib/core/atomic-write.js';
import { convertToFp16 } from '../../../lib/onnx/fp16.js';
import { inspect } from '../../../lib/onnx/inspect.js';
import { readModel, type OnnxModel } from '../../../lib/onnx/model.js';
import { DataLocation, DataType, ModelProtoSchema, StringStringEntryProtoSchema } from '../../../lib/onnx/proto.js';
import { returnsOrThrowsTyped, type FuzzProperty } from '../harness.js';
import { subgraphHeavyModel } from '../../helpers/onnx-fixtures.js';

const scratch = mkdtempSync(join(tmpdir(), 'tensorrt-node-fuzz-files-'));
process.once('exit', () => rmSync(scratch, { recursive: true, force: true }));
let caseCounter = 0;
const freshFolder = () => {
  const folder = join(scratch, String(caseCounter++));
  mkdirSync(folder);
  return folder;
};

/** Settles `action` within `ms` or fails the case: a hang is the bug these properties look for. */
async function within<T>(ms: number, what: string, action: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      action(),
      new Promise<never>(
        (_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms)),
      ),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Structure-aware growth: more names, more subgraphs, deeper nesting, and names that collide or come too late. */
const damage = fc.constantFrom('none', 'late-name', 'duplicate-output', 'missing-name', 'shadow');
const graphShape = fc.oneof(
  // Wide: many names and many If nodes (what made the checks quadratic).
  fc.record({
    names: fc.integer({ min: 1, max: 4000 }),
    subgraphs: fc.integer({ min: 0, max: 400 }),
    depth: fc.integer({ min: 1, max: 3 }),
    damage,
  }),
  // Deep: nesting around what a file can hold (~31) and what a model in memory may declare (32).
  fc.record({
    names: fc.integer({ min: 1, max: 20 }),
    subgraphs: fc.integer({ min: 1, max: 3 }),
    depth: fc.integer({ min: 26, max: 40 }),
    damage,
  }),
);

function damaged(shape: { names: number; subgraphs: number; depth: number; damage: string }): OnnxModel {
  const model = subgraphHeavyModel(shape);
  const graph = model.proto.graph!;
  const first = graph.node[0];
  if (!first) return model;
  const branch = first.attribute[0]!.g!;
  if (shape.damage === 'late-name') branch.node[0]!.input[0] = `y${graph.node.length - 1}`;
  if (shape.damage === 'duplicate-output') graph.node.at(-1)!.output[0] = 'y0';
  if (shape.damage === 'missing-name') branch.node[0]!.input[0] = 'nowhere';
  if (shape.damage === 'shadow') branch.node[0]!.output[0] = 'flag';
  return model;
}

/** Declared external data lengths around every boundary that matters: 2 GiB reads, the 4 GiB buffer, 2^53. */
const declaredLength = fc.constantFrom(
  0,
  1,
  16,
  2 ** 20,
  2 ** 31 - 1,
  2 ** 31,
  2 ** 31 + 16,
  2 ** 32,
  2 ** 32 + 1,
  5 * 2 ** 30,
  2 ** 53,
  2 ** 53 + 2,
);

/** What may sit at a path the package writes or reads. */
type Plant = 'missing' | 'file' | 'private-file' | 'fifo' | 'folder' | 'link' | 'dangling-link' | 'socket-like' | 'char-device';
const plant = fc.constantFrom<Plant>('missing', 'file', 'private-file', 'fifo', 'folder', 'link', 'dangling-link', 'char-device');

/** Plants `kind` at `path`; false when this machine cannot (a device node needs root). */
function put(kind: Plant, path: string): boolean {
  switch (kind) {
    case 'missing':
      return true;
    case 'file':
      writeFileSync(path, 'old');
      return true;
    case 'private-file':
      writeFileSync(path, 'old');
      chmodSync(path, 0o600);
      return true;
    case 'fifo':
      execFileSync('mkfifo', [path]);
      return true;
    case 'folder':
      mkdirSync(path);
      writeFileSync(join(path, 'inside'), 'kept');
      return true;
    case 'link': {
      // The target lives outside the folder under test, so that only what the package does is seen there.
      const target = join(scratch, `link-target-${caseCounter++}`);
      writeFileSync(target, 'target');
      symlinkSync(target, path);
      return true;
    }
    case 'dangling-link':
      symlinkSync(`${path}.nowhere`, path);
      return true;
    case 'char-device':
      return spawnSync('mknod', [path, 'c', '1', '3']).status === 0;
    default:
      return false;
  }
}

/** What is at `path`, for comparing before and after. */
function describeNode(path: string): string {
  try {
    const stats = lstatSync(path);
    if (stats.isSymbolicLink()) return `link -> ${readlinkSync(path)}`;
    if (stats.isFIFO()) return 'fifo';
    if (stats.isCharacterDevice()) return 'char-device';
    if (stats.isDirectory()) return `folder(${readFileSync(join(path, 'inside'), 'utf8')})`;
    return `file ${(stats.mode & 0o777).toString(8)}`;
  } catch {
    return 'missing';
  }
}

export const filesProperties: FuzzProperty[] = [
  {
    name: 'onnx: models with many names, many subgraphs and deep nesting (and names that collide or come late) are read or refused typed',
    weight: 0,
    fixedRuns: 400,
    property: () =>
      fc.asyncProperty(graphShape, async (shape) => {
        const model = damaged(shape);
        // Encoded directly (serializeModel refuses nesting too deep for a file), then read as a file would be.
        const read = await returnsOrThrowsTyped(() => readModel(toBinary(ModelProtoSchema, model.proto)));
        if (read.ok) {
          await returnsOrThrowsTyped(() => inspect(read.value as OnnxModel));
          await returnsOrThrowsTyped(() => convertToFp16(read.value as OnnxModel));
        }
        // Transforms take models straight from memory too, unchecked: typed as well, never a stack overflow.
        await returnsOrThrowsTyped(() => inspect(model));
        await returnsOrThrowsTyped(() => convertToFp16(model));
        if (shape.damage === 'none' && shape.depth <= 31 && !read.ok)
          throw new Error(`a valid model was refused: ${JSON.stringify(shape)} (${(read as { code: string }).code})`);
      }),
  },
  {
    name: 'onnx: external data of any declared size (sparse files up to 6 GiB) is read or refused typed, never aborts',
    weight: 0,
    fixedRuns: 300,
    property: () =>
      fc.asyncProperty(
        declaredLength,
        fc.constantFrom(0, 1, 2 ** 31, 6 * 2 ** 30),
        fc.constantFrom(0, 8, 2 ** 31),
        async (length, fileSize, offset) => {
          const folder = freshFolder();
          const data = join(folder, 'w.bin');
          closeSync(openSync(data, 'w'));
          truncateSync(data, fileSize);
          const model = subgraphHeavyModel({ names: 1, subgraphs: 1 });
          const tensor = model.proto.graph!.initializer[0]!;
          tensor.dataType = DataType.UINT8;
          tensor.dims = [BigInt(length)];
          tensor.rawData = new Uint8Array(0);
          tensor.floatData = [];
          tensor.dataLocation = DataLocation.EXTERNAL;
          tensor.externalData = [
            create(StringStringEntryProtoSchema, { key: 'location', value: 'w.bin' }),
            create(StringStringEntryProtoSchema, { key: 'offset', value: String(offset) }),
            create(StringStringEntryProtoSchema, { key: 'length', value: String(length) }),
          ];
          const path = join(folder, 'model.onnx');
          writeFileSync(path, toBinary(ModelProtoSchema, model.proto));
          await returnsOrThrowsTyped(() => readModel(path, { loadExternalData: false }).then((read) => inspect(read)));
          // Reading the bytes: only where that is cheap (refused before any read, or small); the 2 GiB read itself is in npm run test:big-files.
          const refusedUnread = length > 2 ** 32 || offset + length > fileSize;
          if (refusedUnread || length <= 2 ** 20) {
            const loaded = await returnsOrThrowsTyped(() => readModel(path));
            if (refusedUnread && loaded.ok)
              throw new Error(`external data of ${length} bytes at ${offset} in a file of ${fileSize} was read`);
          }
          rmSync(folder, { recursive: true, force: true });
        },
      ),
  },
  {
    name: 'atomic writer: whatever sits at the target (file, FIFO, folder, link, device), it is replaced keeping its mode, written through, or refused typed and left as it was',
    weight: 1,
    property: () =>
      fc.asyncProperty(plant, fc.boolean(), async (kind, many) => {
        const folder = freshFolder();
        const target = join(folder, 'target.out');
        if (!put(kind, target)) return;
        const before = describeNode(target);
        const write = () =>
          many
            ? import('../../../lib/core/atomic-write.js').then(({ writeFilesAtomic }) =>
                writeFilesAtomic([{ path: target, content: 'new' }]),
              )
            : writeFileAtomic(target, 'new');
        const outcome = await within(10_000, `writing over a ${kind}`, () => returnsOrThrowsTyped(write));
        const after = describeNode(target);
        if (kind === 'missing' || kind === 'file' || kind === 'private-file') {
          if (!outcome.ok) throw new Error(`writing over a ${kind} failed: ${(outcome as { code: string }).code}`);
          if (readFileSync(target, 'utf8') !== 'new') throw new Error(`the ${kind} was not replaced`);
          if (kind === 'private-file' && (statSync(target).mode & 0o777) !== 0o600) throw new Error('a 0600 file lost its mode');
        } else if (kind === 'char-device') {
          if (!outcome.ok || after !== 'char-device') throw new Error(`a character device was not written through (${after})`);
        } else {
          if (outcome.ok || (outcome as { code: string }).code !== 'ERR_IO')
            throw new Error(`a ${kind} at the target was not refused with ERR_IO`);
          if (after !== before) throw new Error(`the ${kind} at the target changed: ${before} -> ${after}`);
          if (kind === 'link' && readFileSync(readlinkSync(target), 'utf8') !== 'target')
            throw new Error("the link's target was written");
        }
        rmSync(folder, { recursive: true, force: true });
      }),
  },
  {
    name: 'cache folder: FIFOs, folders, links and devices named like entries, plans, locks and timing caches never hang or crash ls, get, put, prune or clear, and clear repairs the folder',
    weight: 0,
    fixedRuns: 300,
    property: () =>
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom('metadata', 'plan', 'lock', 'timing', 'tag'), plant), { minLength: 1, maxLength: 4 }),
        async (plants) => {
          const dir = freshFolder();
          const key = cacheKey({
            model: { sha256: 'c'.repeat(64) },
            build: {},
            tensorrtVersion: '10.16.0',
            gpu: { uuid: 'GPU-fuzz', computeCapability: '8.9' },
          });
          const other = cacheKey({
            model: { sha256: 'd'.repeat(64) },
            build: {},
            tensorrtVersion: '10.16.0',
            gpu: { uuid: 'GPU-fuzz', computeCapability: '8.9' },
          });
          await (await EngineCache.open(dir, { strict: true, onWarning: () => undefined })).put(key, Buffer.alloc(64, 7), {});
          for (const [where, kind] of plants) {
            const path = {
              metadata: join(dir, 'engines', `${other.id}.json`),
              plan: join(dir, 'engines', `${other.id}.${'e'.repeat(16)}.plan`),
              lock: join(dir, 'locks', `${other.id}.lock`),
              timing: join(dir, 'timing', `${'f'.repeat(16)}.timing`),
              tag: join(dir, 'CACHEDIR.TAG'),
            }[where];
            rmSync(path, { recursive: true, force: true });
            put(kind, path);
          }
          const cache = await within(10_000, 'open', () => EngineCache.open(dir, { strict: true, onWarning: () => undefined }));
          for (const step of [
            () => cache.list(),
            () => cache.get(key),
            () => cache.get(other),
            () => cache.put(other, Buffer.alloc(8, 1), {}, { timeoutMs: 500 }),
            () => cache.prune(),
            () => cache.prune({ maxBytes: 0 }),
          ]) {
            await within(10_000, 'a cache operation', () => returnsOrThrowsTyped(step));
          }
          const cleared = await within(10_000, 'clear', () => returnsOrThrowsTyped(() => cache.clear()));
          if (!cleared.ok) throw new Error(`clear failed: ${(cleared as { code: string }).code}`);
          // clear repairs: nothing but regular files may be left, and in engines/ only entries whose lock looks held
          // (a fresh lock file, even an unreadable one, is someone's until it goes stale).
          const { readdirSync } = await import('node:fs');
          const skipped = (cleared.value as { skippedBusy: string[] }).skippedBusy;
          const held = readdirSync(join(dir, 'locks')).map((name) => name.slice(0, 64));
          for (const folder of ['engines', 'locks', 'timing']) {
            for (const name of readdirSync(join(dir, folder))) {
              if (folder === 'engines' && [...skipped, ...held].some((id) => name.startsWith(id))) continue; // its key's lock is held: left alone, whatever it is
              if (!lstatSync(join(dir, folder, name)).isFile())
                throw new Error(`clear left ${folder}/${name}, which is not a file`);
              if (folder !== 'locks') throw new Error(`clear left ${folder}/${name}`);
            }
          }
          rmSync(dir, { recursive: true, force: true });
        },
      ),
  },
];
