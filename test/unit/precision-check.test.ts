import { describe, expect, it } from 'vitest';
import { checkPrecisionApplied, countLayerPrecisions } from '../../lib/builder/precision-check.js';
import { TensorRTError } from '../../lib/core/errors.js';
import { expectErrorSync } from '../helpers/expect-error.js';

// Shaped like IEngineInspector's detailed JSON (see Polygraphy's backend/trt/util.py).
const tensor = (format: string) => ({ Name: 't', Location: 'Device', Dimensions: [1, 3, 8, 8], 'Format/Datatype': format });
const layer = (inputs: string[], outputs: string[]) => ({
  Name: 'l',
  LayerType: 'CaskConvolution',
  Inputs: inputs.map(tensor),
  Outputs: outputs.map(tensor),
});

const fp32Engine = { Layers: [layer(['Row major linear FP32 format'], ['Row major linear FP32 format'])], Bindings: ['x', 'y'] };
const fp16Engine = {
  Layers: [
    layer(['Row major linear FP32 format'], ['Row major linear FP16 format']),
    layer(['Channel major FP16 format where channel % 8 == 0'], ['Channel major FP16 format where channel % 8 == 0']),
    layer(['Row major linear FP16 format'], ['Row major linear FP32 format']),
  ],
};
const int8Engine = {
  Layers: [
    layer(['Row major linear FP32 format'], ['Channel major INT8 format where channel % 32 == 0']),
    layer(['Channel major INT8 format where channel % 32 == 0'], ['Row major linear Float format']),
  ],
};

describe('precision verification from layer information', () => {
  it('counts the layers of each precision', () => {
    expect(countLayerPrecisions(fp16Engine)).toEqual({ detailed: true, layers: 3, fp32: 2, fp16: 3, bf16: 0, int8: 0, fp8: 0 });
    expect(countLayerPrecisions(int8Engine)).toMatchObject({ int8: 2, fp32: 2 });
    expect(countLayerPrecisions({ Layers: ['conv1 + relu'] })).toMatchObject({ detailed: false, layers: 1 });
    expect(countLayerPrecisions(null)).toMatchObject({ detailed: false, layers: 0 });
  });

  it('passes when the requested precision is used', () => {
    expect(checkPrecisionApplied('fp16', fp16Engine).fp16).toBe(3);
    expect(checkPrecisionApplied('int8', int8Engine).int8).toBe(2);
    expect(checkPrecisionApplied('fp32', fp32Engine).fp32).toBe(1);
  });

  it('BAD CALL - fp16 requested, fp32 built: ERR_PRECISION_NOT_APPLIED, never a silent FP32 engine', () => {
    expectErrorSync(
      () => checkPrecisionApplied('fp16', fp32Engine),
      TensorRTError,
      'ERR_PRECISION_NOT_APPLIED',
      "The engine was built for fp16 but none of its 1 layers runs in fp16 (fp32: 1, fp16: 0, int8: 0). TensorRT needs float16 tensors in the ONNX graph; check that the fp16 transform was applied and that the model's layers support it.",
    );
    expectErrorSync(
      () => checkPrecisionApplied('int8', fp16Engine),
      TensorRTError,
      'ERR_PRECISION_NOT_APPLIED',
      /^The engine was built for int8 but none of its 3 layers runs in int8 .* needs QuantizeLinear\/DequantizeLinear nodes/,
    );
  });

  it('BAD CALL - layer names only cannot confirm a precision', () => {
    expectErrorSync(
      () => checkPrecisionApplied('fp16', { Layers: ['conv1'] }),
      TensorRTError,
      'ERR_PRECISION_NOT_APPLIED',
      'Cannot confirm that the engine uses fp16: its layer information is not detailed (build it with ProfilingVerbosity kDETAILED)',
    );
  });
});
