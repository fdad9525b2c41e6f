/**
 * The FP16 converter on small synthetic graphs of the kinds the ONNX backend-test corpus and
 * exporters produce (benchmarks/results/onnx-conformance.md): each converted model must load and run
 * in onnxruntime and match the original, or be refused with ERR_ONNX naming the node.
 */
import { describe, expect, it } from 'vitest';
import { create } from '@bufbuild/protobuf';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OnnxError } from '../../lib/core/errors.js';
import type { TensorMap } from '../../lib/core/tensors.js';
import { convertToFp16 } from '../../lib/onnx/fp16.js';
import { forEachNode, getAttribute, makeNode, makeValueInfo, tensorAttribute } from '../../lib/onnx/graph.js';
import { serializeModel, type OnnxModel } from '../../lib/onnx/model.js';
import {
  AttributeProtoSchema,
  AttributeType,
  DataType,
  TypeProtoSchema,
  TypeProto_SequenceSchema,
  TypeProto_TensorSchema,
  ValueInfoProtoSchema,
} from '../../lib/onnx/proto.js';
import { createTensor } from '../../lib/onnx/tensor-data.js';
import { compare } from '../../lib/precision/compare.js';
import { expectErrorSync } from '../helpers/expect-error.js';
import { runMain } from '../helpers/cli.js';
import {
  GraphBuilder,
  buildModel,
  graphAttribute,
  intAttribute,
  intsAttribute,
  randomTensor,
  temporaryFolder,
} from '../helpers/onnx-fixtures.js';
import { createRandom } from '../../lib/onnx/random.js';

const x4x8 = () => ({ x: randomTensor([4, 8], 11) });

/** Converts, checks that onnxruntime runs the result, and that it matches the original within FP16 tolerance. */
async function convertAndMatch(model: OnnxModel, feeds: TensorMap, options?: Parameters<typeof convertToFp16>[1]) {
  const result = convertToFp16(model, options);
  const comparison = await compare(model, result.model, feeds, { atol: 2e-2, rtol: 2e-2 });
  for (const output of comparison.outputs) expect(output.cosine, output.name).toBeGreaterThan(0.999);
  expect(comparison.pass).toBe(true);
  return result;
}

function castCount(model: OnnxModel): number {
  let count = 0;
  forEachNode(model.proto.graph!, (node) => void (node.opType === 'Cast' && count++));
  return count;
}

function weights(count: number, seed: number, scale = 0.3): Float32Array {
  const random = createRandom(seed);
  return Float32Array.from({ length: count }, () => random.normal() * scale);
}

function sequenceInfo(name: string, elemType: number) {
  const element = create(TypeProtoSchema, { value: { case: 'tensorType', value: create(TypeProto_TensorSchema, { elemType }) } });
  return create(ValueInfoProtoSchema, {
    name,
    type: create(TypeProtoSchema, {
      value: { case: 'sequenceType', value: create(TypeProto_SequenceSchema, { elemType: element }) },
    }),
  });
}

describe('FP16 autocast on run-time weights', () => {
  it('weights from ConstantOfShape, Constant value_floats, a Constant behind Transpose and a product of Constants: all float16, no Cast on a weight', async () => {
    const graph = new GraphBuilder('runtime_weights');
    graph.input('x', DataType.FLOAT, [4, 8]);
    // MatMul B = ConstantOfShape([8, 8], 0.05): a weight made at run time.
    const shape = graph.constant('shape88', [2], BigInt64Array.of(8n, 8n));
    graph.nodes.push(
      makeNode('ConstantOfShape', [shape], ['filled'], 'fill', [
        tensorAttribute('value', createTensor('value', 'float32', [1], Float32Array.of(0.05))),
      ]),
    );
    const [a] = graph.node('MatMul', ['x', 'filled'], [], 1, 'mm_filled');
    // Gemm B from a Constant with value_floats, C from value_float.
    graph.nodes.push(
      makeNode('Constant', [], ['gemm_b'], 'gemm_b_const', [
        create(AttributeProtoSchema, { name: 'value_floats', type: AttributeType.FLOATS, floats: Array.from(weights(8, 1)) }),
      ]),
    );
    const [b] = graph.node('Reshape', ['gemm_b', graph.constant('shape81', [2], BigInt64Array.of(8n, 1n))], [], 1, 'reshape_b');
    const [g] = graph.node('Gemm', [a!, b!], [], 1, 'gemm');
    // MatMul with W^T, W a Constant node read only through the Transpose.
    const w = graph.constant('w', [8, 8], weights(64, 2));
    const [wt] = graph.node('Transpose', [w], [intsAttribute('perm', [1, 0])], 1, 'transpose_w');
    const [c] = graph.node('MatMul', ['x', wt!], [], 1, 'mm_transposed');
    // A weight computed from two Constants by a Mul.
    const [scaled] = graph.node(
      'Mul',
      [graph.constant('w2', [8, 4], weights(32, 3)), graph.constant('half', [], Float32Array.of(0.5))],
      [],
      1,
      'scale_w2',
    );
    const [d] = graph.node('MatMul', [c!, scaled!], [], 1, 'mm_scaled');
    graph.nodes.push(makeNode('Add', [d!, g!], ['y'], 'sum'));
    graph.output('y', DataType.FLOAT, [4, 4]);
    const model = buildModel(graph.build(), { opset: 13 });

    const { model: converted, report } = await convertAndMatch(model, x4x8());
    expect(report.nodesKept).toEqual([]);
    // Only the model's own input and output are cast: every weight is stored or made in float16.
    expect(castCount(converted)).toBe(2);
    expect(report).toMatchObject({ castsInserted: 2, castsAtIo: 2 });
    const nodes = converted.proto.graph!.node;
    const fill = nodes.find((node) => node.name === 'fill')!;
    expect(getAttribute(fill, 'value')!.t!.dataType).toBe(DataType.FLOAT16);
    expect(
      getAttribute(
        nodes.find((node) => node.name === 'gemm_b_const')!,
        'value',
      )!.t!.dataType,
    ).toBe(DataType.FLOAT16);
    expect(
      getAttribute(
        nodes.find((node) => node.output[0] === 'w')!,
        'value',
      )!.t!.dataType,
    ).toBe(DataType.FLOAT16);
  });
});

describe('FP16 autocast around sequences and optionals', () => {
  it('SequenceConstruct/Insert/At and ConcatFromSequence keep float32 elements; the computation around them converts', async () => {
    const graph = new GraphBuilder('sequences');
    graph.input('x', DataType.FLOAT, [4, 8]);
    const [relu] = graph.node('Relu', ['x'], [], 1, 'relu');
    const [scaled] = graph.node('Mul', [relu!, graph.initializer('two', [], Float32Array.of(2))], [], 1, 'double');
    graph.nodes.push(makeNode('SequenceConstruct', [relu!, scaled!], ['seq'], 'construct'));
    graph.valueInfo.push(sequenceInfo('seq', DataType.FLOAT));
    const [tanh] = graph.node('Tanh', ['x'], [], 1, 'tanh');
    graph.nodes.push(makeNode('SequenceInsert', ['seq', tanh!], ['seq2'], 'insert'));
    graph.nodes.push(makeNode('SequenceAt', ['seq2', graph.initializer('one', [], BigInt64Array.of(1n))], ['second'], 'at'));
    graph.nodes.push(makeNode('ConcatFromSequence', ['seq2'], ['joined'], 'concat', [intAttribute('axis', 0)]));
    graph.nodes.push(makeNode('Add', ['second', 'x'], ['y'], 'add'));
    graph.nodes.push(makeNode('Sigmoid', ['joined'], ['z'], 'sigmoid'));
    graph.output('y', DataType.FLOAT, [4, 8]);
    graph.output('z', DataType.FLOAT, [12, 8]);
    const model = buildModel(graph.build(), { opset: 13 });

    const { report } = await convertAndMatch(model, x4x8());
    expect(report.nodesKept.map((kept) => `${kept.name}: ${kept.reason}`)).toEqual([
      'construct: sequence and optional values keep their element type',
      'insert: sequence and optional values keep their element type',
      'at: sequence and optional values keep their element type',
      'concat: sequence and optional values keep their element type',
    ]);
    expect(report.nodesConverted).toBeGreaterThanOrEqual(4);
  });

  it('Optional/OptionalGetElement keep float32; the Add after them converts', async () => {
    const graph = new GraphBuilder('optionals');
    graph.input('x', DataType.FLOAT, [4, 8]);
    const [relu] = graph.node('Relu', ['x'], [], 1, 'relu');
    graph.nodes.push(makeNode('Optional', [relu!], ['maybe'], 'wrap'));
    graph.nodes.push(makeNode('OptionalGetElement', ['maybe'], ['unwrapped'], 'unwrap'));
    const [sum] = graph.node('Add', ['unwrapped', relu!], [], 1, 'add');
    graph.nodes.push(makeNode('Mul', [sum!, 'x'], ['y'], 'mul'));
    graph.output('y', DataType.FLOAT, [4, 8]);
    const { report } = await convertAndMatch(buildModel(graph.build(), { opset: 18 }), x4x8());
    expect(report.nodesKept.map((kept) => kept.name)).toEqual(['wrap', 'unwrap']);
  });
});

describe('FP16 autocast of subgraphs reading outer-scope values', () => {
  it('a Loop body reads a float16 value of the outer graph and an outer float32 input; the input is cast once, outside the loop', async () => {
    const body = new GraphBuilder('body');
    body.input('i', DataType.INT64, []);
    body.input('cond_in', DataType.BOOL, []);
    body.input('acc_in', DataType.FLOAT, [4, 8]);
    // acc = tanh(acc @ W + h) with W a body initializer and h (outer, converted) read from outside.
    const [product] = body.node('MatMul', ['acc_in', body.initializer('loop.w', [8, 8], weights(64, 4))], [], 1, 'loop_matmul');
    const [shifted] = body.node('Add', [product!, 'h'], [], 1, 'loop_add');
    const [gated] = body.node('Mul', [shifted!, 'x'], [], 1, 'loop_gate');
    body.nodes.push(makeNode('Tanh', [gated!], ['acc_out'], 'loop_tanh'));
    body.nodes.push(makeNode('Identity', ['cond_in'], ['cond_out'], 'loop_cond'));
    body.output('cond_out', DataType.BOOL, []);
    body.output('acc_out', DataType.FLOAT, [4, 8]);

    const graph = new GraphBuilder('loop_model');
    graph.input('x', DataType.FLOAT, [4, 8]);
    graph.nodes.push(makeNode('MatMul', ['x', graph.initializer('w0', [8, 8], weights(64, 5))], ['h'], 'outer_matmul'));
    graph.initializers.push(createTensor('go', 'bool', [], Uint8Array.of(1)));
    graph.nodes.push(
      makeNode('Loop', [graph.initializer('trips', [], BigInt64Array.of(3n)), 'go', 'x'], ['y'], 'loop', [
        graphAttribute('body', body.build()),
      ]),
    );
    graph.output('y', DataType.FLOAT, [4, 8]);
    const model = buildModel(graph.build(), { opset: 13 });

    const { model: converted, report } = await convertAndMatch(model, x4x8());
    expect(report.graphs).toBe(2);
    const outer = converted.proto.graph!;
    // x is cast to float16 once in the outer graph (for the outer MatMul and for the body's Mul).
    const outerCasts = outer.node.filter((node) => node.opType === 'Cast');
    expect(outerCasts.map((node) => node.input[0])).toEqual(['x']);
    const loopBody = getAttribute(
      outer.node.find((node) => node.opType === 'Loop')!,
      'body',
    )!.g!;
    expect(loopBody.node.find((node) => node.name === 'loop_gate')!.input).toContain(outerCasts[0]!.output[0]);
    // h stays float16 across the scope boundary: the body's Add reads it without a Cast.
    expect(loopBody.node.find((node) => node.name === 'loop_add')!.input[1]).toBe('h');
  });
});

describe('FP16 autocast: shape computation and value operators', () => {
  it('Relu after ConstantOfShape(Shape(x)) computes values and converts; the arithmetic feeding Reshape stays float32', async () => {
    const graph = new GraphBuilder('shapes');
    graph.input('x', DataType.FLOAT, [4, 8]);
    const [shape] = graph.node('Shape', ['x'], [], 1, 'shape');
    graph.nodes.push(
      makeNode('ConstantOfShape', [shape!], ['ones'], 'ones', [
        tensorAttribute('value', createTensor('value', 'float32', [1], Float32Array.of(1))),
      ]),
    );
    const [shifted] = graph.node('Sub', ['x', 'ones'], [], 1, 'shift');
    const [relu] = graph.node('Relu', [shifted!], [], 1, 'relu');
    // New shape [2, 16] = Cast(Cast(shape, float) * [0.5, 2], int64): float arithmetic that feeds a shape.
    const [floatShape] = graph.node('Cast', [shape!], [intAttribute('to', DataType.FLOAT)], 1, 'shape_float');
    const [newShapeFloat] = graph.node(
      'Mul',
      [floatShape!, graph.initializer('factors', [2], Float32Array.of(0.5, 2))],
      [],
      1,
      'shape_scale',
    );
    const [newShape] = graph.node('Cast', [newShapeFloat!], [intAttribute('to', DataType.INT64)], 1, 'shape_int');
    graph.nodes.push(makeNode('Reshape', [relu!, newShape!], ['y'], 'reshape'));
    graph.output('y', DataType.FLOAT, [2, 16]);
    const { report } = await convertAndMatch(buildModel(graph.build(), { opset: 13 }), x4x8());
    expect(report.nodesKept.map((kept) => `${kept.name}: ${kept.reason}`)).toEqual([
      'shape_float: shape computation',
      'shape_scale: shape computation',
      'shape_int: shape computation',
    ]);
  });

  it('operators float16 cannot serve stay float32 with the reason: Celu, ScatterElements with reduction, IsInf before opset 20', async () => {
    const graph = new GraphBuilder('float32_only');
    graph.input('x', DataType.FLOAT, [4, 8]);
    const [relu] = graph.node('Relu', ['x'], [], 1, 'relu');
    graph.nodes.push(makeNode('Celu', [relu!], ['celu'], 'celu'));
    graph.nodes.push(makeNode('IsInf', [relu!], ['inf'], 'isinf'));
    const indices = graph.initializer(
      'indices',
      [4, 8],
      BigInt64Array.from({ length: 32 }, (_, index) => BigInt(index % 8)),
    );
    graph.nodes.push(
      makeNode('ScatterElements', [relu!, indices, relu!], ['scattered'], 'scatter', [
        create(AttributeProtoSchema, { name: 'reduction', type: AttributeType.STRING, s: new TextEncoder().encode('add') }),
        intAttribute('axis', 1),
      ]),
    );
    const [sum] = graph.node('Add', ['celu', 'scattered'], [], 1, 'add');
    graph.nodes.push(makeNode('Tanh', [sum!], ['y'], 'tanh'));
    graph.output('y', DataType.FLOAT, [4, 8]);
    graph.output('inf', DataType.BOOL, [4, 8]);
    const { report } = await convertAndMatch(buildModel(graph.build(), { opset: 18 }), x4x8());
    expect(report.nodesKept.map((kept) => `${kept.name}: ${kept.reason}`)).toEqual([
      'celu: its schema allows float32 only',
      'isinf: its schema allows float32/float64 only before opset 20',
      'scatter: reduction "add" accumulates, and float16 sums lose precision',
    ]);
  });
});

describe('FP16 autocast: bit reinterpretation', () => {
  it('BitCast reads the float32 bits it was given: kept, and the converted Relu before it is cast back', async () => {
    const graph = new GraphBuilder('bitcast');
    graph.input('x', DataType.FLOAT, [4, 8]);
    const [relu] = graph.node('Relu', ['x'], [], 1, 'relu');
    graph.nodes.push(makeNode('BitCast', [relu!], ['bits'], 'bitcast', [intAttribute('to', DataType.INT32)]));
    const [tanh] = graph.node('Tanh', [relu!], [], 1, 'tanh');
    graph.nodes.push(makeNode('Mul', [tanh!, 'x'], ['y'], 'mul'));
    graph.output('bits', DataType.INT32, [4, 8]);
    graph.output('y', DataType.FLOAT, [4, 8]);
    const { report } = convertToFp16(buildModel(graph.build(), { opset: 26, irVersion: 13 }));
    expect(report.nodesKept).toEqual([{ name: 'bitcast', opType: 'BitCast', reason: 'it reinterprets the bits of its input' }]);
    expect(report.nodesConverted).toBe(3);
  });
});

describe('FP16 autocast: fewer casts', () => {
  it('an Add between two kept Exps stays float32 (one island, casts only at its edges); a kept output shared by three readers is cast once', async () => {
    const graph = new GraphBuilder('islands');
    graph.input('x', DataType.FLOAT, [4, 8]);
    const [mm] = graph.node('MatMul', ['x', graph.initializer('w', [8, 8], weights(64, 6))], [], 1, 'mm');
    const [e1] = graph.node('Exp', [mm!], [], 1, 'exp1');
    const [added] = graph.node('Add', [e1!, graph.initializer('bias', [8], weights(8, 7))], [], 1, 'between');
    const [e2] = graph.node('Exp', [added!], [], 1, 'exp2');
    const [a] = graph.node('Mul', [e2!, e2!], [], 1, 'square');
    const [b] = graph.node('Sub', [e2!, mm!], [], 1, 'diff');
    const [c] = graph.node('MatMul', [e2!, graph.initializer('w2', [8, 8], weights(64, 8, 0.05))], [], 1, 'mm2');
    const [ab] = graph.node('Add', [a!, b!], [], 1, 'join');
    graph.nodes.push(makeNode('Add', [ab!, c!], ['y'], 'out'));
    graph.output('y', DataType.FLOAT, [4, 8]);
    const model = buildModel(graph.build(), { opset: 13 });
    const { model: converted, report } = await convertAndMatch(model, { x: randomTensor([4, 8], 12, -0.5, 0.5) });
    expect(report.nodesKept.map((kept) => `${kept.name}: ${kept.reason}`)).toEqual([
      'exp1: op type in blockOpTypes',
      'between: a float16 island too small for the casts around it',
      'exp2: op type in blockOpTypes',
    ]);
    // x in, mm -> float32 for exp1, exp2 -> float16 once for its three readers, y out.
    expect(castCount(converted)).toBe(4);
    expect(converted.proto.graph!.node.filter((node) => node.opType === 'Cast' && node.input[0] === 'exp2_out')).toHaveLength(1);
    expect(report.castsPerConvertedNode).toBe(Number((4 / report.nodesConverted).toFixed(3)));
  });

  it('a model output also read by a kept node gets one float32 Cast, not two', async () => {
    const graph = new GraphBuilder('shared_output');
    graph.input('x', DataType.FLOAT, [4, 8]);
    graph.nodes.push(makeNode('MatMul', ['x', graph.initializer('w', [8, 8], weights(64, 9))], ['h'], 'mm'));
    graph.nodes.push(makeNode('Exp', ['h'], ['e'], 'exp'));
    graph.output('h', DataType.FLOAT, [4, 8]);
    graph.output('e', DataType.FLOAT, [4, 8]);
    const { model: converted } = await convertAndMatch(buildModel(graph.build(), { opset: 13 }), x4x8());
    const casts = converted.proto.graph!.node.filter((node) => node.opType === 'Cast');
    expect(casts.map((node) => `${node.input[0]}->${node.output[0]}`)).toEqual(['x->x_fp16', 'h_fp16->h']);
    expect(converted.proto.graph!.node.find((node) => node.name === 'exp')!.input).toEqual(['h']);
  });
});

describe('FP16 autocast refusals', () => {
  function truncatedWeightModel(): OnnxModel {
    const graph = new GraphBuilder('truncated');
    graph.input('x', DataType.FLOAT, [4, 8]);
    graph.nodes.push(makeNode('MatMul', ['x', graph.initializer('w', [8, 8], weights(64, 10))], ['y'], 'mm'));
    graph.output('y', DataType.FLOAT, [4, 8]);
    const model = buildModel(graph.build(), { opset: 13 });
    const weight = model.proto.graph!.initializer[0]!;
    weight.rawData = weight.rawData.slice(0, 100); // 256 bytes expected
    return model;
  }

  it('BAD CALL - a weight whose bytes do not match its dims: ERR_ONNX naming the node, its op type and the reason', () => {
    expectErrorSync(
      () => convertToFp16(truncatedWeightModel()),
      OnnxError,
      'ERR_ONNX',
      'Cannot convert node "mm" (MatMul) (its input "w") to float16: Expected 256 bytes of raw data for tensor "w" (float32 [8, 8]) but received 100',
    );
  });

  it('BAD CALL - `convert` on that model exits 2 with the message and leaves an existing output file intact', async () => {
    const folder = temporaryFolder();
    const input = join(folder, 'truncated.onnx');
    const output = join(folder, 'out.onnx');
    writeFileSync(input, serializeModel(truncatedWeightModel()));
    writeFileSync(output, 'previous contents');
    const { code, stderr } = await runMain(['convert', input, '-o', output, '--precision', 'fp16']);
    expect(code).toBe(2);
    expect(stderr).toContain('ERR_ONNX');
    expect(stderr).toContain('Cannot convert node "mm" (MatMul)');
    expect(readFileSync(output, 'utf8')).toBe('previous contents');
  });

  it('records the kept value_info of a declared intermediate as float16 where it now is', () => {
    const graph = new GraphBuilder('value_info');
    graph.input('x', DataType.FLOAT, [4, 8]);
    const [relu] = graph.node('Relu', ['x'], [], 1, 'relu');
    graph.info(relu!, DataType.FLOAT, [4, 8]);
    graph.nodes.push(makeNode('Tanh', [relu!], ['y'], 'tanh'));
    graph.output('y', DataType.FLOAT, [4, 8]);
    graph.valueInfo.push(makeValueInfo('unused', DataType.FLOAT, [1]));
    const { model } = convertToFp16(buildModel(graph.build()));
    expect(
      model.proto.graph!.valueInfo.map((info) => info.type?.value.case === 'tensorType' && info.type.value.value.elemType),
    ).toEqual([DataType.FLOAT16, DataType.FLOAT]);
  });
});
