/**
 * Run under strace by test/matrix/untrusted-files.test.ts: reads each model given on the command
 * line through every reader that follows external data (readModel, inspect, the cpu backend from a
 * path and from bytes, `tensorrt-node convert` and `tensorrt-node run`) and prints, as JSON, the
 * error code each one failed with (null when it did not fail). The trace then shows which files
 * this process opened.
 */
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMain } from './cli.js';
import { createCpuBackend } from '../../lib/index.js';
import { inspect, readModel } from '../../lib/onnx/index.js';

async function codeOf(action: () => Promise<unknown>): Promise<string | null> {
  try {
    const result = await action();
    if (result && typeof result === 'object' && 'dispose' in result) await (result as { dispose(): Promise<void> }).dispose();
    return null;
  } catch (error) {
    return (error as { code?: string }).code ?? `untyped: ${String(error)}`;
  }
}

async function cliCode(argv: string[]): Promise<string | null> {
  const { code: exit, stderr } = await runMain(argv);
  return exit === 0 ? null : (/\[(ERR_\w+)\]\n$/.exec(stderr)?.[1] ?? `exit ${exit}: ${stderr}`);
}

// Usage: untrusted-reader.ts <model.onnx>... [-- <model.onnx>...]: models after `--` also go through
// the readers that start an onnxruntime worker (a second each, so only a few are given).
const separator = process.argv.indexOf('--');
const models = separator < 0 ? process.argv.slice(2) : process.argv.slice(2, separator);
const workerModels = separator < 0 ? [] : process.argv.slice(separator + 1);

const report: { path: string; reader: string; code: string | null }[] = [];
const inProcess = (path: string): [string, () => Promise<string | null>][] => [
  ['readModel', () => codeOf(() => readModel(path))],
  ['inspect', () => codeOf(() => inspect(path))],
  ['tensorrt-node convert', () => cliCode(['convert', path, '-o', join(tmpdir(), `untrusted-${process.pid}.onnx`)])],
];
const throughWorker = (path: string): [string, () => Promise<string | null>][] => [
  ['createCpuBackend(path)', () => codeOf(() => createCpuBackend(path, { intraOpNumThreads: 1 }))],
  ['createCpuBackend(bytes)', () => codeOf(() => createCpuBackend(readFileSync(path), { intraOpNumThreads: 1 }))],
  ['tensorrt-node run', () => cliCode(['run', path, '--threads', '1'])],
];
for (const [paths, readers] of [
  [models, inProcess],
  [workerModels, throughWorker],
] as const) {
  for (const path of paths) for (const [reader, read] of readers(path)) report.push({ path, reader, code: await read() });
}
process.stdout.write(JSON.stringify(report));
