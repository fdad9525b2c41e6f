import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Capabilities } from '../../lib/capabilities.js';
import { cleanClone } from '../helpers/clean-clone.js';
import { runCli } from '../helpers/cli.js';

// `npm install` on a clean clone with CUDA switched off (the documented TENSORRT_NODE_DISABLE_CUDA
// switch) must succeed, build the CPU-only addon, and leave doctor able to explain what is missing.
describe('npm install without a CUDA toolkit', () => {
  const clone = cleanClone();
  afterAll(() => rmSync(clone, { recursive: true, force: true }));

  it('installs, builds a CPU-only addon, and doctor explains how to get CUDA', () => {
    const install = spawnSync('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], {
      cwd: clone,
      encoding: 'utf8',
      env: { ...process.env, TENSORRT_NODE_DISABLE_CUDA: '1', npm_config_loglevel: 'warn' },
      timeout: 540_000,
    });
    expect(install.status, install.stderr + install.stdout).toBe(0);
    expect(existsSync(join(clone, 'build', 'Release', 'tensorrt_node.node'))).toBe(true);
    expect(existsSync(join(clone, 'dist', 'cli', 'index.js'))).toBe(true);

    const doctor = runCli(['doctor', '--json'], { cwd: clone, cli: join(clone, 'dist', 'cli', 'index.js') });
    expect(doctor.status, doctor.stderr).toBe(0);
    const caps = JSON.parse(doctor.stdout) as Capabilities;
    expect(caps.addon.loaded).toBe(true);
    expect(caps.addon.path).toBe(join(clone, 'build', 'Release', 'tensorrt_node.node'));
    expect(caps.addon.build?.cuda).toEqual({ compiled: false, toolkitVersion: null, architectures: null, missingReason: 'CUDA was disabled by the TENSORRT_NODE_DISABLE_CUDA environment variable' });
    expect(caps.cuda.compiled).toBe(false);
    expect(caps.backends.cpu.available).toBe(true);
    expect(caps.backends.tensorrt.available).toBe(false);
    const cudaProblem = caps.problems.find((problem) => problem.area === 'cuda');
    expect(cudaProblem?.message).toBe('The addon was built without CUDA: CUDA was disabled by the TENSORRT_NODE_DISABLE_CUDA environment variable.');
    expect(cudaProblem?.fix).toContain('Install the CUDA toolkit 12.x or 13.x');

    const human = runCli(['doctor'], { cwd: clone, cli: join(clone, 'dist', 'cli', 'index.js') });
    expect(human.stdout).toContain('no    compiled without CUDA: CUDA was disabled by the TENSORRT_NODE_DISABLE_CUDA environment variable');

    // The CUDA API says why it is missing; host tensors and the completion machinery still work.
    const api = spawnSync(process.execPath, ['--input-type=module', '-e', `
      import { cuda, Tensor, copy } from './dist/index.js';
      import { loadAddon } from './dist/native.js';
      try { cuda.createStream(); } catch (error) { console.log(error.code, error.message); }
      const dst = Tensor.allocate('int32', [2]);
      await copy(dst, await Tensor.fromArray(new Int32Array([4, 2])));
      const done = await new (loadAddon().addon.CompletionQueueForTest)().submit(0);
      console.log(Array.from(dst.data).join(','), done.order);`], { cwd: clone, encoding: 'utf8' });
    expect(api.status, api.stderr).toBe(0);
    expect(api.stdout).toBe('ERR_NOT_SUPPORTED CUDA is not available in this build of tensorrt-node: CUDA was disabled by the TENSORRT_NODE_DISABLE_CUDA environment variable. Install the CUDA toolkit (nvcc on PATH) and run `npm rebuild tensorrt-node`.\n4,2 0\n');
  });

  it('with no nvcc anywhere, configuring detects that by itself and leaves CUDA out', () => {
    const configure = spawnSync('cmake', ['-S', clone, '-B', join(clone, 'build-nocuda'), '-Wno-dev'], {
      encoding: 'utf8',
      env: { PATH: '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' },
    });
    expect(configure.status, configure.stderr).toBe(0);
    expect(configure.stdout).toContain('CUDA:     left out: no CUDA toolkit was found');
    expect(configure.stdout).toContain('TensorRT: left out: TensorRT needs the CUDA layer, which was not built');
  });
});
