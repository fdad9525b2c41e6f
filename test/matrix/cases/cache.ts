/** The engine cache and its key: argument checks not already covered by test/unit/cache-store.test.ts. */
import { join } from 'node:path';
import { cacheKey, EngineCache, hashFile, type CacheKey, type CacheKeyParts } from '../../../lib/index.js';
import { ArgumentRangeError, ArgumentTypeError, TensorRTNodeError } from '../../../lib/core/errors.js';
import { row, type MatrixContext, type MatrixTable } from '../matrix.js';

const T = ArgumentTypeError;
const R = ArgumentRangeError;
const never = <V>(value: unknown) => value as V;
const gpu = { uuid: 'GPU-matrix', computeCapability: '8.9' };
const parts = (change: Partial<Record<keyof CacheKeyParts, unknown>> = {}): CacheKeyParts =>
  never({ model: { sha256: 'a'.repeat(64) }, transforms: [], build: {}, tensorrtVersion: '10.16.0', gpu, ...change });

function cache(context: MatrixContext): Promise<EngineCache> {
  return context.once('engine-cache', () => EngineCache.open(join(context.folder, 'cache'), { strict: true }));
}

function key(): CacheKey {
  return cacheKey(parts());
}

export const cacheTable: MatrixTable = {
  surface: 'EngineCache and cacheKey',
  rows: [
    row('open() with an empty folder name', () => EngineCache.open(''), [
      R,
      'ERR_INVALID_ARGUMENT',
      'Expected a non-empty string for dir but received "" of type string',
    ]),
    row('open() with a string for strict', (context) => EngineCache.open(join(context.folder, 'c1'), never({ strict: 'yes' })), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected a boolean for options.strict but received "yes" of type string',
    ]),
    row('open() with a NaN staleLockMs', (context) => EngineCache.open(join(context.folder, 'c2'), { staleLockMs: NaN }), [
      R,
      'ERR_INVALID_ARGUMENT',
      'Expected a positive number of milliseconds up to 2147483647 (about 24.8 days, the longest a timer can wait) or Infinity for no limit for options.staleLockMs but received NaN of type number',
    ]),
    row('open() with a fractional maxBytes', (context) => EngineCache.open(join(context.folder, 'c3'), { maxBytes: 0.5 }), [
      R,
      'ERR_INVALID_ARGUMENT',
      'Expected a non-negative integer or Infinity for options.maxBytes but received 0.5 of type number',
    ]),
    row('get() with a number', async (context) => (await cache(context)).get(never(42)), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected a CacheKey from cacheKey() or its id (64 lowercase hex digits) for key but received 42 of type number',
    ]),
    row('get() with an id in upper case', async (context) => (await cache(context)).get('A'.repeat(64)), [
      R,
      'ERR_INVALID_ARGUMENT',
      'Expected a CacheKey from cacheKey() or its id (64 lowercase hex digits) for key but received "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA..." of type string',
    ]),
    row(
      'put() with an aborted signal',
      async (context) => (await cache(context)).put(key(), new Uint8Array(4), {}, { signal: AbortSignal.abort() }),
      [TensorRTNodeError, 'ERR_ABORTED', 'EngineCache.put was aborted'],
    ),
    row(
      'put() with metadata holding a function',
      async (context) =>
        (await cache(context)).put(
          key(),
          new Uint8Array(4),
          never(() => 1),
        ),
      [T, 'ERR_INVALID_ARGUMENT', 'Expected JSON-serializable data for metadata but received a function'],
    ),
    row(
      'getOrBuild() with an aborted signal',
      async (context) =>
        (await cache(context)).getOrBuild(key(), async () => ({ plan: new Uint8Array(4), metadata: {} }), {
          signal: AbortSignal.abort(),
        }),
      [TensorRTNodeError, 'ERR_ABORTED', 'EngineCache.getOrBuild was aborted'],
    ),
    row(
      'getOrBuild() whose build returns an empty plan',
      async (context) =>
        (await cache(context)).getOrBuild(cacheKey(parts({ tensorrtVersion: '10.16.1' })), async () => ({
          plan: new Uint8Array(0),
          metadata: {},
        })),
      [
        R,
        'ERR_INVALID_ARGUMENT',
        'Expected a non-empty Uint8Array for the plan returned by build but received a Uint8Array of length 0',
      ],
    ),
    row('prune() with a negative olderThanMs', async (context) => (await cache(context)).prune({ olderThanMs: -1 }), [
      R,
      'ERR_INVALID_ARGUMENT',
      'Expected a non-negative integer or Infinity for options.olderThanMs but received -1 of type number',
    ]),
    row('prune() with a string for options', async (context) => (await cache(context)).prune(never('all')), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected an object for options but received "all" of type string',
    ]),
    row('cacheKey() of null', () => cacheKey(never(null)), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected an object for parts but received null',
    ]),
    row('cacheKey() with a misspelled part', () => cacheKey(never({ ...parts(), tensorrtVerison: '10' })), [
      R,
      'ERR_UNKNOWN_OPTION',
      'Unknown option "tensorrtVerison" in parts (did you mean "tensorrtVersion"?); known options: model, transforms, build, tensorrtVersion, gpu, label',
    ]),
    row(
      'cacheKey() with a compute capability without a dot',
      () => cacheKey(parts({ gpu: { uuid: 'GPU-1', computeCapability: '89' } })),
      [
        R,
        'ERR_INVALID_ARGUMENT',
        'Expected a compute capability such as "8.9" for parts.gpu.computeCapability but received "89" of type string',
      ],
    ),
    row('cacheKey() with a build option nobody classified', () => cacheKey(parts({ build: { fastMath: true } })), [
      R,
      'ERR_INVALID_ARGUMENT',
      'Expected a build option classified for the engine cache key for parts.build but received "fastMath"; add it to ENGINE_BUILD_OPTION_NAMES (it changes the engine) or NON_ENGINE_BUILD_OPTION_NAMES (it does not) in lib/cache/key.ts',
    ]),
    row('cacheKey() with a transform that is not an object', () => cacheKey(parts({ transforms: ['fp16'] })), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected an object for parts.transforms[0] but received "fp16" of type string',
    ]),
    row('hashFile() of a number', () => hashFile(never(42)), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected a string for path but received 42 of type number',
    ]),
    row('hashFile() of a path that does not exist', (context) => hashFile(join(context.folder, 'missing.bin')), [
      TensorRTNodeError,
      'ERR_IO',
      /^Cannot hash \/.*\/missing\.bin: it does not exist$/,
    ]),
    row('hashFile() of a folder', (context) => hashFile(context.folder), [
      TensorRTNodeError,
      'ERR_IO',
      /^Cannot hash \/.*: it is a directory$/,
    ]),
  ],
};
