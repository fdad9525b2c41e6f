/**
 * Builds test-only stand-ins for libnvinfer that export TensorRT's version entry points and nothing
 * else (native/tests/fake_tensorrt_version.c): enough to test the loader's version and entry-point
 * checks for real, and unable to imitate inference.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../lib/addon/loader.js';

/** Compiles `libnvinfer.so.<sonameMajor>` reporting `version` ("10.3.0") into a new folder. */
export function buildFakeTensorRT(sonameMajor: number, version: string): string {
  const [major = 0, minor = 0, patch = 0] = version.split('.').map(Number);
  const folder = mkdtempSync(join(tmpdir(), 'fake-trt-'));
  mkdirSync(folder, { recursive: true });
  execFileSync('cc', [
    '-shared',
    '-fPIC',
    '-fvisibility=hidden',
    `-DFAKE_TENSORRT_VERSION=${major * 10000 + minor * 100 + patch}`,
    '-o',
    join(folder, `libnvinfer.so.${sonameMajor}`),
    join(packageRoot, 'native', 'tests', 'fake_tensorrt_version.c'),
  ]);
  return folder;
}
