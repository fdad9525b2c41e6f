/**
 * Parsing of the tensor-related CLI arguments shared by convert, quantize, compare and run:
 * `--calibration random:32`, `--input name=path`, comma lists.
 */
import { ArgumentRangeError, ArgumentTypeError } from '../core/errors.js';
import type { RandomCalibration } from '../precision/calibration-data.js';

/** Said whenever `--calibration random:N` is used: the scales it gives fit noise, not the model's inputs. */
export const RANDOM_CALIBRATION_WARNING =
  '--calibration random:N calibrates on random data, whose value ranges are not those of real inputs, so the INT8 scales (and the accuracy) will be poor; use a folder of real samples for a model you deploy';

/** `random:N` to a generated-data source, anything else is a folder path. */
export function parseCalibration(value: string, seed: number, range: [number, number]): string | RandomCalibration {
  const match = /^random:(\d+)$/.exec(value);
  if (!match) {
    if (value.startsWith('random'))
      throw new ArgumentTypeError(
        `Expected random:N (a positive count) or a folder for --calibration but received ${JSON.stringify(value)}`,
      );
    return value;
  }
  const count = Number(match[1]);
  if (count < 1)
    throw new ArgumentRangeError(
      `Expected at least one calibration sample for --calibration but received ${JSON.stringify(value)}`,
    );
  return { random: count, seed, low: range[0], high: range[1] };
}

/** `--range -1,1` to [-1, 1]. */
export function parseRange(value: string | undefined, fallback: [number, number]): [number, number] {
  if (value === undefined) return fallback;
  const parts = value.split(',').map((part) => Number(part.trim()));
  if (parts.length !== 2 || parts.some((part) => !Number.isFinite(part)) || !(parts[1]! > parts[0]!)) {
    throw new ArgumentTypeError(
      `Expected LOW,HIGH with LOW < HIGH (e.g. -1,1) for --range but received ${JSON.stringify(value)}`,
    );
  }
  return [parts[0]!, parts[1]!];
}

/** A comma-separated list, empty entries dropped. */
export function parseList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

/** A number option (`--atol 1e-3`). */
export function parseNumber(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed))
    throw new ArgumentTypeError(`Expected a number for --${name} but received ${JSON.stringify(value)}`);
  return parsed;
}

/** A positive integer option (`--threads 2`). */
export function parseCount(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new ArgumentTypeError(`Expected a positive integer for --${name} but received ${JSON.stringify(value)}`);
  return Number(value);
}
