// Device queries and the registration of the CUDA wraps. Device queries are synchronous: they
// return in microseconds (or at once with the driver's error) and never wait for GPU work.
#include "cuda/buffers.h"
#include "cuda/device.h"
#include "napi/cuda_args.h"
#include "napi/cuda_wraps.h"
#include "napi/errors.h"

namespace trt_node::napi {
namespace {

Napi::Value DeviceCount(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value { return Napi::Number::New(env, cuda::DeviceCount()); });
}

Napi::Value Device(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    const cuda::DeviceProperties device = cuda::QueryDevice(RequireInt32(info[0], "device"));
    Napi::Object result = Napi::Object::New(env);
    result.Set("index", device.index);
    result.Set("name", device.name);
    result.Set("uuid", device.uuid);
    result.Set("pciBusId", device.pciBusId);
    result.Set("computeCapability", std::to_string(device.computeMajor) + "." + std::to_string(device.computeMinor));
    result.Set("multiProcessorCount", device.multiProcessorCount);
    result.Set("totalMemoryBytes", static_cast<double>(device.totalMemoryBytes));
    result.Set("clockRateKHz", device.clockRateKHz);
    result.Set("memoryClockRateKHz", device.memoryClockRateKHz);
    result.Set("memoryBusWidthBits", device.memoryBusWidthBits);
    result.Set("theoreticalBandwidthBytesPerSecond",
               cuda::TheoreticalBandwidthBytesPerSecond(device.memoryClockRateKHz, device.memoryBusWidthBits));
    result.Set("l2CacheBytes", device.l2CacheBytes);
    result.Set("asyncEngineCount", device.asyncEngineCount);
    result.Set("integrated", device.integrated);
    result.Set("canMapHostMemory", device.canMapHostMemory);
    result.Set("unifiedAddressing", device.unifiedAddressing);
    result.Set("memoryPoolsSupported", device.memoryPoolsSupported);
    return result;
  });
}

Napi::Value MemoryInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    const cuda::MemoryInfo memory = cuda::QueryMemory(RequireInt32(info[0], "device"));
    Napi::Object result = Napi::Object::New(env);
    result.Set("freeBytes", static_cast<double>(memory.freeBytes));
    result.Set("totalBytes", static_cast<double>(memory.totalBytes));
    return result;
  });
}

Napi::Value StreamPriorityRange(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    const cuda::StreamPriorityRange range = cuda::QueryStreamPriorityRange(RequireInt32(info[0], "device"));
    Napi::Object result = Napi::Object::New(env);
    result.Set("least", range.least);
    result.Set("greatest", range.greatest);
    return result;
  });
}

// What CUDA says the memory behind an ArrayBuffer or view is: "pinned" proves zero copy.
Napi::Value PointerKind(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    const void* address = nullptr;
    if (info[0].IsArrayBuffer()) {
      address = info[0].As<Napi::ArrayBuffer>().Data();
    } else if (info[0].IsTypedArray()) {
      address = BytesOf(info[0].As<Napi::TypedArray>()).data;
    } else {
      throw InvalidArgument("Expected an ArrayBuffer or a TypedArray for memory");
    }
    return Napi::String::New(env, cuda::PointerKindName(cuda::KindOfPointer(address)));
  });
}

// The backing address of an ArrayBuffer or view, to compare with PinnedBufferWrap.address().
Napi::Value AddressOfMemory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    const uint8_t* address = nullptr;
    if (info[0].IsArrayBuffer()) {
      address = static_cast<const uint8_t*>(info[0].As<Napi::ArrayBuffer>().Data());
    } else if (info[0].IsTypedArray()) {
      address = BytesOf(info[0].As<Napi::TypedArray>()).data;
    } else {
      throw InvalidArgument("Expected an ArrayBuffer or a TypedArray for memory");
    }
    return Napi::BigInt::New(env, static_cast<uint64_t>(reinterpret_cast<uintptr_t>(address)));
  });
}

Napi::Value AllocationStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const cuda::AllocationStats stats = cuda::CurrentAllocationStats();
  Napi::Object result = Napi::Object::New(env);
  result.Set("pinnedBuffers", static_cast<double>(stats.pinnedBuffers));
  result.Set("pinnedBytes", static_cast<double>(stats.pinnedBytes));
  result.Set("deviceBuffers", static_cast<double>(stats.deviceBuffers));
  result.Set("deviceBytes", static_cast<double>(stats.deviceBytes));
  return result;
}

}  // namespace

void RegisterCuda(Napi::Env env, Napi::Object exports) {
  exports.Set("cudaDeviceCount", Napi::Function::New(env, DeviceCount, "cudaDeviceCount"));
  exports.Set("cudaDevice", Napi::Function::New(env, Device, "cudaDevice"));
  exports.Set("cudaMemoryInfo", Napi::Function::New(env, MemoryInfo, "cudaMemoryInfo"));
  exports.Set("cudaStreamPriorityRange", Napi::Function::New(env, StreamPriorityRange, "cudaStreamPriorityRange"));
  exports.Set("cudaPointerKind", Napi::Function::New(env, PointerKind, "cudaPointerKind"));
  exports.Set("cudaAddressOf", Napi::Function::New(env, AddressOfMemory, "cudaAddressOf"));
  exports.Set("cudaAllocationStats", Napi::Function::New(env, AllocationStats, "cudaAllocationStats"));
  exports.Set("StreamWrap", StreamWrap::Define(env));
  exports.Set("EventWrap", EventWrap::Define(env));
  exports.Set("PinnedBufferWrap", PinnedBufferWrap::Define(env));
  exports.Set("DeviceBufferWrap", DeviceBufferWrap::Define(env));
}

}  // namespace trt_node::napi
