import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  findTensorRTLibraries,
  ldCacheEntries,
  tensorrtSearchFolders,
  type FileChecks,
} from '../../lib/addon/system/tensorrt-libraries.js';

function fakeFiles(present: string[], ldCache: Buffer | null = null): FileChecks {
  return {
    isFile: (path) => present.includes(path),
    list: (folder) => [
      ...new Set(
        present.filter((path) => path.startsWith(`${folder}/`)).map((path) => path.slice(folder.length + 1).split('/')[0]!),
      ),
    ],
    read: (path) => (path === '/etc/ld.so.cache' ? ldCache : null),
  };
}

// The new-format cache keeps NUL-terminated sonames and paths in a string table.
const cache = Buffer.from(
  'glibc-ld.so.cache1.1\0\0\0libnvinfer.so.10\0/usr/lib/x86_64-linux-gnu/libnvinfer.so.10\0libc.so.6\0/lib/x86_64-linux-gnu/libc.so.6\0',
  'latin1',
);

describe('finding TensorRT libraries without loading them', () => {
  it('searches in library_search.cc order: env folders, LD_LIBRARY_PATH, linker folders, well-known installs, pip', () => {
    const files = fakeFiles([
      '/usr/local/TensorRT-10.3.0/lib/x',
      '/usr/local/TensorRT-10.13.3/lib/x',
      '/venv/lib/python3.12/site-packages/tensorrt_libs/x',
    ]);
    const folders = tensorrtSearchFolders(
      { TENSORRT_LIB_DIR: '/a', TENSORRT_ROOT: '/b', LD_LIBRARY_PATH: '/c:/d', VIRTUAL_ENV: '/venv' },
      'x64',
      files,
    ).map((entry) => entry.folder);
    expect(folders).toEqual([
      '/a',
      '/b/lib',
      '/c',
      '/d',
      '/lib/x86_64-linux-gnu',
      '/usr/lib/x86_64-linux-gnu',
      '/lib',
      '/usr/lib',
      '/usr/lib64',
      '/usr/local/tensorrt/lib',
      '/usr/local/TensorRT/lib',
      '/usr/local/TensorRT-10.3.0/lib',
      '/usr/local/TensorRT-10.13.3/lib',
      '/opt/tensorrt/lib',
      '/usr/local/cuda/lib64',
      '/venv/lib/python3.12/site-packages/tensorrt_libs',
    ]);
  });

  it('reads library paths out of /etc/ld.so.cache', () => {
    expect(ldCacheEntries(cache)).toEqual([
      { major: 10, path: '/usr/lib/x86_64-linux-gnu/libnvinfer.so.10', source: 'dynamic linker search (ld.so.cache)' },
    ]);
    expect(ldCacheEntries(null)).toEqual([]);
  });

  it('an explicit TENSORRT_LIB_DIR comes before what the dynamic linker knows', () => {
    const found = findTensorRTLibraries(
      { TENSORRT_LIB_DIR: '/opt/trt11/lib' },
      'x64',
      fakeFiles(['/opt/trt11/lib/libnvinfer.so.11'], cache),
    );
    expect(found.map((entry) => [entry.major, entry.path, entry.source])).toEqual([
      [11, '/opt/trt11/lib/libnvinfer.so.11', 'TENSORRT_LIB_DIR'],
      [10, '/usr/lib/x86_64-linux-gnu/libnvinfer.so.10', 'dynamic linker search (ld.so.cache)'],
    ]);
  });

  it('finds real files (only majors 10 and 11)', () => {
    const folder = mkdtempSync(join(tmpdir(), 'trt-libs-'));
    for (const name of ['libnvinfer.so.10', 'libnvinfer.so.8', 'libnvinfer.so.11']) writeFileSync(join(folder, name), '');
    expect(
      findTensorRTLibraries({ TENSORRT_LIB_DIR: folder }, 'x64')
        .filter((entry) => entry.source === 'TENSORRT_LIB_DIR')
        .map((entry) => entry.major),
    ).toEqual([11, 10]);
  });
});
