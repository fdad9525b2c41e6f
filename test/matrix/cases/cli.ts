/**
 * Every CLI command: unknown options (with the suggestion), missing and malformed values, files that
 * are missing or are not what they claim. Each row is checked on the command's thrown error and on
 * main()'s `tensorrt-node <command>: <message> [<code>]` line with exit code 2.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ArgumentRangeError, ArgumentTypeError, CudaError, OnnxError, TensorRTNodeError } from '../../../lib/core/errors.js';
import { packageRoot } from '../../../lib/addon/loader.js';
import { cliRow, type MatrixContext, type MatrixTable } from '../matrix.js';

const T = ArgumentTypeError;
const R = ArgumentRangeError;
const mlp = join(packageRoot, 'test', 'fixtures', 'models', 'mlp.onnx');

function file(context: MatrixContext, name: string, content: string): string {
  return context.once(`cli-file-${name}`, () => {
    const path = join(context.folder, name);
    writeFileSync(path, content);
    return path;
  });
}

export const cliTable: MatrixTable = {
  surface: 'CLI',
  cliRows: [
    cliRow(
      'doctor --jsno',
      ['doctor', '--jsno'],
      [
        R,
        'ERR_UNKNOWN_OPTION',
        'Unknown option --jsno for `tensorrt-node doctor` (did you mean --json?). Usage: tensorrt-node doctor [--json] [--tensorrt-lib <folder|file>]',
      ],
    ),
    cliRow(
      'doctor --json=yes',
      ['doctor', '--json=yes'],
      [
        T,
        'ERR_INVALID_ARGUMENT',
        "Option '--json' does not take an argument. Usage: tensorrt-node doctor [--json] [--tensorrt-lib <folder|file>]",
      ],
    ),
    cliRow(
      'start --port 8080 (no such option)',
      ['start', '--port', '8080'],
      [
        R,
        'ERR_UNKNOWN_OPTION',
        'Unknown option --port for `tensorrt-node start`. Usage: tensorrt-node start [--out dir] [--duration 3s]',
      ],
    ),
    cliRow(
      'inspect without a model',
      ['inspect'],
      [
        T,
        'ERR_INVALID_ARGUMENT',
        'Expected one model path for `tensorrt-node inspect` but received 0. Usage: tensorrt-node inspect <model.onnx> [--json]',
      ],
    ),
    cliRow('inspect of a missing file', (context) => ['inspect', join(context.folder, 'absent.onnx')], [
      OnnxError,
      'ERR_IO',
      /^Expected a readable ONNX model file for \/.*\/absent\.onnx but received a path that does not exist$/,
    ]),
    cliRow('inspect of a text file', (context) => ['inspect', file(context, 'notes.onnx', 'not a model')], [
      OnnxError,
      'ERR_ONNX',
      /^Expected an ONNX model \(ModelProto protobuf\) for \/.*\/notes\.onnx but received bytes that are not valid protobuf \(.*\)$/,
    ]),
    cliRow(
      'inspect --jsn',
      ['inspect', mlp, '--jsn'],
      [
        R,
        'ERR_UNKNOWN_OPTION',
        'Unknown option --jsn for `tensorrt-node inspect` (did you mean --json?). Usage: tensorrt-node inspect <model.onnx> [--json]',
      ],
    ),
    cliRow(
      'convert without -o',
      ['convert', mlp],
      [
        T,
        'ERR_INVALID_ARGUMENT',
        'Expected an output path (-o <out.onnx>) for `tensorrt-node convert` but received none. Usage: tensorrt-node convert <in.onnx> -o <out.onnx> --precision fp16 [--target cos=0.9995 [--samples dir|random:N] [--shape x:1x3x320x320] [--max-time 10m]] [--no-keep-io-types] [--block-op A,B] [--block-node n1,n2] [--external-data] [--json]',
      ],
    ),
    cliRow(
      'convert with -o and no value',
      ['convert', mlp, '-o'],
      [
        T,
        'ERR_INVALID_ARGUMENT',
        "Option '-o, --output <value>' argument missing. Usage: tensorrt-node convert <in.onnx> -o <out.onnx> --precision fp16 [--target cos=0.9995 [--samples dir|random:N] [--shape x:1x3x320x320] [--max-time 10m]] [--no-keep-io-types] [--block-op A,B] [--block-node n1,n2] [--external-data] [--json]",
      ],
    ),
    cliRow(
      'convert --precision int8',
      (context) => ['convert', mlp, '-o', join(context.folder, 'c.onnx'), '--precision', 'int8'],
      [
        T,
        'ERR_INVALID_ARGUMENT',
        'Expected "fp16" for --precision but received "int8": INT8 needs calibration, use `tensorrt-node quantize`',
      ],
    ),
    cliRow(
      'convert --precision fp61',
      (context) => ['convert', mlp, '-o', join(context.folder, 'c.onnx'), '--precision', 'fp61'],
      [
        R,
        'ERR_INVALID_ARGUMENT',
        'Expected one of "fp16" for --precision but received "fp61" of type string (did you mean "fp16"?)',
      ],
    ),
    cliRow('convert --block-ops', (context) => ['convert', mlp, '-o', join(context.folder, 'c.onnx'), '--block-ops', 'Softmax'], [
      R,
      'ERR_UNKNOWN_OPTION',
      'Unknown option --block-ops for `tensorrt-node convert` (did you mean --block-op?). Usage: tensorrt-node convert <in.onnx> -o <out.onnx> --precision fp16 [--target cos=0.9995 [--samples dir|random:N] [--shape x:1x3x320x320] [--max-time 10m]] [--no-keep-io-types] [--block-op A,B] [--block-node n1,n2] [--external-data] [--json]',
    ]),
    cliRow('convert of two models', (context) => ['convert', mlp, mlp, '-o', join(context.folder, 'c.onnx')], [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected one input model for `tensorrt-node convert` but received 2. Usage: tensorrt-node convert <in.onnx> -o <out.onnx> --precision fp16 [--target cos=0.9995 [--samples dir|random:N] [--shape x:1x3x320x320] [--max-time 10m]] [--no-keep-io-types] [--block-op A,B] [--block-node n1,n2] [--external-data] [--json]',
    ]),
    cliRow('quantize without calibration', (context) => ['quantize', mlp, '-o', join(context.folder, 'q.onnx')], [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected --calibration <dir|random:N> or --table <t.json> for `tensorrt-node quantize` but received neither. Usage: tensorrt-node quantize <in.onnx> -o <out.onnx> --calibration <dir|random:N> [--target cos=0.99 [--samples dir|random:N] [--max-time 10m]] [--method max|percentile|entropy|mse] [--save-table t.json] [--table t.json] [--shape x:1x3x320x320] [--json]',
    ]),
    cliRow(
      'quantize --calibration random:0',
      (context) => ['quantize', mlp, '-o', join(context.folder, 'q.onnx'), '--calibration', 'random:0'],
      [R, 'ERR_INVALID_ARGUMENT', 'Expected at least one calibration sample for --calibration but received "random:0"'],
    ),
    cliRow(
      'quantize --calibration random:many',
      (context) => ['quantize', mlp, '-o', join(context.folder, 'q.onnx'), '--calibration', 'random:many'],
      [
        T,
        'ERR_INVALID_ARGUMENT',
        'Expected random:N (a positive count) or a folder for --calibration but received "random:many"',
      ],
    ),
    cliRow(
      'quantize --method entropi',
      (context) => ['quantize', mlp, '-o', join(context.folder, 'q.onnx'), '--calibration', 'random:1', '--method', 'entropi'],
      [
        R,
        'ERR_INVALID_ARGUMENT',
        'Expected one of "max", "percentile", "entropy", "mse" for --method but received "entropi" of type string (did you mean "entropy"?)',
      ],
    ),
    cliRow(
      'quantize --seed -1',
      (context) => ['quantize', mlp, '-o', join(context.folder, 'q.onnx'), '--calibration', 'random:1', '--seed=-1'],
      [T, 'ERR_INVALID_ARGUMENT', 'Expected a positive integer for --seed but received "-1"'],
    ),
    cliRow(
      'quantize --threads 0',
      (context) => ['quantize', mlp, '-o', join(context.folder, 'q.onnx'), '--calibration', 'random:1', '--threads', '0'],
      [T, 'ERR_INVALID_ARGUMENT', 'Expected a positive integer for --threads but received "0"'],
    ),
    cliRow(
      'quantize --range 1',
      (context) => ['quantize', mlp, '-o', join(context.folder, 'q.onnx'), '--calibration', 'random:1', '--range', '1'],
      [T, 'ERR_INVALID_ARGUMENT', 'Expected LOW,HIGH with LOW < HIGH (e.g. -1,1) for --range but received "1"'],
    ),
    cliRow(
      'quantize --range 2,1',
      (context) => ['quantize', mlp, '-o', join(context.folder, 'q.onnx'), '--calibration', 'random:1', '--range', '2,1'],
      [T, 'ERR_INVALID_ARGUMENT', 'Expected LOW,HIGH with LOW < HIGH (e.g. -1,1) for --range but received "2,1"'],
    ),
    cliRow(
      'quantize --shape x:1xtwo',
      (context) => ['quantize', mlp, '-o', join(context.folder, 'q.onnx'), '--calibration', 'random:1', '--shape', 'x:1xtwo'],
      [T, 'ERR_INVALID_ARGUMENT', 'Expected NAME:DIMxDIM... (e.g. x:1x3x320x320) for --shape but received "x:1xtwo"'],
    ),
    cliRow(
      'quantize --percentile abc',
      (context) => ['quantize', mlp, '-o', join(context.folder, 'q.onnx'), '--calibration', 'random:1', '--percentile', 'abc'],
      [T, 'ERR_INVALID_ARGUMENT', 'Expected a number for --percentile but received "abc"'],
    ),
    cliRow(
      'quantize --table of a missing file',
      (context) => ['quantize', mlp, '-o', join(context.folder, 'q.onnx'), '--table', join(context.folder, 'absent-table.json')],
      [
        OnnxError,
        'ERR_IO',
        /^Expected a readable calibration table at \/.*\/absent-table\.json but received a path that does not exist$/,
      ],
    ),
    cliRow(
      'compare of one model',
      ['compare', mlp],
      [
        T,
        'ERR_INVALID_ARGUMENT',
        'Expected two model paths for `tensorrt-node compare` but received 1. Usage: tensorrt-node compare <reference.onnx> <candidate.onnx> [--inputs <dir>] [--atol 1e-3] [--rtol 1e-3] [--shape x:1x3x320x320] [--json]',
      ],
    ),
    cliRow(
      'compare --atol x',
      ['compare', mlp, mlp, '--atol', 'x'],
      [T, 'ERR_INVALID_ARGUMENT', 'Expected a number for --atol but received "x"'],
    ),
    cliRow(
      'compare --samples 0',
      ['compare', mlp, mlp, '--samples', '0'],
      [T, 'ERR_INVALID_ARGUMENT', 'Expected a positive integer for --samples but received "0"'],
    ),
    cliRow(
      'compare --tolerance',
      ['compare', mlp, mlp, '--tolerance', '1'],
      [
        R,
        'ERR_UNKNOWN_OPTION',
        'Unknown option --tolerance for `tensorrt-node compare`. Usage: tensorrt-node compare <reference.onnx> <candidate.onnx> [--inputs <dir>] [--atol 1e-3] [--rtol 1e-3] [--shape x:1x3x320x320] [--json]',
      ],
    ),
    cliRow(
      'run without a model',
      ['run'],
      [
        T,
        'ERR_INVALID_ARGUMENT',
        'Expected one model path for `tensorrt-node run` but received 0. Usage: tensorrt-node run <model.onnx> [--input <sample file|dir> | --input name=file.npy ...] [--shape x:1x3x320x320] [--output-dir <dir>] [--json]',
      ],
    ),
    cliRow(
      'run --threads two',
      ['run', mlp, '--threads', 'two'],
      [T, 'ERR_INVALID_ARGUMENT', 'Expected a positive integer for --threads but received "two"'],
    ),
    cliRow(
      'run --input mixing a sample and name=file',
      ['run', mlp, '--input', 'a.npy', '--input', 'x=b.npy', '--threads', '1'],
      [T, 'ERR_INVALID_ARGUMENT', 'Expected either one sample path or only name=file pairs for --input but received a mix'],
    ),
    cliRow(
      'run --input of a missing sample',
      (context) => ['run', mlp, '--input', join(context.folder, 'absent.npy'), '--threads', '1'],
      [OnnxError, 'ERR_IO', /^Expected a sample file or folder for \/.*\/absent\.npy but received a path that does not exist$/],
    ),
    cliRow(
      'run --input of a file that is not .npy',
      (context) => ['run', mlp, '--input', `x=${file(context, 'x.npy', 'plain text')}`, '--threads', '1'],
      [OnnxError, 'ERR_IO', /^Expected a NumPy \.npy tensor for \/.*\/x\.npy but received a file without the \\x93NUMPY magic$/],
    ),
    cliRow(
      'build without -o',
      ['build', mlp],
      [
        T,
        'ERR_INVALID_ARGUMENT',
        'Expected an output path (-o <engine.plan>) for `tensorrt-node build` but received none. Usage: tensorrt-node build <model.onnx> -o <engine.plan> [--precision fp16|int8] [--calibration <dir|random:N>] [--shape input:min/opt/max ...] [--workspace 2GiB] [--opt-level N] [--timing-cache file] [--json]',
      ],
    ),
    cliRow('build --precision fp4', (context) => ['build', mlp, '-o', join(context.folder, 'e.plan'), '--precision', 'fp4'], [
      R,
      'ERR_INVALID_ARGUMENT',
      'Expected one of "fp32", "fp16", "int8" for --precision but received "fp4" of type string',
    ]),
    cliRow(
      'build --shape with two of three bounds',
      (context) => ['build', mlp, '-o', join(context.folder, 'e.plan'), '--shape', 'x:1x16/4x16'],
      [
        T,
        'ERR_INVALID_ARGUMENT',
        'Expected NAME:DIMxDIM... or NAME:MIN/OPT/MAX (e.g. x:1x3x320x320, or x:1x3x320x320/4x3x640x640/8x3x960x960) for --shape but received "x:1x16/4x16"',
      ],
    ),
    cliRow(
      'build --shape with a zero-length dim list',
      (context) => ['build', mlp, '-o', join(context.folder, 'e.plan'), '--shape', 'x:1xx16/1x16/1x16'],
      [
        T,
        'ERR_INVALID_ARGUMENT',
        'Expected NAME:DIMxDIM... or NAME:MIN/OPT/MAX (e.g. x:1x3x320x320, or x:1x3x320x320/4x3x640x640/8x3x960x960) for --shape but received "x:1xx16/1x16/1x16"',
      ],
    ),
    cliRow(
      'build --workspace 2XB',
      (context) => ['build', mlp, '-o', join(context.folder, 'e.plan'), '--workspace', '2XB', '--shape', 'x:1x16/1x16/1x16'],
      [
        R,
        'ERR_INVALID_ARGUMENT',
        'Expected a byte size such as 512MiB, 2GiB, 1.5GB or 1000000 for --workspace but received "2XB" of type string',
      ],
    ),
    cliRow('build --opt-level high', (context) => ['build', mlp, '-o', join(context.folder, 'e.plan'), '--opt-level', 'high'], [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected a positive integer for --opt-level but received "high"',
    ]),
    cliRow(
      'build --opt-level 9',
      (context) => ['build', mlp, '-o', join(context.folder, 'e.plan'), '--opt-level', '9', '--shape', 'x:1x16/1x16/1x16'],
      [R, 'ERR_INVALID_ARGUMENT', 'Expected an integer between 0 and 5 for --opt-level but received 9 of type number'],
    ),
    cliRow(
      'build --hardware-compatibility turing+',
      (context) => [
        'build',
        mlp,
        '-o',
        join(context.folder, 'e.plan'),
        '--hardware-compatibility',
        'turing+',
        '--shape',
        'x:1x16/1x16/1x16',
      ],
      [
        R,
        'ERR_INVALID_ARGUMENT',
        'Expected one of "none", "ampere+", "same-compute-capability" for --hardware-compatibility but received "turing+" of type string',
      ],
    ),
    cliRow('build --cache-dri', (context) => ['build', mlp, '-o', join(context.folder, 'e.plan'), '--cache-dri', '/tmp'], [
      R,
      'ERR_UNKNOWN_OPTION',
      'Unknown option --cache-dri for `tensorrt-node build` (did you mean --cache-dir?). Usage: tensorrt-node build <model.onnx> -o <engine.plan> [--precision fp16|int8] [--calibration <dir|random:N>] [--shape input:min/opt/max ...] [--workspace 2GiB] [--opt-level N] [--timing-cache file] [--json]',
    ]),
    cliRow(
      'bench without a model or --trtexec',
      ['bench'],
      [
        T,
        'ERR_INVALID_ARGUMENT',
        'Expected a model (an .onnx model or a serialized engine), or --trtexec <file>, for model but received undefined',
      ],
    ),
    cliRow('bench of a .txt file', (context) => ['bench', file(context, 'model.txt', 'x')], [
      R,
      'ERR_INVALID_ARGUMENT',
      /^Expected an \.onnx model or a serialized engine \(.*\) for model but received "\/.*" of type string$/,
    ]),
    cliRow(
      'bench --batch 0',
      ['bench', mlp, '--batch', '0'],
      [
        R,
        'ERR_INVALID_ARGUMENT',
        'Expected positive integers <= 4096 (comma-separated) for --batch but received "0" of type string',
      ],
    ),
    cliRow(
      'bench --batch 1,,2',
      ['bench', mlp, '--batch', '1,,2'],
      [
        R,
        'ERR_INVALID_ARGUMENT',
        'Expected a comma-separated list of positive integers <= 4096 for --batch but received "1,,2" of type string',
      ],
    ),
    cliRow(
      'bench --duration 3x',
      ['bench', mlp, '--duration', '3x'],
      [
        R,
        'ERR_INVALID_ARGUMENT',
        'Expected a duration such as 250ms, 3s, 1.5m or 1h30m for --duration but received "3x" of type string',
      ],
    ),
    cliRow(
      'bench --iterations -1',
      ['bench', mlp, '--iterations=-1'],
      [R, 'ERR_INVALID_ARGUMENT', 'Expected a positive integer <= 1000000000 for --iterations but received "-1" of type string'],
    ),
    cliRow(
      'bench --percentile 101',
      ['bench', mlp, '--percentile', '101'],
      [
        R,
        'ERR_INVALID_ARGUMENT',
        'Expected percentiles between 0 and 100 (comma-separated) for --percentile but received "101" of type string',
      ],
    ),
    cliRow(
      'bench --backend gpu',
      ['bench', mlp, '--backend', 'gpu'],
      [
        R,
        'ERR_INVALID_ARGUMENT',
        'Expected one of "auto", "tensorrt", "cpu" for --backend but received "gpu" of type string (did you mean "cpu"?)',
      ],
    ),
    cliRow(
      'bench --cuda-graph maybe',
      ['bench', mlp, '--cuda-graph', 'maybe'],
      [R, 'ERR_INVALID_ARGUMENT', 'Expected one of "on", "off" for --cuda-graph but received "maybe" of type string'],
    ),
    cliRow(
      'bench --device first',
      ['bench', mlp, '--device', 'first'],
      [
        R,
        'ERR_INVALID_ARGUMENT',
        'Expected "all" or device indices such as 0 or 0,1 for --device but received "first" of type string',
      ],
    ),
    cliRow(
      'bench --backend tensorrt --device 0 without a GPU',
      ['bench', mlp, '--backend', 'tensorrt'],
      [CudaError, 'ERR_NO_CUDA_DEVICE', /^--device 0 needs a CUDA device, but this machine has none/],
    ),
    cliRow('bench --trtexec of a missing file', (context) => ['bench', '--trtexec', join(context.folder, 'absent.json')], [
      TensorRTNodeError,
      'ERR_IO',
      /^Cannot read trtexec results \/.*\/absent\.json: ENOENT: no such file or directory, open '.*\/absent\.json'$/,
    ]),
    cliRow(
      'bench --trtexec of a file that is neither JSON nor a log',
      (context) => ['bench', '--trtexec', file(context, 'trtexec.json', '[{"latencyMs": "fast"}]')],
      [
        TensorRTNodeError,
        'ERR_INVALID_ARGUMENT',
        /^Cannot import trtexec results from \/.*\/trtexec\.json: iteration 0 has no numeric "startEnqMs" \(found nothing\); is this a trtexec --exportTimes file\?$/,
      ],
    ),
    cliRow(
      'bench --jsn',
      ['bench', mlp, '--jsn', 'out.json'],
      [
        R,
        'ERR_UNKNOWN_OPTION',
        'Unknown option --jsn for `tensorrt-node bench` (did you mean --json?). Usage: tensorrt-node bench <model> [--backend auto|tensorrt|cpu] [--precision fp32,fp16,int8] [--batch 1,8,32] [--concurrency 1,4,16] [--device 0|all] [--warmup 200ms] [--duration 3s] [--iterations N] [--percentile 90,95,99,99.9] [--cuda-graph on|off] [--transfers on|off] [--batcher] [--shape x:1x3x320x320] [--json out.json] [--export-times dir] [--trtexec file] | tensorrt-node bench --url http://host:8000 --model name [--protocol rest|grpc] [--binary] [--request-rate 100,500 | --concurrency 1,4] [--duration 10s] [--json out.json]',
      ],
    ),
    cliRow(
      'report without results files',
      ['report'],
      [T, 'ERR_INVALID_ARGUMENT', 'Expected at least one results file for results but received undefined'],
    ),
    cliRow('report of a missing file', (context) => ['report', join(context.folder, 'absent.json')], [
      TensorRTNodeError,
      'ERR_IO',
      /^Cannot read results file \/.*\/absent\.json: ENOENT: no such file or directory, open '.*'$/,
    ]),
    cliRow(
      'report of a truncated results file',
      (context) => ['report', file(context, 'truncated.json', '{"schema": "tensorrt-node-bench')],
      [
        TensorRTNodeError,
        'ERR_RESULTS_SCHEMA',
        /^Cannot read results file \/.*\/truncated\.json: it is not valid JSON \(.*\); the file may be truncated or corrupted$/,
      ],
    ),
    cliRow('report of a JSON array', (context) => ['report', file(context, 'array.json', '[]')], [
      TensorRTNodeError,
      'ERR_RESULTS_SCHEMA',
      /^Cannot read results file \/.*\/array\.json: it is not a JSON object$/,
    ]),
    cliRow("report of another tool's JSON", (context) => ['report', file(context, 'other.json', '{"name": "x"}')], [
      TensorRTNodeError,
      'ERR_RESULTS_SCHEMA',
      /^Cannot read results file \/.*\/other\.json: expected "schema": ".*" but found none \(is it a tensorrt-node bench results file\?\)$/,
    ]),
    cliRow(
      'report --baseline without =',
      ['report', join(packageRoot, 'benchmarks', 'results', 'harness-self-test.json'), '--baseline', 'device'],
      [
        R,
        'ERR_INVALID_ARGUMENT',
        'Expected key=value conditions with keys host, device, backend, precision, source, file, model for --baseline but received "device" of type string',
      ],
    ),
    cliRow(
      'report --htm',
      ['report', 'a.json', '--htm', 'x.html'],
      [
        R,
        'ERR_UNKNOWN_OPTION',
        'Unknown option --htm for `tensorrt-node report` (did you mean --html?). Usage: tensorrt-node report <results.json...> [--html out.html] [--md out.md] [--baseline key=value[,key=value]] [--title text]',
      ],
    ),
    cliRow(
      'cache without a subcommand',
      ['cache'],
      [
        T,
        'ERR_INVALID_ARGUMENT',
        'Expected a subcommand (one of "ls", "prune", "clear") for `tensorrt-node cache` but received none. Usage: tensorrt-node cache ls|prune|clear [--dir <folder>] [--json] [--max-size <size>] [--older-than <duration>] [--yes]',
      ],
    ),
    cliRow(
      'cache purge',
      ['cache', 'purge'],
      [
        R,
        'ERR_INVALID_ARGUMENT',
        'Expected one of "ls", "prune", "clear" for the subcommand of `tensorrt-node cache` but received "purge" of type string (did you mean "prune"?)',
      ],
    ),
    cliRow('cache ls extra', (context) => ['cache', 'ls', 'extra', '--dir', join(context.folder, 'cli-cache')], [
      R,
      'ERR_INVALID_ARGUMENT',
      'Unexpected argument "extra" after `tensorrt-node cache ls`. Usage: tensorrt-node cache ls|prune|clear [--dir <folder>] [--json] [--max-size <size>] [--older-than <duration>] [--yes]',
    ]),
    cliRow(
      'cache ls --max-size',
      (context) => ['cache', 'ls', '--max-size', '1GiB', '--dir', join(context.folder, 'cli-cache')],
      [R, 'ERR_INVALID_ARGUMENT', 'Option --max-size only applies to `tensorrt-node cache prune`, not `cache ls`'],
    ),
    cliRow(
      'cache prune --max-size 2XB',
      (context) => ['cache', 'prune', '--max-size', '2XB', '--dir', join(context.folder, 'cli-cache')],
      [
        R,
        'ERR_INVALID_ARGUMENT',
        'Expected a byte size such as 512MiB, 2GiB, 1.5GB or 1000000 for --max-size but received "2XB" of type string',
      ],
    ),
    cliRow(
      'cache prune --max-size -1GiB',
      (context) => ['cache', 'prune', '--max-size=-1GiB', '--dir', join(context.folder, 'cli-cache')],
      [
        R,
        'ERR_INVALID_ARGUMENT',
        'Expected a byte size such as 512MiB, 2GiB, 1.5GB or 1000000 for --max-size but received "-1GiB" of type string',
      ],
    ),
    cliRow(
      'cache prune --older-than 30',
      (context) => ['cache', 'prune', '--older-than', '30', '--dir', join(context.folder, 'cli-cache')],
      [
        R,
        'ERR_INVALID_ARGUMENT',
        'Expected a duration such as 250ms, 3s, 1.5m or 1h30m for --older-than but received "30" of type string',
      ],
    ),
    cliRow(
      'cache prune --older-than 1y',
      (context) => ['cache', 'prune', '--older-than', '1y', '--dir', join(context.folder, 'cli-cache')],
      [
        R,
        'ERR_INVALID_ARGUMENT',
        'Expected a duration such as 250ms, 3s, 1.5m or 1h30m for --older-than but received "1y" of type string',
      ],
    ),
    cliRow(
      'cache clear --yse',
      ['cache', 'clear', '--yse'],
      [
        R,
        'ERR_UNKNOWN_OPTION',
        'Unknown option --yse for `tensorrt-node cache` (did you mean --yes?). Usage: tensorrt-node cache ls|prune|clear [--dir <folder>] [--json] [--max-size <size>] [--older-than <duration>] [--yes]',
      ],
    ),
  ],
};
