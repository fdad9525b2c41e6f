import { createCpuBackend, type CpuBackend } from '../../backends/cpu/backend.js';
import type { TensorMap } from '../../core/tensors.js';
import { ArgumentTypeError } from '../../core/errors.js';
import { generateFeeds } from '../../precision/calibration-data.js';
import { compare, type CompareReport } from '../../precision/compare.js';
import { readSamplesFolder } from '../../onnx/feeds-folder.js';
import type { Command } from '../command.js';
import { parseCount, parseNumber, parseRange } from '../tensor-args.js';
import { parseShapes } from '../../core/shape-spec.js';

interface CompareValues {
  inputs?: string;
  atol?: string;
  rtol?: string;
  shape?: string[];
  seed?: string;
  range?: string;
  samples?: string;
  threads?: string;
  json?: boolean;
}

const usage =
  'compare <reference.onnx> <candidate.onnx> [--inputs <dir>] [--atol 1e-3] [--rtol 1e-3] [--shape x:1x3x320x320] [--json]';

function formatReport(report: CompareReport): string {
  const lines = [report.verdict];
  for (const output of report.outputs) {
    lines.push(`  ${output.pass ? 'ok  ' : 'FAIL'} ${output.name} [${output.shape.join(', ')}]`);
    lines.push(
      `       max abs ${output.maxAbsError.toExponential(3)}, mean abs ${output.meanAbsError.toExponential(3)}, max rel ${output.maxRelError.toExponential(3)}, rel L2 ${output.relativeL2Error.toExponential(3)}`,
    );
    lines.push(
      `       cosine ${output.cosine.toFixed(6)}${output.argmaxAgreement === null ? '' : `, argmax agreement ${(output.argmaxAgreement * 100).toFixed(2)}%`}, ${output.mismatches} of ${output.elements} outside tolerance`,
    );
    const nonFinite = output.reference.nan + output.reference.inf + output.candidate.nan + output.candidate.inf;
    if (nonFinite)
      lines.push(
        `       NaN/Inf: reference ${output.reference.nan}/${output.reference.inf}, candidate ${output.candidate.nan}/${output.candidate.inf}`,
      );
  }
  return `${lines.join('\n')}\n`;
}

/** `tensorrt-node compare`: how far a converted or quantized model is from its reference. */
export const compareCommand: Command<CompareValues> = {
  name: 'compare',
  usage,
  help: [
    '  --inputs <dir>           samples (.npy/.json; docs/onnx-and-precision.md); default: generated data',
    '  --atol <x>, --rtol <x>   pass when |b - a| <= atol + rtol * |a| everywhere (default 1e-3 each)',
    '  --shape <name:AxB>       concrete shape of a dynamic input for generated data (repeatable)',
    '  --samples <n>            generated samples (default 1); --seed <n>, --range <lo,hi> as for quantize',
    '  --threads <n>            onnxruntime intra-op threads per model',
    '  --json                   print the report as JSON',
  ].join('\n'),
  options: {
    inputs: { type: 'string' },
    atol: { type: 'string' },
    rtol: { type: 'string' },
    shape: { type: 'string', multiple: true },
    seed: { type: 'string' },
    range: { type: 'string' },
    samples: { type: 'string' },
    threads: { type: 'string' },
    json: { type: 'boolean' },
  },
  positionals: true,
  async run(values, positionals, { stdout }) {
    if (positionals.length !== 2)
      throw new ArgumentTypeError(
        `Expected two model paths for \`tensorrt-node compare\` but received ${positionals.length}. Usage: tensorrt-node ${usage}`,
      );
    const atol = parseNumber(values.atol, 'atol');
    const rtol = parseNumber(values.rtol, 'rtol');
    const threads = parseCount(values.threads, 'threads');
    const cpu = threads === undefined ? undefined : { intraOpNumThreads: threads };
    const shapes = parseShapes(values.shape);
    const [low, high] = parseRange(values.range, [-1, 1]);
    const random = { random: parseCount(values.samples, 'samples') ?? 1, seed: parseCount(values.seed, 'seed') ?? 1, low, high };
    const backends: CpuBackend[] = [];
    try {
      const reference = await createCpuBackend(positionals[0]!, cpu);
      backends.push(reference);
      const candidate = await createCpuBackend(positionals[1]!, cpu);
      backends.push(candidate);
      const inputs: Iterable<TensorMap> | AsyncIterable<TensorMap> = values.inputs
        ? readSamplesFolder(values.inputs, reference.inputs)
        : generateFeeds(reference.inputs, random, shapes);
      const report = await compare(reference, candidate, inputs, { atol, rtol });
      stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
      return report.pass ? 0 : 1;
    } finally {
      await Promise.all(backends.map((backend) => backend.dispose()));
    }
  },
};
