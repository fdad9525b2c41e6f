// Error names and descriptions, and the per-thread last error. The descriptions are the emulation's
// own short wording (prefixed, so a log never passes them off as a driver's).
#include <cuda_runtime_api.h>

#include "emulated/cuda/state.h"

using trt_node::emulated::CurrentThread;
using trt_node::emulated::Runtime;

namespace {

struct ErrorText {
  cudaError_t error;
  const char* name;
  const char* text;
};

#define TRTNODE_ERROR(error, text) \
  { error, #error, "emulated device: " text }
constexpr ErrorText kErrors[] = {
    TRTNODE_ERROR(cudaSuccess, "no error"),
    TRTNODE_ERROR(cudaErrorInvalidValue, "invalid argument"),
    TRTNODE_ERROR(cudaErrorMemoryAllocation, "out of memory"),
    TRTNODE_ERROR(cudaErrorInitializationError, "initialization error"),
    TRTNODE_ERROR(cudaErrorInsufficientDriver, "driver version is insufficient for the runtime version"),
    TRTNODE_ERROR(cudaErrorNoDevice, "no CUDA-capable device is detected"),
    TRTNODE_ERROR(cudaErrorInvalidDevice, "invalid device ordinal"),
    TRTNODE_ERROR(cudaErrorInvalidDevicePointer, "invalid device pointer"),
    TRTNODE_ERROR(cudaErrorInvalidMemcpyDirection, "invalid copy direction"),
    TRTNODE_ERROR(cudaErrorECCUncorrectable, "uncorrectable ECC error"),
    TRTNODE_ERROR(cudaErrorContained, "contained error (sticky)"),
    TRTNODE_ERROR(cudaErrorInvalidResourceHandle, "invalid resource handle"),
    TRTNODE_ERROR(cudaErrorIllegalState, "operation not valid in the current state"),
    TRTNODE_ERROR(cudaErrorSymbolNotFound, "symbol not found"),
    TRTNODE_ERROR(cudaErrorNotReady, "device not ready"),
    TRTNODE_ERROR(cudaErrorIllegalAddress, "an illegal memory access was encountered (sticky)"),
    TRTNODE_ERROR(cudaErrorLaunchOutOfResources, "too many resources requested for launch"),
    TRTNODE_ERROR(cudaErrorLaunchTimeout, "the launch timed out and was terminated (sticky)"),
    TRTNODE_ERROR(cudaErrorAssert, "device-side assert triggered (sticky)"),
    TRTNODE_ERROR(cudaErrorHardwareStackError, "hardware stack error (sticky)"),
    TRTNODE_ERROR(cudaErrorIllegalInstruction, "an illegal instruction was encountered (sticky)"),
    TRTNODE_ERROR(cudaErrorMisalignedAddress, "misaligned address (sticky)"),
    TRTNODE_ERROR(cudaErrorInvalidAddressSpace, "operation not supported on this address space (sticky)"),
    TRTNODE_ERROR(cudaErrorInvalidPc, "invalid program counter (sticky)"),
    TRTNODE_ERROR(cudaErrorLaunchFailure, "unspecified launch failure (sticky)"),
    TRTNODE_ERROR(cudaErrorTensorMemoryLeak, "tensor memory not deallocated (sticky)"),
    TRTNODE_ERROR(cudaErrorNotPermitted, "operation not permitted (CUDA calls from a host function)"),
    TRTNODE_ERROR(cudaErrorNotSupported, "operation not supported"),
    TRTNODE_ERROR(cudaErrorMpsClientTerminated, "MPS client terminated (sticky)"),
    TRTNODE_ERROR(cudaErrorStreamCaptureUnsupported, "operation not permitted when stream is capturing"),
    TRTNODE_ERROR(cudaErrorStreamCaptureInvalidated, "operation failed due to a previous error during capture"),
    TRTNODE_ERROR(cudaErrorStreamCaptureWrongThread, "capture sequence ended in a different thread"),
    TRTNODE_ERROR(cudaErrorTimeout, "wait operation timed out"),
    TRTNODE_ERROR(cudaErrorExternalDevice, "external device error (sticky)"),
    TRTNODE_ERROR(cudaErrorUnknown, "unknown error"),
};
#undef TRTNODE_ERROR

const ErrorText* Lookup(cudaError_t error) {
  for (const ErrorText& entry : kErrors) {
    if (entry.error == error) return &entry;
  }
  return nullptr;
}

}  // namespace

const char* CUDARTAPI cudaGetErrorName(cudaError_t error) {
  const ErrorText* entry = Lookup(error);
  return entry != nullptr ? entry->name : "cudaErrorUnknown";
}

const char* CUDARTAPI cudaGetErrorString(cudaError_t error) {
  const ErrorText* entry = Lookup(error);
  return entry != nullptr ? entry->text : "emulated device: unrecognized error code";
}

// A sticky error is returned again and again: CUDA cannot clear it.
cudaError_t CUDARTAPI cudaGetLastError(void) {
  auto& thread = CurrentThread();
  const cudaError_t last = thread.lastError;
  thread.lastError = cudaSuccess;
  if (Runtime::Get().ValidDevice(thread.device)) {
    if (cudaError_t sticky = Runtime::Get().device(thread.device).sticky(); sticky != cudaSuccess) return sticky;
  }
  return last;
}

cudaError_t CUDARTAPI cudaPeekAtLastError(void) {
  auto& thread = CurrentThread();
  if (Runtime::Get().ValidDevice(thread.device)) {
    if (cudaError_t sticky = Runtime::Get().device(thread.device).sticky(); sticky != cudaSuccess) return sticky;
  }
  return thread.lastError;
}
