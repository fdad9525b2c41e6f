/**
 * Where INT8 Q/DQ goes, following TensorRT's explicit-quantization rules (see docs/onnx-and-precision.md,
 * "INT8 quantization: where Q/DQ goes and why", for the sources):
 *
 * 1. Quantize the inputs of the operators TensorRT runs in INT8: Conv, ConvTranspose, Gemm and
 *    MatMul by default, both the activation and the weight input. Outputs are not quantized; TensorRT
 *    fuses a following Q into the producer when the next layer is quantized too.
 * 2. Weights (constant inputs) are quantized per output channel: axis 0 of Conv weights [K, C, R, S],
 *    axis 1 of ConvTranspose weights [C, K, R, S] (per tensor when group > 1, where axis 1 holds only
 *    K / group channels), axis 0 of Gemm B when transB = 1 and axis 1 otherwise, the last axis of a
 *    constant MatMul B. They are stored as INT8 with one DequantizeLinear (TensorRT's "pre-quantized
 *    weights": a DQ between the weights and the linear operator).
 * 3. Activations are quantized per tensor with one QuantizeLinear/DequantizeLinear pair per tensor,
 *    shared by all quantized consumers.
 * 4. Symmetric: zero points are 0 (int8) everywhere, scales amax / 127, as TensorRT requires.
 * Extra op types (e.g. Add for residual fusions, pooling) can be listed: all of their float
 * activation inputs get Q/DQ.
 */
import { attributeInt } from './graph.js';
import { DataType, type GraphProto, type NodeProto } from './proto.js';
import { inferElemTypes } from './types.js';

/** The op types whose inputs INT8 quantization puts Q/DQ on by default: the weighted operators. */
export const DEFAULT_QUANTIZED_OPS: readonly string[] = Object.freeze(['Conv', 'ConvTranspose', 'Gemm', 'MatMul']);

export interface WeightPlan {
  slot: number;
  /** The quantization axis, or null for per-tensor. */
  axis: number | null;
}

export interface NodePlan {
  node: NodeProto;
  /** Input slots holding activations (per-tensor Q/DQ). */
  activationSlots: number[];
  weight: WeightPlan | null;
}

export interface QuantizationPlan {
  nodes: NodePlan[];
  /** Every activation tensor that needs an amax, in graph order. */
  activations: string[];
  skipped: { name: string; opType: string; reason: string }[];
}

/** Names of constants of `graph`: initializers and Constant node outputs, with their dims. */
export function constantDims(graph: GraphProto): Map<string, number[]> {
  const constants = new Map<string, number[]>();
  for (const tensor of graph.initializer) constants.set(tensor.name, tensor.dims.map(Number));
  for (const node of graph.node) {
    const value =
      node.opType === 'Constant' && (node.domain === '' || node.domain === 'ai.onnx')
        ? node.attribute.find((attribute) => attribute.name === 'value')?.t
        : undefined;
    if (value && node.output[0]) constants.set(node.output[0], value.dims.map(Number));
  }
  return constants;
}

function weightSlot(node: NodeProto, dims: number[] | undefined): WeightPlan | null | 'not-constant' {
  const weightIndex =
    node.opType === 'MatMul' || node.opType === 'Gemm' || node.opType === 'Conv' || node.opType === 'ConvTranspose' ? 1 : -1;
  if (weightIndex < 0) return null;
  if (!dims) return node.opType === 'MatMul' ? null : 'not-constant';
  switch (node.opType) {
    case 'Conv':
      return { slot: 1, axis: 0 };
    case 'ConvTranspose':
      return { slot: 1, axis: attributeInt(node, 'group', 1) === 1 ? 1 : null };
    case 'Gemm':
      return { slot: 1, axis: attributeInt(node, 'transB', 0) === 1 ? 0 : 1 };
    default:
      return { slot: 1, axis: dims.length >= 2 ? dims.length - 1 : null };
  }
}

/** Plans Q/DQ for the main graph (subgraphs are left in float). */
export function planQuantization(
  graph: GraphProto,
  opTypes: ReadonlySet<string>,
  excludeNodes: ReadonlySet<string>,
): QuantizationPlan {
  const types = inferElemTypes(graph);
  const constants = constantDims(graph);
  const plan: QuantizationPlan = { nodes: [], activations: [], skipped: [] };
  const seen = new Set<string>();
  for (const node of graph.node) {
    if (!opTypes.has(node.opType) || (node.domain !== '' && node.domain !== 'ai.onnx')) continue;
    const skip = (reason: string) => plan.skipped.push({ name: node.name, opType: node.opType, reason });
    if (excludeNodes.has(node.name)) {
      skip('in excludeNodes');
      continue;
    }
    const weight = weightSlot(node, constants.get(node.input[1] ?? ''));
    if (weight === 'not-constant') {
      skip('its weights are not constant');
      continue;
    }
    if (weight && types.get(node.input[weight.slot]!) !== DataType.FLOAT) {
      skip('its weights are not float32');
      continue;
    }
    const activationSlots: number[] = [];
    let usable = true;
    // Conv/ConvTranspose/Gemm: only input 0 is an activation (bias stays float); others: every float input.
    const candidates =
      node.opType === 'Conv' || node.opType === 'ConvTranspose' || node.opType === 'Gemm'
        ? [0]
        : node.input.map((_, index) => index);
    for (const slot of candidates) {
      const name = node.input[slot];
      if (!name || slot === weight?.slot || constants.has(name)) continue;
      if (types.get(name) !== DataType.FLOAT) {
        if (slot === 0) usable = false;
        continue;
      }
      activationSlots.push(slot);
    }
    if (!usable) {
      skip('its input is not float32');
      continue;
    }
    if (activationSlots.length === 0 && !weight) {
      skip('it has no float32 input to quantize');
      continue;
    }
    plan.nodes.push({ node, activationSlots, weight });
    for (const slot of activationSlots) {
      const name = node.input[slot]!;
      if (!seen.has(name)) {
        seen.add(name);
        plan.activations.push(name);
      }
    }
  }
  return plan;
}

/** Whether a model already carries Q/DQ nodes (quantizing it again would double-quantize). */
export function hasQdq(graph: GraphProto): boolean {
  return graph.node.some((node) => node.opType === 'QuantizeLinear' || node.opType === 'DequantizeLinear');
}
