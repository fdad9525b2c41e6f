/**
 * The one atomic writer behind every file tensorrt-node writes: modes, multi-file commits, typed
 * ERR_IO errors that keep the system error for callers that decide by errno, and no leftovers.
 * Real-mount faults (read-only, full) are in test/matrix/file-faults.test.ts; kills at every step in
 * cache-processes.test.ts.
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { parseTemporaryName, temporaryPathFor, writeFileAtomic, writeFilesAtomic } from '../../lib/core/atomic-write.js';
import { OnnxError, TensorRTNodeError } from '../../lib/core/errors.js';
import { errnoCode, fileIo, systemErrorOf, WRITE_CHUNK_BYTES } from '../../lib/core/file-io.js';
import { expectError } from '../helpers/expect-error.js';

const root = mkdtempSync(join(tmpdir(), 'tensorrt-node-atomic-'));
let folderCount = 0;
const freshFolder = () => {
  const folder = join(root, String(folderCount++));
  mkdirSync(folder);
  return folder;
};
const modeOf = (path: string) => statSync(path).mode & 0o777;
const injected = (code: string) => Object.assign(new Error(`${code}: injected failure`), { code });

afterEach(() => {
  vi.restoreAllMocks();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('writeFileAtomic', () => {
  it('writes bytes, text and pieces, and leaves only the target behind', async () => {
    const folder = freshFolder();
    await writeFileAtomic(join(folder, 'a.bin'), Uint8Array.of(1, 2, 3));
    await writeFileAtomic(join(folder, 'b.txt'), 'héllo\n');
    await writeFileAtomic(join(folder, 'c.bin'), [Uint8Array.of(1), new Uint8Array(0), Uint8Array.of(2, 3)]);
    expect([...readFileSync(join(folder, 'a.bin'))]).toEqual([1, 2, 3]);
    expect(readFileSync(join(folder, 'b.txt'), 'utf8')).toBe('héllo\n');
    expect([...readFileSync(join(folder, 'c.bin'))]).toEqual([1, 2, 3]);
    expect(readdirSync(folder).sort()).toEqual(['a.bin', 'b.txt', 'c.bin']);
  });

  it('writes large content in chunks through fileIo, in order', async () => {
    const folder = freshFolder();
    const positions: number[] = [];
    const writeChunk = fileIo.writeChunk;
    vi.spyOn(fileIo, 'writeChunk').mockImplementation(async (handle, chunk, position) => {
      positions.push(position);
      await writeChunk.call(fileIo, handle, chunk, position);
    });
    const bytes = new Uint8Array(WRITE_CHUNK_BYTES * 2 + 9).map((_, index) => index % 251);
    await writeFileAtomic(join(folder, 'big.bin'), [bytes.subarray(0, 7), bytes.subarray(7)]);
    expect(positions).toEqual([0, 7, 7 + WRITE_CHUNK_BYTES, 7 + 2 * WRITE_CHUNK_BYTES]);
    expect(Buffer.compare(readFileSync(join(folder, 'big.bin')), bytes)).toBe(0);
  });

  it('creates new files 0644, keeps the mode of the file it replaces, and uses an explicit mode as given', async () => {
    const folder = freshFolder();
    const previousUmask = process.umask(0o022);
    try {
      await writeFileAtomic(join(folder, 'new.json'), '{}');
      expect(modeOf(join(folder, 'new.json'))).toBe(0o644);
      writeFileSync(join(folder, 'shared.json'), 'old');
      chmodSync(join(folder, 'shared.json'), 0o664);
      await writeFileAtomic(join(folder, 'shared.json'), 'new');
      expect(modeOf(join(folder, 'shared.json'))).toBe(0o664);
      await writeFileAtomic(join(folder, 'shared.json'), 'private', { mode: 0o600 });
      expect(modeOf(join(folder, 'shared.json'))).toBe(0o600);
    } finally {
      process.umask(previousUmask);
    }
  });

  it('replaces a symlink with a regular file of the default mode (never follows it)', async () => {
    const folder = freshFolder();
    writeFileSync(join(folder, 'real.txt'), 'kept');
    chmodSync(join(folder, 'real.txt'), 0o600);
    symlinkSync(join(folder, 'real.txt'), join(folder, 'link.txt'));
    await writeFileAtomic(join(folder, 'link.txt'), 'replaced');
    expect(readFileSync(join(folder, 'real.txt'), 'utf8')).toBe('kept');
    expect(readFileSync(join(folder, 'link.txt'), 'utf8')).toBe('replaced');
    expect(modeOf(join(folder, 'link.txt')) & 0o600).toBe(0o600);
  });

  it('fsyncs the file and its directory unless durable is false', async () => {
    const folder = freshFolder();
    const fsync = vi.spyOn(fileIo, 'fsync');
    await writeFileAtomic(join(folder, 'a.json'), '{}');
    expect(fsync).toHaveBeenCalledTimes(2);
    fsync.mockClear();
    await writeFileAtomic(join(folder, 'a.json'), '[]', { durable: false });
    expect(fsync).not.toHaveBeenCalled();
    expect(readFileSync(join(folder, 'a.json'), 'utf8')).toBe('[]');
  });

  it('BAD CALL - a folder that does not exist: ERR_IO naming the target and why, the errno kept', async () => {
    const target = join(root, 'missing', 'results.json');
    const error = await expectError(() => writeFileAtomic(target, '{}', { description: 'results file' }), TensorRTNodeError, 'ERR_IO', `Cannot write results file ${target}: the folder does not exist (ENOENT)`);
    expect((error as TensorRTNodeError).details).toEqual({ file: target, errno: 'ENOENT' });
    expect(errnoCode(error)).toBe('ENOENT');
    expect(systemErrorOf(error)).toBe(error.cause);
  });

  it('BAD CALL - the ONNX toolkit gets its own error class', async () => {
    const target = join(root, 'missing', 'model.onnx');
    await expectError(() => writeFileAtomic(target, Uint8Array.of(1), { errorClass: OnnxError }), OnnxError, 'ERR_IO', `Cannot write ${target}: the folder does not exist (ENOENT)`);
  });

  it('BAD CALL - a full disk in the middle of the write: ERR_IO, the previous file untouched, no temporary file', async () => {
    const folder = freshFolder();
    const target = join(folder, 'engine.plan');
    writeFileSync(target, 'previous');
    vi.spyOn(fileIo, 'writeChunk').mockRejectedValue(injected('ENOSPC'));
    const error = await expectError(() => writeFileAtomic(target, new Uint8Array(16)), TensorRTNodeError, 'ERR_IO', `Cannot write ${target}: no space left on the device (ENOSPC)`);
    expect(errnoCode(error)).toBe('ENOSPC');
    expect(readFileSync(target, 'utf8')).toBe('previous');
    expect(readdirSync(folder)).toEqual(['engine.plan']);
  });

  it('BAD CALL - an errno without words: the system message', async () => {
    const folder = freshFolder();
    vi.spyOn(fileIo, 'rename').mockRejectedValue(injected('EIO'));
    await expectError(() => writeFileAtomic(join(folder, 'a.json'), '{}'), TensorRTNodeError, 'ERR_IO', `Cannot write ${join(folder, 'a.json')}: EIO: injected failure`);
    expect(readdirSync(folder)).toEqual([]);
  });
});

describe('writeFilesAtomic', () => {
  it('renames in the order given, after every file is written', async () => {
    const folder = freshFolder();
    const steps: string[] = [];
    const { open, rename } = fileIo;
    vi.spyOn(fileIo, 'open').mockImplementation(((path: string, ...rest: unknown[]) => {
      if (String(path).endsWith('.tmp')) steps.push(`write ${parseTemporaryName(String(path).split('/').pop()!)!.target}`);
      return (open as (...args: unknown[]) => unknown)(path, ...rest);
    }) as typeof fileIo.open);
    vi.spyOn(fileIo, 'rename').mockImplementation(async (from, to) => {
      steps.push(`rename ${String(to).split('/').pop()}`);
      await rename(from, to);
    });
    await writeFilesAtomic([
      { path: join(folder, 'model.onnx.data'), content: [Uint8Array.of(1)] },
      { path: join(folder, 'model.onnx'), content: Uint8Array.of(2) },
    ]);
    expect(steps).toEqual(['write model.onnx.data', 'write model.onnx', 'rename model.onnx.data', 'rename model.onnx']);
  });

  it('BAD CALL - the second file cannot be written: neither target changes, no temporary file', async () => {
    const folder = freshFolder();
    writeFileSync(join(folder, 'model.onnx'), 'old model');
    writeFileSync(join(folder, 'model.onnx.data'), 'old data');
    let calls = 0;
    const writeChunk = fileIo.writeChunk;
    vi.spyOn(fileIo, 'writeChunk').mockImplementation(async (...args) => {
      if (++calls === 2) throw injected('EDQUOT');
      await writeChunk.apply(fileIo, args);
    });
    const model = join(folder, 'model.onnx');
    await expectError(
      () => writeFilesAtomic([{ path: `${model}.data`, content: Uint8Array.of(1) }, { path: model, content: Uint8Array.of(2) }], { errorClass: OnnxError }),
      OnnxError,
      'ERR_IO',
      `Cannot write ${model}: the disk quota is exceeded (EDQUOT)`,
    );
    expect(readFileSync(model, 'utf8')).toBe('old model');
    expect(readFileSync(`${model}.data`, 'utf8')).toBe('old data');
    expect(readdirSync(folder).sort()).toEqual(['model.onnx', 'model.onnx.data']);
  });
});

describe('temporary names', () => {
  it('name their writer, so a sweep can tell a dead writer from a live one', () => {
    const name = temporaryPathFor('/cache/engines/abc.plan').split('/').pop()!;
    expect(parseTemporaryName(name)).toMatchObject({ target: 'abc.plan', pid: process.pid });
    expect(parseTemporaryName('.abc.plan.123.tmp')).toBeUndefined();
  });
});
