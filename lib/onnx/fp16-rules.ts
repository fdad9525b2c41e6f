/**
 * What the FP16 converter knows about operators: which stay float32 and why, which inputs take any
 * type or must stay float32 on a converted node, which only move data, which generate values, and
 * which inputs are shapes. Each entry comes from the ONNX operator schemas (type constraints) or
 * from a failure the ONNX backend-test corpus found (benchmarks/results/onnx-conformance.md).
 */

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

/**
 * Operators that must stay float32 whatever the block list says, with the reason reported. The
 * schema allows no float16 (before `sinceOpset` where given), or the function body that runtimes
 * expand the operator into computes with float32 constants, or no runtime has a float16 kernel.
 */
const float32Only: Record<string, { reason: string; beforeOpset?: number }> = {
  Celu: { reason: 'its schema allows float32 only' },
  IsInf: { reason: 'its schema allows float32/float64 only before opset 20', beforeOpset: 20 },
  DynamicQuantizeLinear: { reason: 'its schema allows float32 only' },
  QLinearConv: { reason: 'its scales must be float32' },
  QLinearMatMul: { reason: 'its scales must be float32 before opset 21', beforeOpset: 21 },
  MatMulInteger: { reason: 'integer operator' },
  ConvInteger: { reason: 'integer operator' },
  // Their ONNX function bodies add float32 constants (epsilon, exponent 2, base grid) to the input.
  MeanVarianceNormalization: { reason: 'its ONNX function body computes with float32 constants' },
  AffineGrid: { reason: 'its ONNX function body computes with float32 constants' },
  BitCast: { reason: 'it reinterprets the bits of its input' },
  // A generator of a constant matrix; onnxruntime has no float16 kernel for it.
  EyeLike: { reason: 'a constant generator without a float16 kernel in onnxruntime' },
};

/** Why `opType` must stay float32 at `opset`, or null. */
export function float32OnlyReason(opType: string, opset: number): string | null {
  const entry = float32Only[opType];
  if (!entry) return null;
  if (entry.beforeOpset !== undefined && opset >= entry.beforeOpset) return null;
  return entry.reason;
}

/** Scatter operators accumulate with `reduction`; in float16 the sums lose precision, and onnxruntime has no float16 kernel for them. */
export const accumulatingScatterOps = new Set(['ScatterElements', 'ScatterND']);

/** Sequence and optional operators: their values keep the element type the model gave them. */
export const containerOps = new Set([
  'SequenceConstruct',
  'SequenceEmpty',
  'SequenceInsert',
  'SequenceErase',
  'SequenceAt',
  'SequenceLength',
  'SequenceMap',
  'SplitToSequence',
  'ConcatFromSequence',
  'Optional',
  'OptionalGetElement',
  'OptionalHasElement',
]);

/** Type-generic data movement: the output has the data input's type, so following that input avoids casts. */
export const followOps = new Set([
  'Identity',
  'Reshape',
  'Transpose',
  'Squeeze',
  'Unsqueeze',
  'Flatten',
  'Gather',
  'GatherElements',
  'GatherND',
  'Slice',
  'Split',
  'Expand',
  'Tile',
  'DepthToSpace',
  'SpaceToDepth',
  'Compress',
  'ReverseSequence',
]);

/**
 * Operators that make a float tensor from integers or attributes alone (no float input): their
 * output is made float16 only when everything that reads it computes in float16, like a constant.
 */
export const generatorOps = new Set(['ConstantOfShape', 'HannWindow', 'HammingWindow', 'BlackmanWindow', 'MelWeightMatrix']);

/** Inputs that must stay float32 even on a converted node (their schema allows float32 only). */
export const float32Slots: Record<string, readonly number[]> = { Resize: [1, 2], Upsample: [1] };

/** Inputs of a converted node that accept any type (no cast needed). */
export const anyTypeSlots: Record<string, readonly number[]> = { Cast: [0] };

/** Operators whose float inputs all share one type variable except those listed (checked after conversion). */
export const independentFloatSlots: Record<string, readonly number[]> = {
  Resize: [1, 2],
  Upsample: [1],
  Cast: [0],
  CastLike: [0],
  BatchNormalization: [1, 2, 3, 4],
  LayerNormalization: [1, 2],
  Dropout: [1],
  GridSample: [1],
  MelWeightMatrix: [3, 4],
  DequantizeLinear: [0],
  QuantizeLinear: [1],
  Pow: [1],
  Where: [0],
};

/**
 * Inputs that are shapes, sizes, indices of axes or scales: values feeding them decide shapes, so
 * the float computations that produce them stay float32 (exact integers above 2048 need it).
 */
export const shapeSlots: Record<string, readonly number[]> = {
  Reshape: [1],
  Expand: [1],
  ConstantOfShape: [0],
  Tile: [1],
  Slice: [1, 2, 3, 4],
  Range: [0, 1, 2],
  Resize: [1, 2, 3],
  Upsample: [1],
  TopK: [1],
  OneHot: [1],
  Pad: [1, 3],
  Squeeze: [1],
  Unsqueeze: [1],
  Split: [1],
  CenterCropPad: [1, 2],
  ReduceSum: [1],
  ReduceMean: [1],
  ReduceMax: [1],
  ReduceMin: [1],
  ReduceProd: [1],
  ReduceL1: [1],
  ReduceL2: [1],
  ReduceLogSum: [1],
  ReduceLogSumExp: [1],
  ReduceSumSquare: [1],
  STFT: [1, 3],
  DFT: [1, 2],
  Col2Im: [1, 2],
};

/**
 * Operators through which a value computed from Shape/Size stays a small piece of shape arithmetic.
 * Anything else (Relu, Conv, ConstantOfShape making a tensor of that shape, ...) computes values.
 */
export const shapeArithmeticOps = new Set([
  'Cast',
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Mod',
  'Neg',
  'Abs',
  'Floor',
  'Ceil',
  'Round',
  'Max',
  'Min',
  'Sqrt',
  'Concat',
  'Gather',
  'Slice',
  'Squeeze',
  'Unsqueeze',
  'Reshape',
  'Identity',
  'ReduceProd',
  'ReduceSum',
  'ReduceMax',
  'ReduceMin',
  'Equal',
  'Greater',
  'Less',
  'Where',
  'Not',
  'Clip',
]);

/**
 * Relative cost of running a node, for deciding whether a float16 island pays for the casts
 * around it: matrix products and convolutions do far more arithmetic per element than the casts.
 */
const heavyOps = new Set(['Conv', 'ConvTranspose', 'MatMul', 'Gemm', 'Einsum', 'Attention', 'LSTM', 'GRU', 'RNN', 'DeformConv']);

export function nodeWeight(opType: string): number {
  return heavyOps.has(opType) ? 8 : 1;
}
