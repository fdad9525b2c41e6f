// RAII over pinned host memory and device memory. Both are non-copyable, non-movable handles that
// are shared (std::shared_ptr) between their JavaScript wrapper and every in-flight job that reads
// or writes them, so memory is freed only after the last GPU operation using it has completed.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <memory>

namespace trt_node::cuda {

class Stream;

// Page-locked host memory from cudaHostAlloc (portable: usable with every device; mapped: kernels
// can read it directly). Copies from and to it are truly asynchronous and need no staging copy.
class PinnedBuffer {
 public:
  explicit PinnedBuffer(size_t bytes);  // zero bytes allocates nothing
  ~PinnedBuffer();                      // cudaFreeHost synchronizes the device: never run it on the JS thread
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  PinnedBuffer(PinnedBuffer&&) = delete;
  PinnedBuffer& operator=(PinnedBuffer&&) = delete;

  void* data() const noexcept { return data_; }
  size_t size() const noexcept { return size_; }

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
};

// Device memory. With a stream on a device that supports memory pools, it is a stream-ordered
// allocation (cudaMallocAsync on that stream, freed with cudaFreeAsync): no device-wide
// synchronization on allocation or free. Otherwise cudaMalloc/cudaFree.
class DeviceBuffer {
 public:
  DeviceBuffer(size_t bytes, int device, std::shared_ptr<Stream> stream);
  ~DeviceBuffer();
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&&) = delete;
  DeviceBuffer& operator=(DeviceBuffer&&) = delete;

  void* data() const noexcept { return data_; }
  size_t size() const noexcept { return size_; }
  int device() const noexcept { return device_; }
  bool streamOrdered() const noexcept { return ready_ != nullptr; }

  // Makes `stream` wait until the allocation is usable there. A stream-ordered allocation is usable
  // on its own stream right away and on other streams only after this (the first use elsewhere).
  void OrderBefore(cudaStream_t stream) const;

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
  int device_;
  std::shared_ptr<Stream> stream_;  // the allocating stream, kept alive for cudaFreeAsync
  cudaEvent_t ready_ = nullptr;     // recorded on that stream right after cudaMallocAsync
};

// Live allocations of this process (all environments), for tests and diagnostics.
struct AllocationStats {
  int64_t pinnedBuffers = 0;
  int64_t pinnedBytes = 0;
  int64_t deviceBuffers = 0;
  int64_t deviceBytes = 0;
};
AllocationStats CurrentAllocationStats() noexcept;

// Stream-ordered copy of `bytes` between any two addresses CUDA knows (host, pinned, device:
// cudaMemcpyDefault relies on unified addressing, which every 64-bit platform CUDA 12+ supports).
void CopyAsync(void* dst, const void* src, size_t bytes, cudaStream_t stream);
// Stream-ordered memset of device memory or of mapped pinned memory.
void MemsetAsync(void* dst, int value, size_t bytes, cudaStream_t stream);

}  // namespace trt_node::cuda
