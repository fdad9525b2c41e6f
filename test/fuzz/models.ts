/**
 * Random ONNX models for fuzzing, described as plain data (so fast-check can shrink a failing model
 * to a small one) and built with the fixtures' GraphBuilder: x [batch, C] float32 through a chain of
 * element-wise ops, activations, MatMul/Gemm, Softmax, Constant nodes and out-of-float16-range
 * constants, to y. Every generated model is valid and runs in onnxruntime.
 */
import fc from 'fast-check';
import { DataType } from '../../lib/onnx/proto.js';
import { makeNode } from '../../lib/onnx/graph.js';
import type { OnnxModel } from '../../lib/onnx/model.js';
import { buildModel, GraphBuilder, intAttribute } from '../helpers/onnx-fixtures.js';

export type OpSpec =
  | { kind: 'unary'; op: 'Relu' | 'Sigmoid' | 'Tanh' | 'Abs' | 'Neg' | 'Identity' | 'Softmax' }
  | { kind: 'binary'; op: 'Add' | 'Mul' | 'Sub' | 'Max' | 'Min'; values: number[]; asConstant: boolean }
  | { kind: 'matmul'; out: number; values: number[] }
  | { kind: 'gemm'; out: number; values: number[]; bias: number[] }
  | { kind: 'outOfRange'; big: number };

export interface ModelSpec {
  channels: number;
  dynamicBatch: boolean;
  opset: 13 | 17;
  ops: OpSpec[];
}

const small = (count: number, bound: number) =>
  fc.array(fc.float({ min: Math.fround(-bound), max: Math.fround(bound), noNaN: true, noDefaultInfinity: true }), {
    minLength: count,
    maxLength: count,
  });

function opArbitrary(channels: number): fc.Arbitrary<{ op: OpSpec; channels: number }> {
  return fc.oneof(
    fc
      .constantFrom('Relu', 'Sigmoid', 'Tanh', 'Abs', 'Neg', 'Identity', 'Softmax')
      .map((op) => ({ op: { kind: 'unary', op } as OpSpec, channels })),
    fc
      .record({ op: fc.constantFrom('Add', 'Mul', 'Sub', 'Max', 'Min'), values: small(channels, 2), asConstant: fc.boolean() })
      .map((spec) => ({ op: { kind: 'binary', ...spec } as OpSpec, channels })),
    fc
      .integer({ min: 1, max: 8 })
      .chain((out) =>
        small(channels * out, 0.5).map((values) => ({ op: { kind: 'matmul', out, values } as OpSpec, channels: out })),
      ),
    fc
      .integer({ min: 1, max: 8 })
      .chain((out) =>
        fc
          .tuple(small(channels * out, 0.5), small(out, 0.5))
          .map(([values, bias]) => ({ op: { kind: 'gemm', out, values, bias } as OpSpec, channels: out })),
      ),
    fc.double({ min: 1e5, max: 1e7, noNaN: true }).map((big) => ({ op: { kind: 'outOfRange', big } as OpSpec, channels })),
  );
}

/** A chain of 1..6 ops whose channel counts line up. */
export function modelSpecArbitrary({ requireLinear = false } = {}): fc.Arbitrary<ModelSpec> {
  const chain = (channels: number, left: number): fc.Arbitrary<OpSpec[]> =>
    left === 0
      ? fc.constant([])
      : opArbitrary(channels).chain(({ op, channels: next }) => chain(next, left - 1).map((rest) => [op, ...rest]));
  return fc
    .record({
      channels: fc.integer({ min: 1, max: 8 }),
      length: fc.integer({ min: 1, max: 6 }),
      dynamicBatch: fc.boolean(),
      opset: fc.constantFrom(13 as const, 17 as const),
    })
    .chain(({ channels, length, dynamicBatch, opset }) =>
      chain(channels, length).map((ops) => ({ channels, dynamicBatch, opset, ops })),
    )
    .filter((spec) => !requireLinear || spec.ops.some((op) => op.kind === 'matmul' || op.kind === 'gemm'));
}

/** The model a spec describes. */
export function buildSpec(spec: ModelSpec): OnnxModel {
  const graph = new GraphBuilder('fuzz');
  let current = graph.input('x', DataType.FLOAT, [spec.dynamicBatch ? 'batch' : 2, spec.channels]);
  let channels = spec.channels;
  spec.ops.forEach((op, index) => {
    const name = `op${index}`;
    switch (op.kind) {
      case 'unary':
        [current] = graph.node(op.op, [current], op.op === 'Softmax' ? [intAttribute('axis', -1)] : [], 1, name) as [string];
        break;
      case 'binary': {
        const operand = op.asConstant
          ? graph.constant(`${name}.c`, [channels], Float32Array.from(op.values))
          : graph.initializer(`${name}.w`, [channels], Float32Array.from(op.values));
        [current] = graph.node(op.op, [current, operand], [], 1, name) as [string];
        break;
      }
      case 'matmul': {
        const weight = graph.initializer(`${name}.w`, [channels, op.out], Float32Array.from(op.values));
        [current] = graph.node('MatMul', [current, weight], [], 1, name) as [string];
        channels = op.out;
        break;
      }
      case 'gemm': {
        const weight = graph.initializer(`${name}.w`, [op.out, channels], Float32Array.from(op.values));
        const bias = graph.initializer(`${name}.b`, [op.out], Float32Array.from(op.bias));
        [current] = graph.node('Gemm', [current, weight, bias], [intAttribute('transB', 1)], 1, name) as [string];
        channels = op.out;
        break;
      }
      case 'outOfRange': {
        // x * big / big: float32 keeps x; float16 cannot hold big, so both nodes must stay in float32.
        // (Not x * big * (1 / big): 1 / big is a float16 subnormal, correctly converted but 20% off.)
        const big = graph.constant(`${name}.big`, [1], Float32Array.of(op.big));
        const divisor = graph.initializer(`${name}.divisor`, [1], Float32Array.of(op.big));
        const [scaled] = graph.node('Mul', [current, big], [], 1, `${name}_up`) as [string];
        [current] = graph.node('Div', [scaled, divisor], [], 1, `${name}_down`) as [string];
        break;
      }
    }
  });
  graph.nodes.push(makeNode('Identity', [current], ['y'], 'output'));
  graph.output('y', DataType.FLOAT, [spec.dynamicBatch ? 'batch' : 2, channels]);
  return buildModel(graph.build(), { opset: spec.opset });
}

/** Every tensor name the graph produces or reads (for a calibration table covering all activations). */
export function tensorNames(model: OnnxModel): string[] {
  const names = new Set<string>();
  for (const input of model.proto.graph!.input) names.add(input.name);
  for (const node of model.proto.graph!.node) for (const name of [...node.input, ...node.output]) if (name) names.add(name);
  return [...names];
}
