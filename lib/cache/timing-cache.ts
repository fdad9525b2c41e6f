/**
 * TensorRT timing caches (measured tactic timings that make a rebuild much faster), kept one per
 * TensorRT version and GPU, because timings from another version or device are useless or rejected.
 *
 * TensorRT's timing cache is an opaque blob, so it is stored behind a small header of our own (a
 * magic line, then a JSON line with the version, GPU, size and sha256): a truncated or damaged file
 * is detected here, reported, removed and replaced by a fresh cache, never handed to TensorRT.
 * Writes are atomic; concurrent builders simply replace each other's cache (each is complete).
 */
import { join } from 'node:path';
import { expectString, invalidType, invalidValue } from '../core/validate.js';
import { writeFileAtomic } from '../core/atomic-write.js';
import { sha256Hex, stableStringify } from './canonical.js';
import { fileIo, errnoCode, removeFile, unlessMissing } from '../core/file-io.js';
import { CacheWarning, describeFailure, type CacheWarningHandler } from './warnings.js';

const magicLine = 'tensorrt-node timing cache 1\n';

interface TimingCacheHeader {
  tensorrtVersion: string;
  gpu: { uuid: string; computeCapability: string };
  bytes: number;
  sha256: string;
}

/** One timing cache file; get it from EngineCache.timingCache(). */
export interface TimingCacheFile {
  readonly path: string;
  /** The cache's bytes; undefined when there is none yet or it was corrupt (reported and removed). */
  read(): Promise<Buffer | undefined>;
  /** Stores `data` atomically; false (with a warning) when it could not be written. */
  write(data: Uint8Array): Promise<boolean>;
  /** Removes the cache with a warning saying why (e.g. TensorRT rejected it). */
  discard(why: string): Promise<void>;
}

export function timingCacheFile(
  folder: string,
  tensorrtVersionValue: unknown,
  gpuValue: unknown,
  warn: CacheWarningHandler,
): TimingCacheFile {
  const tensorrtVersion = expectString(tensorrtVersionValue, 'tensorrtVersion');
  if (typeof gpuValue !== 'object' || gpuValue === null) throw invalidType('an object', 'gpu', gpuValue);
  const { uuid, computeCapability } = gpuValue as { uuid?: unknown; computeCapability?: unknown };
  expectString(uuid, 'gpu.uuid');
  if (typeof computeCapability !== 'string')
    throw invalidType('a compute capability such as "8.9"', 'gpu.computeCapability', computeCapability);
  if (!/^\d+\.\d+$/.test(computeCapability))
    throw invalidValue('a compute capability such as "8.9"', 'gpu.computeCapability', computeCapability);
  const identity = { tensorrtVersion, gpu: { uuid: uuid as string, computeCapability } };
  const path = join(folder, `${sha256Hex(stableStringify(identity)).slice(0, 16)}.timing`);

  const reportCorrupt = async (why: string): Promise<undefined> => {
    let removal = 'it was removed';
    await removeFile(path).catch((error: unknown) => {
      removal = `it could not be removed (${describeFailure(error)}) and is ignored`;
    });
    warn(
      new CacheWarning(
        'corrupt-timing-cache',
        `Timing cache ${path} for TensorRT ${tensorrtVersion} on ${identity.gpu.uuid} is unusable (${why}); ${removal} and a fresh one will be built`,
        { path, why },
      ),
    );
    return undefined;
  };

  return {
    path,
    async read() {
      let file: Buffer | undefined;
      try {
        // Only a regular file is read: a FIFO or a folder at the path is reported, never waited on.
        file = await unlessMissing(() => fileIo.readWholeFile(path));
      } catch (error) {
        warn(
          new CacheWarning(
            'unreadable',
            `Timing cache ${path} cannot be read (${describeFailure(error)}); building without it`,
            { path },
            error,
          ),
        );
        return undefined;
      }
      if (!file) return undefined;
      if (!file.subarray(0, magicLine.length).equals(Buffer.from(magicLine)))
        return reportCorrupt('it does not start with the tensorrt-node timing cache header');
      const headerEnd = file.indexOf(0x0a, magicLine.length);
      if (headerEnd < 0) return reportCorrupt('its header is truncated');
      let header: TimingCacheHeader;
      try {
        header = JSON.parse(file.subarray(magicLine.length, headerEnd).toString('utf8')) as TimingCacheHeader;
      } catch {
        return reportCorrupt('its header is not valid JSON');
      }
      const payload = file.subarray(headerEnd + 1);
      if (
        header.tensorrtVersion !== identity.tensorrtVersion ||
        header.gpu?.uuid !== identity.gpu.uuid ||
        header.gpu?.computeCapability !== identity.gpu.computeCapability
      ) {
        return reportCorrupt('its header names another TensorRT version or GPU');
      }
      if (payload.byteLength !== header.bytes)
        return reportCorrupt(`it holds ${payload.byteLength} bytes but its header says ${String(header.bytes)}`);
      if (sha256Hex(payload) !== header.sha256) return reportCorrupt('its checksum does not match');
      return Buffer.from(payload);
    },
    async write(data: Uint8Array) {
      if (!(data instanceof Uint8Array)) throw invalidType('a Uint8Array', 'data', data);
      const header: TimingCacheHeader = { ...identity, bytes: data.byteLength, sha256: sha256Hex(data) };
      try {
        await fileIo.mkdir(folder, { recursive: true, mode: 0o700 });
        await writeFileAtomic(path, [Buffer.from(magicLine), Buffer.from(`${JSON.stringify(header)}\n`), data], { mode: 0o600 });
        return true;
      } catch (error) {
        const reason = ['EACCES', 'EROFS', 'EPERM'].includes(errnoCode(error) ?? '') ? 'unwritable' : 'write-failed';
        warn(
          new CacheWarning(
            reason,
            `Timing cache ${path} was not saved (${describeFailure(error)}); the next build measures its tactics again`,
            { path },
            error,
          ),
        );
        return false;
      }
    },
    async discard(why: string) {
      await reportCorrupt(expectString(why, 'why'));
    },
  };
}
