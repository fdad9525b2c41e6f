/** Engine.load and buildEngine: every check that runs before TensorRT is reached. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProfileBounds } from '../../../lib/addon/types.js';
import { buildEngine, Engine } from '../../../lib/index.js';
import { ArgumentRangeError, ArgumentTypeError, OnnxError, TensorRTNodeError } from '../../../lib/core/errors.js';
import { packageRoot } from '../../../lib/addon/loader.js';
import { row, type MatrixContext, type MatrixTable } from '../matrix.js';

const T = ArgumentTypeError;
const R = ArgumentRangeError;
const never = <V>(value: unknown) => value as V;
const mlp = join(packageRoot, 'test', 'fixtures', 'models', 'mlp.onnx');
const convnet = join(packageRoot, 'test', 'fixtures', 'models', 'convnet.onnx');
const plan = new Uint8Array(64).fill(7);

function enginePath(context: MatrixContext, kind: 'empty' | 'folder' | 'fifo'): string {
  return context.once(`engine-${kind}`, () => {
    const path = join(context.folder, `${kind}.engine`);
    if (kind === 'empty') writeFileSync(path, '');
    else if (kind === 'folder') mkdirSync(path);
    else execFileSync('mkfifo', [path]);
    return path;
  });
}

function aborted(): AbortSignal {
  const controller = new AbortController();
  controller.abort(new Error('the caller gave up'));
  return controller.signal;
}

const profile = (bounds: unknown) => ({ profiles: never<Record<string, ProfileBounds>>({ x: bounds }) });

export const engineTable: MatrixTable = {
  surface: 'Engine.load',
  rows: [
    row('a number for the engine', () => Engine.load(never(42)), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected a path or a Uint8Array for the engine but received 42 of type number',
    ]),
    row('null for the engine', () => Engine.load(never(null)), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected a path or a Uint8Array for the engine but received null',
    ]),
    row('an ArrayBuffer for the engine', () => Engine.load(never(new ArrayBuffer(8))), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected a path or a Uint8Array for the engine but received an instance of ArrayBuffer',
    ]),
    row('an empty path', () => Engine.load(''), [
      R,
      'ERR_INVALID_ARGUMENT',
      'Expected a non-empty string for the engine path but received "" of type string',
    ]),
    row('empty bytes', () => Engine.load(new Uint8Array(0)), [
      R,
      'ERR_INVALID_ARGUMENT',
      'Expected a non-empty engine for the engine but received a Uint8Array of length 0',
    ]),
    row('a path that does not exist', (context) => Engine.load(join(context.folder, 'missing.engine')), [
      TensorRTNodeError,
      'ERR_IO',
      /^Cannot read the engine file \/.*\/missing\.engine: it does not exist$/,
    ]),
    row('a folder', (context) => Engine.load(enginePath(context, 'folder')), [
      TensorRTNodeError,
      'ERR_IO',
      /^Cannot read the engine file \/.*\/folder\.engine: it is a directory$/,
    ]),
    row('an empty file', (context) => Engine.load(enginePath(context, 'empty')), [
      R,
      'ERR_INVALID_ARGUMENT',
      /^Expected a non-empty engine file for the engine but received "\/.*" of type string$/,
    ]),
    row('a FIFO', (context) => Engine.load(enginePath(context, 'fifo')), [
      TensorRTNodeError,
      'ERR_IO',
      /^Cannot read the engine file \/.*\/fifo\.engine: it is not a regular file$/,
    ]),
    row('a number for options', () => Engine.load(plan, never(1)), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected an object for options but received 1 of type number',
    ]),
    row('a misspelled option', () => Engine.load(plan, never({ allowHostcode: true })), [
      R,
      'ERR_UNKNOWN_OPTION',
      'Unknown option "allowHostcode" in options (did you mean "allowHostCode"?); known options: device, allowHostCode, libraryPath, signal, plugins',
    ]),
    row('a negative device', () => Engine.load(plan, { device: -1 }), [
      R,
      'ERR_INVALID_ARGUMENT',
      'Expected an integer >= 0 for options.device but received -1 of type number',
    ]),
    row('a fractional device', () => Engine.load(plan, { device: 0.5 }), [
      R,
      'ERR_INVALID_ARGUMENT',
      'Expected an integer >= 0 for options.device but received 0.5 of type number',
    ]),
    row('a NaN device', () => Engine.load(plan, { device: NaN }), [
      R,
      'ERR_INVALID_ARGUMENT',
      'Expected an integer >= 0 for options.device but received NaN of type number',
    ]),
    row('a string device', () => Engine.load(plan, never({ device: '0' })), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected an integer for options.device but received "0" of type string',
    ]),
    row('a string for allowHostCode', () => Engine.load(plan, never({ allowHostCode: 'yes' })), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected a boolean for options.allowHostCode but received "yes" of type string',
    ]),
    row('a number for libraryPath', () => Engine.load(plan, never({ libraryPath: 1 })), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected a string for options.libraryPath but received 1 of type number',
    ]),
    row('an empty libraryPath', () => Engine.load(plan, { libraryPath: '' }), [
      R,
      'ERR_INVALID_ARGUMENT',
      'Expected a non-empty string for options.libraryPath but received "" of type string',
    ]),
    row('a plain object for signal', () => Engine.load(plan, never({ signal: {} })), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected an AbortSignal for options.signal but received an object',
    ]),
    row('an aborted signal', () => Engine.load(plan, { signal: aborted() }), [
      TensorRTNodeError,
      'ERR_ABORTED',
      'Engine.load was aborted (the caller gave up)',
    ]),
  ],
};

export const buildTable: MatrixTable = {
  surface: 'buildEngine',
  rows: [
    row('a number for the model', () => buildEngine(never(42)), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected a path or a Uint8Array for the ONNX model but received 42 of type number',
    ]),
    row('a model path that does not exist', (context) => buildEngine(join(context.folder, 'missing.onnx')), [
      OnnxError,
      'ERR_IO',
      /^Expected a readable ONNX model file for \/.*\/missing\.onnx but received a path that does not exist$/,
    ]),
    row('bytes that are not a model', () => buildEngine(new Uint8Array([1, 2, 3])), [
      OnnxError,
      'ERR_ONNX',
      'Expected an ONNX model (ModelProto protobuf) for <bytes> but received bytes that are not valid protobuf (illegal tag: field no 0 wire type 1)',
    ]),
    row('a misspelled option', () => buildEngine(mlp, never({ precison: 'fp16' })), [
      R,
      'ERR_UNKNOWN_OPTION',
      /^Unknown option "precison" in options \(did you mean "precision"\?\); known options: precision, calibration, /,
    ]),
    row('an unknown precision', () => buildEngine(mlp, never({ precision: 'fp8' })), [
      R,
      'ERR_INVALID_ARGUMENT',
      'Expected one of "fp32", "fp16", "int8" for options.precision but received "fp8" of type string',
    ]),
    row('a workspace with an unknown unit', () => buildEngine(mlp, { workspace: '2XB' }), [
      R,
      'ERR_INVALID_ARGUMENT',
      'Expected a byte size such as 512MiB, 2GiB, 1.5GB or 1000000 for options.workspace but received "2XB" of type string',
    ]),
    row('a negative workspace', () => buildEngine(mlp, { workspace: -1 }), [
      R,
      'ERR_INVALID_ARGUMENT',
      'Expected an integer >= 1 for options.workspace but received -1 of type number',
    ]),
    row('a workspace beyond 8 PiB', () => buildEngine(mlp, { workspace: '9999999TiB' }), [
      R,
      'ERR_INVALID_ARGUMENT',
      'Expected a byte size such as 512MiB, 2GiB, 1.5GB or 1000000, below 8 PiB for options.workspace but received "9999999TiB" of type string',
    ]),
    row('optimization level 6', () => buildEngine(mlp, { optimizationLevel: 6 }), [
      R,
      'ERR_INVALID_ARGUMENT',
      'Expected an integer between 0 and 5 for options.optimizationLevel but received 6 of type number',
    ]),
    row('65 auxiliary streams', () => buildEngine(mlp, { maxAuxStreams: 65 }), [
      R,
      'ERR_INVALID_ARGUMENT',
      'Expected an integer between 0 and 64 for options.maxAuxStreams but received 65 of type number',
    ]),
    row('an unknown hardware compatibility', () => buildEngine(mlp, never({ hardwareCompatibility: 'turing+' })), [
      R,
      'ERR_INVALID_ARGUMENT',
      'Expected one of "none", "ampere+", "same-compute-capability" for options.hardwareCompatibility but received "turing+" of type string',
    ]),
    row('a negative device', () => buildEngine(mlp, { device: -1 }), [
      R,
      'ERR_INVALID_ARGUMENT',
      'Expected an integer >= 0 for options.device but received -1 of type number',
    ]),
    row('a number for cacheDir', () => buildEngine(mlp, never({ cacheDir: 1 })), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected a string for options.cacheDir but received 1 of type number',
    ]),
    row('true for timingCache', () => buildEngine(mlp, never({ timingCache: true })), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected a string for options.timingCache but received true of type boolean',
    ]),
    row('a string for signal', () => buildEngine(mlp, never({ signal: 'stop' })), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected an AbortSignal for options.signal but received "stop" of type string',
    ]),
    row('a string for onProgress', () => buildEngine(mlp, never({ onProgress: 'log' })), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected a function for options.onProgress but received "log" of type string',
    ]),
    row('an aborted signal', () => buildEngine(mlp, { signal: aborted() }), [
      TensorRTNodeError,
      'ERR_ABORTED',
      'buildEngine was aborted (the caller gave up)',
    ]),
    row('no profile for a dynamic input', () => buildEngine(mlp), [
      R,
      'ERR_SHAPE',
      /^\/.*\/mlp\.onnx has dynamic input "x" \[batch, 16\]: give options\.profiles with min\/opt\/max shapes, e\.g\. \{ "x": \{ min: \[\.\.\.\], opt: \[\.\.\.\], max: \[\.\.\.\] \} \}$/,
    ]),
    row(
      'a profile for a misspelled input',
      () => buildEngine(mlp, { profiles: { xx: { min: [1, 16], opt: [1, 16], max: [1, 16] } } }),
      [
        R,
        'ERR_INVALID_ARGUMENT',
        'Expected only input names of the model ("x") in options.profiles but received "xx" (did you mean "x"?)',
      ],
    ),
    row('a string for profiles', () => buildEngine(mlp, never({ profiles: 'x:1x16' })), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected an object mapping input names to { min, opt, max } for options.profiles but received "x:1x16" of type string',
    ]),
    row('a profile whose bounds are a string', () => buildEngine(mlp, profile('1x16')), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected { min, opt, max } for options.profiles.x but received "1x16" of type string',
    ]),
    row('a profile without max', () => buildEngine(mlp, profile({ min: [1, 16], opt: [1, 16] })), [
      T,
      'ERR_SHAPE',
      'Expected an array of dimensions for options.profiles.x.max but received undefined',
    ]),
    row('a profile with min above opt', () => buildEngine(mlp, profile({ min: [4, 16], opt: [2, 16], max: [8, 16] })), [
      R,
      'ERR_SHAPE',
      'Expected min <= opt <= max in every dimension of options.profiles.x but dimension 0 has min 4, opt 2, max 8',
    ]),
    row('a profile of the wrong rank', () => buildEngine(mlp, profile({ min: [1], opt: [1], max: [1] })), [
      R,
      'ERR_SHAPE',
      'Expected 2 dimensions for options.profiles.x.min (input shape [batch, 16]) but received [1]',
    ]),
    row('a profile that changes a fixed dim', () => buildEngine(mlp, profile({ min: [1, 16], opt: [1, 16], max: [1, 32] })), [
      R,
      'ERR_SHAPE',
      'Expected dimension 1 of options.profiles.x.max to be 16, as the model fixes it (input shape [batch, 16]), but received [1, 32]',
    ]),
    row('a profile with a NaN dim', () => buildEngine(mlp, profile({ min: [NaN, 16], opt: [1, 16], max: [1, 16] })), [
      R,
      'ERR_SHAPE',
      'Expected a non-negative integer for options.profiles.x.min[0] but received NaN of type number',
    ]),
    row('a profile with a negative dim', () => buildEngine(mlp, profile({ min: [-1, 16], opt: [1, 16], max: [1, 16] })), [
      R,
      'ERR_SHAPE',
      'Expected a non-negative integer for options.profiles.x.min[0] but received -1 of type number',
    ]),
    row('a profile with a fractional dim', () => buildEngine(mlp, profile({ min: [1, 16], opt: [1.5, 16], max: [2, 16] })), [
      R,
      'ERR_SHAPE',
      'Expected a non-negative integer for options.profiles.x.opt[0] but received 1.5 of type number',
    ]),
    row('an empty list of profiles for a dynamic input', () => buildEngine(mlp, { profiles: [] }), [
      R,
      'ERR_SHAPE',
      /^\/.*\/mlp\.onnx has dynamic input "x"/,
    ]),
    row(
      'a list holding a non-object profile',
      () => buildEngine(mlp, never({ profiles: [{ x: { min: [1, 16], opt: [1, 16], max: [1, 16] } }, 7] })),
      [
        T,
        'ERR_INVALID_ARGUMENT',
        'Expected an object mapping input names to { min, opt, max } for options.profiles[1] but received 7 of type number',
      ],
    ),
    row('int8 without calibration data', () => buildEngine(convnet, { precision: 'int8' }), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected calibration data (options.calibration) or a calibration table (options.calibrationTable) for precision "int8" but received neither; a model that already has QuantizeLinear/DequantizeLinear nodes needs neither',
    ]),
  ],
};
