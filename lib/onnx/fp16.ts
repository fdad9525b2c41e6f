/**
 * FP16 autocast: rewrites a float32 model so that most of it computes in float16, which is how
 * TensorRT 11 (strongly typed, no FP16 builder flag) is told to use FP16 kernels, and how TensorRT 10
 * is told the same with a strongly typed network.
 *
 * What it does, graph by graph (subgraphs of If/Loop/Scan included, outer-scope references too):
 * - decides per node (./fp16-plan.ts): converted to float16, kept in float32 (block lists, custom
 *   domains, sequences and optionals, operators without float16, shape computations, constants
 *   beyond float16's range), type-generic data movement that follows its input, or a generator or
 *   constant whose type follows its readers;
 * - keeps float16 islands that would cost more casts than they save in float32, so that runs of kept
 *   nodes form one float32 island with casts only at its edges;
 * - converts float32 initializers and Constant values read only in float16 in place and gives other
 *   float16 readers a float16 copy, clamping values beyond float16's range (counted);
 * - inserts one Cast per value and direction, shared by every reader (casts of outer-scope values
 *   that subgraphs need are placed once in the outer graph);
 * - keeps graph inputs and outputs float32 (`keepIoTypes`, default true) and subgraph inputs and
 *   outputs always;
 * - checks the result (every operator's float inputs agree, declared outputs hold) and refuses with
 *   ERR_ONNX naming the node rather than return a model that would not load.
 */
import { create } from '@bufbuild/protobuf';
import { ErrorCode, OnnxError, isTensorRTNodeError } from '../core/errors.js';
import { float32ToFloat16Bits, float16BitsToFloat32 } from '../core/dtypes.js';
import { expectBoolean, expectOptions, expectString, invalidType, rejectUnknownOptions } from '../core/validate.js';
import { defaultOpset, nodeLabel } from './check.js';
import { anyTypeSlots, DEFAULT_FP16_BLOCKED_OPS, float32Slots, independentFloatSlots } from './fp16-rules.js';
import { FP16_MAX, planGraph, type Decision, type GraphPlan } from './fp16-plan.js';
import {
  NameAllocator,
  forEachGraph,
  getAttribute,
  intAttribute,
  makeNode,
  renameUses,
  setAttribute,
  setValueInfoElemType,
  subgraphsOf,
  tensorAttribute,
  valueInfoElemType,
} from './graph.js';
import { cloneModel, expectOnnxModel, type OnnxModel } from './model.js';
import { DataType, StringStringEntryProtoSchema, type GraphProto, type NodeProto, type TensorProto } from './proto.js';
import { createTensor, setTensorValues, tensorDims, tensorFloat32Values } from './tensor-data.js';
import { outputElemTypes, ScopedElemTypes, type ElemTypes } from './types.js';

export { DEFAULT_FP16_BLOCKED_OPS };

/** Options of {@link convertToFp16}: what stays in float32. */
export interface Fp16Options {
  /** Keep the model's inputs and outputs float32, casting at the edges (default true). */
  keepIoTypes?: boolean;
  /** Op types kept in float32 (default DEFAULT_FP16_BLOCKED_OPS; pass `[...DEFAULT_FP16_BLOCKED_OPS, 'X']` to extend). */
  blockOpTypes?: readonly string[];
  /** Node names kept in float32 (what the accuracy-targeted search in tensorrt-node/precision passes). */
  blockNodes?: readonly string[];
  /**
   * Keep nodes that read constants beyond float16's range (+-65504) in float32 (default true), e.g.
   * BatchNormalization with large running variances. With false they convert and the values clamp.
   */
  keepOutOfRange?: boolean;
}

/** What {@link convertToFp16} did. */
export interface Fp16Report {
  /** Nodes that now compute in float16 (data movement that now carries float16 included). */
  nodesConverted: number;
  /** Float nodes left in float32, and why. */
  nodesKept: { name: string; opType: string; reason: string }[];
  /** Cast nodes inserted at float32/float16 boundaries. */
  castsInserted: number;
  /** Of those, casts at the model's own inputs and outputs (the price of keepIoTypes). */
  castsAtIo: number;
  /** castsInserted / nodesConverted (0 when nothing was converted). */
  castsPerConvertedNode: number;
  /** Initializers and Constant values converted (copies included). */
  tensorsConverted: number;
  /** Values beyond +-65504 clamped to the float16 range. */
  valuesClamped: number;
  /** Non-zero values too small for float16 that became zero. */
  valuesFlushedToZero: number;
  /** Graphs visited (1 + subgraphs). */
  graphs: number;
}

/** Operators whose float output type is set by an attribute that a converted node rewrites to float16. */
const attributeTypedOutputs = new Set([
  'Cast',
  'ConstantOfShape',
  'EyeLike',
  'HannWindow',
  'HammingWindow',
  'BlackmanWindow',
  'MelWeightMatrix',
]);

/** What a subgraph sees of the graph around it. */
interface Scope {
  /** Types before conversion of every value visible from the subgraph. */
  original: ReadonlyMap<string, number>;
  /** Types after conversion so far. */
  types: ReadonlyMap<string, number>;
  containers: ReadonlySet<string>;
  /** Whether the enclosing graph (or one further out) defines `name`. */
  defines(name: string): boolean;
  /** A value holding `name` in type `to`, made in the graph that defines `name` (before the node being converted). */
  castTo(name: string, to: number): string;
}

class Fp16Converter {
  readonly report: Fp16Report = {
    nodesConverted: 0,
    nodesKept: [],
    castsInserted: 0,
    castsAtIo: 0,
    castsPerConvertedNode: 0,
    tensorsConverted: 0,
    valuesClamped: 0,
    valuesFlushedToZero: 0,
    graphs: 0,
  };
  /** Final element type of every value in every graph, for value_info updates. */
  readonly finalTypes = new Map<string, number>();

  constructor(
    readonly names: NameAllocator,
    readonly opset: number,
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

  /** Converts one graph; `scope` is null for the model's main graph. */
  convertGraph(graph: GraphProto, scope: Scope | null): void {
    this.report.graphs++;
    const isTop = scope === null;
    const plan = planGraph(graph, {
      outerOriginal: scope?.original ?? new Map(),
      outerFinal: scope?.types ?? new Map(),
      isTop,
      outerContainers: scope?.containers ?? new Set(),
      opset: this.opset,
      blockOpTypes: this.blockOpTypes,
      blockNodes: this.blockNodes,
      keepOutOfRange: this.keepOutOfRange,
      float16Outputs: isTop && !this.keepIoTypes,
    });
    new GraphRewriter(this, graph, plan, scope).run();
  }
}

/** Applies a GraphPlan to one graph: casts, tensor conversions, attribute rewrites, recursion into subgraphs. */
class GraphRewriter {
  /** Element types here, layered over the enclosing graph's (a copy per subgraph would cost names x subgraphs). */
  readonly types: ElemTypes;
  readonly #casts = new Map<string, string>();
  readonly #rewritten: NodeProto[] = [];
  readonly #initializers: Map<string, TensorProto>;
  readonly #constantValues = new Map<string, TensorProto>();
  readonly #defined = new Set<string>();
  readonly #graphInputs: Set<string>;

  constructor(
    readonly converter: Fp16Converter,
    readonly graph: GraphProto,
    readonly plan: GraphPlan,
    readonly scope: Scope | null,
  ) {
    this.types = new ScopedElemTypes(scope?.types ?? new Map());
    this.#initializers = new Map(graph.initializer.map((tensor) => [tensor.name, tensor]));
    this.#graphInputs = new Set(graph.input.map((input) => input.name));
    for (const name of [...this.#graphInputs, ...this.#initializers.keys()]) this.#defined.add(name);
    for (const node of graph.node) for (const output of node.output) if (output) this.#defined.add(output);
  }

  get isTop(): boolean {
    return this.scope === null;
  }

  /** Whether conversion turned `name` from float32 into float16 (here or in an outer scope). */
  changed(name: string): boolean {
    return this.types.get(name) === DataType.FLOAT16 && this.plan.original.get(name) === DataType.FLOAT;
  }

  #label(node: NodeProto): string {
    return nodeLabel(node, this.graph.node.indexOf(node));
  }

  /** A value holding `name` in type `to`: a float16 copy of a stored tensor, or one shared Cast. */
  castTo(name: string, to: number): string {
    if (this.scope && !this.#defined.has(name) && this.scope.defines(name)) {
      // An outer-scope value: cast once in the graph that defines it, shared by every subgraph.
      const result = this.scope.castTo(name, to);
      this.types.set(result, to);
      return result;
    }
    const key = `${to}:${name}`;
    const cached = this.#casts.get(key);
    if (cached) return cached;
    let result: string;
    const stored =
      to === DataType.FLOAT16 && !this.#graphInputs.has(name)
        ? (this.#initializers.get(name) ?? this.#constantValues.get(name))
        : undefined;
    if (stored && stored.dataType === DataType.FLOAT) {
      // A weight needed in both precisions: a float16 copy instead of a runtime Cast.
      result = this.converter.names.next(`${name}_fp16`);
      const copy = createTensor(result, 'float16', tensorDims(stored), this.converter.toFloat16(tensorFloat32Values(stored)));
      this.graph.initializer.push(copy);
      this.converter.report.tensorsConverted++;
    } else {
      const suffix = to === DataType.FLOAT16 ? 'fp16' : 'fp32';
      result = this.converter.names.next(`${name}_${suffix}`);
      this.#rewritten.push(
        makeNode('Cast', [name], [result], this.converter.names.next(`${name}_cast_${suffix}`), [intAttribute('to', to)]),
      );
      this.converter.report.castsInserted++;
      if (this.isTop && this.#graphInputs.has(name) && !this.#initializers.has(name)) this.converter.report.castsAtIo++;
    }
    this.types.set(result, to);
    this.#casts.set(key, result);
    return result;
  }

  #scopeForSubgraphs(): Scope {
    return {
      original: this.plan.original,
      types: this.types,
      containers: this.plan.containers,
      defines: (name) => this.#defined.has(name) || (this.scope?.defines(name) ?? false),
      castTo: (name, to) => this.castTo(name, to),
    };
  }

  run(): void {
    const { graph, plan, converter } = this;
    // Weights and constants read only in float16 are converted where they are.
    for (const tensor of graph.initializer) {
      if (plan.float16Constants.has(tensor.name)) this.#convertStored(tensor, tensor.name);
    }
    for (const node of graph.node) {
      if (node.opType !== 'Constant') continue;
      const output = node.output[0];
      if (!output) continue;
      if (plan.float16Constants.has(output)) this.#convertConstantNode(node);
      else {
        const value = constantTensor(node);
        if (value) this.#constantValues.set(output, value);
      }
    }
    // Without keepIoTypes the model's float32 inputs become float16 when every reader wants that.
    for (const input of graph.input) {
      if (plan.float16Inputs.has(input.name)) setValueInfoElemType(input, DataType.FLOAT16);
    }
    for (const input of graph.input)
      this.types.set(input.name, valueInfoElemType(input) ?? plan.original.get(input.name) ?? DataType.UNDEFINED);
    for (const tensor of graph.initializer) this.types.set(tensor.name, tensor.dataType);

    for (const node of graph.node) this.#rewriteNode(node, plan.decisions.get(node)!);
    graph.node = this.#rewritten;
    this.#castOutputs();
    this.#checkOutputs();
    const outerTypes = this.scope?.types;
    for (const [name, type] of this.types) if (!outerTypes || outerTypes.get(name) !== type) converter.finalTypes.set(name, type);
  }

  /** Converts a weight or constant in place; an unreadable one is refused naming the node that reads it. */
  #convertStored(tensor: TensorProto, name: string): void {
    try {
      this.converter.convertTensorInPlace(tensor);
    } catch (error) {
      const reader = this.graph.node.find((node) => node.input.includes(name));
      throw refusal(
        reader ? `${this.#label(reader)} (its input ${JSON.stringify(name)})` : `tensor ${JSON.stringify(name)}`,
        error,
      );
    }
  }

  #rewriteNode(node: NodeProto, decision: Decision): void {
    const { converter } = this;
    const originalInputs = [...node.input];
    const wrap = <T>(operation: () => T): T => {
      try {
        return operation();
      } catch (error) {
        throw refusal(this.#label(node), error);
      }
    };
    switch (decision.kind) {
      case 'convert':
        wrap(() =>
          node.input.forEach((name, slot) => {
            if (!name) return;
            const type = this.types.get(name);
            if ((float32Slots[node.opType] ?? []).includes(slot)) {
              if (type === DataType.FLOAT16 && this.changed(name)) node.input[slot] = this.castTo(name, DataType.FLOAT);
            } else if (!(anyTypeSlots[node.opType] ?? []).includes(slot) && type === DataType.FLOAT) {
              node.input[slot] = this.castTo(name, DataType.FLOAT16);
            }
          }),
        );
        wrap(() => this.#rewriteAttributes(node));
        converter.report.nodesConverted++;
        break;
      case 'keep':
      case 'container':
        node.input.forEach((name, slot) => {
          if (name && this.types.get(name) === DataType.FLOAT16 && this.changed(name))
            node.input[slot] = this.castTo(name, DataType.FLOAT);
        });
        if (decision.kind === 'keep')
          converter.report.nodesKept.push({ name: node.name, opType: node.opType, reason: decision.reason });
        break;
      case 'follow':
        if (this.changed(node.input[0] ?? '')) converter.report.nodesConverted++;
        break;
      default:
        break;
    }
    if (subgraphsOf(node).length > 0) {
      const scope = this.#scopeForSubgraphs();
      for (const subgraph of subgraphsOf(node)) converter.convertGraph(subgraph, scope);
    }
    this.#checkNode(node, originalInputs);
    this.#rewritten.push(node);
    const inputTypes = node.input.map((name) => (name ? (this.types.get(name) ?? DataType.UNDEFINED) : DataType.UNDEFINED));
    const outputTypes =
      decision.kind === 'keep' || decision.kind === 'container'
        ? node.output.map((name) => this.plan.original.get(name) ?? DataType.UNDEFINED)
        : outputElemTypes(node, inputTypes);
    node.output.forEach((name, index) => {
      if (!name) return;
      let type = outputTypes[index] ?? DataType.UNDEFINED;
      if (type === DataType.UNDEFINED) type = this.plan.original.get(name) ?? DataType.UNDEFINED;
      this.types.set(name, type);
    });
  }

  #convertConstantNode(node: NodeProto): void {
    const { converter } = this;
    const value = getAttribute(node, 'value');
    if (value?.t) {
      this.#convertStored(value.t, node.output[0]!);
      this.#constantValues.set(node.output[0]!, value.t);
      return;
    }
    const scalar = getAttribute(node, 'value_float');
    const list = getAttribute(node, 'value_floats');
    const values = scalar ? Float32Array.of(scalar.f) : Float32Array.from(list?.floats ?? []);
    const tensor = createTensor(node.output[0]!, 'float16', scalar ? [] : [values.length], converter.toFloat16(values));
    node.attribute = [tensorAttribute('value', tensor)];
    this.#constantValues.set(node.output[0]!, tensor);
    converter.report.tensorsConverted++;
  }

  /** Attributes that set an output type to float32 on a converted node. */
  #rewriteAttributes(node: NodeProto): void {
    if (!attributeTypedOutputs.has(node.opType)) return;
    switch (node.opType) {
      case 'Cast':
        if (Number(getAttribute(node, 'to')?.i) === DataType.FLOAT) setAttribute(node, intAttribute('to', DataType.FLOAT16));
        break;
      case 'ConstantOfShape': {
        const value = getAttribute(node, 'value')?.t;
        if (value === undefined)
          setAttribute(node, tensorAttribute('value', createTensor('value', 'float16', [1], Uint16Array.of(0))));
        else if (value.dataType === DataType.FLOAT) this.converter.convertTensorInPlace(value);
        break;
      }
      case 'EyeLike':
        if (Number(getAttribute(node, 'dtype')?.i) === DataType.FLOAT)
          setAttribute(node, intAttribute('dtype', DataType.FLOAT16));
        break;
      default:
        // Window functions and MelWeightMatrix: output_datatype, float32 when absent.
        if (Number(getAttribute(node, 'output_datatype')?.i ?? DataType.FLOAT) === DataType.FLOAT)
          setAttribute(node, intAttribute('output_datatype', DataType.FLOAT16));
    }
  }

  /** Outputs that became float16 are cast back (always for subgraphs, whose parents expect the declared types; for the model with keepIoTypes). */
  #castOutputs(): void {
    const { graph, converter } = this;
    for (const output of graph.output) {
      if (this.types.get(output.name) !== DataType.FLOAT16 || !this.changed(output.name)) continue;
      if (this.isTop && !converter.keepIoTypes) {
        setValueInfoElemType(output, DataType.FLOAT16);
        continue;
      }
      const producerIndex = graph.node.findIndex((node) => node.output.includes(output.name));
      if (producerIndex < 0) continue;
      const inner = converter.names.next(`${output.name}_fp16`);
      // A float32 cast of this value made for float32 readers becomes the output itself: one cast, not two.
      const existing = this.#casts.get(`${DataType.FLOAT}:${output.name}`);
      renameUses(graph, output.name, inner);
      const producer = graph.node[producerIndex]!;
      producer.output = producer.output.map((name) => (name === output.name ? inner : name));
      this.types.set(inner, DataType.FLOAT16);
      this.types.set(output.name, DataType.FLOAT);
      if (existing) {
        const cast = graph.node.find((node) => node.opType === 'Cast' && node.output[0] === existing)!;
        cast.output[0] = output.name;
        renameUses(graph, existing, output.name);
        this.types.delete(existing);
      } else {
        const cast = makeNode('Cast', [inner], [output.name], converter.names.next(`${output.name}_cast_fp32`), [
          intAttribute('to', DataType.FLOAT),
        ]);
        graph.node.splice(producerIndex + 1, 0, cast);
        converter.report.castsInserted++;
      }
      if (this.isTop) converter.report.castsAtIo++;
    }
  }

  /**
   * The converter's own invariant, checked on each rewritten node: the float inputs that its type
   * constraint binds to one type agree (unless they already differed in the model). A violation is
   * refused (ERR_ONNX naming the node) instead of returning a model that would not load.
   */
  #checkNode(node: NodeProto, originalInputs: readonly string[]): void {
    if (node.domain !== '' && node.domain !== 'ai.onnx') return;
    const independent = independentFloatSlots[node.opType] ?? [];
    const before = new Set<number>();
    const after = new Set<number>();
    node.input.forEach((name, slot) => {
      if (!name || independent.includes(slot) || this.plan.containers.has(originalInputs[slot]!)) return;
      const was = this.plan.original.get(originalInputs[slot]!);
      const now = this.types.get(name);
      if (was === DataType.FLOAT || was === DataType.FLOAT16) before.add(was);
      if (now === DataType.FLOAT || now === DataType.FLOAT16) after.add(now);
    });
    if (after.size > 1 && before.size < 2) {
      throw new OnnxError(
        ErrorCode.ONNX,
        `Cannot convert ${this.#label(node)} to float16: it would read float16 and float32 inputs that its type constraint binds to one type`,
        { details: { node: node.name, opType: node.opType } },
      );
    }
  }

  /** Declared outputs keep their types (subgraphs always; the model with keepIoTypes). */
  #checkOutputs(): void {
    if (this.isTop && !this.converter.keepIoTypes) return;
    for (const output of this.graph.output) {
      const declared = valueInfoElemType(output);
      const final = this.types.get(output.name);
      if (declared === DataType.FLOAT && final === DataType.FLOAT16) {
        throw new OnnxError(
          ErrorCode.ONNX,
          `Cannot convert graph ${JSON.stringify(this.graph.name)} to float16: its output ${JSON.stringify(output.name)} would become float16`,
        );
      }
    }
  }
}

/** The float tensor a Constant node holds (value, value_float, value_floats), or undefined. */
function constantTensor(node: NodeProto): TensorProto | undefined {
  const value = getAttribute(node, 'value')?.t;
  if (value) return value;
  const scalar = getAttribute(node, 'value_float');
  if (scalar) return createTensor(node.output[0]!, 'float32', [], Float32Array.of(scalar.f));
  const list = getAttribute(node, 'value_floats');
  if (list) return createTensor(node.output[0]!, 'float32', [list.floats.length], Float32Array.from(list.floats));
  return undefined;
}

/** ERR_ONNX naming what could not be converted, keeping the original error as the cause. */
function refusal(what: string, error: unknown): Error {
  if (isTensorRTNodeError(error) && error.message.startsWith('Cannot convert')) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new OnnxError(ErrorCode.ONNX, `Cannot convert ${what} to float16: ${reason}`, { cause: error });
}

function stringList(value: unknown, name: string): string[] {
  if (!Array.isArray(value)) throw invalidType('an array of strings', name, value);
  return value.map((item, index) => expectString(item, `${name}[${index}]`));
}

/**
 * Converts a float32 model to float16 (see the module comment); the input model is not modified.
 * Throws OnnxError (ERR_ONNX) naming the node, its op type and the reason when a part of the model
 * cannot be converted (a weight that cannot be read, a result that would not type-check).
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
  const blockOpTypes = new Set(
    opts.blockOpTypes === undefined ? DEFAULT_FP16_BLOCKED_OPS : stringList(opts.blockOpTypes, 'options.blockOpTypes'),
  );
  const blockNodes = new Set(opts.blockNodes === undefined ? [] : stringList(opts.blockNodes, 'options.blockNodes'));
  const keepOutOfRange = opts.keepOutOfRange === undefined ? true : expectBoolean(opts.keepOutOfRange, 'options.keepOutOfRange');

  const result = cloneModel(model);
  const graph = result.proto.graph!;
  const converter = new Fp16Converter(
    new NameAllocator(result.proto),
    defaultOpset(result.proto) ?? 1,
    keepIoTypes,
    blockOpTypes,
    blockNodes,
    keepOutOfRange,
  );
  converter.convertGraph(graph, null);
  const { report } = converter;
  report.castsPerConvertedNode = report.nodesConverted ? Number((report.castsInserted / report.nodesConverted).toFixed(3)) : 0;

  // value_info anywhere in the model (some exporters put subgraph entries at the top) follows the final types.
  forEachGraph(graph, (current) => {
    for (const info of current.valueInfo) {
      const declared = valueInfoElemType(info);
      const final = converter.finalTypes.get(info.name);
      if (
        final !== undefined &&
        final !== DataType.UNDEFINED &&
        declared !== final &&
        (declared === DataType.FLOAT || declared === DataType.FLOAT16)
      )
        setValueInfoElemType(info, final);
    }
  });
  result.proto.metadataProps.push(
    create(StringStringEntryProtoSchema, { key: 'tensorrt_node.transform', value: `fp16 keepIoTypes=${keepIoTypes}` }),
  );
  return { model: result, report };
}
