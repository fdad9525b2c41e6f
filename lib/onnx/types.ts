/**
 * Element-type inference: the ONNX element type of every value in a graph, from its inputs,
 * initializers and per-operator rules (most operators output the type of their first input; the
 * exceptions are listed below). Shapes are not inferred: FP16 autocast and quantization only need
 * to know which values are float32. Sequences and optionals carry the element type of the tensors
 * they hold (a sequence of float32 tensors is "float32" here); `containerValues` tells them apart
 * from tensors. Where a rule cannot tell (custom operators), the graph's value_info decides when it
 * has an entry.
 */
import { DataType, type GraphProto, type NodeProto, type TypeProto, type ValueInfoProto } from './proto.js';
import { attributeInt, getAttribute, subgraphsOf } from './graph.js';

/** Tensor name to ONNX element type (DataType.UNDEFINED when unknown). */
export type ElemTypes = Map<string, number>;

/**
 * The element types of one graph layered over those of its enclosing graphs: lookups fall through
 * to `outer`, nothing of it is copied. A subgraph's pass then costs its own size, not its outer
 * scope's (a copy per subgraph made a model with 100k initializers and 3,000 If nodes quadratic).
 * Iterating yields this graph's own entries only: the names it defines or retypes.
 */
export class ScopedElemTypes extends Map<string, number> {
  readonly #outer: Pick<ReadonlyMap<string, number>, 'get' | 'has'>;

  constructor(outer: Pick<ReadonlyMap<string, number>, 'get' | 'has'>) {
    super();
    this.#outer = outer;
  }

  override get(name: string): number | undefined {
    return super.has(name) ? super.get(name) : this.#outer.get(name);
  }

  override has(name: string): boolean {
    return super.has(name) || this.#outer.has(name);
  }
}

const int64Outputs = new Set(['Shape', 'Size', 'NonZero', 'ArgMax', 'ArgMin', 'NonMaxSuppression']);
const boolOutputs = new Set([
  'Equal',
  'Less',
  'Greater',
  'LessOrEqual',
  'GreaterOrEqual',
  'Not',
  'And',
  'Or',
  'Xor',
  'IsNaN',
  'IsInf',
  'RegexFullMatch',
]);
const int32Outputs = new Set(['MatMulInteger', 'ConvInteger']);

/** Whether `node` belongs to the default ONNX domain ('' or 'ai.onnx'). */
export function isDefaultDomain(node: NodeProto): boolean {
  return node.domain === '' || node.domain === 'ai.onnx';
}

/** The element type a TypeProto holds: a tensor's, or that of the tensors inside a sequence/optional (UNDEFINED for maps and unknown). */
function typeProtoElemType(type: TypeProto | undefined): number {
  switch (type?.value.case) {
    case 'tensorType':
    case 'sparseTensorType':
      return type.value.value.elemType;
    case 'sequenceType':
    case 'optionalType':
      return typeProtoElemType(type.value.value.elemType);
    default:
      return DataType.UNDEFINED;
  }
}

/** The element type a ValueInfo declares (see typeProtoElemType), or undefined when it declares none. */
function declaredElemType(info: ValueInfoProto): number | undefined {
  const type = typeProtoElemType(info.type);
  return type === DataType.UNDEFINED ? undefined : type;
}

/** Operators whose outputs are sequences or optionals rather than tensors. */
const containerOutputs = new Set([
  'SequenceConstruct',
  'SequenceEmpty',
  'SequenceInsert',
  'SequenceErase',
  'SplitToSequence',
  'SequenceMap',
  'Optional',
]);

/** Whether a ValueInfo declares something other than a plain tensor (sequence, optional, map). */
function isContainerInfo(info: ValueInfoProto): boolean {
  const kind = info.type?.value.case;
  return kind === 'sequenceType' || kind === 'optionalType' || kind === 'mapType';
}

/**
 * Names of the values of `graph` that are sequences, optionals or maps (declared so, or made by a
 * sequence/optional operator, or outputs of If/Loop/Scan whose body declares them so), plus `outer`.
 */
export function containerValues(graph: GraphProto, outer: ReadonlySet<string> = new Set()): Set<string> {
  const containers = new Set(outer);
  for (const info of [...graph.input, ...graph.output, ...graph.valueInfo]) if (isContainerInfo(info)) containers.add(info.name);
  for (const node of graph.node) {
    if (isDefaultDomain(node) && containerOutputs.has(node.opType)) {
      for (const output of node.output) if (output) containers.add(output);
      continue;
    }
    // OptionalGetElement of an optional sequence yields a sequence; If/Loop/Scan pass their bodies' kinds on.
    if (node.opType === 'OptionalGetElement' && node.input[0] && containers.has(node.input[0])) {
      const declared = [...graph.valueInfo, ...graph.output].find((info) => info.name === node.output[0]);
      if (declared && isContainerInfo(declared)) containers.add(node.output[0]!);
    }
    const body = subgraphsOf(node)[0];
    if (!body) continue;
    const bodyOutputs = node.opType === 'Loop' ? body.output.slice(1) : body.output;
    node.output.forEach((name, index) => {
      const info = bodyOutputs[index];
      if (name && info && isContainerInfo(info)) containers.add(name);
    });
  }
  return containers;
}

/** The element types a node's outputs get, given its input types (UNDEFINED where unknown). */
export function outputElemTypes(node: NodeProto, inputTypes: readonly number[]): number[] {
  const count = node.output.length;
  const all = (type: number) => Array.from({ length: count }, () => type);
  const first = inputTypes[0] ?? DataType.UNDEFINED;
  if (!isDefaultDomain(node)) return all(DataType.UNDEFINED);
  const op = node.opType;
  if (int64Outputs.has(op)) return all(DataType.INT64);
  if (boolOutputs.has(op)) return all(DataType.BOOL);
  if (int32Outputs.has(op)) return all(DataType.INT32);
  switch (op) {
    case 'Cast':
      return all(attributeInt(node, 'to', DataType.UNDEFINED));
    case 'CastLike':
      return all(inputTypes[1] ?? DataType.UNDEFINED);
    case 'Constant': {
      const attribute = node.attribute[0];
      if (!attribute) return all(DataType.UNDEFINED);
      if (attribute.t) return all(attribute.t.dataType);
      if (attribute.name === 'value_float' || attribute.name === 'value_floats') return all(DataType.FLOAT);
      if (attribute.name === 'value_int' || attribute.name === 'value_ints') return all(DataType.INT64);
      if (attribute.name === 'value_string' || attribute.name === 'value_strings') return all(DataType.STRING);
      if (attribute.sparseTensor?.values) return all(attribute.sparseTensor.values.dataType);
      return all(DataType.UNDEFINED);
    }
    case 'ConstantOfShape':
      return all(getAttribute(node, 'value')?.t?.dataType ?? DataType.FLOAT);
    case 'RandomNormal':
    case 'RandomUniform':
      return all(attributeInt(node, 'dtype', DataType.FLOAT));
    case 'RandomNormalLike':
    case 'RandomUniformLike':
    case 'EyeLike':
    case 'Bernoulli':
      return all(getAttribute(node, 'dtype') ? attributeInt(node, 'dtype', DataType.FLOAT) : first);
    case 'Multinomial':
      return all(attributeInt(node, 'dtype', DataType.INT32));
    case 'HannWindow':
    case 'HammingWindow':
    case 'BlackmanWindow':
    case 'MelWeightMatrix':
      return all(attributeInt(node, 'output_datatype', DataType.FLOAT));
    case 'TfIdfVectorizer':
      return all(DataType.FLOAT);
    case 'BitCast':
      return all(attributeInt(node, 'to', DataType.UNDEFINED));
    case 'StringSplit':
      return [DataType.STRING, DataType.INT64].slice(0, count);
    case 'ImageDecoder':
      return all(DataType.UINT8);
    case 'SequenceLength':
      return all(DataType.INT64);
    case 'OptionalHasElement':
      return all(DataType.BOOL);
    case 'SequenceEmpty':
      return all(attributeInt(node, 'dtype', DataType.FLOAT));
    case 'Optional':
      return all(node.input[0] ? first : typeProtoElemType(getAttribute(node, 'type')?.tp));
    case 'SequenceMap': {
      const body = getAttribute(node, 'body')?.g;
      return body ? body.output.map((output) => declaredElemType(output) ?? DataType.UNDEFINED) : all(DataType.UNDEFINED);
    }
    case 'QuantizeLinear': {
      if (inputTypes[2] !== undefined && node.input[2]) return all(inputTypes[2]);
      return all(getAttribute(node, 'output_dtype') ? attributeInt(node, 'output_dtype', DataType.UINT8) : DataType.UINT8);
    }
    case 'DequantizeLinear':
      return all(inputTypes[1] ?? DataType.FLOAT);
    case 'DynamicQuantizeLinear':
      return [DataType.UINT8, DataType.FLOAT, DataType.UINT8].slice(0, count);
    case 'QLinearConv':
    case 'QLinearMatMul':
      return all(inputTypes[7] ?? DataType.UINT8);
    case 'TopK':
    case 'MaxPool':
    case 'Unique':
      return [first, ...Array.from({ length: count - 1 }, () => DataType.INT64)];
    case 'Dropout':
      return [first, DataType.BOOL].slice(0, count);
    case 'LayerNormalization':
      return [first, ...Array.from({ length: count - 1 }, () => attributeInt(node, 'stash_type', DataType.FLOAT))];
    case 'Where':
      return all(inputTypes[1] ?? DataType.UNDEFINED);
    case 'OneHot':
      return all(inputTypes[2] ?? DataType.UNDEFINED);
    case 'Concat':
    case 'Sum':
    case 'Mean':
    case 'Max':
    case 'Min':
      return all(inputTypes.find((type) => type !== DataType.UNDEFINED) ?? DataType.UNDEFINED);
    case 'If': {
      const branch = getAttribute(node, 'then_branch')?.g;
      return branch ? branch.output.map((output) => declaredElemType(output) ?? DataType.UNDEFINED) : all(DataType.UNDEFINED);
    }
    case 'Loop': {
      const body = getAttribute(node, 'body')?.g;
      return body
        ? body.output.slice(1).map((output) => declaredElemType(output) ?? DataType.UNDEFINED)
        : all(DataType.UNDEFINED);
    }
    case 'Scan': {
      const body = getAttribute(node, 'body')?.g;
      return body ? body.output.map((output) => declaredElemType(output) ?? DataType.UNDEFINED) : all(DataType.UNDEFINED);
    }
    default:
      // Sequence and optional operators (SequenceAt, SequenceConstruct, ConcatFromSequence,
      // OptionalGetElement, ...) keep the element type of their first input, as most operators do.
      return all(first);
  }
}

/** Declared types from value_info, inputs and outputs, used where a rule cannot tell. */
function declaredTypes(graph: GraphProto): Map<string, number> {
  const declared = new Map<string, number>();
  for (const info of [...graph.valueInfo, ...graph.output, ...graph.input]) {
    const type = declaredElemType(info);
    if (type !== undefined && type !== DataType.UNDEFINED) declared.set(info.name, type);
  }
  return declared;
}

/**
 * Infers the element type of every tensor `graph` defines (and copies the `outer` scope), visiting
 * nodes in order. `onNode` sees each node with its input types before its outputs are recorded.
 */
export function inferElemTypes(
  graph: GraphProto,
  outer: ReadonlyMap<string, number> = new Map(),
  onNode?: (node: NodeProto, inputTypes: number[]) => void,
): ElemTypes {
  const types: ElemTypes = new ScopedElemTypes(outer);
  const declared = declaredTypes(graph);
  for (const input of graph.input) types.set(input.name, declaredElemType(input) ?? DataType.UNDEFINED);
  for (const tensor of graph.initializer) types.set(tensor.name, tensor.dataType);
  for (const node of graph.node) {
    const inputTypes = node.input.map((name) => (name ? (types.get(name) ?? DataType.UNDEFINED) : DataType.UNDEFINED));
    onNode?.(node, inputTypes);
    const outputTypes = outputElemTypes(node, inputTypes);
    node.output.forEach((name, index) => {
      if (!name) return;
      const inferred = outputTypes[index] ?? DataType.UNDEFINED;
      // Custom operators without declared types: assume they keep their first input's type (the
      // common case for plugins such as LayerNorm or GELU variants).
      const fallback = isDefaultDomain(node) ? DataType.UNDEFINED : (inputTypes[0] ?? DataType.UNDEFINED);
      types.set(name, inferred !== DataType.UNDEFINED ? inferred : (declared.get(name) ?? fallback));
    });
  }
  return types;
}
