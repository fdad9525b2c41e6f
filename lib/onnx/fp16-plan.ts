/**
 * Where float16 goes in one graph (the decisions ./fp16.ts applies):
 *
 * 1. Per node, from the operator rules (./fp16-rules.ts): convert, keep in float32 (with the reason),
 *    follow the data input (type-generic data movement), container (If/Loop/Scan), or passive
 *    (touches no float32). Generators (ConstantOfShape, window functions) and constants become
 *    float16 only when everything that reads them computes in float16.
 * 2. Shape computation stays float32: values computed from Shape/Size through a few arithmetic
 *    operators (forward), and the arithmetic that feeds a shape input such as Reshape's shape or
 *    Resize's scales (backward). A Relu or a ConstantOfShape is never shape computation.
 * 3. Fewer casts: a float16 island (converted nodes joined by float16 values) that does not touch
 *    the graph's inputs or outputs and needs at least as many casts as it has work stays float32, so
 *    that a run of kept nodes forms one float32 island with casts only at its edges. Repeated until
 *    nothing changes, because a flipped island can make its neighbour small.
 */
import { ErrorCode, OnnxError } from '../core/errors.js';
import { nodeLabel } from './check.js';
import {
  accumulatingScatterOps,
  anyTypeSlots,
  containerOps,
  float32OnlyReason,
  float32Slots,
  followOps,
  generatorOps,
  nodeWeight,
  shapeArithmeticOps,
  shapeSlots,
} from './fp16-rules.js';
import { forEachGraph, getAttribute, subgraphsOf } from './graph.js';
import { DataType, type GraphProto, type NodeProto, type TensorProto } from './proto.js';
import { tensorFloat32Values } from './tensor-data.js';
import { containerValues, inferElemTypes, isDefaultDomain, outputElemTypes, ScopedElemTypes, type ElemTypes } from './types.js';

export type Decision =
  { kind: 'convert' } | { kind: 'keep'; reason: string } | { kind: 'follow' } | { kind: 'container' } | { kind: 'passive' };

export interface PlanOptions {
  outerOriginal: ReadonlyMap<string, number>;
  /** Types of outer-scope values after their graph's conversion (empty for the main graph). */
  outerFinal: ReadonlyMap<string, number>;
  outerContainers: ReadonlySet<string>;
  opset: number;
  blockOpTypes: ReadonlySet<string>;
  blockNodes: ReadonlySet<string>;
  keepOutOfRange: boolean;
  /** The graph's outputs may become float16 (the main graph without keepIoTypes). */
  float16Outputs: boolean;
  /**
   * The graph is the model's main graph: casts at its inputs and outputs are the caller's I/O
   * contract and never a reason to keep an island in float32. A subgraph's casts at its edges run
   * on every iteration or branch and count like any other.
   */
  isTop: boolean;
}

export interface GraphPlan {
  /** Types before conversion (outer scope included). */
  original: ElemTypes;
  /** Sequence, optional and map values (outer scope included). */
  containers: Set<string>;
  decisions: Map<NodeProto, Decision>;
  /** Initializers and Constant outputs converted in place (every reader computes in float16). */
  float16Constants: Set<string>;
  /** Graph inputs that become float16 (only where float16Outputs allows it). */
  float16Inputs: Set<string>;
}

const ISLAND_REASON = 'a float16 island too small for the casts around it';

/** The largest finite float16 value. */
export const FP16_MAX = 65504;

function beyondFloat16(tensor: TensorProto | undefined): boolean {
  if (tensor?.dataType !== DataType.FLOAT) return false;
  for (const value of tensorFloat32Values(tensor)) if (Number.isFinite(value) && Math.abs(value) > FP16_MAX) return true;
  return false;
}

interface Use {
  node: NodeProto;
  slot: number;
}

class Planner {
  readonly original: ElemTypes;
  readonly containers: Set<string>;
  readonly uses = new Map<string, Use[]>();
  readonly producers = new Map<string, NodeProto>();
  readonly nestedReads = new Set<string>();
  readonly graphOutputs: Set<string>;
  readonly graphInputs: Set<string>;
  /** Float32 initializers (not also graph inputs) and Constant node outputs. */
  readonly storedFloats = new Set<string>();
  readonly decisions = new Map<NodeProto, Decision>();
  readonly generators = new Set<NodeProto>();
  /** Data-movement nodes that cast their float32 input once because everything downstream computes in float16. */
  readonly promoted = new Set<NodeProto>();

  constructor(
    readonly graph: GraphProto,
    readonly options: PlanOptions,
  ) {
    this.original = inferElemTypes(graph, options.outerOriginal);
    this.containers = containerValues(graph, options.outerContainers);
    this.graphOutputs = new Set(graph.output.map((output) => output.name));
    this.graphInputs = new Set(graph.input.map((input) => input.name));
    for (const node of graph.node) {
      node.input.forEach((name, slot) => {
        if (!name) return;
        if (!this.uses.has(name)) this.uses.set(name, []);
        this.uses.get(name)!.push({ node, slot });
      });
      for (const output of node.output) if (output) this.producers.set(output, node);
      for (const subgraph of subgraphsOf(node))
        forEachGraph(subgraph, (nested) =>
          nested.node.forEach((inner) => inner.input.forEach((name) => name && this.nestedReads.add(name))),
        );
    }
    for (const tensor of graph.initializer)
      if (tensor.dataType === DataType.FLOAT && !this.graphInputs.has(tensor.name)) this.storedFloats.add(tensor.name);
    for (const node of graph.node)
      if (
        node.opType === 'Constant' &&
        isDefaultDomain(node) &&
        node.output[0] &&
        this.original.get(node.output[0]) === DataType.FLOAT
      )
        this.storedFloats.add(node.output[0]);
  }

  touchesFloat(node: NodeProto): boolean {
    return [...node.input, ...node.output].some((name) => name !== '' && this.original.get(name) === DataType.FLOAT);
  }

  /** Tensors computed from Shape/Size (forward) or feeding a shape input (backward) through shape arithmetic. */
  shapeComputation(): Set<NodeProto> {
    const nodes = new Set<NodeProto>();
    const constants = new Set<string>([...this.graph.initializer.map((tensor) => tensor.name)]);
    const derived = new Set<string>();
    for (const node of this.graph.node) {
      if (node.opType === 'Constant') {
        for (const output of node.output) constants.add(output);
        continue;
      }
      if (node.opType === 'Shape' || node.opType === 'Size') {
        for (const output of node.output) derived.add(output);
        continue;
      }
      if (!shapeArithmeticOps.has(node.opType)) continue;
      const inputs = node.input.filter(Boolean);
      if (
        inputs.length > 0 &&
        inputs.some((name) => derived.has(name)) &&
        inputs.every((name) => derived.has(name) || constants.has(name))
      ) {
        for (const output of node.output) derived.add(output);
        if (this.touchesFloat(node)) nodes.add(node);
      }
    }
    const pending: string[] = [];
    for (const node of this.graph.node)
      for (const slot of shapeSlots[node.opType] ?? []) if (node.input[slot]) pending.push(node.input[slot]!);
    const visited = new Set<string>();
    while (pending.length > 0) {
      const name = pending.pop()!;
      if (visited.has(name)) continue;
      visited.add(name);
      const producer = this.producers.get(name);
      if (!producer || !shapeArithmeticOps.has(producer.opType)) continue;
      if (this.touchesFloat(producer)) nodes.add(producer);
      pending.push(...producer.input.filter(Boolean));
    }
    return nodes;
  }

  /** `tensor` holds finite values beyond +-65504; an unreadable tensor is refused naming the node that reads it. */
  beyondFloat16(name: string, tensor: TensorProto | undefined): boolean {
    try {
      return beyondFloat16(tensor);
    } catch (error) {
      const reader = this.uses.get(name)?.[0]?.node;
      const what = reader
        ? `${nodeLabel(reader, this.graph.node.indexOf(reader))} (its input ${JSON.stringify(name)})`
        : `tensor ${JSON.stringify(name)}`;
      throw new OnnxError(
        ErrorCode.ONNX,
        `Cannot convert ${what} to float16: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
  }

  /** Values of float32 constants (and ConstantOfShape fills) beyond +-65504. */
  outOfRange(): Set<string> {
    const names = new Set<string>();
    if (!this.options.keepOutOfRange) return names;
    for (const tensor of this.graph.initializer) if (this.beyondFloat16(tensor.name, tensor)) names.add(tensor.name);
    for (const node of this.graph.node) {
      if (node.opType === 'Constant' && node.output[0] && this.beyondFloat16(node.output[0], getAttribute(node, 'value')?.t))
        names.add(node.output[0]);
      if (
        node.opType === 'Constant' &&
        node.output[0] &&
        [...(getAttribute(node, 'value_floats')?.floats ?? []), getAttribute(node, 'value_float')?.f ?? 0].some(
          (value) => Math.abs(value) > FP16_MAX && Number.isFinite(value),
        )
      )
        names.add(node.output[0]);
      if (
        node.opType === 'ConstantOfShape' &&
        node.output[0] &&
        this.beyondFloat16(node.output[0], getAttribute(node, 'value')?.t)
      )
        names.add(node.output[0]);
    }
    return names;
  }

  initialDecision(node: NodeProto, shapeNodes: ReadonlySet<NodeProto>, outOfRange: ReadonlySet<string>): Decision | 'generator' {
    if (subgraphsOf(node).length > 0) return { kind: 'container' };
    if (isDefaultDomain(node) && (node.opType === 'Constant' || node.opType === 'Shape' || node.opType === 'Size'))
      return { kind: 'passive' };
    if (!this.touchesFloat(node)) return { kind: 'passive' };
    const keep = (reason: string): Decision => ({ kind: 'keep', reason });
    if (!isDefaultDomain(node)) return keep(`custom domain ${node.domain}`);
    if (containerOps.has(node.opType) || [...node.input, ...node.output].some((name) => name && this.containers.has(name)))
      return keep('sequence and optional values keep their element type');
    if (this.options.blockNodes.has(node.name)) return keep('node in blockNodes');
    if (this.options.blockOpTypes.has(node.opType)) return keep('op type in blockOpTypes');
    const only = float32OnlyReason(node.opType, this.options.opset);
    if (only) return keep(only);
    if (accumulatingScatterOps.has(node.opType)) {
      const reduction = new TextDecoder().decode(getAttribute(node, 'reduction')?.s ?? new Uint8Array());
      if (reduction && reduction !== 'none') return keep(`reduction "${reduction}" accumulates, and float16 sums lose precision`);
    }
    if (node.input.some((name) => name && (this.original.get(name) ?? DataType.UNDEFINED) === DataType.UNDEFINED))
      return keep('an input of unknown type');
    if (followOps.has(node.opType)) return { kind: 'follow' };
    if (shapeNodes.has(node)) return keep('shape computation');
    if (
      node.input.some((name) => outOfRange.has(name)) ||
      (node.opType === 'ConstantOfShape' && outOfRange.has(node.output[0] ?? ''))
    )
      return keep('constant input beyond the float16 range');
    if (generatorOps.has(node.opType)) return 'generator';
    return { kind: 'convert' };
  }

  /**
   * Whether every reader of `name` computes it in float16 (looking through data movement), and at
   * least one does. Graph outputs and subgraph reads want the declared type.
   */
  wantsFloat16(name: string, memo: Map<string, boolean>): boolean {
    const cached = memo.get(name);
    if (cached !== undefined) return cached;
    memo.set(name, false); // no cycles in a valid graph; this guards against invalid ones
    let wanting = 0;
    let result = true;
    if (this.nestedReads.has(name) || (this.graphOutputs.has(name) && !this.options.float16Outputs)) result = false;
    if (this.graphOutputs.has(name) && this.options.float16Outputs) wanting++;
    for (const { node, slot } of result ? (this.uses.get(name) ?? []) : []) {
      const decision = this.decisions.get(node)!;
      if (decision.kind === 'convert') {
        if ((float32Slots[node.opType] ?? []).includes(slot)) result = false;
        else if (!(anyTypeSlots[node.opType] ?? []).includes(slot)) wanting++;
      } else if (decision.kind === 'follow') {
        if (slot !== 0) continue;
        const outputs = node.output.filter(Boolean);
        if (outputs.every((output) => this.wantsFloat16(output, memo))) wanting++;
        else result = false;
      } else if (decision.kind === 'passive') {
        continue;
      } else {
        result = false;
      }
      if (!result) break;
    }
    result = result && wanting > 0;
    memo.set(name, result);
    return result;
  }

  resolveGenerators(): void {
    const memo = new Map<string, boolean>();
    for (const node of this.generators) {
      const output = node.output[0];
      this.decisions.set(
        node,
        output && this.wantsFloat16(output, memo)
          ? { kind: 'convert' }
          : { kind: 'keep', reason: 'a generated value read in float32' },
      );
    }
  }

  /**
   * Generators become float16 when all their readers are; data movement on a float32 value whose
   * results are all read in float16 casts its input instead (one cast before a Split, a Gather or a
   * Transpose rather than one per result further down).
   */
  resolveFollowers(): void {
    for (const node of this.promoted) this.decisions.set(node, { kind: 'follow' });
    this.promoted.clear();
    this.resolveGenerators();
    const memo = new Map<string, boolean>();
    for (const node of this.graph.node) {
      if (this.decisions.get(node)!.kind !== 'follow' || this.original.get(node.input[0] ?? '') !== DataType.FLOAT) continue;
      const outputs = node.output.filter(Boolean);
      if (outputs.length > 0 && outputs.every((output) => this.wantsFloat16(output, memo))) {
        this.decisions.set(node, { kind: 'convert' });
        this.promoted.add(node);
      }
    }
  }

  /** Stored floats and (without keepIoTypes) graph inputs that every reader wants in float16. */
  float16Values(): { constants: Set<string>; inputs: Set<string> } {
    const memo = new Map<string, boolean>();
    const constants = new Set<string>();
    for (const name of this.storedFloats) if (this.wantsFloat16(name, memo)) constants.add(name);
    const inputs = new Set<string>();
    if (this.options.float16Outputs) {
      const initializers = new Set(this.graph.initializer.map((tensor) => tensor.name));
      for (const input of this.graph.input)
        if (
          !initializers.has(input.name) &&
          this.original.get(input.name) === DataType.FLOAT &&
          this.wantsFloat16(input.name, memo)
        )
          inputs.add(input.name);
    }
    return { constants, inputs };
  }

  /**
   * The float16 islands of the current decisions and what each costs: the casts it needs at its
   * edges to float32 nodes, and whether it touches the graph's (or an outer graph's) values.
   */
  islands(): { nodes: NodeProto[]; casts: number; weight: number; touchesIo: boolean }[] {
    const { constants, inputs } = this.float16Values();
    // The outer graphs' final types win over this graph's original ones, as if copied over them; a
    // layered view instead of a copy keeps the pass linear in names x subgraphs.
    const { outerFinal } = this.options;
    const types = new ScopedElemTypes({
      get: (name) => (outerFinal.has(name) ? outerFinal.get(name) : this.original.get(name)),
      has: (name) => outerFinal.has(name) || this.original.has(name),
    });
    for (const name of [...constants, ...inputs]) types.set(name, DataType.FLOAT16);
    const isTop = this.options.isTop;
    const changed = (name: string) => types.get(name) === DataType.FLOAT16 && this.original.get(name) === DataType.FLOAT;
    const parent = new Map<NodeProto, NodeProto>();
    const find = (node: NodeProto): NodeProto => {
      let root = node;
      while (parent.get(root) !== root) root = parent.get(root)!;
      parent.set(node, root);
      return root;
    };
    const join = (a: NodeProto, b: NodeProto) => parent.set(find(a), find(b));
    const casts = new Map<NodeProto, Set<string>>();
    const io = new Set<NodeProto>();
    const addCast = (member: NodeProto, key: string) => {
      if (!casts.has(member)) casts.set(member, new Set());
      casts.get(member)!.add(key);
    };
    const producerIn16 = (name: string) => {
      const producer = this.producers.get(name);
      return producer && parent.has(producer) ? producer : undefined;
    };
    for (const node of this.graph.node) {
      const decision = this.decisions.get(node)!;
      const inputTypes = node.input.map((name) => (name ? (types.get(name) ?? DataType.UNDEFINED) : DataType.UNDEFINED));
      if (decision.kind === 'convert') {
        parent.set(node, node);
        node.input.forEach((name, slot) => {
          if (!name || (anyTypeSlots[node.opType] ?? []).includes(slot)) return;
          if ((float32Slots[node.opType] ?? []).includes(slot)) {
            const producer = changed(name) ? producerIn16(name) : undefined;
            if (producer) addCast(producer, `32:${name}`);
            return;
          }
          if (this.storedFloats.has(name)) {
            inputTypes[slot] = DataType.FLOAT16; // converted in place or given a float16 copy: no cast
            return;
          }
          if (changed(name)) {
            const producer = producerIn16(name);
            if (producer) join(node, producer);
            else io.add(node);
          } else if (types.get(name) === DataType.FLOAT) {
            inputTypes[slot] = DataType.FLOAT16;
            if (this.producers.has(name) || !isTop) addCast(node, `16:${name}`);
            else io.add(node); // a cast of the model's input
          }
        });
        const outputs = outputElemTypes(node, inputTypes);
        node.output.forEach((name, index) => {
          if (!name) return;
          let type = outputs[index] ?? DataType.UNDEFINED;
          if (type === DataType.FLOAT && (node.opType === 'Cast' || generatorOps.has(node.opType))) type = DataType.FLOAT16;
          types.set(name, type === DataType.UNDEFINED ? (this.original.get(name) ?? type) : type);
        });
      } else if (decision.kind === 'follow') {
        const data = node.input[0] ?? '';
        if (changed(data)) {
          const producer = producerIn16(data);
          if (producer) {
            parent.set(node, node);
            join(node, producer);
          }
          for (const output of node.output) if (output) types.set(output, DataType.FLOAT16);
        }
      } else if (decision.kind === 'keep' || decision.kind === 'container') {
        for (const name of node.input) {
          if (!name || !changed(name)) continue;
          const producer = producerIn16(name);
          if (producer) addCast(producer, `32:${name}`);
        }
      }
    }
    for (const name of this.graphOutputs) {
      const producer = changed(name) ? producerIn16(name) : undefined;
      if (!producer) continue;
      if (isTop) io.add(producer);
      else addCast(producer, `32:${name}`);
    }
    for (const name of this.nestedReads) {
      const producer = changed(name) ? producerIn16(name) : undefined;
      if (producer) io.add(producer); // what the subgraph needs is decided there
    }
    const islands = new Map<NodeProto, { nodes: NodeProto[]; keys: Set<string>; weight: number; touchesIo: boolean }>();
    for (const member of parent.keys()) {
      const root = find(member);
      if (!islands.has(root)) islands.set(root, { nodes: [], keys: new Set(), weight: 0, touchesIo: false });
      const island = islands.get(root)!;
      island.nodes.push(member);
      const decision = this.decisions.get(member)!;
      if (decision.kind === 'convert' && !this.generators.has(member) && !this.promoted.has(member))
        island.weight += nodeWeight(member.opType);
      for (const key of casts.get(member) ?? []) island.keys.add(key);
      if (io.has(member)) island.touchesIo = true;
    }
    return [...islands.values()].map((island) => ({
      nodes: island.nodes,
      casts: island.keys.size,
      weight: island.weight,
      touchesIo: island.touchesIo,
    }));
  }

  plan(): GraphPlan {
    const shapeNodes = this.shapeComputation();
    const outOfRange = this.outOfRange();
    for (const node of this.graph.node) {
      const decision = this.initialDecision(node, shapeNodes, outOfRange);
      if (decision === 'generator') {
        this.generators.add(node);
        this.decisions.set(node, { kind: 'keep', reason: 'a generated value read in float32' });
      } else {
        this.decisions.set(node, decision);
      }
    }
    this.resolveFollowers();
    for (let round = 0; round < 16; round++) {
      let flipped = false;
      for (const island of this.islands()) {
        if (island.touchesIo || island.casts < island.weight || island.casts === 0) continue;
        for (const node of island.nodes) {
          if (this.decisions.get(node)!.kind === 'convert' && !this.generators.has(node) && !this.promoted.has(node)) {
            this.decisions.set(node, { kind: 'keep', reason: ISLAND_REASON });
            flipped = true;
          }
        }
      }
      if (!flipped) break;
      this.resolveFollowers();
    }
    const { constants, inputs } = this.float16Values();
    return {
      original: this.original,
      containers: this.containers,
      decisions: this.decisions,
      float16Constants: constants,
      float16Inputs: inputs,
    };
  }
}

/** Plans the conversion of one graph (see the module comment). */
export function planGraph(graph: GraphProto, options: PlanOptions): GraphPlan {
  try {
    return new Planner(graph, options).plan();
  } catch (error) {
    if (error instanceof OnnxError) throw error;
    throw new OnnxError(
      ErrorCode.ONNX,
      `Cannot plan the float16 conversion of graph ${JSON.stringify(graph.name)}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}
