#include "cuda/runtime_probe.h"

#include <cuda_runtime_api.h>

#include <cstdio>

namespace trt_node::cuda {

std::string FormatUuid(const unsigned char bytes[16]) {
  char text[64];
  std::snprintf(text, sizeof(text), "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9],
                bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]);
  return text;
}

RuntimeProbe ProbeRuntime() {
  RuntimeProbe probe;
  cudaRuntimeGetVersion(&probe.runtimeVersion);
  cudaDriverGetVersion(&probe.driverVersion);

  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    probe.error = CudaErrorInfo{static_cast<int>(status), cudaGetErrorName(status)};
    probe.errorMessage = cudaGetErrorString(status);
    cudaGetLastError();  // do not leave a sticky error for the next caller
    return probe;
  }
  probe.deviceCount = count;
  if (count == 0) {
    probe.error = CudaErrorInfo{static_cast<int>(cudaErrorNoDevice), cudaGetErrorName(cudaErrorNoDevice)};
    probe.errorMessage = cudaGetErrorString(cudaErrorNoDevice);
    return probe;
  }
  for (int index = 0; index < count; ++index) {
    cudaDeviceProp props{};
    if (cudaGetDeviceProperties(&props, index) != cudaSuccess) {
      cudaGetLastError();
      continue;
    }
    DeviceSummary device;
    device.index = index;
    device.name = props.name;
    device.uuid = FormatUuid(reinterpret_cast<const unsigned char*>(props.uuid.bytes));
    device.computeMajor = props.major;
    device.computeMinor = props.minor;
    device.totalMemoryBytes = props.totalGlobalMem;
    device.multiProcessorCount = props.multiProcessorCount;
    char busId[32] = {0};
    if (cudaDeviceGetPCIBusId(busId, sizeof(busId), index) == cudaSuccess) device.pciBusId = busId;
    probe.devices.push_back(device);
  }
  return probe;
}

}  // namespace trt_node::cuda
