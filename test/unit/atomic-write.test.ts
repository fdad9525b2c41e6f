/**
 * The one atomic writer behind every file tensorrt-node writes: modes, multi-file commits, typed
 * ERR_IO errors that keep the system error for callers that decide by errno, and no leftovers.
 * Real-mount faults (read-only, full) are in test/matrix/file-faults.test.ts; kills at every step in
 * cache-processes.test.ts.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import {
  parseTemporaryName,
  sweepTemporaryFiles,
  temporaryPathFor,
  writeFileAtomic,
  writeFilesAtomic,
} from '../../lib/core/atomic-write.js';
import { currentProcess } from '../../lib/core/process-identity.js';
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

  it('keeps the mode of a 0600 file it replaces, whatever the umask (a private model converted in place stays private)', async () => {
    const folder = freshFolder();
    const previousUmask = process.umask(0o022);
    try {
      writeFileSync(join(folder, 'private.onnx'), 'old');
      chmodSync(join(folder, 'private.onnx'), 0o600);
      await writeFileAtomic(join(folder, 'private.onnx'), 'new');
      expect(modeOf(join(folder, 'private.onnx'))).toBe(0o600);
    } finally {
      process.umask(previousUmask);
    }
  });

  it('BAD CALL - a symlink at the target: ERR_IO naming where it points; neither the link nor its target changes', async () => {
    const folder = freshFolder();
    writeFileSync(join(folder, 'real.txt'), 'kept');
    symlinkSync(join(folder, 'real.txt'), join(folder, 'link.txt'));
    const target = join(folder, 'link.txt');
    const error = await expectError(
      () => writeFileAtomic(target, 'replaced', { description: 'report' }),
      TensorRTNodeError,
      'ERR_IO',
      `Cannot write report ${target}: it is a symbolic link (to ${join(folder, 'real.txt')}); links are neither followed nor replaced: name the file itself, or remove the link`,
    );
    expect((error as TensorRTNodeError).details).toEqual({ file: target, errno: 'ELOOP' });
    expect(lstatSync(target).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(folder, 'real.txt'), 'utf8')).toBe('kept');
    expect(readdirSync(folder).sort()).toEqual(['link.txt', 'real.txt']);
  });

  it('BAD CALL - a dangling symlink at the target: refused too (a write would create a file wherever it points)', async () => {
    const folder = freshFolder();
    symlinkSync(join(folder, 'elsewhere.txt'), join(folder, 'link.txt'));
    await expectError(
      () => writeFileAtomic(join(folder, 'link.txt'), 'x'),
      TensorRTNodeError,
      'ERR_IO',
      /^Cannot write .*link\.txt: it is a symbolic link \(to .*elsewhere\.txt\)/,
    );
    expect(readdirSync(folder)).toEqual(['link.txt']);
  });

  it('BAD CALL - a FIFO at the target: ERR_IO at once (no hang), the FIFO left as it was', async () => {
    const folder = freshFolder();
    const target = join(folder, 'out.json');
    execFileSync('mkfifo', [target]);
    const error = await expectError(
      () => writeFileAtomic(target, '{}', { description: 'results file' }),
      TensorRTNodeError,
      'ERR_IO',
      `Cannot write results file ${target}: it is a FIFO (named pipe); only regular files are replaced (character devices such as /dev/null, and /dev/stdout and /dev/stderr, are written through)`,
    );
    expect((error as TensorRTNodeError).details).toEqual({ file: target, errno: 'ENOTREGULAR' });
    expect(lstatSync(target).isFIFO()).toBe(true);
    expect(readdirSync(folder)).toEqual(['out.json']);
  });

  it('BAD CALL - a socket at the target: ERR_IO, the socket left as it was', async () => {
    const folder = freshFolder();
    const target = join(folder, 'engine.plan');
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(target, resolve));
    try {
      await expectError(
        () => writeFileAtomic(target, Uint8Array.of(1)),
        TensorRTNodeError,
        'ERR_IO',
        /^Cannot write .*engine\.plan: it is a socket; only regular files are replaced/,
      );
      expect(lstatSync(target).isSocket()).toBe(true);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('BAD CALL - a folder at the target: ERR_IO "it is a folder", nothing written', async () => {
    const folder = freshFolder();
    mkdirSync(join(folder, 'model.onnx'));
    await expectError(
      () => writeFileAtomic(join(folder, 'model.onnx'), 'x'),
      TensorRTNodeError,
      'ERR_IO',
      `Cannot write ${join(folder, 'model.onnx')}: it is a folder`,
    );
    expect(statSync(join(folder, 'model.onnx')).isDirectory()).toBe(true);
    expect(readdirSync(folder)).toEqual(['model.onnx']);
  });

  it('writes through a character device (as /dev/null is), never replacing it', async () => {
    const folder = freshFolder();
    // A device node of our own (root may create one) keeps the real /dev/null out of reach of a
    // regression; without root, /dev/null itself cannot be replaced and is what we write to.
    const device = join(folder, 'null');
    const made = spawnSync('mknod', [device, 'c', '1', '3']).status === 0;
    const target = made ? device : '/dev/null';
    await writeFileAtomic(target, 'discarded');
    await writeFilesAtomic([{ path: target, content: [Uint8Array.of(1, 2)] }]);
    expect(lstatSync(target).isCharacterDevice()).toBe(true);
    if (made) expect(readdirSync(folder)).toEqual(['null']);
  });

  it("writes through /dev/fd/N and /proc/self/fd/N (the process's own streams), appending, without replacing the file behind them", async () => {
    const folder = freshFolder();
    const file = join(folder, 'stdout.log');
    writeFileSync(file, 'earlier line\n');
    const inode = statSync(file).ino;
    const fd = openSync(file, 'a');
    try {
      await writeFileAtomic(`/dev/fd/${fd}`, 'first\n');
      await writeFileAtomic(`/proc/self/fd/${fd}`, 'second\n');
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(file, 'utf8')).toBe('earlier line\nfirst\nsecond\n');
    expect(statSync(file).ino).toBe(inode);
    expect(readdirSync(folder)).toEqual(['stdout.log']);
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
    const error = await expectError(
      () => writeFileAtomic(target, '{}', { description: 'results file' }),
      TensorRTNodeError,
      'ERR_IO',
      `Cannot write results file ${target}: the folder does not exist (ENOENT)`,
    );
    expect((error as TensorRTNodeError).details).toEqual({ file: target, errno: 'ENOENT' });
    expect(errnoCode(error)).toBe('ENOENT');
    expect(systemErrorOf(error)).toBe(error.cause);
  });

  it('BAD CALL - the ONNX toolkit gets its own error class', async () => {
    const target = join(root, 'missing', 'model.onnx');
    await expectError(
      () => writeFileAtomic(target, Uint8Array.of(1), { errorClass: OnnxError }),
      OnnxError,
      'ERR_IO',
      `Cannot write ${target}: the folder does not exist (ENOENT)`,
    );
  });

  it('BAD CALL - a full disk in the middle of the write: ERR_IO, the previous file untouched, no temporary file', async () => {
    const folder = freshFolder();
    const target = join(folder, 'engine.plan');
    writeFileSync(target, 'previous');
    vi.spyOn(fileIo, 'writeChunk').mockRejectedValue(injected('ENOSPC'));
    const error = await expectError(
      () => writeFileAtomic(target, new Uint8Array(16)),
      TensorRTNodeError,
      'ERR_IO',
      `Cannot write ${target}: no space left on the device (ENOSPC)`,
    );
    expect(errnoCode(error)).toBe('ENOSPC');
    expect(readFileSync(target, 'utf8')).toBe('previous');
    expect(readdirSync(folder)).toEqual(['engine.plan']);
  });

  it('BAD CALL - an errno without words: the system message', async () => {
    const folder = freshFolder();
    vi.spyOn(fileIo, 'rename').mockRejectedValue(injected('EIO'));
    await expectError(
      () => writeFileAtomic(join(folder, 'a.json'), '{}'),
      TensorRTNodeError,
      'ERR_IO',
      `Cannot write ${join(folder, 'a.json')}: EIO: injected failure`,
    );
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
      () =>
        writeFilesAtomic(
          [
            { path: `${model}.data`, content: Uint8Array.of(1) },
            { path: model, content: Uint8Array.of(2) },
          ],
          { errorClass: OnnxError },
        ),
      OnnxError,
      'ERR_IO',
      `Cannot write ${model}: the disk quota is exceeded (EDQUOT)`,
    );
    expect(readFileSync(model, 'utf8')).toBe('old model');
    expect(readFileSync(`${model}.data`, 'utf8')).toBe('old data');
    expect(readdirSync(folder).sort()).toEqual(['model.onnx', 'model.onnx.data']);
  });
});

/** A pid that is certainly dead: a child that ran and exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid!;
}

/** A temporary name as a writer with `pid` would have made it for `target`. */
function leftoverName(target: string, pid: number, startTicks: number | null = 1): string {
  return `.${target}.${currentProcess().hostTag}.${pid}.${startTicks ?? 'x'}.deadbeef.tmp`;
}

describe('temporary names', () => {
  it('name their writer, so a sweep can tell a dead writer from a live one', () => {
    const name = temporaryPathFor('/cache/engines/abc.plan').split('/').pop()!;
    expect(parseTemporaryName(name)).toMatchObject({ target: 'abc.plan', pid: process.pid });
    expect(parseTemporaryName('.abc.plan.123.tmp')).toBeUndefined();
  });

  it('fit in a file name (255 bytes) even for a target name of 250 bytes', async () => {
    const folder = freshFolder();
    const target = join(folder, `${'é'.repeat(123)}.onnx`);
    await writeFileAtomic(target, 'x');
    expect(readFileSync(target, 'utf8')).toBe('x');
    expect(Buffer.byteLength(temporaryPathFor(target).split('/').pop()!)).toBeLessThanOrEqual(255);
  });

  it('the next write to a target removes what killed writers of that target left, and nothing else', async () => {
    const folder = freshFolder();
    const dead = deadPid();
    const ours = leftoverName('model.onnx', dead);
    const otherTarget = leftoverName('other.onnx', dead);
    const live = leftoverName('model.onnx', process.pid, currentProcess().startTicks);
    for (const name of [ours, otherTarget, live]) writeFileSync(join(folder, name), 'half a model');
    mkdirSync(join(folder, leftoverName('model.onnx', dead).replace('deadbeef', 'feedface')));
    await writeFileAtomic(join(folder, 'model.onnx'), 'whole model');
    expect(readdirSync(folder).sort()).toEqual(
      [otherTarget, live, leftoverName('model.onnx', dead).replace('deadbeef', 'feedface'), 'model.onnx'].sort(),
    );
  });

  it('a sweep never removes a folder named like a temporary file', async () => {
    const folder = freshFolder();
    const name = leftoverName('a.plan', deadPid());
    mkdirSync(join(folder, name));
    expect(await sweepTemporaryFiles(folder, { maxAgeMs: 0 })).toBe(0);
    expect(readdirSync(folder)).toEqual([name]);
  });
});
