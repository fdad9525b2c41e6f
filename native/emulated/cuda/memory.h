// Emulated device and pinned memory: every allocation is its own mmap (page aligned, with a guard
// page after it) recorded in a registry, so copies and kernels can be checked against it when they
// run. Freed memory is made inaccessible (PROT_NONE, pages returned) and kept reserved in a
// quarantine, so that queued work touching it is caught deterministically: by the workers' checks
// (an illegal address, sticky error 700, as on a GPU) or, for anything unchecked, by a SIGSEGV.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>

namespace trt_node::emulated {

enum class MemoryKind { kDevice, kPinned };

struct Allocation {
  uintptr_t base = 0;
  size_t bytes = 0;
  size_t mappedBytes = 0;  // includes the rounding and the guard page
  MemoryKind kind = MemoryKind::kDevice;
  int device = 0;
  bool freed = false;
  const char* freedBy = nullptr;  // "cudaFree", "cudaFreeAsync", "cudaFreeHost"
};

struct AccessCheck {
  cudaError_t status = cudaSuccess;
  std::string why;  // set when status is an error
};

class MemoryRegistry {
 public:
  static MemoryRegistry& Get();

  // Throws std::bad_alloc when the host cannot map it (cudaErrorMemoryAllocation).
  void* Allocate(size_t bytes, MemoryKind kind, int device);
  // The live allocation starting exactly at `pointer`, or cudaErrorInvalidValue.
  cudaError_t Find(const void* pointer, MemoryKind kind, Allocation* found) const;
  // Quarantines it (see above). cudaErrorInvalidValue unless `pointer` starts a live allocation of `kind`.
  cudaError_t Free(const void* pointer, MemoryKind kind, const char* freedBy);

  // The allocation containing `pointer` (live or quarantined); false for memory CUDA does not know.
  bool Lookup(const void* pointer, Allocation* found) const;
  // [pointer, pointer + bytes) as used by an operation when it runs. Memory CUDA does not know is
  // accepted (pageable host memory) unless `deviceVisible` (kernels, memsets); freed memory, a range
  // that leaves its allocation, and another device's memory under a kernel never are.
  AccessCheck Check(const void* pointer, size_t bytes, bool deviceVisible, int streamDevice, const char* role) const;

  int64_t liveCount(MemoryKind kind, int device) const;  // device -1: all
  int64_t liveBytes(MemoryKind kind, int device) const;
  bool empty() const;

 private:
  MemoryRegistry() = default;
  void EvictQuarantineLocked();

  mutable std::mutex mutex_;
  std::map<uintptr_t, Allocation> allocations_;  // by base, live and quarantined
  std::deque<uintptr_t> quarantine_;             // oldest first
  size_t quarantinedBytes_ = 0;
};

}  // namespace trt_node::emulated
