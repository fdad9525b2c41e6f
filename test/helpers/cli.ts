/** Runs the CLI: the compiled one (dist/) the way users do, in a child process, or main() in process. */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { main } from '../../lib/cli/index.js';
import { packageRoot } from '../../lib/addon/loader.js';

/** A stream that keeps what is written to it, for a command's stdout and stderr. */
export class TextSink extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

/** The CLI's main() in this process, with its exit code and what it wrote to stderr. */
export async function runMain(argv: string[]): Promise<{ code: number; stderr: string }> {
  const stderr = new TextSink();
  const code = await main(argv, { stdout: new TextSink(), stderr });
  return { code, stderr: stderr.text };
}

export const cliPath = join(packageRoot, 'dist', 'cli', 'index.js');

export function runCli(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; cli?: string; timeoutMs?: number } = {},
): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [options.cli ?? cliPath, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...options.env },
    cwd: options.cwd ?? packageRoot,
    timeout: options.timeoutMs ?? 120_000,
  });
}
