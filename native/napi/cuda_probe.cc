#include "cuda/runtime_probe.h"
#include "napi/capabilities.h"
#include "napi/errors.h"

namespace trt_node::napi {
namespace {

Napi::Object DeviceToJs(Napi::Env env, const cuda::DeviceSummary& device) {
  Napi::Object object = Napi::Object::New(env);
  object.Set("index", device.index);
  object.Set("name", device.name);
  object.Set("uuid", device.uuid);
  object.Set("computeCapability", std::to_string(device.computeMajor) + "." + std::to_string(device.computeMinor));
  object.Set("totalMemoryBytes", static_cast<double>(device.totalMemoryBytes));
  object.Set("multiProcessorCount", device.multiProcessorCount);
  object.Set("pciBusId", device.pciBusId);
  return object;
}

// Synchronous on purpose: these runtime queries return in microseconds (or immediately with the
// driver error) and doctor wants them in one call.
Napi::Value CudaProbe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    const cuda::RuntimeProbe probe = cuda::ProbeRuntime();
    Napi::Object result = Napi::Object::New(env);
    result.Set("runtimeVersion", probe.runtimeVersion);
    result.Set("driverVersion", probe.driverVersion);
    result.Set("deviceCount", probe.deviceCount);
    if (probe.error) {
      Napi::Object error = Napi::Object::New(env);
      error.Set("code", probe.error->code);
      error.Set("name", probe.error->name);
      error.Set("message", probe.errorMessage);
      result.Set("error", error);
    } else {
      result.Set("error", env.Null());
    }
    Napi::Array devices = Napi::Array::New(env, probe.devices.size());
    for (uint32_t i = 0; i < probe.devices.size(); ++i) devices.Set(i, DeviceToJs(env, probe.devices[i]));
    result.Set("devices", devices);
    return result;
  });
}

}  // namespace

void RegisterCudaProbe(Napi::Env env, Napi::Object exports) {
  exports.Set("cudaProbe", Napi::Function::New(env, CudaProbe, "cudaProbe"));
}

}  // namespace trt_node::napi
