/**
 * Parsing and validation of `tensorrt-node bench` options, separate from the command so that it is
 * tested on its own. Every bad value is a typed error with the sharp-style message
 * ("Expected X for --option but received Y"), before anything is loaded or run.
 */
import { existsSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { ArgumentRangeError, ArgumentTypeError, CudaError, ErrorCode } from '../core/errors.js';
import { parseShapes } from '../core/shape-spec.js';
import { parseDuration } from '../core/units.js';
import { expectOneOf, invalidValue } from '../core/validate.js';
import { DEFAULT_PERCENTILES } from './statistics.js';
import { precisions as PRECISIONS, type Precision } from '../core/precision.js';
import { backendChoices as BACKEND_CHOICES, type BackendChoice } from '../session/registry.js';

export const DEFAULT_WARMUP_MS = 200;
export const DEFAULT_DURATION_MS = 3000;
export const DEFAULT_MIN_ITERATIONS = 10;
export const MAX_WARMUP_MS = 60_000;
export const MAX_DURATION_MS = 3_600_000;
export const MAX_BATCH = 4096;
export const MAX_CONCURRENCY = 1024;
export const MAX_ITERATIONS = 1_000_000_000;
export const MODEL_EXTENSIONS: readonly string[] = ['.onnx', '.engine', '.plan', '.trt'];

/** What the user asked for, validated, with defaults filled in; recorded in the results file. */
export interface BenchOptions {
  model: string | null;
  backends: BackendChoice[];
  precisions: Precision[];
  batches: number[];
  concurrencies: number[];
  /** 'all' or the device indices asked for (checked against the machine by resolveDevices). */
  device: 'all' | number[];
  warmupMs: number;
  durationMs: number;
  minIterations: number;
  percentiles: number[];
  cudaGraph: boolean;
  transfers: boolean;
  batcher: boolean;
  /** Shapes of inputs with dynamic dims (`--shape x:1x3x320x320`); the leading dim follows --batch where it is dynamic. */
  shapes: Readonly<Record<string, readonly number[]>> | null;
  json: string | null;
  exportTimes: string | null;
  trtexec: string[];
}

/** The raw option values as node:util parseArgs returns them for the bench command. */
export interface BenchOptionValues {
  backend?: string;
  precision?: string;
  batch?: string;
  concurrency?: string;
  device?: string;
  warmup?: string;
  duration?: string;
  iterations?: string;
  percentile?: string;
  'cuda-graph'?: string;
  transfers?: string;
  batcher?: boolean;
  shape?: string[];
  json?: string;
  'export-times'?: string;
  trtexec?: string[];
}

function splitList(text: string, name: string, what: string): string[] {
  const items = text.split(',').map((item) => item.trim());
  if (items.some((item) => item === '')) throw invalidValue(`a comma-separated list of ${what}`, name, text);
  return [...new Set(items)];
}

export function parseIntegerList(text: string, name: string, max: number): number[] {
  const what = `positive integers <= ${max}`;
  return splitList(text, name, what).map((item) => {
    const value = Number(item);
    if (!/^\d+$/.test(item) || !Number.isSafeInteger(value) || value < 1 || value > max)
      throw invalidValue(`${what} (comma-separated)`, name, item);
    return value;
  });
}

export function parsePositiveInteger(text: string, name: string, max: number): number {
  const value = Number(text.trim());
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < 1 || value > max)
    throw invalidValue(`a positive integer <= ${max}`, name, text);
  return value;
}

export function parsePercentiles(text: string, name = '--percentile'): number[] {
  const what = 'percentiles between 0 and 100';
  return splitList(text, name, what).map((item) => {
    const value = Number(item);
    if (!/^\d+(?:\.\d+)?$/.test(item) || value < 0 || value > 100) throw invalidValue(`${what} (comma-separated)`, name, item);
    return value;
  });
}

export function parseOnOff(text: string | undefined, name: string, fallback: boolean): boolean {
  if (text === undefined) return fallback;
  return expectOneOf(text, name, ['on', 'off'] as const) === 'on';
}

export function parseDeviceSpec(text: string | undefined): 'all' | number[] {
  if (text === undefined) return [0];
  if (text.trim() === 'all') return 'all';
  const items = text.split(',').map((item) => item.trim());
  if (items.some((item) => !/^\d+$/.test(item))) throw invalidValue('"all" or device indices such as 0 or 0,1', '--device', text);
  return [...new Set(items.map(Number))];
}

/**
 * The device indices to run on, checked against the devices this machine has. Only points that
 * need a GPU call this: the cpu backend ignores --device.
 */
export function resolveDevices(spec: 'all' | number[], deviceCount: number, whyNoDevice: string | null = null): number[] {
  if (deviceCount === 0) {
    throw new CudaError(
      ErrorCode.NO_CUDA_DEVICE,
      `--device ${spec === 'all' ? 'all' : spec.join(',')} needs a CUDA device, but this machine has none${whyNoDevice ? ` (${whyNoDevice})` : ''}; use --backend cpu, or run on a GPU host`,
    );
  }
  if (spec === 'all') return Array.from({ length: deviceCount }, (_, index) => index);
  for (const index of spec) {
    if (index >= deviceCount) {
      throw new ArgumentRangeError(
        `Expected a CUDA device index below ${deviceCount} for --device but received ${index} of type number (this machine has ${deviceCount} CUDA device${deviceCount === 1 ? '' : 's'})`,
      );
    }
  }
  return spec;
}

export function parseModelPath(positionals: readonly string[], hasTrtexec: boolean): string | null {
  if (positionals.length > 1)
    throw new ArgumentRangeError(
      `Expected one model for model but received ${positionals.length} (${positionals.map((p) => JSON.stringify(p)).join(', ')}); run one model per invocation`,
    );
  const model = positionals[0];
  if (model === undefined) {
    if (hasTrtexec) return null;
    throw new ArgumentTypeError(
      'Expected a model (an .onnx model or a serialized engine), or --trtexec <file>, for model but received undefined',
    );
  }
  if (!MODEL_EXTENSIONS.includes(extname(model).toLowerCase())) {
    throw invalidValue(
      `an .onnx model or a serialized engine (${MODEL_EXTENSIONS.filter((ext) => ext !== '.onnx').join(', ')})`,
      'model',
      model,
    );
  }
  if (!existsSync(model) || !statSync(model).isFile()) throw invalidValue('the path of an existing model file', 'model', model);
  return model;
}

export function parseBenchOptions(values: BenchOptionValues, positionals: readonly string[]): BenchOptions {
  const trtexec = values.trtexec ?? [];
  const durationGiven = values.duration !== undefined;
  return {
    model: parseModelPath(positionals, trtexec.length > 0),
    backends:
      values.backend === undefined
        ? ['auto']
        : splitList(values.backend, '--backend', 'backends').map((item) => expectOneOf(item, '--backend', BACKEND_CHOICES)),
    precisions:
      values.precision === undefined
        ? ['fp32']
        : splitList(values.precision, '--precision', 'precisions').map((item) => expectOneOf(item, '--precision', PRECISIONS)),
    batches: values.batch === undefined ? [1] : parseIntegerList(values.batch, '--batch', MAX_BATCH),
    concurrencies:
      values.concurrency === undefined ? [1] : parseIntegerList(values.concurrency, '--concurrency', MAX_CONCURRENCY),
    device: parseDeviceSpec(values.device),
    warmupMs:
      values.warmup === undefined ? DEFAULT_WARMUP_MS : parseDuration(values.warmup, '--warmup', { maxMs: MAX_WARMUP_MS }),
    // --iterations alone bounds the run by count, as asked; with --duration too, both must be met (trtexec).
    durationMs: durationGiven
      ? parseDuration(values.duration!, '--duration', { maxMs: MAX_DURATION_MS })
      : values.iterations !== undefined
        ? 0
        : DEFAULT_DURATION_MS,
    minIterations:
      values.iterations === undefined
        ? DEFAULT_MIN_ITERATIONS
        : parsePositiveInteger(values.iterations, '--iterations', MAX_ITERATIONS),
    percentiles: values.percentile === undefined ? [...DEFAULT_PERCENTILES] : parsePercentiles(values.percentile),
    cudaGraph: parseOnOff(values['cuda-graph'], '--cuda-graph', true),
    transfers: parseOnOff(values.transfers, '--transfers', true),
    batcher: values.batcher ?? false,
    shapes: parseShapes(values.shape) ?? null,
    json: values.json ?? null,
    exportTimes: values['export-times'] ?? null,
    trtexec,
  };
}
