/**
 * Upgrading a model's default-domain opset (to 13, the first with per-channel QuantizeLinear /
 * DequantizeLinear, which INT8 weights need). Operators whose signature or meaning changed on the
 * way are rewritten to the new form with the old meaning; operators whose later versions only
 * added types or attributes with backward-compatible defaults need nothing. Operators this module
 * cannot upgrade faithfully are refused with ERR_ONNX and listed.
 */
import { ErrorCode, OnnxError } from '../core/errors.js';
import { defaultOpset } from './check.js';
import {
  NameAllocator,
  attributeFloat,
  attributeInt,
  attributeInts,
  forEachGraph,
  getAttribute,
  intAttribute,
  makeNode,
  removeAttribute,
  valueInfoShape,
} from './graph.js';
import type { OnnxModel } from './model.js';
import { clone } from '@bufbuild/protobuf';
import { DataType, TensorProtoSchema, type GraphProto, type NodeProto } from './proto.js';
import { createTensor } from './tensor-data.js';
import { inferElemTypes } from './types.js';

interface UpgradeContext {
  graph: GraphProto;
  from: number;
  names: NameAllocator;
  /** Element types of the graph's tensors (for constants that must match an input's type). */
  types: Map<string, number>;
  /** Nodes to insert before (key) a node. */
  before: Map<NodeProto, NodeProto[]>;
  /** Nodes to insert after (key) a node. */
  after: Map<NodeProto, NodeProto[]>;
}

function int64Constant(context: UpgradeContext, base: string, values: readonly number[]): string {
  const name = context.names.next(base);
  context.graph.initializer.push(
    createTensor(name, 'int64', [values.length], BigInt64Array.from(values.map((value) => BigInt(value)))),
  );
  return name;
}

function floatConstant(context: UpgradeContext, base: string, value: number, like: string): string {
  const name = context.names.next(base);
  const type = context.types.get(like);
  if (type === DataType.FLOAT16) {
    throw new OnnxError(
      ErrorCode.ONNX,
      `Expected a float32 input for opset upgrade of Clip but received float16 tensor ${JSON.stringify(like)}`,
    );
  }
  context.graph.initializer.push(
    createTensor(
      name,
      type === DataType.DOUBLE ? 'float64' : 'float32',
      [],
      type === DataType.DOUBLE ? Float64Array.of(value) : Float32Array.of(value),
    ),
  );
  return name;
}

/** Moves an ints attribute into an int64 input at `slot` (Squeeze/Unsqueeze/Split/ReduceSum at 13, Slice at 10, ...). */
function attributeToInput(context: UpgradeContext, node: NodeProto, attribute: string, slot: number): void {
  const values = attributeInts(node, attribute);
  removeAttribute(node, attribute);
  if (values === undefined) return;
  while (node.input.length < slot) node.input.push('');
  node.input[slot] = int64Constant(context, `${node.name || node.opType}_${attribute}`, values);
}

/** Old Softmax/LogSoftmax/Hardmax flattened to 2D at `axis`; opset 13 works on one axis. Keep the old meaning exactly. */
function upgradeSoftmaxFamily(context: UpgradeContext, node: NodeProto): void {
  const axis = attributeInt(node, 'axis', 1);
  const input = node.input[0]!;
  const output = node.output[0]!;
  const base = node.name || node.opType;
  const shape = context.names.next(`${base}_shape`);
  const flat = context.names.next(`${base}_2d`);
  const result = context.names.next(`${base}_2d_out`);
  context.before.set(node, [
    makeNode('Shape', [input], [shape], context.names.next(`${base}_Shape`)),
    makeNode('Flatten', [input], [flat], context.names.next(`${base}_Flatten`), [intAttribute('axis', axis)]),
  ]);
  node.input[0] = flat;
  node.output[0] = result;
  removeAttribute(node, 'axis');
  node.attribute.push(intAttribute('axis', -1));
  context.after.set(node, [makeNode('Reshape', [result, shape], [output], context.names.next(`${base}_Reshape`))]);
}

/** Binary operators that had `broadcast`/`axis` attributes before opset 7 (numpy-style broadcasting since). */
const legacyBroadcastOps = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'And', 'Or', 'Xor', 'Equal', 'Greater', 'Less']);

/** The rank `name` is declared with (graph inputs, outputs, value_info) or has as a constant, if known. */
function declaredRank(context: UpgradeContext, name: string): number | undefined {
  const constant = context.graph.initializer.find((tensor) => tensor.name === name);
  if (constant) return constant.dims.length;
  const info = [...context.graph.input, ...context.graph.valueInfo, ...context.graph.output].find(
    (candidate) => candidate.name === name,
  );
  return info ? valueInfoShape(info)?.length : undefined;
}

/** Rewrites what changed up to opset 7 (legacy broadcasting, training-only attributes); returns a reason when it cannot. */
function upgradeLegacy(context: UpgradeContext, node: NodeProto): string | null {
  removeAttribute(node, 'consumed_inputs');
  if (node.opType === 'BatchNormalization' || node.opType === 'Dropout') removeAttribute(node, 'is_test');
  if (node.opType === 'Gemm') removeAttribute(node, 'broadcast'); // Gemm-7 always broadcasts C
  if (node.opType === 'PRelu') {
    const slope = context.graph.initializer.find((tensor) => tensor.name === node.input[1]);
    if (!slope || slope.dims.reduce((product, dim) => product * Number(dim), 1) !== 1)
      return 'PRelu before opset 7 shares slopes per channel, which opset 7 broadcasting does not reproduce';
  }
  if (!legacyBroadcastOps.has(node.opType)) return null;
  const broadcast = attributeInt(node, 'broadcast', 0);
  const axis = getAttribute(node, 'axis') ? attributeInt(node, 'axis', 0) : undefined;
  removeAttribute(node, 'broadcast');
  removeAttribute(node, 'axis');
  if (broadcast === 0 || axis === undefined) return null; // equal shapes, or B aligned with A's trailing dims: numpy does the same
  const rankA = declaredRank(context, node.input[0] ?? '');
  const weight = context.graph.initializer.find((tensor) => tensor.name === node.input[1]);
  const rankB = weight ? weight.dims.length : declaredRank(context, node.input[1] ?? '');
  if (rankA === undefined || rankB === undefined)
    return `legacy broadcasting along axis ${axis} needs the ranks of both inputs, which the model does not declare`;
  const trailing = rankA - (axis < 0 ? axis + rankA : axis) - rankB;
  if (trailing === 0) return null;
  if (!weight || trailing < 0)
    return `legacy broadcasting along axis ${axis} of a non-constant input has no opset 7 equivalent without a Reshape of known shape`;
  // B aligned at `axis` of A: append ones so that numpy broadcasting aligns it the same way.
  const reshaped = context.names.next(`${weight.name}_broadcast`);
  const copy = clone(TensorProtoSchema, weight);
  copy.name = reshaped;
  copy.dims = [...weight.dims, ...Array.from({ length: trailing }, () => 1n)];
  context.graph.initializer.push(copy);
  node.input[1] = reshaped;
  return null;
}

/** Rewrites one node from opset `context.from` to 13; returns a reason when it cannot. */
function upgradeNode(context: UpgradeContext, node: NodeProto): string | null {
  if (node.domain !== '' && node.domain !== 'ai.onnx') return null;
  const from = context.from;
  if (from < 7) {
    const reason = upgradeLegacy(context, node);
    if (reason) return reason;
  }
  switch (node.opType) {
    case 'Squeeze':
    case 'Unsqueeze':
    case 'ReduceSum':
      if (from < 13) attributeToInput(context, node, 'axes', 1);
      return null;
    case 'Split':
      if (from < 13) attributeToInput(context, node, 'split', 1);
      return null;
    case 'Softmax':
    case 'LogSoftmax':
    case 'Hardmax':
      if (from < 13) upgradeSoftmaxFamily(context, node);
      return null;
    case 'Slice':
      if (from < 10) {
        const starts = attributeInts(node, 'starts') ?? [];
        const ends = attributeInts(node, 'ends') ?? [];
        const axes = attributeInts(node, 'axes');
        for (const name of ['starts', 'ends', 'axes']) removeAttribute(node, name);
        const base = node.name || 'Slice';
        node.input = [
          node.input[0]!,
          int64Constant(context, `${base}_starts`, starts),
          int64Constant(context, `${base}_ends`, ends),
          ...(axes ? [int64Constant(context, `${base}_axes`, axes)] : []),
        ];
      }
      return null;
    case 'Clip':
      if (from < 11) {
        const hasMin = getAttribute(node, 'min') !== undefined;
        const hasMax = getAttribute(node, 'max') !== undefined;
        const min = attributeFloat(node, 'min', -3.4028234663852886e38);
        const max = attributeFloat(node, 'max', 3.4028234663852886e38);
        removeAttribute(node, 'min');
        removeAttribute(node, 'max');
        const base = node.name || 'Clip';
        node.input = [
          node.input[0]!,
          hasMin ? floatConstant(context, `${base}_min`, min, node.input[0]!) : '',
          hasMax ? floatConstant(context, `${base}_max`, max, node.input[0]!) : '',
        ];
        while (node.input.at(-1) === '') node.input.pop();
      }
      return null;
    case 'Pad':
      if (from < 11) {
        const pads = attributeInts(node, 'pads') ?? [];
        const value = attributeFloat(node, 'value', 0);
        removeAttribute(node, 'pads');
        removeAttribute(node, 'value');
        const base = node.name || 'Pad';
        node.input = [
          node.input[0]!,
          int64Constant(context, `${base}_pads`, pads),
          ...(value !== 0 ? [floatConstant(context, `${base}_value`, value, node.input[0]!)] : []),
        ];
      }
      return null;
    case 'TopK':
      if (from < 10) {
        const k = attributeInt(node, 'k', 1);
        removeAttribute(node, 'k');
        node.input = [node.input[0]!, int64Constant(context, `${node.name || 'TopK'}_k`, [k])];
      }
      return null;
    case 'Dropout':
      // Inference ignores the ratio; at 12 it became an input. Dropping the attribute keeps the meaning.
      if (from < 12) removeAttribute(node, 'ratio');
      return null;
    case 'BatchNormalization':
      if (from < 9) {
        if (attributeInt(node, 'spatial', 1) !== 1) return 'BatchNormalization with spatial=0 has no opset 9+ equivalent';
        removeAttribute(node, 'spatial');
      }
      return null;
    case 'Scatter':
      if (from < 11) node.opType = 'ScatterElements';
      return null;
    case 'Upsample':
      return 'Upsample was replaced by Resize, whose coordinate rules differ';
    case 'Resize':
      if (from < 11) return 'Resize-10 used different coordinate rules than Resize-11+';
      return null;
    default:
      return null;
  }
}

/**
 * Rewrites `model` in place from its default-domain opset to `target` (10..13 supported targets for
 * older models). No-op when the model is already at or above `target`.
 */
export function upgradeOpset(model: OnnxModel, target = 13): { from: number; to: number } {
  const from = defaultOpset(model.proto) ?? target;
  if (from >= target) return { from, to: from };
  const names = new NameAllocator(model.proto);
  const refused: string[] = [];
  forEachGraph(model.proto.graph!, (graph) => {
    const context: UpgradeContext = { graph, from, names, types: inferElemTypes(graph), before: new Map(), after: new Map() };
    for (const node of graph.node) {
      const reason = upgradeNode(context, node);
      if (reason) refused.push(`${node.name || node.opType} (${reason})`);
    }
    graph.node = graph.node.flatMap((node) => [...(context.before.get(node) ?? []), node, ...(context.after.get(node) ?? [])]);
  });
  if (refused.length > 0) {
    throw new OnnxError(
      ErrorCode.ONNX,
      `Expected operators that can move from opset ${from} to ${target} in ${model.source} but received ${refused.slice(0, 5).join(', ')}${refused.length > 5 ? ` and ${refused.length - 5} more` : ''}`,
    );
  }
  for (const opset of model.proto.opsetImport)
    if (opset.domain === '' || opset.domain === 'ai.onnx') opset.version = BigInt(target);
  if (Number(model.proto.irVersion) < 7) model.proto.irVersion = 7n;
  return { from, to: target };
}
