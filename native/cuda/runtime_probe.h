// What the CUDA runtime and driver say about this machine, without throwing: capabilities() and
// `doctor` must describe a broken or absent driver, not fail on it.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"

namespace trt_node::cuda {

struct DeviceSummary {
  int index = 0;
  std::string name;
  std::string uuid;  // "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", as nvidia-smi prints it
  int computeMajor = 0;
  int computeMinor = 0;
  size_t totalMemoryBytes = 0;
  int multiProcessorCount = 0;
  std::string pciBusId;  // "0000:3B:00.0"
};

struct RuntimeProbe {
  int runtimeVersion = 0;  // 13000 for CUDA 13.0
  int driverVersion = 0;   // 0 when no driver is installed
  int deviceCount = 0;
  std::optional<CudaErrorInfo> error;  // why devices cannot be used, when they cannot
  std::string errorMessage;            // cudaGetErrorString() of that error
  std::vector<DeviceSummary> devices;
};

RuntimeProbe ProbeRuntime();

// Formats a 16-byte CUDA UUID the way nvidia-smi does.
std::string FormatUuid(const unsigned char bytes[16]);

}  // namespace trt_node::cuda
