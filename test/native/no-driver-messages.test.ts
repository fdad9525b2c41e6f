/**
 * On a machine without an NVIDIA driver (libcuda.so.1 missing), every place that says why CUDA
 * cannot run says so in doctor's words: capabilities() (and so `session.backendReason`, `bench` and
 * `start`), errors raised by native code, and the tensorrt backend asked for by name. CUDA's own
 * text for its error 35, "CUDA driver version is insufficient", never reaches the user there.
 */
import { describe, expect, it } from 'vitest';
import { capabilities } from '../../lib/addon/capabilities.js';
import { CudaError, ErrorCode, TensorRTNodeError } from '../../lib/core/errors.js';
import * as cuda from '../../lib/cuda/index.js';
import { InferenceSession } from '../../lib/session/inference-session.js';
import { expectError, expectErrorSync } from '../helpers/expect-error.js';
import { addon, cudaCompiled, hasNoDriver } from '../helpers/machine.js';
import { mlpModel } from '../helpers/onnx-fixtures.js';

const noDriver = 'No NVIDIA driver is installed (libcuda.so.1 is missing)';
const driverIsInsufficient = /insufficient/i;
// No kernel driver either (/proc/driver/nvidia/version): the plain "no driver" wording applies.
const bareMachine = cudaCompiled && hasNoDriver;

describe.runIf(bareMachine)('without an NVIDIA driver, one wording everywhere', () => {
  it("capabilities(): the diagnosis, the problem and the tensorrt backend's reason", async () => {
    const caps = await capabilities();
    expect(caps.cuda.error?.code).toBe(35); // CUDA's report stays, as data
    expect(caps.cuda.diagnosis).toMatchObject({ kind: 'no-driver', message: noDriver });
    expect(caps.backends.tensorrt.reason).toBe(noDriver);
    expect(caps.problems.find((problem) => problem.area === 'cuda')?.message).toBe(`${noDriver}.`);
    for (const problem of caps.problems) expect(`${problem.message} ${problem.fix}`).not.toMatch(driverIsInsufficient);
  });

  it('session.backendReason under backend "auto"', async () => {
    await using session = await InferenceSession.create(mlpModel());
    expect(session.backend).toBe('cpu');
    expect(session.backendReason).toBe(`auto: TensorRT is not usable on this machine: ${noDriver}`);
  });

  it('backend "tensorrt" asked for by name fails naming the missing driver', async () => {
    const error = await expectError(
      () => InferenceSession.create(mlpModel(), { backend: 'tensorrt' }),
      TensorRTNodeError,
      ErrorCode.NOT_SUPPORTED,
      new RegExp(
        `^The tensorrt backend cannot run here: TensorRT is not usable on this machine: ${noDriver.replace(/[()]/g, '\\$&')}`,
      ),
    );
    expect(error.message).not.toMatch(driverIsInsufficient);
  });

  it('errors from native code: the bridge words CUDA error 35 from the driver facts', () => {
    const error = expectErrorSync(
      () => cuda.createStream(),
      CudaError,
      'ERR_CUDA_DRIVER',
      `cudaGetDeviceCount failed (CUDA error 35): ${noDriver}; run \`npx tensorrt-node doctor\` for the fix`,
    );
    expect((error as CudaError).cudaError).toEqual({ code: 35, name: 'cudaErrorInsufficientDriver' });
    expect((error as CudaError).details).toEqual({ cudaProblem: 'no-driver' });
    const raised = expectErrorSync(
      () =>
        addon!.throwForTest(
          'ERR_CUDA_DRIVER',
          'cudaSetDevice failed: CUDA driver version is insufficient for CUDA runtime version (cudaErrorInsufficientDriver, error 35)',
          35,
          'cudaErrorInsufficientDriver',
        ),
      CudaError,
      'ERR_CUDA_DRIVER',
      `cudaSetDevice failed (CUDA error 35): ${noDriver}`,
    );
    expect(raised.message).not.toMatch(driverIsInsufficient);
  });
});
