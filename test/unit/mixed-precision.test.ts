/**
 * Accuracy-targeted mixed precision on small synthetic graphs where the sensitive node is known:
 * the search must keep it (and only it) in the higher precision and meet the target.
 */
import { describe, expect, it } from 'vitest';
import { AbortError, ArgumentRangeError, ArgumentTypeError, ErrorCode } from '../../lib/core/errors.js';
import { makeNode, makeValueInfo } from '../../lib/onnx/graph.js';
import type { OnnxModel } from '../../lib/onnx/model.js';
import { DataType } from '../../lib/onnx/proto.js';
import { createRandom } from '../../lib/onnx/random.js';
import { convertToFp16WithAccuracy } from '../../lib/precision/mixed-precision.js';
import { quantizeInt8 } from '../../lib/precision/quantize.js';
import type { SearchProgress } from '../../lib/precision/search.js';
import { join } from 'node:path';
import { main } from '../../lib/cli/index.js';
import { readModel, writeModel } from '../../lib/onnx/model.js';
import { TextSink } from '../helpers/cli.js';
import { expectError } from '../helpers/expect-error.js';
import { GraphBuilder, buildModel, temporaryFolder } from '../helpers/onnx-fixtures.js';

async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new TextSink();
  const stderr = new TextSink();
  const code = await main(argv, { stdout, stderr });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

function weights(count: number, seed: number, scale: number): Float32Array {
  const random = createRandom(seed);
  return Float32Array.from({ length: count }, () => random.normal() * scale);
}

/**
 * x [2, 32] -> MatMul -> Tanh -> MatMul -> Relu -> MatMul -> "shrink" (Mul by 1e-6) -> y.
 * In float16 the outputs of "shrink" are subnormal (spacing 6e-8): ~30% relative error, while
 * everything before it loses ~1e-3. Keeping "shrink" alone in float32 fixes it.
 */
function tinyOutputModel(): OnnxModel {
  const graph = new GraphBuilder('tiny_output');
  graph.input('x', DataType.FLOAT, [2, 32]);
  let current = 'x';
  for (const [index, activation] of (['Tanh', 'Relu', null] as const).entries()) {
    const [product] = graph.node(
      'MatMul',
      [current, graph.initializer(`w${index}`, [32, 32], weights(32 * 32, index + 1, 0.2))],
      [],
      1,
      `matmul${index}`,
    );
    current = activation ? graph.node(activation, [product!], [], 1, `${activation.toLowerCase()}${index}`)[0]! : product!;
  }
  graph.nodes.push(makeNode('Mul', [current, graph.initializer('tiny', [], Float32Array.of(1e-6))], ['y'], 'shrink'));
  graph.output('y', DataType.FLOAT, [2, 32]);
  return buildModel(graph.build(), { opset: 13 });
}

/**
 * x [8, 16] -> MatMul "mm1" -> Relu -> Mul by per-channel scales with one outlier channel (x500)
 * -> MatMul "mm2" -> Tanh -> MatMul "mm3" -> y. Per-tensor INT8 quantization of mm2's input spends
 * its 127 steps on the outlier channel and zeroes the others; mm1 and mm3 quantize well.
 */
function outlierModel(): OnnxModel {
  const graph = new GraphBuilder('outlier');
  graph.input('x', DataType.FLOAT, [8, 16]);
  const [h1] = graph.node('MatMul', ['x', graph.initializer('w1', [16, 16], weights(256, 11, 0.4))], [], 1, 'mm1');
  const [r1] = graph.node('Relu', [h1!], [], 1, 'relu1');
  const scales = new Float32Array(16).fill(1);
  scales[0] = 500;
  const [h2] = graph.node('Mul', [r1!, graph.initializer('scales', [16], scales)], [], 1, 'outlier');
  const w2 = weights(256, 12, 0.4);
  for (let column = 0; column < 16; column++) w2[column] = w2[column]! / 500; // the outlier channel contributes like the others
  const [h3] = graph.node('MatMul', [h2!, graph.initializer('w2', [16, 16], w2)], [], 1, 'mm2');
  const [t3] = graph.node('Tanh', [h3!], [], 1, 'tanh');
  graph.nodes.push(makeNode('MatMul', [t3!, graph.initializer('w3', [16, 16], weights(256, 13, 0.4))], ['y'], 'mm3'));
  graph.output('y', DataType.FLOAT, [8, 16]);
  return buildModel(graph.build(), { opset: 13 });
}

describe('FP16 with an accuracy target', () => {
  it('keeps exactly the node whose float16 output is subnormal, meets cos >= 0.9999, and reports what it did', async () => {
    const phases: SearchProgress['phase'][] = [];
    const { model, report, accuracy } = await convertToFp16WithAccuracy(tinyOutputModel(), {
      accuracy: { minCosine: 0.9999, samples: { random: 4, seed: 3 } },
      onProgress: (progress) => phases.push(progress.phase),
    });
    expect(accuracy.full.cosine).toBeLessThan(0.9999);
    expect(accuracy.met).toBe(true);
    expect(accuracy.kept.map((node) => node.name)).toEqual(['shrink']);
    expect(accuracy.kept[0]!.sensitivity).toBeGreaterThan(1);
    expect(accuracy.achieved.cosine).toBeGreaterThanOrEqual(0.9999);
    expect(accuracy).toMatchObject({ candidates: 6, samples: 4, timedOut: false });
    expect(report.nodesKept).toContainEqual({ name: 'shrink', opType: 'Mul', reason: 'node in blockNodes' });
    expect(report.nodesConverted).toBe(5);
    expect(model.proto.metadataProps.find((entry) => entry.key === 'tensorrt_node.accuracy')!.value).toContain(
      '"kept":["shrink"]',
    );
    expect(phases).toEqual(expect.arrayContaining(['reference', 'full', 'sensitivity', 'search', 'done']));
  });

  it('BAD CALL - an abort during the search rejects with the one ERR_ABORTED, naming the search and the reason', async () => {
    const controller = new AbortController();
    await expectError(
      () =>
        convertToFp16WithAccuracy(tinyOutputModel(), {
          // A target only float32 meets: the search probes past its first step, where the abort lands.
          accuracy: { maxAbs: 1e-12, samples: { random: 2, seed: 3 } },
          signal: controller.signal,
          onProgress: (progress) => progress.phase === 'search' && controller.abort(new Error('enough')),
        }),
      AbortError,
      'ERR_ABORTED',
      'The mixed-precision search was aborted (enough)',
    );
  });

  it('keeps nothing when the full conversion already meets the target', async () => {
    const { accuracy, report } = await convertToFp16WithAccuracy(tinyOutputModel(), {
      accuracy: { maxAbs: 1e-6, samples: { random: 2 } },
    });
    expect(accuracy).toMatchObject({ met: true, kept: [], probes: 1 });
    expect(report.nodesConverted).toBe(6);
  });

  it('stops at maxTimeMs with the best result measured (everything in float32 when nothing met the target)', async () => {
    const { accuracy } = await convertToFp16WithAccuracy(tinyOutputModel(), {
      accuracy: { minCosine: 0.9999, samples: { random: 2 }, maxTimeMs: 1 },
    });
    expect(accuracy.timedOut).toBe(true);
    expect(accuracy.met).toBe(true);
    expect(accuracy.kept).toHaveLength(accuracy.candidates);
  });

  it('BAD CALL - no target, no samples, an empty target, a cosine above 1, dynamic inputs without shapes', async () => {
    const model = tinyOutputModel();
    await expectError(
      () => convertToFp16WithAccuracy(model, {} as never),
      ArgumentTypeError,
      ErrorCode.INVALID_ARGUMENT,
      'Expected an accuracy target ({ minCosine, maxAbs, samples }) for options.accuracy but received undefined',
    );
    await expectError(
      () => convertToFp16WithAccuracy(model, { accuracy: { minCosine: 0.99 } }),
      ArgumentTypeError,
      ErrorCode.INVALID_ARGUMENT,
      'Expected samples (a folder, feeds or { random: N }) in options.accuracy.samples but received none',
    );
    await expectError(
      () => convertToFp16WithAccuracy(model, { accuracy: { samples: { random: 1 } } }),
      ArgumentTypeError,
      ErrorCode.INVALID_ARGUMENT,
      'Expected minCosine and/or maxAbs in options.accuracy but received an object',
    );
    await expectError(
      () => convertToFp16WithAccuracy(model, { accuracy: { minCosine: 2, samples: { random: 1 } } }),
      ArgumentRangeError,
      ErrorCode.INVALID_ARGUMENT,
      'Expected a number between -1 and 1 for options.accuracy.minCosine but received 2 of type number',
    );
    const dynamic = tinyOutputModel();
    dynamic.proto.graph!.input[0] = makeValueInfo('x', DataType.FLOAT, ['batch', 32]);
    await expectError(
      () => convertToFp16WithAccuracy(dynamic, { accuracy: { minCosine: 0.99, samples: { random: 1 } } }),
      ArgumentRangeError,
      ErrorCode.INVALID_ARGUMENT,
      /^Expected a concrete shape for input "x" in options.accuracy.samples \(random samples\) \(its dims are \[-1, 32\]\)/,
    );
  });
});

describe('INT8 with an accuracy target', () => {
  it('quantizes everything, then leaves exactly the MatMul behind the outlier channel in float', async () => {
    const calibration = { random: 8, seed: 5 };
    const plain = await quantizeInt8(outlierModel(), { calibration });
    expect(plain.accuracy).toBeUndefined();
    const { report, accuracy } = await quantizeInt8(outlierModel(), { calibration, accuracy: { minCosine: 0.99 } });
    expect(accuracy!.full.cosine).toBeLessThan(0.99);
    expect(accuracy!.met).toBe(true);
    expect(accuracy!.kept.map((node) => node.name)).toEqual(['mm2']);
    expect(accuracy!.achieved.cosine).toBeGreaterThanOrEqual(0.99);
    expect(accuracy!.candidates).toBe(3);
    expect(report.quantized).toEqual({ MatMul: 2 });
    expect(report.skipped).toEqual([{ name: 'mm2', opType: 'MatMul', reason: 'in excludeNodes' }]);
  });

  it('BAD CALL - an accuracy target with an unknown key', async () => {
    await expectError(
      () => quantizeInt8(outlierModel(), { calibration: { random: 2 }, accuracy: { minCosine: 0.9, cosine: 1 } as never }),
      ArgumentRangeError,
      ErrorCode.UNKNOWN_OPTION,
      /^Unknown option "cosine" in options.accuracy/,
    );
  });
});

describe('convert and quantize --target', () => {
  it('convert --target cos=0.9999 keeps the sensitive node, prints the search and writes the model', async () => {
    const folder = temporaryFolder();
    const input = join(folder, 'tiny.onnx');
    await writeModel(tinyOutputModel(), input);
    const output = join(folder, 'tiny16.onnx');
    const { code, stdout, stderr } = await cli([
      'convert',
      input,
      '-o',
      output,
      '--precision',
      'fp16',
      '--target',
      'cos=0.9999',
      '--samples',
      'random:4',
      '--seed',
      '3',
    ]);
    expect(code).toBe(0);
    expect(stderr).toContain('accuracy: float32 reference computed on 4 sample(s)');
    expect(stderr).toMatch(
      /accuracy: search probe 1, 1 node kept in float32: cosine (1\.0+|0\.9999\d+) \(target >= 0\.9999\), max abs [\d.e+-]+: meets the target/,
    );
    expect(stdout).toMatch(
      /target cos>=0\.9999: met; cosine (1\.0+|0\.9999\d+), max abs .* on 4 sample\(s\) \(nothing kept: cosine 0\.999\d+/,
    );
    expect(stdout).toContain('1 of 6 nodes kept in float32 by the search');
    expect(stdout).toContain('    shrink (Mul), sensitivity');
    const written = await readModel(output);
    expect(written.proto.metadataProps.find((entry) => entry.key === 'tensorrt_node.accuracy')!.value).toContain(
      '"kept":["shrink"]',
    );
  });

  it('quantize --target cos=0.99 leaves the outlier MatMul in float', async () => {
    const folder = temporaryFolder();
    const input = join(folder, 'outlier.onnx');
    await writeModel(outlierModel(), input);
    const { code, stdout } = await cli([
      'quantize',
      input,
      '-o',
      join(folder, 'outlier8.onnx'),
      '--calibration',
      'random:8',
      '--seed',
      '5',
      '--target',
      'cos=0.99',
      '--json',
    ]);
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as { accuracy: { kept: { name: string }[]; met: boolean } };
    expect(report.accuracy.met).toBe(true);
    expect(report.accuracy.kept.map((node) => node.name)).toEqual(['mm2']);
  });

  it('BAD CALL - --target on dynamic inputs without samples names --shape; malformed --target; --samples without --target', async () => {
    const folder = temporaryFolder();
    const dynamic = tinyOutputModel();
    dynamic.proto.graph!.input[0] = makeValueInfo('x', DataType.FLOAT, ['batch', 32]);
    const input = join(folder, 'dynamic.onnx');
    await writeModel(dynamic, input);
    const out = join(folder, 'never.onnx');
    const noShape = await cli(['convert', input, '-o', out, '--target', 'cos=0.999']);
    expect(noShape.code).toBe(2);
    expect(noShape.stderr).toBe(
      'tensorrt-node convert: Expected --shape x:<dims> for the dynamic input "x" [batch, 32] when --target measures accuracy on generated samples (no --samples folder given) but received none [ERR_INVALID_ARGUMENT]\n',
    );
    const malformed = await cli(['convert', input, '-o', out, '--target', 'cosine=0.9']);
    expect(malformed.stderr).toBe(
      'tensorrt-node convert: Expected cos=<number> and/or abs=<number> (e.g. cos=0.9995 or cos=0.999,abs=1e-2) for --target but received "cosine=0.9" [ERR_INVALID_ARGUMENT]\n',
    );
    const samplesAlone = await cli(['convert', input, '-o', out, '--samples', 'random:2']);
    expect(samplesAlone.stderr).toBe(
      'tensorrt-node convert: Expected --target with --samples (it sets how the accuracy target is measured) but received no --target [ERR_INVALID_ARGUMENT]\n',
    );
    const quantizeNoShape = await cli([
      'quantize',
      input,
      '-o',
      out,
      '--calibration',
      'random:2',
      '--target',
      'cos=0.9',
      '--samples',
      'random:2',
    ]);
    expect(quantizeNoShape.stderr).toContain(
      'Expected --shape x:<dims> for the dynamic input "x" [batch, 32] when --target measures accuracy on generated samples but received none',
    );
  });
});
