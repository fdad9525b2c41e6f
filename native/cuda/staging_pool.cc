#include "cuda/staging_pool.h"

#include <algorithm>
#include <utility>

namespace trt_node::cuda {

GrowablePinned::~GrowablePinned() {
  if (buffer_ && release_) Retire();
}

void GrowablePinned::Retire() {
  // std::function needs a copyable target: the buffer travels as the only shared_ptr to it.
  release_([retired = std::shared_ptr<PinnedBuffer>(std::move(buffer_))]() mutable { retired.reset(); });
}

void* GrowablePinned::Reserve(size_t bytes) {
  if (buffer_ && buffer_->size() >= bytes && buffer_->data() != nullptr) return buffer_->data();
  // Grow by half again, so a slowly growing dynamic shape does not reallocate on every run.
  size_t wanted = AlignStaging(bytes == 0 ? 1 : bytes);
  if (buffer_) wanted = std::max(wanted, AlignStaging(buffer_->size() + buffer_->size() / 2));
  auto grown = std::make_unique<PinnedBuffer>(wanted);
  if (buffer_ && release_) Retire();
  buffer_ = std::move(grown);
  return buffer_->data();
}

std::shared_ptr<StagingPool> StagingPool::Create(ReleaseOffThreadFn release) {
  return std::shared_ptr<StagingPool>(new StagingPool(std::move(release)));
}

StagingPool::~StagingPool() = default;  // arenas hand their buffers to `release_`

std::shared_ptr<StagingArena> StagingPool::Take() {
  std::unique_ptr<StagingArena> arena;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!free_.empty()) {
      arena = std::move(free_.back());
      free_.pop_back();
    } else {
      ++created_;
    }
  }
  if (!arena) arena = std::make_unique<StagingArena>(release_);
  // The deleter holds the pool, so the pool outlives every arena handed out.
  return std::shared_ptr<StagingArena>(arena.release(),
                                       [pool = shared_from_this()](StagingArena* returned) { pool->Return(returned); });
}

void StagingPool::Return(StagingArena* arena) {
  std::unique_ptr<StagingArena> owned(arena);
  try {
    std::lock_guard<std::mutex> lock(mutex_);
    free_.push_back(std::move(owned));
  } catch (...) {
    // Out of memory for the free list: the arena is freed instead (through release_).
  }
}

size_t StagingPool::arenas() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return created_;
}

}  // namespace trt_node::cuda
