/**
 * Untrusted files (issue 10, part 2): hostile ONNX models, engine files, calibration sample
 * folders, bench results and trtexec files. Every reader either reads a valid file or fails with a
 * typed error of the expected code; nothing crashes; the CLI writers leave no output behind; and a
 * system-call trace of a separate process proves that files outside a model's folder are never
 * opened, whatever the model's external data says.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadResultsFile } from '../../lib/bench/results.js';
import { importTrtexecFile } from '../../lib/bench/trtexec-import.js';
import { isTensorRTNodeError } from '../../lib/core/errors.js';
import { convertToFp16, inspect, readModel } from '../../lib/onnx/index.js';
import { createCpuBackend, Engine } from '../../lib/index.js';
import { packageRoot } from '../../lib/addon/loader.js';
import { calibrationSamples } from '../../lib/precision/calibration-data.js';
import {
  escapingEntries,
  secretName,
  writeEngineCorpus,
  writeModelCorpus,
  writeResultsCorpus,
  writeSampleFolderCorpus,
  writeTrtexecCorpus,
  type CorpusEntry,
} from '../helpers/untrusted-files.js';
import { runMain } from '../helpers/cli.js';

const root = mkdtempSync(join(tmpdir(), 'tensorrt-node-untrusted-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs `read` and checks the outcome against what the entry says. */
async function expectOutcome(entry: CorpusEntry, reader: string, read: () => unknown): Promise<'read' | string> {
  let outcome: 'read' | string;
  let message = '';
  try {
    await read();
    outcome = 'read';
  } catch (error) {
    expect(isTensorRTNodeError(error), `${reader} of ${entry.name} threw an untyped ${String(error)}`).toBe(true);
    outcome = (error as { code: string }).code;
    message = (error as Error).message;
  }
  const allowed = typeof entry.expect === 'string' ? [entry.expect] : entry.expect;
  expect(allowed, `${reader} of ${entry.name}: ${outcome} ${message}`).toContain(outcome);
  if (outcome !== 'read' && entry.message) expect(message, `${reader} of ${entry.name}`).toMatch(entry.message);
  return outcome;
}

describe('untrusted ONNX models', () => {
  const { entries, secret } = writeModelCorpus(join(root, 'onnx'));

  it.each(entries)('$name: read, inspected and converted, or refused with a typed error', async (entry) => {
    const read = await expectOutcome(entry, 'readModel', () => readModel(entry.path));
    if (entry.name.startsWith('external data')) {
      // inspect() reads no weights: a location it would refuse to read is an error finding in its report.
      const outcome = await expectOutcome({ ...entry, expect: ['read', 'ERR_ONNX'] }, 'inspect', async () => {
        const report = await inspect(entry.path);
        expect(
          report.tensorrt
            .filter((finding) => finding.severity === 'error')
            .map((finding) => finding.message)
            .join('\n'),
        ).toMatch(entry.message ?? /./);
      });
      expect(outcome).not.toBe('ERR_INTERNAL');
    } else {
      await expectOutcome(entry, 'inspect', () => inspect(entry.path));
    }
    if (read === 'read') {
      // A model that reads must also convert, or fail typed (a flipped bit can make a graph the transform refuses).
      try {
        convertToFp16(await readModel(entry.path));
      } catch (error) {
        expect(isTensorRTNodeError(error), String(error)).toBe(true);
      }
    }
    // The CLI writer: on failure, exit 2 and no output, not even a temporary file.
    const outFolder = mkdtempSync(join(root, 'convert-'));
    const out = join(outFolder, 'out.onnx');
    const { code, stderr } = await runMain(['convert', entry.path, '-o', out]);
    if (read === 'read') expect([0, 2]).toContain(code);
    else {
      expect(code, stderr).toBe(2);
      expect(stderr).toMatch(/^tensorrt-node convert: .* \[ERR_\w+\]\n$/);
    }
    if (code !== 0) expect(readdirSync(outFolder)).toEqual([]);
  });

  it('the cpu backend refuses models whose external data leads out, given their path or their bytes', async () => {
    // Two of them (an absolute location, a symlinked folder): each costs a worker thread with onnxruntime.
    const escaping = escapingEntries(entries);
    await Promise.all(
      [escaping[0]!, escaping.at(-1)!].map(async (entry) => {
        await expectOutcome(entry, 'createCpuBackend(path)', () => createCpuBackend(entry.path, { intraOpNumThreads: 1 }));
        const bytes = readFileSync(entry.path);
        await expectOutcome(
          { ...entry, message: /^Expected a model with all its weights in its bytes for <bytes>/ },
          'createCpuBackend(bytes)',
          () => createCpuBackend(bytes, { intraOpNumThreads: 1 }),
        );
      }),
    );
  });

  const strace = spawnSync('strace', ['-V'], { encoding: 'utf8' }).status === 0;
  it.skipIf(!strace)(
    'a system-call trace shows the file outside the model folders is never opened (readModel, inspect, the cpu backend, the CLI)',
    () => {
      const trace = join(root, 'strace.log');
      const script = join(packageRoot, 'test', 'helpers', 'untrusted-reader.ts');
      const escaping = escapingEntries(entries).map((entry) => entry.path);
      // Every escaping model through the in-process readers; one (a symlinked folder) also through the onnxruntime worker.
      const throughWorker = [escaping.at(-1)!];
      const run = spawnSync(
        'strace',
        [
          '-f',
          '-qq',
          '-e',
          'trace=open,openat,openat2',
          '-o',
          trace,
          process.execPath,
          '--import',
          'tsx',
          script,
          ...escaping,
          '--',
          ...throughWorker,
        ],
        { encoding: 'utf8', cwd: packageRoot, timeout: 120_000 },
      );
      expect(run.status, run.stderr).toBe(0);
      const report = JSON.parse(run.stdout) as { path: string; reader: string; code: string | null }[];
      expect(report.length).toBe((escaping.length + throughWorker.length) * 3);
      for (const outcome of report)
        expect(outcome.code, `${outcome.reader} ${outcome.path}`).toBe(outcome.reader === 'inspect' ? null : 'ERR_ONNX');
      const opens = readFileSync(trace, 'utf8')
        .split('\n')
        .filter((line) => /\bopen(at2?)?\(/.test(line));
      expect(opens.length).toBeGreaterThan(100); // the trace did record the process's file opens
      expect(opens.filter((line) => line.includes(secretName))).toEqual([]);
      expect(existsSync(secret)).toBe(true);
    },
  );
});

describe('untrusted engine files', () => {
  const entries = writeEngineCorpus(join(root, 'engines'));

  it.each(entries)('$name: Engine.load fails cleanly', async (entry) => {
    await expectOutcome(entry, 'Engine.load(path)', () => Engine.load(entry.path));
    if (!entry.beforeTensorRT && !entry.name.startsWith('a sparse')) {
      await expectOutcome(entry, 'Engine.load(bytes)', () => Engine.load(readFileSync(entry.path)));
    }
  });
});

describe('untrusted calibration sample folders', () => {
  const entries = writeSampleFolderCorpus(join(root, 'samples'), join(root, 'onnx', secretName));
  const inputs = [{ name: 'x', dtype: 'float32' as const, shape: [-1, 16] }];

  it.each(entries)('$name: read or refused before anything outside is opened', async (entry) => {
    await expectOutcome(entry, 'calibrationSamples', async () => {
      for await (const sample of calibrationSamples(entry.path, inputs)) expect(Object.keys(sample)).toEqual(['x']);
    });
  });

  it('quantize --calibration <hostile folder> exits 2 and writes nothing', async () => {
    const out = mkdtempSync(join(root, 'quantize-'));
    const hostile = entries.find((entry) => entry.name === 'a symlink out of the folder')!;
    const { code, stderr } = await runMain([
      'quantize',
      join(packageRoot, 'test', 'fixtures', 'models', 'mlp.onnx'),
      '-o',
      join(out, 'q.onnx'),
      '--calibration',
      hostile.path,
      '--threads',
      '1',
    ]);
    expect(code, stderr).toBe(2);
    expect(stderr).toMatch(
      /^tensorrt-node quantize: Expected samples inside .* a symlink that leads out of the folder to .* \[ERR_IO\]\n$/,
    );
    expect(readdirSync(out)).toEqual([]);
  });
});

describe('untrusted bench results and trtexec files', () => {
  const results = writeResultsCorpus(join(root, 'results'));
  const trtexec = writeTrtexecCorpus(join(root, 'trtexec'));

  it.each(results)('results file $name: loaded or refused; report writes nothing on failure', async (entry) => {
    const loaded = await expectOutcome(entry, 'loadResultsFile', () => loadResultsFile(entry.path));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const out = mkdtempSync(join(root, 'report-'));
    const { code } = await runMain(['report', entry.path, '--html', join(out, 'r.html'), '--md', join(out, 'r.md')]);
    expect(code).toBe(loaded === 'read' ? 0 : 2);
    expect(readdirSync(out).sort()).toEqual(loaded === 'read' ? ['r.html', 'r.md'] : []);
  });

  it.each(trtexec)('trtexec file $name: imported or refused', async (entry) => {
    await expectOutcome(entry, 'importTrtexecFile', () => importTrtexecFile(entry.path));
  });
});

beforeAll(() => {
  expect(existsSync(root)).toBe(true);
});
