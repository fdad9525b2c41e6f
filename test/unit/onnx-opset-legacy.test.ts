/**
 * Upgrading opset 6 models (112 of the ONNX backend-test corpus, which onnxruntime no longer runs
 * for Add/Gemm/BatchNormalization) to opset 13 for INT8: legacy `broadcast`/`axis` attributes
 * become numpy broadcasting, training-only attributes go, and what has no equivalent is refused
 * naming the node.
 */
import { describe, expect, it } from 'vitest';
import { createCpuBackend } from '../../lib/backends/cpu/backend.js';
import { OnnxError } from '../../lib/core/errors.js';
import { floatAttribute, getAttribute, intAttribute, makeNode } from '../../lib/onnx/graph.js';
import { upgradeOpset } from '../../lib/onnx/opset.js';
import { DataType } from '../../lib/onnx/proto.js';
import { expectErrorSync } from '../helpers/expect-error.js';
import { GraphBuilder, buildModel } from '../helpers/onnx-fixtures.js';

function legacyModel() {
  const graph = new GraphBuilder('legacy');
  graph.input('x', DataType.FLOAT, [2, 3]);
  graph.input('z', DataType.FLOAT, [2, 3, 4]);
  graph.nodes.push(
    // Gemm-6 with broadcast=1: C [4] broadcast over rows.
    makeNode(
      'Gemm',
      [
        'x',
        graph.initializer(
          'W',
          [4, 3],
          Float32Array.from({ length: 12 }, (_, index) => index / 10),
        ),
        graph.initializer('C', [4], Float32Array.of(1, 2, 3, 4)),
      ],
      ['g'],
      'gemm',
      [intAttribute('transB', 1), intAttribute('broadcast', 1)],
    ),
    // Add-6 with broadcast=1 and no axis: trailing alignment, as numpy.
    makeNode('Add', ['g', graph.initializer('b', [4], Float32Array.of(10, 20, 30, 40))], ['y'], 'add_trailing', [
      intAttribute('broadcast', 1),
    ]),
    // Add-6 with broadcast=1, axis=1: B [3] aligned with dim 1 of z [2, 3, 4].
    makeNode('Add', ['z', graph.initializer('c', [3], Float32Array.of(100, 200, 300))], ['w'], 'add_axis', [
      intAttribute('broadcast', 1),
      intAttribute('axis', 1),
    ]),
    makeNode(
      'BatchNormalization',
      [
        'w',
        ...['scale', 'bias', 'mean', 'var'].map((name, index) =>
          graph.initializer(
            name,
            [3],
            Float32Array.of(1, 1, 1).map((value) => (index === 3 ? value : index === 0 ? value : 0)),
          ),
        ),
      ],
      ['v'],
      'bn',
      [intAttribute('is_test', 1), floatAttribute('epsilon', 0)],
    ),
  );
  graph.output('y', DataType.FLOAT, [2, 4]);
  graph.output('v', DataType.FLOAT, [2, 3, 4]);
  return buildModel(graph.build(), { opset: 6, irVersion: 3 });
}

describe('opset upgrade from before opset 7', () => {
  it('rewrites legacy broadcasting and drops is_test; onnxruntime runs the result with the old meaning', async () => {
    const model = legacyModel();
    expect(upgradeOpset(model, 13)).toEqual({ from: 6, to: 13 });
    const nodes = model.proto.graph!.node;
    for (const node of nodes) {
      expect(getAttribute(node, 'broadcast')).toBeUndefined();
      expect(getAttribute(node, 'is_test')).toBeUndefined();
    }
    // c [3] became [3, 1] so that numpy aligns it with dim 1.
    const reshaped = model.proto.graph!.initializer.find(
      (tensor) => tensor.name === nodes.find((node) => node.name === 'add_axis')!.input[1],
    );
    expect(reshaped!.dims.map(Number)).toEqual([3, 1]);

    await using backend = await createCpuBackend(model);
    const x = Float32Array.of(1, 2, 3, 4, 5, 6);
    const z = Float32Array.from({ length: 24 }, (_, index) => index);
    const outputs = await backend.run({
      x: { dtype: 'float32', shape: [2, 3], data: x },
      z: { dtype: 'float32', shape: [2, 3, 4], data: z },
    });
    const expectedY: number[] = [];
    for (let row = 0; row < 2; row++) {
      for (let column = 0; column < 4; column++) {
        let sum = [1, 2, 3, 4][column]! + [10, 20, 30, 40][column]!;
        for (let k = 0; k < 3; k++) sum += x[row * 3 + k]! * ((column * 3 + k) / 10);
        expectedY.push(sum);
      }
    }
    Array.from(outputs.y!.data as Float32Array).forEach((value, index) => expect(value).toBeCloseTo(expectedY[index]!, 4));
    const expectedV = Array.from(z, (value, index) => value + [100, 200, 300][Math.floor(index / 4) % 3]!);
    expect(Array.from(outputs.v!.data as Float32Array)).toEqual(expectedV);
  });

  it('BAD CALL - legacy broadcasting along an axis of an input whose rank the model does not declare: ERR_ONNX naming the node', () => {
    const model = legacyModel();
    model.proto.graph!.input = model.proto.graph!.input.filter((input) => input.name !== 'z');
    model.proto.graph!.node.unshift(makeNode('Relu', ['x'], ['z'], 'relu'));
    expectErrorSync(
      () => upgradeOpset(model, 13),
      OnnxError,
      'ERR_ONNX',
      'Expected operators that can move from opset 6 to 13 in <legacy> but received add_axis (legacy broadcasting along axis 1 needs the ranks of both inputs, which the model does not declare)',
    );
  });
});
