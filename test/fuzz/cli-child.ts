/**
 * The CLI fuzzer, run in a child process by test/fuzz/properties/cli.ts so that a hang (a read of a
 * FIFO blocks a thread, or the whole process when synchronous) or a crash is seen as a failure
 * instead of stopping the runner. Each case is a random command line: a command (or none), its own
 * options and others', values from pools of hostile text and of special paths (FIFOs, a symlink, a
 * folder, a missing path, /dev/null) at every place a path goes, in any order.
 *
 * Invariants per case: main() resolves within CASE_LIMIT_MS with exit code 0, 1, 2 or 130; an exit
 * code of 2 prints one `tensorrt-node <command>: <message> [ERR_...]` line; nothing at the special
 * paths changes (a FIFO stays a FIFO, the link and what it points to are untouched, /dev/null stays a
 * character device); nothing is written outside the scratch folder.
 *
 * Usage: cli-child.ts <numRuns> <seed>. Prints {"runs", "failure", "exitCodes"} and exits 0 or 1.
 */
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../lib/addon/loader.js';
import { main } from '../../lib/cli/index.js';
import { loadCommands } from '../../lib/cli/commands/index.js';

const [numRuns = '100', seed = '1'] = process.argv.slice(2);
const CASE_LIMIT_MS = 60_000;

const scratch = mkdtempSync(join(tmpdir(), 'tensorrt-node-fuzz-cli-'));
process.once('exit', () => rmSync(scratch, { recursive: true, force: true }));
const fixture = join(packageRoot, 'test', 'fixtures', 'models', 'mlp.onnx');
const mlp = join(scratch, 'mlp.onnx');
const special = join(scratch, 'special');
mkdirSync(special);
const fifos = ['fifo.onnx', 'fifo.json', 'fifo.jsonl', 'fifo.npy', 'fifo.md', 'fifo.plan'].map((name) => join(special, name));
for (const fifo of fifos) execFileSync('mkfifo', [fifo]);
writeFileSync(join(special, 'real.json'), '{"kept": true}');
symlinkSync(join(special, 'real.json'), join(special, 'link.json'));
mkdirSync(join(special, 'folder.onnx'));
writeFileSync(join(special, 'folder.onnx', 'inside'), 'kept');
const records = join(scratch, 'records.jsonl');
writeFileSync(
  records,
  `${Array.from({ length: 12 }, (_, index) => JSON.stringify(index === 5 ? { x: [1, 2] } : { x: new Array(16).fill(index / 12) })).join('\n')}\n`,
);
const results = join(packageRoot, 'benchmarks', 'results', 'harness-self-test.json');

/** What every special path holds; compared after every case. */
function snapshot(): string {
  const kinds = fifos.map((fifo) => `${fifo}:${lstatSync(fifo).isFIFO()}`);
  return [
    ...kinds,
    `link:${readlinkSync(join(special, 'link.json'))}`,
    `real:${readFileSync(join(special, 'real.json'), 'utf8')}`,
    `folder:${readFileSync(join(special, 'folder.onnx', 'inside'), 'utf8')}`,
    `null:${lstatSync('/dev/null').isCharacterDevice()}`,
    `entries:${JSON.stringify(execFileSync('ls', ['-A', special], { encoding: 'utf8' }))}`,
  ].join('\n');
}

let outputs = 0;
/** A fresh path in the scratch folder, for outputs. */
const freshOutput = (extension: string) => join(scratch, 'out', `${outputs++}${extension}`);
mkdirSync(join(scratch, 'out'));

const specialPaths = [
  ...fifos,
  join(special, 'link.json'),
  join(special, 'folder.onnx'),
  join(special, 'missing.onnx'),
  '/dev/null',
];
const path = fc.oneof(
  fc.constantFrom(...specialPaths),
  fc.constantFrom('.json', '.onnx', '.md', '.html', '.jsonl', '.plan', '').map(freshOutput),
);
const modelPath = fc.oneof(
  { arbitrary: fc.constant(mlp), weight: 3 },
  { arbitrary: fc.constantFrom(...specialPaths, records, results), weight: 2 },
  { arbitrary: fc.string({ maxLength: 12 }), weight: 1 },
);

/** Values by option: short valid ones (no case may legitimately run for minutes) and hostile ones. */
const hostileText = fc.oneof(
  fc.string({ maxLength: 16 }),
  fc.constantFrom('', '-1', '0', 'NaN', '1e400', '2147483648', '4294967296', '\0', 'x', '1,,2', '0x10', 'null'),
);
const valuesByOption: Record<string, fc.Arbitrary<string>> = {
  duration: fc.constantFrom('0', '10ms', '50ms', '-1s', '2h', 'abc', '', '1.5.5s', '30'),
  warmup: fc.constantFrom('0', '10ms', '-1s', '2m', 'abc'),
  iterations: fc.constantFrom('1', '2', '0', '-1', 'two', '1e3', '99999999999'),
  'batch-size': fc.constantFrom('1', '4', '0', '-3', 'x', '99999999999'),
  batch: fc.constantFrom('1', '2', '0', '5000', '1,,2'),
  concurrency: fc.constantFrom('1', '2', '0', '9999'),
  contexts: fc.constantFrom('1', '2', '0', '65', 'x'),
  threads: fc.constantFrom('1', '0', 'x', '-1'),
  'max-line-bytes': fc.constantFrom('1KiB', '64', '0', '2GiB', 'x', '1.5MiB'),
  'on-error': fc.constantFrom('fail', 'skip', 'ignore', ''),
  shard: fc.constantFrom('0/1', '1/2', '2/2', '0/0', 'x', '1/'),
  shape: fc.constantFrom('x:1x16', 'x:0x16', 'x:1x15', 'y:1x16', 'x:4096x16', 'x:-1x16', 'x'),
  shapes: fc.constantFrom('x:1x16/1x16/1x16', 'x:1x16', 'x:2x16/1x16/4x16', ''),
  calibration: fc.oneof(fc.constantFrom('random:1', 'random:0', 'random:-1', 'random:x'), fc.constantFrom(...specialPaths)),
  samples: fc.constantFrom('1', '2', '0', '-1'),
  precision: fc.constantFrom('fp16', 'fp32', 'int8', 'fp4', 'fp16,int8', ''),
  backend: fc.constantFrom('cpu', 'auto', 'tensorrt', 'gpu', 'cpu,cpu'),
  'max-size': fc.constantFrom('1GiB', '0', '-1GiB', '2XB', '1e3'),
  'older-than': fc.constantFrom('30d', '0', '30', '1y', '-1d'),
  percentile: fc.constantFrom('50,99', '101', 'p99', '90,,99'),
  seed: fc.constantFrom('1', '-1', 'x'),
  workspace: fc.constantFrom('1GiB', '2XB', '0'),
  'opt-level': fc.constantFrom('1', '9', 'high'),
  input: fc.oneof(
    fc.constantFrom(records, join(special, 'folder.onnx'), `x=${fifos[3]!}`, 'x=/dev/null'),
    fc.constantFrom(...specialPaths),
  ),
  inputs: fc.constantFrom(...specialPaths),
  table: fc.constantFrom(...specialPaths),
  trtexec: fc.constantFrom(...specialPaths),
  baseline: fc.constantFrom('device=x', 'device', 'host=a,backend=cpu'),
  atol: fc.constantFrom('1e-3', 'x', '-1'),
  rtol: fc.constantFrom('1e-3', 'x'),
};
/** Options whose value is a path written to or read from. */
const pathOptions = new Set([
  'output',
  'o',
  'json',
  'md',
  'html',
  'output-dir',
  'export-times',
  'timing-cache',
  'dir',
  'out',
  'cache-dir',
  'tensorrt-lib',
]);

const commands = (await loadCommands()).filter((command) => command.name !== 'doctor' && command.name !== 'start');
const everyOption = [...new Set(commands.flatMap((command) => Object.keys(command.options)))];

function optionToken(
  name: string,
  command: { options: Record<string, { type: string; short?: string }> },
): fc.Arbitrary<string[]> {
  const spec = command.options[name];
  const flag = name.length === 1 ? `-${name}` : `--${name}`;
  if (spec?.type === 'boolean') return fc.constantFrom<string[]>([flag], [`${flag}=yes`]);
  const value = pathOptions.has(name) ? path : (valuesByOption[name] ?? hostileText);
  return fc.oneof(
    value.map((text): string[] => [flag, text]),
    value.map((text): string[] => [`${flag}=${text}`]),
    fc.constant<string[]>([flag]),
  );
}

const argvArbitrary = fc.oneof(
  {
    arbitrary: fc.constantFrom(...commands).chain((command) => {
      const own = Object.keys(command.options);
      const option = fc.oneof(
        { arbitrary: fc.constantFrom(...(own.length ? own : ['json'])), weight: 4 },
        { arbitrary: fc.constantFrom(...everyOption), weight: 1 },
      );
      const positional = command.name === 'cache' ? fc.constantFrom('ls', 'prune', 'clear', 'purge') : modelPath;
      return fc
        .tuple(
          fc.array(positional, { maxLength: 3 }),
          fc.array(
            option.chain((name) => optionToken(name, command)),
            { maxLength: 5 },
          ),
          fc.boolean(),
        )
        .map(([positionals, options, positionalsFirst]) => {
          // Outputs always land in the scratch folder or on a special path; a cache folder only inside scratch.
          const base = [
            command.name,
            ...(positionalsFirst ? [...positionals, ...options.flat()] : [...options.flat(), ...positionals]),
          ];
          if (command.name === 'cache' && !base.includes('--dir') && !base.some((token) => token.startsWith('--dir=')))
            base.push('--dir', join(scratch, 'cache'));
          if (command.name === 'cache' && base.includes('clear')) base.push('--yes');
          return base;
        });
    }),
    weight: 9,
  },
  { arbitrary: fc.array(hostileText, { maxLength: 4 }), weight: 1 },
);

const exitCodes: Record<string, number> = {};
const before = snapshot();
const pristine = readFileSync(fixture);

const property = fc.asyncProperty(argvArbitrary, async (argv) => {
  copyFileSync(fixture, mlp); // a case may convert it in place
  let stdout = '';
  let stderr = '';
  const sink = (append: (text: string) => void) =>
    ({ write: (chunk: string | Uint8Array) => (append(String(chunk)), true), isTTY: false }) as unknown as NodeJS.WritableStream;
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([
    main(argv, { stdout: sink((text) => (stdout += text)), stderr: sink((text) => (stderr += text)) }),
    new Promise<never>(
      (_, reject) => (timer = setTimeout(() => reject(new Error(`no exit within ${CASE_LIMIT_MS} ms`)), CASE_LIMIT_MS)),
    ),
  ]).finally(() => clearTimeout(timer));
  exitCodes[String(code)] = (exitCodes[String(code)] ?? 0) + 1;
  if (![0, 1, 2, 130].includes(code)) throw new Error(`exit code ${code}`);
  // A known command that fails says why in one typed line (an unknown command prints the usage instead).
  if (code === 2 && commands.some((command) => command.name === argv[0])) {
    if (!new RegExp(`(^|\\n)tensorrt-node ${argv[0]}: [^]+ \\[ERR_[A-Z_]+\\]$`).test(stderr.trimEnd()))
      throw new Error(`exit 2 without a typed error line: ${JSON.stringify(stderr.slice(-400))}`);
  }
  const after = snapshot();
  if (after !== before) throw new Error(`a special path changed:\n${before}\n->\n${after}`);
  if (!readFileSync(fixture).equals(pristine)) throw new Error('the fixture model outside the scratch folder changed');
  void stdout;
});

const details = await fc.check(property, { numRuns: Number(numRuns), seed: Number(seed), endOnFailure: true });
const failure = details.failed
  ? `${fc.defaultReportMessage(details) ?? 'failed'}\n${details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance)}`
  : null;
process.stdout.write(JSON.stringify({ runs: details.numRuns, failure, exitCodes }));
process.exit(failure ? 1 : 0);
