/**
 * The model repository, laid out as Triton's:
 *
 *   <repository>/<model>/config.json|config.yaml      optional (./model-config.ts)
 *   <repository>/<model>/<version>/model.onnx         or model.plan (a TensorRT engine)
 *
 * Version folders are positive integers; which ones are served is the config's `versions` (the
 * highest by default). Model names are restricted to what is safe in a URL, a metric label and a
 * path (no "..", no separators), since the repository API takes them from clients.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ArgumentRangeError, ErrorCode, TensorRTNodeError } from '../core/errors.js';
import { describeValue } from '../core/validate.js';
import { loadModelConfig, type ModelConfig } from './model-config.js';

export const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const VERSION_FOLDER = /^[1-9]\d{0,8}$/;
export const MODEL_FILES = { 'model.onnx': 'onnx', 'model.plan': 'engine' } as const;

export interface ModelVersionSource {
  version: number;
  /** The model.onnx or model.plan file. */
  path: string;
  format: 'onnx' | 'engine';
}

export interface ModelSource {
  name: string;
  /** The model's folder (null for a model given as a file, outside any repository). */
  folder: string | null;
  config: ModelConfig;
  /** The versions to serve, lowest first. */
  versions: ModelVersionSource[];
}

export function checkModelName(name: unknown, field = 'model name'): string {
  if (typeof name !== 'string' || !MODEL_NAME.test(name) || name.includes('..')) {
    throw new ArgumentRangeError(
      `Expected a ${field} of letters, digits, "_", "-" and "." (starting with a letter or digit, at most 128) but received ${describeValue(name)}`,
      ErrorCode.INVALID_ARGUMENT,
    );
  }
  return name;
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The model folders of a repository, sorted (folders whose names are not model names are skipped). */
export function listRepository(root: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch (error) {
    throw new TensorRTNodeError(ErrorCode.IO, `Cannot read the model repository ${root}: ${(error as Error).message}`, {
      cause: error,
      details: { repository: root },
    });
  }
  return entries.filter((name) => MODEL_NAME.test(name) && isFolder(join(root, name))).sort();
}

function versionSource(folder: string, label: string, version: number): ModelVersionSource {
  const versionFolder = join(folder, String(version));
  const files = Object.keys(MODEL_FILES).filter((file) => existsSync(join(versionFolder, file))) as (keyof typeof MODEL_FILES)[];
  if (files.length !== 1) {
    throw new ArgumentRangeError(
      `Expected one of ${Object.keys(MODEL_FILES).join(' or ')} in ${label}/${version}/ but received ${files.length === 0 ? 'neither' : 'both'}`,
      ErrorCode.INVALID_ARGUMENT,
    );
  }
  return { version, path: join(versionFolder, files[0]!), format: MODEL_FILES[files[0]!] };
}

/** Reads one model of the repository: its config and the versions its policy selects. */
export async function readRepositoryModel(root: string, name: string): Promise<ModelSource> {
  checkModelName(name);
  const folder = join(root, name);
  if (!isFolder(folder))
    throw new TensorRTNodeError(
      ErrorCode.INVALID_ARGUMENT,
      `Expected a model folder for "${name}" in the repository but received none`,
      { details: { model: name } },
    );
  const config = await loadModelConfig(folder, name);
  const available = readdirSync(folder)
    .filter((entry) => VERSION_FOLDER.test(entry) && isFolder(join(folder, entry)))
    .map(Number)
    .sort((a, b) => a - b);
  if (available.length === 0)
    throw new ArgumentRangeError(
      `Expected at least one version folder (1/, 2/, ...) with a model in ${name}/ but received none`,
      ErrorCode.INVALID_ARGUMENT,
    );
  const policy = config.versions ?? 'latest';
  let selected: number[];
  if (policy === 'latest') selected = [available.at(-1)!];
  else if (policy === 'all') selected = available;
  else {
    const missing = policy.filter((version) => !available.includes(version));
    if (missing.length > 0)
      throw new ArgumentRangeError(
        `Expected version folders ${missing.join(', ')} (config "versions") in ${name}/ but received only ${available.join(', ')}`,
        ErrorCode.INVALID_ARGUMENT,
      );
    selected = [...new Set(policy)].sort((a, b) => a - b);
  }
  return { name, folder, config, versions: selected.map((version) => versionSource(folder, name, version)) };
}
