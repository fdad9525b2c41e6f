// native/cuda running on the emulated device (EMULATION, NOT A GPU): device selection, stream
// executors, buffers, and how CUDA errors reach the layer above.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <thread>

#include "cuda/device.h"
#include "emulated/cuda/hooks.h"

namespace trt_node::cuda {
namespace {

// The context current on this thread, as the driver says (the emulated device answers too).
void* CurrentContext() {
  void* symbol = nullptr;
  cudaDriverEntryPointQueryResult found = cudaDriverEntryPointSymbolNotFound;
  if (cudaGetDriverEntryPointByVersion("cuCtxGetCurrent", &symbol, 12000, cudaEnableDefault, &found) != cudaSuccess ||
      found != cudaDriverEntryPointSuccess) {
    return nullptr;
  }
  void* context = nullptr;
  reinterpret_cast<int (*)(void**)>(symbol)(&context);
  return context;
}

// Issue 14, defect 6: a thread with no context current used to get device 0 "restored", which
// creates a context on GPU 0 (hundreds of MB) for work that only ever touched GPU N.
TEST(EmulatedScopedDevice, WithNoContextCurrentItLeavesDeviceNSelectedInsteadOfCreatingOneOnDevice0) {
  int after = -1;
  void* contextBefore = reinterpret_cast<void*>(1);
  void* contextAfter = nullptr;
  void* contextOfDevice2 = nullptr;
  std::thread([&] {  // a fresh thread: nothing current, cudaGetDevice says 0
    contextBefore = CurrentContext();
    {
      ScopedDevice scoped(2);
      contextOfDevice2 = CurrentContext();
    }
    cudaGetDevice(&after);
    contextAfter = CurrentContext();
  })
      .join();
  EXPECT_EQ(contextBefore, nullptr);
  EXPECT_EQ(after, 2) << "device 0 was selected again, which creates its context";
  EXPECT_EQ(contextAfter, contextOfDevice2);
}

TEST(EmulatedScopedDevice, WithAContextCurrentItRestoresThePreviousDevice) {
  int after = -1;
  std::thread([&] {
    ASSERT_EQ(cudaSetDevice(1), cudaSuccess);
    { ScopedDevice scoped(2); }
    cudaGetDevice(&after);
  }).join();
  EXPECT_EQ(after, 1);
}

}  // namespace
}  // namespace trt_node::cuda
