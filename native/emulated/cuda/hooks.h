// Test hooks of the emulated CUDA device (libtrtnode_emulated_cudart.so). C linkage, `trtnodeEmulated`
// prefix: the emulated addon, the fake TensorRT library and the GoogleTest suite all call the one
// shared library, so they see one emulated device.
//
// EMULATION, NOT A GPU: this library implements the subset of the CUDA runtime API that tensorrt-node
// calls, on the host, with one worker thread per stream. It proves plumbing, lifetimes and protocol
// (ordering, events, captures, use after free); it says nothing about GPU numerics or speed.
#pragma once

#include <cuda_runtime_api.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TRTNODE_EMULATED_API __attribute__((visibility("default")))

// "tensorrt-node emulated device (no GPU)": the name every emulated device reports.
TRTNODE_EMULATED_API const char* trtnodeEmulatedDeviceName(void);

// Number of emulated devices (1 to 8; default 1, or TRTNODE_EMULATED_DEVICE_COUNT at load). Changing it
// is refused (cudaErrorInvalidValue) once a stream or an allocation exists.
TRTNODE_EMULATED_API int trtnodeEmulatedSetDeviceCount(int count);

// A counter of `device` (-1: all devices together), or -1 for an unknown name:
//   contextsCreated          primary contexts initialised (0 or 1 per device and process)
//   liveDeviceAllocations, liveDeviceBytes, livePinnedAllocations, livePinnedBytes
//   liveStreams, liveEvents, liveGraphs, liveGraphExecs
//   operationsExecuted       copies, memsets, kernels, host functions run by the stream workers
//   hostFunctionsExecuted, graphLaunches
//   memoryViolations         accesses to freed, out-of-range or host-only memory caught by the workers
//   stickyError              the device's sticky error (0 while it is healthy)
TRTNODE_EMULATED_API int64_t trtnodeEmulatedCounter(const char* name, int device);

// Operations executed so far by one stream's worker (-1 for an unknown stream).
TRTNODE_EMULATED_API int64_t trtnodeEmulatedStreamOperations(cudaStream_t stream);

// The `nth` (1 = next) operation executed on `device` from now fails with `error` on the worker, as a
// GPU fault would: a sticky error (700, 719, ...) poisons the device for the rest of the process, any
// other error is reported by the stream's next event or synchronization. 0 for `error` cancels.
TRTNODE_EMULATED_API int trtnodeEmulatedFailOperation(int device, int error, uint64_t nth);

// The `nth` (1 = next) call of the runtime API function `api` (e.g. "cudaMalloc") returns `error`
// synchronously, without doing anything. 0 for `error` cancels.
TRTNODE_EMULATED_API int trtnodeEmulatedFailCall(const char* api, int error, uint64_t nth);

// Every copy, memset, kernel and host function waits this long on its stream's worker before it runs
// (default 0, or TRTNODE_EMULATED_LATENCY_US at load), so that tests can hold work in flight.
TRTNODE_EMULATED_API void trtnodeEmulatedSetLatencyMicroseconds(int64_t microseconds);

// One memory range a kernel reads or writes. The worker checks each against the allocations before
// running the kernel: freed, out-of-range or pageable memory is an illegal address (sticky error 700).
typedef struct TrtnodeEmulatedAccess {
  const void* address;
  size_t bytes;
  int write;
} TrtnodeEmulatedAccess;

typedef void (*TrtnodeEmulatedKernelBody)(const void* params);

// A kernel launch: `params` (trivially copyable, copied now as a real launch copies its arguments) is
// handed to `body` on the stream's worker, which runs the whole grid. Capturable like any launch.
TRTNODE_EMULATED_API cudaError_t trtnodeEmulatedLaunchKernel(cudaStream_t stream, const char* name,
                                                             TrtnodeEmulatedKernelBody body, const void* params,
                                                             size_t paramsBytes, const TrtnodeEmulatedAccess* accesses,
                                                             size_t accessCount);

#ifdef __cplusplus
}
#endif
