#include "cuda/buffers.h"

#include <atomic>
#include <utility>

#include "cuda/cuda_error.h"
#include "cuda/device.h"
#include "cuda/stream.h"

namespace trt_node::cuda {
namespace {

std::atomic<int64_t> pinnedBuffers{0};
std::atomic<int64_t> pinnedBytes{0};
std::atomic<int64_t> deviceBuffers{0};
std::atomic<int64_t> deviceBytes{0};

bool MemoryPoolsSupported(int device) {
  int supported = 0;
  if (cudaDeviceGetAttribute(&supported, cudaDevAttrMemoryPoolsSupported, device) != cudaSuccess) {
    cudaGetLastError();
    return false;
  }
  return supported != 0;
}

}  // namespace

PinnedBuffer::PinnedBuffer(size_t bytes) : size_(bytes) {
  if (bytes > 0) {
    CudaCheck(cudaHostAlloc(&data_, bytes, cudaHostAllocPortable | cudaHostAllocMapped), "cudaHostAlloc");
  }
  pinnedBuffers.fetch_add(1);
  pinnedBytes.fetch_add(static_cast<int64_t>(bytes));
}

PinnedBuffer::~PinnedBuffer() {
  if (data_ != nullptr) cudaFreeHost(data_);
  cudaGetLastError();
  pinnedBuffers.fetch_sub(1);
  pinnedBytes.fetch_sub(static_cast<int64_t>(size_));
}

DeviceBuffer::DeviceBuffer(size_t bytes, int device, std::shared_ptr<Stream> stream) : size_(bytes), device_(device) {
  if (bytes > 0) {
    ScopedDevice scoped(device);
    if (stream && stream->device() == device && MemoryPoolsSupported(device)) {
      CudaCheck(cudaMallocAsync(&data_, bytes, stream->get()), "cudaMallocAsync");
      const cudaError_t created = cudaEventCreateWithFlags(&ready_, cudaEventDisableTiming);
      const cudaError_t recorded = created == cudaSuccess ? cudaEventRecord(ready_, stream->get()) : created;
      if (recorded != cudaSuccess) {
        NativeError error = CudaFailure(recorded, created == cudaSuccess ? "cudaEventRecord" : "cudaEventCreate");
        if (ready_ != nullptr) cudaEventDestroy(ready_);
        cudaFreeAsync(data_, stream->get());
        cudaGetLastError();
        throw error;
      }
      stream_ = std::move(stream);
    } else {
      CudaCheck(cudaMalloc(&data_, bytes), "cudaMalloc");
    }
  }
  deviceBuffers.fetch_add(1);
  deviceBytes.fetch_add(static_cast<int64_t>(bytes));
}

DeviceBuffer::~DeviceBuffer() {
  if (data_ != nullptr) {
    if (stream_) {
      // Every job that used this buffer has completed (they hold it until then), so freeing in the
      // allocating stream's order is safe even when the buffer was last used on another stream.
      cudaFreeAsync(data_, stream_->get());
      cudaEventDestroy(ready_);
    } else {
      cudaFree(data_);
    }
  }
  cudaGetLastError();
  deviceBuffers.fetch_sub(1);
  deviceBytes.fetch_sub(static_cast<int64_t>(size_));
}

void DeviceBuffer::OrderBefore(cudaStream_t stream) const {
  if (ready_ == nullptr || (stream_ && stream_->get() == stream)) return;
  CudaCheck(cudaStreamWaitEvent(stream, ready_, 0), "cudaStreamWaitEvent");
}

AllocationStats CurrentAllocationStats() noexcept {
  return AllocationStats{pinnedBuffers.load(), pinnedBytes.load(), deviceBuffers.load(), deviceBytes.load()};
}

void CopyAsync(void* dst, const void* src, size_t bytes, cudaStream_t stream) {
  if (bytes == 0) return;
  CudaCheck(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, stream), "cudaMemcpyAsync");
}

void MemsetAsync(void* dst, int value, size_t bytes, cudaStream_t stream) {
  if (bytes == 0) return;
  CudaCheck(cudaMemsetAsync(dst, value, bytes, stream), "cudaMemsetAsync");
}

}  // namespace trt_node::cuda
