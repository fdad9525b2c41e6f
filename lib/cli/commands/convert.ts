import { ArgumentTypeError } from '../../core/errors.js';
import { parseShapes } from '../../core/shape-spec.js';
import { expectOneOf } from '../../core/validate.js';
import { DEFAULT_FP16_BLOCKED_OPS, convertToFp16, type Fp16Options, type Fp16Report } from '../../onnx/fp16.js';
import { readModel, writeModel } from '../../onnx/model.js';
import { convertToFp16WithAccuracy, type MixedPrecisionReport } from '../../precision/mixed-precision.js';
import {
  accuracyHelp,
  describeSearch,
  parseAccuracyFlags,
  parseAccuracySamples,
  searchProgressWriter,
} from '../accuracy-args.js';
import type { Command } from '../command.js';
import { parseCount, parseList, parseRange } from '../tensor-args.js';

interface ConvertValues {
  output?: string;
  precision?: string;
  'keep-io-types'?: boolean;
  'block-op'?: string;
  'block-node'?: string;
  'keep-out-of-range'?: boolean;
  'external-data'?: boolean;
  target?: string;
  samples?: string;
  shape?: string[];
  seed?: string;
  range?: string;
  'max-time'?: string;
  threads?: string;
  json?: boolean;
}

const usage =
  'convert <in.onnx> -o <out.onnx> --precision fp16 [--target cos=0.9995 [--samples dir|random:N] [--shape x:1x3x320x320] [--max-time 10m]] [--no-keep-io-types] [--block-op A,B] [--block-node n1,n2] [--external-data] [--json]';

/** `tensorrt-node convert`: FP16 autocast of an ONNX model (optionally accuracy-targeted), written atomically. */
export const convertCommand: Command<ConvertValues> = {
  name: 'convert',
  usage,
  help: [
    '  -o, --output <file>        where to write the converted model (written atomically; nothing is written when conversion fails)',
    '  --precision fp16           the target precision (fp16 is the one conversion; INT8 is `quantize`)',
    '  --no-keep-io-types         let model inputs/outputs become float16 too',
    `  --block-op <A,B>           op types kept in FP32 (replaces the default list: ${DEFAULT_FP16_BLOCKED_OPS.join(',')})`,
    '  --block-node <n1,n2>       node names kept in FP32',
    '  --no-keep-out-of-range     convert nodes reading constants beyond +-65504 too (values clamp)',
    ...accuracyHelp,
    '  --shape <name:AxBxC>       concrete shape of a dynamic input for random samples (repeatable)',
    '  --seed <n>, --range <lo,hi>  random samples: seed (default 1) and value range (default -1,1)',
    '  --threads <n>              onnxruntime intra-op threads for the accuracy measurements',
    '  --external-data            store weights in <out>.data next to the model',
    '  --json                     print the conversion report as JSON',
  ].join('\n'),
  options: {
    output: { type: 'string', short: 'o' },
    precision: { type: 'string' },
    'keep-io-types': { type: 'boolean' },
    'block-op': { type: 'string' },
    'block-node': { type: 'string' },
    'keep-out-of-range': { type: 'boolean' },
    'external-data': { type: 'boolean' },
    target: { type: 'string' },
    samples: { type: 'string' },
    shape: { type: 'string', multiple: true },
    seed: { type: 'string' },
    range: { type: 'string' },
    'max-time': { type: 'string' },
    threads: { type: 'string' },
    json: { type: 'boolean' },
  },
  positionals: true,
  async run(values, positionals, { stdout, stderr }) {
    if (positionals.length !== 1)
      throw new ArgumentTypeError(
        `Expected one input model for \`tensorrt-node convert\` but received ${positionals.length}. Usage: tensorrt-node ${usage}`,
      );
    if (!values.output)
      throw new ArgumentTypeError(
        `Expected an output path (-o <out.onnx>) for \`tensorrt-node convert\` but received none. Usage: tensorrt-node ${usage}`,
      );
    if (values.precision === 'int8')
      throw new ArgumentTypeError(
        'Expected "fp16" for --precision but received "int8": INT8 needs calibration, use `tensorrt-node quantize`',
      );
    expectOneOf(values.precision ?? 'fp16', '--precision', ['fp16'] as const);
    const { target, maxTimeMs } = parseAccuracyFlags(values);
    const shapes = parseShapes(values.shape);
    const seed = parseCount(values.seed, 'seed') ?? 1;
    const range = parseRange(values.range, [-1, 1]);
    const threads = parseCount(values.threads, 'threads');
    const started = performance.now();
    const model = await readModel(positionals[0]!);
    const options: Fp16Options = {
      keepIoTypes: values['keep-io-types'] ?? true,
      blockOpTypes: parseList(values['block-op']),
      blockNodes: parseList(values['block-node']),
      keepOutOfRange: values['keep-out-of-range'] ?? true,
    };
    let converted: { model: typeof model; report: Fp16Report; accuracy?: MixedPrecisionReport };
    if (target) {
      const samples = parseAccuracySamples(values.samples, model, shapes, seed, range);
      converted = await convertToFp16WithAccuracy(model, {
        ...options,
        accuracy: { ...target, samples, maxTimeMs },
        shapes,
        cpu: threads === undefined ? undefined : { intraOpNumThreads: threads },
        onProgress: searchProgressWriter(stderr, target, 'kept in float32'),
      });
    } else {
      converted = convertToFp16(model, options);
    }
    const { report, accuracy } = converted;
    await writeModel(converted.model, values.output, { externalData: values['external-data'] === true });
    const seconds = (performance.now() - started) / 1000;
    if (values.json) {
      stdout.write(
        `${JSON.stringify({ output: values.output, seconds, ...report, ...(accuracy ? { accuracy } : {}) }, null, 2)}\n`,
      );
      return accuracy && !accuracy.met ? 1 : 0;
    }
    stdout.write(
      `${values.output}: ${report.nodesConverted} nodes in float16, ${report.nodesKept.length} kept in float32, ${report.castsInserted} casts (${report.castsPerConvertedNode} per converted node), ${report.tensorsConverted} tensors converted in ${seconds.toFixed(2)} s\n`,
    );
    if (report.valuesClamped) stdout.write(`  ${report.valuesClamped} values beyond +-65504 clamped\n`);
    if (report.valuesFlushedToZero) stdout.write(`  ${report.valuesFlushedToZero} tiny non-zero values became 0\n`);
    const reasons = new Map<string, number>();
    for (const kept of report.nodesKept)
      reasons.set(`${kept.opType}: ${kept.reason}`, (reasons.get(`${kept.opType}: ${kept.reason}`) ?? 0) + 1);
    for (const [reason, count] of reasons) stdout.write(`  kept in float32: ${count} x ${reason}\n`);
    if (accuracy) for (const line of describeSearch(accuracy, 'kept in float32')) stdout.write(`${line}\n`);
    // A target that could not be met still writes the best model found, and says so in the exit code.
    return accuracy && !accuracy.met ? 1 : 0;
  },
};
