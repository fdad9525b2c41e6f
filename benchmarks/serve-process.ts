/**
 * Starts the compiled `tensorrt-node serve` in its own process for the serve benchmarks (the server
 * and the load generator must not share an event loop), and builds the model repositories they use.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface ServeProcess {
  child: ChildProcess;
  urls: { http: string; grpc: string | null; metrics: string | null };
  stop(): Promise<number | null>;
}

export async function startServe(repository: string, args: string[] = []): Promise<ServeProcess> {
  const child = spawn(
    process.execPath,
    [join(root, 'dist/cli/index.js'), 'serve', repository, '--port', '0', '--grpc-port', '0', '--metrics-port', '0', ...args],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const urls = await new Promise<ServeProcess['urls']>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const event = JSON.parse(line) as { event: string };
      if (event.event === 'server.started') resolve(event as unknown as ServeProcess['urls']);
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}`)));
  });
  return {
    child,
    urls,
    async stop() {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      return code;
    },
  };
}

/** A repository with one model (version 1) and its config. */
export function repositoryWith(name: string, model: string | Uint8Array, config: Record<string, unknown>): string {
  const repository = mkdtempSync(join(tmpdir(), 'trtnode-bench-repo-'));
  mkdirSync(join(repository, name, '1'), { recursive: true });
  if (typeof model === 'string') copyFileSync(model, join(repository, name, '1', 'model.onnx'));
  else writeFileSync(join(repository, name, '1', 'model.onnx'), model);
  writeFileSync(join(repository, name, 'config.json'), JSON.stringify(config));
  return repository;
}
