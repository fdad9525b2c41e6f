/**
 * `npm run conformance`: convertToFp16 and quantizeInt8 over the ONNX project's own backend test
 * corpus (see ./conformance/run-case.ts for what each case runs and how it is classed). The corpus is
 * not committed: extract it into .deps/onnx-tests (command printed when it is absent, and the run
 * then exits 0 so that CI without it passes). Cases run in child processes so that a crash inside
 * onnxruntime is recorded against the case that caused it instead of ending the run.
 *
 *   npm run conformance [-- --filter node/test_conv] [--jobs 2] [--corpus dir] [--out benchmarks/results] [--case-timeout 300]
 *
 * A full run (no --filter) writes benchmarks/results/onnx-conformance.{json,md}; a filtered one
 * prints its records and writes only with an explicit --out.
 */
import { spawn } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import { cpus, loadavg, platform, release } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';
import {
  CORPUS_FOLDERS,
  DEFAULT_CORPUS_ROOT,
  corpusPresent,
  corpusVersion,
  listCases,
  type CorpusCase,
} from './conformance/corpus.js';
import { LINE_PREFIX } from './conformance/protocol.js';
import { THRESHOLDS, type CaseRecord } from './conformance/run-case.js';
import { markdown, summarize } from './conformance/summary.js';

const { values } = parseArgs({
  options: {
    corpus: { type: 'string' },
    filter: { type: 'string', multiple: true },
    jobs: { type: 'string' },
    out: { type: 'string' },
    'case-timeout': { type: 'string' },
  },
});
const root = resolve(values.corpus ?? DEFAULT_CORPUS_ROOT);
const childScript = resolve(import.meta.dirname, 'conformance', 'child.ts');

function fetchHint(): string {
  return [
    `ONNX conformance skipped: no corpus at ${root}.`,
    'To run it, extract the backend test data of an ONNX release (v1.22.0 is the last that ships the node tests) into .deps/onnx-tests:',
    '  git clone --depth 1 --branch v1.22.0 https://github.com/onnx/onnx .deps/onnx-src',
    '  mkdir -p .deps/onnx-tests/onnx/backend/test/data',
    '  cp -r .deps/onnx-src/onnx/backend/test/data/{node,pytorch-converted,pytorch-operator,simple} .deps/onnx-tests/onnx/backend/test/data/',
    '  echo v1.22.0 > .deps/onnx-tests/VERSION',
    '(or, with a bare copy of the repository: git --git-dir=<it> archive v1.22.0 onnx/backend/test/data/<folder> | tar -x -C .deps/onnx-tests)',
  ].join('\n');
}

/** Runs `cases` in one child process after another, restarting after a crash or a hang. */
async function runShard(cases: CorpusCase[], timeoutSeconds: number, onRecord: (record: CaseRecord) => void): Promise<void> {
  let remaining = cases;
  while (remaining.length > 0) {
    const finished = new Set<string>();
    let current: { id: string; phase: string } | null = null;
    const child = spawn(process.execPath, ['--import', 'tsx', childScript], { stdio: ['pipe', 'pipe', 'pipe'] });
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, timeoutSeconds * 1000);
    };
    arm();
    let buffered = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text: string) => {
      buffered += text;
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (!line.startsWith(LINE_PREFIX)) continue;
        const message = JSON.parse(line.slice(LINE_PREFIX.length)) as { phase?: string; id?: string; record?: CaseRecord };
        arm();
        if (message.record) {
          finished.add(message.record.id);
          current = null;
          onRecord(message.record);
        } else {
          current = { id: message.id!, phase: message.phase! };
        }
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      stderr = (stderr + text).slice(-2000);
    });
    child.stdin.end(JSON.stringify(remaining));
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
      child.on('exit', (code, signal) => done({ code, signal })),
    );
    clearTimeout(timer);
    const crashed = current as { id: string; phase: string } | null;
    if (crashed) {
      const how = timedOut
        ? `no progress for ${timeoutSeconds} s`
        : `the process ended (${exit.signal ?? `exit code ${exit.code}`}): ${stderr.trim().split('\n').slice(-3).join(' ')}`;
      const record: CaseRecord =
        crashed.phase === 'baseline'
          ? { id: crashed.id, status: 'skipped', reason: `onnxruntime could not run the original: ${how}` }
          : {
              id: crashed.id,
              status: 'run',
              [crashed.phase === 'int8' ? 'int8' : crashed.phase === 'fp16' ? 'fp16' : 'inspect']: {
                class: 'broken',
                reason: `${crashed.phase}: ${how}`,
              },
            };
      finished.add(crashed.id);
      onRecord(record);
    } else if (exit.code !== 0 && finished.size < remaining.length) {
      throw new Error(`conformance child failed outside a case: ${stderr}`);
    }
    remaining = remaining.filter((testCase) => !finished.has(testCase.id));
  }
}

/** A record without the figures of steps that passed (their class says it all), skip reasons shortened. */
function compactRecord(record: CaseRecord): CaseRecord {
  const compact = { ...record };
  if (compact.reason && compact.reason.length > 240) compact.reason = `${compact.reason.slice(0, 240)}...`;
  for (const step of ['inspect', 'fp16', 'int8'] as const) {
    const result = compact[step];
    if (result?.class === 'ok' || result?.class === 'not-applicable') compact[step] = { ...result, worst: undefined };
  }
  return compact;
}

function environment(): Record<string, unknown> {
  const require = createRequire(import.meta.url);
  return {
    date: new Date().toISOString(),
    node: process.version,
    'onnxruntime-node': (require('onnxruntime-node/package.json') as { version: string }).version,
    'tensorrt-node': (require('../package.json') as { version: string }).version,
    os: `${platform()} ${release()}`,
    cpu: `${cpus()[0]?.model ?? 'unknown'} x ${cpus().length}`,
    loadAverageAtStart: loadavg().map((value) => Number(value.toFixed(2))),
  };
}

async function main(): Promise<number> {
  if (!corpusPresent(root)) {
    process.stdout.write(`${fetchHint()}\n`);
    return 0;
  }
  const env = environment();
  const filters = values.filter ?? [];
  const cases = listCases(root).filter(
    (testCase) => filters.length === 0 || filters.some((filter) => testCase.id.includes(filter)),
  );
  const jobs = Math.max(1, Number(values.jobs ?? 1));
  const timeoutSeconds = Number(values['case-timeout'] ?? 300);
  const records: CaseRecord[] = [];
  const started = performance.now();
  const shards = Array.from({ length: jobs }, (_, shard) => cases.filter((_, index) => index % jobs === shard));
  await Promise.all(
    shards.map((shard) =>
      runShard(shard, timeoutSeconds, (record) => {
        records.push(record);
        if (filters.length > 0) process.stdout.write(`${JSON.stringify(record)}\n`);
        if (records.length % 50 === 0 || records.length === cases.length) {
          process.stderr.write(
            `conformance: ${records.length}/${cases.length} cases, ${((performance.now() - started) / 1000).toFixed(0)} s\n`,
          );
        }
      }),
    ),
  );
  records.sort((a, b) => a.id.localeCompare(b.id));
  const summary = summarize(records);
  const meta = {
    corpus: { repository: 'github.com/onnx/onnx', version: corpusVersion(root), folders: CORPUS_FOLDERS },
    thresholds: THRESHOLDS,
    environment: { ...env, seconds: Math.round((performance.now() - started) / 1000) },
  };
  const out = values.out ?? (filters.length === 0 ? 'benchmarks/results' : undefined);
  if (out) {
    mkdirSync(out, { recursive: true });
    // One case per line: small enough to commit, and a rerun's diff shows which cases changed.
    const head = JSON.stringify({ ...meta, summary }, null, 1).slice(0, -2);
    writeFileSync(
      join(out, 'onnx-conformance.json'),
      `${head},\n "cases": [\n${records.map((record) => `  ${JSON.stringify(compactRecord(record))}`).join(',\n')}\n ]\n}\n`,
    );
    writeFileSync(join(out, 'onnx-conformance.md'), markdown(summary, records, meta));
  }
  const { fp16, int8 } = summary;
  process.stdout.write(
    `conformance: ${summary.run} run, ${summary.skipped} skipped, ${summary.unavailable} unavailable; ` +
      `FP16 ok ${fp16.ok}, refused ${fp16.refused}, broken ${fp16.broken}, inaccurate ${fp16.inaccurate}, n/a ${fp16['not-applicable']}; ` +
      `INT8 ok ${int8.ok}, refused ${int8.refused}, broken ${int8.broken}, inaccurate ${int8.inaccurate}, n/a ${int8['not-applicable']}; ` +
      `casts per converted node ${summary.casts.castsPerConvertedNode}${out ? `; written to ${out}/onnx-conformance.{json,md}` : ''}\n`,
  );
  return fp16.broken + int8.broken + summary.inspect.broken > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(2);
  },
);
