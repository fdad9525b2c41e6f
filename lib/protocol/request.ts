/**
 * An inference request in the protocol's JSON form (REST, with or without the binary tensor data
 * extension), checked field by field and turned into the protocol-neutral InferRequest that the
 * server's one handler takes (gRPC requests are turned into the same). Messages name the field:
 * "Expected an array of at most 8 non-negative integers for inputs[0].shape but received ...".
 */
import type { AnyTypedArray } from '../core/dtypes.js';
import { ArgumentRangeError, ArgumentTypeError, ErrorCode } from '../core/errors.js';
import { describeValue } from '../core/validate.js';
import type { Datatype } from './datatypes.js';
import { checkShape, rawToTypedArray, requestDtype, valuesToTypedArray } from './tensor-data.js';

/** Most inputs or outputs one request may name. */
export const MAX_TENSORS = 1024;

export interface InferInput {
  name: string;
  datatype: Datatype;
  shape: number[];
  /** The element count of `shape`. */
  count: number;
  /** The values; null while they wait in the binary section (binaryDataSize bytes of it). */
  data: AnyTypedArray | null;
  binaryDataSize: number | null;
}

export interface InferRequestedOutput {
  name: string;
  /** The output's `parameters.binary_data`, when given. */
  binaryData: boolean | undefined;
}

export interface InferRequest {
  id: string | undefined;
  inputs: InferInput[];
  /** The outputs asked for (all when undefined). */
  outputs: InferRequestedOutput[] | undefined;
  /** `parameters.binary_data_output`: every output in binary form. */
  binaryDataOutput: boolean;
  /** `parameters.timeout` (microseconds, as Triton takes it) in milliseconds. */
  timeoutMs: number | undefined;
}

export interface DecodeOptions {
  /** Most elements one tensor may have. */
  maxElements: number;
  /** Whether the body has a binary section (Inference-Header-Content-Length was given). */
  binary: boolean;
}

function expectObject(value: unknown, name: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ArgumentTypeError(`Expected an object for ${name} but received ${describeValue(value)}`);
  return value as Record<string, unknown>;
}

function expectArray(value: unknown, name: string): unknown[] {
  if (!Array.isArray(value)) throw new ArgumentTypeError(`Expected an array for ${name} but received ${describeValue(value)}`);
  if (value.length > MAX_TENSORS)
    throw new ArgumentRangeError(`Expected at most ${MAX_TENSORS} entries for ${name} but received ${value.length}`);
  return value;
}

function optionalBoolean(value: unknown, name: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean')
    throw new ArgumentTypeError(`Expected a boolean for ${name} but received ${describeValue(value)}`);
  return value;
}

function optionalParameters(value: unknown, name: string): Record<string, unknown> {
  return value === undefined ? {} : expectObject(value, name);
}

function decodeInput(value: unknown, index: number, options: DecodeOptions): InferInput {
  const field = `inputs[${index}]`;
  const input = expectObject(value, field);
  if (typeof input.name !== 'string' || input.name.length === 0)
    throw new ArgumentTypeError(`Expected a non-empty string for ${field}.name but received ${describeValue(input.name)}`);
  const { datatype } = requestDtype(input.datatype, `${field}.datatype`);
  const count = checkShape(input.shape, `${field}.shape`, options.maxElements);
  const parameters = optionalParameters(input.parameters, `${field}.parameters`);
  const shape = input.shape as number[];
  const label = `${field}.data ("${input.name}")`;
  if (parameters.binary_data_size !== undefined) {
    const size = parameters.binary_data_size;
    if (!options.binary)
      throw new ArgumentRangeError(
        `Expected no ${field}.parameters.binary_data_size in a request without the Inference-Header-Content-Length header but received ${describeValue(size)}`,
      );
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
      throw new ArgumentTypeError(
        `Expected a non-negative integer for ${field}.parameters.binary_data_size but received ${describeValue(size)}`,
      );
    if (input.data !== undefined)
      throw new ArgumentRangeError(`Expected either data or parameters.binary_data_size for ${field} but received both`);
    return { name: input.name, datatype, shape, count, data: null, binaryDataSize: size };
  }
  if (input.data === undefined)
    throw new ArgumentTypeError(
      `Expected an array of values for ${field}.data (or parameters.binary_data_size with the binary tensor data extension) but received undefined`,
    );
  return {
    name: input.name,
    datatype,
    shape,
    count,
    data: valuesToTypedArray(datatype, input.data, count, label),
    binaryDataSize: null,
  };
}

function decodeOutputs(value: unknown): InferRequestedOutput[] | undefined {
  if (value === undefined) return undefined;
  return expectArray(value, 'outputs').map((entry, index) => {
    const output = expectObject(entry, `outputs[${index}]`);
    if (typeof output.name !== 'string')
      throw new ArgumentTypeError(`Expected a string for outputs[${index}].name but received ${describeValue(output.name)}`);
    const parameters = optionalParameters(output.parameters, `outputs[${index}].parameters`);
    return { name: output.name, binaryData: optionalBoolean(parameters.binary_data, `outputs[${index}].parameters.binary_data`) };
  });
}

/** Checks a parsed JSON body (or the JSON header of a binary one) and decodes every input's data. */
export function decodeJsonInferRequest(document: unknown, options: DecodeOptions): InferRequest {
  const body = expectObject(document, 'the request body');
  if (body.id !== undefined && typeof body.id !== 'string')
    throw new ArgumentTypeError(`Expected a string for id but received ${describeValue(body.id)}`);
  const parameters = optionalParameters(body.parameters, 'parameters');
  const timeout = parameters.timeout;
  if (timeout !== undefined && (typeof timeout !== 'number' || !Number.isSafeInteger(timeout) || timeout < 0)) {
    throw new ArgumentTypeError(
      `Expected a non-negative integer (microseconds) for parameters.timeout but received ${describeValue(timeout)}`,
    );
  }
  if (body.inputs === undefined) throw new ArgumentTypeError('Expected an array for inputs but received undefined');
  return {
    id: body.id as string | undefined,
    inputs: expectArray(body.inputs, 'inputs').map((input, index) => decodeInput(input, index, options)),
    outputs: decodeOutputs(body.outputs),
    binaryDataOutput: optionalBoolean(parameters.binary_data_output, 'parameters.binary_data_output') ?? false,
    timeoutMs: timeout === undefined || timeout === 0 ? undefined : timeout / 1000,
  };
}

/** Fills the inputs that wait in the binary section, in order; the section must be used exactly. */
export function attachBinaryData(request: InferRequest, binary: Uint8Array): void {
  let offset = 0;
  for (const [index, input] of request.inputs.entries()) {
    if (input.binaryDataSize === null) continue;
    if (offset + input.binaryDataSize > binary.byteLength) {
      throw new ArgumentRangeError(
        `Expected ${input.binaryDataSize} bytes of binary data for inputs[${index}] ("${input.name}") but received ${binary.byteLength - offset} (the binary section ends first)`,
        ErrorCode.SHAPE,
      );
    }
    input.data = rawToTypedArray(
      input.datatype,
      binary.subarray(offset, offset + input.binaryDataSize),
      input.count,
      `inputs[${index}] ("${input.name}")`,
    );
    offset += input.binaryDataSize;
  }
  if (offset !== binary.byteLength)
    throw new ArgumentRangeError(
      `Expected ${offset} bytes of binary tensor data after the JSON header (the sum of the inputs' binary_data_size) but received ${binary.byteLength}`,
    );
}
