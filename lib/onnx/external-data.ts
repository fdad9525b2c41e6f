/**
 * External data: tensors whose bytes live in a separate file next to the model (models over
 * protobuf's 2 GiB limit must use it). A model is untrusted input, so every location is resolved
 * inside the model's folder: absolute paths, `..` escapes and symlinks that lead out are refused,
 * and so are offsets and lengths outside the file.
 *
 * Tensors of LLM-sized models pass 2 GiB: they are read in pieces (fileIo.readInto; Node 20 aborts
 * the process on a single read of 2 GiB or more) into one buffer, which this Node.js may cap
 * (buffer.constants.MAX_LENGTH, 4 GiB on Node 20): a longer tensor is ERR_NOT_SUPPORTED before
 * anything is allocated, and an allocation the machine cannot make is ERR_OUT_OF_MEMORY.
 */
import { constants as bufferConstants } from 'node:buffer';
import { realpath, stat, type FileHandle } from 'node:fs/promises';
import { isAbsolute, normalize, resolve, sep } from 'node:path';
import { ErrorCode, OnnxError } from '../core/errors.js';
import { fileIo } from '../core/file-io.js';
import { DataLocation, type ModelProto, type TensorProto } from './proto.js';
import { forEachStoredTensor } from './graph.js';
import { tensorByteLength } from './tensor-data.js';

/** Where one tensor's bytes are, as the model states it. */
export interface ExternalDataReference {
  location: string;
  offset: number;
  /** null when the model leaves it out (then: to the end of the file). */
  length: number | null;
}

function invalid(message: string): OnnxError {
  return new OnnxError(ErrorCode.ONNX, message);
}

function parseNonNegative(value: string, key: string, tensorName: string): number {
  const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(parsed)) {
    throw invalid(
      `Expected a non-negative integer for external data "${key}" of tensor "${tensorName}" but received ${JSON.stringify(value)}`,
    );
  }
  return parsed;
}

/** The external data entries of `tensor`, checked for shape (not yet for safety). */
export function externalDataReference(tensor: TensorProto): ExternalDataReference {
  let location: string | undefined;
  let offset = 0;
  let length: number | null = null;
  for (const { key, value } of tensor.externalData) {
    if (key === 'location') location = value;
    else if (key === 'offset') offset = parseNonNegative(value, key, tensor.name);
    else if (key === 'length') length = parseNonNegative(value, key, tensor.name);
  }
  if (location === undefined || location === '') {
    throw invalid(
      `Expected a "location" entry in the external data of tensor "${tensor.name}" but received ${location === undefined ? 'none' : 'an empty string'}`,
    );
  }
  return { location, offset, length };
}

function isInside(folder: string, candidate: string): boolean {
  return candidate.startsWith(folder.endsWith(sep) ? folder : folder + sep);
}

/**
 * The real path of an external data file, refused unless it resolves inside `baseDir` (after
 * following symlinks) and is a regular file.
 */
export async function resolveExternalDataPath(baseDir: string, location: string, tensorName: string): Promise<string> {
  const refuse = (why: string) =>
    invalid(
      `Expected an external data location inside the model's folder ${baseDir} for tensor "${tensorName}" but received ${JSON.stringify(location)} (${why})`,
    );
  if (location.includes('\0')) throw refuse('it contains a NUL byte');
  if (isAbsolute(location) || /^[a-zA-Z]:[\\/]/.test(location) || location.startsWith('\\\\')) throw refuse('an absolute path');
  const normalized = normalize(location.replaceAll('\\', '/'));
  if (normalized === '..' || normalized.startsWith(`..${sep}`) || normalized.split(sep).includes('..'))
    throw refuse('it escapes the folder with ..');
  const folder = await realpath(baseDir);
  let real: string;
  try {
    real = await realpath(resolve(folder, normalized));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw invalid(
      `Expected an external data file at ${JSON.stringify(location)} for tensor "${tensorName}" but received ${code === 'ENOENT' ? 'no such file' : String(code ?? error)} in ${baseDir}`,
    );
  }
  if (!isInside(folder, real)) throw refuse(`a symlink leads out to ${real}`);
  const info = await stat(real);
  if (!info.isFile()) throw refuse('it is not a regular file');
  return real;
}

/** Where one external tensor's bytes are, resolved and checked against the file's size. */
interface LocatedData {
  path: string;
  offset: number;
  length: number;
}

/** Resolves and bounds-checks external tensors, statting each file once. */
class ExternalLocator {
  readonly #sizes = new Map<string, number>();
  constructor(readonly baseDir: string) {}

  async locate(tensor: TensorProto): Promise<LocatedData> {
    const reference = externalDataReference(tensor);
    const path = await resolveExternalDataPath(this.baseDir, reference.location, tensor.name);
    let size = this.#sizes.get(path);
    if (size === undefined) {
      size = (await stat(path)).size;
      this.#sizes.set(path, size);
    }
    const expected = tensorByteLength(tensor);
    if (reference.offset > size) {
      throw invalid(
        `Expected external data for tensor "${tensor.name}" within ${reference.location} (${size} bytes) but received offset ${reference.offset}, past its end`,
      );
    }
    const length = reference.length ?? size - reference.offset;
    if (length > size - reference.offset) {
      throw invalid(
        `Expected external data for tensor "${tensor.name}" within ${reference.location} (${size} bytes) but received offset ${reference.offset} and length ${length}, which end at byte ${reference.offset + length}`,
      );
    }
    if (length !== expected) {
      throw invalid(
        `Expected ${expected} bytes of external data for tensor "${tensor.name}" (from its dims and type) but received a length of ${length}`,
      );
    }
    return { path, offset: reference.offset, length };
  }
}

/** Reads located bytes, opening each file once. */
class ExternalReader {
  readonly #handles = new Map<string, Promise<FileHandle>>();

  async read(location: LocatedData, tensorName: string): Promise<Uint8Array<ArrayBuffer>> {
    if (location.length > bufferConstants.MAX_LENGTH) {
      throw new OnnxError(
        ErrorCode.NOT_SUPPORTED,
        `Expected external data of at most ${bufferConstants.MAX_LENGTH} bytes (the largest buffer of this Node.js) for tensor "${tensorName}" but received ${location.length} bytes; read the model with loadExternalData: false, or give its path to a runtime that reads the data itself`,
      );
    }
    let opened = this.#handles.get(location.path);
    if (!opened) {
      opened = fileIo.open(location.path, 'r');
      this.#handles.set(location.path, opened);
    }
    const handle = await opened;
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = new Uint8Array(location.length);
    } catch (error) {
      throw new OnnxError(
        ErrorCode.OUT_OF_MEMORY,
        `Cannot allocate ${location.length} bytes for the external data of tensor "${tensorName}": ${(error as Error).message}`,
        { cause: error },
      );
    }
    const filled = await fileIo.readInto(handle, bytes, location.offset);
    if (filled < location.length)
      throw invalid(`External data file ${location.path} ended early while reading tensor "${tensorName}"`);
    return bytes;
  }

  async close(): Promise<void> {
    for (const opened of this.#handles.values())
      await opened.then(
        (handle) => handle.close(),
        () => undefined,
      );
  }
}

/** Every stored tensor whose data is external. */
export function externalTensors(model: ModelProto): TensorProto[] {
  const tensors: TensorProto[] = [];
  forEachStoredTensor(model, (tensor) => {
    if (tensor.dataLocation === DataLocation.EXTERNAL) tensors.push(tensor);
  });
  return tensors;
}

function requireBaseDir(tensors: TensorProto[], baseDir: string | null, sourceName: string): string {
  if (baseDir !== null) return baseDir;
  throw invalid(
    `Expected a model path or options.baseDir for ${sourceName}, whose tensor "${tensors[0]!.name}" has external data, but received only bytes`,
  );
}

/**
 * Checks that every external tensor resolves safely inside `baseDir` and lies within its file,
 * without reading the data (for runtimes that read it themselves).
 */
export async function checkExternalData(model: ModelProto, baseDir: string | null, sourceName: string): Promise<void> {
  const tensors = externalTensors(model);
  if (tensors.length === 0) return;
  const locator = new ExternalLocator(requireBaseDir(tensors, baseDir, sourceName));
  for (const tensor of tensors) await locator.locate(tensor);
}

/**
 * Reads every external tensor into raw_data (so the model is self-contained in memory). `baseDir`
 * is the model's folder; models built from bytes have none and cannot resolve external data.
 */
export async function loadExternalData(model: ModelProto, baseDir: string | null, sourceName: string): Promise<void> {
  const tensors = externalTensors(model);
  if (tensors.length === 0) return;
  const locator = new ExternalLocator(requireBaseDir(tensors, baseDir, sourceName));
  const reader = new ExternalReader();
  try {
    const located = [];
    for (const tensor of tensors) located.push(await locator.locate(tensor));
    for (let index = 0; index < tensors.length; index++) {
      const tensor = tensors[index]!;
      tensor.rawData = await reader.read(located[index]!, tensor.name);
      tensor.externalData = [];
      tensor.dataLocation = DataLocation.DEFAULT;
    }
  } finally {
    await reader.close();
  }
}
