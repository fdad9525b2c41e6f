#include "cuda/stream.h"

#include "cuda/cuda_error.h"
#include "cuda/device.h"

namespace trt_node::cuda {

Stream::Stream(int device, int priority) : device_(device), priority_(priority) {
  ScopedDevice scoped(device);
  CudaCheck(cudaStreamCreateWithPriority(&stream_, cudaStreamNonBlocking, priority), "cudaStreamCreateWithPriority");
}

Stream::~Stream() {
  if (stream_ != nullptr) cudaStreamDestroy(stream_);
  cudaGetLastError();
}

}  // namespace trt_node::cuda
