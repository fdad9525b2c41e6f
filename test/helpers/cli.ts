/** Runs the compiled CLI (dist/) the way users do, in a child process. */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../lib/native.js';

export const cliPath = join(packageRoot, 'dist', 'cli', 'index.js');

export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; cli?: string; timeoutMs?: number } = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [options.cli ?? cliPath, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...options.env },
    cwd: options.cwd ?? packageRoot,
    timeout: options.timeoutMs ?? 120_000,
  });
}
