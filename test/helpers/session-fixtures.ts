/** Small generated ONNX models for session and batcher tests (nothing binary is committed). */
import { makeNode } from '../../lib/onnx/graph.js';
import { DataType } from '../../lib/onnx/proto.js';
import type { OnnxModel } from '../../lib/onnx/model.js';
import { GraphBuilder, buildModel, intAttribute } from './onnx-fixtures.js';

/** x [batch, len] -> y = 2x + 1, [batch, len]: two dynamic dims, for requests whose other dims differ. */
export function scaleModel(): OnnxModel {
  const graph = new GraphBuilder('scale');
  const x = graph.input('x', DataType.FLOAT, ['batch', 'len']);
  const two = graph.initializer('two', [1], Float32Array.of(2));
  const one = graph.initializer('one', [1], Float32Array.of(1));
  const [doubled] = graph.node('Mul', [x, two], [], 1, 'double');
  graph.nodes.push(makeNode('Add', [doubled!, one], ['y'], 'shift'));
  graph.output('y', DataType.FLOAT, ['batch', 'len']);
  return buildModel(graph.build());
}

/** a [batch, 4] + b [batch, 4] -> y [batch, 4]: two inputs, for inconsistent batch sizes in one request. */
export function addModel(): OnnxModel {
  const graph = new GraphBuilder('add');
  const a = graph.input('a', DataType.FLOAT, ['batch', 4]);
  const b = graph.input('b', DataType.FLOAT, ['batch', 4]);
  graph.nodes.push(makeNode('Add', [a, b], ['y'], 'add'));
  graph.output('y', DataType.FLOAT, ['batch', 4]);
  return buildModel(graph.build());
}

/** The rows of `gatherModel`'s table: row i is [i, i + 0.25, i + 0.5, i + 0.75]. */
export const GATHER_ROWS = 10;

/**
 * index [batch, 1] (int64) -> Gather from a [10, 4] table -> y [batch, 1, 4]. An index outside
 * [-10, 9] makes onnxruntime fail the whole run: the model for "one bad request in a batch".
 */
export function gatherModel(): OnnxModel {
  const graph = new GraphBuilder('gather');
  const index = graph.input('index', DataType.INT64, ['batch', 1]);
  const table = new Float32Array(GATHER_ROWS * 4).map((_, position) => Math.floor(position / 4) + (position % 4) * 0.25);
  const weights = graph.initializer('table', [GATHER_ROWS, 4], table);
  graph.nodes.push(makeNode('Gather', [weights, index], ['y'], 'lookup', [intAttribute('axis', 0)]));
  graph.output('y', DataType.FLOAT, ['batch', 1, 4]);
  return buildModel(graph.build());
}
