/**
 * The accuracy-target arguments shared by `convert` and `quantize`: `--target cos=0.9995,abs=1e-2`,
 * `--samples dir|random:N`, `--max-time 5m`, and the progress lines of the search.
 */
import { ArgumentRangeError, ArgumentTypeError } from '../core/errors.js';
import type { InputShapes } from '../core/shape-spec.js';
import { parseDuration } from '../core/units.js';
import { valueInfoShape } from '../onnx/graph.js';
import type { OnnxModel } from '../onnx/model.js';
import { describeMeasure, type AccuracyTarget } from '../precision/accuracy.js';
import type { RandomCalibration } from '../precision/calibration-data.js';
import type { MixedPrecisionReport } from '../precision/mixed-precision.js';
import type { SearchProgress } from '../precision/search.js';
import { parseCalibration } from './tensor-args.js';

export const accuracyHelp = [
  '  --target <cos=X[,abs=Y]>   keep the fewest nodes in the higher precision that meet this accuracy against the',
  '                             float32 model: cosine >= X and/or max abs difference <= Y on every output',
  '  --samples <dir|random:N>   the samples --target is measured on (default random:8; random needs --shape for dynamic inputs)',
  '  --max-time <duration>      bound the search (default 10m); the best result found by then is written',
];

/** `cos=0.9995,abs=1e-2` to { minCosine, maxAbs }. */
export function parseTarget(value: string): Pick<AccuracyTarget, 'minCosine' | 'maxAbs'> {
  const target: Pick<AccuracyTarget, 'minCosine' | 'maxAbs'> = {};
  for (const part of value.split(',')) {
    const match = /^\s*(cos|abs)\s*=\s*([^\s]+)\s*$/.exec(part);
    const number = match ? Number(match[2]) : NaN;
    if (!match || match[2]!.trim() === '' || !Number.isFinite(number)) {
      throw new ArgumentTypeError(
        `Expected cos=<number> and/or abs=<number> (e.g. cos=0.9995 or cos=0.999,abs=1e-2) for --target but received ${JSON.stringify(value)}`,
      );
    }
    if (match[1] === 'cos') {
      if (number < -1 || number > 1)
        throw new ArgumentRangeError(`Expected a cosine between -1 and 1 for --target cos but received ${number}`);
      target.minCosine = number;
    } else {
      if (number < 0)
        throw new ArgumentRangeError(`Expected a non-negative max abs difference for --target abs but received ${number}`);
      target.maxAbs = number;
    }
  }
  return target;
}

/**
 * The samples for --target (default random:8), checked against the model: generated samples need a
 * concrete shape for every dynamic input, which only --shape can give.
 */
export function parseAccuracySamples(
  value: string | undefined,
  model: OnnxModel,
  shapes: InputShapes | undefined,
  seed: number,
  range: [number, number],
): string | RandomCalibration {
  const samples = parseCalibration(value ?? 'random:8', seed, range);
  if (typeof samples === 'string') return samples;
  const graph = model.proto.graph!;
  const initializers = new Set(graph.initializer.map((tensor) => tensor.name));
  for (const input of graph.input) {
    if (initializers.has(input.name) || shapes?.[input.name] !== undefined) continue;
    const dims = valueInfoShape(input) ?? [];
    if (dims.some((dim) => typeof dim !== 'number' || dim < 0)) {
      throw new ArgumentRangeError(
        `Expected --shape ${input.name}:<dims> for the dynamic input "${input.name}" [${dims.map((dim) => dim ?? '?').join(', ')}] when --target measures accuracy on generated samples${value === undefined ? ' (no --samples folder given)' : ''} but received none`,
      );
    }
  }
  return samples;
}

export function parseMaxTime(value: string | undefined): number | undefined {
  return value === undefined ? undefined : parseDuration(value, '--max-time');
}

/** --target and the flags that only mean something with it (--samples, --max-time), checked together. */
export function parseAccuracyFlags(values: { target?: string; samples?: string; 'max-time'?: string }): {
  target: Pick<AccuracyTarget, 'minCosine' | 'maxAbs'> | undefined;
  maxTimeMs: number | undefined;
} {
  if (values.target === undefined) {
    for (const flag of ['samples', 'max-time'] as const) {
      if (values[flag] !== undefined)
        throw new ArgumentTypeError(
          `Expected --target with --${flag} (it sets how the accuracy target is measured) but received no --target`,
        );
    }
  }
  return {
    target: values.target === undefined ? undefined : parseTarget(values.target),
    maxTimeMs: parseMaxTime(values['max-time']),
  };
}

/** Progress of the search, one line per step (it takes seconds to minutes). */
export function searchProgressWriter(
  stream: NodeJS.WritableStream,
  target: Pick<AccuracyTarget, 'minCosine' | 'maxAbs'>,
  unit: string,
): (progress: SearchProgress) => void {
  return (progress) => {
    const figures = progress.measure ? describeMeasure(progress.measure, target) : '';
    switch (progress.phase) {
      case 'reference':
        if (progress.total !== null) stream.write(`accuracy: float32 reference computed on ${progress.total} sample(s)\n`);
        break;
      case 'full':
        stream.write(`accuracy: nothing kept: ${figures}\n`);
        break;
      case 'sensitivity':
        stream.write(`accuracy: node sensitivity ${progress.done}/${progress.total}\n`);
        break;
      case 'prune':
        // Pruning may take hundreds of probes: report those that drop nodes, and every tenth.
        if (!progress.met && progress.done % 10 !== 0) break;
        stream.write(
          `accuracy: prune probe ${progress.done}, ${progress.kept} node${progress.kept === 1 ? '' : 's'} ${unit}: ${figures}: ${progress.met ? 'meets the target' : 'misses it'}\n`,
        );
        break;
      case 'search':
        stream.write(
          `accuracy: ${progress.phase} probe ${progress.done}, ${progress.kept} node${progress.kept === 1 ? '' : 's'} ${unit}: ${figures}: ${progress.met ? 'meets the target' : 'misses it'}\n`,
        );
        break;
      case 'done':
        break;
    }
  };
}

/** The summary lines of a search for the command's report. */
export function describeSearch(accuracy: MixedPrecisionReport, unit: string): string[] {
  const lines = [
    `  target ${describeTarget(accuracy.target)}: ${accuracy.met ? 'met' : 'NOT met'}${accuracy.timedOut ? ' (search stopped at --max-time)' : ''}; ${describeMeasure(accuracy.achieved)} on ${accuracy.samples} sample(s) (nothing kept: ${describeMeasure(accuracy.full)})`,
    `  ${accuracy.kept.length} of ${accuracy.candidates} nodes ${unit} by the search after ${accuracy.probes} probes in ${accuracy.seconds} s${accuracy.kept.length ? ':' : ''}`,
  ];
  for (const node of accuracy.kept)
    lines.push(`    ${node.name} (${node.opType}), sensitivity ${node.sensitivity.toPrecision(3)}`);
  return lines;
}

export function describeTarget(target: Pick<AccuracyTarget, 'minCosine' | 'maxAbs'>): string {
  return [
    target.minCosine === undefined ? '' : `cos>=${target.minCosine}`,
    target.maxAbs === undefined ? '' : `abs<=${target.maxAbs}`,
  ]
    .filter(Boolean)
    .join(',');
}
