import { describe, expect, it } from 'vitest';
import type { Capabilities } from '../../lib/addon/capabilities.js';
import { runCli } from '../helpers/cli.js';
import { addon, cudaCompiled, hasNoDriver } from '../helpers/machine.js';

describe('tensorrt-node doctor', () => {
  const json = runCli(['doctor', '--json']);
  const caps = JSON.parse(json.stdout) as Capabilities;

  it('--json prints valid JSON with every section', () => {
    expect(json.status).toBe(0);
    expect(Object.keys(caps)).toEqual(['package', 'host', 'addon', 'cuda', 'tensorrt', 'devices', 'backends', 'problems']);
    expect(caps.package).toEqual({ name: 'tensorrt-node', version: expect.any(String) });
    expect(caps.addon).toMatchObject({ loaded: addon !== null });
    expect(caps.backends.cpu.available).toBe(true);
    for (const problem of caps.problems) expect(problem.fix.length).toBeGreaterThan(20);
  });

  it.runIf(cudaCompiled && hasNoDriver)(
    'on a machine without a driver it names CUDA error 35 and the searched TensorRT paths',
    () => {
      expect(caps.cuda).toMatchObject({
        compiled: true,
        usable: false,
        driverVersion: null,
        deviceCount: 0,
        error: { code: 35, name: 'cudaErrorInsufficientDriver' },
        diagnosis: { kind: 'no-driver' },
      });
      expect(caps.tensorrt.found).toBe(false);
      expect(caps.tensorrt.searched.length).toBeGreaterThan(5);
      expect(caps.tensorrt.searched.every((attempt) => attempt.status === 'missing')).toBe(true);
      expect(caps.tensorrt.searched.map((attempt) => attempt.path)).toContain('/usr/lib/x86_64-linux-gnu/libnvinfer.so.10');
      expect(caps.backends.tensorrt.available).toBe(false);
      expect(caps.problems.map((problem) => problem.area)).toEqual(expect.arrayContaining(['cuda', 'tensorrt']));
    },
  );

  it.runIf(cudaCompiled && hasNoDriver)('the human report says what is wrong and how to fix each problem', () => {
    const human = runCli(['doctor']);
    expect(human.status).toBe(0);
    // doctor's words for CUDA's error 35 without a driver: never "driver version is insufficient".
    expect(human.stdout).toContain('  no    No NVIDIA driver is installed (libcuda.so.1 is missing) (CUDA error 35)');
    expect(human.stdout).toContain('  no    tensorrt: No NVIDIA driver is installed (libcuda.so.1 is missing)\n');
    expect(human.stdout).not.toMatch(/insufficient/i);
    expect(human.stdout).toContain('libnvinfer not found; searched:');
    expect(human.stdout).toContain(
      '  - No NVIDIA driver is installed (libcuda.so.1 is missing).\n    fix: Install the NVIDIA driver for your GPU',
    );
    expect(human.stdout).toContain('fix: Install TensorRT 10.x or 11.x');
  });

  it('BAD CALL - unknown command and misspelled option exit with 2 and a suggestion', () => {
    const unknown = runCli(['docter']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('tensorrt-node: unknown command "docter" (did you mean "doctor"?)');
    const option = runCli(['doctor', '--jsno']);
    expect(option.status).toBe(2);
    expect(option.stderr).toBe(
      'tensorrt-node doctor: Unknown option --jsno for `tensorrt-node doctor` (did you mean --json?). Usage: tensorrt-node doctor [--json] [--tensorrt-lib <folder|file>] [ERR_UNKNOWN_OPTION]\n',
    );
  });

  it('--help lists the commands; --version prints the version', () => {
    const help = runCli(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^tensorrt-node \d+\.\d+\.\d+/);
    expect(help.stdout).toContain('doctor');
    expect(runCli(['--version']).stdout.trim()).toBe(caps.package.version);
  });

  it('without an addon, doctor still runs and explains how to get one', () => {
    const result = runCli(['doctor', '--json'], { env: { TENSORRT_NODE_ADDON: '/nonexistent/tensorrt_node.node' } });
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout) as Capabilities;
    expect(report.addon.loaded).toBe(false);
    expect(report.addon.error?.attempts).toEqual([{ path: '/nonexistent/tensorrt_node.node', error: 'not found' }]);
    expect(report.problems[0]).toMatchObject({ area: 'addon', fix: expect.stringContaining('npm rebuild tensorrt-node') });
    expect(report.backends.cpu.available).toBe(true);
  });
});
