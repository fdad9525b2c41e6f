import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { InspectReport } from '../../lib/onnx/inspect.js';
import { writeModel } from '../../lib/onnx/model.js';
import { encodeNpy, parseNpy } from '../../lib/onnx/npy.js';
import { runCli } from '../helpers/cli.js';
import { convNetModel, mlpModel, ppocr, randomTensor, temporaryFolder } from '../helpers/onnx-fixtures.js';

describe('tensorrt-node ONNX commands', () => {
  const folder = temporaryFolder('trtnode-cli-onnx-');
  const conv = join(folder, 'conv.onnx');
  const mlp = join(folder, 'mlp.onnx');
  beforeAll(async () => {
    await writeModel(convNetModel(), conv);
    await writeModel(mlpModel(), mlp);
  });

  it('inspect prints the model and --json the full report', () => {
    const human = runCli(['inspect', ppocr.det]);
    expect(human.status).toBe(0);
    expect(human.stdout).toContain('x: float32 [p2o.DynamicDimension.0, 3, p2o.DynamicDimension.1, p2o.DynamicDimension.2]');
    expect(human.stdout).toContain('Parameters: 1,171,841 (4.47 MiB) in 0 initializers, 342 Constant nodes');
    const json = runCli(['inspect', ppocr.det, '--json']);
    const report = JSON.parse(json.stdout) as InspectReport;
    expect(report.opHistogram.Conv).toBe(62);
  });

  it('convert --precision fp16 writes a float16 model that compare accepts', () => {
    const out = join(folder, 'conv16.onnx');
    const converted = runCli(['convert', conv, '-o', out, '--precision', 'fp16']);
    expect(converted.status).toBe(0);
    expect(converted.stdout).toMatch(
      /conv16\.onnx: 9 nodes in float16, 0 kept in float32, 3 casts \(0\.333 per converted node\), 6 tensors converted in [\d.]+ s/,
    );
    const report = JSON.parse(runCli(['inspect', out, '--json']).stdout) as InspectReport;
    expect(report.precision.float16Tensors).toBe(6);
    const close = runCli(['compare', conv, out, '--atol', '1e-2', '--rtol', '1e-2']);
    expect(close.status).toBe(0);
    expect(close.stdout).toMatch(
      /^PASS: every element of 2 output\(s\) within \|b - a\| <= 0\.01 \+ 0\.01\*\|a\| over 1 sample\(s\)/,
    );
    const strict = runCli(['compare', conv, out, '--atol', '1e-9', '--rtol', '0', '--json']);
    expect(strict.status).toBe(1);
    expect(JSON.parse(strict.stdout).pass).toBe(false);
  });

  it('quantize calibrates with progress lines off a TTY, saves the table, and reusing it gives the same model', () => {
    const out = join(folder, 'conv8.onnx');
    const table = join(folder, 'table.json');
    const first = runCli(['quantize', conv, '-o', out, '--calibration', 'random:4', '--save-table', table]);
    expect(first.status).toBe(0);
    // Random calibration data works, and says in one line what it costs.
    expect(first.stderr.split('\n').filter(Boolean)).toEqual([
      'calibrate: 0/4',
      'calibrate: 1/4',
      'calibrate: 2/4',
      'calibrate: 3/4',
      'calibrate: 4/4',
      'calibrate: 4 samples, method percentile',
      'warning: --calibration random:N calibrates on random data, whose value ranges are not those of real inputs, so the INT8 scales (and the accuracy) will be poor; use a folder of real samples for a model you deploy',
    ]);
    expect(first.stdout).toMatch(
      /conv8\.onnx: INT8 Q\/DQ on 2 Conv, 1 ConvTranspose, 1 Gemm; 4 activation Q\/DQ pairs, 4 INT8 weights \(per channel\), opset 13 -> 13/,
    );
    expect(JSON.parse(readFileSync(table, 'utf8')).samples).toBe(4);
    const again = join(folder, 'conv8-again.onnx');
    expect(runCli(['quantize', conv, '-o', again, '--table', table]).status).toBe(0);
    expect(readFileSync(again).equals(readFileSync(out))).toBe(true);
  });

  it('run reads inputs from .npy and writes outputs as .npy', () => {
    const input = join(folder, 'x.npy');
    writeFileSync(input, encodeNpy(randomTensor([2, 16], 1)));
    const outputs = join(folder, 'outputs');
    const ran = runCli(['run', mlp, '--input', `x=${input}`, '--output-dir', outputs]);
    expect(ran.status).toBe(0);
    expect(ran.stdout).toMatch(/mlp\.onnx on cpu: [\d.]+ ms\n {2}y: float32 \[2, 8\] min/);
    expect(parseNpy(readFileSync(join(outputs, 'y.npy')), 'y.npy').shape).toEqual([2, 8]);
    const generated = runCli(['run', mlp, '--shape', 'x:3x16', '--json']);
    expect(JSON.parse(generated.stdout).outputs[0].shape).toEqual([3, 8]);
  });

  it('BAD CALL - missing arguments, a garbage model, an empty calibration folder: exit 2, a typed message, nothing written', () => {
    const noData = runCli(['quantize', conv, '-o', join(folder, 'never.onnx')]);
    expect(noData.status).toBe(2);
    expect(noData.stderr).toContain(
      'tensorrt-node quantize: Expected --calibration <dir|random:N> or --table <t.json> for `tensorrt-node quantize` but received neither.',
    );
    writeFileSync(join(folder, 'garbage.onnx'), 'garbage');
    const garbage = runCli(['convert', join(folder, 'garbage.onnx'), '-o', join(folder, 'never.onnx')]);
    expect(garbage.status).toBe(2);
    expect(garbage.stderr).toMatch(
      /Expected an ONNX model \(ModelProto protobuf\) for .*garbage\.onnx but received bytes that are not valid protobuf .* \[ERR_ONNX\]/,
    );
    mkdirSync(join(folder, 'empty'));
    const empty = runCli(['quantize', conv, '-o', join(folder, 'never.onnx'), '--calibration', join(folder, 'empty')]);
    expect(empty.status).toBe(2);
    expect(empty.stderr).toContain(
      `Expected at least one calibration sample but received an empty set (no .npy/.json samples in ${join(folder, 'empty')}) [ERR_INVALID_ARGUMENT]`,
    );
    // The library's "options.shapes" error, said with the flag that sets it.
    const dynamic = runCli(['quantize', mlp, '-o', join(folder, 'never.onnx'), '--calibration', 'random:2']);
    expect(dynamic.status).toBe(2);
    expect(dynamic.stderr).toBe(
      'tensorrt-node quantize: Expected --shape x:Nx16 (each N a size) for input "x", whose dims [-1, 16] are dynamic, but received none [ERR_INVALID_ARGUMENT]\n',
    );
    expect(dynamic.stderr).not.toContain('options.shapes');
    const misspelt = runCli(['run', mlp, '--shape', 'xx:1x16']);
    expect(misspelt.stderr).toBe(
      'tensorrt-node run: Expected --shape for inputs of the model ("x") but received "xx" (did you mean "x"?) [ERR_INVALID_ARGUMENT]\n',
    );
    const bounds = runCli(['run', mlp, '--shape', 'x:1x16/2x16/4x16']);
    expect(bounds.stderr).toBe(
      'tensorrt-node run: Expected NAME:DIMxDIM... (e.g. x:1x3x320x320) for --shape but received "x:1x16/2x16/4x16"; MIN/OPT/MAX bounds are for `tensorrt-node build`, this command runs one shape [ERR_INVALID_ARGUMENT]\n',
    );
    expect(existsSync(join(folder, 'never.onnx'))).toBe(false);
    expect(readdirSync(folder).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });
});
