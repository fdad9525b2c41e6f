/**
 * The Node.js flags a cpu backend worker starts with. Workers inherit the process's execArgv, but
 * Node refuses per-process flags in a worker (`--expose-gc`, V8 flags, `--max-old-space-size`:
 * ERR_WORKER_INVALID_EXEC_ARGV) and `--input-type` with a worker file, so a model would fail to
 * load in any process started with them. The worker only needs what decides how modules load:
 * loaders, preloads and export conditions (tsx, test runners, APM agents), plus the flags that
 * change how warnings and stacks print. Everything else is left to the process.
 */
const WITH_VALUE = new Set(['--import', '--require', '-r', '--loader', '--experimental-loader', '--conditions', '-C']);
const ALONE = new Set(['--enable-source-maps', '--no-warnings', '--no-deprecation', '--trace-warnings', '--trace-uncaught']);

export function workerExecArgv(execArgv: readonly string[]): string[] {
  const kept: string[] = [];
  for (let index = 0; index < execArgv.length; index++) {
    const arg = execArgv[index]!;
    const name = arg.startsWith('--') ? arg.split('=', 1)[0]! : arg;
    if (WITH_VALUE.has(name)) {
      if (arg.includes('=')) kept.push(arg);
      else if (index + 1 < execArgv.length) kept.push(arg, execArgv[++index]!);
    } else if (ALONE.has(arg)) {
      kept.push(arg);
    }
  }
  return kept;
}
