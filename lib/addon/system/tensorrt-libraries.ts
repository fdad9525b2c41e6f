/**
 * Which TensorRT majors this host has, found with file checks only: the addon loader must pick a
 * prebuilt binary (each is compiled against one TensorRT major) before any binary is loaded, and
 * opening libnvinfer to ask would pin hundreds of megabytes into the process for a guess.
 *
 * The folders and their order mirror native/trt/loader/library_search.cc, which stays the authority
 * (it opens the library and reads its version); this is the cheap look-ahead. Differences, on
 * purpose: the dynamic linker's search is read from LD_LIBRARY_PATH, /etc/ld.so.cache and its
 * trusted folders instead of calling dlopen, and pip's `tensorrt*_libs` folders are looked for only
 * in the active virtualenv/conda prefix (asking Python, as doctor does, costs a process per load).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface FoundTensorRT {
  major: number;
  path: string;
  source: string;
}

export interface FileChecks {
  isFile(path: string): boolean;
  list(folder: string): string[];
  read(path: string): Buffer | null;
}

export const realFileChecks: FileChecks = {
  isFile(path) {
    try {
      return statSync(path).isFile();
    } catch {
      return false;
    }
  },
  list(folder) {
    try {
      return readdirSync(folder).sort();
    } catch {
      return [];
    }
  },
  read(path) {
    try {
      return readFileSync(path);
    } catch {
      return null;
    }
  },
};

export const tensorrtMajors = [11, 10] as const;

const triplets: Record<string, string> = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' };

function globFolders(files: FileChecks, parent: string, pattern: RegExp, suffix: string): string[] {
  return files
    .list(parent)
    .filter((name) => pattern.test(name))
    .sort()
    .reverse() // newest-looking version first, as library_search.cc does
    .map((name) => join(parent, name, suffix));
}

/** Folders in search order, each with the reason it is searched (the words library_search.cc uses). */
export function tensorrtSearchFolders(
  env: NodeJS.ProcessEnv,
  arch: string,
  files: FileChecks = realFileChecks,
): { folder: string; source: string }[] {
  const folders: { folder: string; source: string }[] = [];
  const add = (folder: string, source: string) => {
    if (folder && !folders.some((entry) => entry.folder === folder)) folders.push({ folder, source });
  };
  const linker = 'dynamic linker search (LD_LIBRARY_PATH, ld.so.cache, system folders)';
  const triplet = triplets[arch];
  if (env.TENSORRT_LIB_DIR) add(env.TENSORRT_LIB_DIR, 'TENSORRT_LIB_DIR');
  if (env.TENSORRT_ROOT) add(join(env.TENSORRT_ROOT, 'lib'), 'TENSORRT_ROOT');
  for (const folder of (env.LD_LIBRARY_PATH ?? '').split(':')) add(folder, linker);
  if (triplet) add(`/lib/${triplet}`, linker);
  if (triplet) add(`/usr/lib/${triplet}`, linker);
  add('/lib', linker);
  add('/usr/lib', linker);
  add('/usr/lib64', 'well-known location (RPM packages)');
  add('/usr/local/tensorrt/lib', 'well-known location (tarball install)');
  add('/usr/local/TensorRT/lib', 'well-known location (tarball install)');
  for (const folder of globFolders(files, '/usr/local', /^TensorRT-/, 'lib'))
    add(folder, 'well-known location (tarball install)');
  add('/opt/tensorrt/lib', 'well-known location (tarball install)');
  add('/usr/local/cuda/lib64', 'well-known location (CUDA toolkit folder)');
  for (const prefix of [env.VIRTUAL_ENV, env.CONDA_PREFIX]) {
    if (!prefix) continue;
    for (const sitePackages of globFolders(files, join(prefix, 'lib'), /^python3/, 'site-packages')) {
      for (const name of files.list(sitePackages)) {
        if (/^tensorrt(_cu\d+)?_libs$/.test(name)) add(join(sitePackages, name), 'Python package (pip)');
      }
    }
  }
  return folders;
}

/** Full paths of libnvinfer.so.<major> listed in /etc/ld.so.cache (its strings are NUL-separated). */
export function ldCacheEntries(cache: Buffer | null): FoundTensorRT[] {
  if (!cache) return [];
  const found: FoundTensorRT[] = [];
  const text = cache.toString('latin1');
  for (const match of text.matchAll(/\0(\/[^\0]*\/libnvinfer\.so\.(\d+))(?=\0)/g)) {
    const major = Number(match[2]);
    if (!found.some((entry) => entry.path === match[1]))
      found.push({ major, path: match[1]!, source: 'dynamic linker search (ld.so.cache)' });
  }
  return found;
}

/**
 * Every libnvinfer.so.<10|11> found, in search order (TENSORRT_LIB_DIR first). The first entry is the
 * one the user most likely means; ld.so.cache entries come right after LD_LIBRARY_PATH, where the
 * dynamic linker looks.
 */
export function findTensorRTLibraries(
  env: NodeJS.ProcessEnv = process.env,
  arch: string = process.arch,
  files: FileChecks = realFileChecks,
): FoundTensorRT[] {
  const found: FoundTensorRT[] = [];
  const seen = new Set<string>();
  const push = (entry: FoundTensorRT) => {
    if (!seen.has(entry.path) && (tensorrtMajors as readonly number[]).includes(entry.major)) {
      seen.add(entry.path);
      found.push(entry);
    }
  };
  const folders = tensorrtSearchFolders(env, arch, files);
  const explicitOrLdPath = folders.filter(
    (entry) =>
      entry.source === 'TENSORRT_LIB_DIR' ||
      entry.source === 'TENSORRT_ROOT' ||
      (env.LD_LIBRARY_PATH ?? '').split(':').includes(entry.folder),
  );
  const rest = folders.filter((entry) => !explicitOrLdPath.includes(entry));
  const check = ({ folder, source }: { folder: string; source: string }) => {
    for (const major of tensorrtMajors) {
      const path = join(folder, `libnvinfer.so.${major}`);
      if (files.isFile(path)) push({ major, path, source });
    }
  };
  explicitOrLdPath.forEach(check);
  for (const entry of ldCacheEntries(files.read('/etc/ld.so.cache'))) push(entry);
  rest.forEach(check);
  return found;
}
