#include "cuda/event.h"

#include "cuda/cuda_error.h"
#include "cuda/device.h"

namespace trt_node::cuda {

Event::Event(int device, bool timing) : device_(device), timing_(timing) {
  ScopedDevice scoped(device);
  const unsigned flags = cudaEventBlockingSync | (timing ? 0u : static_cast<unsigned>(cudaEventDisableTiming));
  CudaCheck(cudaEventCreateWithFlags(&event_, flags), "cudaEventCreateWithFlags");
}

Event::~Event() {
  if (event_ != nullptr) cudaEventDestroy(event_);
  cudaGetLastError();
}

void Event::Record(cudaStream_t stream) { CudaCheck(cudaEventRecord(event_, stream), "cudaEventRecord"); }

bool Event::Query() const {
  const cudaError_t status = cudaEventQuery(event_);
  if (status == cudaErrorNotReady) {
    cudaGetLastError();
    return false;
  }
  CudaCheck(status, "cudaEventQuery");
  return true;
}

float Event::ElapsedMilliseconds(const Event& start, const Event& end) {
  float milliseconds = 0;
  CudaCheck(cudaEventElapsedTime(&milliseconds, start.event_, end.event_), "cudaEventElapsedTime");
  return milliseconds;
}

}  // namespace trt_node::cuda
