import { ArgumentTypeError } from '../../core/errors.js';
import { saveCalibrationTable } from '../../onnx/calibration-table.js';
import { readModel, writeModel } from '../../onnx/model.js';
import { quantizeInt8 } from '../../precision/quantize.js';
import { expectOneOf } from '../../core/validate.js';
import type { Command } from '../command.js';
import { progressLine } from '../progress.js';
import { RANDOM_CALIBRATION_WARNING, parseCalibration, parseCount, parseList, parseNumber, parseRange } from '../tensor-args.js';
import { parseShapes } from '../../core/shape-spec.js';
import {
  accuracyHelp,
  describeSearch,
  parseAccuracyFlags,
  parseAccuracySamples,
  searchProgressWriter,
} from '../accuracy-args.js';

interface QuantizeValues {
  output?: string;
  calibration?: string;
  table?: string;
  'save-table'?: string;
  method?: string;
  percentile?: string;
  shape?: string[];
  seed?: string;
  range?: string;
  'op-types'?: string;
  'exclude-node'?: string;
  'per-channel'?: boolean;
  threads?: string;
  'external-data'?: boolean;
  target?: string;
  samples?: string;
  'max-time'?: string;
  json?: boolean;
}

const usage =
  'quantize <in.onnx> -o <out.onnx> --calibration <dir|random:N> [--target cos=0.99 [--samples dir|random:N] [--max-time 10m]] [--method max|percentile|entropy|mse] [--save-table t.json] [--table t.json] [--shape x:1x3x320x320] [--json]';

/** `tensorrt-node quantize`: INT8 post-training quantization with explicit Q/DQ for TensorRT. */
export const quantizeCommand: Command<QuantizeValues> = {
  name: 'quantize',
  usage,
  help: [
    '  -o, --output <file>        where to write the quantized model (written atomically)',
    '  --calibration <dir|random:N>  a folder of samples (.npy/.json; docs/onnx-and-precision.md) or N generated samples',
    '  --table <t.json>           reuse a saved calibration table instead of calibrating',
    '  --save-table <t.json>      save the calibration table used',
    '  --method <m>               max | percentile | entropy | mse (default percentile)',
    '  --percentile <p>           for --method percentile (default 99.99)',
    '  --shape <name:AxBxC>       concrete shape of a dynamic input for random:N (repeatable)',
    '  --seed <n>, --range <lo,hi>  generated data: seed (default 1) and value range (default -1,1)',
    '  --op-types <A,B>           op types to quantize (default Conv,ConvTranspose,Gemm,MatMul)',
    '  --exclude-node <n1,n2>     node names to leave in float',
    '  --no-per-channel           per-tensor weight scales',
    '  --threads <n>              onnxruntime intra-op threads for calibration and accuracy measurements',
    ...accuracyHelp.map((line) =>
      line
        .replace('default random:8; random', 'default: the calibration data; random')
        .replace('the higher precision', 'float (unquantized)'),
    ),
    '  --external-data            store weights in <out>.data next to the model',
    '  --json                     print the report as JSON',
  ].join('\n'),
  options: {
    output: { type: 'string', short: 'o' },
    calibration: { type: 'string' },
    table: { type: 'string' },
    'save-table': { type: 'string' },
    method: { type: 'string' },
    percentile: { type: 'string' },
    shape: { type: 'string', multiple: true },
    seed: { type: 'string' },
    range: { type: 'string' },
    'op-types': { type: 'string' },
    'exclude-node': { type: 'string' },
    'per-channel': { type: 'boolean' },
    threads: { type: 'string' },
    'external-data': { type: 'boolean' },
    target: { type: 'string' },
    samples: { type: 'string' },
    'max-time': { type: 'string' },
    json: { type: 'boolean' },
  },
  positionals: true,
  async run(values, positionals, { stdout, stderr }) {
    if (positionals.length !== 1)
      throw new ArgumentTypeError(
        `Expected one input model for \`tensorrt-node quantize\` but received ${positionals.length}. Usage: tensorrt-node ${usage}`,
      );
    if (!values.output)
      throw new ArgumentTypeError(
        `Expected an output path (-o <out.onnx>) for \`tensorrt-node quantize\` but received none. Usage: tensorrt-node ${usage}`,
      );
    if (!values.calibration && !values.table)
      throw new ArgumentTypeError(
        `Expected --calibration <dir|random:N> or --table <t.json> for \`tensorrt-node quantize\` but received neither. Usage: tensorrt-node ${usage}`,
      );
    const method = expectOneOf(values.method ?? 'percentile', '--method', ['max', 'percentile', 'entropy', 'mse'] as const);
    const seed = parseCount(values.seed, 'seed') ?? 1;
    const threads = parseCount(values.threads, 'threads');
    const calibration = values.calibration
      ? parseCalibration(values.calibration, seed, parseRange(values.range, [-1, 1]))
      : undefined;
    const { target, maxTimeMs } = parseAccuracyFlags(values);
    const shapes = parseShapes(values.shape);
    const started = performance.now();
    const model = await readModel(positionals[0]!);
    // Accuracy samples default to the calibration data (its folder, or the same random:N); generated ones need --shape for dynamic inputs.
    const samples =
      target === undefined
        ? undefined
        : parseAccuracySamples(values.samples ?? values.calibration, model, shapes, seed, parseRange(values.range, [-1, 1]));
    const progress = progressLine(stderr, 'calibrate');
    const searchProgress = target ? searchProgressWriter(stderr, target, 'left in float') : undefined;
    const {
      model: quantized,
      report,
      table,
      accuracy,
    } = await quantizeInt8(model, {
      calibration,
      calibrationTable: values.table,
      method,
      percentile: parseNumber(values.percentile, 'percentile'),
      shapes,
      opTypes: parseList(values['op-types']),
      excludeNodes: parseList(values['exclude-node']),
      perChannel: values['per-channel'] ?? true,
      cpu: threads === undefined ? undefined : { intraOpNumThreads: threads },
      accuracy: target ? { ...target, samples, maxTimeMs } : undefined,
      onProgress: ({ phase, done, total, search }) => {
        if (phase === 'calibrate') progress.update(done, total);
        if (search) searchProgress?.(search);
      },
    });
    if (!values.table) progress.finish(`${table.samples} samples, method ${table.method}`);
    if (typeof calibration === 'object') stderr.write(`warning: ${RANDOM_CALIBRATION_WARNING}\n`);
    await writeModel(quantized, values.output, { externalData: values['external-data'] === true });
    if (values['save-table']) await saveCalibrationTable(table, values['save-table']);
    const seconds = (performance.now() - started) / 1000;
    if (values.json) {
      stdout.write(
        `${JSON.stringify({ output: values.output, seconds, ...report, calibration: { method: table.method, samples: table.samples }, ...(accuracy ? { accuracy } : {}) }, null, 2)}\n`,
      );
      return accuracy && !accuracy.met ? 1 : 0;
    }
    const counts = Object.entries(report.quantized)
      .map(([op, count]) => `${count} ${op}`)
      .join(', ');
    stdout.write(
      `${values.output}: INT8 Q/DQ on ${counts}; ${report.activationQdq} activation Q/DQ pairs, ${report.weightsQuantized} INT8 weights (${report.perChannel ? 'per channel' : 'per tensor'}), opset ${report.opset.from} -> ${report.opset.to}, ${seconds.toFixed(1)} s\n`,
    );
    for (const skipped of report.skipped)
      stdout.write(`  left in float: ${skipped.name} (${skipped.opType}): ${skipped.reason}\n`);
    if (values['save-table']) stdout.write(`  calibration table: ${values['save-table']}\n`);
    if (accuracy) for (const line of describeSearch(accuracy, 'left in float')) stdout.write(`${line}\n`);
    return accuracy && !accuracy.met ? 1 : 0;
  },
};
