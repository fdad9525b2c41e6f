/**
 * `tensorrt-node batch` as users run it (the compiled CLI in a child process): output in input order
 * equal to in-process results, SIGKILL midway and resume giving an output byte-identical to an
 * uninterrupted run, shards covering every record exactly once, and bad input.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { serializeModel } from '../../lib/onnx/model.js';
import { encodeNpy } from '../../lib/onnx/npy.js';
import { createRandom } from '../../lib/onnx/random.js';
import { InferenceSession } from '../../lib/session/inference-session.js';
import { cliPath, runCli } from '../helpers/cli.js';
import { chainModel, mlpModel, temporaryFolder } from '../helpers/onnx-fixtures.js';

function writeJsonl(path: string, count: number, width: number, seed: number): number[][] {
  const random = createRandom(seed);
  const rows: number[][] = [];
  const lines: string[] = [];
  for (let index = 0; index < count; index++) {
    const values = Array.from(random.float32(width, -1, 1));
    rows.push(values);
    lines.push(JSON.stringify(index % 5 === 0 ? { id: `tx-${index}`, x: values } : { x: values }));
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
  return rows;
}

interface Line {
  record: number;
  id?: string;
  outputs: Record<string, { shape: number[]; data: number[] }>;
}
const readLines = (path: string): Line[] =>
  readFileSync(path, 'utf8')
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as Line);

describe('tensorrt-node batch', () => {
  let folder: string;
  let mlp: string;
  let chain: string;
  let mlpRows: number[][];
  beforeAll(() => {
    folder = temporaryFolder('trtnode-batch-');
    mlp = join(folder, 'mlp.onnx');
    chain = join(folder, 'chain.onnx');
    writeFileSync(mlp, serializeModel(mlpModel()));
    writeFileSync(chain, serializeModel(chainModel({ layers: 24 })));
    mlpRows = writeJsonl(join(folder, 'mlp.jsonl'), 300, 16, 1);
    writeJsonl(join(folder, 'chain.jsonl'), 2000, 256, 2);
  });

  it("writes one line per record in input order, ids carried, values equal to the session's", async () => {
    const output = join(folder, 'mlp.out.jsonl');
    const result = runCli([
      'batch',
      mlp,
      '--input',
      join(folder, 'mlp.jsonl'),
      '--output',
      output,
      '--backend',
      'cpu',
      '--batch-size',
      '16',
    ]);
    expect(result.stderr).toMatch(
      /batch 0\/1: 300 records in .*mlp\.out\.jsonl \(300 this run\) in [\d.]+ s, \d+ records\/s on cpu\n$/,
    );
    expect(result.status).toBe(0);
    const lines = readLines(output);
    expect(lines.map((line) => line.record)).toEqual(mlpRows.map((_, index) => index));
    expect(lines[5]!.id).toBe('tx-5');
    expect(lines[6]!.id).toBeUndefined();
    await using session = await InferenceSession.create(mlpModel(), { backend: 'cpu' });
    for (const index of [0, 17, 299]) {
      const expected = (await session.run({ x: { data: mlpRows[index]!, shape: [1, 16] } })).y!.data as Float32Array;
      expect(lines[index]!.outputs.y!.shape).toEqual([8]);
      expect(lines[index]!.outputs.y!.data.map((value) => Math.fround(value))).toEqual(Array.from(expected));
    }
    const again = runCli([
      'batch',
      mlp,
      '--input',
      join(folder, 'mlp.jsonl'),
      '--output',
      output,
      '--backend',
      'cpu',
      '--batch-size',
      '16',
    ]);
    expect(again.stderr).toBe(`batch 0/1: already complete: 300 records in ${output} (nothing to do)\n`);
  });

  it('reads a folder of .npy samples (with or without the batch dim) in name order, like the same records as JSON Lines', () => {
    const samples = join(folder, 'samples');
    mkdirSync(samples);
    const lines: string[] = [];
    for (let index = 0; index < 12; index++) {
      const data = Float32Array.from(mlpRows[index]!);
      writeFileSync(
        join(samples, `${String(index).padStart(3, '0')}.npy`),
        encodeNpy({ dtype: 'float32', shape: index % 2 === 0 ? [16] : [1, 16], data }),
      );
      lines.push(JSON.stringify({ x: Array.from(data) }));
    }
    writeFileSync(join(folder, 'twelve.jsonl'), `${lines.join('\n')}\n`);
    for (const [input, output] of [
      [samples, 'from-npy.jsonl'],
      [join(folder, 'twelve.jsonl'), 'from-jsonl.jsonl'],
    ] as const) {
      expect(
        runCli(['batch', mlp, '--input', input, '--output', join(folder, output), '--backend', 'cpu', '--batch-size', '5'])
          .status,
      ).toBe(0);
    }
    expect(readFileSync(join(folder, 'from-npy.jsonl'), 'utf8')).toBe(readFileSync(join(folder, 'from-jsonl.jsonl'), 'utf8'));
    expect(readLines(join(folder, 'from-npy.jsonl')).map((line) => line.record)).toEqual(
      Array.from({ length: 12 }, (_, index) => index),
    );
  });

  it('resumes after SIGKILL midway (twice) without losing or repeating a record: the output equals an uninterrupted run byte for byte', async () => {
    const input = join(folder, 'chain.jsonl');
    const args = (output: string) => [
      'batch',
      chain,
      '--input',
      input,
      '--output',
      output,
      '--backend',
      'cpu',
      '--batch-size',
      '16',
    ];
    const reference = join(folder, 'chain.reference.jsonl');
    expect(runCli(args(reference)).status).toBe(0);

    const output = join(folder, 'chain.killed.jsonl');
    const checkpoint = `${output}.checkpoint.json`;
    const killedAt: number[] = [];
    for (const threshold of [300, 1100]) {
      const child = spawn(process.execPath, [cliPath, ...args(output)], { stdio: 'ignore' });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      let done = 0;
      const deadline = Date.now() + 60_000;
      while (done < threshold && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 2));
        try {
          done = (JSON.parse(readFileSync(checkpoint, 'utf8')) as { recordsDone: number }).recordsDone;
        } catch {
          // not written yet, or being replaced
        }
      }
      child.kill('SIGKILL');
      await exited;
      const saved = JSON.parse(readFileSync(checkpoint, 'utf8')) as { recordsDone: number; complete: boolean };
      expect(saved.complete).toBe(false);
      expect(saved.recordsDone).toBeLessThan(2000);
      killedAt.push(saved.recordsDone);
    }
    expect(killedAt[1]).toBeGreaterThan(killedAt[0]!);
    const resumed = runCli(args(output));
    expect(resumed.status).toBe(0);
    expect(resumed.stderr).toMatch(new RegExp(`2000 records in .* \\(\\d+ this run, resumed after ${killedAt[1]}\\)`));
    expect(readFileSync(output).equals(readFileSync(reference))).toBe(true);
  });

  it('--shard i/n: shards 0..n-1 together cover every record exactly once, with the same lines', () => {
    const whole = join(folder, 'mlp.out.jsonl');
    if (!existsSync(whole))
      expect(runCli(['batch', mlp, '--input', join(folder, 'mlp.jsonl'), '--output', whole, '--backend', 'cpu']).status).toBe(0);
    const lines: string[] = [];
    for (let shard = 0; shard < 3; shard++) {
      const output = join(folder, `mlp.shard${shard}.jsonl`);
      const result = runCli([
        'batch',
        mlp,
        '--input',
        join(folder, 'mlp.jsonl'),
        '--output',
        output,
        '--backend',
        'cpu',
        '--shard',
        `${shard}/3`,
      ]);
      expect(result.status).toBe(0);
      const shardLines = readFileSync(output, 'utf8').trimEnd().split('\n');
      expect(shardLines.every((line) => (JSON.parse(line) as Line).record % 3 === shard)).toBe(true);
      lines.push(...shardLines);
    }
    const records = lines.map((line) => (JSON.parse(line) as Line).record);
    expect(new Set(records).size).toBe(records.length);
    lines.sort((a, b) => (JSON.parse(a) as Line).record - (JSON.parse(b) as Line).record);
    expect(lines).toEqual(readFileSync(whole, 'utf8').trimEnd().split('\n'));
  });

  it('BAD CALL - malformed records, bad --shard, an output of another job, an existing output', () => {
    const bad = join(folder, 'bad.jsonl');
    writeFileSync(bad, `${JSON.stringify({ x: new Array(16).fill(0) })}\n{"x": [1, 2\n`);
    const malformed = runCli(['batch', mlp, '--input', bad, '--output', join(folder, 'bad.out.jsonl'), '--backend', 'cpu']);
    expect(malformed.status).toBe(2);
    expect(malformed.stderr).toMatch(
      /^batch 0\/1: 1\/2 records\ntensorrt-node batch: record 1 \(line 2 of .*bad\.jsonl\): not valid JSON \(.+\) \[ERR_INVALID_ARGUMENT\]\n$/,
    );
    // The record before the bad one was written and checkpointed: fixing the input and rerunning needs --restart (the input changed).
    expect(readLines(join(folder, 'bad.out.jsonl')).map((line) => line.record)).toEqual([0]);

    writeFileSync(bad, `${JSON.stringify({ x: new Array(15).fill(0) })}\n`);
    const short = runCli(['batch', mlp, '--input', bad, '--output', join(folder, 'short.out.jsonl'), '--backend', 'cpu']);
    expect(short.stderr).toMatch(
      /^tensorrt-node batch: record 0 \(line 1 of .*bad\.jsonl\): Expected 16 elements \(shape \[1, 16\]\) for input "x" but received a Float32Array of length 15 \[ERR_INVALID_ARGUMENT\]\n$/,
    );

    const shard = runCli([
      'batch',
      mlp,
      '--input',
      join(folder, 'mlp.jsonl'),
      '--output',
      join(folder, 'x.jsonl'),
      '--shard',
      '3/3',
    ]);
    expect(shard.stderr).toBe(
      'tensorrt-node batch: Expected i/n with 0 <= i < n for --shard but received "3/3" [ERR_INVALID_ARGUMENT]\n',
    );

    const whole = join(folder, 'mlp.out.jsonl');
    const otherJob = runCli([
      'batch',
      mlp,
      '--input',
      join(folder, 'mlp.jsonl'),
      '--output',
      whole,
      '--backend',
      'cpu',
      '--batch-size',
      '8',
    ]);
    expect(otherJob.status).toBe(2);
    expect(otherJob.stderr).toBe(
      `tensorrt-node batch: ${whole}.checkpoint.json belongs to another job (the batch size (16 then, 8 now) differ): pass --restart to start over, or choose another --output [ERR_IO]\n`,
    );

    const existing = join(folder, 'existing.jsonl');
    writeFileSync(existing, 'precious\n');
    const refused = runCli(['batch', mlp, '--input', join(folder, 'mlp.jsonl'), '--output', existing, '--backend', 'cpu']);
    expect(refused.stderr).toBe(
      `tensorrt-node batch: ${existing} exists and no checkpoint of this job is next to it: pass --restart to overwrite it, or choose another --output [ERR_IO]\n`,
    );
    expect(readFileSync(existing, 'utf8')).toBe('precious\n');
    expect(
      spawnSync(process.execPath, [
        cliPath,
        'batch',
        mlp,
        '--input',
        join(folder, 'mlp.jsonl'),
        '--output',
        existing,
        '--backend',
        'cpu',
        '--restart',
      ]).status,
    ).toBe(0);
  });
});
