/**
 * The command line and batch jobs fuzzed as users meet them (issue 19): random argv with special
 * paths everywhere, in a child process (../cli-child.ts) so that a hang or a crash is a failure; and
 * batch jobs killed at random times, their checkpoint or output edited at random, then run again:
 * the output is always either byte-identical to an uninterrupted run or refused with a typed error
 * (and `--restart` then gives the right output).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { packageRoot } from '../../../lib/addon/loader.js';
import { runBatchJob } from '../../../lib/batch/job.js';
import { serializeModel } from '../../../lib/onnx/model.js';
import { mlpModel } from '../../helpers/onnx-fixtures.js';
import type { FuzzProperty } from '../harness.js';

/** Runs `args` with node (tsx loaded) in `packageRoot`; kills it after `killAfterMs` (SIGKILL) or `limitMs`. */
function runNode(
  args: string[],
  { killAfterMs, limitMs = 180_000 }: { killAfterMs?: number; limitMs?: number } = {},
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; timedOut: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: packageRoot, env: process.env });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const killer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    const limit = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, limitMs);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      clearTimeout(limit);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

/** Everything a batch case needs, made once: a model, two inputs (clean, and with bad records), their reference outputs. */
interface BatchFixture {
  folder: string;
  model: string;
  inputs: Record<'clean' | 'bad', string>;
  reference: Record<'clean' | 'bad', { output: Buffer; rejects: Buffer | null }>;
}

let fixture: Promise<BatchFixture> | undefined;
function batchFixture(): Promise<BatchFixture> {
  fixture ??= (async () => {
    const folder = mkdtempSync(join(tmpdir(), 'tensorrt-node-fuzz-batch-'));
    process.once('exit', () => rmSync(folder, { recursive: true, force: true }));
    const model = join(folder, 'mlp.onnx');
    writeFileSync(model, serializeModel(mlpModel()));
    const line = (index: number) =>
      JSON.stringify(
        index % 9 === 0
          ? { id: `r${index}`, x: Array.from({ length: 16 }, (_, at) => ((index + at) % 7) / 7) }
          : { x: Array.from({ length: 16 }, (_, at) => ((index * at) % 11) / 11) },
      );
    const clean = Array.from({ length: 300 }, (_, index) => line(index));
    const bad = clean.map((text, index) =>
      index % 37 === 5 ? '{"x": [1, 2' : index % 53 === 7 ? JSON.stringify({ x: [1] }) : text,
    );
    const inputs = { clean: join(folder, 'clean.jsonl'), bad: join(folder, 'bad.jsonl') };
    writeFileSync(inputs.clean, `${clean.join('\n')}\n`);
    writeFileSync(inputs.bad, `${bad.join('\n')}\n`);
    const reference = {} as BatchFixture['reference'];
    for (const kind of ['clean', 'bad'] as const) {
      const output = join(folder, `reference-${kind}.jsonl`);
      await runBatchJob({
        model,
        input: inputs[kind],
        output,
        batchSize: 4,
        onError: kind === 'bad' ? 'skip' : 'fail',
        session: { backend: 'cpu', cpu: { intraOpNumThreads: 1 } },
      });
      reference[kind] = {
        output: readFileSync(output),
        rejects: existsSync(`${output}.rejects.jsonl`) ? readFileSync(`${output}.rejects.jsonl`) : null,
      };
    }
    return { folder, model, inputs, reference };
  })();
  return fixture;
}

/** What a case does between the two runs: nothing, or damage to the checkpoint or the files. */
const edit = fc.oneof(
  { arbitrary: fc.constant({ kind: 'none' as const }), weight: 3 },
  {
    arbitrary: fc.record({
      kind: fc.constant('checkpoint' as const),
      field: fc.constantFrom(
        'recordsDone',
        'output.records',
        'output.bytes',
        'output.sha256',
        'rejects.records',
        'rejects.bytes',
        'complete',
        'version',
        'job.batchSize',
        'anchors.last',
        'anchors.first',
        'anchors',
      ),
      value: fc.oneof(
        fc.integer({ min: -10, max: 10 }),
        fc.constantFrom(1e9, -5, 160, 2 ** 53, 0.5, null, 'x', true, false, '0'.repeat(64)),
      ),
      relative: fc.boolean(),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      kind: fc.constantFrom('truncate-output' as const, 'truncate-rejects' as const),
      fraction: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({ kind: fc.constant('flip-output' as const), fraction: fc.double({ min: 0, max: 1, noNaN: true }) }),
    weight: 2,
  },
  { arbitrary: fc.constantFrom({ kind: 'delete-checkpoint' as const }, { kind: 'garbage-output' as const }), weight: 1 },
);
type Edit = typeof edit extends fc.Arbitrary<infer E> ? E : never;

function setPath(target: Record<string, unknown>, dotted: string, value: unknown, relative: boolean): void {
  const keys = dotted.split('.');
  let holder = target as Record<string, unknown>;
  for (const key of keys.slice(0, -1)) {
    if (key === 'anchors') {
      const anchors = holder.anchors as Record<string, unknown>[];
      holder = (keys.at(-1) === 'first' ? anchors[0] : anchors.at(-1)) as Record<string, unknown>;
      holder.recordsDone = relative && typeof value === 'number' ? (holder.recordsDone as number) + value : value;
      return;
    }
    holder = holder[key] as Record<string, unknown>;
  }
  const last = keys.at(-1)!;
  holder[last] =
    relative && typeof value === 'number' && typeof holder[last] === 'number' ? (holder[last] as number) + value : value;
}

function applyEdit(change: Edit, output: string): void {
  const checkpointPath = `${output}.checkpoint.json`;
  const rejectsPath = `${output}.rejects.jsonl`;
  switch (change.kind) {
    case 'none':
      return;
    case 'checkpoint': {
      if (!existsSync(checkpointPath)) return;
      const checkpoint = JSON.parse(readFileSync(checkpointPath, 'utf8')) as Record<string, unknown>;
      if (change.field === 'anchors')
        checkpoint.anchors =
          typeof change.value === 'number' ? (checkpoint.anchors as unknown[]).slice(0, Math.max(0, change.value)) : change.value;
      else setPath(checkpoint, change.field, change.value, change.relative);
      writeFileSync(checkpointPath, JSON.stringify(checkpoint));
      return;
    }
    case 'truncate-output':
    case 'truncate-rejects': {
      const path = change.kind === 'truncate-output' ? output : rejectsPath;
      if (existsSync(path)) truncateSync(path, Math.floor(readFileSync(path).byteLength * change.fraction));
      return;
    }
    case 'flip-output': {
      if (!existsSync(output)) return;
      const bytes = readFileSync(output);
      if (bytes.byteLength === 0) return;
      const at = Math.min(bytes.byteLength - 1, Math.floor(bytes.byteLength * change.fraction));
      bytes[at] = bytes[at]! ^ 0x04;
      writeFileSync(output, bytes);
      return;
    }
    case 'delete-checkpoint':
      rmSync(checkpointPath, { force: true });
      return;
    case 'garbage-output':
      if (existsSync(output)) writeFileSync(output, `${readFileSync(output, 'utf8')}{"record":999999,"outputs":{}}\n`);
      return;
  }
}

let batchCase = 0;
/** How the resumed runs ended, by what was done to the job between its runs. */
const outcomes: Record<string, { identical: number; refusedThenRestarted: number }> = {};
const tally = (change: Edit, outcome: 'identical' | 'refusedThenRestarted') => {
  const entry = (outcomes[change.kind] ??= { identical: 0, refusedThenRestarted: 0 });
  entry[outcome]++;
};

export const cliProperties: FuzzProperty[] = [
  {
    name: 'cli: random command lines with FIFOs, links, folders and /dev/null at every path exit with a code and a typed error, never hang, crash or touch what is at those paths',
    weight: 0,
    fixedRuns: 400,
    runExternally: async (numRuns, seed) => {
      const result = await runNode([join(packageRoot, 'test', 'fuzz', 'cli-child.ts'), String(numRuns), String(seed)], {
        limitMs: numRuns * 60_000 + 60_000,
      });
      let report: { runs: number; failure: string | null; exitCodes: Record<string, number> } | undefined;
      try {
        report = JSON.parse(result.stdout) as typeof report;
      } catch {
        report = undefined;
      }
      if (!report || result.signal || result.code !== 0) {
        return {
          runs: report?.runs ?? 0,
          failure:
            report?.failure ??
            `the CLI fuzzing child ${result.timedOut ? 'hung and was killed' : result.signal ? `was killed by ${result.signal}` : `exited with ${result.code}`} (seed ${seed}): ${result.stderr.slice(-2000)}`,
        };
      }
      return { runs: report.runs, failure: report.failure, details: { exitCodes: report.exitCodes } };
    },
  },
  {
    name: 'batch: jobs killed at random times and their checkpoint or output edited at random resume to output identical to an uninterrupted run, or are refused typed (and --restart repairs)',
    weight: 0,
    fixedRuns: 60,
    details: () => ({ outcomesByEdit: outcomes }),
    property: () =>
      fc.asyncProperty(
        fc.constantFrom<'clean' | 'bad'>('clean', 'bad'),
        fc.oneof(fc.constant(undefined), fc.integer({ min: 200, max: 4000 })),
        edit,
        async (kind, killAfterMs, change) => {
          const { folder, model, inputs, reference } = await batchFixture();
          const output = join(folder, `case-${batchCase++}.jsonl`);
          const cli = join(packageRoot, 'lib', 'cli', 'index.ts');
          const args = [
            'batch',
            model,
            '--input',
            inputs[kind],
            '--output',
            output,
            '--backend',
            'cpu',
            '--threads',
            '1',
            '--batch-size',
            '4',
            ...(kind === 'bad' ? ['--on-error', 'skip'] : []),
          ];
          const first = await runNode([cli, ...args], { killAfterMs });
          if (first.timedOut) throw new Error('the first run hung');
          applyEdit(change, output);
          const second = await runNode([cli, ...args]);
          if (second.timedOut) throw new Error('the resumed run hung');
          const matches = () =>
            readFileSync(output).equals(reference[kind].output) &&
            (reference[kind].rejects === null
              ? !existsSync(`${output}.rejects.jsonl`) || readFileSync(`${output}.rejects.jsonl`).byteLength === 0
              : readFileSync(`${output}.rejects.jsonl`).equals(reference[kind].rejects));
          if (second.code === 0) {
            if (!matches())
              throw new Error(
                `wrong output after ${JSON.stringify(change)} (killed after ${killAfterMs} ms); stderr: ${second.stderr.slice(-500)}`,
              );
            tally(change, 'identical');
          } else {
            if (second.code !== 2 || !/ \[ERR_[A-Z_]+\]\n$/.test(second.stderr))
              throw new Error(
                `the resumed run exited ${second.code} (${second.signal}) without a typed error: ${second.stderr.slice(-800)}`,
              );
            if (change.kind === 'none')
              throw new Error(`a job only killed (after ${killAfterMs} ms) was refused: ${second.stderr.slice(-500)}`);
            const restarted = await runNode([cli, ...args, '--restart']);
            if (restarted.code !== 0 || !matches())
              throw new Error(`--restart did not repair after ${JSON.stringify(change)}: ${restarted.stderr.slice(-500)}`);
            tally(change, 'refusedThenRestarted');
          }
          for (const suffix of ['', '.checkpoint.json', '.rejects.jsonl', '.lock']) rmSync(`${output}${suffix}`, { force: true });
        },
      ),
  },
];
