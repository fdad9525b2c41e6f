/**
 * ModelInferRequest / ModelInferResponse messages to and from the protocol-neutral InferRequest and
 * InferResponse. Inputs come as raw_input_contents (what Triton's clients send) or as the typed
 * contents field for their datatype; outputs always go back as raw_output_contents, which every
 * client of the protocol reads and which costs no per-element encoding.
 */
import { ArgumentRangeError, ArgumentTypeError, ErrorCode } from '../core/errors.js';
import { describeValue } from '../core/validate.js';
import { datatypeOf, type Datatype } from './datatypes.js';
import type { GrpcModelInferRequest, GrpcModelInferResponse, InferParameter, InferTensorContents } from './grpc.js';
import { MAX_TENSORS, type InferInput, type InferRequest } from './request.js';
import type { InferResponse } from './response.js';
import { checkShape, rawToTypedArray, requestDtype, typedArrayBytes, valuesToTypedArray } from './tensor-data.js';

/** The contents field that carries each datatype (FP16, BF16 and FP8 have none: raw only). */
const contentsField: Partial<Record<Datatype, keyof InferTensorContents>> = {
  BOOL: 'bool_contents',
  INT8: 'int_contents',
  INT32: 'int_contents',
  UINT8: 'uint_contents',
  INT64: 'int64_contents',
  FP32: 'fp32_contents',
  FP64: 'fp64_contents',
};

function shapeNumbers(shape: readonly (string | number)[], name: string): number[] {
  return shape.map((dim) => {
    const value = typeof dim === 'string' ? Number(dim) : dim;
    if (!Number.isSafeInteger(value))
      throw new ArgumentTypeError(
        `Expected an array of non-negative integers for ${name} but received ${describeValue(dim)}`,
        ErrorCode.SHAPE,
      );
    return value;
  });
}

function contentsLength(contents: InferTensorContents | null): number {
  if (!contents) return 0;
  return Object.values(contents).reduce((total: number, values) => total + (Array.isArray(values) ? values.length : 0), 0);
}

function timeoutParameter(parameter: InferParameter | undefined): number | undefined {
  if (parameter === undefined) return undefined;
  const value = parameter.int64_param === undefined ? NaN : Number(parameter.int64_param);
  if (!Number.isSafeInteger(value) || value < 0)
    throw new ArgumentTypeError(
      `Expected an int64_param of non-negative microseconds for parameters.timeout but received ${describeValue(parameter.int64_param ?? parameter.string_param ?? parameter.bool_param)}`,
    );
  return value === 0 ? undefined : value / 1000;
}

export function decodeGrpcInferRequest(message: GrpcModelInferRequest, maxElements: number): InferRequest {
  if (message.inputs.length > MAX_TENSORS)
    throw new ArgumentRangeError(`Expected at most ${MAX_TENSORS} entries for inputs but received ${message.inputs.length}`);
  const raw = message.raw_input_contents;
  if (raw.length > 0 && raw.length !== message.inputs.length) {
    throw new ArgumentRangeError(
      `Expected one raw_input_contents entry per input (${message.inputs.length}) but received ${raw.length}`,
    );
  }
  const inputs = message.inputs.map((tensor, index): InferInput => {
    const field = `inputs[${index}]`;
    if (tensor.name.length === 0) throw new ArgumentTypeError(`Expected a non-empty string for ${field}.name but received ""`);
    const { datatype } = requestDtype(tensor.datatype, `${field}.datatype`);
    const shape = shapeNumbers(tensor.shape, `${field}.shape`);
    const count = checkShape(shape, `${field}.shape`, maxElements);
    const label = `${field} ("${tensor.name}")`;
    if (raw.length > 0) {
      if (contentsLength(tensor.contents) > 0)
        throw new ArgumentRangeError(`Expected no ${field}.contents in a request that uses raw_input_contents but received both`);
      return {
        name: tensor.name,
        datatype,
        shape,
        count,
        data: rawToTypedArray(datatype, raw[index]!, count, label),
        binaryDataSize: null,
      };
    }
    const fieldName = contentsField[datatype];
    if (fieldName === undefined)
      throw new ArgumentTypeError(
        `Expected raw_input_contents for ${label}: ${datatype} has no typed contents field`,
        ErrorCode.DTYPE,
      );
    const values = tensor.contents?.[fieldName] ?? [];
    return {
      name: tensor.name,
      datatype,
      shape,
      count,
      data: valuesToTypedArray(datatype, values, count, `${field}.contents.${fieldName}`),
      binaryDataSize: null,
    };
  });
  return {
    id: message.id === '' ? undefined : message.id,
    inputs,
    outputs:
      message.outputs.length === 0 ? undefined : message.outputs.map((output) => ({ name: output.name, binaryData: true })),
    binaryDataOutput: true,
    timeoutMs: timeoutParameter(message.parameters.timeout),
  };
}

export function encodeGrpcInferResponse(response: InferResponse): GrpcModelInferResponse {
  return {
    model_name: response.modelName,
    model_version: response.modelVersion,
    id: response.id ?? '',
    outputs: response.outputs.map((output) => ({
      name: output.name,
      datatype: datatypeOf(output.dtype),
      shape: [...output.shape],
    })),
    raw_output_contents: response.outputs.map((output) => typedArrayBytes(output.data)),
  };
}
