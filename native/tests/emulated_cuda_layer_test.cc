// native/cuda running on the emulated device (EMULATION, NOT A GPU): device selection, stream
// executors, buffers, and how CUDA errors reach the layer above.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <future>
#include <string>
#include <thread>

#include "core/error.h"
#include "cuda/cuda_error.h"
#include "cuda/device.h"
#include "cuda/stream_executor.h"
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

std::string CodeOf(std::exception_ptr error) {
  if (!error) return "";
  try {
    std::rethrow_exception(error);
  } catch (const NativeError& native) {
    return native.code() + ": " + native.what();
  } catch (...) {
    return "other";
  }
}

// Sticky CUDA errors (issue 14): the job that hits one reports ERR_CUDA_STICKY, and from then on
// the device gets no work: submissions, streams and allocations for it fail at once, saying that
// the process must restart. Device 4 is this test's own: a sticky error lasts for the process.
TEST(EmulatedStickyError, MarksTheDeviceLostAndRefusesFurtherWorkForItOnly) {
  StreamExecutor executor(4, 0);
  ASSERT_EQ(trtnodeEmulatedFailOperation(4, cudaErrorIllegalAddress, 1), 0);
  std::promise<std::string> failed;
  int source = 1, destination = 0;
  executor.Submit(
      [&](cudaStream_t stream) {
        CudaCheck(cudaMemcpyAsync(&destination, &source, sizeof(int), cudaMemcpyDefault, stream), "cudaMemcpyAsync");
      },
      [&](std::exception_ptr error) { failed.set_value(CodeOf(error)); });
  const std::string outcome = failed.get_future().get();
  EXPECT_EQ(outcome.rfind("ERR_CUDA_STICKY: ", 0), 0u) << outcome;
  EXPECT_NE(outcome.find("device 4 unusable until the process restarts"), std::string::npos) << outcome;

  try {
    executor.Submit([](cudaStream_t) {}, [](std::exception_ptr) {});
    FAIL() << "a lost device must refuse work";
  } catch (const NativeError& error) {
    EXPECT_EQ(error.code(), "ERR_CUDA_STICKY");
    EXPECT_NE(std::string(error.what()).find("Restart the process to use this GPU again"), std::string::npos);
    ASSERT_TRUE(error.cudaError().has_value());
    EXPECT_EQ(error.cudaError()->code, 700);
  }
  EXPECT_THROW(ScopedDevice scoped(4), NativeError);
  EXPECT_NO_THROW(ScopedDevice scoped(3)) << "other devices stay usable";
  executor.Shutdown();
}

}  // namespace
}  // namespace trt_node::cuda
