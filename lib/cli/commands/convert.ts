import { ArgumentTypeError } from '../../core/errors.js';
import { DEFAULT_FP16_BLOCKED_OPS, convertToFp16 } from '../../onnx/fp16.js';
import { readModel, writeModel } from '../../onnx/model.js';
import { expectOneOf } from '../../core/validate.js';
import type { Command } from '../command.js';
import { parseList } from '../tensor-args.js';

interface ConvertValues {
  output?: string;
  precision?: string;
  'keep-io-types'?: boolean;
  'block-op'?: string;
  'block-node'?: string;
  'keep-out-of-range'?: boolean;
  'external-data'?: boolean;
  json?: boolean;
}

const usage = 'convert <in.onnx> -o <out.onnx> --precision fp16 [--no-keep-io-types] [--block-op A,B] [--block-node n1,n2] [--external-data] [--json]';

/** `tensorrt-node convert`: FP16 autocast of an ONNX model, written atomically. */
export const convertCommand: Command<ConvertValues> = {
  name: 'convert',
  usage,
  help: [
    '  -o, --output <file>        where to write the converted model (written atomically)',
    '  --precision fp16           the target precision (fp16 is the one conversion; INT8 is `quantize`)',
    '  --no-keep-io-types         let model inputs/outputs become float16 too',
    `  --block-op <A,B>           op types kept in FP32 (replaces the default list: ${DEFAULT_FP16_BLOCKED_OPS.join(',')})`,
    '  --block-node <n1,n2>       node names kept in FP32',
    '  --no-keep-out-of-range     convert nodes reading constants beyond +-65504 too (values clamp)',
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
    json: { type: 'boolean' },
  },
  positionals: true,
  async run(values, positionals, { stdout }) {
    if (positionals.length !== 1) throw new ArgumentTypeError(`Expected one input model for \`tensorrt-node convert\` but received ${positionals.length}. Usage: tensorrt-node ${usage}`);
    if (!values.output) throw new ArgumentTypeError(`Expected an output path (-o <out.onnx>) for \`tensorrt-node convert\` but received none. Usage: tensorrt-node ${usage}`);
    if (values.precision === 'int8') throw new ArgumentTypeError('Expected "fp16" for --precision but received "int8": INT8 needs calibration, use `tensorrt-node quantize`');
    expectOneOf(values.precision ?? 'fp16', '--precision', ['fp16'] as const);
    const started = performance.now();
    const model = await readModel(positionals[0]!);
    const { model: converted, report } = convertToFp16(model, {
      keepIoTypes: values['keep-io-types'] ?? true,
      blockOpTypes: parseList(values['block-op']),
      blockNodes: parseList(values['block-node']),
      keepOutOfRange: values['keep-out-of-range'] ?? true,
    });
    await writeModel(converted, values.output, { externalData: values['external-data'] === true });
    const seconds = (performance.now() - started) / 1000;
    if (values.json) {
      stdout.write(`${JSON.stringify({ output: values.output, seconds, ...report }, null, 2)}\n`);
      return 0;
    }
    stdout.write(`${values.output}: ${report.nodesConverted} nodes in float16, ${report.nodesKept.length} kept in float32, ${report.castsInserted} casts, ${report.tensorsConverted} tensors converted in ${seconds.toFixed(2)} s\n`);
    if (report.valuesClamped) stdout.write(`  ${report.valuesClamped} values beyond +-65504 clamped\n`);
    if (report.valuesFlushedToZero) stdout.write(`  ${report.valuesFlushedToZero} tiny non-zero values became 0\n`);
    const reasons = new Map<string, number>();
    for (const kept of report.nodesKept) reasons.set(`${kept.opType}: ${kept.reason}`, (reasons.get(`${kept.opType}: ${kept.reason}`) ?? 0) + 1);
    for (const [reason, count] of reasons) stdout.write(`  kept in float32: ${count} x ${reason}\n`);
    return 0;
  },
};
