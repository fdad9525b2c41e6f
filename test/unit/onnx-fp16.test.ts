import { describe, expect, it } from 'vitest';
import { ArgumentRangeError, ArgumentTypeError } from '../../lib/core/errors.js';
import { compare } from '../../lib/precision/compare.js';
import { DEFAULT_FP16_BLOCKED_OPS, convertToFp16 } from '../../lib/onnx/fp16.js';
import { forEachGraph, forEachNode, getAttribute, valueInfoElemType } from '../../lib/onnx/graph.js';
import { parseModel, serializeModel, type OnnxModel } from '../../lib/onnx/model.js';
import { DataType } from '../../lib/onnx/proto.js';
import type { TensorMap } from '../../lib/core/tensors.js';
import { expectErrorSync } from '../helpers/expect-error.js';
import { convNetModel, ifModel, mlpModel, randomTensor } from '../helpers/onnx-fixtures.js';

function opTypes(model: OnnxModel): string[] {
  const types: string[] = [];
  forEachNode(model.proto.graph!, (node) => types.push(node.opType));
  return types;
}

/** Every Cast node's target type, in all graphs. */
function castTargets(model: OnnxModel): number[] {
  const targets: number[] = [];
  forEachNode(model.proto.graph!, (node) => node.opType === 'Cast' && targets.push(Number(getAttribute(node, 'to')!.i)));
  return targets;
}

function flag(value: 0 | 1): TensorMap[string] {
  return { dtype: 'bool', shape: [], data: Uint8Array.of(value) };
}

describe('FP16 autocast', () => {
  it('converts an MLP: float16 weights, one Cast in and one out, float32 I/O, runs in onnxruntime and matches', async () => {
    const model = mlpModel();
    const { model: converted, report } = convertToFp16(model);
    expect(report).toMatchObject({
      nodesConverted: 4,
      nodesKept: [],
      castsInserted: 2,
      tensorsConverted: 4,
      valuesClamped: 0,
      graphs: 1,
    });
    const graph = converted.proto.graph!;
    expect(graph.initializer.map((tensor) => tensor.dataType)).toEqual([
      DataType.FLOAT16,
      DataType.FLOAT16,
      DataType.FLOAT16,
      DataType.FLOAT16,
    ]);
    expect(valueInfoElemType(graph.input[0]!)).toBe(DataType.FLOAT);
    expect(valueInfoElemType(graph.output[0]!)).toBe(DataType.FLOAT);
    expect(valueInfoElemType(graph.valueInfo[0]!)).toBe(DataType.FLOAT16); // fc1_out now carries float16
    expect(castTargets(converted)).toEqual([DataType.FLOAT16, DataType.FLOAT]);
    // The original is untouched.
    expect(model.proto.graph!.initializer.every((tensor) => tensor.dataType === DataType.FLOAT)).toBe(true);
    const result = await compare(model, converted, { x: randomTensor([4, 16], 1) }, { atol: 5e-3, rtol: 5e-3 });
    expect(result.pass).toBe(true);
    expect(result.outputs[0]!.cosine).toBeGreaterThan(0.9999);
  });

  it('converts a conv net whose weights are partly Constant nodes; survives a write and re-read', async () => {
    const model = convNetModel();
    const { model: converted, report } = convertToFp16(model);
    // 8 computing nodes plus Flatten, which now moves float16 data.
    expect(report.nodesConverted).toBe(9);
    const constant = converted.proto.graph!.node.find((node) => node.opType === 'Constant')!;
    expect(getAttribute(constant, 'value')!.t!.dataType).toBe(DataType.FLOAT16);
    const reread = parseModel(serializeModel(converted));
    const result = await compare(model, reread, { x: randomTensor([1, 3, 16, 16], 2) }, { atol: 1e-2, rtol: 1e-2 });
    expect(result.pass).toBe(true);
    expect(result.outputs.map((output) => output.name)).toEqual(['y', 'y2']);
    for (const output of result.outputs) expect(output.cosine).toBeGreaterThan(0.9999);
  });

  it('converts a model whose whole graph lives in If branches (outer-scope reads, branch initializers and constants)', async () => {
    const model = ifModel();
    const { model: converted, report } = convertToFp16(model);
    expect(report.graphs).toBe(3);
    const branchWeightTypes: number[] = [];
    forEachGraph(converted.proto.graph!, (graph, depth) => {
      if (depth === 0) return;
      for (const tensor of graph.initializer) branchWeightTypes.push(tensor.dataType);
      // Branch outputs keep their declared float32, as the If node's consumers expect.
      for (const output of graph.output) expect(valueInfoElemType(output)).toBe(DataType.FLOAT);
    });
    expect(branchWeightTypes).toEqual([DataType.FLOAT16]);
    // Both branches read x (float32, outer scope) in float16: one Cast in the outer graph serves both.
    expect(converted.proto.graph!.node.map((node) => node.opType)).toEqual(['Cast', 'If']);
    const ifNode = converted.proto.graph!.node[1]!;
    const thenBranch = getAttribute(ifNode, 'then_branch')!.g!;
    expect(thenBranch.node.map((node) => node.opType)).toEqual(['MatMul', 'Relu', 'Cast']);
    expect(thenBranch.node[0]!.input[0]).toBe(converted.proto.graph!.node[0]!.output[0]);
    expect(getAttribute(ifNode, 'else_branch')!.g!.node.find((node) => node.opType === 'MatMul')!.input[0]).toBe(
      converted.proto.graph!.node[0]!.output[0],
    );
    for (const value of [1, 0] as const) {
      const result = await compare(
        model,
        converted,
        { x: randomTensor([1, 8], 3), flag: flag(value) },
        { atol: 1e-2, rtol: 1e-2 },
      );
      expect(result.pass).toBe(true);
    }
  });

  it('keeps nodes reading constants beyond float16 range in float32 by default, clamps and counts them when told to convert', async () => {
    const kept = convertToFp16(ifModel());
    expect(kept.report.valuesClamped).toBe(0);
    expect(kept.report.nodesKept).toEqual([
      { name: 'else_shift', opType: 'Add', reason: 'constant input beyond the float16 range' },
      { name: 'else_unshift', opType: 'Sub', reason: 'constant input beyond the float16 range' },
      // Between the kept Sub and the branch output (float32), a float16 Sigmoid would only add two casts.
      { name: 'else_sigmoid', opType: 'Sigmoid', reason: 'a float16 island too small for the casts around it' },
    ]);
    const clamped = convertToFp16(ifModel(), { keepOutOfRange: false });
    expect(clamped.report.valuesClamped).toBe(1);
    expect(clamped.report.nodesKept).toEqual([]);
    // The else-branch constant 1e6 became 65504 in float16 bits (0x7bff).
    const elseBranch = getAttribute(
      clamped.model.proto.graph!.node.find((node) => node.opType === 'If')!,
      'else_branch',
    )!.g!;
    const big = elseBranch.node.find((node) => node.output[0] === 'else.big')!;
    expect(Array.from(new Uint16Array(getAttribute(big, 'value')!.t!.rawData.slice().buffer))).toEqual([0x7bff]);
    await expect(
      compare(ifModel(), clamped.model, { x: randomTensor([1, 8], 4), flag: flag(0) }, { atol: 1e-2 }),
    ).resolves.toMatchObject({ pass: true });
  });

  it('honours the block lists and keepIoTypes: false', async () => {
    const byType = convertToFp16(mlpModel(), { blockOpTypes: ['Relu'] });
    expect(byType.report.nodesKept).toEqual([{ name: 'relu1', opType: 'Relu', reason: 'op type in blockOpTypes' }]);
    expect(castTargets(byType.model)).toEqual([DataType.FLOAT16, DataType.FLOAT, DataType.FLOAT16, DataType.FLOAT]);
    const byName = convertToFp16(mlpModel(), { blockNodes: ['fc2_bias'] });
    expect(byName.report.nodesKept).toEqual([{ name: 'fc2_bias', opType: 'Add', reason: 'node in blockNodes' }]);
    // fc2.bias is read only by the kept Add, so it stays float32.
    expect(byName.model.proto.graph!.initializer.find((tensor) => tensor.name === 'fc2.bias')!.dataType).toBe(DataType.FLOAT);
    const io = convertToFp16(mlpModel(), { keepIoTypes: false });
    expect(castTargets(io.model)).toEqual([]);
    expect(valueInfoElemType(io.model.proto.graph!.input[0]!)).toBe(DataType.FLOAT16);
    expect(valueInfoElemType(io.model.proto.graph!.output[0]!)).toBe(DataType.FLOAT16);
    const { createCpuBackend } = await import('../../lib/backends/cpu/backend.js');
    await using backend = await createCpuBackend(io.model);
    expect(backend.inputs[0]!.dtype).toBe('float16');
    expect(backend.outputs[0]!.dtype).toBe('float16');

    // The default block list keeps Pow (its float16 result overflows easily); a list of one's own replaces the defaults.
    const { makeNode, makeValueInfo } = await import('../../lib/onnx/graph.js');
    const { createTensor } = await import('../../lib/onnx/tensor-data.js');
    const withPow = mlpModel();
    withPow.proto.graph!.initializer.push(createTensor('exponent', 'float32', [], Float32Array.of(2)));
    withPow.proto.graph!.node.push(makeNode('Pow', ['y', 'exponent'], ['y_squared'], 'square'));
    withPow.proto.graph!.output.push(makeValueInfo('y_squared', DataType.FLOAT, ['batch', 8]));
    expect(DEFAULT_FP16_BLOCKED_OPS).toContain('Pow');
    expect(convertToFp16(withPow).report.nodesKept).toEqual([
      { name: 'square', opType: 'Pow', reason: 'op type in blockOpTypes' },
    ]);
    expect(convertToFp16(withPow, { blockOpTypes: ['Relu'] }).report.nodesKept.map((kept) => kept.opType)).toEqual(['Relu']);
  });

  it('keeps shape arithmetic in float32 and gives mixed-use weights a float16 copy', async () => {
    const model = mlpModel();
    const graph = model.proto.graph!;
    // y2 = Relu(x) * fc2.bias-shaped float computed from Shape: Shape -> Cast(float) -> Div, a typical exporter pattern.
    const { makeNode, intAttribute, makeValueInfo } = await import('../../lib/onnx/graph.js');
    const { createTensor } = await import('../../lib/onnx/tensor-data.js');
    graph.initializer.push(createTensor('two', 'float32', [], Float32Array.of(2)));
    graph.node.push(
      makeNode('Shape', ['x'], ['x_shape'], 'shape'),
      makeNode('Cast', ['x_shape'], ['x_shape_float'], 'shape_to_float', [intAttribute('to', DataType.FLOAT)]),
      makeNode('Div', ['x_shape_float', 'two'], ['half_shape'], 'halve'),
      makeNode('Mul', ['y', 'fc2.bias'], ['scaled'], 'scale'),
    );
    graph.output.push(makeValueInfo('half_shape', DataType.FLOAT, [2]), makeValueInfo('scaled', DataType.FLOAT, ['batch', 8]));
    const { model: converted, report } = convertToFp16(model, { blockNodes: ['scale'] });
    expect(report.nodesKept.map((kept) => `${kept.name}: ${kept.reason}`)).toEqual([
      'shape_to_float: shape computation',
      'halve: shape computation',
      'scale: node in blockNodes',
    ]);
    const initializers = converted.proto.graph!.initializer;
    expect(initializers.find((tensor) => tensor.name === 'fc2.bias')!.dataType).toBe(DataType.FLOAT);
    expect(initializers.find((tensor) => tensor.name === 'fc2.bias_fp16')!.dataType).toBe(DataType.FLOAT16);
    const result = await compare(model, converted, { x: randomTensor([2, 16], 5) }, { atol: 1e-2, rtol: 1e-2 });
    expect(result.pass).toBe(true);
    expect(result.outputs.find((output) => output.name === 'half_shape')!.maxAbsError).toBe(0);
    expect(opTypes(converted).filter((op) => op === 'Cast').length).toBe(report.castsInserted + 1);
  });

  it('BAD CALL - options', () => {
    expectErrorSync(
      () => convertToFp16(mlpModel(), { keepIoTypes: 'yes' } as never),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a boolean for options.keepIoTypes but received "yes" of type string',
    );
    expectErrorSync(
      () => convertToFp16(mlpModel(), { blockOpTypes: 'Relu' } as never),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected an array of strings for options.blockOpTypes but received "Relu" of type string',
    );
    expectErrorSync(
      () => convertToFp16(mlpModel(), { blockNodes: [1] } as never),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a string for options.blockNodes[0] but received 1 of type number',
    );
    expectErrorSync(
      () => convertToFp16(mlpModel(), { keepIOTypes: true } as never),
      ArgumentRangeError,
      'ERR_UNKNOWN_OPTION',
      /^Unknown option "keepIOTypes" in options \(did you mean "keepIoTypes"\?\)/,
    );
  });
});
