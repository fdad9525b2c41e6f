/**
 * Walking and editing ONNX graphs: subgraphs (If/Loop/Scan bodies live in node attributes),
 * attributes, every tensor a model stores, and fresh names that collide with nothing.
 */
import { create } from '@bufbuild/protobuf';
import {
  AttributeProtoSchema,
  AttributeType,
  NodeProtoSchema,
  TypeProtoSchema,
  TypeProto_TensorSchema,
  TensorShapeProtoSchema,
  TensorShapeProto_DimensionSchema,
  ValueInfoProtoSchema,
  type AttributeProto,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from './proto.js';

/** The subgraphs held by a node's attributes (If branches, Loop/Scan bodies, custom ops). */
export function subgraphsOf(node: NodeProto): GraphProto[] {
  const graphs: GraphProto[] = [];
  for (const attribute of node.attribute) {
    if (attribute.g) graphs.push(attribute.g);
    graphs.push(...attribute.graphs);
  }
  return graphs;
}

/** Visits `graph` and every graph nested in it, parents before children. */
export function forEachGraph(graph: GraphProto, visit: (graph: GraphProto, depth: number) => void, depth = 0): void {
  visit(graph, depth);
  for (const node of graph.node) for (const subgraph of subgraphsOf(node)) forEachGraph(subgraph, visit, depth + 1);
}

/** Visits every node of `graph` and its subgraphs. */
export function forEachNode(graph: GraphProto, visit: (node: NodeProto, graph: GraphProto) => void): void {
  forEachGraph(graph, (current) => {
    for (const node of current.node) visit(node, current);
  });
}

/** Where a stored tensor lives, for reports. */
export type TensorHome = 'initializer' | 'constant' | 'attribute';

/** Every TensorProto a model stores: initializers, Constant values and tensor attributes, in all graphs. */
export function forEachStoredTensor(
  model: ModelProto,
  visit: (tensor: TensorProto, home: TensorHome, node?: NodeProto) => void,
): void {
  if (!model.graph) return;
  forEachGraph(model.graph, (graph) => {
    for (const tensor of graph.initializer) visit(tensor, 'initializer');
    for (const sparse of graph.sparseInitializer) {
      if (sparse.values) visit(sparse.values, 'initializer');
      if (sparse.indices) visit(sparse.indices, 'initializer');
    }
    for (const node of graph.node) {
      for (const attribute of node.attribute) {
        const home: TensorHome = node.opType === 'Constant' && node.domain === '' ? 'constant' : 'attribute';
        if (attribute.t) visit(attribute.t, home, node);
        for (const tensor of attribute.tensors) visit(tensor, home, node);
        if (attribute.sparseTensor?.values) visit(attribute.sparseTensor.values, home, node);
      }
    }
  });
}

export function getAttribute(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute.find((attribute) => attribute.name === name);
}

export function attributeInt(node: NodeProto, name: string, fallback: number): number {
  const attribute = getAttribute(node, name);
  return attribute ? Number(attribute.i) : fallback;
}

export function attributeInts(node: NodeProto, name: string): number[] | undefined {
  const attribute = getAttribute(node, name);
  return attribute ? attribute.ints.map(Number) : undefined;
}

export function attributeFloat(node: NodeProto, name: string, fallback: number): number {
  const attribute = getAttribute(node, name);
  return attribute ? attribute.f : fallback;
}

/** Sets (replacing) an attribute. */
export function setAttribute(node: NodeProto, attribute: AttributeProto): void {
  const index = node.attribute.findIndex((existing) => existing.name === attribute.name);
  if (index >= 0) node.attribute[index] = attribute;
  else node.attribute.push(attribute);
}

export function removeAttribute(node: NodeProto, name: string): void {
  node.attribute = node.attribute.filter((attribute) => attribute.name !== name);
}

export function intAttribute(name: string, value: number): AttributeProto {
  return create(AttributeProtoSchema, { name, type: AttributeType.INT, i: BigInt(value) });
}

export function intsAttribute(name: string, values: readonly number[]): AttributeProto {
  return create(AttributeProtoSchema, { name, type: AttributeType.INTS, ints: values.map((value) => BigInt(value)) });
}

export function floatAttribute(name: string, value: number): AttributeProto {
  return create(AttributeProtoSchema, { name, type: AttributeType.FLOAT, f: value });
}

export function tensorAttribute(name: string, tensor: TensorProto): AttributeProto {
  return create(AttributeProtoSchema, { name, type: AttributeType.TENSOR, t: tensor });
}

export function makeNode(
  opType: string,
  inputs: string[],
  outputs: string[],
  name: string,
  attributes: AttributeProto[] = [],
  domain = '',
): NodeProto {
  return create(NodeProtoSchema, { opType, input: inputs, output: outputs, name, attribute: attributes, domain });
}

/** A tensor ValueInfo with an element type and an optional shape (numbers, symbolic names or null for unknown). */
export function makeValueInfo(name: string, elemType: number, shape?: readonly (number | string | null)[]): ValueInfoProto {
  const tensorType = create(TypeProto_TensorSchema, { elemType });
  if (shape) {
    tensorType.shape = create(TensorShapeProtoSchema, {
      dim: shape.map((dim) =>
        create(TensorShapeProto_DimensionSchema, {
          value:
            typeof dim === 'number'
              ? { case: 'dimValue', value: BigInt(dim) }
              : typeof dim === 'string'
                ? { case: 'dimParam', value: dim }
                : { case: undefined },
        }),
      ),
    });
  }
  return create(ValueInfoProtoSchema, {
    name,
    type: create(TypeProtoSchema, { value: { case: 'tensorType', value: tensorType } }),
  });
}

/** The element type a ValueInfo declares, when it describes a tensor. */
export function valueInfoElemType(info: ValueInfoProto): number | undefined {
  return info.type?.value.case === 'tensorType' ? info.type.value.value.elemType : undefined;
}

/** The shape a ValueInfo declares: numbers, symbolic names, null for unknown dims; undefined when no shape is given. */
export function valueInfoShape(info: ValueInfoProto): (number | string | null)[] | undefined {
  if (info.type?.value.case !== 'tensorType') return undefined;
  const shape = info.type.value.value.shape;
  if (!shape) return undefined;
  return shape.dim.map((dim) =>
    dim.value.case === 'dimValue' ? Number(dim.value.value) : dim.value.case === 'dimParam' ? dim.value.value : null,
  );
}

/** Sets the element type a ValueInfo declares (no-op for non-tensor types). */
export function setValueInfoElemType(info: ValueInfoProto, elemType: number): void {
  if (info.type?.value.case === 'tensorType') info.type.value.value.elemType = elemType;
}

/** Hands out names that collide with no tensor, node or graph name of a model. */
export class NameAllocator {
  readonly #used = new Set<string>();

  constructor(model: ModelProto) {
    if (!model.graph) return;
    forEachGraph(model.graph, (graph) => {
      this.#used.add(graph.name);
      for (const info of [...graph.input, ...graph.output, ...graph.valueInfo]) this.#used.add(info.name);
      for (const tensor of graph.initializer) this.#used.add(tensor.name);
      for (const node of graph.node) {
        this.#used.add(node.name);
        for (const name of [...node.input, ...node.output]) this.#used.add(name);
      }
    });
  }

  /** `base` itself when free, else `base_1`, `base_2`, ... */
  next(base: string): string {
    let name = base;
    for (let suffix = 1; this.#used.has(name); suffix++) name = `${base}_${suffix}`;
    this.#used.add(name);
    return name;
  }
}

/** Renames every use of tensor `from` to `to` in the nodes of `graph` and its subgraphs (outer-scope references included). */
export function renameUses(graph: GraphProto, from: string, to: string): void {
  forEachNode(graph, (node) => {
    for (let index = 0; index < node.input.length; index++) if (node.input[index] === from) node.input[index] = to;
  });
}
