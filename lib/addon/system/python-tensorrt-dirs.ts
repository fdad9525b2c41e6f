/**
 * pip installs TensorRT's libraries into `<site-packages>/tensorrt_libs` (or `tensorrt_cu12_libs`,
 * `tensorrt_cu13_libs`). Only the active Python knows where its site-packages are, so ask it once,
 * with a fixed argument list (no shell) and a short timeout; no Python simply means no folders.
 */
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const script = 'import json, site, sysconfig; print(json.dumps([sysconfig.get_paths()["purelib"], site.getusersitepackages()]))';
const libsFolderPattern = /^tensorrt(_cu\d+)?_libs$/;

function askPython(executable: string): Promise<string[]> {
  return new Promise((resolve) => {
    execFile(executable, ['-c', script], { timeout: 3000, windowsHide: true }, (error, stdout) => {
      if (error) return resolve([]);
      try {
        const parsed: unknown = JSON.parse(stdout);
        resolve(Array.isArray(parsed) ? parsed.filter((item): item is string => typeof item === 'string') : []);
      } catch {
        resolve([]);
      }
    });
  });
}

/** `tensorrt*_libs` folders found in the site-packages of the active python3. */
export async function findPythonTensorRTDirs(
  pythonExecutable = process.env.TENSORRT_NODE_PYTHON ?? 'python3',
): Promise<string[]> {
  const sitePackages = await askPython(pythonExecutable);
  const folders: string[] = [];
  for (const sitePackage of sitePackages) {
    let entries: string[];
    try {
      entries = readdirSync(sitePackage);
    } catch {
      continue;
    }
    for (const entry of entries.sort()) {
      if (libsFolderPattern.test(entry)) folders.push(join(sitePackage, entry));
    }
  }
  return folders;
}

let cachedDirs: Promise<string[]> | undefined;

/** findPythonTensorRTDirs(), asked once per process (Python's answer does not change while we run). */
export function pythonTensorRTDirsOnce(): Promise<string[]> {
  cachedDirs ??= findPythonTensorRTDirs();
  return cachedDirs;
}
