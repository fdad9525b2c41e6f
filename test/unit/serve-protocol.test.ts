/**
 * lib/protocol: the Open Inference Protocol's wire format on its own (no server): JSON bounds before
 * parsing, tensor data in JSON / raw / gRPC contents form, request decoding with the message
 * template, the binary tensor data extension both ways, and the gRPC messages.
 */
import { describe, expect, it } from 'vitest';
import { ArgumentRangeError, ArgumentTypeError } from '../../lib/core/errors.js';
import { toFloat16Array } from '../../lib/core/dtypes.js';
import { parseInferBody } from '../../lib/protocol/body.js';
import { datatypeOf, dtypeOf } from '../../lib/protocol/datatypes.js';
import { decodeGrpcInferRequest, encodeGrpcInferResponse } from '../../lib/protocol/grpc-messages.js';
import type { GrpcModelInferRequest } from '../../lib/protocol/grpc.js';
import { checkJsonLimits, DEFAULT_JSON_LIMITS } from '../../lib/protocol/json-limits.js';
import { decodeRestInferResponse, encodeRestResponse } from '../../lib/protocol/response.js';
import { rawToTypedArray, typedArrayToJsonText, typedArrayToValues, valuesToTypedArray } from '../../lib/protocol/tensor-data.js';
import { expectErrorSync } from '../helpers/expect-error.js';

const LIMITS = { ...DEFAULT_JSON_LIMITS, maxTensorElements: 1 << 20 };
const bytes = (text: string) => Buffer.from(text);
const parse = (body: string | Uint8Array, headerLength: number | null = null) =>
  parseInferBody(typeof body === 'string' ? bytes(body) : body, headerLength, LIMITS);

describe('JSON limits (before anything is parsed)', () => {
  it('BAD CALL - data nested 100,000 deep is refused by counting, not by overflowing a stack', () => {
    const deep = `{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":${'['.repeat(100_000)}1${']'.repeat(100_000)}}]}`;
    expectErrorSync(
      () => parse(deep),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected JSON nested at most 64 deep for the request body but received deeper nesting at byte 121',
    );
  });

  it('BAD CALL - a body of empty arrays is refused before it is materialized', () => {
    const hostile = `{"inputs":[{"name":"x","shape":[1,16],"datatype":"FP32","data":[${new Array(2000).fill('[]').join(',')}]}]}`;
    expectErrorSync(
      () => parse(hostile),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      /^Expected at most 1024 empty JSON arrays or objects \(tensor data has a value in every innermost array\) for the request body but received more by byte \d+$/,
    );
  });

  it('BAD CALL - more elements than allowed', () => {
    expectErrorSync(
      () => checkJsonLimits(bytes('[1,2,3,4,5]'), { ...DEFAULT_JSON_LIMITS, maxElements: 4 }, 'body'),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected at most 4 JSON elements for body but received more by byte 8',
    );
  });

  it('brackets and quotes inside strings do not count', () => {
    expect(() =>
      checkJsonLimits(bytes(`{"id":"${'['.repeat(500)}\\"${'{'.repeat(500)}","x":[]}`), DEFAULT_JSON_LIMITS, 'body'),
    ).not.toThrow();
  });
});

describe('tensor data', () => {
  it('flat and nested JSON data become the same row-major TypedArray, for every datatype', () => {
    expect(
      valuesToTypedArray(
        'FP32',
        [
          [1, 2],
          [3, 4],
        ],
        4,
        'd',
      ),
    ).toEqual(Float32Array.of(1, 2, 3, 4));
    expect(valuesToTypedArray('INT64', [1, '9007199254740993', -3], 3, 'd')).toEqual(
      BigInt64Array.of(1n, 9007199254740993n, -3n),
    );
    expect(valuesToTypedArray('BOOL', [[true], [false]], 2, 'd')).toEqual(Uint8Array.of(1, 0));
    expect(valuesToTypedArray('FP16', [0.5, -2], 2, 'd')).toEqual(toFloat16Array([0.5, -2]));
    expect(valuesToTypedArray('UINT8', [0, 255], 2, 'd')).toEqual(Uint8Array.of(0, 255));
    expect(valuesToTypedArray('FP64', 7, 1, 'd')).toEqual(Float64Array.of(7));
  });

  it('BAD CALL - values of the wrong type or out of range name the index and datatype', () => {
    expectErrorSync(
      () => valuesToTypedArray('FP32', [1, 'a'], 2, 'inputs[0].data ("x")'),
      ArgumentTypeError,
      'ERR_DTYPE',
      'Expected a number at index 1 of inputs[0].data ("x") (FP32) but received "a" of type string',
    );
    expectErrorSync(
      () => valuesToTypedArray('INT8', [1, 300], 2, 'd'),
      ArgumentTypeError,
      'ERR_DTYPE',
      'Expected an integer between -128 and 127 at index 1 of d (INT8) but received 300 of type number',
    );
    expectErrorSync(
      () => valuesToTypedArray('INT64', [1.5], 1, 'd'),
      ArgumentTypeError,
      'ERR_DTYPE',
      'Expected a safe integer or a decimal string of a 64-bit integer at index 0 of d (INT64) but received 1.5 of type number',
    );
    expectErrorSync(
      () => valuesToTypedArray('FP32', [1, 2, 3], 4, 'd'),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected 4 values (the element count of its shape) for d but received 3',
    );
    expectErrorSync(
      () => valuesToTypedArray('FP32', { a: 1 }, 1, 'd'),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected an array of values (flat or nested) for d but received an object',
    );
    // Values are counted before anything is allocated: a billion-element shape with three values costs nothing.
    expectErrorSync(
      () => valuesToTypedArray('FP64', [[1], [2, 3]], 1e9, 'd'),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected 1000000000 values (the element count of its shape) for d but received 3',
    );
  });

  it('raw bytes: copied into an aligned TypedArray; the byte count must match', () => {
    const source = Float32Array.of(1.5, -2, 3);
    const unaligned = new Uint8Array(13);
    unaligned.set(new Uint8Array(source.buffer), 1);
    expect(rawToTypedArray('FP32', unaligned.subarray(1), 3, 'x')).toEqual(source);
    expectErrorSync(
      () => rawToTypedArray('FP32', new Uint8Array(11), 3, 'inputs[0] ("x")'),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected 12 bytes (3 FP32 elements of 4 bytes) for inputs[0] ("x") but received 11',
    );
  });

  it('JSON text of outputs equals JSON.stringify of their values (non-finite values as null)', () => {
    const values = Float32Array.of(0.1, -0, 1e-30, 3.4e38, 1 / 3);
    expect(typedArrayToJsonText('float32', values)).toBe(JSON.stringify(Array.from(values)));
    expect(typedArrayToJsonText('float32', Float32Array.of(1, NaN, Infinity))).toBe('[1,null,null]');
    expect(typedArrayToValues('int64', BigInt64Array.of(3n, 2n ** 60n))).toEqual([3, '1152921504606846976']);
    expect(datatypeOf('float16')).toBe('FP16');
    expect(dtypeOf('BYTES')).toBeUndefined();
  });
});

describe('request bodies', () => {
  it('decodes a JSON request: id, inputs, requested outputs, binary_data_output and timeout (microseconds)', () => {
    const request = parse(
      '{"id":"r1","inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[1,2]}],"outputs":[{"name":"y","parameters":{"binary_data":true}}],"parameters":{"timeout":2500}}',
    );
    expect(request).toEqual({
      id: 'r1',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], count: 2, data: Float32Array.of(1, 2), binaryDataSize: null }],
      outputs: [{ name: 'y', binaryData: true }],
      binaryDataOutput: false,
      timeoutMs: 2.5,
    });
  });

  it("decodes the binary tensor data extension: JSON header, then each input's raw bytes in order", () => {
    const header = bytes(
      '{"inputs":[{"name":"a","shape":[2],"datatype":"INT32","parameters":{"binary_data_size":8}},{"name":"b","shape":[1],"datatype":"FP64","data":[4]},{"name":"c","shape":[3],"datatype":"UINT8","parameters":{"binary_data_size":3}}]}',
    );
    const body = Buffer.concat([header, Buffer.from(Int32Array.of(7, -7).buffer), Buffer.from([1, 2, 3])]);
    const request = parse(body, header.byteLength);
    expect(request.inputs.map((input) => input.data)).toEqual([Int32Array.of(7, -7), Float64Array.of(4), Uint8Array.of(1, 2, 3)]);
  });

  it('BAD CALL - malformed bodies get a message naming the field', () => {
    const cases: [string, typeof ArgumentTypeError | typeof ArgumentRangeError, string, string][] = [
      [
        '{"inputs": [',
        ArgumentTypeError,
        'ERR_INVALID_ARGUMENT',
        'Expected valid JSON for the request body but received invalid JSON (Unexpected end of JSON input)',
      ],
      [
        '[1]',
        ArgumentTypeError,
        'ERR_INVALID_ARGUMENT',
        'Expected an object for the request body but received an array of length 1',
      ],
      ['{}', ArgumentTypeError, 'ERR_INVALID_ARGUMENT', 'Expected an array for inputs but received undefined'],
      [
        '{"inputs":[{"name":"x","shape":[1],"datatype":"BYTES","data":["a"]}]}',
        ArgumentRangeError,
        'ERR_DTYPE',
        'Expected one of BOOL, UINT8, INT8, INT32, INT64, FP16, BF16, FP32, FP64, FP8_E4M3 for inputs[0].datatype but received "BYTES" of type string',
      ],
      [
        '{"inputs":[{"name":"x","shape":[1,-1],"datatype":"FP32","data":[1]}]}',
        ArgumentTypeError,
        'ERR_SHAPE',
        'Expected an array of at most 8 non-negative integers for inputs[0].shape but received -1 of type number in [1, -1]',
      ],
      [
        '{"inputs":[{"name":"x","shape":[100000,100000],"datatype":"FP32","data":[]}]}',
        ArgumentRangeError,
        'ERR_SHAPE',
        'Expected at most 1048576 elements for inputs[0].shape but received [100000, 100000] (10000000000 elements)',
      ],
      [
        '{"inputs":[{"name":"x","shape":[1],"datatype":"FP32"}]}',
        ArgumentTypeError,
        'ERR_INVALID_ARGUMENT',
        'Expected an array of values for inputs[0].data (or parameters.binary_data_size with the binary tensor data extension) but received undefined',
      ],
      [
        '{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","parameters":{"binary_data_size":4}}]}',
        ArgumentRangeError,
        'ERR_INVALID_ARGUMENT',
        'Expected no inputs[0].parameters.binary_data_size in a request without the Inference-Header-Content-Length header but received 4 of type number',
      ],
      [
        '{"id":5,"inputs":[]}',
        ArgumentTypeError,
        'ERR_INVALID_ARGUMENT',
        'Expected a string for id but received 5 of type number',
      ],
      [
        '{"inputs":[],"parameters":{"timeout":-1}}',
        ArgumentTypeError,
        'ERR_INVALID_ARGUMENT',
        'Expected a non-negative integer (microseconds) for parameters.timeout but received -1 of type number',
      ],
    ];
    for (const [body, errorClass, code, message] of cases) expectErrorSync(() => parse(body), errorClass, code, message);
    expectErrorSync(
      () => parse(Buffer.from([0x7b, 0xff, 0x7d])),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected UTF-8 JSON for the request body but received bytes that are not UTF-8',
    );
    const header = bytes('{"inputs":[{"name":"x","shape":[2],"datatype":"FP32","parameters":{"binary_data_size":8}}]}');
    expectErrorSync(
      () => parse(Buffer.concat([header, Buffer.alloc(4)]), header.byteLength),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected 8 bytes of binary data for inputs[0] ("x") but received 4 (the binary section ends first)',
    );
    expectErrorSync(
      () => parse(Buffer.concat([header, Buffer.alloc(12)]), header.byteLength),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      "Expected 8 bytes of binary tensor data after the JSON header (the sum of the inputs' binary_data_size) but received 12",
    );
    expectErrorSync(
      () => parse(header, 500),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      `Expected an Inference-Header-Content-Length of at most the body's ${header.byteLength} bytes but received 500`,
    );
  });
});

describe('responses', () => {
  const outputs = [
    { name: 'y', dtype: 'float32' as const, shape: [2, 2], data: Float32Array.of(0.25, -1, 3.5, 1 / 3), binary: false },
    { name: 'z', dtype: 'int64' as const, shape: [2], data: BigInt64Array.of(5n, -(2n ** 62n)), binary: true },
  ];

  it('JSON and binary outputs in one response read back exactly', () => {
    const encoded = encodeRestResponse({ modelName: 'm', modelVersion: '3', id: 'q', outputs });
    expect(encoded.headerLength).not.toBeNull();
    const body = Buffer.concat(encoded.chunks.map((chunk) => (typeof chunk === 'string' ? Buffer.from(chunk) : chunk)));
    expect(body.byteLength).toBe(encoded.byteLength);
    const decoded = decodeRestInferResponse(body, encoded.headerLength);
    expect(decoded).toEqual({
      modelName: 'm',
      modelVersion: '3',
      id: 'q',
      outputs: [
        { name: 'y', datatype: 'FP32', shape: [2, 2], data: outputs[0]!.data },
        { name: 'z', datatype: 'INT64', shape: [2], data: outputs[1]!.data },
      ],
    });
  });

  it('an all-JSON response has no binary section', () => {
    const encoded = encodeRestResponse({
      modelName: 'm',
      modelVersion: '1',
      id: undefined,
      outputs: [{ ...outputs[0]!, binary: false }],
    });
    expect(encoded.headerLength).toBeNull();
    expect(JSON.parse(encoded.chunks[0] as string)).toEqual({
      model_name: 'm',
      model_version: '1',
      outputs: [{ name: 'y', datatype: 'FP32', shape: [2, 2], data: Array.from(outputs[0]!.data as Float32Array) }],
    });
  });
});

describe('gRPC messages', () => {
  const message = (overrides: Partial<GrpcModelInferRequest>): GrpcModelInferRequest => ({
    model_name: 'm',
    model_version: '',
    id: '',
    parameters: {},
    inputs: [],
    outputs: [],
    raw_input_contents: [],
    ...overrides,
  });
  const contents = {
    bool_contents: [],
    int_contents: [],
    int64_contents: [],
    uint_contents: [],
    uint64_contents: [],
    fp32_contents: [],
    fp64_contents: [],
    bytes_contents: [],
  };

  it('raw_input_contents and typed contents decode alike; outputs go back raw', () => {
    const raw = decodeGrpcInferRequest(
      message({
        inputs: [{ name: 'x', datatype: 'FP32', shape: ['1', '2'], parameters: {}, contents: null }],
        raw_input_contents: [Buffer.from(Float32Array.of(1, 2).buffer)],
      }),
      100,
    );
    const typed = decodeGrpcInferRequest(
      message({
        inputs: [
          { name: 'x', datatype: 'FP32', shape: ['1', '2'], parameters: {}, contents: { ...contents, fp32_contents: [1, 2] } },
        ],
      }),
      100,
    );
    expect(raw.inputs).toEqual(typed.inputs);
    expect(raw.inputs[0]!.data).toEqual(Float32Array.of(1, 2));
    const timed = decodeGrpcInferRequest(
      message({ parameters: { timeout: { int64_param: '1500', parameter_choice: 'int64_param' } } }),
      100,
    );
    expect(timed.timeoutMs).toBe(1.5);
    const response = encodeGrpcInferResponse({
      modelName: 'm',
      modelVersion: '1',
      id: undefined,
      outputs: [{ name: 'y', dtype: 'int32', shape: [2], data: Int32Array.of(3, 4), binary: true }],
    });
    expect(response.outputs).toEqual([{ name: 'y', datatype: 'INT32', shape: [2] }]);
    expect(Buffer.from(response.raw_output_contents[0]!)).toEqual(Buffer.from(Int32Array.of(3, 4).buffer));
  });

  it('BAD CALL - mismatched raw contents, FP16 without raw bytes', () => {
    expectErrorSync(
      () =>
        decodeGrpcInferRequest(
          message({
            inputs: [
              { name: 'x', datatype: 'FP32', shape: ['1'], parameters: {}, contents: null },
              { name: 'z', datatype: 'FP32', shape: ['1'], parameters: {}, contents: null },
            ],
            raw_input_contents: [Buffer.alloc(4)],
          }),
          100,
        ),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected one raw_input_contents entry per input (2) but received 1',
    );
    expectErrorSync(
      () =>
        decodeGrpcInferRequest(
          message({ inputs: [{ name: 'h', datatype: 'FP16', shape: ['1'], parameters: {}, contents: contents }] }),
          100,
        ),
      ArgumentTypeError,
      'ERR_DTYPE',
      'Expected raw_input_contents for inputs[0] ("h"): FP16 has no typed contents field',
    );
  });
});
