/**
 * FP16 autocast: rewrites a float32 model so that most of it computes in float16, which is how
 * TensorRT 11 (strongly typed, no FP16 builder flag) is told to use FP16 kernels, and how TensorRT 10
 * is told the same with a strongly typed network.
 *
 * What it does, graph by graph (subgraphs of If/Loop/Scan included, outer-scope references too):
 * - decides per node: converted to float16, kept in float32 (block list of op types and node names,
 *   custom domains, shape computations), or type-generic data movement that follows its input;
 * - converts float32 initializers and Constant values used only by converted nodes in place, and
 *   gives other converted consumers a float16 copy, clamping values beyond float16's range (counted);
 * - inserts one Cast per tensor and direction at every float32/float16 boundary;
 * - keeps graph inputs and outputs float32 (`keepIoTypes`, default true) and subgraph inputs and
 *   outputs always, casting right after the producer;
 * - updates value_info, inputs and outputs so the graph type-checks (onnxruntime loads it).
 */
import { float32ToFloat16Bits, float16BitsToFloat32 } from '../core/dtypes.js';
import { expectBoolean, expectOptions, expectString, invalidType, rejectUnknownOptions } from '../core/validate.js';
import { NameAllocator, forEachGraph, getAttribute, intAttribute, makeNode, setAttribute, setValueInfoElemType, subgraphsOf, tensorAttribute, valueInfoElemType, renameUses } from './graph.js';
import { cloneModel, expectOnnxModel, type OnnxModel } from './model.js';
import { DataType, StringStringEntryProtoSchema, type GraphProto, type NodeProto, type TensorProto } from './proto.js';
import { createTensor, setTensorValues, tensorDims, tensorFloat32Values } from './tensor-data.js';
import { inferElemTypes, outputElemTypes, ScopedElemTypes, type ElemTypes } from './types.js';
import { create } from '@bufbuild/protobuf';

/**
 * Op types kept in float32 unless the caller passes its own list: operators whose float16 results
 * drift (exponentials, logarithms, powers, squares summed over many elements), and operators the
 * ONNX spec or TensorRT define for float32 only (Range, NonMaxSuppression, random generators), and
 * Q/DQ nodes (their float16 scales need opset 19).
 */
export const DEFAULT_FP16_BLOCKED_OPS: readonly string[] = Object.freeze([
  'Exp',
  'Log',
  'Pow',
  'Sqrt',
  'Reciprocal',
  'Softplus',
  'ReduceSumSquare',
  'ReduceL2',
  'ReduceLogSum',
  'ReduceLogSumExp',
  'ReduceProd',
  'CumSum',
  'Range',
  'NonMaxSuppression',
  'RandomNormal',
  'RandomUniform',
  'RandomNormalLike',
  'RandomUniformLike',
  'Multinomial',
  'Bernoulli',
  'QuantizeLinear',
  'DequantizeLinear',
]);

/** Options of {@link convertToFp16}: what stays in float32. */
export interface Fp16Options {
  /** Keep the model's inputs and outputs float32, casting at the edges (default true). */
  keepIoTypes?: boolean;
  /** Op types kept in float32 (default DEFAULT_FP16_BLOCKED_OPS; pass `[...DEFAULT_FP16_BLOCKED_OPS, 'X']` to extend). */
  blockOpTypes?: readonly string[];
  /** Node names kept in float32. */
  blockNodes?: readonly string[];
  /**
   * Keep nodes that read constants beyond float16's range (+-65504) in float32 (default true), e.g.
   * BatchNormalization with large running variances. With false they convert and the values clamp.
   */
  keepOutOfRange?: boolean;
}

/** What {@link convertToFp16} did. */
export interface Fp16Report {
  /** Nodes that now compute in float16. */
  nodesConverted: number;
  /** Float nodes left in float32, and why. */
  nodesKept: { name: string; opType: string; reason: string }[];
  /** Cast nodes inserted at float32/float16 boundaries. */
  castsInserted: number;
  /** Initializers and Constant values converted (copies included). */
  tensorsConverted: number;
  /** Values beyond +-65504 clamped to the float16 range. */
  valuesClamped: number;
  /** Non-zero values too small for float16 that became zero. */
  valuesFlushedToZero: number;
  /** Graphs visited (1 + subgraphs). */
  graphs: number;
}

const FP16_MAX = 65504;
const shapeOps = new Set(['Shape', 'Size']);
/** Type-generic data movement: the output has the input's type, so following the input avoids casts. */
const followOps = new Set(['Identity', 'Reshape', 'Transpose', 'Squeeze', 'Unsqueeze', 'Flatten', 'Gather', 'GatherElements', 'GatherND', 'Slice', 'Split', 'Expand', 'Tile', 'DepthToSpace', 'SpaceToDepth']);
/** Inputs that must stay float32 even on a converted node (their schema allows float only). */
const float32Slots: Record<string, readonly number[]> = { Resize: [1, 2], Upsample: [1] };
/** Inputs of a converted node that accept any type (no cast needed). */
const anyTypeSlots: Record<string, readonly number[]> = { Cast: [0] };

type Decision = { kind: 'convert' } | { kind: 'keep'; reason: string } | { kind: 'follow' } | { kind: 'container' } | { kind: 'passive' };

function isDefaultDomain(node: NodeProto): boolean {
  return node.domain === '' || node.domain === 'ai.onnx';
}

class Fp16Converter {
  readonly report: Fp16Report = { nodesConverted: 0, nodesKept: [], castsInserted: 0, tensorsConverted: 0, valuesClamped: 0, valuesFlushedToZero: 0, graphs: 0 };
  /** Final element type of every tensor in every graph, for value_info updates. */
  readonly finalTypes = new Map<string, number>();
  readonly #created = new WeakSet<NodeProto>();

  constructor(
    readonly names: NameAllocator,
    readonly keepIoTypes: boolean,
    readonly blockOpTypes: ReadonlySet<string>,
    readonly blockNodes: ReadonlySet<string>,
    readonly keepOutOfRange: boolean,
  ) {}

  /** float16 bits of float32 values, clamping and counting. */
  toFloat16(values: Float32Array): Uint16Array {
    const bits = new Uint16Array(values.length);
    for (let index = 0; index < values.length; index++) {
      let value = values[index]!;
      if (Number.isFinite(value) && Math.abs(value) > FP16_MAX) {
        value = Math.sign(value) * FP16_MAX;
        this.report.valuesClamped++;
      }
      bits[index] = float32ToFloat16Bits(value);
      if (value !== 0 && float16BitsToFloat32(bits[index]!) === 0) this.report.valuesFlushedToZero++;
    }
    return bits;
  }

  convertTensorInPlace(tensor: TensorProto): void {
    setTensorValues(tensor, 'float16', tensorDims(tensor), this.toFloat16(tensorFloat32Values(tensor)));
    this.report.tensorsConverted++;
  }

  decide(node: NodeProto, inputTypes: readonly number[], outputTypes: readonly number[], shapeDerived: ReadonlySet<string>, outOfRange: ReadonlySet<string>): Decision {
    if (subgraphsOf(node).length > 0) return { kind: 'container' };
    const touchesFloat = inputTypes.includes(DataType.FLOAT) || outputTypes.includes(DataType.FLOAT);
    if (!touchesFloat) return { kind: 'passive' };
    if (!isDefaultDomain(node)) return { kind: 'keep', reason: `custom domain ${node.domain}` };
    // Constant values are converted (or not) by how they are used, before the walk.
    if (shapeOps.has(node.opType) || node.opType === 'Constant') return { kind: 'passive' };
    if (followOps.has(node.opType)) return { kind: 'follow' };
    if (this.blockNodes.has(node.name)) return { kind: 'keep', reason: 'node in blockNodes' };
    if (this.blockOpTypes.has(node.opType)) return { kind: 'keep', reason: 'op type in blockOpTypes' };
    if (node.output.some((output) => shapeDerived.has(output))) return { kind: 'keep', reason: 'shape computation' };
    if (this.keepOutOfRange && node.input.some((input) => outOfRange.has(input))) return { kind: 'keep', reason: 'constant input beyond the float16 range' };
    return { kind: 'convert' };
  }

  /** float32 initializers and Constant values of `graph` holding finite values beyond +-65504. */
  outOfRange(graph: GraphProto): Set<string> {
    const names = new Set<string>();
    if (!this.keepOutOfRange) return names;
    const check = (name: string, tensor: TensorProto | undefined) => {
      if (tensor?.dataType !== DataType.FLOAT) return;
      for (const value of tensorFloat32Values(tensor)) {
        if (Number.isFinite(value) && Math.abs(value) > FP16_MAX) {
          names.add(name);
          return;
        }
      }
    };
    for (const tensor of graph.initializer) check(tensor.name, tensor);
    for (const node of graph.node) if (node.opType === 'Constant' && node.output[0]) check(node.output[0], getAttribute(node, 'value')?.t);
    return names;
  }

  /** Tensors computed only from Shape/Size outputs and constants: shape arithmetic, kept exact in float32. */
  shapeDerived(graph: GraphProto): Set<string> {
    const constants = new Set(graph.initializer.map((tensor) => tensor.name));
    const derived = new Set<string>();
    for (const node of graph.node) {
      if (node.opType === 'Constant') {
        for (const output of node.output) constants.add(output);
        continue;
      }
      if (shapeOps.has(node.opType)) {
        for (const output of node.output) derived.add(output);
        continue;
      }
      const inputs = node.input.filter(Boolean);
      if (inputs.length > 0 && inputs.some((name) => derived.has(name)) && inputs.every((name) => derived.has(name) || constants.has(name))) {
        for (const output of node.output) derived.add(output);
      }
    }
    return derived;
  }

  /** Converts one graph; `outerOriginal`/`outerFinal` are the outer scope's types before and after conversion. */
  convertGraph(graph: GraphProto, outerOriginal: ReadonlyMap<string, number>, outerFinal: ReadonlyMap<string, number>, isTop: boolean): void {
    this.report.graphs++;
    const original = inferElemTypes(graph, outerOriginal);
    const shapeDerived = this.shapeDerived(graph);
    const outOfRange = this.outOfRange(graph);
    const decisions = new Map<NodeProto, Decision>();
    for (const node of graph.node) {
      const inputTypes = node.input.map((name) => (name ? (original.get(name) ?? DataType.UNDEFINED) : DataType.UNDEFINED));
      const outputTypes = node.output.map((name) => original.get(name) ?? DataType.UNDEFINED);
      decisions.set(node, this.decide(node, inputTypes, outputTypes, shapeDerived, outOfRange));
    }

    const wantsFloat16 = (node: NodeProto, slot: number): boolean =>
      decisions.get(node)?.kind === 'convert' && !(float32Slots[node.opType] ?? []).includes(slot) && !(anyTypeSlots[node.opType] ?? []).includes(slot);
    const ignoresType = (node: NodeProto, slot: number): boolean => {
      const kind = decisions.get(node)?.kind;
      return kind === 'passive' || kind === 'follow' || (kind === 'convert' && (anyTypeSlots[node.opType] ?? []).includes(slot));
    };

    // Uses of each tensor in this graph, and names nested subgraphs read from this scope.
    const uses = new Map<string, { node: NodeProto; slot: number }[]>();
    const nestedReads = new Set<string>();
    for (const node of graph.node) {
      node.input.forEach((name, slot) => {
        if (!name) return;
        if (!uses.has(name)) uses.set(name, []);
        uses.get(name)!.push({ node, slot });
      });
      for (const subgraph of subgraphsOf(node)) forEachGraph(subgraph, (nested) => nested.node.forEach((inner) => inner.input.forEach((name) => name && nestedReads.add(name))));
    }
    const outputNames = new Set(graph.output.map((output) => output.name));
    const onlyFloat16Uses = (name: string): boolean => {
      if (nestedReads.has(name) || outputNames.has(name)) return false;
      const list = (uses.get(name) ?? []).filter(({ node, slot }) => !ignoresType(node, slot));
      return list.length > 0 && list.every(({ node, slot }) => wantsFloat16(node, slot));
    };

    // A tensor "changed" when conversion turned it from float32 into float16 (in this scope or an outer one).
    const types: ElemTypes = new ScopedElemTypes(outerFinal);
    const changed = { has: (name: string) => types.get(name) === DataType.FLOAT16 && original.get(name) === DataType.FLOAT };
    // Weights used only in float16 are converted where they are; others get a copy on demand.
    for (const tensor of graph.initializer) {
      if (tensor.dataType === DataType.FLOAT && onlyFloat16Uses(tensor.name)) {
        this.convertTensorInPlace(tensor);
      }
    }
    for (const node of graph.node) {
      if (node.opType !== 'Constant' || !isDefaultDomain(node) || original.get(node.output[0] ?? '') !== DataType.FLOAT) continue;
      if (!onlyFloat16Uses(node.output[0]!)) continue;
      this.convertConstantNode(node);
    }
    // Without keepIoTypes the model's float32 inputs become float16 when every use wants that.
    if (isTop && !this.keepIoTypes) {
      for (const input of graph.input) {
        if (valueInfoElemType(input) === DataType.FLOAT && !graph.initializer.some((tensor) => tensor.name === input.name) && onlyFloat16Uses(input.name)) {
          setValueInfoElemType(input, DataType.FLOAT16);
        }
      }
    }

    for (const input of graph.input) types.set(input.name, valueInfoElemType(input) ?? DataType.UNDEFINED);
    for (const tensor of graph.initializer) types.set(tensor.name, tensor.dataType);
    const initializers = new Map(graph.initializer.map((tensor) => [tensor.name, tensor]));
    const constantValues = new Map<string, TensorProto>();
    for (const node of graph.node) if (node.opType === 'Constant' && getAttribute(node, 'value')?.t) constantValues.set(node.output[0]!, getAttribute(node, 'value')!.t!);

    const rewritten: NodeProto[] = [];
    const casts = new Map<string, string>();
    const castTo = (name: string, to: number): string => {
      const key = `${to}:${name}`;
      const cached = casts.get(key);
      if (cached) return cached;
      let result: string;
      const stored = to === DataType.FLOAT16 ? (initializers.get(name) ?? constantValues.get(name)) : undefined;
      if (stored && stored.dataType === DataType.FLOAT) {
        // A weight needed in both precisions: a float16 copy instead of a runtime Cast.
        result = this.names.next(`${name}_fp16`);
        const copy = createTensor(result, 'float16', tensorDims(stored), this.toFloat16(tensorFloat32Values(stored)));
        graph.initializer.push(copy);
        this.report.tensorsConverted++;
      } else {
        result = this.names.next(`${name}_${to === DataType.FLOAT16 ? 'fp16' : 'fp32'}`);
        const cast = makeNode('Cast', [name], [result], this.names.next(`${name}_cast_${to === DataType.FLOAT16 ? 'fp16' : 'fp32'}`), [intAttribute('to', to)]);
        this.#created.add(cast);
        rewritten.push(cast);
        this.report.castsInserted++;
      }
      types.set(result, to);
      casts.set(key, result);
      return result;
    };

    for (const node of graph.node) {
      const decision = decisions.get(node)!;
      if (decision.kind === 'convert') {
        node.input.forEach((name, slot) => {
          if (!name) return;
          const type = types.get(name);
          if ((float32Slots[node.opType] ?? []).includes(slot)) {
            if (type === DataType.FLOAT16 && changed.has(name)) node.input[slot] = castTo(name, DataType.FLOAT);
          } else if (!(anyTypeSlots[node.opType] ?? []).includes(slot) && type === DataType.FLOAT) {
            node.input[slot] = castTo(name, DataType.FLOAT16);
          }
        });
        this.rewriteAttributes(node);
        this.report.nodesConverted++;
      } else if (decision.kind === 'keep' || decision.kind === 'container') {
        node.input.forEach((name, slot) => {
          if (name && types.get(name) === DataType.FLOAT16 && changed.has(name)) node.input[slot] = castTo(name, DataType.FLOAT);
        });
        if (decision.kind === 'keep') this.report.nodesKept.push({ name: node.name, opType: node.opType, reason: decision.reason });
      }
      if (decision.kind === 'container' || subgraphsOf(node).length > 0) {
        for (const subgraph of subgraphsOf(node)) this.convertGraph(subgraph, original, types, false);
      }
      rewritten.push(node);
      const inputTypes = node.input.map((name) => (name ? (types.get(name) ?? DataType.UNDEFINED) : DataType.UNDEFINED));
      const outputTypes = outputElemTypes(node, inputTypes);
      node.output.forEach((name, index) => {
        if (!name) return;
        let type = outputTypes[index] ?? DataType.UNDEFINED;
        if (type === DataType.UNDEFINED) type = original.get(name) ?? DataType.UNDEFINED;
        types.set(name, type);
      });
    }
    graph.node = rewritten;

    // Outputs that became float16: cast back right after the producer (always for subgraphs, whose
    // parents expect the declared types; for the model when keepIoTypes).
    for (const output of graph.output) {
      if (types.get(output.name) !== DataType.FLOAT16 || !changed.has(output.name)) continue;
      if (isTop && !this.keepIoTypes) {
        setValueInfoElemType(output, DataType.FLOAT16);
        continue;
      }
      const producerIndex = graph.node.findIndex((node) => node.output.includes(output.name));
      if (producerIndex < 0) continue;
      const inner = this.names.next(`${output.name}_fp16`);
      renameUses(graph, output.name, inner);
      const producer = graph.node[producerIndex]!;
      producer.output = producer.output.map((name) => (name === output.name ? inner : name));
      const cast = makeNode('Cast', [inner], [output.name], this.names.next(`${output.name}_cast_fp32`), [intAttribute('to', DataType.FLOAT)]);
      graph.node.splice(producerIndex + 1, 0, cast);
      this.report.castsInserted++;
      types.set(inner, DataType.FLOAT16);
      types.set(output.name, DataType.FLOAT);
    }
    for (const [name, type] of types) if (!outerFinal.has(name) || outerFinal.get(name) !== type) this.finalTypes.set(name, type);
  }

  convertConstantNode(node: NodeProto): void {
    const value = getAttribute(node, 'value');
    if (value?.t) {
      this.convertTensorInPlace(value.t);
      return;
    }
    const scalar = getAttribute(node, 'value_float');
    const list = getAttribute(node, 'value_floats');
    const values = scalar ? Float32Array.of(scalar.f) : Float32Array.from(list?.floats ?? []);
    const tensor = createTensor(node.output[0]!, 'float16', scalar ? [] : [values.length], this.toFloat16(values));
    node.attribute = [tensorAttribute('value', tensor)];
    this.report.tensorsConverted++;
  }

  /** Attributes that set an output type to float32 on a converted node. */
  rewriteAttributes(node: NodeProto): void {
    switch (node.opType) {
      case 'Cast':
        if (Number(getAttribute(node, 'to')?.i) === DataType.FLOAT) setAttribute(node, intAttribute('to', DataType.FLOAT16));
        break;
      case 'ConstantOfShape': {
        const value = getAttribute(node, 'value')?.t;
        if (value === undefined) setAttribute(node, tensorAttribute('value', createTensor('value', 'float16', [1], Uint16Array.of(0))));
        else if (value.dataType === DataType.FLOAT) this.convertTensorInPlace(value);
        break;
      }
      case 'EyeLike':
      case 'RandomNormalLike':
      case 'RandomUniformLike':
        if (Number(getAttribute(node, 'dtype')?.i) === DataType.FLOAT) setAttribute(node, intAttribute('dtype', DataType.FLOAT16));
        break;
    }
  }
}

function stringList(value: unknown, name: string): string[] {
  if (!Array.isArray(value)) throw invalidType('an array of strings', name, value);
  return value.map((item, index) => expectString(item, `${name}[${index}]`));
}

/**
 * FP16 autocast: converts a float32 model to float16, node by node. Kept in float32: the op types in
 * `blockOpTypes` (exponentials, logarithms, powers, Range, NonMaxSuppression, Q/DQ, ...), the nodes in
 * `blockNodes`, custom domains, shape arithmetic, and nodes reading constants beyond float16's range.
 * Weights used only in float16 are converted in place, one Cast is inserted per tensor and direction,
 * subgraphs are converted too, and value_info is updated so onnxruntime type-checks the result. The
 * input model is not modified.
 *
 * @example
 * ```ts
 * const { model: fp16, report } = convertToFp16(await readModel('det.onnx'));
 * await writeModel(fp16, 'det.fp16.onnx');
 * ```
 */
export function convertToFp16(model: OnnxModel, options?: Fp16Options): { model: OnnxModel; report: Fp16Report } {
  expectOnnxModel(model);
  const opts = expectOptions<Fp16Options>(options);
  rejectUnknownOptions(opts, ['keepIoTypes', 'blockOpTypes', 'blockNodes', 'keepOutOfRange']);
  const keepIoTypes = opts.keepIoTypes === undefined ? true : expectBoolean(opts.keepIoTypes, 'options.keepIoTypes');
  const blockOpTypes = new Set(opts.blockOpTypes === undefined ? DEFAULT_FP16_BLOCKED_OPS : stringList(opts.blockOpTypes, 'options.blockOpTypes'));
  const blockNodes = new Set(opts.blockNodes === undefined ? [] : stringList(opts.blockNodes, 'options.blockNodes'));
  const keepOutOfRange = opts.keepOutOfRange === undefined ? true : expectBoolean(opts.keepOutOfRange, 'options.keepOutOfRange');

  const result = cloneModel(model);
  const graph = result.proto.graph!;
  const converter = new Fp16Converter(new NameAllocator(result.proto), keepIoTypes, blockOpTypes, blockNodes, keepOutOfRange);
  converter.convertGraph(graph, new Map(), new Map(), true);

  // value_info anywhere in the model (some exporters put subgraph entries at the top) follows the final types.
  forEachGraph(graph, (current) => {
    for (const info of current.valueInfo) {
      const declared = valueInfoElemType(info);
      const final = converter.finalTypes.get(info.name);
      if (final !== undefined && final !== DataType.UNDEFINED && declared !== final && (declared === DataType.FLOAT || declared === DataType.FLOAT16)) setValueInfoElemType(info, final);
    }
    for (const info of current.input) {
      const final = converter.finalTypes.get(info.name);
      if (current !== graph && final !== undefined && valueInfoElemType(info) === DataType.FLOAT && final === DataType.FLOAT16) setValueInfoElemType(info, final);
    }
  });
  result.proto.metadataProps.push(create(StringStringEntryProtoSchema, { key: 'tensorrt_node.transform', value: `fp16 keepIoTypes=${keepIoTypes}` }));
  return { model: result, report: converter.report };
}
