/** The error family's helpers, dtypes, capabilities() and the engine-diagnosis and precision helpers. */
import { checkPrecisionApplied } from '../../../lib/index.js';
import { diagnoseEngineLoadFailure } from '../../../lib/tensorrt/diagnosis.js';
import {
  allocateTypedArray,
  checkTypedArray,
  dtypeSize,
  elementCount,
  toFloat16Array,
  viewTypedArray,
} from '../../../lib/core/dtypes.js';
import { capabilities } from '../../../lib/addon/capabilities.js';
import { ArgumentRangeError, ArgumentTypeError, TensorRTError } from '../../../lib/core/errors.js';
import { row, type MatrixTable } from '../matrix.js';

const T = ArgumentTypeError;
const R = ArgumentRangeError;
const never = <V>(value: unknown) => value as V;

export const dtypeTable: MatrixTable = {
  surface: 'dtypes',
  rows: [
    row('elementCount() of a string', () => elementCount(never('x')), [
      T,
      'ERR_SHAPE',
      'Expected an array of dimensions for shape but received "x" of type string',
    ]),
    row('elementCount() with a negative dim', () => elementCount([2, -1]), [
      R,
      'ERR_SHAPE',
      'Expected a non-negative integer for shape[1] but received -1 of type number',
    ]),
    row('elementCount() with a fractional dim', () => elementCount([1.5]), [
      R,
      'ERR_SHAPE',
      'Expected a non-negative integer for shape[0] but received 1.5 of type number',
    ]),
    row('elementCount() with a NaN dim', () => elementCount([NaN]), [
      R,
      'ERR_SHAPE',
      'Expected a non-negative integer for shape[0] but received NaN of type number',
    ]),
    row('elementCount() with an Infinity dim', () => elementCount([Infinity]), [
      R,
      'ERR_SHAPE',
      'Expected a non-negative integer for shape[0] but received Infinity of type number',
    ]),
    row('elementCount() with a string dim', () => elementCount(never(['3'])), [
      R,
      'ERR_SHAPE',
      'Expected a non-negative integer for shape[0] but received "3" of type string',
    ]),
    row('elementCount() with a dim beyond 2^53', () => elementCount([2 ** 53]), [
      R,
      'ERR_SHAPE',
      'Expected a non-negative integer for shape[0] but received 9007199254740992 of type number',
    ]),
    row('elementCount() whose product overflows', () => elementCount([2 ** 30, 2 ** 30]), [
      R,
      'ERR_SHAPE',
      'The element count of shape [1073741824, 1073741824] overflows',
    ]),
    row('checkTypedArray() with a Float64Array for float32', () => checkTypedArray('float32', new Float64Array(3), 'input "x"'), [
      T,
      'ERR_DTYPE',
      'Expected a Float32Array for input "x" (float32) but received a Float64Array of length 3',
    ]),
    row('checkTypedArray() with a Float32Array for float16', () => checkTypedArray('float16', new Float32Array(2), 'input "x"'), [
      T,
      'ERR_DTYPE',
      'Expected a Uint16Array for input "x" (float16) but received a Float32Array of length 2',
    ]),
    row('checkTypedArray() with a plain array for int64', () => checkTypedArray('int64', never([1, 2]), 'input "ids"'), [
      T,
      'ERR_DTYPE',
      'Expected a BigInt64Array for input "ids" (int64) but received an array of length 2',
    ]),
    row('checkTypedArray() with null', () => checkTypedArray('bool', null, 'input "mask"'), [
      T,
      'ERR_DTYPE',
      'Expected a Uint8Array for input "mask" (bool) but received null',
    ]),
    row('dtypeSize() of an unknown dtype', () => dtypeSize(never('float33')), [
      R,
      'ERR_DTYPE',
      'Expected one of "float32", "float16", "bfloat16", "float64", "int8", "uint8", "int32", "int64", "bool", "fp8e4m3" for dtype but received "float33" of type string',
    ]),
    row('dtypeSize() of a number', () => dtypeSize(never(4)), [
      T,
      'ERR_DTYPE',
      'Expected one of "float32", "float16", "bfloat16", "float64", "int8", "uint8", "int32", "int64", "bool", "fp8e4m3" for dtype but received 4 of type number',
    ]),
    row('allocateTypedArray() with a negative count', () => allocateTypedArray('float32', -1), [
      R,
      'ERR_SHAPE',
      'Expected a non-negative integer for elementCount but received -1 of type number',
    ]),
    row('allocateTypedArray() with a fractional count', () => allocateTypedArray('int8', 2.5), [
      R,
      'ERR_SHAPE',
      'Expected a non-negative integer for elementCount but received 2.5 of type number',
    ]),
    row('viewTypedArray() at a misaligned offset', () => viewTypedArray('float32', new ArrayBuffer(16), 2, 2), [
      R,
      'ERR_SHAPE',
      'Expected 2 float32 elements at byte 2 inside buffer but received an instance of ArrayBuffer (start offset of Float32Array should be a multiple of 4)',
    ]),
    row('viewTypedArray() past the end of the buffer', () => viewTypedArray('int32', new ArrayBuffer(8), 0, 4), [
      R,
      'ERR_SHAPE',
      'Expected 4 int32 elements at byte 0 inside buffer but received an instance of ArrayBuffer (Invalid typed array length: 4)',
    ]),
    row('toFloat16Array() of null', () => toFloat16Array(never(null)), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected an array or a TypedArray for values but received null',
    ]),
  ],
};

export const helpersTable: MatrixTable = {
  surface: 'capabilities and diagnosis helpers',
  rows: [
    row('capabilities() with a number for options', () => capabilities(never(42)), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected an object for options but received 42 of type number',
    ]),
    row('capabilities() with a misspelled option', () => capabilities(never({ tensorrtLibraryPth: '/opt' })), [
      R,
      'ERR_UNKNOWN_OPTION',
      'Unknown option "tensorrtLibraryPth" in options (did you mean "tensorrtLibraryPath"?); known options: tensorrtLibraryPath',
    ]),
    row('capabilities() with a number for tensorrtLibraryPath', () => capabilities(never({ tensorrtLibraryPath: 1 })), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected a string for options.tensorrtLibraryPath but received 1 of type number',
    ]),
    row('capabilities() with an empty tensorrtLibraryPath', () => capabilities({ tensorrtLibraryPath: '' }), [
      R,
      'ERR_INVALID_ARGUMENT',
      'Expected a non-empty string for options.tensorrtLibraryPath but received "" of type string',
    ]),
    row(
      'diagnoseEngineLoadFailure() with null messages',
      () => diagnoseEngineLoadFailure(never(null), { tensorrtVersion: null, computeCapability: null }),
      [T, 'ERR_INVALID_ARGUMENT', 'Expected an array of strings for messages but received null'],
    ),
    row(
      'diagnoseEngineLoadFailure() with a number among the messages',
      () => diagnoseEngineLoadFailure(never(['a', 1]), { tensorrtVersion: null, computeCapability: null }),
      [T, 'ERR_INVALID_ARGUMENT', 'Expected an array of strings for messages but received an array of length 2'],
    ),
    row('diagnoseEngineLoadFailure() with a string for host', () => diagnoseEngineLoadFailure([], never('8.9')), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected an object for host but received "8.9" of type string',
    ]),
    row(
      'diagnoseEngineLoadFailure() with an unknown host fact',
      () => diagnoseEngineLoadFailure([], never({ computeCapabilty: '8.9' })),
      [
        R,
        'ERR_UNKNOWN_OPTION',
        'Unknown option "computeCapabilty" in host (did you mean "computeCapability"?); known options: tensorrtVersion, computeCapability',
      ],
    ),
    row(
      'diagnoseEngineLoadFailure() with a number for host.tensorrtVersion',
      () => diagnoseEngineLoadFailure([], never({ tensorrtVersion: 10 })),
      [T, 'ERR_INVALID_ARGUMENT', 'Expected a string or null for host.tensorrtVersion but received 10 of type number'],
    ),
    row('checkPrecisionApplied() with an unknown precision', () => checkPrecisionApplied(never('fp8'), {}), [
      R,
      'ERR_INVALID_ARGUMENT',
      'Expected one of "fp32", "fp16", "int8" for requested but received "fp8" of type string',
    ]),
    row('checkPrecisionApplied() with null for the precision', () => checkPrecisionApplied(never(null), {}), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected one of "fp32", "fp16", "int8" for requested but received null',
    ]),
    row(
      'checkPrecisionApplied() for fp16 with layer information that is not detailed',
      () => checkPrecisionApplied('fp16', { Layers: ['conv1'] }),
      [
        TensorRTError,
        'ERR_PRECISION_NOT_APPLIED',
        'Cannot confirm that the engine uses fp16: its layer information is not detailed (build it with ProfilingVerbosity kDETAILED)',
      ],
    ),
  ],
};
