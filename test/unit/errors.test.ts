import { describe, expect, it } from 'vitest';
import {
  AbortError,
  ArgumentRangeError,
  ArgumentTypeError,
  CudaError,
  ErrorCode,
  NativeLoadError,
  OnnxError,
  TensorRTError,
  TensorRTNodeError,
  createError,
  isTensorRTNodeError,
  withCallerStack,
} from '../../lib/core/errors.js';
import { abortError, asAbortOf } from '../../lib/core/abort.js';

describe('error family', () => {
  it('every member is an instance of TensorRTNodeError, whatever its built-in base', () => {
    const members = [
      new TensorRTNodeError(ErrorCode.TIMEOUT, 'late'),
      new CudaError(ErrorCode.CUDA, 'cuda'),
      new TensorRTError(ErrorCode.TENSORRT, 'trt'),
      new OnnxError(ErrorCode.ONNX, 'onnx'),
      new NativeLoadError('no addon', []),
      new ArgumentTypeError('wrong type'),
      new ArgumentRangeError('wrong value'),
    ];
    for (const member of members) {
      expect(member).toBeInstanceOf(TensorRTNodeError);
      expect(isTensorRTNodeError(member)).toBe(true);
      expect(typeof member.code).toBe('string');
    }
    expect(new ArgumentTypeError('x')).toBeInstanceOf(TypeError);
    expect(new ArgumentRangeError('x')).toBeInstanceOf(RangeError);
  });

  it('subclasses keep ordinary instanceof semantics', () => {
    expect(new TensorRTError(ErrorCode.TENSORRT, 'x')).not.toBeInstanceOf(CudaError);
    expect(new ArgumentTypeError('x')).not.toBeInstanceOf(CudaError);
    expect(new Error('plain')).not.toBeInstanceOf(TensorRTNodeError);
    expect(isTensorRTNodeError({ code: 'ERR_TIMEOUT' })).toBe(false);
  });

  it('names errors after their class and keeps the cause', () => {
    const cause = new Error('root');
    const error = new CudaError(ErrorCode.CUDA_DRIVER, 'no driver', {
      cause,
      cudaError: { code: 35, name: 'cudaErrorInsufficientDriver' },
    });
    expect(error.name).toBe('CudaError');
    expect(error.cause).toBe(cause);
    expect(error.cudaError).toEqual({ code: 35, name: 'cudaErrorInsufficientDriver' });
    expect(String(error)).toBe('CudaError: no driver');
  });

  it('createError picks the class from the code and kind', () => {
    expect(createError('ERR_CUDA_DRIVER', 'm')).toBeInstanceOf(CudaError);
    expect(createError('ERR_NO_CUDA_DEVICE', 'm')).toBeInstanceOf(CudaError);
    expect(createError('ERR_TENSORRT_NOT_FOUND', 'm')).toBeInstanceOf(TensorRTError);
    expect(createError('ERR_ENGINE_INCOMPATIBLE', 'm')).toBeInstanceOf(TensorRTError);
    expect(createError('ERR_ONNX', 'm')).toBeInstanceOf(OnnxError);
    expect(createError('ERR_INVALID_ARGUMENT', 'm', 'type')).toBeInstanceOf(ArgumentTypeError);
    expect(createError('ERR_SHAPE', 'm', 'range')).toBeInstanceOf(ArgumentRangeError);
    expect(createError('ERR_SHAPE', 'm', 'range').code).toBe('ERR_SHAPE');
    const anyWithCuda = createError('ERR_OUT_OF_MEMORY', 'm', 'generic', {
      cudaError: { code: 2, name: 'cudaErrorMemoryAllocation' },
    });
    expect(anyWithCuda).toBeInstanceOf(CudaError);
  });

  it('an unknown code from native code becomes ERR_INTERNAL rather than an unlisted code', () => {
    expect(createError('ERR_SOMETHING_NEW', 'm').code).toBe('ERR_INTERNAL');
  });

  it('withCallerStack appends the call site to an async failure', async () => {
    async function failLater(): Promise<never> {
      await new Promise((resolve) => setTimeout(resolve, 1));
      throw new TensorRTError(ErrorCode.TENSORRT, 'failed on a worker');
    }
    async function userCode() {
      return withCallerStack(() => failLater());
    }
    const error = await userCode().catch((caught: Error) => caught);
    expect(error).toBeInstanceOf(TensorRTError);
    expect(error.stack).toContain('--- async call site ---');
    expect(error.stack).toContain('userCode');
  });
});

describe('abortError: the one ERR_ABORTED', () => {
  it('names what was aborted, when it matters, and the reason the caller gave, kept as cause', () => {
    const why = new Error('client went away');
    const error = abortError('The run', AbortSignal.abort(why));
    expect(error).toBeInstanceOf(TensorRTNodeError);
    expect(error).toMatchObject({ code: 'ERR_ABORTED', message: 'The run was aborted (client went away)', cause: why });
    expect(abortError('Engine.load', AbortSignal.abort('shutting down')).message).toBe('Engine.load was aborted (shutting down)');
    expect(abortError('ExecutionContext.run', AbortSignal.abort(), 'before it started').message).toBe(
      'ExecutionContext.run was aborted before it started',
    );
  });

  it("is an AbortError (err.name === 'AbortError', as Node's own aborts) that stays in the family with code ERR_ABORTED", () => {
    const why = new Error('client went away');
    const error = abortError('The run', AbortSignal.abort(why));
    expect(error.name).toBe('AbortError');
    expect(error).toBeInstanceOf(AbortError);
    expect(error).toBeInstanceOf(TensorRTNodeError);
    expect(error.code).toBe('ERR_ABORTED');
    expect(error.cause).toBe(why);
    // Native code raises ERR_ABORTED through createError: the same class and name.
    const native = createError('ERR_ABORTED', 'The engine build was aborted');
    expect(native).toBeInstanceOf(AbortError);
    expect(native.name).toBe('AbortError');
    // ...and the layer that holds the signal gives it the reason.
    const given = asAbortOf(native, 'buildEngine', AbortSignal.abort('shutting down')) as AbortError;
    expect(given).toMatchObject({
      name: 'AbortError',
      code: 'ERR_ABORTED',
      message: 'buildEngine was aborted (shutting down)',
      cause: 'shutting down',
    });
    const other = new TensorRTNodeError(ErrorCode.TIMEOUT, 'late');
    expect(asAbortOf(other, 'buildEngine', AbortSignal.abort())).toBe(other);
  });

  it("leaves out the default reason, which says nothing more than 'was aborted', but keeps it as cause", () => {
    const signal = AbortSignal.abort();
    const error = abortError('buildEngine', signal);
    expect(error.message).toBe('buildEngine was aborted');
    expect(error.cause).toBe(signal.reason);
    expect(abortError('Calibration').cause).toBeUndefined();
  });
});
