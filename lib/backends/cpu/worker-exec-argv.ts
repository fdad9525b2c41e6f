/**
 * Starting a module's worker thread, shared by the cpu backend's workers and the server's body
 * parsers, and the Node.js flags such a worker starts with. Workers inherit the process's execArgv,
 * but Node refuses per-process flags in a worker (`--expose-gc`, V8 flags, `--max-old-space-size`:
 * ERR_WORKER_INVALID_EXEC_ARGV) and `--input-type` with a worker file, so a model would fail to
 * load in any process started with them. The worker only needs what decides how modules load:
 * loaders, preloads and export conditions (tsx, test runners, APM agents), plus the flags that
 * change how warnings and stacks print. Everything else is left to the process.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, type ResourceLimits } from 'node:worker_threads';

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

/**
 * A worker running the module `basename` (no extension) next to `baseUrl` (the caller's
 * import.meta.url): its compiled JS in dist/, or the TypeScript source through tsx when running
 * from lib/ (tests).
 */
export function spawnModuleWorker(baseUrl: string, basename: string, options: { resourceLimits?: ResourceLimits } = {}): Worker {
  const compiled = new URL(`./${basename}.js`, baseUrl);
  const execArgv = workerExecArgv(process.execArgv);
  const limits = options.resourceLimits ? { resourceLimits: options.resourceLimits } : {};
  if (existsSync(fileURLToPath(compiled))) return new Worker(compiled, { execArgv, ...limits });
  const source = new URL(`./${basename}.ts`, baseUrl).href;
  // tsx (a devDependency) registers its ESM loader inside the worker; its "import" entry point is
  // taken from its package.json because the CommonJS one cannot register from an eval'd worker.
  const tsxPackage = createRequire(baseUrl).resolve('tsx/package.json');
  const tsxExports = (
    JSON.parse(readFileSync(tsxPackage, 'utf8')) as { exports: Record<string, { import: { default: string } }> }
  ).exports;
  const tsx = pathToFileURL(join(dirname(tsxPackage), tsxExports['./esm/api']!.import.default)).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(source)}); });`;
  return new Worker(bootstrap, { eval: true, execArgv, ...limits });
}
