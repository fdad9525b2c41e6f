import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { serializeModel } from '../../lib/onnx/model.js';
import { runCli } from '../helpers/cli.js';
import { addon } from '../helpers/machine.js';
import { mlpModel } from '../helpers/onnx-fixtures.js';

const folder = mkdtempSync(join(tmpdir(), 'cli-build-'));
const model = join(folder, 'mlp.onnx');
writeFileSync(model, serializeModel(mlpModel()));
const headersMajor = addon?.buildInfo().tensorrt.headersMajor ?? null;

describe('tensorrt-node build', () => {
  it('BAD CALL - missing output, bad precision, malformed --shape, the old --shapes: exit 2 with the reason in flags and nothing written', () => {
    const output = join(folder, 'engine.plan');
    expect(runCli(['build', model]).stderr).toBe(
      `tensorrt-node build: Expected an output path (-o <engine.plan>) for \`tensorrt-node build\` but received none. Usage: tensorrt-node build <model.onnx> -o <engine.plan> [--precision fp16|int8] [--calibration <dir|random:N>] [--shape input:min/opt/max ...] [--workspace 2GiB] [--opt-level N] [--timing-cache file] [--json] [ERR_INVALID_ARGUMENT]\n`,
    );
    const precision = runCli(['build', model, '-o', output, '--precision', 'fp61']);
    expect(precision.status).toBe(2);
    expect(precision.stderr).toBe(
      'tensorrt-node build: Expected one of "fp32", "fp16", "int8" for --precision but received "fp61" of type string (did you mean "fp16"?) [ERR_INVALID_ARGUMENT]\n',
    );
    const shapes = runCli(['build', model, '-o', output, '--shape', 'x:1x16/4x16']);
    expect(shapes.stderr).toBe(
      'tensorrt-node build: Expected NAME:DIMxDIM... or NAME:MIN/OPT/MAX (e.g. x:1x3x320x320, or x:1x3x320x320/4x3x640x640/8x3x960x960) for --shape but received "x:1x16/4x16" [ERR_INVALID_ARGUMENT]\n',
    );
    // One --shape grammar: the old --shapes is refused with the way to say it now.
    const renamed = runCli(['build', model, '-o', output, '--shapes', 'x:1x16/4x16/8x16']);
    expect(renamed.status).toBe(2);
    expect(renamed.stderr).toMatch(
      /^tensorrt-node build: Unknown option --shapes for `tensorrt-node build` \(did you mean --shape\? --shapes was renamed: --shape takes NAME:DIMxDIM\.\.\., or NAME:MIN\/OPT\/MAX for optimization profile bounds, in every command\)\. Usage: /,
    );
    const profile = runCli(['build', model, '-o', output, '--profile', 'x:1x16/4x16/8x16']);
    expect(profile.stderr).toContain(
      'Unknown option --profile for `tensorrt-node build` (did you mean --shape? --shape takes NAME:DIMxDIM...',
    );
    // The library's options.profiles error, in the CLI's flags.
    const missingProfile = runCli(['build', model, '-o', output]);
    expect(missingProfile.stderr).toBe(
      `tensorrt-node build: ${model} has dynamic input "x" [batch, 16]: give the optimization profile's min/opt/max shapes with --shape x:Nx16/Nx16/Nx16 (each N a size), or one shape with --shape x:Nx16 [ERR_SHAPE]\n`,
    );
    const outOfOrder = runCli(['build', model, '-o', output, '--shape', 'x:4x16/1x16/8x16']);
    expect(outOfOrder.stderr).toBe(
      'tensorrt-node build: Expected min <= opt <= max in every dimension of --shape x:MIN/OPT/MAX but dimension 0 has min 4, opt 1, max 8 [ERR_SHAPE]\n',
    );
    const workspace = runCli(['build', model, '-o', output, '--workspace', '2XB', '--shape', 'x:1x16']);
    expect(workspace.stderr).toBe(
      'tensorrt-node build: Expected a byte size such as 512MiB, 2GiB, 1.5GB or 1000000 for --workspace but received "2XB" of type string [ERR_INVALID_ARGUMENT]\n',
    );
    expect(existsSync(output)).toBe(false);
  });

  it.runIf(headersMajor !== null)('without libnvinfer it fails with the searched paths and writes nothing', () => {
    const output = join(folder, 'engine.plan');
    const result = runCli(['build', model, '-o', output, '--shape', 'x:1x16/4x16/8x16', '--no-cache'], {
      env: { TENSORRT_LIB_DIR: folder },
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(
      new RegExp(
        `^tensorrt-node build: Cannot build an engine: libnvinfer \\(TensorRT ${headersMajor}\\.x\\) was not found\\. Tried:`,
      ),
    );
    expect(result.stderr).toContain(`${join(folder, `libnvinfer.so.${headersMajor}`)} [TENSORRT_LIB_DIR]: not found`);
    expect(existsSync(output)).toBe(false);
  });
});
