/**
 * The engine cache key: sha256 over the canonical form of everything that changes the engine
 * (model bytes and external data, transforms, engine-affecting build options, TensorRT version, GPU)
 * and nothing else. Two lists below classify every buildEngine option: an option in neither list is
 * refused, so adding a build option without deciding whether it changes the engine fails loudly
 * instead of silently serving a stale engine.
 */
import { createHash } from 'node:crypto';
import { ArgumentRangeError, ArgumentTypeError, ErrorCode, TensorRTNodeError } from '../core/errors.js';
import { describeValue, expectOptions, expectString, invalidType, invalidValue, rejectUnknownOptions } from '../core/validate.js';
import { canonicalize, sha256Hex, stableStringify, type CanonicalValue } from './canonical.js';
import { fileIo, NotRegularFileError, openRegularFile } from '../core/file-io.js';

/**
 * buildEngine options that change the engine and therefore the key. The builder owns this list:
 * when it gains an option, add it here or to NON_ENGINE_BUILD_OPTION_NAMES.
 */
export const ENGINE_BUILD_OPTION_NAMES = [
  'precision',
  'calibration',
  'profiles',
  'workspace',
  'optimizationLevel',
  'hardwareCompatibility',
  'versionCompatible',
  'excludeLeanRuntime',
  'maxAuxStreams',
] as const;

/**
 * buildEngine options that do not change the engine: where and whether to cache, how to report, how
 * to cancel, which device (the GPU identity is its own key part), and the timing cache (it only
 * makes the build faster).
 */
export const NON_ENGINE_BUILD_OPTION_NAMES = [
  'signal',
  'onProgress',
  'cache',
  'cacheDir',
  'logLevel',
  'timingCache',
  'device',
] as const;

/**
 * One external-data file of a model: its path and its bytes (or their sha256).
 * @inline
 */
export interface ExternalDataFile {
  /** The location as written in the model (relative to the model's folder). */
  path: string;
  /** The file's bytes, or `sha256` when the caller hashed it already (hashFile() streams big files). */
  bytes?: Uint8Array;
  sha256?: string;
}

/**
 * The model's identity for the key: its bytes (or their sha256) and its external-data files.
 * @inline
 */
export interface ModelFingerprint {
  /** The ONNX bytes, or `sha256` when already hashed. Where the model file lives does not matter. */
  bytes?: Uint8Array;
  sha256?: string;
  /** Every external-data file the model references; order does not matter. */
  externalData?: ExternalDataFile[];
}

/**
 * One ONNX transform applied before the build, as the key records it.
 * @inline
 */
export interface TransformStep {
  /** e.g. "fp16-autocast", "int8-qdq". Order of steps matters. */
  name: string;
  /** Bump when the transform's implementation changes its output, so old engines are not reused. */
  version?: string | number;
  options?: Record<string, unknown>;
}

/** What an engine cache key is computed from: everything that changes the engine, nothing that does not. */
export interface CacheKeyParts {
  model: ModelFingerprint;
  transforms?: TransformStep[];
  /** The buildEngine options, as given (see ENGINE_BUILD_OPTION_NAMES); normalise units first. */
  build: Record<string, unknown>;
  /** The TensorRT library version the engine is built with, e.g. "10.16.0". */
  tensorrtVersion: string;
  /** The device; a DeviceInfo from capabilities() works (only uuid and computeCapability count). */
  gpu: { uuid: string; computeCapability: string };
  /** For people reading `tensorrt-node cache ls` (e.g. the model's file name); not hashed. */
  label?: string;
}

/**
 * The canonical parts, as stored in an entry's metadata for `ls`.
 * @inline
 */
export interface CanonicalKeyParts {
  model: { sha256: string; externalData?: Array<{ path: string; sha256: string }> };
  transforms: Array<{ name: string; version?: string | number; options: CanonicalValue }>;
  build: { [option: string]: CanonicalValue };
  tensorrtVersion: string;
  gpu: { uuid: string; computeCapability: string };
}

/** An engine cache key: a sha256 id over its canonical parts. Make one with {@link cacheKey}. */
export interface CacheKey {
  /** 64 lowercase hex digits. */
  readonly id: string;
  readonly parts: CanonicalKeyParts;
  readonly label: string | null;
}

const keyFormat = 'tensorrt-node/engine-cache-key/1';

/** Like expectOptions, but the object is required. */
function requireObject<T extends object>(value: unknown, name: string): Partial<T> {
  if (value === undefined) throw invalidType('an object', name, value);
  return expectOptions<T>(value, name);
}
const sha256Pattern = /^[0-9a-f]{64}$/;

/** The key id of canonical parts (also used to check an entry's stored parts against its name). */
export function keyIdOf(parts: CanonicalKeyParts): string {
  return sha256Hex(`${keyFormat}\n${stableStringify(parts as unknown as CanonicalValue)}`);
}

export function isCacheKeyId(value: unknown): value is string {
  return typeof value === 'string' && sha256Pattern.test(value);
}

function fingerprintOf(value: unknown, name: string): string {
  const source = expectOptions<{ bytes: unknown; sha256: unknown }>(value, name);
  if (source.bytes !== undefined && source.sha256 !== undefined) {
    throw new ArgumentRangeError(`Expected either ${name}.bytes or ${name}.sha256 but received both`, ErrorCode.INVALID_ARGUMENT);
  }
  if (source.bytes !== undefined) {
    if (!(source.bytes instanceof Uint8Array)) throw invalidType('a Uint8Array', `${name}.bytes`, source.bytes);
    return sha256Hex(source.bytes);
  }
  if (source.sha256 !== undefined) {
    if (typeof source.sha256 !== 'string')
      throw invalidType('a sha256 of 64 lowercase hex digits', `${name}.sha256`, source.sha256);
    if (!sha256Pattern.test(source.sha256))
      throw invalidValue('a sha256 of 64 lowercase hex digits', `${name}.sha256`, source.sha256);
    return source.sha256;
  }
  throw new ArgumentTypeError(
    `Expected ${name}.bytes (a Uint8Array) or ${name}.sha256 but received neither`,
    ErrorCode.INVALID_ARGUMENT,
  );
}

function canonicalModel(value: unknown): CanonicalKeyParts['model'] {
  const model = requireObject<ModelFingerprint>(value, 'parts.model');
  rejectUnknownOptions(model, ['bytes', 'sha256', 'externalData'], 'parts.model');
  const sha256 = fingerprintOf({ bytes: model.bytes, sha256: model.sha256 }, 'parts.model');
  if (model.externalData === undefined) return { sha256 };
  if (!Array.isArray(model.externalData)) throw invalidType('an array', 'parts.model.externalData', model.externalData);
  const files = model.externalData.map((file: unknown, index) => {
    const name = `parts.model.externalData[${index}]`;
    const entry = requireObject<ExternalDataFile>(file, name);
    rejectUnknownOptions(entry, ['path', 'bytes', 'sha256'], name);
    return {
      path: expectString(entry.path, `${name}.path`),
      sha256: fingerprintOf({ bytes: entry.bytes, sha256: entry.sha256 }, name),
    };
  });
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (let index = 1; index < files.length; index++) {
    if (files[index]!.path === files[index - 1]!.path) {
      throw new ArgumentRangeError(
        `Expected distinct paths in parts.model.externalData but received ${JSON.stringify(files[index]!.path)} twice`,
        ErrorCode.INVALID_ARGUMENT,
      );
    }
  }
  return files.length === 0 ? { sha256 } : { sha256, externalData: files };
}

function canonicalTransforms(value: unknown): CanonicalKeyParts['transforms'] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalidType('an array', 'parts.transforms', value);
  return value.map((step: unknown, index) => {
    const name = `parts.transforms[${index}]`;
    const transform = requireObject<TransformStep>(step, name);
    rejectUnknownOptions(transform, ['name', 'version', 'options'], name);
    const canonical: CanonicalKeyParts['transforms'][number] = {
      name: expectString(transform.name, `${name}.name`),
      options: canonicalize(expectOptions(transform.options, `${name}.options`), `${name}.options`) ?? {},
    };
    if (transform.version !== undefined) {
      if (typeof transform.version !== 'string' && typeof transform.version !== 'number')
        throw invalidType('a string or number', `${name}.version`, transform.version);
      canonical.version = transform.version;
    }
    return canonical;
  });
}

function canonicalBuildOptions(value: unknown): CanonicalKeyParts['build'] {
  const options = requireObject<Record<string, unknown>>(value, 'parts.build');
  const engineOptions: readonly string[] = ENGINE_BUILD_OPTION_NAMES;
  const ignoredOptions: readonly string[] = NON_ENGINE_BUILD_OPTION_NAMES;
  const build: CanonicalKeyParts['build'] = {};
  for (const option of Object.keys(options).sort()) {
    // An undefined option is as good as absent (options objects are often built by spreading).
    if (ignoredOptions.includes(option) || options[option] === undefined) continue;
    if (!engineOptions.includes(option)) {
      throw new ArgumentRangeError(
        `Expected a build option classified for the engine cache key for parts.build but received ${JSON.stringify(option)}; add it to ENGINE_BUILD_OPTION_NAMES (it changes the engine) or NON_ENGINE_BUILD_OPTION_NAMES (it does not) in lib/cache/key.ts`,
        ErrorCode.INVALID_ARGUMENT,
        { details: { option } },
      );
    }
    const canonical = canonicalize(options[option], `parts.build.${option}`);
    if (canonical !== undefined) build[option] = canonical;
  }
  return build;
}

function canonicalGpu(value: unknown): CanonicalKeyParts['gpu'] {
  const gpu = requireObject<{ uuid: unknown; computeCapability: unknown }>(value, 'parts.gpu');
  const uuid = expectString(gpu.uuid, 'parts.gpu.uuid');
  if (typeof gpu.computeCapability !== 'string')
    throw invalidType('a compute capability such as "8.9"', 'parts.gpu.computeCapability', gpu.computeCapability);
  if (!/^\d+\.\d+$/.test(gpu.computeCapability))
    throw invalidValue('a compute capability such as "8.9"', 'parts.gpu.computeCapability', gpu.computeCapability);
  return { uuid, computeCapability: gpu.computeCapability };
}

/**
 * The key of an engine. Everything that changes the engine changes the key; nothing else does
 * (key order, undefined values, options in NON_ENGINE_BUILD_OPTION_NAMES, the label, GPU fields
 * other than uuid and computeCapability). Bad parts are refused with ERR_INVALID_ARGUMENT.
 */
export function cacheKey(parts: CacheKeyParts): CacheKey {
  if (typeof parts !== 'object' || parts === null || Array.isArray(parts)) throw invalidType('an object', 'parts', parts);
  rejectUnknownOptions(parts, ['model', 'transforms', 'build', 'tensorrtVersion', 'gpu', 'label'], 'parts');
  const canonical: CanonicalKeyParts = {
    model: canonicalModel(parts.model),
    transforms: canonicalTransforms(parts.transforms),
    build: canonicalBuildOptions(parts.build),
    tensorrtVersion: expectString(parts.tensorrtVersion, 'parts.tensorrtVersion'),
    gpu: canonicalGpu(parts.gpu),
  };
  const label = parts.label === undefined ? null : expectString(parts.label, 'parts.label');
  return Object.freeze({ id: keyIdOf(canonical), parts: canonical, label });
}

/** The sha256 of a file, streamed (external data can be gigabytes). */
export async function hashFile(path: string): Promise<string> {
  expectString(path, 'path');
  const hash = createHash('sha256');
  try {
    // A regular file only (links followed): a FIFO would never end, a device never stop.
    const handle = await openRegularFile(path, { follow: true });
    try {
      const buffer = Buffer.allocUnsafe(1024 * 1024);
      for (let position = 0, filled = 1; filled > 0; position += filled) {
        filled = await fileIo.readInto(handle, buffer, position);
        hash.update(buffer.subarray(0, filled));
      }
    } finally {
      await handle.close();
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      error instanceof NotRegularFileError
        ? error.kind === 'a folder'
          ? 'it is a directory'
          : `it is ${error.kind}, not a regular file`
        : code === 'ENOENT'
          ? 'it does not exist'
          : code === 'EISDIR'
            ? 'it is a directory'
            : `${code ?? String(error)}`;
    throw new TensorRTNodeError(ErrorCode.IO, `Cannot hash ${path}: ${why}`, { cause: error, details: { path } });
  }
  return hash.digest('hex');
}

/** Accepts a CacheKey or its id (as `ls` prints it); returns the id. */
export function keyIdFrom(key: unknown, name = 'key'): string {
  const id = typeof key === 'object' && key !== null ? (key as { id?: unknown }).id : key;
  if (!isCacheKeyId(id)) {
    const expected = 'a CacheKey from cacheKey() or its id (64 lowercase hex digits)';
    throw typeof id === 'string'
      ? invalidValue(expected, name, key)
      : new ArgumentTypeError(`Expected ${expected} for ${name} but received ${describeValue(key)}`, ErrorCode.INVALID_ARGUMENT);
  }
  return id;
}
