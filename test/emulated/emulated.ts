/**
 * Shared by the emulated device tier (test/emulated/): the addon under test is the emulated build
 * (TENSORRT_NODE_ADDON, set by the vitest project `emulated`), whose CUDA runs on the emulated device
 * of native/emulated/ (EMULATION, NOT A GPU). Its test hooks (`emulatedDevice`) come from the same
 * binary the public API loaded, so they act on the same emulated device.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

export interface EmulatedDeviceHooks {
  name: string;
  setDeviceCount(count: number): void;
  counter(name: string, device?: number): number;
  failOperation(device: number, cudaError: number, nth: number): void;
  failCall(api: string, cudaError: number, nth: number): void;
  setLatencyMicroseconds(microseconds: number): void;
  /** Writes the gcov counters now in a coverage build (true); false elsewhere. */
  flushCoverage?(): boolean;
}

interface RawAddon {
  emulatedDevice?: EmulatedDeviceHooks;
  ownThreadForTest(ms: number): Promise<number>;
  ownThreadsRunningForTest(): number;
  buildInfo(): { cuda: { emulated?: boolean } };
}

export const addonPath = process.env.TENSORRT_NODE_ADDON ?? '';

export function rawAddon(): RawAddon {
  if (!addonPath) throw new Error('TENSORRT_NODE_ADDON is not set: run the emulated tier with npm run test:emulated');
  return createRequire(import.meta.url)(addonPath) as RawAddon;
}

export function emulatedDevice(): EmulatedDeviceHooks {
  const hooks = rawAddon().emulatedDevice;
  if (!hooks) throw new Error(`${addonPath} is not an emulated build (no emulatedDevice hooks)`);
  return hooks;
}

const slowdown = Number(process.env.TENSORRT_NODE_TEST_SLOWDOWN ?? '1') || 1;

/**
 * Runs `source` (an ES module importing the public API from `lib`) in a fresh node process, for what
 * must start from a clean emulated device (contexts per device, sticky errors that last a process).
 * Resolves with its exit status and output; the script prints one JSON line as its result.
 */
export function runInChild(
  source: string,
  env: Record<string, string> = {},
): { status: number | null; stdout: string; stderr: string; result: unknown } {
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', source], {
    encoding: 'utf8',
    timeout: 60_000 * slowdown,
    cwd: new URL('../..', import.meta.url).pathname,
    env: { ...process.env, TENSORRT_NODE_ADDON: addonPath, ...env },
  });
  const last = child.stdout.trim().split('\n').at(-1) ?? '';
  let result: unknown;
  try {
    result = JSON.parse(last);
  } catch {
    result = null;
  }
  return { status: child.status, stdout: child.stdout, stderr: child.stderr, result };
}
