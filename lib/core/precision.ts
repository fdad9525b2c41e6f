/**
 * The precisions tensorrt-node builds and runs models in. On TensorRT 11 precision is a property of
 * the ONNX graph (float16 tensors, Q/DQ nodes), so every layer that speaks of precision uses these
 * names: sessions, the builder, the bench and the CLI.
 */

export const precisions = ['fp32', 'fp16', 'int8'] as const;

/** A build or run precision: a member of {@link precisions}. */
export type Precision = (typeof precisions)[number];
