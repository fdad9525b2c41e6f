/**
 * "Did you mean" for flags a command does not have. Edit distance finds typos (`--duraton`); it
 * cannot know that `--profile` or trtexec's `--minShapes` mean our `--shape`, or that `--fp16` is
 * `--precision fp16`. This table does: each entry lists the spellings people bring from other tools
 * (trtexec, onnxruntime_perf_test) and other commands, and the flag (with a value, where the
 * spelling implies one) that says it here. A suggestion is made only when the command has that flag.
 */
import { closestMatch } from '../core/validate.js';

interface FlagAlias {
  /** Our flag, without dashes. */
  flag: string;
  /** What to type, when more than the flag (`--precision fp16`). */
  usage?: string;
  /** Why, when the flag alone would puzzle (`--shapes` was renamed). */
  note?: string;
}

const shapeGrammar = '--shape takes NAME:DIMxDIM..., or NAME:MIN/OPT/MAX for optimization profile bounds, in every command';

/** Other spellings, lower-case with dashes (camelCase is folded: minShapes -> min-shapes). */
const aliases: Record<string, FlagAlias[]> = {
  shapes: [{ flag: 'shape', note: `--shapes was renamed: ${shapeGrammar}` }],
  profile: [{ flag: 'shape', note: shapeGrammar }],
  profiles: [{ flag: 'shape', note: shapeGrammar }],
  'min-shapes': [
    { flag: 'shape', usage: '--shape NAME:MIN/OPT/MAX', note: 'min, opt and max shapes go in one --shape per input' },
  ],
  'opt-shapes': [
    { flag: 'shape', usage: '--shape NAME:MIN/OPT/MAX', note: 'min, opt and max shapes go in one --shape per input' },
  ],
  'max-shapes': [
    { flag: 'shape', usage: '--shape NAME:MIN/OPT/MAX', note: 'min, opt and max shapes go in one --shape per input' },
  ],
  'input-shape': [{ flag: 'shape' }],
  'input-shapes': [{ flag: 'shape' }],
  dims: [{ flag: 'shape' }],
  fp16: [{ flag: 'precision', usage: '--precision fp16' }],
  int8: [{ flag: 'precision', usage: '--precision int8' }],
  fp32: [{ flag: 'precision', usage: '--precision fp32' }],
  half: [{ flag: 'precision', usage: '--precision fp16' }],
  best: [{ flag: 'precision', usage: '--precision int8' }],
  out: [{ flag: 'output' }, { flag: 'output-dir' }],
  output: [{ flag: 'out' }, { flag: 'output-dir' }],
  'out-dir': [{ flag: 'output-dir' }, { flag: 'out' }],
  'save-engine': [{ flag: 'output' }],
  'output-file': [{ flag: 'output' }],
  outfile: [{ flag: 'output' }],
  'batch-size': [{ flag: 'batch' }],
  bs: [{ flag: 'batch' }, { flag: 'batch-size' }],
  batch: [{ flag: 'batch-size' }],
  gpu: [{ flag: 'device' }],
  gpus: [{ flag: 'device' }],
  'cuda-device': [{ flag: 'device' }],
  'cpu-threads': [{ flag: 'threads' }],
  'num-threads': [{ flag: 'threads' }],
  'intra-op-threads': [{ flag: 'threads' }],
  iters: [{ flag: 'iterations' }],
  'warm-up': [{ flag: 'warmup' }],
  'use-cuda-graph': [{ flag: 'cuda-graph', usage: '--cuda-graph on' }],
  'cuda-graphs': [{ flag: 'cuda-graph' }],
  'no-data-transfers': [{ flag: 'transfers', usage: '--transfers off' }],
  'mem-pool-size': [{ flag: 'workspace' }],
  'workspace-size': [{ flag: 'workspace' }],
  'timing-cache-file': [{ flag: 'timing-cache' }],
  'builder-optimization-level': [{ flag: 'opt-level' }],
  'optimization-level': [{ flag: 'opt-level' }],
  'hardware-compatibility-level': [{ flag: 'hardware-compatibility' }],
  calib: [{ flag: 'calibration' }],
  'calibration-data': [{ flag: 'calibration' }],
  'calib-table': [{ flag: 'table' }],
  'calibration-table': [{ flag: 'table' }],
  'load-inputs': [{ flag: 'input' }, { flag: 'inputs' }],
  inputs: [{ flag: 'input' }],
  input: [{ flag: 'inputs' }],
  provider: [{ flag: 'backend' }],
  'execution-provider': [{ flag: 'backend' }],
  streams: [{ flag: 'concurrency' }],
  'infer-streams': [{ flag: 'concurrency' }],
  percentiles: [{ flag: 'percentile' }],
};

/** `minShapes` and `min_shapes` to `min-shapes`. */
function fold(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/_/g, '-')
    .toLowerCase();
}

/** What to suggest for an unknown flag: what to type, and why when that needs saying. */
export interface FlagSuggestion {
  /** `--duration`, `--precision fp16`. */
  usage: string;
  note?: string;
}

/** The suggestion for an unknown `--name` among a command's `known` flags, or undefined. */
export function suggestFlag(name: string, known: readonly string[]): FlagSuggestion | undefined {
  const folded = fold(name);
  if (folded !== name && known.includes(folded)) return { usage: `--${folded}` };
  const alias = aliases[folded]?.find((entry) => known.includes(entry.flag));
  if (alias) return { usage: alias.usage ?? `--${alias.flag}`, ...(alias.note ? { note: alias.note } : {}) };
  const typo = closestMatch(folded, known);
  if (typo) return { usage: `--${typo}` };
  // A unique prefix: --prec for --precision.
  const prefixed = folded.length >= 3 ? known.filter((flag) => flag.startsWith(folded)) : [];
  return prefixed.length === 1 ? { usage: `--${prefixed[0]}` } : undefined;
}

/** " (did you mean --x? why)" for a message, or "". */
export function didYouMean(suggestion: FlagSuggestion | undefined): string {
  return suggestion ? ` (did you mean ${suggestion.usage}?${suggestion.note ? ` ${suggestion.note}` : ''})` : '';
}
