// The flags a cpu backend worker inherits: module loading kept, per-process flags Node refuses in
// workers dropped (a process started with --expose-gc could not load any model before this).
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { workerExecArgv } from '../../lib/backends/cpu/worker-exec-argv.js';

describe('cpu backend worker flags', () => {
  it('keeps loaders, preloads, conditions and warning flags in both spellings; drops the rest', () => {
    expect(
      workerExecArgv([
        '--expose-gc',
        '--import',
        'tsx',
        '--max-old-space-size=4096',
        '--input-type',
        'module',
        '-r',
        './preload.cjs',
        '--conditions=development',
        '-C',
        'custom',
        '--enable-source-maps',
        '--loader=ts-node/esm',
        '--stack-size=2000',
        '--no-warnings',
      ]),
    ).toEqual([
      '--import',
      'tsx',
      '-r',
      './preload.cjs',
      '--conditions=development',
      '-C',
      'custom',
      '--enable-source-maps',
      '--loader=ts-node/esm',
      '--no-warnings',
    ]);
    expect(workerExecArgv(['--input-type=module', '--expose-gc'])).toEqual([]);
    expect(workerExecArgv(['--import'])).toEqual([]);
  });

  it('what it keeps from a process with per-process flags starts a worker', async () => {
    const worker = new Worker('require("node:worker_threads").parentPort.postMessage("up")', {
      eval: true,
      execArgv: workerExecArgv(['--expose-gc', '--max-old-space-size=4096', '--no-warnings']),
    });
    const message = await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    expect(message).toBe('up');
    await worker.terminate();
  });
});
