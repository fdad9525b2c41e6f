import type { CacheKeyParts } from '../../lib/cache/index.js';

export function planFor(seed: number, builderPid: number, bytes: number): Buffer;
export function keyPartsFor(seed: number): CacheKeyParts;
