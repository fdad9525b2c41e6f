/**
 * Where the cache lives and how its folder is made safe. Engines may embed code that runs on load,
 * so the folder must be the current user's alone (0700, files 0600):
 *
 * - a missing folder is created 0700 and tagged with CACHEDIR.TAG (the standard that tells backup
 *   tools to skip caches; https://bford.info/cachedir/);
 * - an existing folder owned by another user is refused;
 * - an existing folder with looser permissions is tightened to 0700 when it is ours to fix (empty,
 *   or already tagged as a tensorrt-node cache) and refused otherwise: chmod-ing a folder full of
 *   someone's files because an environment variable pointed at it would be worse than no cache.
 *
 * Refusals are ERR_CACHE errors; EngineCache.open turns them into a warning and a disabled cache
 * unless it is asked to be strict (the CLI is).
 */
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { ErrorCode, TensorRTNodeError } from '../core/errors.js';
import { describeFileKind, fileIo, errnoCode, readRegularFile, unlessMissing } from '../core/file-io.js';

export const CACHEDIR_TAG_NAME = 'CACHEDIR.TAG';
const cacheDirTag = [
  'Signature: 8a477f597d28d172789f06886806bc55',
  '# This file is a cache directory tag created by tensorrt-node (engine cache).',
  '# For information about cache directory tags, see https://bford.info/cachedir/',
  '',
].join('\n');

export interface CacheLayout {
  root: string;
  /** `<id>.json` metadata and `<id>.<sha16>.plan` plans. */
  engines: string;
  /** `<id>.lock`, one per key being built. */
  locks: string;
  /** `<sha16>.timing`, one per TensorRT version and GPU. */
  timing: string;
}

export function layoutOf(root: string): CacheLayout {
  return { root, engines: join(root, 'engines'), locks: join(root, 'locks'), timing: join(root, 'timing') };
}

/** $TENSORRT_NODE_CACHE_DIR, else $XDG_CACHE_HOME/tensorrt-node, else ~/.cache/tensorrt-node. */
export function defaultCacheDirectory(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TENSORRT_NODE_CACHE_DIR) return resolve(env.TENSORRT_NODE_CACHE_DIR);
  // The XDG spec says relative values are invalid and must be ignored.
  if (env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME)) return join(env.XDG_CACHE_HOME, 'tensorrt-node');
  return join(homedir(), '.cache', 'tensorrt-node');
}

function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8)}`;
}

function unusable(root: string, message: string, cause?: unknown): TensorRTNodeError {
  return new TensorRTNodeError(ErrorCode.CACHE, message, { details: { reason: 'directory-unusable', directory: root }, cause });
}

async function isOursToTighten(root: string): Promise<boolean> {
  const names = await fileIo.readdir(root);
  if (names.length === 0) return true;
  if (!names.includes(CACHEDIR_TAG_NAME)) return false;
  // A regular file only: a FIFO named CACHEDIR.TAG would block the read forever.
  const tag = await readRegularFile(join(root, CACHEDIR_TAG_NAME), 4096, 'utf8').catch(() => '');
  return tag.startsWith(cacheDirTag.split('\n')[0]!) && tag.includes('tensorrt-node');
}

/**
 * Creates or checks the cache folder (see the module comment) and its sub-folders. A folder that is
 * fine but read-only (a cache baked into a container image) is accepted: reads work, writes warn.
 */
export async function prepareCacheDirectory(root: string): Promise<CacheLayout> {
  const layout = layoutOf(root);
  let stats;
  try {
    stats = await fileIo.stat(root);
  } catch (error) {
    // ENOTDIR: a file sits where a parent folder should be; mkdir below says so.
    if (errnoCode(error) !== 'ENOENT' && errnoCode(error) !== 'ENOTDIR') {
      throw unusable(
        root,
        `Cannot use the engine cache directory ${root} (${errnoCode(error) ?? String(error)}); set TENSORRT_NODE_CACHE_DIR to a folder of yours`,
        error,
      );
    }
  }
  if (!stats) {
    try {
      await fileIo.mkdir(root, { recursive: true, mode: 0o700 });
      stats = await fileIo.stat(root);
    } catch (error) {
      throw unusable(
        root,
        `Cannot create the engine cache directory ${root} (${errnoCode(error) ?? String(error)}); set TENSORRT_NODE_CACHE_DIR to a writable folder`,
        error,
      );
    }
  }
  if (!stats.isDirectory())
    throw unusable(root, `Expected a directory for the engine cache but received ${root}, which is not a directory`);
  const uid = process.getuid?.();
  if (uid !== undefined && stats.uid !== uid) {
    throw unusable(
      root,
      `Expected a directory owned by this user (uid ${uid}) for the engine cache but received ${root}, owned by uid ${stats.uid}; engines can run code when loaded, so a cache others control is not used`,
    );
  }
  if ((stats.mode & 0o077) !== 0) {
    if (!(await isOursToTighten(root))) {
      throw unusable(
        root,
        `Expected an owner-only (0700) directory for the engine cache but received ${root} with mode ${octal(stats.mode)}; it holds files that are not a tensorrt-node cache, so it was left alone: run \`chmod 700 ${root}\` or set TENSORRT_NODE_CACHE_DIR to another folder`,
      );
    }
    try {
      await fileIo.chmod(root, 0o700);
    } catch (error) {
      throw unusable(
        root,
        `Cannot make the engine cache directory ${root} owner-only (mode ${octal(stats.mode)}; ${errnoCode(error) ?? String(error)}): run \`chmod 700 ${root}\``,
        error,
      );
    }
  }
  for (const folder of [layout.engines, layout.locks, layout.timing]) {
    try {
      await fileIo.mkdir(folder, { mode: 0o700 });
    } catch (error) {
      const code = errnoCode(error);
      if (code === 'EEXIST') {
        const folderStats = await fileIo.lstat(folder);
        if (!folderStats.isDirectory()) {
          throw unusable(
            root,
            `Expected a folder at ${folder} (part of the engine cache) but received ${describeFileKind(folderStats)}; remove it, or set TENSORRT_NODE_CACHE_DIR to another folder`,
          );
        }
        if ((folderStats.mode & 0o077) !== 0) await fileIo.chmod(folder, 0o700).catch(() => undefined);
      } else if (code !== 'EACCES' && code !== 'EROFS' && code !== 'EPERM') {
        throw unusable(root, `Cannot create ${folder} (${code ?? String(error)})`, error);
      }
    }
  }
  const tagPath = join(root, CACHEDIR_TAG_NAME);
  if (!(await unlessMissing(() => fileIo.stat(tagPath)))) {
    // Plain write is fine: the tag is advisory, and a reader that sees it half-written only skips tightening.
    await fileIo.open(tagPath, 'wx', 0o600).then(
      async (handle) => {
        try {
          await fileIo.writeChunk(handle, Buffer.from(cacheDirTag), 0);
        } finally {
          await handle.close();
        }
      },
      () => undefined,
    );
  }
  return layout;
}
