/**
 * The integrity of `batch` output (issue 19 #4, #5, and issue 18's --on-error): one job per output
 * (two jobs on one --output used to both exit 0 with every record written twice), a checkpoint that
 * is checked against the files instead of trusted (edited counts used to produce wrong output with
 * exit 0), recovery that reads the output as a stream, input lines bounded in length, and malformed
 * records written to `<output>.rejects.jsonl` with --on-error skip. In-process, on the cpu backend.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync, mkdirSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBatchJob, type BatchJobOptions } from '../../lib/batch/job.js';
import { MAX_ANCHORS, withAnchor } from '../../lib/batch/checkpoint.js';
import { ArgumentRangeError, TensorRTNodeError } from '../../lib/core/errors.js';
import { serializeModel } from '../../lib/onnx/model.js';
import { createRandom } from '../../lib/onnx/random.js';
import { main } from '../../lib/cli/index.js';
import { expectError } from '../helpers/expect-error.js';
import { mlpModel, temporaryFolder } from '../helpers/onnx-fixtures.js';

const RECORDS = 200;
let folder: string;
let model: string;
let input: string;
let reference: string;
let count = 0;

function inputLines(total: number, seed: number): string[] {
  const random = createRandom(seed);
  return Array.from({ length: total }, (_, index) =>
    JSON.stringify(
      index % 7 === 0
        ? { id: `r-${index}`, x: Array.from(random.float32(16, -1, 1)) }
        : { x: Array.from(random.float32(16, -1, 1)) },
    ),
  );
}

const session = { backend: 'cpu' as const, cpu: { intraOpNumThreads: 1 } };
const job = (output: string, extra: Partial<BatchJobOptions> = {}): Promise<Awaited<ReturnType<typeof runBatchJob>>> =>
  runBatchJob({ model, input, output, batchSize: 8, session, ...extra });
const fresh = (name: string) => join(folder, `${count++}-${name}`);
const records = (path: string) =>
  readFileSync(path, 'utf8')
    .trimEnd()
    .split('\n')
    .map((line) => (JSON.parse(line) as { record: number }).record);

/** A job stopped after its first `after` records (the signal aborts; batches in flight finish). */
async function interrupted(output: string, after = 16, extra: Partial<BatchJobOptions> = {}): Promise<void> {
  const controller = new AbortController();
  const result = await job(output, {
    ...extra,
    signal: controller.signal,
    onProgress: ({ done }) => done >= after && controller.abort(),
  });
  expect(result.interrupted).toBe(true);
}

beforeAll(async () => {
  folder = temporaryFolder('trtnode-batch-integrity-');
  model = join(folder, 'mlp.onnx');
  writeFileSync(model, serializeModel(mlpModel()));
  input = join(folder, 'input.jsonl');
  writeFileSync(input, `${inputLines(RECORDS, 1).join('\n')}\n`);
  reference = join(folder, 'reference.jsonl');
  expect((await job(reference)).processed).toBe(RECORDS);
});
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('one job per output', () => {
  it('BAD CALL - two jobs on the same --output at once: the second is refused (ERR_IO naming the holder), every record is written once', async () => {
    const output = fresh('twice.jsonl');
    const [first, second] = await Promise.allSettled([job(output), job(output)]);
    const outcomes = [first, second].map((outcome) => outcome.status);
    expect(outcomes.sort()).toEqual(['fulfilled', 'rejected']);
    const refusal = (first.status === 'rejected' ? first.reason : (second as PromiseRejectedResult).reason) as TensorRTNodeError;
    expect(refusal).toBeInstanceOf(TensorRTNodeError);
    expect(refusal.code).toBe('ERR_IO');
    expect(refusal.message).toMatch(
      new RegExp(
        `^Another batch job is writing ${output.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(pid ${process.pid} on .+, since .+; lock .+\\.lock\\): wait for it to finish, or choose another --output$`,
      ),
    );
    expect(readFileSync(output).equals(readFileSync(reference))).toBe(true);
    expect(existsSync(`${output}.lock`)).toBe(false);
  });
});

describe('the checkpoint is checked against the output', () => {
  it('a resume after an interruption gives the uninterrupted output byte for byte', async () => {
    const output = fresh('resumed.jsonl');
    await interrupted(output);
    const resumed = await job(output);
    expect(resumed.resumedFrom).toBeGreaterThanOrEqual(16);
    expect(readFileSync(output).equals(readFileSync(reference))).toBe(true);
  });

  type Checkpoint = {
    recordsDone: number;
    complete: boolean;
    version: number;
    output: { records: number; bytes: number; sha256: string };
    anchors: unknown[];
  };
  const edits: [string, (checkpoint: Checkpoint, output: string) => void, RegExp][] = [
    [
      'recordsDone 1e9',
      (c) => void (c.recordsDone = 1e9),
      /: it counts 1000000000 records done but \d+ output lines and 0 rejected; pass --restart to start over$/,
    ],
    ['recordsDone -5', (c) => void (c.recordsDone = -5), /: its "recordsDone" is -5, not a count; pass --restart to start over$/],
    [
      'recordsDone +160',
      (c) => void (c.recordsDone += 160),
      /: it counts \d+ records done but \d+ output lines and 0 rejected; pass --restart to start over$/,
    ],
    [
      'recordsDone and output.records +160',
      (c) => void ((c.recordsDone += 160), (c.output.records += 160)),
      /: the output .* does not hold what it recorded \(its first \d+ bytes hold \d+ lines, not the \d+ recorded\); pass --restart to start over$/,
    ],
    [
      'output.bytes -37',
      (c) => void (c.output.bytes = -37),
      /: its "output\.bytes" is -37, not a count; pass --restart to start over$/,
    ],
    [
      'output.bytes 37 less',
      (c) => void (c.output.bytes -= 37),
      /: its "anchors\[\d+\]" is out of order with the states before or after it; pass --restart to start over$/,
    ],
    [
      'output.bytes 37 less, anchors dropped',
      (c) => void ((c.output.bytes -= 37), (c.anchors = c.anchors.slice(0, 1))),
      /: the output .* does not hold what it recorded \(its byte \d+ recorded as the end of a line is not a newline\); pass --restart to start over$/,
    ],
    [
      'anchors emptied',
      (c) => void (c.anchors = []),
      /: its "anchors" is not a list of 1 to 24 states; pass --restart to start over$/,
    ],
    [
      'complete: true midway',
      (c) => void (c.complete = true),
      /: it says the job is complete but counts \d+ of the shard's 200 records; pass --restart to start over$/,
    ],
    [
      'another digest',
      (c) => void (c.output.sha256 = '0'.repeat(64)),
      /: the output .* does not hold what it recorded \(its first \d+ bytes differ from what was written \(sha256 [0-9a-f]{12}\.\.\., recorded 000000000000\.\.\.\)\); pass --restart to start over$/,
    ],
    [
      'version 1 (an earlier tensorrt-node)',
      (c) => void (c.version = 1),
      /: it has version 1; this tensorrt-node resumes version 2 only; pass --restart to start over$/,
    ],
    [
      'a byte of the output changed',
      (_, output) => {
        const bytes = readFileSync(output);
        bytes[20] = bytes[20] === 0x31 ? 0x32 : 0x31;
        writeFileSync(output, bytes);
      },
      /: the output .* does not hold what it recorded \(its first \d+ bytes differ from what was written/,
    ],
  ];
  for (const [name, edit, message] of edits) {
    it(`BAD CALL - a checkpoint edited (${name}): refused with what differs, the output untouched`, async () => {
      const output = fresh('edited.jsonl');
      await interrupted(output);
      const checkpointPath = `${output}.checkpoint.json`;
      const checkpoint = JSON.parse(readFileSync(checkpointPath, 'utf8')) as Checkpoint;
      edit(checkpoint, output);
      writeFileSync(checkpointPath, JSON.stringify(checkpoint));
      const before = readFileSync(output);
      await expectError(
        () => job(output),
        TensorRTNodeError,
        'ERR_IO',
        new RegExp(
          `^Cannot resume from the checkpoint ${checkpointPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}${message.source}`,
        ),
      );
      expect(readFileSync(output).equals(before)).toBe(true);
      // --restart is the way out, and gives the right output.
      await job(output, { restart: true });
      expect(readFileSync(output).equals(readFileSync(reference))).toBe(true);
    });
  }

  it('an output shorter than its checkpoint (a machine crash): back to the newest earlier state it still holds (digest checked), then on', async () => {
    const output = fresh('crashed.jsonl');
    await interrupted(output, 40);
    const text = readFileSync(output, 'utf8');
    const cut = text.indexOf('\n', text.length >> 1) + 20; // in the middle of a line
    truncateSync(output, cut);
    const anchors = (
      JSON.parse(readFileSync(`${output}.checkpoint.json`, 'utf8')) as {
        anchors: { recordsDone: number; output: { bytes: number } }[];
      }
    ).anchors;
    const back = Math.max(...anchors.filter((anchor) => anchor.output.bytes <= cut).map((anchor) => anchor.recordsDone));
    expect(back).toBeGreaterThan(0);
    const resumed = await job(output);
    expect(resumed).toMatchObject({ recovered: true, resumedFrom: back });
    expect(readFileSync(output).equals(readFileSync(reference))).toBe(true);
  });

  it('a shorter output whose kept lines were changed too: the damaged states are passed over, never resumed from', async () => {
    const output = fresh('crashed-damaged.jsonl');
    await interrupted(output, 40);
    const bytes = readFileSync(output);
    const anchors = (
      JSON.parse(readFileSync(`${output}.checkpoint.json`, 'utf8')) as {
        anchors: { recordsDone: number; output: { bytes: number } }[];
      }
    ).anchors;
    const second = anchors.find((anchor) => anchor.recordsDone === 16)!;
    // A digit changed inside record 12, then the file cut after record 20: the states at 16 and 24 no longer match.
    const at = bytes.indexOf('"record":12') + 40;
    bytes[at] = bytes[at] === 0x31 ? 0x32 : 0x31;
    writeFileSync(output, bytes.subarray(0, anchors.find((anchor) => anchor.recordsDone === 24)!.output.bytes - 5));
    const resumed = await job(output);
    expect(resumed).toMatchObject({ recovered: true, resumedFrom: 8 });
    expect(second.output.bytes).toBeGreaterThan(at);
    expect(readFileSync(output).equals(readFileSync(reference))).toBe(true);
  });
});

describe('checkpoint anchors', () => {
  it("stay at most 24 over any number of batches: the job's start, the newest, and ever wider gaps between", () => {
    const state = (records: number) => ({
      recordsDone: records,
      output: { records, bytes: records * 100, sha256: 'a'.repeat(64) },
      rejects: { records: 0, bytes: 0, sha256: 'b'.repeat(64) },
    });
    let anchors = [state(0)];
    for (let records = 32; records <= 320_000; records += 32) anchors = withAnchor(anchors, state(records));
    expect(anchors).toHaveLength(MAX_ANCHORS);
    expect(anchors[0]!.recordsDone).toBe(0);
    expect(anchors.at(-1)!.recordsDone).toBe(320_000);
    const gaps = anchors.slice(1).map((anchor, index) => anchor.recordsDone - anchors[index]!.recordsDone);
    expect(gaps.at(-1)).toBeLessThan(gaps[1]!); // recent batches close together, old ones far apart
  });
});

describe('--on-error and bad records', () => {
  function badInput(name: string): { path: string; bad: number[] } {
    const lines = inputLines(40, 2);
    lines[3] = '{"x": [1, 2';
    lines[10] = JSON.stringify({ x: [1, 2, 3] });
    lines[25] = JSON.stringify({ id: 'huge', x: new Array(2000).fill(0.5) });
    const path = join(folder, name);
    writeFileSync(path, `${lines.join('\n')}\n`);
    return { path, bad: [3, 10, 25] };
  }

  it('skip: one malformed record does not stop the job; rejected records and their errors go to <output>.rejects.jsonl, counted in the result and the checkpoint', async () => {
    const { path, bad } = badInput('bad-skip.jsonl');
    const output = fresh('skipped.jsonl');
    const result = await job(output, { input: path, onError: 'skip', maxLineBytes: 4096 });
    expect(result).toMatchObject({
      total: 40,
      processed: 37,
      rejected: 3,
      rejectedThisRun: 3,
      rejectsPath: `${output}.rejects.jsonl`,
    });
    expect(records(output)).toEqual(Array.from({ length: 40 }, (_, index) => index).filter((index) => !bad.includes(index)));
    const rejects = readFileSync(`${output}.rejects.jsonl`, 'utf8')
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { record: number; line: number; error: { code: string; message: string } });
    expect(rejects.map(({ record, line, error }) => [record, line, error.code])).toEqual([
      [3, 4, 'ERR_INVALID_ARGUMENT'],
      [10, 11, 'ERR_INVALID_ARGUMENT'],
      [25, 26, 'ERR_INVALID_ARGUMENT'],
    ]);
    expect(rejects[0]!.error.message).toMatch(/^record 3 \(line 4 of .*bad-skip\.jsonl\): not valid JSON \(/);
    expect(rejects[1]!.error.message).toMatch(
      /^record 10 \(line 11 of .*\): Expected 16 elements \(shape \[1, 16\]\) for input "x" but received a Float32Array of length 3$/,
    );
    expect(rejects[2]!.error.message).toMatch(
      /^record 25 \(line 26 of .*\): the line is \d+ bytes long, over the limit of 4096 bytes \(--max-line-bytes\)$/,
    );
    const checkpoint = JSON.parse(readFileSync(`${output}.checkpoint.json`, 'utf8')) as {
      recordsDone: number;
      output: { records: number };
      rejects: { records: number };
      complete: boolean;
    };
    expect(checkpoint).toMatchObject({ recordsDone: 40, output: { records: 37 }, rejects: { records: 3 }, complete: true });
  });

  it('skip: interrupted and resumed, the output and the rejects file equal an uninterrupted run', async () => {
    const { path } = badInput('bad-resume.jsonl');
    const whole = fresh('skip-whole.jsonl');
    await job(whole, { input: path, onError: 'skip', maxLineBytes: 4096 });
    const output = fresh('skip-resumed.jsonl');
    await interrupted(output, 12, { input: path, onError: 'skip', maxLineBytes: 4096 });
    await job(output, { input: path, onError: 'skip', maxLineBytes: 4096 });
    expect(readFileSync(output).equals(readFileSync(whole))).toBe(true);
    expect(readFileSync(`${output}.rejects.jsonl`).equals(readFileSync(`${whole}.rejects.jsonl`))).toBe(true);
  });

  it('BAD CALL - fail (the default): the job stops at the first bad record, typed, naming it; the records before it are written', async () => {
    const { path } = badInput('bad-fail.jsonl');
    const output = fresh('failed.jsonl');
    await expectError(
      () => job(output, { input: path }),
      TensorRTNodeError,
      'ERR_INVALID_ARGUMENT',
      /^record 3 \(line 4 of .*bad-fail\.jsonl\): not valid JSON \(/,
    );
    expect(records(output)).toEqual([0, 1, 2]);
    expect(existsSync(`${output}.rejects.jsonl`)).toBe(false);
    // Rerun with skip: it goes on from the bad record instead of starting over.
    const skipped = await job(output, { input: path, onError: 'skip', maxLineBytes: 4096 });
    expect(skipped).toMatchObject({ resumedFrom: 3, rejected: 3 });
  });

  it('BAD CALL - a line over --max-line-bytes: a typed error naming the line and its length, the line never held', async () => {
    const path = join(folder, 'long-line.jsonl');
    const long = JSON.stringify({ x: new Array(100_000).fill(0.125) });
    writeFileSync(path, `${inputLines(2, 3)[0]}\n${long}\n`);
    await expectError(
      () => job(fresh('long.jsonl'), { input: path, maxLineBytes: 64 * 1024 }),
      TensorRTNodeError,
      'ERR_INVALID_ARGUMENT',
      new RegExp(
        `^record 1 \\(line 2 of .*long-line\\.jsonl\\): the line is ${long.length} bytes long, over the limit of 65536 bytes \\(--max-line-bytes\\)$`,
      ),
    );
  });

  it('the CLI: --on-error skip and --max-line-bytes, with the rejects in the summary; bad values refused', async () => {
    const { path } = badInput('bad-cli.jsonl');
    const output = fresh('cli.jsonl');
    let stderr = '';
    const sink = { write: (chunk: string) => ((stderr += chunk), true) } as unknown as NodeJS.WritableStream;
    const code = await main(
      [
        'batch',
        model,
        '--input',
        path,
        '--output',
        output,
        '--backend',
        'cpu',
        '--threads',
        '1',
        '--on-error',
        'skip',
        '--max-line-bytes',
        '4KiB',
      ],
      { stdout: sink, stderr: sink },
    );
    expect(code).toBe(0);
    expect(stderr).toMatch(
      new RegExp(
        `40 records in .*cli\\.jsonl \\(37 this run; 3 rejected \\(3 this run\\), in .*cli\\.jsonl\\.rejects\\.jsonl\\) in [\\d.]+ s, \\d+ records/s on cpu\\n$`,
      ),
    );
    const bad = async (args: string[]) => {
      let text = '';
      const errors = { write: (chunk: string) => ((text += chunk), true) } as unknown as NodeJS.WritableStream;
      expect(
        await main(['batch', model, '--input', path, '--output', fresh('x.jsonl'), ...args], { stdout: errors, stderr: errors }),
      ).toBe(2);
      return text;
    };
    expect(await bad(['--on-error', 'ignore'])).toBe(
      'tensorrt-node batch: Expected one of "fail", "skip" for --on-error but received "ignore" of type string [ERR_INVALID_ARGUMENT]\n',
    );
    expect(await bad(['--max-line-bytes', '1GiB'])).toBe(
      'tensorrt-node batch: Expected a size between 1 byte and 512.0 MiB (the longest string Node.js can parse) for --max-line-bytes but received "1GiB" of type string [ERR_INVALID_ARGUMENT]\n',
    );
    expect(ArgumentRangeError).toBeDefined();
  });
});

describe('special files at the paths a job reads and writes', () => {
  it(
    'BAD CALL - a FIFO, a symlink or a folder as --output, a FIFO as --input or at the checkpoint: ERR_IO at once, nothing hangs or is replaced',
    { timeout: 20_000 },
    async () => {
      const fifo = fresh('fifo.jsonl');
      execFileSync('mkfifo', [fifo]);
      await expectError(
        () => job(fifo),
        TensorRTNodeError,
        'ERR_IO',
        `Cannot use ${fifo} as the output: it is a FIFO (named pipe); a batch job writes regular files only`,
      );
      const target = fresh('target.jsonl');
      writeFileSync(target, 'kept\n');
      const link = fresh('link.jsonl');
      symlinkSync(target, link);
      await expectError(
        () => job(link, { restart: true }),
        TensorRTNodeError,
        'ERR_IO',
        `Cannot use ${link} as the output: it is a symbolic link (to ${target}); links are neither followed nor replaced; a batch job writes regular files only`,
      );
      expect(readFileSync(target, 'utf8')).toBe('kept\n');
      const dir = fresh('dir.jsonl');
      mkdirSync(dir);
      await expectError(
        () => job(dir),
        TensorRTNodeError,
        'ERR_IO',
        `Cannot use ${dir} as the output: it is a folder; a batch job writes regular files only`,
      );
      await expectError(
        () => job(fresh('from-fifo.jsonl'), { input: fifo }),
        TensorRTNodeError,
        'ERR_IO',
        `Expected a .jsonl file or a folder of samples for --input but received ${fifo}, which is a FIFO (named pipe)`,
      );
      const output = fresh('fifo-checkpoint.jsonl');
      execFileSync('mkfifo', [`${output}.checkpoint.json`]);
      await expectError(
        () => job(output),
        TensorRTNodeError,
        'ERR_IO',
        `Cannot resume from the checkpoint ${output}.checkpoint.json: it is a FIFO (named pipe), not a file; pass --restart to start over`,
      );
      const linkedInput = fresh('linked-input.jsonl');
      copyFileSync(input, join(folder, 'input-copy.jsonl'));
      symlinkSync(join(folder, 'input-copy.jsonl'), linkedInput);
      expect((await job(fresh('from-link.jsonl'), { input: linkedInput })).processed).toBe(RECORDS);
    },
  );
});
