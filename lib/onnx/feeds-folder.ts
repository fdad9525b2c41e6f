/**
 * Folders of input samples, as the CLI and calibration read them. Entries are taken in name order,
 * each one sample:
 * - a subfolder holding one `<input name>.npy` or `<input name>.json` per model input;
 * - a `.json` file mapping input names to JSON tensors (`{ "x": { "dtype", "shape", "data" } }`);
 * - a `.npy` file, for models with a single input.
 * Input names that are not valid file names can only come through .json files.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { TensorInfo, TensorMap } from '../backends/backend.js';
import { ErrorCode, OnnxError } from '../errors.js';
import { parseNpy, tensorFromJson } from './npy.js';

async function readTensorFile(path: string, label: string): Promise<TensorMap[string]> {
  const bytes = await readFile(path);
  if (extname(path) === '.npy') return parseNpy(bytes, label);
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new OnnxError(ErrorCode.IO, `Expected JSON for ${label} but received text that does not parse (${(error as Error).message})`);
  }
  return tensorFromJson(parsed, label);
}

/** Reads one sample from a file or subfolder (see the module comment). */
export async function readSample(path: string, inputs: readonly TensorInfo[]): Promise<TensorMap> {
  const info = await stat(path);
  if (info.isDirectory()) {
    const files = await readdir(path);
    const sample: TensorMap = {};
    for (const input of inputs) {
      const file = files.find((name) => name === `${input.name}.npy` || name === `${input.name}.json`);
      if (!file) throw new OnnxError(ErrorCode.IO, `Expected ${input.name}.npy or ${input.name}.json in ${path} for input "${input.name}" but received ${files.length ? files.join(', ') : 'an empty folder'}`);
      sample[input.name] = await readTensorFile(join(path, file), `${join(path, file)}`);
    }
    return sample;
  }
  if (extname(path) === '.npy') {
    if (inputs.length !== 1) throw new OnnxError(ErrorCode.IO, `Expected a subfolder or .json file per sample for a model with ${inputs.length} inputs but received ${path}`);
    return { [inputs[0]!.name]: parseNpy(await readFile(path), path) };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new OnnxError(ErrorCode.IO, `Expected JSON for ${path} but received text that does not parse (${(error as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new OnnxError(ErrorCode.IO, `Expected an object of input name to tensor in ${path} but received ${Array.isArray(parsed) ? 'an array' : typeof parsed}`);
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
    throw new OnnxError(ErrorCode.IO, `Expected a readable folder of samples for ${folder} but received ${code === 'ENOENT' ? 'a path that does not exist' : code === 'ENOTDIR' ? 'a file' : String(code)}`);
  }
  const paths: string[] = [];
  for (const entry of entries.sort()) {
    if (entry.startsWith('.')) continue;
    const path = join(folder, entry);
    if ((await stat(path)).isDirectory() || entry.endsWith('.npy') || entry.endsWith('.json')) paths.push(path);
  }
  return paths;
}

/** Every sample of a folder, read lazily. */
export async function* readSamplesFolder(folder: string, inputs: readonly TensorInfo[]): AsyncGenerator<TensorMap> {
  for (const path of await samplePaths(folder)) yield await readSample(path, inputs);
}
