/** The ONNX toolkit: reading, writing, inspecting, FP16, INT8, calibration, compare(). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { calibrate, compare, quantizeInt8 } from '../../../lib/precision/index.js';
import {
  cloneModel,
  convertToFp16,
  formatInspectReport,
  inspect,
  loadCalibrationTable,
  parseModel,
  readModel,
  saveCalibrationTable,
  serializeModel,
  writeModel,
  type OnnxModel,
} from '../../../lib/onnx/index.js';
import { ArgumentRangeError, ArgumentTypeError, OnnxError, TensorRTNodeError } from '../../../lib/core/errors.js';
import { mlpModel } from '../../helpers/onnx-fixtures.js';
import { row, type MatrixContext, type MatrixTable } from '../matrix.js';

const T = ArgumentTypeError;
const R = ArgumentRangeError;
const never = <V>(value: unknown) => value as V;

function model(context: MatrixContext): OnnxModel {
  return context.once('mlp-model', () => mlpModel());
}

function file(context: MatrixContext, name: string, content: string | Uint8Array): string {
  return context.once(`file-${name}`, () => {
    const path = join(context.folder, name);
    writeFileSync(path, content);
    return path;
  });
}

const table = {
  format: 'tensorrt-node-calibration',
  version: 1,
  method: 'max',
  samples: 1,
  tensors: { x: { amax: 1, max: 1 } },
} as const;

export const onnxTable: MatrixTable = {
  surface: 'ONNX read, write, inspect',
  rows: [
    row('parseModel() of a string', () => parseModel(never('model.onnx')), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected a Uint8Array for model bytes but received "model.onnx" of type string',
    ]),
    row('parseModel() of empty bytes', () => parseModel(new Uint8Array(0)), [
      OnnxError,
      'ERR_ONNX',
      'Expected an ONNX model (ModelProto protobuf) for <bytes> but received a protobuf message with no graph',
    ]),
    row('parseModel() of bytes that are not protobuf', () => parseModel(new Uint8Array([0xff, 0xff, 0xff, 0xff])), [
      OnnxError,
      'ERR_ONNX',
      'Expected an ONNX model (ModelProto protobuf) for <bytes> but received bytes that are not valid protobuf (premature end of data: the file is truncated)',
    ]),
    row('readModel() of a number', () => readModel(never(3)), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected a file path or a Uint8Array for model but received 3 of type number',
    ]),
    row('readModel() of an empty path', () => readModel(''), [
      R,
      'ERR_INVALID_ARGUMENT',
      'Expected a non-empty string for model path but received "" of type string',
    ]),
    row('readModel() of a folder', (context) => readModel(context.folder), [
      OnnxError,
      'ERR_ONNX',
      /^Expected an ONNX model file for \/.* but received a directory$/,
    ]),
    row('readModel() of a path that does not exist', (context) => readModel(join(context.folder, 'nope.onnx')), [
      OnnxError,
      'ERR_IO',
      /^Expected a readable ONNX model file for \/.*\/nope\.onnx but received a path that does not exist$/,
    ]),
    row('readModel() of an empty file', (context) => readModel(file(context, 'empty.onnx', '')), [
      OnnxError,
      'ERR_ONNX',
      /^Expected an ONNX model \(ModelProto protobuf\) for \/.*\/empty\.onnx but received a protobuf message with no graph$/,
    ]),
    row('readModel() of a JSON file', (context) => readModel(file(context, 'model.json', '{"graph": {}}')), [
      OnnxError,
      'ERR_ONNX',
      /^Expected an ONNX model \(ModelProto protobuf\) for \/.*\/model\.json but received bytes that are not valid protobuf \(.*\)$/,
    ]),
    row('readModel() with a misspelled option', () => readModel(new Uint8Array(0), never({ loadExternaldata: false })), [
      R,
      'ERR_UNKNOWN_OPTION',
      'Unknown option "loadExternaldata" in options (did you mean "loadExternalData"?); known options: loadExternalData, check, baseDir',
    ]),
    row('readModel() with a string for options.check', () => readModel(new Uint8Array(0), never({ check: 'no' })), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected a boolean for options.check but received "no" of type string',
    ]),
    row('readModel() with a number for options.baseDir', () => readModel(new Uint8Array(0), never({ baseDir: 1 })), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected a string for options.baseDir but received 1 of type number',
    ]),
    row('serializeModel() of null', () => serializeModel(never(null)), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected an OnnxModel (from readModel or parseModel) for model but received null',
    ]),
    row('serializeModel() of a plain object', () => serializeModel(never({ proto: {} })), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected an OnnxModel (from readModel or parseModel) for model but received an object',
    ]),
    row('cloneModel() of undefined', () => cloneModel(never(undefined)), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected an OnnxModel (from readModel or parseModel) for model but received undefined',
    ]),
    row('writeModel() of a string', (context) => writeModel(never('model'), join(context.folder, 'out.onnx')), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected an OnnxModel (from readModel or parseModel) for model but received "model" of type string',
    ]),
    row('writeModel() to a number', (context) => writeModel(model(context), never(5)), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected a string for output path but received 5 of type number',
    ]),
    row('writeModel() to an empty path', (context) => writeModel(model(context), ''), [
      R,
      'ERR_INVALID_ARGUMENT',
      'Expected a non-empty string for output path but received "" of type string',
    ]),
    row(
      'writeModel() with a misspelled option',
      (context) => writeModel(model(context), join(context.folder, 'out.onnx'), never({ externaldata: true })),
      [
        R,
        'ERR_UNKNOWN_OPTION',
        'Unknown option "externaldata" in options (did you mean "externalData"?); known options: externalData',
      ],
    ),
    row(
      'writeModel() with external data in another folder',
      (context) => writeModel(model(context), join(context.folder, 'out.onnx'), { externalData: { location: '../weights.bin' } }),
      [
        T,
        'ERR_INVALID_ARGUMENT',
        'Expected a plain file name for options.externalData.location but received "../weights.bin" of type string',
      ],
    ),
    row(
      'writeModel() with external data at an absolute path',
      (context) =>
        writeModel(model(context), join(context.folder, 'out.onnx'), { externalData: { location: '/tmp/weights.bin' } }),
      [
        T,
        'ERR_INVALID_ARGUMENT',
        'Expected a plain file name for options.externalData.location but received "/tmp/weights.bin" of type string',
      ],
    ),
    row(
      'writeModel() with a negative external data threshold',
      (context) => writeModel(model(context), join(context.folder, 'out.onnx'), { externalData: { threshold: -1 } }),
      [R, 'ERR_INVALID_ARGUMENT', 'Expected an integer >= 0 for options.externalData.threshold but received -1 of type number'],
    ),
    row(
      'writeModel() with a misspelled external data option',
      (context) => writeModel(model(context), join(context.folder, 'out.onnx'), never({ externalData: { treshold: 1 } })),
      [
        R,
        'ERR_UNKNOWN_OPTION',
        'Unknown option "treshold" in options.externalData (did you mean "threshold"?); known options: location, threshold',
      ],
    ),
    row(
      'writeModel() into a folder that does not exist',
      (context) => writeModel(model(context), join(context.folder, 'no', 'such', 'out.onnx')),
      [OnnxError, 'ERR_IO', /^Cannot write \/.*\/no\/such\/out\.onnx: the folder does not exist \(ENOENT\)$/],
    ),
    row('inspect() of null', () => inspect(never(null)), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected an OnnxModel (from readModel or parseModel) for source but received null',
    ]),
    row('inspect() of a number', () => inspect(never(1)), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected an OnnxModel (from readModel or parseModel) for source but received 1 of type number',
    ]),
    row('formatInspectReport() of null', () => formatInspectReport(never(null)), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected an InspectReport from inspect() for report but received null',
    ]),
  ],
};

export const transformTable: MatrixTable = {
  surface: 'FP16, INT8, calibration, compare',
  rows: [
    row('convertToFp16() of null', () => convertToFp16(never(null)), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected an OnnxModel (from readModel or parseModel) for model but received null',
    ]),
    row('convertToFp16() with a misspelled option', (context) => convertToFp16(model(context), never({ keepIOTypes: false })), [
      R,
      'ERR_UNKNOWN_OPTION',
      'Unknown option "keepIOTypes" in options (did you mean "keepIoTypes"?); known options: keepIoTypes, blockOpTypes, blockNodes, keepOutOfRange',
    ]),
    row(
      'convertToFp16() with a string for blockOpTypes',
      (context) => convertToFp16(model(context), never({ blockOpTypes: 'Softmax' })),
      [T, 'ERR_INVALID_ARGUMENT', 'Expected an array of strings for options.blockOpTypes but received "Softmax" of type string'],
    ),
    row(
      'convertToFp16() with a number among blockNodes',
      (context) => convertToFp16(model(context), never({ blockNodes: ['a', 2] })),
      [T, 'ERR_INVALID_ARGUMENT', 'Expected a string for options.blockNodes[1] but received 2 of type number'],
    ),
    row(
      'convertToFp16() with a string for keepIoTypes',
      (context) => convertToFp16(model(context), never({ keepIoTypes: 'false' })),
      [T, 'ERR_INVALID_ARGUMENT', 'Expected a boolean for options.keepIoTypes but received "false" of type string'],
    ),
    row('quantizeInt8() of a string', () => quantizeInt8(never('model.onnx'), { calibration: { random: 1 } }), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected an OnnxModel (from readModel or parseModel) for model but received "model.onnx" of type string',
    ]),
    row('quantizeInt8() without calibration or table', (context) => quantizeInt8(model(context), {}), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected calibration data (options.calibration) or a calibration table (options.calibrationTable) for quantizeInt8 but received neither',
    ]),
    row(
      'quantizeInt8() with a misspelled method',
      (context) => quantizeInt8(model(context), never({ calibration: { random: 1 }, method: 'entropi' })),
      [
        R,
        'ERR_INVALID_ARGUMENT',
        'Expected one of "max", "percentile", "entropy", "mse" for options.method but received "entropi" of type string (did you mean "entropy"?)',
      ],
    ),
    row(
      'quantizeInt8() with percentile 101',
      (context) => quantizeInt8(model(context), { calibration: { random: 1 }, percentile: 101 }),
      [R, 'ERR_INVALID_ARGUMENT', 'Expected a number between 50 and 100 for options.percentile but received 101 of type number'],
    ),
    row(
      'quantizeInt8() with a NaN percentile',
      (context) => quantizeInt8(model(context), { calibration: { random: 1 }, percentile: NaN }),
      [
        R,
        'ERR_INVALID_ARGUMENT',
        'Expected a finite number between 50 and 100 for options.percentile but received NaN of type number',
      ],
    ),
    row('quantizeInt8() with zero random samples', (context) => quantizeInt8(model(context), { calibration: { random: 0 } }), [
      R,
      'ERR_INVALID_ARGUMENT',
      'Expected at least one calibration sample for options.calibration.random but received 0',
    ]),
    row(
      'quantizeInt8() with a fractional sample count',
      (context) => quantizeInt8(model(context), { calibration: { random: 2.5 } }),
      [R, 'ERR_INVALID_ARGUMENT', 'Expected an integer >= 0 for options.calibration.random but received 2.5 of type number'],
    ),
    row(
      'quantizeInt8() with high below low',
      (context) => quantizeInt8(model(context), { calibration: { random: 1, low: 1, high: -1 } }),
      [
        R,
        'ERR_INVALID_ARGUMENT',
        'Expected options.calibration.high to be greater than options.calibration.low (1) but received -1',
      ],
    ),
    row(
      'quantizeInt8() with a misspelled calibration option',
      (context) => quantizeInt8(model(context), never({ calibration: { random: 1, sead: 2 } })),
      [
        R,
        'ERR_UNKNOWN_OPTION',
        'Unknown option "sead" in options.calibration (did you mean "seed"?); known options: random, seed, low, high',
      ],
    ),
    row('quantizeInt8() with a number for calibration', (context) => quantizeInt8(model(context), never({ calibration: 5 })), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected a folder path, an (async) iterable of feeds or { random: N } for options.calibration but received 5 of type number',
    ]),
    row('quantizeInt8() with an empty calibration folder path', (context) => quantizeInt8(model(context), { calibration: '' }), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected a folder path, feeds or { random: N } for options.calibration but received "" of type string',
    ]),
    row(
      'quantizeInt8() with a string for opTypes',
      (context) => quantizeInt8(model(context), never({ calibration: { random: 1 }, opTypes: 'Conv' })),
      [T, 'ERR_INVALID_ARGUMENT', 'Expected an array of strings for options.opTypes but received "Conv" of type string'],
    ),
    row(
      'quantizeInt8() with a misspelled option',
      (context) => quantizeInt8(model(context), never({ calibration: { random: 1 }, perchannel: false })),
      [
        R,
        'ERR_UNKNOWN_OPTION',
        'Unknown option "perchannel" in options (did you mean "perChannel"?); known options: method, percentile, opTypes, shapes, cpu, signal, onProgress, calibration, calibrationTable, excludeNodes, perChannel, accuracy',
      ],
    ),
    row(
      'quantizeInt8() with an empty calibration iterable',
      (context) => quantizeInt8(model(context), { calibration: [], shapes: { x: [1, 16] }, cpu: { intraOpNumThreads: 1 } }),
      [R, 'ERR_INVALID_ARGUMENT', 'Expected at least one calibration sample but received an empty set'],
    ),
    row(
      'quantizeInt8() with a calibration sample of the wrong dtype',
      (context) =>
        quantizeInt8(model(context), {
          calibration: [{ x: { dtype: 'int32', shape: [1, 16], data: new Int32Array(16) } }],
          cpu: { intraOpNumThreads: 1 },
        }),
      [T, 'ERR_DTYPE', 'Expected dtype "float32" for calibration sample 0 input "x" but received "int32" of type string'],
    ),
    row(
      'quantizeInt8() with an aborted signal',
      (context) =>
        quantizeInt8(model(context), {
          calibration: { random: 1 },
          shapes: { x: [1, 16] },
          signal: AbortSignal.abort(),
          cpu: { intraOpNumThreads: 1 },
        }),
      [TensorRTNodeError, 'ERR_ABORTED', 'Calibration was aborted'],
    ),
    row('calibrate() of a plain object', () => calibrate(never({}), { random: 1 }), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected an OnnxModel (from readModel or parseModel) for model but received an object',
    ]),
    row(
      'calibrate() with a string for onProgress',
      (context) => calibrate(model(context), { random: 1 }, never({ onProgress: 'stderr' })),
      [T, 'ERR_INVALID_ARGUMENT', 'Expected a function for options.onProgress but received "stderr" of type string'],
    ),
    row('calibrate() with a misspelled option', (context) => calibrate(model(context), { random: 1 }, never({ methd: 'max' })), [
      R,
      'ERR_UNKNOWN_OPTION',
      'Unknown option "methd" in options (did you mean "method"?); known options: method, percentile, tensors, opTypes, shapes, cpu, signal, onProgress',
    ]),
    row('compare() with null for the reference', () => compare(never(null), never(null), {}), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected a model path, bytes, an OnnxModel, a backend or an async function for reference but received null',
    ]),
    row('compare() with a negative atol', (context) => compare(model(context), model(context), {}, { atol: -1 }), [
      R,
      'ERR_INVALID_ARGUMENT',
      'Expected a number >= 0 for options.atol but received -1 of type number',
    ]),
    row('compare() with a NaN rtol', (context) => compare(model(context), model(context), {}, { rtol: NaN }), [
      R,
      'ERR_INVALID_ARGUMENT',
      'Expected a finite number >= 0 for options.rtol but received NaN of type number',
    ]),
    row('compare() with a misspelled option', (context) => compare(model(context), model(context), {}, never({ tolerance: 1 })), [
      R,
      'ERR_UNKNOWN_OPTION',
      'Unknown option "tolerance" in options; known options: atol, rtol, outputs, cpu',
    ]),
    row(
      'loadCalibrationTable() of a path that does not exist',
      (context) => loadCalibrationTable(join(context.folder, 'table.json')),
      [
        OnnxError,
        'ERR_IO',
        /^Expected a readable calibration table at \/.*\/table\.json but received a path that does not exist$/,
      ],
    ),
    row(
      'loadCalibrationTable() of a file that is not JSON',
      (context) => loadCalibrationTable(file(context, 'bad-table.json', 'amax=1')),
      [
        R,
        'ERR_INVALID_ARGUMENT',
        /^Expected a calibration table \(format "tensorrt-node-calibration", version 1\) for \/.*\/bad-table\.json but received text that is not JSON \(.*\)$/,
      ],
    ),
    row(
      'loadCalibrationTable() of a table with a negative amax',
      (context) =>
        loadCalibrationTable(
          file(context, 'negative-table.json', JSON.stringify({ ...table, tensors: { x: { amax: -1, max: 1 } } })),
        ),
      [
        R,
        'ERR_INVALID_ARGUMENT',
        /^Expected a calibration table .* but received tensor "x" with \{"amax":-1,"max":1\} \(amax and max must be finite and >= 0\)$/,
      ],
    ),
    row(
      'loadCalibrationTable() of a table of version 2',
      (context) => loadCalibrationTable(file(context, 'v2-table.json', JSON.stringify({ ...table, version: 2 }))),
      [R, 'ERR_INVALID_ARGUMENT', /^Expected a calibration table .* but received version 2 of type number$/],
    ),
    row(
      'saveCalibrationTable() of a table without samples',
      (context) => saveCalibrationTable(never({ ...table, samples: 0 }), join(context.folder, 't.json')),
      [
        R,
        'ERR_INVALID_ARGUMENT',
        'Expected a calibration table (format "tensorrt-node-calibration", version 1) for table but received samples 0 of type number',
      ],
    ),
    row('saveCalibrationTable() to a number', () => saveCalibrationTable(never(table), never(1)), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected a file path for path but received 1 of type number',
    ]),
  ],
};
