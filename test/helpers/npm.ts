/** Runs npm and node the way a user's shell would, with this repository's TENSORRT_NODE_* switches removed. */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';

/** process.env without the switches that change how tensorrt-node builds or loads. */
export function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    npm_config_loglevel: 'warn',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
  };
  for (const name of Object.keys(env)) if (name.startsWith('TENSORRT_NODE_') || name === 'PREBUILDS_ONLY') delete env[name];
  return { ...env, ...extra };
}

export function npm(args: string[], cwd: string, extraEnv: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  return spawnSync('npm', args, { cwd, encoding: 'utf8', env: userEnv(extraEnv), timeout: 540_000 });
}

/** Runs a script with node in `cwd` (a consumer project), as ESM or CommonJS. */
export function node(
  code: string,
  cwd: string,
  type: 'module' | 'commonjs' = 'module',
  extraEnv: NodeJS.ProcessEnv = {},
): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [`--input-type=${type}`, '-e', code], {
    cwd,
    encoding: 'utf8',
    env: userEnv(extraEnv),
    timeout: 120_000,
  });
}
