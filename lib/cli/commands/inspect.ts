import { formatInspectReport, inspect } from '../../onnx/inspect.js';
import { ArgumentTypeError } from '../../core/errors.js';
import type { Command } from '../command.js';

/** `tensorrt-node inspect <model> [--json]`: what the model is and what TensorRT will make of it. */
export const inspectCommand: Command<{ json?: boolean }> = {
  name: 'inspect',
  usage: 'inspect <model.onnx> [--json]',
  help: '  --json   print the report as JSON\n\nExit code 1 when the file holds something TensorRT will refuse (unsupported operators, I/O types, Q/DQ it cannot use).',
  options: { json: { type: 'boolean' } },
  positionals: true,
  async run(values, positionals, { stdout }) {
    if (positionals.length !== 1)
      throw new ArgumentTypeError(
        `Expected one model path for \`tensorrt-node inspect\` but received ${positionals.length}. Usage: tensorrt-node inspect <model.onnx> [--json]`,
      );
    const report = await inspect(positionals[0]!);
    stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatInspectReport(report));
    return report.tensorrt.some((finding) => finding.severity === 'error') ? 1 : 0;
  },
};
