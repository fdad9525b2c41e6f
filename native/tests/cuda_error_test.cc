// CUDA pieces that need no GPU: the error mapping, message format, UUID formatting, the bandwidth
// formula, and what the runtime says without a driver (skipped where a driver exists).
#include "cuda/cuda_error.h"

#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <string>

#include "cuda/device.h"
#include "cuda/runtime_probe.h"

namespace trt_node::cuda {
namespace {

TEST(CudaError, MapsTheErrorsUsersActOnToTheirOwnCodes) {
  EXPECT_STREQ(ClassifyCudaError(35).code, "ERR_CUDA_DRIVER");
  EXPECT_STREQ(ClassifyCudaError(100).code, "ERR_NO_CUDA_DEVICE");
  EXPECT_STREQ(ClassifyCudaError(2).code, "ERR_OUT_OF_MEMORY");
  EXPECT_STREQ(ClassifyCudaError(101).code, "ERR_INVALID_ARGUMENT");
  EXPECT_EQ(ClassifyCudaError(101).kind, ErrorKind::kRange);
  EXPECT_STREQ(ClassifyCudaError(1).code, "ERR_CUDA");
  EXPECT_EQ(ClassifyCudaError(1).kind, ErrorKind::kGeneric);
  // Sticky errors (the process must restart to use the device again) have their own code.
  for (int sticky : {226, 700, 702, 710, 714, 715, 716, 717, 718, 719, 721, 810, 911}) {
    EXPECT_STREQ(ClassifyCudaError(sticky).code, "ERR_CUDA_STICKY") << sticky;
  }
  EXPECT_STREQ(ClassifyCudaError(701).code, "ERR_CUDA") << "out of resources is not sticky";
}

TEST(CudaError, CarriesTheCudaNameAndAReadableMessage) {
  const NativeError error = CudaFailure(cudaErrorInsufficientDriver, "cudaGetDeviceCount");
  EXPECT_EQ(error.code(), "ERR_CUDA_DRIVER");
  // The description is the runtime's own (the emulated device words it differently from cudart).
  EXPECT_EQ(std::string(error.what()), std::string("cudaGetDeviceCount failed: ") +
                                           cudaGetErrorString(cudaErrorInsufficientDriver) +
                                           " (cudaErrorInsufficientDriver, error 35); run `npx tensorrt-node doctor` "
                                           "for the fix");
  ASSERT_TRUE(error.cudaError().has_value());
  EXPECT_EQ(error.cudaError()->code, 35);
  EXPECT_EQ(error.cudaError()->name, "cudaErrorInsufficientDriver");

  const NativeError oom = CudaFailure(cudaErrorMemoryAllocation, "cudaMallocAsync");
  EXPECT_EQ(oom.code(), "ERR_OUT_OF_MEMORY");
  EXPECT_EQ(std::string(oom.what()), std::string("cudaMallocAsync failed: ") +
                                         cudaGetErrorString(cudaErrorMemoryAllocation) +
                                         " (cudaErrorMemoryAllocation, error 2)");

  const NativeError device = CudaFailure(cudaErrorInvalidDevice, "cudaSetDevice");
  EXPECT_EQ(device.kind(), ErrorKind::kRange);
  EXPECT_EQ(device.cudaError()->name, "cudaErrorInvalidDevice");
}

TEST(CudaError, CudaCheckThrowsOnlyOnFailure) {
  EXPECT_NO_THROW(CudaCheck(cudaSuccess, "nothing"));
  EXPECT_THROW(CudaCheck(cudaErrorLaunchFailure, "a kernel"), NativeError);
}

TEST(DeviceMath, FormatsUuidsLikeNvidiaSmi) {
  const unsigned char bytes[16] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0,
                                   0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
  EXPECT_EQ(FormatUuid(bytes), "GPU-12345678-9abc-def0-0123-456789abcdef");
}

TEST(DeviceMath, TheoreticalBandwidthIsDoubleDataRateTimesBusWidth) {
  // H100 SXM5: 2619 MHz HBM3 on a 5120-bit bus -> 3.35 TB/s.
  EXPECT_DOUBLE_EQ(TheoreticalBandwidthBytesPerSecond(2619000, 5120), 2.0 * 2619000e3 * 640);
  // RTX 4090: 10501 MHz GDDR6X on a 384-bit bus -> 1.008 TB/s.
  EXPECT_NEAR(TheoreticalBandwidthBytesPerSecond(10501000, 384) / 1e12, 1.008, 0.001);
  EXPECT_EQ(TheoreticalBandwidthBytesPerSecond(0, 384), 0.0);
}

TEST(DeviceQueries, WithoutADriverEveryQueryFailsWithError35AndTheProcessStaysUsable) {
  int driver = 0;
  cudaDriverGetVersion(&driver);
  if (driver != 0) GTEST_SKIP() << "a CUDA driver is installed";
  for (int attempt = 0; attempt < 2; ++attempt) {
    try {
      DeviceCount();
      FAIL() << "expected ERR_CUDA_DRIVER";
    } catch (const NativeError& error) {
      EXPECT_EQ(error.code(), "ERR_CUDA_DRIVER");
      EXPECT_EQ(error.cudaError()->code, 35);
    }
  }
  EXPECT_THROW(QueryDevice(0), NativeError);
  EXPECT_THROW(QueryMemory(0), NativeError);
}

}  // namespace
}  // namespace trt_node::cuda
