/** Identifies the model a benchmark ran, by content: the same bytes give the same hash on every host. */
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { basename } from 'node:path';
import type { ModelInfo } from './results.js';

export async function describeModelFile(path: string): Promise<ModelInfo> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return { path, name: basename(path), bytes: statSync(path).size, sha256: hash.digest('hex') };
}
