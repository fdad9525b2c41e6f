// Pinned host staging for runs whose inputs come from plain JavaScript memory and whose outputs go
// back to it: the one copy into page-locked memory that makes the H2D copy asynchronous, and the
// D2H landing zone that a fresh JavaScript array is filled from. Each run takes an arena from the
// pool for its whole life (submit to promise settlement), so concurrent and queued runs never
// share host memory; arenas grow to the largest run seen and are reused, never shrunk.
//
// Frees (cudaFreeHost synchronizes the device) go through `release`, which the N-API layer points
// at its releaser thread: never on the JS thread, wherever the last reference happens to drop.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "cuda/buffers.h"

namespace trt_node::cuda {

using ReleaseOffThreadFn = std::function<void(std::function<void()>)>;

// Pinned memory that grows on demand (old contents are not kept).
class GrowablePinned {
 public:
  explicit GrowablePinned(ReleaseOffThreadFn release) : release_(std::move(release)) {}
  ~GrowablePinned();
  GrowablePinned(const GrowablePinned&) = delete;
  GrowablePinned& operator=(const GrowablePinned&) = delete;

  // At least `bytes` of pinned memory (throws NativeError on allocation failure).
  void* Reserve(size_t bytes);
  size_t capacity() const noexcept { return buffer_ ? buffer_->size() : 0; }

 private:
  void Retire();

  ReleaseOffThreadFn release_;
  std::unique_ptr<PinnedBuffer> buffer_;
};

struct StagingArena {
  explicit StagingArena(const ReleaseOffThreadFn& release) : inputs(release), outputs(release) {}
  GrowablePinned inputs;
  GrowablePinned outputs;
};

class StagingPool : public std::enable_shared_from_this<StagingPool> {
 public:
  static std::shared_ptr<StagingPool> Create(ReleaseOffThreadFn release);
  ~StagingPool();
  StagingPool(const StagingPool&) = delete;
  StagingPool& operator=(const StagingPool&) = delete;

  // An arena for one run; it returns to the pool when the last reference drops (any thread).
  std::shared_ptr<StagingArena> Take();
  size_t arenas() const;

 private:
  explicit StagingPool(ReleaseOffThreadFn release) : release_(std::move(release)) {}
  void Return(StagingArena* arena);

  ReleaseOffThreadFn release_;
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<StagingArena>> free_;
  size_t created_ = 0;
};

// Rounds up to the alignment TensorRT and the copy engines like best.
constexpr size_t AlignStaging(size_t bytes) noexcept { return (bytes + 255) & ~static_cast<size_t>(255); }

}  // namespace trt_node::cuda
