// Device selection and device queries. The current device is a per-thread CUDA setting: the JS
// thread selects a device only for the duration of a call (ScopedDevice), and each stream's submit
// and completion threads select their stream's device once when they start.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace trt_node::cuda {

struct DeviceProperties {
  int index = 0;
  std::string name;
  std::string uuid;      // "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", as nvidia-smi prints it
  std::string pciBusId;  // "0000:3B:00.0"
  int computeMajor = 0;
  int computeMinor = 0;
  int multiProcessorCount = 0;
  uint64_t totalMemoryBytes = 0;
  // CUDA 13 removed clockRate and memoryClockRate from cudaDeviceProp: read with cudaDeviceGetAttribute.
  int clockRateKHz = 0;
  int memoryClockRateKHz = 0;
  int memoryBusWidthBits = 0;
  int l2CacheBytes = 0;
  int asyncEngineCount = 0;  // copy engines: 2 means H2D and D2H overlap
  bool integrated = false;   // shares memory with the host (Jetson)
  bool canMapHostMemory = false;
  bool unifiedAddressing = false;
  bool memoryPoolsSupported = false;  // cudaMallocAsync available
};

struct MemoryInfo {
  uint64_t freeBytes = 0;
  uint64_t totalBytes = 0;
};

struct StreamPriorityRange {
  int least = 0;     // the lowest priority (numerically largest), usually 0
  int greatest = 0;  // the highest priority (numerically smallest), e.g. -5
};

// Peak DRAM bandwidth implied by the memory clock and bus width, in bytes per second: double data
// rate x clock x bus width in bytes (the figure deviceQuery and bandwidthTest report).
constexpr double TheoreticalBandwidthBytesPerSecond(int memoryClockRateKHz, int memoryBusWidthBits) {
  return 2.0 * static_cast<double>(memoryClockRateKHz) * 1000.0 * (static_cast<double>(memoryBusWidthBits) / 8.0);
}

// Number of visible devices; throws NativeError (ERR_CUDA_DRIVER without a driver, ERR_NO_CUDA_DEVICE
// when the driver sees none).
int DeviceCount();
// Throws a RangeError-kind ERR_INVALID_ARGUMENT naming `what` when `index` is not a visible device.
void RequireDevice(int index, const char* what);
DeviceProperties QueryDevice(int index);
MemoryInfo QueryMemory(int index);
StreamPriorityRange QueryStreamPriorityRange(int index);

// Makes `device` current on this thread for the lifetime of the object, then restores the previous
// one: only when a context was current before (otherwise `device` stays selected, so that no
// context is created on device 0 just to "restore" CUDA's default).
class ScopedDevice {
 public:
  explicit ScopedDevice(int device);
  ~ScopedDevice();
  ScopedDevice(const ScopedDevice&) = delete;
  ScopedDevice& operator=(const ScopedDevice&) = delete;
  ScopedDevice(ScopedDevice&&) = delete;
  ScopedDevice& operator=(ScopedDevice&&) = delete;

 private:
  int previous_ = -1;
  bool restore_ = true;
};

// Makes `device` current on this thread for good (stream threads call it once when they start).
void SelectDevice(int device);

// What kind of memory a host-visible address points to, according to CUDA.
enum class PointerKind { kPageable, kPinned, kDevice, kManaged };
PointerKind KindOfPointer(const void* pointer);
const char* PointerKindName(PointerKind kind) noexcept;

}  // namespace trt_node::cuda
