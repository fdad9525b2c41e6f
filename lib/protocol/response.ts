/**
 * An inference response in the protocol's REST forms: JSON, or (binary tensor data extension) a
 * JSON header followed by the raw bytes of the outputs asked for in binary form, with the header's
 * length in `Inference-Header-Content-Length`. The decoder is what clients (the load generator,
 * tests) use to read either form back.
 */
import type { AnyTypedArray, DType } from '../core/dtypes.js';
import { ArgumentRangeError, ArgumentTypeError } from '../core/errors.js';
import { datatypeOf, type Datatype } from './datatypes.js';
import { parseJsonBytes } from './body.js';
import { DEFAULT_JSON_LIMITS } from './json-limits.js';
import {
  checkShape,
  rawToTypedArray,
  requestDtype,
  typedArrayBytes,
  typedArrayToJsonText,
  valuesToTypedArray,
} from './tensor-data.js';

export interface InferOutput {
  name: string;
  dtype: DType;
  shape: readonly number[];
  data: AnyTypedArray;
  /** Sent as raw bytes after the JSON header (binary tensor data extension). */
  binary: boolean;
}

export interface InferResponse {
  modelName: string;
  modelVersion: string;
  id: string | undefined;
  outputs: InferOutput[];
}

export interface EncodedRestResponse {
  /** The JSON document alone, or the JSON header followed by the binary section. */
  chunks: (string | Uint8Array)[];
  /** Inference-Header-Content-Length when there is a binary section, else null. */
  headerLength: number | null;
  byteLength: number;
}

export function encodeRestResponse(response: InferResponse): EncodedRestResponse {
  const parts: string[] = [
    `{"model_name":${JSON.stringify(response.modelName)},"model_version":${JSON.stringify(response.modelVersion)}`,
  ];
  if (response.id !== undefined) parts.push(`,"id":${JSON.stringify(response.id)}`);
  parts.push(',"outputs":[');
  const binary: Uint8Array[] = [];
  response.outputs.forEach((output, index) => {
    const head = `${index > 0 ? ',' : ''}{"name":${JSON.stringify(output.name)},"datatype":"${datatypeOf(output.dtype)}","shape":[${output.shape.join(',')}]`;
    if (output.binary) {
      const bytes = typedArrayBytes(output.data);
      binary.push(bytes);
      parts.push(`${head},"parameters":{"binary_data_size":${bytes.byteLength}}}`);
    } else {
      parts.push(`${head},"data":${typedArrayToJsonText(output.dtype, output.data)}}`);
    }
  });
  parts.push(']}');
  const json = parts.join('');
  const headerLength = Buffer.byteLength(json);
  if (binary.length === 0) return { chunks: [json], headerLength: null, byteLength: headerLength };
  return {
    chunks: [json, ...binary],
    headerLength,
    byteLength: binary.reduce((total, bytes) => total + bytes.byteLength, headerLength),
  };
}

export interface DecodedOutput {
  name: string;
  datatype: Datatype;
  shape: number[];
  data: AnyTypedArray;
}

/** Reads a REST inference response (JSON, or JSON header + binary section) back into typed arrays. */
export function decodeRestInferResponse(
  body: Uint8Array,
  headerLength: number | null,
): { modelName: string; modelVersion: string; id: string | undefined; outputs: DecodedOutput[] } {
  const header = parseJsonBytes(
    headerLength === null ? body : body.subarray(0, headerLength),
    { ...DEFAULT_JSON_LIMITS, maxEmptyContainers: Infinity },
    'the response body',
  ) as {
    model_name?: unknown;
    model_version?: unknown;
    id?: unknown;
    outputs?: unknown;
  };
  if (!Array.isArray(header.outputs)) throw new ArgumentTypeError('Expected an outputs array in the inference response');
  let offset = headerLength ?? 0;
  const outputs = header.outputs.map(
    (
      entry: { name?: unknown; datatype?: unknown; shape?: unknown; data?: unknown; parameters?: { binary_data_size?: unknown } },
      index,
    ) => {
      const { datatype } = requestDtype(entry.datatype, `outputs[${index}].datatype`);
      const count = checkShape(entry.shape, `outputs[${index}].shape`, Number.MAX_SAFE_INTEGER);
      const size = entry.parameters?.binary_data_size;
      let data: AnyTypedArray;
      if (typeof size === 'number') {
        if (offset + size > body.byteLength)
          throw new ArgumentRangeError(`Expected ${size} bytes of binary data for outputs[${index}] but the response ends first`);
        data = rawToTypedArray(datatype, body.subarray(offset, offset + size), count, `outputs[${index}]`);
        offset += size;
      } else {
        data = valuesToTypedArray(datatype, entry.data, count, `outputs[${index}].data`);
      }
      return { name: String(entry.name), datatype, shape: entry.shape as number[], data };
    },
  );
  return {
    modelName: String(header.model_name),
    modelVersion: String(header.model_version ?? ''),
    id: typeof header.id === 'string' ? header.id : undefined,
    outputs,
  };
}
