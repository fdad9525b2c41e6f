/**
 * A child process for the multi-process engine cache tests and `npm run stress:cache`: it opens a
 * cache and asks for one engine, either racing other workers (mode "race") or so that the parent can
 * SIGKILL it in the middle of writing the entry (mode "write"). Plain JavaScript, so it runs against
 * lib/ under tsx (tests) or against dist/ with bare node (the stress script).
 *
 * argv[2] is a JSON config: { lib, ext, dir, seed, planBytes, mode, buildMs?, buildLog?, pauseAt? }.
 * `pauseAt` { op: 'open' | 'writeChunk' | 'fsync' | 'rename' | 'link', match, nth } stops the worker
 * just before the nth call of `op` on a path matching the regular expression `match` and tells the
 * parent ("paused"), so the parent can kill it at that exact step. Messages to the parent: ready, paused, warning, done.
 */
import { createHash } from 'node:crypto';
import { keyPartsFor, planFor } from './cache-fixture.mjs';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const config = JSON.parse(process.argv[2]);
const load = (name) => import(pathToFileURL(join(config.lib, `${name}.${config.ext}`)).href);
const { EngineCache, cacheKey } = await load('cache/index');
const { fileIo } = await load('core/file-io');

function installPause({ op, match, nth }) {
  const handlePaths = new WeakMap();
  const pattern = new RegExp(match);
  let seen = 0;
  const maybePause = async (called, path) => {
    if (called !== op || !pattern.test(String(path ?? ''))) return;
    seen++;
    if (seen !== nth) return;
    process.send({ type: 'paused', op, path: String(path) });
    await new Promise(() => {}); // until the parent's SIGKILL; the IPC channel keeps us alive
  };
  const { open, writeChunk, fsync, rename, link } = fileIo;
  fileIo.open = async (path, ...rest) => {
    await maybePause('open', path);
    const handle = await open(path, ...rest);
    handlePaths.set(handle, String(path));
    return handle;
  };
  fileIo.writeChunk = async (handle, ...rest) => {
    await maybePause('writeChunk', handlePaths.get(handle));
    return writeChunk.call(fileIo, handle, ...rest);
  };
  fileIo.fsync = async (handle) => {
    await maybePause('fsync', handlePaths.get(handle));
    return fsync.call(fileIo, handle);
  };
  fileIo.rename = async (from, to) => {
    await maybePause('rename', to);
    return rename(from, to);
  };
  fileIo.link = async (from, to) => {
    await maybePause('link', to);
    return link(from, to);
  };
}

const cache = await EngineCache.open(config.dir, {
  onWarning: (warning) => process.send({ type: 'warning', reason: warning.details.reason, message: warning.message }),
});
const key = cacheKey(keyPartsFor(config.seed));
if (config.pauseAt) installPause(config.pauseAt);

const build = async () => {
  if (config.buildLog) appendFileSync(config.buildLog, `${process.pid}\n`);
  if (config.buildMs) await sleep(config.buildMs);
  return { plan: planFor(config.seed, process.pid, config.planBytes), metadata: { seed: config.seed, builder: process.pid } };
};

if (config.mode === 'race') {
  process.send({ type: 'ready' });
  await new Promise((resolve) => process.once('message', resolve));
} else {
  process.send({ type: 'ready' });
}
const result = await cache.getOrBuild(key, build);
process.send({
  type: 'done',
  hit: result.hit,
  builder: result.metadata.builder,
  sha256: createHash('sha256').update(result.plan).digest('hex'),
});
process.disconnect();
