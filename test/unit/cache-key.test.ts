import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArgumentRangeError, ArgumentTypeError } from '../../lib/core/errors.js';
import {
  cacheKey,
  ENGINE_BUILD_OPTION_NAMES,
  hashFile,
  NON_ENGINE_BUILD_OPTION_NAMES,
  type CacheKeyParts,
} from '../../lib/cache/index.js';
import { expectErrorSync } from '../helpers/expect-error.js';

const onnx = Buffer.from('onnx model bytes');
const weights = Buffer.from('external weights');

function baseParts(): CacheKeyParts {
  return {
    model: {
      bytes: onnx,
      externalData: [
        { path: 'weights.bin', bytes: weights },
        { path: 'more.bin', sha256: 'a'.repeat(64) },
      ],
    },
    transforms: [
      { name: 'fp16-autocast', version: 1, options: { keepFp32: ['Softmax'] } },
      { name: 'int8-qdq', options: { calibration: new Float32Array([1, 2, 3]), perChannel: true } },
    ],
    build: {
      precision: 'int8',
      profiles: [{ images: { min: [1, 3, 224, 224], opt: [8, 3, 224, 224], max: [32, 3, 224, 224] } }],
      workspace: 2 ** 31,
      optimizationLevel: 3,
      hardwareCompatibility: 'none',
      versionCompatible: false,
      excludeLeanRuntime: false,
      maxAuxStreams: 2,
      calibration: { table: new Uint8Array([9, 9]) },
    },
    tensorrtVersion: '10.16.0',
    gpu: { uuid: 'GPU-0f3b', computeCapability: '8.9' },
  };
}

const baseId = cacheKey(baseParts()).id;

/** The key of the base parts after `change` edited a fresh copy of them. */
function idAfter(change: (parts: CacheKeyParts) => void): string {
  const parts = baseParts();
  change(parts);
  return cacheKey(parts).id;
}

/** A value for every engine-affecting option that differs from the one in baseParts(). */
const changedOptionValues: Record<(typeof ENGINE_BUILD_OPTION_NAMES)[number], unknown> = {
  precision: 'fp16',
  calibration: { table: new Uint8Array([9, 8]) },
  profiles: [{ images: { min: [1, 3, 224, 224], opt: [8, 3, 224, 224], max: [64, 3, 224, 224] } }],
  workspace: 2 ** 30,
  optimizationLevel: 5,
  hardwareCompatibility: 'ampere+',
  versionCompatible: true,
  excludeLeanRuntime: true,
  maxAuxStreams: 0,
};

describe('cacheKey: everything that changes the engine changes the key', () => {
  it('is 64 hex digits and stable for equal parts', () => {
    expect(baseId).toMatch(/^[0-9a-f]{64}$/);
    expect(cacheKey(baseParts()).id).toBe(baseId);
  });

  it.each([
    ['one byte of the model', (p: CacheKeyParts) => (p.model.bytes = Buffer.from('onnx model bytez'))],
    [
      'the content of an external-data file',
      (p: CacheKeyParts) => (p.model.externalData![0]!.bytes = Buffer.from('external weightz')),
    ],
    ['the location of an external-data file', (p: CacheKeyParts) => (p.model.externalData![0]!.path = 'weights2.bin')],
    [
      'an added external-data file',
      (p: CacheKeyParts) => p.model.externalData!.push({ path: 'extra.bin', bytes: Buffer.from('x') }),
    ],
    ['a removed external-data file', (p: CacheKeyParts) => p.model.externalData!.pop()],
    ['a transform name', (p: CacheKeyParts) => (p.transforms![0]!.name = 'fp16-autocast-v2')],
    ['a transform version', (p: CacheKeyParts) => (p.transforms![0]!.version = 2)],
    ['a transform option', (p: CacheKeyParts) => (p.transforms![0]!.options = { keepFp32: ['Softmax', 'LayerNorm'] })],
    [
      'calibration data of a transform',
      (p: CacheKeyParts) => (p.transforms![1]!.options!.calibration = new Float32Array([1, 2, 4])),
    ],
    [
      'the same calibration values in another dtype',
      (p: CacheKeyParts) => (p.transforms![1]!.options!.calibration = new Float64Array([1, 2, 3])),
    ],
    ['the order of transforms', (p: CacheKeyParts) => p.transforms!.reverse()],
    ['a dropped transform', (p: CacheKeyParts) => p.transforms!.pop()],
    ['the TensorRT version', (p: CacheKeyParts) => (p.tensorrtVersion = '10.16.1')],
    ['the GPU uuid', (p: CacheKeyParts) => (p.gpu.uuid = 'GPU-0f3c')],
    ['the compute capability', (p: CacheKeyParts) => (p.gpu.computeCapability = '9.0')],
    [
      'a nested profile dimension',
      (p: CacheKeyParts) => ((p.build.profiles as Array<Record<string, { max: number[] }>>)[0]!.images!.max[0] = 31),
    ],
    ['an engine option that was absent', (p: CacheKeyParts) => delete p.build.maxAuxStreams],
  ])('changes with %s', (_name, change) => {
    expect(idAfter(change)).not.toBe(baseId);
  });

  it.each(ENGINE_BUILD_OPTION_NAMES.map((option) => [option]))('changes with build option %s', (option) => {
    expect(idAfter((parts) => (parts.build[option] = changedOptionValues[option]))).not.toBe(baseId);
  });
});

describe('cacheKey: nothing else changes the key', () => {
  it('ignores the order of keys at every level and of external-data files', () => {
    const shuffled = baseParts();
    const reordered: CacheKeyParts = {
      gpu: { computeCapability: '8.9', uuid: 'GPU-0f3b' },
      tensorrtVersion: shuffled.tensorrtVersion,
      build: Object.fromEntries(Object.entries(shuffled.build).reverse()),
      transforms: shuffled.transforms,
      model: { externalData: shuffled.model.externalData!.slice().reverse(), bytes: onnx },
    };
    expect(cacheKey(reordered).id).toBe(baseId);
  });

  it('ignores undefined values and options that do not change the engine', () => {
    const controller = new AbortController();
    const id = idAfter((parts) => {
      Object.assign(parts.build, {
        signal: controller.signal,
        onProgress: () => undefined,
        cache: false,
        cacheDir: '/elsewhere',
        logLevel: 'verbose',
        timingCache: '/tmp/t.cache',
        device: 1,
        precision: 'int8',
        unusedButUndefined: undefined,
      });
      parts.transforms![0]!.options!.ignored = undefined;
    });
    // `unusedButUndefined` is unclassified, but an undefined value is as good as absent.
    expect(id).toBe(baseId);
  });

  it('ignores the label, the GPU name and memory, and where the model bytes come from', () => {
    const modelSha = createHash('sha256').update(onnx).digest('hex');
    expect(idAfter((parts) => (parts.label = 'resnet50.onnx'))).toBe(baseId);
    expect(idAfter((parts) => Object.assign(parts.gpu, { name: 'NVIDIA L4', totalMemoryBytes: 24e9, index: 3 }))).toBe(baseId);
    expect(idAfter((parts) => (parts.model = { sha256: modelSha, externalData: parts.model.externalData }))).toBe(baseId);
    expect(idAfter((parts) => (parts.model.bytes = new Uint8Array(onnx)))).toBe(baseId);
    expect(
      idAfter(
        (parts) =>
          ((parts.transforms![1]!.options!.calibration as Float32Array) = new Float32Array(
            new Float32Array([0, 1, 2, 3]).buffer,
            4,
            3,
          )),
      ),
    ).toBe(baseId);
  });

  it('treats absent and empty transforms, options and external data alike, and -0 as 0', () => {
    const plain: CacheKeyParts = {
      model: { bytes: onnx },
      build: {},
      tensorrtVersion: '10.3.0',
      gpu: { uuid: 'GPU-1', computeCapability: '8.6' },
    };
    const id = cacheKey(plain).id;
    expect(cacheKey({ ...plain, transforms: [] }).id).toBe(id);
    expect(cacheKey({ ...plain, model: { bytes: onnx, externalData: [] } }).id).toBe(id);
    const withStep = cacheKey({ ...plain, transforms: [{ name: 'fp16' }] }).id;
    expect(cacheKey({ ...plain, transforms: [{ name: 'fp16', options: {} }] }).id).toBe(withStep);
    expect(cacheKey({ ...plain, build: { workspace: -0 } }).id).toBe(cacheKey({ ...plain, build: { workspace: 0 } }).id);
  });

  it('cannot be confused by user keys that look like encoded binary data', () => {
    const bytes = new Uint8Array([1]);
    const encoded = cacheKey({ ...baseParts(), build: { calibration: bytes } });
    const lookalike = cacheKey({ ...baseParts(), build: { calibration: encoded.parts.build.calibration as object } });
    expect(lookalike.id).not.toBe(encoded.id);
  });

  it('keeps the canonical parts for `ls`, with binary data replaced by its hash', () => {
    const key = cacheKey({ ...baseParts(), label: 'model.onnx' });
    expect(key.label).toBe('model.onnx');
    expect(key.parts.model.sha256).toBe(createHash('sha256').update(onnx).digest('hex'));
    expect(key.parts.model.externalData!.map((file) => file.path)).toEqual(['more.bin', 'weights.bin']);
    expect(key.parts.build.calibration).toEqual({
      table: {
        $bytes: createHash('sha256')
          .update(new Uint8Array([9, 9]))
          .digest('hex'),
        $length: 2,
        $type: 'Uint8Array',
      },
    });
    expect(Object.isFrozen(key)).toBe(true);
  });

  it('classifies every option name once', () => {
    const all = [...ENGINE_BUILD_OPTION_NAMES, ...NON_ENGINE_BUILD_OPTION_NAMES];
    expect(new Set(all).size).toBe(all.length);
  });
});

describe('hashFile', () => {
  it('streams a file to its sha256', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'hash-')), 'weights.bin');
    writeFileSync(path, weights);
    expect(await hashFile(path)).toBe(createHash('sha256').update(weights).digest('hex'));
  });
});

describe('cacheKey: bad parts', () => {
  const gpu = { uuid: 'GPU-1', computeCapability: '8.9' };
  const valid = (): CacheKeyParts => ({ model: { bytes: onnx }, build: {}, tensorrtVersion: '10.16.0', gpu });

  it('BAD CALL - a build option nobody classified is refused, so the key cannot silently miss it', () => {
    expectErrorSync(
      () => cacheKey({ ...valid(), build: { sparsity: true } }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a build option classified for the engine cache key for parts.build but received "sparsity"; add it to ENGINE_BUILD_OPTION_NAMES (it changes the engine) or NON_ENGINE_BUILD_OPTION_NAMES (it does not) in lib/cache/key.ts',
    );
  });

  it('BAD CALL - parts that are not an object', () => {
    expectErrorSync(
      () => cacheKey(null as never),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected an object for parts but received null',
    );
  });

  it('BAD CALL - a misspelled part', () => {
    expectErrorSync(
      () => cacheKey({ ...valid(), tensorrtVerison: '10' } as never),
      ArgumentRangeError,
      'ERR_UNKNOWN_OPTION',
      /^Unknown option "tensorrtVerison" in parts \(did you mean "tensorrtVersion"\?\)/,
    );
  });

  it('BAD CALL - a model without bytes or sha256, or with both', () => {
    expectErrorSync(
      () => cacheKey({ ...valid(), model: {} }),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected parts.model.bytes (a Uint8Array) or parts.model.sha256 but received neither',
    );
    expectErrorSync(
      () => cacheKey({ ...valid(), model: { bytes: onnx, sha256: 'a'.repeat(64) } }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected either parts.model.bytes or parts.model.sha256 but received both',
    );
    expectErrorSync(
      () => cacheKey({ ...valid(), model: undefined as never }),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected an object for parts.model but received undefined',
    );
  });

  it('BAD CALL - model bytes that are not a Uint8Array, a malformed sha256', () => {
    expectErrorSync(
      () => cacheKey({ ...valid(), model: { bytes: [1, 2] as never } }),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a Uint8Array for parts.model.bytes but received an array of length 2',
    );
    expectErrorSync(
      () => cacheKey({ ...valid(), model: { sha256: 'ABC' } }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a sha256 of 64 lowercase hex digits for parts.model.sha256 but received "ABC" of type string',
    );
  });

  it('BAD CALL - the same external-data path twice', () => {
    expectErrorSync(
      () =>
        cacheKey({
          ...valid(),
          model: {
            bytes: onnx,
            externalData: [
              { path: 'w.bin', bytes: weights },
              { path: 'w.bin', bytes: onnx },
            ],
          },
        }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected distinct paths in parts.model.externalData but received "w.bin" twice',
    );
    expectErrorSync(
      () => cacheKey({ ...valid(), model: { bytes: onnx, externalData: [{ path: '', bytes: weights }] } }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a non-empty string for parts.model.externalData[0].path but received "" of type string',
    );
  });

  it('BAD CALL - option values that have no canonical form', () => {
    expectErrorSync(
      () => cacheKey({ ...valid(), build: { workspace: Number.NaN } }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a finite number for parts.build.workspace but received NaN of type number',
    );
    expectErrorSync(
      () => cacheKey({ ...valid(), build: { profiles: [{ x: { min: [1], opt: [Infinity], max: [2] } }] } }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a finite number for parts.build.profiles[0].x.opt[0] but received Infinity of type number',
    );
    expectErrorSync(
      () => cacheKey({ ...valid(), build: { calibration: () => [] } }),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected JSON-like data (plain objects, arrays, strings, finite numbers, booleans, null, bigints, typed arrays) for parts.build.calibration but received a function',
    );
    expectErrorSync(
      () => cacheKey({ ...valid(), build: { calibration: new Map() } }),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected JSON-like data (plain objects, arrays, strings, finite numbers, booleans, null, bigints, typed arrays) for parts.build.calibration but received an instance of Map',
    );
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expectErrorSync(
      () => cacheKey({ ...valid(), transforms: [{ name: 'x', options: cyclic }] }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected JSON-like data (plain objects, arrays, strings, finite numbers, booleans, null, bigints, typed arrays) without cycles for parts.transforms[0].options.self but received an object that contains itself',
    );
  });

  it('BAD CALL - transforms that are not a list of named steps', () => {
    expectErrorSync(
      () => cacheKey({ ...valid(), transforms: {} as never }),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected an array for parts.transforms but received an object',
    );
    expectErrorSync(
      () => cacheKey({ ...valid(), transforms: [{ options: {} } as never] }),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a string for parts.transforms[0].name but received undefined',
    );
    expectErrorSync(
      () => cacheKey({ ...valid(), transforms: [{ name: 'x', version: true as never }] }),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a string or number for parts.transforms[0].version but received true of type boolean',
    );
  });

  it('BAD CALL - a TensorRT version or GPU that is missing or malformed', () => {
    expectErrorSync(
      () => cacheKey({ ...valid(), tensorrtVersion: 10 as never }),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a string for parts.tensorrtVersion but received 10 of type number',
    );
    expectErrorSync(
      () => cacheKey({ ...valid(), gpu: { uuid: 'GPU-1', computeCapability: 8.9 as never } }),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a compute capability such as "8.9" for parts.gpu.computeCapability but received 8.9 of type number',
    );
    expectErrorSync(
      () => cacheKey({ ...valid(), gpu: { uuid: 'GPU-1', computeCapability: 'sm_89' } }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a compute capability such as "8.9" for parts.gpu.computeCapability but received "sm_89" of type string',
    );
    expectErrorSync(
      () => cacheKey({ ...valid(), gpu: { computeCapability: '8.9' } as never }),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a string for parts.gpu.uuid but received undefined',
    );
  });
});
