/** `tensorrt-node batch`: offline inference over a .jsonl file or a folder of samples, resumable and shardable. */
import { runBatchJob, type BatchJobResult } from '../../batch/job.js';
import { DEFAULT_MAX_LINE_BYTES, MAX_LINE_BYTES_LIMIT } from '../../batch/lines.js';
import type { Shard } from '../../batch/records.js';
import { ArgumentRangeError, ArgumentTypeError } from '../../core/errors.js';
import { formatBytes, parseByteSize } from '../../core/units.js';
import { expectOneOf, invalidValue } from '../../core/validate.js';
import type { Command } from '../command.js';
import { progressLine } from '../progress.js';
import { parseCount } from '../tensor-args.js';

interface BatchValues {
  input?: string;
  output?: string;
  'batch-size'?: string;
  shard?: string;
  backend?: string;
  contexts?: string;
  threads?: string;
  restart?: boolean;
  'on-error'?: string;
  'max-line-bytes'?: string;
  json?: boolean;
}

const usage =
  'batch <model> --input <file.jsonl | folder> --output <file.jsonl> [--batch-size N] [--shard i/n] [--backend auto|tensorrt|cpu] [--contexts N] [--on-error fail|skip] [--max-line-bytes 64MiB] [--restart]';

/** --max-line-bytes: a byte size from 1 byte to the longest string V8 holds (~512 MiB). */
export function parseMaxLineBytes(value: string | undefined): number {
  if (value === undefined) return DEFAULT_MAX_LINE_BYTES;
  const bytes = parseByteSize(value, '--max-line-bytes');
  if (bytes < 1 || bytes > MAX_LINE_BYTES_LIMIT)
    throw invalidValue(
      `a size between 1 byte and ${formatBytes(MAX_LINE_BYTES_LIMIT)} (the longest string Node.js can parse)`,
      '--max-line-bytes',
      value,
    );
  return bytes;
}

/** `i/n` with 0 <= i < n. */
export function parseShard(value: string | undefined): Shard {
  if (value === undefined) return { index: 0, count: 1 };
  const match = /^(\d+)\/(\d+)$/.exec(value);
  if (!match) throw new ArgumentTypeError(`Expected i/n (e.g. 0/4) for --shard but received ${JSON.stringify(value)}`);
  const index = Number(match[1]);
  const count = Number(match[2]);
  if (count < 1 || index >= count)
    throw new ArgumentRangeError(`Expected i/n with 0 <= i < n for --shard but received ${JSON.stringify(value)}`);
  return { index, count };
}

function summary(result: BatchJobResult, output: string): string {
  const rejected = result.rejected > 0 ? `; ${result.rejected} rejected, in ${result.rejectsPath}` : '';
  if (result.alreadyComplete) return `already complete: ${result.total} records in ${output} (nothing to do${rejected})`;
  const rate = result.processed / Math.max(result.seconds, 1e-9);
  const resumed =
    result.resumedFrom > 0
      ? `, resumed after ${result.resumedFrom}${result.recovered ? ' (recovered from the output: it was shorter than its checkpoint)' : ''}`
      : '';
  if (result.interrupted)
    return `interrupted after ${result.resumedFrom + result.processed + result.rejectedThisRun}/${result.total} records${rejected}; rerun the same command to resume`;
  const rejectedNow =
    result.rejected > 0 ? `; ${result.rejected} rejected (${result.rejectedThisRun} this run), in ${result.rejectsPath}` : '';
  return `${result.total} records in ${output} (${result.processed} this run${resumed}${rejectedNow}) in ${result.seconds.toFixed(1)} s, ${rate.toFixed(0)} records/s on ${result.backend}`;
}

export const batchCommand: Command<BatchValues> = {
  name: 'batch',
  usage,
  help: [
    '  --input <path>        a .jsonl file (one JSON object per line: input name -> values without the batch dim,',
    '                        optional "id") or a folder of samples (.npy for single-input models, subfolders, .json)',
    '  --output <file>       JSON Lines, one line per record in input order: {"record", "id"?, "outputs"}',
    '  --batch-size <n>      records per execution (default 32)',
    '  --shard <i/n>         only records whose index modulo n is i (e.g. Kubernetes Indexed Jobs: $(JOB_COMPLETION_INDEX)/N)',
    '  --backend <name>      auto (default), tensorrt or cpu',
    '  --contexts <n>        concurrent executions (default 1)',
    '  --threads <n>         cpu backend: onnxruntime intra-op threads per context',
    '  --on-error <mode>     fail (default): stop at the first record that cannot be read or run;',
    '                        skip: write it with its error to <output>.rejects.jsonl and go on',
    '  --max-line-bytes <n>  longest input line (default 64MiB, at most 512MiB); a longer line is such a record',
    '  --restart             discard an existing output, rejects file and checkpoint and start over',
    '  --json                print the result as JSON',
    '',
    'Progress goes to stderr. <output>.checkpoint.json records progress after every batch: rerun the same',
    'command after an interruption (even SIGKILL) to resume; no record is lost or written twice. A resume',
    'checks the checkpoint against the output (records, bytes, sha256) and refuses on any difference.',
    'One job per --output at a time (<output>.lock).',
  ].join('\n'),
  options: {
    input: { type: 'string' },
    output: { type: 'string' },
    'batch-size': { type: 'string' },
    shard: { type: 'string' },
    backend: { type: 'string' },
    contexts: { type: 'string' },
    threads: { type: 'string' },
    restart: { type: 'boolean' },
    'on-error': { type: 'string' },
    'max-line-bytes': { type: 'string' },
    json: { type: 'boolean' },
  },
  positionals: true,
  async run(values, positionals, { stdout, stderr }) {
    if (positionals.length !== 1)
      throw new ArgumentTypeError(
        `Expected one model path for \`tensorrt-node batch\` but received ${positionals.length}. Usage: tensorrt-node ${usage}`,
      );
    if (!values.input)
      throw new ArgumentTypeError(
        `Expected --input <file.jsonl | folder> for \`tensorrt-node batch\` but received none. Usage: tensorrt-node ${usage}`,
      );
    if (!values.output)
      throw new ArgumentTypeError(
        `Expected --output <file> for \`tensorrt-node batch\` but received none. Usage: tensorrt-node ${usage}`,
      );
    const shard = parseShard(values.shard);
    const backend =
      values.backend === undefined ? 'auto' : expectOneOf(values.backend, '--backend', ['auto', 'tensorrt', 'cpu'] as const);
    const threads = parseCount(values.threads, 'threads');
    const onError =
      values['on-error'] === undefined ? 'fail' : expectOneOf(values['on-error'], '--on-error', ['fail', 'skip'] as const);
    const maxLineBytes = parseMaxLineBytes(values['max-line-bytes']);
    const progress = progressLine(stderr, `batch ${shard.index}/${shard.count}`);
    // SIGINT/SIGTERM: finish the batches in flight, checkpoint, and stop (a second signal kills).
    const controller = new AbortController();
    let lastTenth = -1;
    const onSignal = () => controller.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      const result = await runBatchJob({
        model: positionals[0]!,
        input: values.input,
        output: values.output,
        batchSize: parseCount(values['batch-size'], 'batch-size') ?? 32,
        shard,
        restart: values.restart === true,
        onError,
        maxLineBytes,
        session: {
          backend,
          contexts: parseCount(values.contexts, 'contexts') ?? 1,
          ...(threads !== undefined && backend === 'cpu' ? { cpu: { intraOpNumThreads: threads } } : {}),
        },
        signal: controller.signal,
        onProgress: ({ done, total }) => {
          if (stderr.isTTY) return progress.update(done, total);
          // Logs: a line per tenth of the work.
          const tenth = Math.floor((done * 10) / Math.max(total, 1));
          if (tenth === lastTenth) return;
          lastTenth = tenth;
          stderr.write(`batch ${shard.index}/${shard.count}: ${done}/${total} records\n`);
        },
      });
      progress.finish(summary(result, values.output));
      if (values.json) stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return result.interrupted ? 130 : 0;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};
