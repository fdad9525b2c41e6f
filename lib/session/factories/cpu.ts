/**
 * The cpu backend as InferenceSession builds it: `contexts` worker threads (one onnxruntime session
 * each, in a BackendGroup), the session's precision applied to the ONNX graph with the toolkit's own
 * transforms, and the options that only mean something to TensorRT refused when cpu was asked for
 * by name (with 'auto' they are noted and ignored, so that one configuration serves every host).
 *
 * Precision on cpu: 'fp16' runs the FP16-autocast graph (convertToFp16, float32 I/O kept) and 'int8'
 * the Q/DQ graph (quantizeInt8 with options.calibration). onnxruntime executes them with its CPU
 * kernels, so the results show the numerics TensorRT will have with the same transformed graph
 * (the point of the cpu backend as a reference); they are not faster than fp32 on a CPU.
 */
import { availableParallelism } from 'node:os';
import { ErrorCode, TensorRTNodeError } from '../../core/errors.js';
import { convertToFp16 } from '../../onnx/fp16.js';
import { parseModel, readModel, serializeModel, type OnnxModel } from '../../onnx/model.js';
import { quantizeInt8 } from '../../precision/quantize.js';
import { expectOptions, rejectUnknownOptions } from '../../core/validate.js';
import type { Backend } from '../../backends/backend.js';
import { CpuBackend, cpuBackendOptionNames, type CpuBackendOptions } from '../../backends/cpu/backend.js';
import { BackendGroup } from '../../backends/group.js';
import type { BackendFactory, BackendRequest } from '../registry.js';

async function onnxModel(source: string | Uint8Array | OnnxModel, label: string): Promise<OnnxModel> {
  if (typeof source === 'string') return readModel(source);
  if (source instanceof Uint8Array) return parseModel(source, { source: label });
  return source;
}

/** The model bytes (or path) each worker loads, with the precision transform applied. */
async function modelForPrecision(request: BackendRequest): Promise<string | Uint8Array> {
  const { model } = request;
  if (model.kind !== 'onnx') throw new Error('unreachable: engines are refused before');
  if (request.precision === 'fp32') {
    const source = model.source;
    return typeof source === 'string' || source instanceof Uint8Array ? source : serializeModel(source);
  }
  const parsed = await onnxModel(model.source, model.label);
  if (request.precision === 'fp16') return serializeModel(convertToFp16(parsed).model);
  if (request.calibration === undefined) {
    throw new TensorRTNodeError(
      ErrorCode.INVALID_ARGUMENT,
      'Expected calibration data (options.calibration: feeds, a folder of samples or { random: N }) for precision "int8" but received undefined',
    );
  }
  // Random calibration data takes the typical shapes of the first profile for dynamic inputs.
  const opt = request.profiles?.[0];
  const shapes = opt ? Object.fromEntries(Object.entries(opt).map(([name, bounds]) => [name, bounds.opt])) : undefined;
  return serializeModel((await quantizeInt8(parsed, { calibration: request.calibration, ...(shapes ? { shapes } : {}) })).model);
}

/** TensorRT-only options a cpu session was given, by name. */
function tensorrtOnlyOptions(request: BackendRequest): string[] {
  const names: string[] = [];
  // 'auto' (the default) means "where it helps", which is nowhere on cpu: only true is refused.
  if (request.cudaGraph === true) names.push('cudaGraph');
  if (request.device !== undefined) names.push('device');
  if (request.cacheDir !== undefined) names.push('cacheDir');
  return names;
}

export const cpuBackendFactory: BackendFactory = {
  async create(request: BackendRequest): Promise<Backend> {
    if (request.model.kind === 'engine') {
      throw new TensorRTNodeError(
        ErrorCode.NOT_SUPPORTED,
        `${request.model.label} is a TensorRT engine, which only the tensorrt backend runs; give the cpu backend the ONNX model it was built from`,
      );
    }
    const refused = tensorrtOnlyOptions(request);
    if (request.explicit && refused.length > 0) {
      throw new TensorRTNodeError(
        ErrorCode.NOT_SUPPORTED,
        `options.${refused[0]} applies to the tensorrt backend only, but backend "cpu" was asked for by name (with backend "auto" it is ignored where TensorRT is not usable)`,
      );
    }
    const cpuOptions = expectOptions<CpuBackendOptions>(request.backendOptions, 'options.cpu') as CpuBackendOptions;
    rejectUnknownOptions(cpuOptions, cpuBackendOptionNames, 'options.cpu');
    // Divide the cores between the workers unless told otherwise: N workers each spinning on every
    // core would fight each other and the event loop.
    const options: CpuBackendOptions = {
      intraOpNumThreads: Math.max(1, Math.floor(availableParallelism() / request.contexts)),
      ...cpuOptions,
    };
    const source = await modelForPrecision(request);
    const members: CpuBackend[] = [];
    try {
      for (let index = 0; index < request.contexts; index++) members.push(await CpuBackend.create(source, options));
    } catch (error) {
      await Promise.all(members.map((member) => member.dispose()));
      throw error;
    }
    return members.length === 1 ? members[0]! : new BackendGroup(members);
  },
};

/** Options of the session that the cpu backend ignores under 'auto', for session.backendReason. */
export function ignoredOnCpu(request: BackendRequest): string[] {
  return tensorrtOnlyOptions(request);
}
