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
  it('BAD CALL - missing output, bad precision, malformed --shapes: exit 2 with the reason and nothing written', () => {
    const output = join(folder, 'engine.plan');
    expect(runCli(['build', model]).stderr).toBe(`tensorrt-node build: Expected an output path (-o <engine.plan>) for \`tensorrt-node build\` but received none. Usage: tensorrt-node build <model.onnx> -o <engine.plan> [--precision fp16|int8] [--calibration <dir|random:N>] [--shapes input:min/opt/max ...] [--workspace 2GiB] [--opt-level N] [--timing-cache file] [--json] [ERR_INVALID_ARGUMENT]\n`);
    const precision = runCli(['build', model, '-o', output, '--precision', 'fp61']);
    expect(precision.status).toBe(2);
    expect(precision.stderr).toBe('tensorrt-node build: Expected one of "fp32", "fp16", "int8" for --precision but received "fp61" of type string (did you mean "fp16"?) [ERR_INVALID_ARGUMENT]\n');
    const shapes = runCli(['build', model, '-o', output, '--shapes', 'x:1x16/4x16']);
    expect(shapes.stderr).toBe('tensorrt-node build: Expected input:min/opt/max with shapes like 1x3x640x640 for --shapes but received "x:1x16/4x16" [ERR_INVALID_ARGUMENT]\n');
    const missingProfile = runCli(['build', model, '-o', output]);
    expect(missingProfile.stderr).toBe(`tensorrt-node build: ${model} has dynamic input "x" [batch, 16]: give options.profiles with min/opt/max shapes, e.g. { "x": { min: [...], opt: [...], max: [...] } } [ERR_SHAPE]\n`);
    expect(existsSync(output)).toBe(false);
  });

  it.runIf(headersMajor !== null)('without libnvinfer it fails with the searched paths and writes nothing', () => {
    const output = join(folder, 'engine.plan');
    const result = runCli(['build', model, '-o', output, '--shapes', 'x:1x16/4x16/8x16', '--no-cache'], { env: { TENSORRT_LIB_DIR: folder } });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`^tensorrt-node build: Cannot build an engine: libnvinfer \\(TensorRT ${headersMajor}\\.x\\) was not found\\. Tried:`));
    expect(result.stderr).toContain(`${join(folder, `libnvinfer.so.${headersMajor}`)} [TENSORRT_LIB_DIR]: not found`);
    expect(existsSync(output)).toBe(false);
  });
});
