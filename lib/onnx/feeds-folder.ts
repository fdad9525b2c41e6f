/**
 * Folders of input samples, as the CLI and calibration read them. Entries are taken in name order,
 * each one sample:
 * - a subfolder holding one `<input name>.npy` or `<input name>.json` per model input;
 * - a `.json` file mapping input names to JSON tensors (`{ "x": { "dtype", "shape", "data" } }`);
 * - a `.npy` file, for models with a single input.
 * Input names that are not valid file names can only come through .json files.
 *
 * A folder of samples may come from someone else: what it lists is read only when it resolves, after
 * symlinks, to a regular file inside the folder (a symlink to /etc/shadow or a FIFO named x.npy is
 * refused before anything is opened), and read failures are typed errors.
 */
import { readFile, readdir, realpath, stat } from 'node:fs/promises';
import { extname, join, sep } from 'node:path';
import type { TensorInfo, TensorMap } from '../core/tensors.js';
import { ErrorCode, OnnxError } from '../core/errors.js';
import { parseNpy, tensorFromJson } from './npy.js';

function ioError(message: string, cause?: unknown): OnnxError {
  return new OnnxError(ErrorCode.IO, message, cause === undefined ? {} : { cause });
}

function errnoText(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT'
    ? 'a path that does not exist'
    : code === 'ERR_FS_FILE_TOO_LARGE'
      ? 'a file over 2 GiB'
      : `an error (${code ?? String(error)})`;
}

/** Reads a file, with failures (missing, unreadable, over 2 GiB) as ERR_IO naming `label`. */
async function readBytes(path: string, label: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw ioError(`Expected a readable sample file for ${label} but received ${errnoText(error)}`, error);
  }
}

/**
 * `name` inside `folder`, refused unless it resolves (following symlinks) inside the folder's real
 * path and is a regular file or, with `allowFolder`, a folder.
 */
async function confinedEntry(folder: string, name: string, allowFolder: boolean): Promise<{ path: string; isFolder: boolean }> {
  const path = join(folder, name);
  let real: string;
  let root: string;
  try {
    [root, real] = await Promise.all([realpath(folder), realpath(path)]);
  } catch (error) {
    throw ioError(`Expected a readable sample at ${path} but received ${errnoText(error)}`, error);
  }
  if (!real.startsWith(root.endsWith(sep) ? root : root + sep)) {
    throw ioError(`Expected samples inside ${folder} but received ${path}, a symlink that leads out of the folder to ${real}`);
  }
  const info = await stat(real);
  if (info.isDirectory() && allowFolder) return { path, isFolder: true };
  if (!info.isFile())
    throw ioError(
      `Expected a regular file for the sample ${path} but received ${info.isDirectory() ? 'a folder' : 'a special file (FIFO, socket or device)'}`,
    );
  return { path, isFolder: false };
}

async function readTensorFile(path: string, label: string): Promise<TensorMap[string]> {
  const bytes = await readBytes(path, label);
  if (extname(path) === '.npy') return parseNpy(bytes, label);
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new OnnxError(
      ErrorCode.IO,
      `Expected JSON for ${label} but received text that does not parse (${(error as Error).message})`,
    );
  }
  return tensorFromJson(parsed, label);
}

/** Reads one sample from a file or subfolder (see the module comment). */
export async function readSample(path: string, inputs: readonly TensorInfo[]): Promise<TensorMap> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    throw ioError(`Expected a sample file or folder for ${path} but received ${errnoText(error)}`, error);
  }
  if (info.isDirectory()) {
    const files = await readdir(path);
    const sample: TensorMap = {};
    for (const input of inputs) {
      const file = files.find((name) => name === `${input.name}.npy` || name === `${input.name}.json`);
      if (!file)
        throw new OnnxError(
          ErrorCode.IO,
          `Expected ${input.name}.npy or ${input.name}.json in ${path} for input "${input.name}" but received ${files.length ? files.join(', ') : 'an empty folder'}`,
        );
      const entry = await confinedEntry(path, file, false);
      sample[input.name] = await readTensorFile(entry.path, entry.path);
    }
    return sample;
  }
  if (extname(path) === '.npy') {
    if (inputs.length !== 1)
      throw new OnnxError(
        ErrorCode.IO,
        `Expected a subfolder or .json file per sample for a model with ${inputs.length} inputs but received ${path}`,
      );
    return { [inputs[0]!.name]: parseNpy(await readBytes(path, path), path) };
  }
  if (!info.isFile())
    throw ioError(
      `Expected a regular file or a folder for the sample ${path} but received a special file (FIFO, socket or device)`,
    );
  const text = (await readBytes(path, path)).toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new OnnxError(
      ErrorCode.IO,
      `Expected JSON for ${path} but received text that does not parse (${(error as Error).message})`,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new OnnxError(
      ErrorCode.IO,
      `Expected an object of input name to tensor in ${path} but received ${Array.isArray(parsed) ? 'an array' : typeof parsed}`,
    );
  if ('dtype' in parsed && 'data' in parsed && inputs.length === 1) return { [inputs[0]!.name]: tensorFromJson(parsed, path) };
  const sample: TensorMap = {};
  for (const [name, value] of Object.entries(parsed)) sample[name] = tensorFromJson(value, `${path} "${name}"`);
  return sample;
}

/** The sample paths of a folder, in name order (hidden files skipped). */
export async function samplePaths(folder: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(folder);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new OnnxError(
      ErrorCode.IO,
      `Expected a readable folder of samples for ${folder} but received ${code === 'ENOENT' ? 'a path that does not exist' : code === 'ENOTDIR' ? 'a file' : String(code)}`,
    );
  }
  const paths: string[] = [];
  for (const entry of entries.sort()) {
    if (entry.startsWith('.')) continue;
    const isSampleFile = entry.endsWith('.npy') || entry.endsWith('.json');
    // Only names that could be samples are resolved: other files in the folder are not our business.
    if (!isSampleFile && !(await stat(join(folder, entry)).catch(() => undefined))?.isDirectory()) continue;
    const { path } = await confinedEntry(folder, entry, true);
    paths.push(path);
  }
  return paths;
}

/** Every sample of a folder, read lazily. */
export async function* readSamplesFolder(folder: string, inputs: readonly TensorInfo[]): AsyncGenerator<TensorMap> {
  for (const path of await samplePaths(folder)) yield await readSample(path, inputs);
}
