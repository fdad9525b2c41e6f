/**
 * The security defaults of SECURITY.md, kept true by tests:
 * - Engine.load passes allowHostCode: false to the native loader unless the caller opts in (the
 *   native side hands it to IRuntime::setEngineHostCodeAllowed; test/gpu/host-code.test.mjs checks
 *   the refusal with TensorRT on GPU hosts);
 * - nothing loads TensorRT plugin libraries (no libnvinfer_plugin, no plugin registry calls);
 * - no child process is started through a shell, and none from a command line built from strings.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../lib/tensorrt/engine.js';
import { loadAddon, packageRoot } from '../../lib/addon/loader.js';
import { type NativeEngineLoadOptions } from '../../lib/addon/types.js';
import { addon } from '../helpers/machine.js';

function sources(folder: string, extensions: RegExp): string[] {
  return readdirSync(join(packageRoot, folder), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && extensions.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name));
}

describe.skipIf(addon === null || !addon.loadEngine)('allowHostCode reaches the native loader', () => {
  const native = () => loadAddon().addon;
  const original = addon?.loadEngine;
  afterEach(() => {
    native().loadEngine = original;
  });

  it('false unless the caller opts in, true when it does', async () => {
    const seen: (NativeEngineLoadOptions | undefined)[] = [];
    // Observe the call at the boundary; the plan is never deserialized (nothing pretends to be TensorRT).
    native().loadEngine = (_plan, options) => {
      seen.push(options);
      return Promise.reject(new Error('observed'));
    };
    const plan = new Uint8Array(16).fill(1);
    await expect(Engine.load(plan)).rejects.toThrow('observed');
    await expect(Engine.load(plan, { allowHostCode: false })).rejects.toThrow('observed');
    await expect(Engine.load(plan, { allowHostCode: true })).rejects.toThrow('observed');
    expect(seen.map((options) => options?.allowHostCode)).toEqual([false, false, true]);
  });
});

describe("plugin libraries: only TensorRT's standard one, from the same install as libnvinfer", () => {
  // The fake TensorRT of the emulated tier (native/emulated/) implements these entry points; it is
  // test code, never part of the addon.
  const product = () =>
    sources('native', /\.(cc|h|cu)$/).filter(
      (file) =>
        !relative(packageRoot, file).startsWith('native/emulated/') && !relative(packageRoot, file).startsWith('native/tests/'),
    );
  const code = (file: string) => readFileSync(file, 'utf8').replace(/\/\/.*$/gm, '');

  it('native code never loads a plugin library by path (IPluginRegistry::loadLibrary) or registers creators of its own', () => {
    const offenders = product().filter((file) =>
      /loadLibrary\(|registerCreator\(|getBuilderPluginRegistry|getPluginRegistry/.test(code(file)),
    );
    expect(offenders.map((file) => relative(packageRoot, file))).toEqual([]);
  });

  it('libnvinfer_plugin is opened only as a companion of the libnvinfer already loaded (its folder first), and only by the library and its probe', () => {
    const openers = product().filter((file) => /initLibNvInferPlugins|"libnvinfer_plugin"/.test(code(file)));
    expect(openers.map((file) => relative(packageRoot, file)).sort()).toEqual([
      'native/napi/capabilities.cc',
      'native/trt/library.cc',
    ]);
    expect(code(join(packageRoot, 'native/trt/library.cc'))).toMatch(/CompanionRequest\("libnvinfer_plugin"\)/);
  });
});

describe('no shell commands built from strings', () => {
  const files = [...sources('lib', /\.(ts|mts|mjs)$/), ...sources('scripts', /\.(ts|mts|mjs|js)$/)];

  it('lib/ and scripts/ never use exec/execSync or shell: true, and spawn only with argument arrays', () => {
    const problems: string[] = [];
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      const where = relative(packageRoot, file);
      if (!/node:child_process|'child_process'/.test(text)) continue;
      // exec and execSync always run a shell with one command string.
      for (const match of text.matchAll(/\b(exec|execSync)\s*\(/g))
        if (!/\.\s*$/.test(text.slice(0, match.index))) problems.push(`${where}: ${match[1]}() runs a shell`);
      if (/import\s*\{[^}]*\b(exec|execSync)\b[^}]*\}\s*from\s*'node:child_process'/.test(text))
        problems.push(`${where}: imports exec/execSync`);
      if (/\bshell\s*:\s*(true|['"`])/.test(text)) problems.push(`${where}: shell: true`);
      // spawn/spawnSync/execFile/execFileSync: the command is a literal or a known executable path, never a joined string.
      for (const match of text.matchAll(/\b(spawn|spawnSync|execFile|execFileSync)\s*\(\s*([^,)]+)/g)) {
        const command = match[2]!.trim();
        const outsideLiterals = command.replace(/'[^']*'|"[^"]*"/g, "''");
        if (/^`|\+|\.join\(/.test(outsideLiterals))
          problems.push(`${where}: ${match[1]}(${command}) builds its command from strings`);
        if (/^['"](\/bin\/|\/usr\/bin\/)?(sh|bash|dash|zsh|cmd(\.exe)?|powershell)['"]$/.test(command))
          problems.push(`${where}: ${match[1]}(${command}) runs a shell`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('finds the child_process uses it audits (the check is not vacuous)', () => {
    const users = files
      .filter((file) => /node:child_process/.test(readFileSync(file, 'utf8')))
      .map((file) => relative(packageRoot, file));
    expect(users).toContain('lib/addon/system/python-tensorrt-dirs.ts');
    expect(users.length).toBeGreaterThan(5);
  });
});
