import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { capabilities } from '../../lib/addon/capabilities.js';
import { TensorRTNodeError } from '../../lib/core/errors.js';
import { buildFakeTensorRT } from '../helpers/fake-tensorrt.js';
import { expectError } from '../helpers/expect-error.js';
import { addon } from '../helpers/machine.js';

const headersMajor = addon?.buildInfo().tensorrt.headersMajor ?? null;

describe.skipIf(addon === null)('TensorRT library probe', () => {
  it('reports every searched path when libnvinfer is absent', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'no-trt-'));
    const probe = await addon!.tensorrtProbe({ libraryPath: empty });
    expect(probe.loaded).toBeNull();
    expect(probe.attempts.map((attempt) => attempt.path)).toEqual(
      // the compiled-in major first; without TensorRT headers, LibraryRequest's default order (10, 11)
      headersMajor === 11
        ? [join(empty, 'libnvinfer.so.11'), join(empty, 'libnvinfer.so.10')]
        : [join(empty, 'libnvinfer.so.10'), join(empty, 'libnvinfer.so.11')],
    );
    for (const attempt of probe.attempts) {
      expect(attempt).toMatchObject({ status: 'missing', outcome: 'not found', source: 'libraryPath option' });
    }
  });

  it('searches the environment, the dynamic linker and well-known folders by default', async () => {
    const probe = await addon!.tensorrtProbe({ extraDirs: ['/nonexistent/site-packages/tensorrt_libs'] });
    const sources = new Set(probe.attempts.map((attempt) => attempt.source));
    expect([...sources]).toEqual(
      expect.arrayContaining([
        'dynamic linker search (LD_LIBRARY_PATH, ld.so.cache, system folders)',
        'well-known location (Debian/Ubuntu packages)',
        'Python package (pip)',
      ]),
    );
    expect(probe.dynamicLinkerFolders).toContain('/usr/lib');
  });

  it('a library with only the version entry points is refused, with the reason', async () => {
    const folder = buildFakeTensorRT(10, '10.3.0');
    const probe = await addon!.tensorrtProbe({ libraryPath: folder });
    expect(probe.loaded).toBeNull();
    const attempt = probe.attempts.find((candidate) => candidate.path.endsWith('libnvinfer.so.10'))!;
    if (headersMajor === 11) {
      expect(attempt).toMatchObject({ status: 'wrong-major', outcome: 'TensorRT 10.3.0 (this addon was built for 11.x)' });
    } else {
      expect(attempt).toMatchObject({ status: 'missing-symbol', outcome: 'lacks the entry point createInferRuntime_INTERNAL' });
    }
  });

  it.runIf(headersMajor !== null)('a library of another major is a version mismatch in capabilities()', async () => {
    const otherMajor = headersMajor === 10 ? 11 : 10;
    const folder = buildFakeTensorRT(otherMajor, `${otherMajor}.1.0`);
    const caps = await capabilities({ tensorrtLibraryPath: folder });
    expect(caps.tensorrt.found).toBe(true);
    expect(caps.tensorrt.majorMatches).toBe(false);
    expect(caps.tensorrt.usable).toBe(false);
    const problem = caps.problems.find(
      (candidate) => candidate.area === 'tensorrt' && candidate.message.includes('this addon was built for'),
    );
    expect(problem?.message).toBe(
      `Found ${join(folder, `libnvinfer.so.${otherMajor}`)}: TensorRT ${otherMajor}.1.0 (this addon was built for ${headersMajor}.x).`,
    );
    expect(problem?.fix).toContain(`Install TensorRT ${headersMajor}.x`);
  });

  it('BAD CALL - wrong option types are rejected natively with a typed error', async () => {
    await expectError(
      () => addon!.tensorrtProbe({ libraryPath: 42 as unknown as string }),
      TensorRTNodeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a string for options.libraryPath',
    );
    await expectError(
      () => addon!.tensorrtProbe({ extraDirs: 'x' as unknown as string[] }),
      TensorRTNodeError,
      'ERR_INVALID_ARGUMENT',
      'Expected an array of strings for options.extraDirs',
    );
    await expectError(
      () => addon!.tensorrtProbe('x' as never),
      TensorRTNodeError,
      'ERR_INVALID_ARGUMENT',
      'Expected an object for options',
    );
  });
});
