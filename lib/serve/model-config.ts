/**
 * A model's config.json or config.yaml in the model repository, checked against
 * model-config.schema.json (beside this file): a misspelt key is refused with the closest known
 * one ("Unknown key "maxBatchsize" in batcher of mlp/config.yaml (did you mean "maxBatchSize"?)"),
 * never ignored. Messages name files relative to the repository, as they may reach a client of
 * the repository API.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { ArgumentRangeError, ErrorCode, TensorRTNodeError } from '../core/errors.js';
import { closestMatch } from '../core/validate.js';
import type { Precision } from '../core/precision.js';
import type { ProfileSpec } from '../tensorrt/profiles.js';

/** A model's dynamic batching: requests queued up to `maxDelayMs` are run together, up to `maxBatchSize` (see {@link Batcher}). */
export interface BatcherConfig {
  maxBatchSize?: number;
  maxDelayMs?: number;
  preferredBatchSizes?: number[];
}

/** A model's config.json (or config.yaml) in a repository, or `config` of a {@link ServedFile}: how it is loaded and batched. */
export interface ModelConfig {
  backend?: 'auto' | 'tensorrt' | 'cpu';
  precision?: Precision;
  /** int8: a folder of samples (relative to the model's folder) or generated samples. */
  calibration?: string | { random: number; seed?: number; low?: number; high?: number };
  profiles?: ProfileSpec[];
  contexts?: number;
  cudaGraph?: 'auto' | boolean;
  device?: number;
  /** false: no batcher; an object: its settings. Default: a batcher when the model is batchable. */
  batcher?: false | BatcherConfig;
  maxQueue?: number;
  timeoutMs?: number;
  versions?: 'latest' | 'all' | number[];
  cpu?: Record<string, unknown>;
  tensorrt?: { workspace?: number | string; optimizationLevel?: number; maxAuxStreams?: number };
}

export const CONFIG_FILES = ['config.json', 'config.yaml', 'config.yml'] as const;

const schemaUrl = new URL('./model-config.schema.json', import.meta.url);
let validator: ValidateFunction | undefined;

export function modelConfigSchema(): Record<string, unknown> {
  return JSON.parse(readFileSync(schemaUrl, 'utf8')) as Record<string, unknown>;
}

function validate(): ValidateFunction {
  // verbose: errors carry their parent schema, whose property names make the did-you-mean hints.
  validator ??= new Ajv({ allErrors: true, strict: true, verbose: true, allowUnionTypes: true }).compile(modelConfigSchema());
  return validator;
}

function where(instancePath: string): string {
  return instancePath === '' ? '' : ` in ${instancePath.slice(1).replace(/\//g, '.')}`;
}

/** The one error to report: an unknown key first (the likeliest mistake), then the most specific one. */
function describeErrors(errors: ErrorObject[], file: string): ArgumentRangeError {
  const unknown = errors.find((error) => error.keyword === 'additionalProperties');
  if (unknown) {
    const key = (unknown.params as { additionalProperty: string }).additionalProperty;
    const known = Object.keys((unknown.parentSchema as { properties?: Record<string, unknown> }).properties ?? {});
    const hint = closestMatch(key, known);
    return new ArgumentRangeError(
      `Unknown key ${JSON.stringify(key)}${where(unknown.instancePath)} of ${file}${hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ''}; known keys: ${known.join(', ')}`,
      ErrorCode.UNKNOWN_OPTION,
      { details: { file, key, suggestion: hint ?? null } },
    );
  }
  // anyOf reports each branch and then itself; the branch errors say more.
  const specific = errors.filter((error) => error.keyword !== 'anyOf');
  const error = specific[0] ?? errors[0]!;
  const allowed =
    error.keyword === 'enum'
      ? ` (one of ${(error.params as { allowedValues: unknown[] }).allowedValues.map((value) => JSON.stringify(value)).join(', ')})`
      : '';
  return new ArgumentRangeError(
    `Expected a valid model config in ${file} but${where(error.instancePath)} the value ${error.message ?? 'is invalid'}${allowed}, received ${JSON.stringify(error.data)}`,
    ErrorCode.INVALID_ARGUMENT,
    { details: { file } },
  );
}

/** Checks a parsed config document; `file` names it in messages. */
export function checkModelConfig(document: unknown, file: string): ModelConfig {
  const check = validate();
  if (!check(document)) throw describeErrors(check.errors ?? [], file);
  return document as ModelConfig;
}

/**
 * The config in `modelFolder` (config.json, config.yaml or config.yml; two of them is an error),
 * or {} when there is none. `label` is the folder's name relative to the repository.
 */
export async function loadModelConfig(modelFolder: string, label: string): Promise<ModelConfig> {
  const present = CONFIG_FILES.filter((name) => existsSync(join(modelFolder, name)));
  if (present.length === 0) return {};
  if (present.length > 1)
    throw new ArgumentRangeError(
      `Expected one config file in ${label}/ but received ${present.join(' and ')}`,
      ErrorCode.INVALID_ARGUMENT,
    );
  const name = present[0]!;
  const file = `${label}/${name}`;
  let text: string;
  try {
    text = readFileSync(join(modelFolder, name), 'utf8');
  } catch (error) {
    throw new TensorRTNodeError(ErrorCode.IO, `Cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'read error'}`, {
      cause: error,
    });
  }
  let document: unknown;
  try {
    if (name === 'config.json') {
      document = JSON.parse(text);
    } else {
      const { parse } = await import('yaml');
      // A config is small: a low alias budget refuses "billion laughs" documents.
      document = parse(text, { maxAliasCount: 16 });
    }
  } catch (error) {
    throw new ArgumentRangeError(
      `Expected valid ${name === 'config.json' ? 'JSON' : 'YAML'} in ${file} but received a syntax error: ${(error as Error).message.split('\n')[0]}`,
      ErrorCode.INVALID_ARGUMENT,
      { details: { file } },
    );
  }
  // An empty YAML file is a config with nothing set.
  return checkModelConfig(document ?? {}, file);
}
