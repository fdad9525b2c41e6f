/**
 * Special files at every path the CLI reads or writes (issue 19 #2, #4, #6): a FIFO, a symlink or a
 * folder where a model, a table, a sample, a results file, a report, a batch output or the cache
 * folder is expected. Each must fail at once with a typed error naming what is there: no hang (a read
 * of a FIFO blocks until a writer comes), no write through a link, and nothing replaced (the atomic
 * writer used to rename its temporary file over a FIFO, a link or, as root, /dev/null).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OnnxError, TensorRTNodeError } from '../../../lib/core/errors.js';
import { packageRoot } from '../../../lib/addon/loader.js';
import { cliRow, exact, type MatrixContext, type MatrixTable } from '../matrix.js';

const mlp = join(packageRoot, 'test', 'fixtures', 'models', 'mlp.onnx');
const results = join(packageRoot, 'benchmarks', 'results', 'harness-self-test.json');
const notReplaced =
  '; only regular files are replaced (character devices such as /dev/null, and /dev/stdout and /dev/stderr, are written through)';

/** A folder of special files for this run: fifo.* FIFOs, link.json (to real.json), a folder dir.onnx, and out/ holding a FIFO y.npy. */
function specials(context: MatrixContext): string {
  return context.once('special-files', () => {
    const folder = join(context.folder, 'specials');
    mkdirSync(join(folder, 'out'), { recursive: true });
    for (const name of ['fifo.onnx', 'fifo.json', 'fifo.npy', 'fifo.md', 'fifo.jsonl', 'out/y.npy'])
      execFileSync('mkfifo', [join(folder, name)]);
    writeFileSync(join(folder, 'real.json'), '{}');
    symlinkSync(join(folder, 'real.json'), join(folder, 'link.json'));
    mkdirSync(join(folder, 'dir.onnx'));
    writeFileSync(join(folder, 'input.jsonl'), `${JSON.stringify({ x: new Array(16).fill(0) })}\n`);
    return folder;
  });
}

const at = (context: MatrixContext, name: string) => join(specials(context), name);

export const filesTable: MatrixTable = {
  surface: 'Special files at the paths the CLI reads and writes',
  cliRows: [
    cliRow('inspect of a FIFO', (c) => ['inspect', at(c, 'fifo.onnx')], [
      OnnxError,
      'ERR_ONNX',
      exact`Expected an ONNX model file for ${/\/.*\/fifo\.onnx/} but received a special file`,
    ]),
    cliRow('convert -o a FIFO', (c) => ['convert', mlp, '-o', at(c, 'fifo.onnx'), '--precision', 'fp16'], [
      OnnxError,
      'ERR_IO',
      exact`Cannot write ${/\/.*\/fifo\.onnx/}: it is a FIFO (named pipe)${notReplaced}`,
    ]),
    cliRow('convert -o a symlink', (c) => ['convert', mlp, '-o', at(c, 'link.json'), '--precision', 'fp16'], [
      OnnxError,
      'ERR_IO',
      exact`Cannot write ${/\/.*\/link\.json/}: it is a symbolic link (to ${/\/.*\/real\.json/}); links are neither followed nor replaced: name the file itself, or remove the link`,
    ]),
    cliRow('convert -o a folder', (c) => ['convert', mlp, '-o', at(c, 'dir.onnx'), '--precision', 'fp16'], [
      OnnxError,
      'ERR_IO',
      exact`Cannot write ${/\/.*\/dir\.onnx/}: it is a folder`,
    ]),
    cliRow(
      'quantize --table of a FIFO',
      (c) => ['quantize', mlp, '-o', join(c.folder, 'q.onnx'), '--table', at(c, 'fifo.json')],
      [
        OnnxError,
        'ERR_IO',
        exact`Expected a readable calibration table at ${/\/.*\/fifo\.json/} but received a FIFO (named pipe)`,
      ],
    ),
    cliRow('run --input x= a FIFO', (c) => ['run', mlp, '--input', `x=${at(c, 'fifo.npy')}`, '--threads', '1'], [
      OnnxError,
      'ERR_IO',
      exact`Expected a readable .npy file for input "x" but received ${/\/.*\/fifo\.npy/} (it is a FIFO (named pipe))`,
    ]),
    cliRow(
      'run --output-dir holding a FIFO named like an output',
      (c) => ['run', mlp, '--output-dir', at(c, 'out'), '--shape', 'x:1x16', '--threads', '1'],
      [OnnxError, 'ERR_IO', exact`Cannot write ${/\/.*\/out\/y\.npy/}: it is a FIFO (named pipe)${notReplaced}`],
    ),
    cliRow('report of a FIFO', (c) => ['report', at(c, 'fifo.json')], [
      TensorRTNodeError,
      'ERR_IO',
      exact`Cannot read results file ${/\/.*\/fifo\.json/}: ${/\/.*\/fifo\.json/} is a FIFO (named pipe), not a regular file`,
    ]),
    cliRow('report --md a FIFO', (c) => ['report', results, '--md', at(c, 'fifo.md')], [
      TensorRTNodeError,
      'ERR_IO',
      exact`Cannot write report ${/\/.*\/fifo\.md/}: it is a FIFO (named pipe)${notReplaced}`,
    ]),
    cliRow('report --html a symlink', (c) => ['report', results, '--html', at(c, 'link.json')], [
      TensorRTNodeError,
      'ERR_IO',
      exact`Cannot write report ${/\/.*\/link\.json/}: it is a symbolic link (to ${/\/.*\/real\.json/}); links are neither followed nor replaced: name the file itself, or remove the link`,
    ]),
    cliRow(
      'bench --json a FIFO',
      (c) => [
        'bench',
        mlp,
        '--backend',
        'cpu',
        '--iterations',
        '2',
        '--duration',
        '0',
        '--warmup',
        '0',
        '--json',
        at(c, 'fifo.json'),
      ],
      [
        TensorRTNodeError,
        'ERR_IO',
        exact`Cannot write results file ${/\/.*\/fifo\.json/}: it is a FIFO (named pipe)${notReplaced}`,
      ],
    ),
    cliRow('bench --trtexec of a FIFO', (c) => ['bench', '--trtexec', at(c, 'fifo.json')], [
      TensorRTNodeError,
      'ERR_IO',
      exact`Cannot read trtexec results ${/\/.*\/fifo\.json/}: ${/\/.*\/fifo\.json/} is a FIFO (named pipe), not a regular file`,
    ]),
    cliRow(
      'batch --input of a FIFO',
      (c) => ['batch', mlp, '--input', at(c, 'fifo.jsonl'), '--output', join(c.folder, 'b1.jsonl'), '--backend', 'cpu'],
      [
        TensorRTNodeError,
        'ERR_IO',
        exact`Expected a .jsonl file or a folder of samples for --input but received ${/\/.*\/fifo\.jsonl/}, which is a FIFO (named pipe)`,
      ],
    ),
    cliRow(
      'batch --output a FIFO',
      (c) => ['batch', mlp, '--input', at(c, 'input.jsonl'), '--output', at(c, 'fifo.jsonl'), '--backend', 'cpu'],
      [
        TensorRTNodeError,
        'ERR_IO',
        exact`Cannot use ${/\/.*\/fifo\.jsonl/} as the output: it is a FIFO (named pipe); a batch job writes regular files only`,
      ],
    ),
    cliRow(
      'batch --output a symlink',
      (c) => ['batch', mlp, '--input', at(c, 'input.jsonl'), '--output', at(c, 'link.json'), '--backend', 'cpu'],
      [
        TensorRTNodeError,
        'ERR_IO',
        exact`Cannot use ${/\/.*\/link\.json/} as the output: it is a symbolic link (to ${/\/.*\/real\.json/}); links are neither followed nor replaced; a batch job writes regular files only`,
      ],
    ),
    cliRow(
      'batch --output a folder',
      (c) => ['batch', mlp, '--input', at(c, 'input.jsonl'), '--output', at(c, 'dir.onnx'), '--backend', 'cpu'],
      [
        TensorRTNodeError,
        'ERR_IO',
        exact`Cannot use ${/\/.*\/dir\.onnx/} as the output: it is a folder; a batch job writes regular files only`,
      ],
    ),
    cliRow('cache ls --dir of a FIFO', (c) => ['cache', 'ls', '--dir', at(c, 'fifo.json')], [
      TensorRTNodeError,
      'ERR_CACHE',
      exact`Expected a directory for the engine cache but received ${/\/.*\/fifo\.json/}, which is not a directory`,
    ]),
  ],
};
