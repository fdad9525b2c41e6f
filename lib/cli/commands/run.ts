import { mkdir } from 'node:fs/promises';
import { NotRegularFileError, readUserFile } from '../../core/file-io.js';
import { join } from 'node:path';
import { createCpuBackend } from '../../backends/cpu/backend.js';
import type { TensorMap } from '../../core/tensors.js';
import { float16BitsToFloat32, type HostTensor } from '../../core/dtypes.js';
import { ArgumentTypeError, ErrorCode, OnnxError } from '../../core/errors.js';
import { writeFileAtomic } from '../../core/atomic-write.js';
import { generateFeeds } from '../../precision/calibration-data.js';
import { readSample } from '../../onnx/feeds-folder.js';
import { encodeNpy, parseNpy } from '../../onnx/npy.js';
import type { Command } from '../command.js';
import { parseCount, parseRange } from '../tensor-args.js';
import { parseShapes } from '../../core/shape-spec.js';

interface RunValues {
  input?: string[];
  shape?: string[];
  seed?: string;
  range?: string;
  'output-dir'?: string;
  threads?: string;
  json?: boolean;
}

const usage =
  'run <model.onnx> [--input <sample file|dir> | --input name=file.npy ...] [--shape x:1x3x320x320] [--output-dir <dir>] [--json]';

interface OutputSummary {
  name: string;
  dtype: string;
  shape: number[];
  min: number;
  max: number;
  mean: number;
  first: number[];
}

function summarize(name: string, tensor: HostTensor): OutputSummary {
  const values: number[] = [];
  const data = tensor.data as ArrayLike<number | bigint>;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let index = 0; index < data.length; index++) {
    const value = tensor.dtype === 'float16' ? float16BitsToFloat32(Number(data[index])) : Number(data[index]);
    if (index < 8) values.push(value);
    if (value < min) min = value;
    if (value > max) max = value;
    sum += value;
  }
  return { name, dtype: tensor.dtype, shape: tensor.shape, min, max, mean: data.length ? sum / data.length : 0, first: values };
}

async function readInputs(specs: readonly string[], inputs: Parameters<typeof readSample>[1]): Promise<TensorMap> {
  const named = specs.filter((spec) => /^[^=]+=/.test(spec));
  if (named.length === 0) {
    if (specs.length !== 1)
      throw new ArgumentTypeError(
        `Expected one sample (file or folder) or name=file pairs for --input but received ${specs.length} paths`,
      );
    return readSample(specs[0]!, inputs);
  }
  if (named.length !== specs.length)
    throw new ArgumentTypeError('Expected either one sample path or only name=file pairs for --input but received a mix');
  const feeds: TensorMap = {};
  for (const spec of named) {
    const [name, path] = [spec.slice(0, spec.indexOf('=')), spec.slice(spec.indexOf('=') + 1)];
    if (path.endsWith('.npy')) {
      const bytes = await readUserFile(path).catch((error: unknown) => {
        const code = (error as NodeJS.ErrnoException).code;
        const why =
          error instanceof NotRegularFileError
            ? `it is ${error.kind}`
            : code === 'ENOENT'
              ? 'it does not exist'
              : (code ?? String(error));
        throw new OnnxError(
          ErrorCode.IO,
          `Expected a readable .npy file for input ${JSON.stringify(name)} but received ${path} (${why})`,
          { cause: error },
        );
      });
      feeds[name] = parseNpy(bytes, path);
    } else
      Object.assign(
        feeds,
        await readSample(
          path,
          inputs.filter((input) => input.name === name),
        ),
      );
  }
  return feeds;
}

/** `tensorrt-node run`: one inference on the cpu backend, outputs summarized or saved as .npy. */
export const runCommand: Command<RunValues> = {
  name: 'run',
  usage,
  help: [
    '  --input <path>            a sample: .npy (single-input models), .json feeds, or a folder of <input>.npy',
    '  --input <name=file.npy>   one input from a file (repeatable)',
    '  --shape <name:AxB>        concrete shape of a dynamic input for generated data (repeatable)',
    '  --seed <n>, --range <lo,hi>  generated data: seed (default 1) and value range (default -1,1)',
    '  --output-dir <dir>        also write every output as <dir>/<name>.npy',
    '  --threads <n>             onnxruntime intra-op threads',
    '  --json                    print output summaries and the latency as JSON',
  ].join('\n'),
  options: {
    input: { type: 'string', multiple: true },
    shape: { type: 'string', multiple: true },
    seed: { type: 'string' },
    range: { type: 'string' },
    'output-dir': { type: 'string' },
    threads: { type: 'string' },
    json: { type: 'boolean' },
  },
  positionals: true,
  async run(values, positionals, { stdout }) {
    if (positionals.length !== 1)
      throw new ArgumentTypeError(
        `Expected one model path for \`tensorrt-node run\` but received ${positionals.length}. Usage: tensorrt-node ${usage}`,
      );
    const threads = parseCount(values.threads, 'threads');
    const backend = await createCpuBackend(positionals[0]!, threads === undefined ? undefined : { intraOpNumThreads: threads });
    try {
      const [low, high] = parseRange(values.range, [-1, 1]);
      const feeds = values.input?.length
        ? await readInputs(values.input, backend.inputs)
        : generateFeeds(
            backend.inputs,
            { random: 1, seed: parseCount(values.seed, 'seed') ?? 1, low, high },
            parseShapes(values.shape),
          ).next().value!;
      const started = performance.now();
      const outputs = await backend.run(feeds);
      const milliseconds = performance.now() - started;
      const summaries = Object.entries(outputs).map(([name, tensor]) => summarize(name, tensor));
      if (values['output-dir']) {
        const folder = values['output-dir'];
        await mkdir(folder, { recursive: true }).catch((error: unknown) => {
          throw new OnnxError(ErrorCode.IO, `Cannot create the output folder ${folder}: ${(error as Error).message}`, {
            cause: error,
          });
        });
        // Each output whole or not at all (a full disk leaves no truncated .npy behind).
        for (const [name, tensor] of Object.entries(outputs))
          await writeFileAtomic(join(folder, `${name.replace(/[^\w.-]/g, '_')}.npy`), encodeNpy(tensor), {
            errorClass: OnnxError,
          });
      }
      if (values.json) stdout.write(`${JSON.stringify({ milliseconds, outputs: summaries }, null, 2)}\n`);
      else {
        stdout.write(`${positionals[0]} on cpu: ${milliseconds.toFixed(2)} ms\n`);
        for (const summary of summaries) {
          stdout.write(
            `  ${summary.name}: ${summary.dtype} [${summary.shape.join(', ')}] min ${summary.min.toPrecision(5)} max ${summary.max.toPrecision(5)} mean ${summary.mean.toPrecision(5)}\n`,
          );
          stdout.write(
            `    ${summary.first.map((value) => value.toPrecision(5)).join(' ')}${summary.shape.reduce((a, b) => a * b, 1) > 8 ? ' ...' : ''}\n`,
          );
        }
      }
      return 0;
    } finally {
      await backend.dispose();
    }
  },
};
