// exports.emulatedDevice: the trtnodeEmulated* hooks of the emulated CUDA device (see
// native/emulated/cuda/hooks.h), for tests that hold work in flight, inject faults or read counters.
#include "napi/cuda_emulated.h"

#include <string>

#include "core/error.h"
#include "emulated/cuda/hooks.h"
#include "napi/cuda_args.h"
#include "napi/errors.h"

#ifdef TRT_NODE_COVERAGE_BUILD
// libgcov's: writes this binary's counters now (gcov otherwise writes them in exit handlers, which a
// test process ended by a signal never runs).
extern "C" void __gcov_dump(void);
#endif

namespace trt_node::napi {
namespace {

void CheckStatus(int status, const char* what) {
  if (status != 0) {
    throw NativeError("ERR_INVALID_ARGUMENT", std::string(what) + " was refused by the emulated device (" +
                                                  cudaGetErrorName(static_cast<cudaError_t>(status)) + ")");
  }
}

uint64_t RequireCount(const Napi::Value& value, const char* what) { return RequireByteCount(value, what); }

}  // namespace

void RegisterEmulatedDevice(Napi::Env env, Napi::Object exports) {
  Napi::Object device = Napi::Object::New(env);
  device.Set("name", Napi::String::New(env, trtnodeEmulatedDeviceName()));
  // setDeviceCount(count): before any stream or allocation exists.
  device.Set("setDeviceCount", Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value {
               return Guard(info.Env(), [&]() -> Napi::Value {
                 CheckStatus(trtnodeEmulatedSetDeviceCount(RequireInt32(info[0], "count")), "setDeviceCount()");
                 return info.Env().Undefined();
               });
             }));
  // counter(name, device = -1) -> number (-1 for an unknown name)
  device.Set("counter", Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value {
               return Guard(info.Env(), [&]() -> Napi::Value {
                 const std::string name = RequireString(info[0], "name");
                 const int index = info[1].IsUndefined() ? -1 : RequireInt32(info[1], "device");
                 return Napi::Number::New(info.Env(), static_cast<double>(trtnodeEmulatedCounter(name.c_str(), index)));
               });
             }));
  // failOperation(device, cudaError, nth): the nth operation run on the device from now fails.
  device.Set("failOperation", Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value {
               return Guard(info.Env(), [&]() -> Napi::Value {
                 CheckStatus(trtnodeEmulatedFailOperation(RequireInt32(info[0], "device"),
                                                          RequireInt32(info[1], "error"), RequireCount(info[2], "nth")),
                             "failOperation()");
                 return info.Env().Undefined();
               });
             }));
  // failCall(api, cudaError, nth): the nth call of the runtime function `api` returns the error.
  device.Set("failCall", Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value {
               return Guard(info.Env(), [&]() -> Napi::Value {
                 const std::string api = RequireString(info[0], "api");
                 CheckStatus(
                     trtnodeEmulatedFailCall(api.c_str(), RequireInt32(info[1], "error"), RequireCount(info[2], "nth")),
                     "failCall()");
                 return info.Env().Undefined();
               });
             }));
  // setLatencyMicroseconds(us): every copy, memset, kernel and host function waits that long first.
  device.Set("setLatencyMicroseconds", Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value {
               return Guard(info.Env(), [&]() -> Napi::Value {
                 trtnodeEmulatedSetLatencyMicroseconds(static_cast<int64_t>(RequireCount(info[0], "microseconds")));
                 return info.Env().Undefined();
               });
             }));
  // flushCoverage(): writes the gcov counters of a coverage build now (true), or does nothing (false).
  device.Set("flushCoverage", Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value {
#ifdef TRT_NODE_COVERAGE_BUILD
               __gcov_dump();
               return Napi::Boolean::New(info.Env(), true);
#else
               return Napi::Boolean::New(info.Env(), false);
#endif
             }));
  exports.Set("emulatedDevice", device);
}

}  // namespace trt_node::napi
