// The staging pool's bookkeeping needs no GPU: arenas are handed out one per run, come back when
// the last reference drops, and are reused; frees go through the release callback. Allocating
// pinned memory needs a driver: without one, the failure is the usual typed CUDA error.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include "core/error.h"
#include "cuda/staging_pool.h"

namespace trt_node::cuda {
namespace {

TEST(StagingPool, HandsOutOneArenaPerRunAndReusesThemOnceReturned) {
  int released = 0;
  auto pool = StagingPool::Create([&released](std::function<void()> task) {
    ++released;
    task();
  });
  StagingArena* first = nullptr;
  {
    auto a = pool->Take();
    auto b = pool->Take();  // a concurrent run never shares host memory
    EXPECT_NE(a.get(), b.get());
    first = a.get();
    EXPECT_EQ(pool->arenas(), 2u);
  }
  auto again = pool->Take();
  EXPECT_EQ(again.get(), first);  // the last one returned is handed out first (still warm)
  EXPECT_EQ(pool->arenas(), 2u);  // reused, not grown
  EXPECT_EQ(released, 0);         // nothing was allocated, so nothing to free
}

TEST(StagingPool, ThePoolOutlivesEveryArenaHandedOut) {
  std::shared_ptr<StagingArena> arena;
  {
    auto pool = StagingPool::Create([](std::function<void()> task) { task(); });
    arena = pool->Take();
  }
  arena.reset();  // returns to the pool the arena kept alive; must not crash
  SUCCEED();
}

TEST(StagingPool, WithoutADriverGrowingIsATypedCudaError) {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaErrorInsufficientDriver) GTEST_SKIP() << "a CUDA driver is installed";
  cudaGetLastError();
  auto pool = StagingPool::Create([](std::function<void()> task) { task(); });
  auto arena = pool->Take();
  try {
    arena->inputs.Reserve(1024);
    FAIL() << "expected a NativeError";
  } catch (const NativeError& error) {
    EXPECT_EQ(error.code(), "ERR_CUDA_DRIVER");
  }
  EXPECT_EQ(arena->inputs.capacity(), 0u);
}

}  // namespace
}  // namespace trt_node::cuda
