// RAII over a CUDA stream. Streams are created non-blocking (no implicit synchronization with the
// legacy default stream, which other libraries in the process may use) and with a priority.
#pragma once

#include <cuda_runtime_api.h>

namespace trt_node::cuda {

class Stream {
 public:
  // `priority` must lie in the device's range (QueryStreamPriorityRange): lower numbers run first.
  Stream(int device, int priority);
  ~Stream();  // cudaStreamDestroy returns at once; CUDA frees the stream after its pending work
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  Stream(Stream&&) = delete;
  Stream& operator=(Stream&&) = delete;

  cudaStream_t get() const noexcept { return stream_; }
  int device() const noexcept { return device_; }
  int priority() const noexcept { return priority_; }

 private:
  int device_;
  int priority_;
  cudaStream_t stream_ = nullptr;
};

}  // namespace trt_node::cuda
