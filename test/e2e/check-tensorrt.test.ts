import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../lib/addon/loader.js';

function checkTensorRT(env: NodeJS.ProcessEnv) {
  const { TENSORRT_INCLUDE_DIR: _ignored, ...rest } = process.env;
  return spawnSync(process.execPath, [join(packageRoot, 'scripts', 'check-tensorrt.mjs')], {
    encoding: 'utf8',
    env: { ...rest, ...env },
  });
}

describe('npm run check:tensorrt', () => {
  it('BAD CALL - fails loudly when no headers are given', () => {
    const result = checkTensorRT({});
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('check:tensorrt: TENSORRT_INCLUDE_DIR is not set. Point it at a TensorRT include/ folder');
  });

  it('BAD CALL - fails loudly when the folder holds no TensorRT headers', () => {
    const empty = mkdtempSync(join(tmpdir(), 'no-headers-'));
    const result = checkTensorRT({ TENSORRT_INCLUDE_DIR: empty });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(`check:tensorrt: no NvInfer.h in ${empty}\n`);
  });
});
