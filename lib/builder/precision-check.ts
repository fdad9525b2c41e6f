/**
 * Confirms that an engine built for FP16 or INT8 really runs layers in that precision, from the
 * engine inspector's detailed layer information (the builder always sets ProfilingVerbosity
 * kDETAILED). TensorRT 11 silently builds FP32 when a graph carries no float16 tensors or Q/DQ
 * nodes, so asking for a precision and getting none of it must fail loudly.
 *
 * Layer information format (TensorRT's IEngineInspector, as Polygraphy reads it): { Layers: [{ Name,
 * LayerType, Inputs: [{ Name, Location, Dimensions, "Format/Datatype" }], Outputs: [...] }, ...] }
 * where "Format/Datatype" reads like "Row major linear FP16 format" or "Channel major INT8 format".
 */
import { ErrorCode, TensorRTError } from '../core/errors.js';
import { expectOneOf } from '../core/validate.js';

import { precisions, type Precision } from '../core/precision.js';

export type { Precision };

/** How many of an engine's layers touch each precision, from TensorRT's engine inspector. */
export interface LayerPrecisionCounts {
  /** Whether the information was detailed enough to tell (layer names only is not). */
  detailed: boolean;
  layers: number;
  /** Layers with at least one input or output tensor of each type. */
  fp32: number;
  fp16: number;
  bf16: number;
  int8: number;
  fp8: number;
}

interface LayerTensor {
  'Format/Datatype'?: unknown;
}

interface DetailedLayer {
  Inputs?: LayerTensor[];
  Outputs?: LayerTensor[];
}

function typesOf(layer: DetailedLayer): Set<keyof Omit<LayerPrecisionCounts, 'detailed' | 'layers'>> {
  const types = new Set<keyof Omit<LayerPrecisionCounts, 'detailed' | 'layers'>>();
  for (const tensor of [...(layer.Inputs ?? []), ...(layer.Outputs ?? [])]) {
    const format = typeof tensor['Format/Datatype'] === 'string' ? tensor['Format/Datatype'].toUpperCase() : '';
    if (format.includes('BFLOAT16') || format.includes('BF16')) types.add('bf16');
    else if (format.includes('FP16') || format.includes('HALF')) types.add('fp16');
    else if (format.includes('FP8')) types.add('fp8');
    else if (format.includes('INT8')) types.add('int8');
    else if (format.includes('FP32') || format.includes('FLOAT')) types.add('fp32');
  }
  return types;
}

/** Counts the layers per precision in the engine inspector's JSON layer information (detailed verbosity). */
export function countLayerPrecisions(layerInformation: unknown): LayerPrecisionCounts {
  const counts: LayerPrecisionCounts = { detailed: false, layers: 0, fp32: 0, fp16: 0, bf16: 0, int8: 0, fp8: 0 };
  const layers = (layerInformation as { Layers?: unknown } | null)?.Layers;
  if (!Array.isArray(layers)) return counts;
  counts.layers = layers.length;
  counts.detailed = layers.length > 0 && layers.every((layer) => typeof layer === 'object' && layer !== null);
  if (!counts.detailed) return counts;
  for (const layer of layers as DetailedLayer[]) {
    for (const type of typesOf(layer)) counts[type] += 1;
  }
  return counts;
}

/** Throws ERR_PRECISION_NOT_APPLIED when `requested` precision is absent from the engine. */
export function checkPrecisionApplied(requested: Precision, layerInformation: unknown): LayerPrecisionCounts {
  expectOneOf(requested, 'requested', precisions);
  const counts = countLayerPrecisions(layerInformation);
  if (requested === 'fp32') return counts;
  if (!counts.detailed) {
    throw new TensorRTError(
      ErrorCode.PRECISION_NOT_APPLIED,
      `Cannot confirm that the engine uses ${requested}: its layer information is not detailed (build it with ProfilingVerbosity kDETAILED)`,
      { details: { requested, counts } },
    );
  }
  const found = requested === 'fp16' ? counts.fp16 : counts.int8;
  if (found === 0) {
    throw new TensorRTError(
      ErrorCode.PRECISION_NOT_APPLIED,
      `The engine was built for ${requested} but none of its ${counts.layers} layers runs in ${requested} (fp32: ${counts.fp32}, fp16: ${counts.fp16}, int8: ${counts.int8}). TensorRT ${requested === 'fp16' ? 'needs float16 tensors in the ONNX graph' : 'needs QuantizeLinear/DequantizeLinear nodes in the ONNX graph'}; check that the ${requested} transform was applied and that the model's layers support it.`,
      { details: { requested, counts } },
    );
  }
  return counts;
}
