// Emulated streams: each stream owns a worker thread that runs its operations in submission order,
// truly asynchronously to the thread that enqueued them. A stream being captured records its
// operations into a graph instead of running them (addresses and parameters baked in, as CUDA does).
// EMULATION, NOT A GPU (see hooks.h).
#pragma once

#include <cuda_runtime_api.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace trt_node::emulated {

struct OperationContext {
  int device;
  uint64_t streamId;
};

// One unit of stream work. `work` operations (copies, memsets, kernels, host functions) are what the
// latency setting delays, what injected failures hit and what the counters count; bookkeeping
// (event records and waits, stream-ordered frees) runs regardless and as soon as it is reached.
struct Operation {
  std::string name;
  bool work = true;
  // Runs on the worker. Returns an error to report (a sticky one poisons the device).
  std::function<cudaError_t(const OperationContext&)> run;
  // Bookkeeping that must happen even on a poisoned device (an event record completes, with the error).
  bool runsOnPoisonedDevice = false;
};
using OperationPtr = std::shared_ptr<const Operation>;

struct GraphBody {
  int device = 0;
  std::vector<OperationPtr> nodes;
};

}  // namespace trt_node::emulated

struct CUstream_st : std::enable_shared_from_this<CUstream_st> {
 public:
  CUstream_st(int device, int priority, unsigned flags, bool legacy);
  ~CUstream_st();
  CUstream_st(const CUstream_st&) = delete;
  CUstream_st& operator=(const CUstream_st&) = delete;

  int device() const noexcept { return device_; }
  int priority() const noexcept { return priority_; }
  unsigned flags() const noexcept { return flags_; }
  uint64_t id() const noexcept { return id_; }
  bool legacy() const noexcept { return legacy_; }

  void Start();  // starts the worker (it keeps this object alive until it ends)
  // Runs the operation on the worker, or records it when capturing. Errors: the capture's.
  cudaError_t Submit(trt_node::emulated::OperationPtr operation);
  // Several operations with nothing in between (a graph launch).
  cudaError_t SubmitAll(const std::vector<trt_node::emulated::OperationPtr>& operations);
  // No more operations; the worker ends after running the queued ones.
  void Close();

  // Waits for everything submitted so far; returns the first error reported since the last wait
  // (the device's sticky error first).
  cudaError_t Synchronize();
  // cudaSuccess when idle, cudaErrorNotReady while work is queued or running (or a pending error).
  cudaError_t Query();
  // A mark for "everything submitted so far" and a wait for it (used by device-wide syncs).
  uint64_t submitted() const;
  void WaitFor(uint64_t mark);
  int64_t executed() const noexcept;

  // The non-sticky error that the next event record or synchronization reports, taken once.
  cudaError_t TakePendingError();

  // Capture (cudaStreamBeginCapture ... cudaStreamEndCapture).
  cudaError_t BeginCapture(cudaStreamCaptureMode mode);
  cudaError_t EndCapture(std::shared_ptr<trt_node::emulated::GraphBody>* graph);
  cudaStreamCaptureStatus captureStatus() const;
  // An operation that cannot be captured was attempted: the capture fails at its end, as in CUDA.
  void InvalidateCapture();

 private:
  void Run();
  void Execute(const trt_node::emulated::Operation& operation);

  const int device_;
  const int priority_;
  const unsigned flags_;
  const bool legacy_;
  const uint64_t id_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;     // the worker: new operations or closed
  std::condition_variable drained_;  // waiters: executed_ moved
  std::deque<trt_node::emulated::OperationPtr> queue_;
  uint64_t submitted_ = 0;
  uint64_t executed_ = 0;
  bool closed_ = false;
  bool started_ = false;
  cudaError_t pendingError_ = cudaSuccess;

  cudaStreamCaptureStatus captureStatus_ = cudaStreamCaptureStatusNone;
  cudaStreamCaptureMode captureMode_ = cudaStreamCaptureModeGlobal;
  std::thread::id captureThread_;
  std::shared_ptr<trt_node::emulated::GraphBody> capture_;
};

namespace trt_node::emulated {

// Handles: the runtime knows every live stream, so a destroyed or invented handle is refused
// (cudaErrorInvalidResourceHandle) instead of being dereferenced.
std::shared_ptr<CUstream_st> CreateStream(int device, int priority, unsigned flags);
// nullptr, cudaStreamLegacy and cudaStreamPerThread name the current device's default stream
// (emulated as one more stream; it does not synchronize with blocking streams).
std::shared_ptr<CUstream_st> FindStream(cudaStream_t handle);
bool DestroyStream(cudaStream_t handle);
// Every live stream of `device` (-1: all), for device-wide synchronization.
std::vector<std::shared_ptr<CUstream_st>> StreamsOf(int device);

// cudaErrorStreamCaptureUnsupported (and the capture invalidated) when this thread has a capture open:
// for the calls that may synchronize implicitly (cudaMalloc, cudaMemcpy, cudaFree, syncs, ...).
cudaError_t RefuseDuringCapture();

// Waits for everything submitted so far to the streams of `device` (-1: all devices).
cudaError_t SynchronizeDevice(int device);

}  // namespace trt_node::emulated
